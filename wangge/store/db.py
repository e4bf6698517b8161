"""The database under the store: one SQLite file in WAL mode, a pool of connections,
transactions, the schema's migrations and the group commit of single case writes.

Location
--------
``$WANGGE_DATA_DIR/wangge.sqlite``; ``WANGGE_DATA_DIR`` defaults to ``var/`` in the checkout
(:func:`wangge.paths.default_data_dir`).

Durability
----------
``journal_mode=WAL`` with ``synchronous=FULL``: a write returns only after its transaction is
committed and synced, so an acknowledged write survives ``kill -9`` of the server and a power
cut. ``foreign_keys=ON`` and ``busy_timeout`` of 10 s so that concurrent writers wait rather
than fail.

Privacy
-------
The database file is created readable and writable by its owner only (0600; the ``-wal`` and
``-shm`` files take its mode), and :meth:`Database.migrate` tightens the files an older
version created.

Geometry
--------
Geometries go in as WKB in EPSG:4326 (:func:`to_wkb`) and come out as GeoDataFrames
(:func:`geo_frame`).
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wangge.store import migrations

__all__ = ["WGS84", "Database", "GroupCommit", "geo_frame", "to_wkb"]

WGS84 = "EPSG:4326"

#: The files SQLite keeps beside the database in WAL mode.
_SIDE_FILES = ("-wal", "-shm")


def to_wkb(geoms: Iterable) -> list[bytes]:
    """Geometries as WKB, the way the store keeps them."""
    return list(shapely.to_wkb(np.asarray(list(geoms), dtype=object)))


def geo_frame(rows: list[sqlite3.Row], columns: list[str]) -> gpd.GeoDataFrame:
    """Rows whose last column is WKB ``geometry`` -> GeoDataFrame in EPSG:4326."""
    data = pd.DataFrame([tuple(r) for r in rows], columns=[*columns, "geometry"])
    geometry = shapely.from_wkb(data.pop("geometry").to_numpy()) if len(data) else []
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, crs=WGS84), crs=WGS84)


class Database:
    """One SQLite file: cheap to create; keeps a small pool of connections, one per operation.

    Parameters
    ----------
    path
        The database file. Its folder is created when missing.
    """

    POOL_SIZE = 8

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._pool: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()

    # -- connections ---------------------------------------------------------------------
    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection with the project's pragmas (autocommit; see :meth:`transaction`)."""
        con = self._take()
        ok = False
        try:
            yield con
            ok = not con.in_transaction
        finally:
            if ok:
                self._give(con)
            else:
                con.close()

    def _take(self) -> sqlite3.Connection:
        with self._pool_lock:
            if self._pool:
                return self._pool.pop()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # owner only: SQLite gives the -wal and -shm files the mode of the database file
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        con = sqlite3.connect(
            self.path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("PRAGMA busy_timeout=10000")
        return con

    def _give(self, con: sqlite3.Connection) -> None:
        with self._pool_lock:
            if len(self._pool) < self.POOL_SIZE:
                self._pool.append(con)
                return
        con.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``: all or nothing, writers serialised."""
        with self.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    # -- schema ----------------------------------------------------------------------------
    def schema_version(self) -> int:
        """The newest migration applied, 0 for a new database."""
        with self.connect() as con:
            return migrations.schema_version(con)

    def migrate(self, *, upto: int | None = None) -> int:
        """Apply the migrations this database lacks (up to version ``upto``, default all);
        return the resulting schema version. Also makes the database's files private (0600)
        when an older version created them readable by others."""
        with self.transaction() as con:
            version = migrations.migrate(con, self.path, upto=upto)
        for path in (self.path, *(self.path.with_name(self.path.name + s) for s in _SIDE_FILES)):
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(0o600)
        return version


class GroupCommit:
    """Group commit of single writes: concurrent writers share one transaction.

    A synced commit costs one fsync (measured 6.7 ms on the CI machine's disk), which caps
    one-at-a-time commits near 150 a second. Writers put their item on a queue and wait; one
    thread hands everything queued to ``write`` (one transaction, one fsync), then answers each
    writer with its result. Nobody is answered before the transaction holding their item is
    committed, so durability is that of ``synchronous=FULL``. A batch that fails is retried one
    item at a time, so one bad item fails alone.

    Parameters
    ----------
    write
        Writes a batch of items in one transaction; returns one result per item, in order.
    """

    MAX_BATCH = 256

    def __init__(self, write: Callable[[list], list]):
        self.write = write
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="wangge-group-commit", daemon=True)
        self.thread.start()

    def submit(self, item: object) -> object:
        """Queue ``item``; wait until it is committed and return its result."""
        future: Future = Future()
        self.queue.put((item, future))
        return future.result(timeout=60)

    def _commit(self, batch: list) -> None:
        results = self.write([b[0] for b in batch])
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < self.MAX_BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._commit(batch)
            except Exception:
                for item in batch:
                    try:
                        self._commit([item])
                    except Exception as exc:  # answered to that writer alone
                        item[1].set_exception(exc)
