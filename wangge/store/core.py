"""The operational store: one SQLite database file in WAL mode.

Every SQL statement of the project lives in this module, so that another backend (PostgreSQL
with PostGIS) can be added behind the same functions without touching pages or the API.

Location
--------
``$WANGGE_DATA_DIR/wangge.sqlite``; ``WANGGE_DATA_DIR`` defaults to ``var/`` in the checkout.

Durability
----------
``journal_mode=WAL`` with ``synchronous=FULL``: a write returns only after its transaction is
committed and synced, so an acknowledged write survives ``kill -9`` of the server and a power
cut. ``foreign_keys=ON`` and ``busy_timeout`` of 10 s so that concurrent writers wait rather
than fail.

Geometry
--------
Geometries are stored as WKB in EPSG:4326 (lon/lat), with their bounding boxes in an R*Tree
index where a layer is queried by viewport (buildings, basemap features).

Schema (version 1)
------------------
``meta(key, value)``
    Free key/value settings: ``demo_seed``, ``data_version`` (bumped on every load of reference
    data: hierarchy, layers, buildings, grid versions, workers); for the demo county (version 6)
    ``demo_county`` (its seed: set by ``wangge demo setup``, removed when the hierarchy is
    replaced, so that the live demo feed never writes into a real county),
    ``demo_simulated_until`` (where the set-up simulation ended) and ``demo_fed_until`` (how
    far the live feed, :mod:`wangge.demo.feed`, has written; UTC strings).
``admin_units(code, name, level, kind, parent_code, geometry)``
    The hierarchy county -> township -> community/village. ``code`` is the 12-digit
    statistical area code; ``level`` is ``county``, ``township`` or ``community``; ``kind`` is
    ``subdistrict``/``town``/``township`` for townships and ``urban``/``rural`` for communities.
``basemap_features(fid, layer, name, kind, geometry)`` + R*Tree ``basemap_rtree``
    Reference layers drawn on the map: ``roads`` (kind = road class), ``water``,
    ``railways``, ``hamlets``, ``pois``.
``buildings(building_id, community_code, kind, floors, households, special, name, compound_id,
hamlet_id, geometry)``
    + R*Tree ``buildings_rtree`` (keyed by the integer ``rowid``).
``grid_versions(version_id, created_at, status, note, params, published_at)``
    ``status`` is ``draft``, ``published`` or ``archived``; at most one is published.
``grids(version_id, grid_code, community_code, households, buildings, kind, flags, geometry)``
``building_grids(version_id, building_id, grid_code)``
    Which grid each building belongs to, per version.
``workers(worker_id, name, phone, grid_code, active)``
    Grid workers (网格员). ``phone`` is personal data: masked in the interface, never logged.
``cases(case_id, client_id, category, title, description, source, status, level, lon, lat,
grid_code, community_code, township_code, grid_version_id, reporter_name, reporter_phone,
reported_at, deadline_at, closed_at, updated_at)``
    ``client_id`` is unique: creating a case twice with the same client id returns the first.
    Times are ISO-8601 UTC strings (``2026-11-22T07:30:00Z``), which sort as text.
``case_events(event_id, case_id, at, from_status, to_status, actor, comment)``
    The status history: one row per transition.
``cameras(camera_id, name, lon, lat, bearing, fov, range_m, mount_height, camera_type,
grid_code, status, last_heartbeat)`` and ``camera_heartbeats(camera_id, at, online)``.
``patrol_points(worker_id, at, lon, lat, accuracy)``
    GPS fixes of grid workers' patrols, one row per fix, unique per worker and time.

``api_tokens(token_sha256, name, role, scope, created_at, revoked_at)`` (version 2)
    Bearer tokens of API clients; only their SHA-256 is stored. ``scope`` is a township code
    for township-bound roles, empty otherwise.

``users(username, display_name, password_hash, role, scope, created_at, disabled)`` (version 3)
    Dashboard users. ``role`` is ``county`` (everything), ``township`` (``scope`` = their
    township code), ``planner`` or ``wall`` (read-only display). Passwords are stored as
    salted scrypt hashes only.

``cases.h3_7`` ... ``cases.h3_10`` (version 5)
    The case's H3 cell at resolutions 7 to 10, set on every write (and filled in for older
    rows by the migration), so that the map bins cases with a GROUP BY.

Version 6 adds no table: it fills in the demo feed's meta keys for demo stores set up before.

Migrations are numbered; :func:`Store.migrate` applies the ones a database lacks, each in its
own transaction, and records them in ``schema_migrations``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import queue
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from wangge.casework import case_day

__all__ = ["MIGRATIONS", "Store", "StoreError", "default_data_dir", "utc_now"]

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
WGS84 = "EPSG:4326"


class StoreError(RuntimeError):
    """The store cannot do what was asked (bad state, missing data)."""


def default_data_dir() -> Path:
    """The data folder: ``$WANGGE_DATA_DIR`` or ``var/`` in the checkout."""
    return Path(os.environ.get("WANGGE_DATA_DIR") or REPO_ROOT / "var")


def utc_now() -> str:
    """The current time as an ISO-8601 UTC string with a ``Z`` suffix, to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial schema",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE admin_units (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            level TEXT NOT NULL CHECK (level IN ('county', 'township', 'community')),
            kind TEXT NOT NULL DEFAULT '',
            parent_code TEXT REFERENCES admin_units(code),
            geometry BLOB NOT NULL
        );
        CREATE INDEX admin_units_parent ON admin_units(parent_code);
        CREATE TABLE basemap_features (
            fid INTEGER PRIMARY KEY,
            layer TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL DEFAULT '',
            geometry BLOB NOT NULL
        );
        CREATE INDEX basemap_features_layer ON basemap_features(layer);
        CREATE VIRTUAL TABLE basemap_rtree USING rtree(fid, minx, maxx, miny, maxy);
        CREATE TABLE buildings (
            rid INTEGER PRIMARY KEY,
            building_id TEXT NOT NULL UNIQUE,
            community_code TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL DEFAULT '',
            floors INTEGER NOT NULL DEFAULT 0,
            households INTEGER NOT NULL DEFAULT 0 CHECK (households >= 0),
            special TEXT NOT NULL DEFAULT '',
            name TEXT NOT NULL DEFAULT '',
            compound_id TEXT NOT NULL DEFAULT '',
            hamlet_id TEXT NOT NULL DEFAULT '',
            geometry BLOB NOT NULL
        );
        CREATE INDEX buildings_community ON buildings(community_code);
        CREATE VIRTUAL TABLE buildings_rtree USING rtree(rid, minx, maxx, miny, maxy);
        CREATE TABLE grid_versions (
            version_id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
            note TEXT NOT NULL DEFAULT '',
            params TEXT NOT NULL DEFAULT '{}',
            published_at TEXT
        );
        CREATE UNIQUE INDEX grid_versions_one_published ON grid_versions(status)
            WHERE status = 'published';
        CREATE TABLE grids (
            version_id INTEGER NOT NULL REFERENCES grid_versions(version_id) ON DELETE CASCADE,
            grid_code TEXT NOT NULL,
            community_code TEXT NOT NULL,
            households INTEGER NOT NULL,
            buildings INTEGER NOT NULL,
            kind TEXT NOT NULL,
            flags TEXT NOT NULL DEFAULT '',
            geometry BLOB NOT NULL,
            PRIMARY KEY (version_id, grid_code)
        );
        CREATE TABLE building_grids (
            version_id INTEGER NOT NULL REFERENCES grid_versions(version_id) ON DELETE CASCADE,
            building_id TEXT NOT NULL,
            grid_code TEXT NOT NULL,
            PRIMARY KEY (version_id, building_id)
        );
        CREATE TABLE workers (
            worker_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            phone TEXT NOT NULL DEFAULT '',
            grid_code TEXT NOT NULL DEFAULT '',
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE cases (
            case_id TEXT PRIMARY KEY,
            client_id TEXT UNIQUE,
            category TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            level TEXT NOT NULL DEFAULT 'grid',
            lon REAL NOT NULL,
            lat REAL NOT NULL,
            grid_code TEXT NOT NULL DEFAULT '',
            community_code TEXT NOT NULL DEFAULT '',
            township_code TEXT NOT NULL DEFAULT '',
            grid_version_id INTEGER,
            reporter_name TEXT NOT NULL DEFAULT '',
            reporter_phone TEXT NOT NULL DEFAULT '',
            reported_at TEXT NOT NULL,
            deadline_at TEXT NOT NULL,
            closed_at TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX cases_reported ON cases(reported_at);
        CREATE INDEX cases_township ON cases(township_code, reported_at);
        CREATE INDEX cases_grid ON cases(grid_code);
        CREATE INDEX cases_status ON cases(status);
        CREATE TABLE case_events (
            event_id INTEGER PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases(case_id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT NOT NULL,
            actor TEXT NOT NULL DEFAULT '',
            comment TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX case_events_case ON case_events(case_id, at);
        CREATE TABLE cameras (
            camera_id TEXT PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            lon REAL NOT NULL,
            lat REAL NOT NULL,
            bearing REAL,
            fov REAL NOT NULL DEFAULT 90,
            range_m REAL NOT NULL DEFAULT 50,
            mount_height REAL NOT NULL DEFAULT 4,
            camera_type TEXT NOT NULL DEFAULT 'fixed',
            grid_code TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'unknown',
            last_heartbeat TEXT
        );
        CREATE TABLE camera_heartbeats (
            camera_id TEXT NOT NULL REFERENCES cameras(camera_id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            online INTEGER NOT NULL,
            PRIMARY KEY (camera_id, at)
        );
        CREATE TABLE patrol_points (
            worker_id TEXT NOT NULL,
            at TEXT NOT NULL,
            lon REAL NOT NULL,
            lat REAL NOT NULL,
            accuracy REAL,
            PRIMARY KEY (worker_id, at)
        );
        """,
    ),
)

MIGRATIONS += (
    Migration(
        2,
        "API tokens",
        """
        CREATE TABLE api_tokens (
            token_sha256 TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        """,
    ),
)

MIGRATIONS += (
    Migration(
        3,
        "users",
        """
        CREATE TABLE users (
            username TEXT PRIMARY KEY,
            display_name TEXT NOT NULL DEFAULT '',
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('county', 'township', 'planner', 'wall')),
            scope TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0
        );
        """,
    ),
)

MIGRATIONS += (
    Migration(
        4,
        "patrol fixes by time",
        """
        CREATE INDEX patrol_points_at ON patrol_points(at);
        """,
    ),
)

MIGRATIONS += (
    Migration(
        5,
        "H3 cells of cases",
        """
        ALTER TABLE cases ADD COLUMN h3_7 TEXT;
        ALTER TABLE cases ADD COLUMN h3_8 TEXT;
        ALTER TABLE cases ADD COLUMN h3_9 TEXT;
        ALTER TABLE cases ADD COLUMN h3_10 TEXT;
        CREATE INDEX cases_reported_h3 ON cases(reported_at, h3_9);
        """,
    ),
)

MIGRATIONS += (
    Migration(
        6,
        "demo feed bookkeeping",
        # stores set up as the demo before the live feed existed: mark them as the demo
        # (ensure_demo wrote demo_simulated) and take the newest simulated time as the point
        # where the simulation ended and the feed starts
        """
        INSERT OR IGNORE INTO meta (key, value)
            SELECT 'demo_county', value FROM meta WHERE key = 'demo_simulated';
        INSERT OR IGNORE INTO meta (key, value)
            SELECT 'demo_simulated_until', t FROM (
                SELECT MAX(t) AS t FROM (
                    SELECT MAX(reported_at) AS t FROM cases WHERE client_id LIKE 'sim:%'
                    UNION ALL SELECT MAX(at) FROM patrol_points
                    UNION ALL SELECT MAX(last_heartbeat) FROM cameras))
            WHERE t IS NOT NULL AND EXISTS (SELECT 1 FROM meta WHERE key = 'demo_simulated');
        INSERT OR IGNORE INTO meta (key, value)
            SELECT 'demo_fed_until', value FROM meta WHERE key = 'demo_simulated_until';
        """,
    ),
)

#: H3 resolutions stored with every case (cases.h3_7 ... cases.h3_10), for map binning in SQL.
H3_RESOLUTIONS = (7, 8, 9, 10)

SCHEMA_VERSION = MIGRATIONS[-1].version

CASE_COLUMNS = (
    "case_id",
    "client_id",
    "category",
    "title",
    "description",
    "source",
    "status",
    "level",
    "lon",
    "lat",
    "grid_code",
    "community_code",
    "township_code",
    "grid_version_id",
    "reporter_name",
    "reporter_phone",
    "reported_at",
    "deadline_at",
    "closed_at",
    "updated_at",
)
#: Columns written for a new case: the public ones and its H3 cells.
_CASE_INSERT = (*CASE_COLUMNS, "h3_7", "h3_8", "h3_9", "h3_10")


def _to_wkb(geoms: Iterable) -> list[bytes]:
    return list(shapely.to_wkb(np.asarray(list(geoms), dtype=object)))


def _frame(rows: list[sqlite3.Row], columns: list[str]) -> gpd.GeoDataFrame:
    """Rows whose last column is WKB ``geometry`` -> GeoDataFrame in EPSG:4326."""
    data = pd.DataFrame([tuple(r) for r in rows], columns=[*columns, "geometry"])
    geometry = shapely.from_wkb(data.pop("geometry").to_numpy()) if len(data) else []
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, crs=WGS84), crs=WGS84)


class Store:
    """The SQLite store. Cheap to create; keeps a small pool of connections, one per operation.

    Parameters
    ----------
    path
        The database file. Its folder is created when missing.
    """

    POOL_SIZE = 8

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._committer: _GroupCommit | None = None
        self._committer_lock = threading.Lock()
        self._pool: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        # reference frames (hierarchy, published grids) keyed on data_version: every page asks
        # for them, and decoding their geometries costs 5-25 ms a time
        self._reference: dict[tuple, tuple[int, gpd.GeoDataFrame]] = {}
        self._reference_lock = threading.Lock()

    def _cached_reference(self, key: tuple, load) -> gpd.GeoDataFrame:
        """A copy of ``load()``, read again only when :meth:`data_version` changed (any process
        loading reference data bumps it)."""
        version = self.data_version()
        with self._reference_lock:
            hit = self._reference.get(key)
        if hit is None or hit[0] != version:
            hit = (version, load())
            with self._reference_lock:
                if len(self._reference) > 64:  # a bound on distinct (level, parent) queries
                    self._reference.clear()
                self._reference[key] = hit
        return hit[1].copy()

    def _group_commit(self) -> _GroupCommit:
        with self._committer_lock:
            if self._committer is None:
                self._committer = _GroupCommit(self)
            return self._committer

    @classmethod
    def from_env(cls) -> Store:
        """The store at ``$WANGGE_DATA_DIR/wangge.sqlite``."""
        return cls(default_data_dir() / "wangge.sqlite")

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
            exists = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
            ).fetchone()
            if not exists:
                return 0
            row = con.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
            return int(row[0] or 0)

    def migrate(self) -> int:
        """Apply the migrations this database lacks; return the resulting schema version."""
        with self.transaction() as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {r[0] for r in con.execute("SELECT version FROM schema_migrations")}
            newer = max(done, default=0)
            if newer > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: the database has schema version {newer}, newer than this "
                    f"program's {SCHEMA_VERSION}; upgrade wangge before opening it"
                )
            for m in MIGRATIONS:
                if m.version in done:
                    continue
                log.info("applying migration %d (%s) to %s", m.version, m.name, self.path)
                for statement in _statements(m.sql):
                    con.execute(statement)
                con.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    (m.version, m.name, utc_now()),
                )
                if m.version == 5:
                    _backfill_h3(con)
        return SCHEMA_VERSION

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self.connect() as con:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as con:
            con.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def data_version(self) -> int:
        """A counter bumped by every load of reference data (hierarchy, layers, buildings, grid
        versions, workers); caches of map layers and of the point locator key on it. Operational
        writes (cases, cameras, patrol points) do not bump it."""
        return int(self.get_meta("data_version", "0") or 0)

    @staticmethod
    def _bump(con: sqlite3.Connection) -> None:
        con.execute(
            "INSERT INTO meta VALUES ('data_version', '1') ON CONFLICT(key) "
            "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    # -- administrative hierarchy ----------------------------------------------------------
    def replace_admin_units(self, units: gpd.GeoDataFrame) -> int:
        """Replace the hierarchy with ``units`` (columns code, name, level, kind, parent_code).

        Parents must come before children or be in the same call; geometries in any CRS
        (converted to EPSG:4326). Returns the number of units stored.
        """
        units = units.to_crs(WGS84)
        missing = {"code", "name", "level", "geometry"} - set(units.columns)
        if missing:
            raise StoreError(f"admin units lack the columns {sorted(missing)}")
        order = units["level"].map({"county": 0, "township": 1, "community": 2})
        if order.isna().any():
            bad = sorted(set(units.loc[order.isna(), "level"]))
            raise StoreError(
                f"admin units: unknown level(s) {bad}; expected county/township/community"
            )
        units = units.assign(_o=order).sort_values(["_o", "code"], kind="stable")
        rows = list(
            zip(
                units["code"].astype(str),
                units["name"].astype(str),
                units["level"].astype(str),
                units.get("kind", pd.Series("", index=units.index)).fillna("").astype(str),
                units.get("parent_code", pd.Series(None, index=units.index)),
                _to_wkb(units.geometry),
                strict=True,
            )
        )
        rows = [
            (c, n, lv, k, (p if isinstance(p, str) and p else None), g)
            for c, n, lv, k, p, g in rows
        ]
        with self.transaction() as con:
            con.execute("DELETE FROM admin_units")
            con.executemany("INSERT INTO admin_units VALUES (?, ?, ?, ?, ?, ?)", rows)
            # a new hierarchy is no longer the demo county until ensure_demo says so again
            con.execute("DELETE FROM meta WHERE key = 'demo_county'")
            self._bump(con)
        return len(rows)

    def admin_units(
        self, level: str | None = None, parent_code: str | None = None
    ) -> gpd.GeoDataFrame:
        """Admin units, optionally of one level and/or under one parent, ordered by code."""
        return self._cached_reference(
            ("admin_units", level, parent_code), lambda: self._admin_units(level, parent_code)
        )

    def _admin_units(self, level: str | None, parent_code: str | None) -> gpd.GeoDataFrame:
        sql = "SELECT code, name, level, kind, parent_code, geometry FROM admin_units"
        where, args = [], []
        if level:
            where.append("level = ?")
            args.append(level)
        if parent_code:
            where.append("parent_code = ?")
            args.append(parent_code)
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self.connect() as con:
            rows = con.execute(sql + " ORDER BY code", args).fetchall()
        return _frame(rows, ["code", "name", "level", "kind", "parent_code"])

    # -- reference layers --------------------------------------------------------------------
    def replace_basemap_layer(
        self,
        layer: str,
        features: gpd.GeoDataFrame,
        *,
        name_column: str = "name",
        kind_column: str | None = None,
    ) -> int:
        """Replace one reference layer (roads, water, railways, hamlets, pois)."""
        features = features.to_crs(WGS84)
        names = features[name_column].fillna("").astype(str) if name_column in features else None
        kinds = (
            features[kind_column].fillna("").astype(str)
            if kind_column and kind_column in features
            else None
        )
        wkb = _to_wkb(features.geometry)
        bounds = features.geometry.bounds.to_numpy()
        with self.transaction() as con:
            old = [
                r[0]
                for r in con.execute("SELECT fid FROM basemap_features WHERE layer = ?", (layer,))
            ]
            con.executemany("DELETE FROM basemap_rtree WHERE fid = ?", [(f,) for f in old])
            con.execute("DELETE FROM basemap_features WHERE layer = ?", (layer,))
            for i, geom in enumerate(wkb):
                cur = con.execute(
                    "INSERT INTO basemap_features (layer, name, kind, geometry) VALUES (?, ?, ?, ?)",
                    (
                        layer,
                        names.iloc[i] if names is not None else "",
                        kinds.iloc[i] if kinds is not None else "",
                        geom,
                    ),
                )
                minx, miny, maxx, maxy = bounds[i]
                con.execute(
                    "INSERT INTO basemap_rtree VALUES (?, ?, ?, ?, ?)",
                    (cur.lastrowid, minx, maxx, miny, maxy),
                )
            self._bump(con)
        return len(wkb)

    def basemap_layer(
        self, layer: str, bbox: tuple[float, float, float, float] | None = None
    ) -> gpd.GeoDataFrame:
        """One reference layer, optionally only the features whose boxes meet ``bbox``."""
        sql = "SELECT f.fid, f.name, f.kind, f.geometry FROM basemap_features f"
        args: list = []
        if bbox is not None:
            sql += (
                " JOIN basemap_rtree r ON r.fid = f.fid WHERE f.layer = ? AND r.maxx >= ? "
                "AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?"
            )
            args = [layer, bbox[0], bbox[2], bbox[1], bbox[3]]
        else:
            sql += " WHERE f.layer = ?"
            args = [layer]
        with self.connect() as con:
            rows = con.execute(sql + " ORDER BY f.fid", args).fetchall()
        return _frame(rows, ["fid", "name", "kind"])

    # -- buildings ----------------------------------------------------------------------------
    def replace_buildings(self, buildings: gpd.GeoDataFrame) -> int:
        """Replace all buildings. Needs ``building_id`` and ``households``; other columns optional."""
        buildings = buildings.to_crs(WGS84)
        missing = {"building_id", "households"} - set(buildings.columns)
        if missing:
            raise StoreError(f"buildings lack the columns {sorted(missing)}")

        def col(name: str, default):
            return (
                buildings[name].fillna(default)
                if name in buildings
                else pd.Series(default, index=buildings.index)
            )

        wkb = _to_wkb(buildings.geometry)
        bounds = buildings.geometry.bounds.to_numpy()
        rows = [
            (i + 1, *vals)
            for i, vals in enumerate(
                zip(
                    buildings["building_id"].astype(str),
                    col("community_code", "").astype(str),
                    col("kind", "").astype(str),
                    col("floors", 0).astype(int),
                    buildings["households"].astype(int),
                    col("special", "").astype(str),
                    col("name", "").astype(str),
                    col("compound_id", "").astype(str),
                    col("hamlet_id", "").astype(str),
                    wkb,
                    strict=True,
                )
            )
        ]
        with self.transaction() as con:
            con.execute("DELETE FROM buildings_rtree")
            con.execute("DELETE FROM buildings")
            con.executemany("INSERT INTO buildings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            con.executemany(
                "INSERT INTO buildings_rtree VALUES (?, ?, ?, ?, ?)",
                [(i + 1, b[0], b[2], b[1], b[3]) for i, b in enumerate(bounds)],
            )
            self._bump(con)
        return len(rows)

    def buildings(
        self, bbox: tuple[float, float, float, float] | None = None, *, limit: int | None = None
    ) -> gpd.GeoDataFrame:
        """Buildings, optionally those whose boxes meet ``bbox`` (minx, miny, maxx, maxy)."""
        cols = (
            "b.building_id, b.community_code, b.kind, b.floors, b.households, b.special, b.name, "
            "b.compound_id, b.hamlet_id, b.geometry"
        )
        if bbox is None:
            sql, args = f"SELECT {cols} FROM buildings b ORDER BY b.rid", []
        else:
            sql = (
                f"SELECT {cols} FROM buildings_rtree r JOIN buildings b ON b.rid = r.rid "
                "WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ? ORDER BY b.rid"
            )
            args = [bbox[0], bbox[2], bbox[1], bbox[3]]
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self.connect() as con:
            rows = con.execute(sql, args).fetchall()
        return _frame(
            rows,
            [
                "building_id",
                "community_code",
                "kind",
                "floors",
                "households",
                "special",
                "name",
                "compound_id",
                "hamlet_id",
            ],
        )

    def totals(self, *, scope: str | None = None) -> dict[str, int]:
        """Numbers of townships, communities, buildings and households stored (in one township
        with ``scope``)."""
        like = (scope[:9] if scope else "") + "%"
        with self.connect() as con:
            levels = dict(
                con.execute(
                    "SELECT level, COUNT(*) FROM admin_units WHERE code LIKE ? GROUP BY level",
                    (like,),
                ).fetchall()
            )
            n, hh = con.execute(
                "SELECT COUNT(*), COALESCE(SUM(households), 0) FROM buildings WHERE community_code LIKE ?",
                (like,),
            ).fetchone()
        return {
            "townships": int(levels.get("township", 0)),
            "communities": int(levels.get("community", 0)),
            "buildings": int(n),
            "households": int(hh),
        }

    def count(self, table: str) -> int:
        """Rows in one of the store's tables."""
        if table not in _TABLES:
            raise StoreError(f"unknown table {table!r}; expected one of {sorted(_TABLES)}")
        with self.connect() as con:
            return int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    # -- grid versions -------------------------------------------------------------------------
    def add_grid_version(
        self,
        grids: gpd.GeoDataFrame,
        assignments: pd.DataFrame | None = None,
        *,
        note: str = "",
        params: dict | None = None,
        publish: bool = False,
    ) -> int:
        """Store a new grid version (draft, or published when ``publish``); return its id.

        ``grids`` needs grid_code, community_id or community_code, households, buildings, kind,
        flags; ``assignments`` (building_id, grid_code) says which grid each building is in.
        """
        grids = grids.to_crs(WGS84)
        community = grids["community_code"] if "community_code" in grids else grids["community_id"]
        flags = grids["flags"] if "flags" in grids else pd.Series("", index=grids.index)
        flags = flags.map(lambda f: ";".join(f) if isinstance(f, list | tuple) else (f or ""))
        now = utc_now()
        with self.transaction() as con:
            cur = con.execute(
                "INSERT INTO grid_versions (created_at, status, note, params) VALUES (?, 'draft', ?, ?)",
                (now, note, json.dumps(params or {}, ensure_ascii=False, sort_keys=True)),
            )
            vid = int(cur.lastrowid)
            con.executemany(
                "INSERT INTO grids VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                zip(
                    [vid] * len(grids),
                    grids["grid_code"].astype(str),
                    community.astype(str),
                    grids["households"].astype(int),
                    grids["buildings"].astype(int),
                    grids["kind"].astype(str),
                    flags.astype(str),
                    _to_wkb(grids.geometry),
                    strict=True,
                ),
            )
            if assignments is not None:
                con.executemany(
                    "INSERT INTO building_grids VALUES (?, ?, ?)",
                    zip(
                        [vid] * len(assignments),
                        assignments["building_id"].astype(str),
                        assignments["grid_code"].astype(str),
                        strict=True,
                    ),
                )
            if publish:
                self._publish(con, vid)
            self._bump(con)
        return vid

    @staticmethod
    def _publish(con: sqlite3.Connection, version_id: int) -> None:
        row = con.execute(
            "SELECT status FROM grid_versions WHERE version_id = ?", (version_id,)
        ).fetchone()
        if row is None:
            raise StoreError(f"grid version {version_id} does not exist")
        con.execute("UPDATE grid_versions SET status = 'archived' WHERE status = 'published'")
        con.execute(
            "UPDATE grid_versions SET status = 'published', published_at = ? WHERE version_id = ?",
            (utc_now(), version_id),
        )

    def publish_grid_version(self, version_id: int) -> None:
        """Make ``version_id`` the published version; the previous one is archived."""
        with self.transaction() as con:
            self._publish(con, version_id)
            self._bump(con)

    def published_grid_version(self) -> int | None:
        with self.connect() as con:
            row = con.execute(
                "SELECT version_id FROM grid_versions WHERE status = 'published'"
            ).fetchone()
        return int(row[0]) if row else None

    def grid_versions(self) -> pd.DataFrame:
        with self.connect() as con:
            rows = con.execute(
                "SELECT version_id, created_at, status, note, published_at FROM grid_versions "
                "ORDER BY version_id"
            ).fetchall()
        return pd.DataFrame(
            [tuple(r) for r in rows],
            columns=["version_id", "created_at", "status", "note", "published_at"],
        )

    def grids(self, version_id: int | None = None) -> gpd.GeoDataFrame:
        """The grids of ``version_id`` (default: the published version; empty if none)."""
        if version_id is None:
            return self._cached_reference(("grids",), lambda: self._grids(None))
        return self._grids(version_id)

    def _grids(self, version_id: int | None) -> gpd.GeoDataFrame:
        vid = self.published_grid_version() if version_id is None else version_id
        with self.connect() as con:
            rows = con.execute(
                "SELECT grid_code, community_code, households, buildings, kind, flags, geometry "
                "FROM grids WHERE version_id = ? ORDER BY grid_code",
                (vid,),
            ).fetchall()
        return _frame(
            rows, ["grid_code", "community_code", "households", "buildings", "kind", "flags"]
        )

    def building_grids(self, version_id: int | None = None) -> pd.DataFrame:
        vid = self.published_grid_version() if version_id is None else version_id
        with self.connect() as con:
            rows = con.execute(
                "SELECT building_id, grid_code FROM building_grids WHERE version_id = ? "
                "ORDER BY building_id",
                (vid,),
            ).fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=["building_id", "grid_code"])

    # -- grid workers --------------------------------------------------------------------------
    def replace_workers(self, workers: pd.DataFrame) -> int:
        """Replace grid workers (worker_id, name, phone, grid_code, active)."""
        rows = list(
            zip(
                workers["worker_id"].astype(str),
                workers["name"].astype(str),
                workers.get("phone", pd.Series("", index=workers.index)).fillna("").astype(str),
                workers.get("grid_code", pd.Series("", index=workers.index)).fillna("").astype(str),
                workers.get("active", pd.Series(1, index=workers.index)).astype(int),
                strict=True,
            )
        )
        with self.transaction() as con:
            con.execute("DELETE FROM workers")
            con.executemany("INSERT INTO workers VALUES (?, ?, ?, ?, ?)", rows)
            self._bump(con)
        return len(rows)

    def workers(self) -> pd.DataFrame:
        with self.connect() as con:
            rows = con.execute(
                "SELECT worker_id, name, phone, grid_code, active FROM workers ORDER BY worker_id"
            ).fetchall()
        return pd.DataFrame(
            [tuple(r) for r in rows], columns=["worker_id", "name", "phone", "grid_code", "active"]
        )

    # -- users -------------------------------------------------------------------------------
    def create_user(
        self, username: str, password: str, role: str, *, scope: str = "", display_name: str = ""
    ) -> None:
        """Add or replace a dashboard user (the password is stored as a salted scrypt hash)."""
        if role not in USER_ROLES:
            raise StoreError(f"role {role!r}: expected one of {list(USER_ROLES)}")
        if role == "township" and not scope:
            raise StoreError("a township user needs the township code as scope")
        if len(password) < 8:
            raise StoreError("passwords need at least 8 characters")
        with self.transaction() as con:
            con.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT(username) DO UPDATE SET "
                "display_name = excluded.display_name, password_hash = excluded.password_hash, "
                "role = excluded.role, scope = excluded.scope, disabled = 0",
                (
                    username,
                    display_name or username,
                    _hash_password(password),
                    role,
                    scope,
                    utc_now(),
                ),
            )

    def check_password(self, username: str, password: str) -> dict | None:
        """The user {username, display_name, role, scope} when the password is right, else None."""
        with self.connect() as con:
            row = con.execute(
                "SELECT username, display_name, password_hash, role, scope FROM users "
                "WHERE username = ? AND disabled = 0",
                (username,),
            ).fetchone()
        if row is None or not _verify_password(password, row["password_hash"]):
            return None
        return {k: row[k] for k in ("username", "display_name", "role", "scope")}

    def users(self) -> pd.DataFrame:
        with self.connect() as con:
            rows = con.execute(
                "SELECT username, display_name, role, scope, disabled FROM users ORDER BY username"
            ).fetchall()
        return pd.DataFrame(
            [tuple(r) for r in rows],
            columns=["username", "display_name", "role", "scope", "disabled"],
        )

    # -- API tokens ------------------------------------------------------------------------------
    def create_token(
        self, name: str, role: str, *, scope: str = "", token: str | None = None
    ) -> str:
        """A new bearer token for ``role`` (returned once; only its hash is stored). ``token``
        sets its value (the demo county's published wall token); by default it is random."""
        token = token or secrets.token_urlsafe(32)
        with self.transaction() as con:
            con.execute(
                "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, NULL)",
                (_sha256(token), name, role, scope, utc_now()),
            )
        return token

    def check_token(self, token: str) -> dict | None:
        """The token's {name, role, scope} if it exists and is not revoked, else None."""
        with self.connect() as con:
            row = con.execute(
                "SELECT name, role, scope FROM api_tokens WHERE token_sha256 = ? AND revoked_at IS NULL",
                (_sha256(token),),
            ).fetchone()
        return dict(row) if row else None

    def revoke_token(self, token: str) -> bool:
        with self.transaction() as con:
            cur = con.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE token_sha256 = ? AND revoked_at IS NULL",
                (utc_now(), _sha256(token)),
            )
        return cur.rowcount > 0

    # -- cases -----------------------------------------------------------------------------------
    def create_case(self, case: dict, location: dict, *, actor: str = "") -> tuple[dict, bool]:
        """Store a validated new case; return (case, created).

        Idempotent on ``client_id``: a retry with a known client id returns the stored case
        and ``created=False``. The case id is ``C<yyyymmdd>-<5-digit sequence>`` of its report
        day (UTC). The first status event (``reported``) is stored in the same transaction.
        """
        case_id = self._group_commit().submit(case, location, actor or case.get("source", ""))
        with self.connect() as con:
            if case_id is None:
                row = con.execute(
                    f"SELECT {', '.join(CASE_COLUMNS)} FROM cases WHERE client_id = ?",
                    (case["client_id"],),
                ).fetchone()
            else:
                row = con.execute(
                    f"SELECT {', '.join(CASE_COLUMNS)} FROM cases WHERE case_id = ?", (case_id,)
                ).fetchone()
        return dict(row), case_id is not None

    def create_cases_bulk(
        self,
        cases: list[dict],
        locations: list[dict],
        *,
        actor: str = "",
        actors: list[str] | None = None,
        comment: str = "imported",
    ) -> list[str | None]:
        """Store many validated new cases in one transaction (the API writes one, imports many).

        A case whose ``client_id`` is stored already is skipped. Returns, per input case, its
        new case id, or None when it was a duplicate.
        """
        out: list[str | None] = []
        now = utc_now()
        with self.transaction() as con:
            next_seq: dict[str, int] = {}
            for n, (case, location) in enumerate(zip(cases, locations, strict=True)):
                if (
                    case.get("client_id")
                    and con.execute(
                        "SELECT 1 FROM cases WHERE client_id = ?", (case["client_id"],)
                    ).fetchone()
                ):
                    out.append(None)
                    continue
                day = case_day(case["reported_at"])
                if day not in next_seq:
                    last = con.execute(
                        "SELECT MAX(case_id) FROM cases WHERE case_id >= ? AND case_id < ?",
                        (f"C{day}-", f"C{day}."),
                    ).fetchone()[0]
                    next_seq[day] = int(last.rsplit("-", 1)[1]) + 1 if last else 1
                case_id = f"C{day}-{next_seq[day]:05d}"
                next_seq[day] += 1
                row = {k: case.get(k) for k in CASE_COLUMNS}
                row.update(h3_cells(case["lon"], case["lat"]))
                row.update(
                    {
                        k: location.get(k, "")
                        for k in ("grid_code", "community_code", "township_code")
                    }
                )
                row.update(
                    case_id=case_id,
                    status="reported",
                    level="grid",
                    closed_at=None,
                    updated_at=now,
                    grid_version_id=location.get("grid_version_id"),
                )
                for k in ("title", "description", "source", "reporter_name", "reporter_phone"):
                    row[k] = row[k] or ""
                con.execute(
                    f"INSERT INTO cases ({', '.join(_CASE_INSERT)}) VALUES ({', '.join('?' * len(_CASE_INSERT))})",
                    [row[k] for k in _CASE_INSERT],
                )
                con.execute(
                    "INSERT INTO case_events (case_id, at, from_status, to_status, actor, comment) "
                    "VALUES (?, ?, NULL, 'reported', ?, ?)",
                    (case_id, row["reported_at"], actors[n] if actors else actor, comment),
                )
                out.append(case_id)
        return out

    def get_case(self, case_id: str) -> dict | None:
        """One case with its status history (``events``, oldest first), or None."""
        with self.connect() as con:
            row = con.execute(
                f"SELECT {', '.join(CASE_COLUMNS)} FROM cases WHERE case_id = ?", (case_id,)
            ).fetchone()
            if row is None:
                return None
            events = con.execute(
                "SELECT at, from_status, to_status, actor, comment FROM case_events "
                "WHERE case_id = ? ORDER BY at, event_id",
                (case_id,),
            ).fetchall()
        return {**dict(row), "events": [dict(e) for e in events]}

    def list_cases(
        self,
        *,
        filters: dict | None = None,
        now: str | None = None,
        limit: int = 50,
        offset: int = 0,
        order_by: str = "reported_at",
        descending: bool = True,
    ) -> tuple[list[dict], int]:
        """Cases matching ``filters``, newest first; returns (page, total).

        Filters: ``status``, ``category``, ``level``, ``township_code``, ``community_code``,
        ``grid_code`` (exact), ``since``/``until`` (reported_at bounds, UTC strings),
        ``overdue`` (bool, judged at ``now``), ``township_codes`` (a list: a role's scope).
        """
        if order_by not in _SORTABLE:
            raise StoreError(
                f"cases cannot be sorted by {order_by!r}; expected one of {sorted(_SORTABLE)}"
            )
        direction = "DESC" if descending else "ASC"
        where, args = _case_filters(filters or {}, now or utc_now())
        sql_where = (" WHERE " + " AND ".join(where)) if where else ""
        with self.connect() as con:
            total = con.execute(f"SELECT COUNT(*) FROM cases{sql_where}", args).fetchone()[0]
            rows = con.execute(
                f"SELECT {', '.join(CASE_COLUMNS)} FROM cases{sql_where} "
                f"ORDER BY {order_by} {direction}, case_id {direction} LIMIT ? OFFSET ?",
                [*args, int(limit), int(offset)],
            ).fetchall()
        return [dict(r) for r in rows], int(total)

    def transition_case(
        self, case_id: str, to_status: str, *, actor: str, comment: str = "", at: str | None = None
    ) -> dict:
        """Move a case along its lifecycle; TransitionError (HTTP 409) when not allowed."""
        with self.transaction() as con:
            _transition(con, case_id, to_status, actor=actor, comment=comment, at=at or utc_now())
        case = self.get_case(case_id)
        assert case is not None
        return case

    def transition_cases(self, moves: list[tuple[str, str, str, str, str]]) -> int:
        """Apply many status changes ``(case_id, from_status, to_status, actor, at)`` in one
        transaction, by the rules of :meth:`transition_case`.

        A move whose case is no longer in ``from_status`` (another writer moved it first), or
        that the lifecycle does not allow, is skipped. Returns the number applied.
        """
        from wangge.casework import TransitionError

        done = 0
        with self.transaction() as con:
            for case_id, from_status, to_status, actor, at in moves:
                try:
                    _transition(con, case_id, to_status, actor=actor, at=at, expect=from_status)
                except (KeyError, TransitionError):
                    continue
                done += 1
        return done

    def open_case_states(
        self, *, client_prefixes: tuple[str, ...] = ("sim:", "feed:")
    ) -> list[dict]:
        """Open cases whose client id starts with one of ``client_prefixes``: case_id, client_id,
        category, status, level, reported_at, last_at (time of the last event), events (their
        number), escalated and returned (whether it ever was)."""
        match = " OR ".join("substr(c.client_id, 1, ?) = ?" for _ in client_prefixes) or "0"
        args = [a for p in client_prefixes for a in (len(p), p)]
        with self.connect() as con:
            rows = con.execute(
                "SELECT c.case_id, c.client_id, c.category, c.status, c.level, c.reported_at, "
                "MAX(e.at) AS last_at, COUNT(*) AS events, "
                "SUM(e.to_status = 'escalated') > 0 AS escalated, "
                "SUM(e.to_status = 'returned') > 0 AS returned "
                "FROM cases c JOIN case_events e ON e.case_id = c.case_id "
                f"WHERE c.status IN ({', '.join('?' * len(_OPEN))}) AND ({match}) "
                "GROUP BY c.case_id ORDER BY c.case_id",
                [*_OPEN, *args],
            ).fetchall()
        return [dict(r) for r in rows]

    def case_counts(
        self, *, by: str = "community_code", filters: dict | None = None, open_only: bool = False
    ) -> dict[str, int]:
        """Cases (only the open ones with ``open_only``) per grid, community or township code."""
        if by not in ("grid_code", "community_code", "township_code", "category", "status"):
            raise StoreError(
                f"case_counts: by={by!r}; expected grid_code, community_code, township_code, category or status"
            )
        where, args = _case_filters(filters or {}, utc_now())
        if open_only:
            where.append("closed_at IS NULL")
        sql_where = (" WHERE " + " AND ".join(where)) if where else ""
        with self.connect() as con:
            rows = con.execute(
                f"SELECT {by}, COUNT(*) FROM cases{sql_where} GROUP BY {by}", args
            ).fetchall()
        return {r[0]: int(r[1]) for r in rows if r[0]}

    def case_summary(
        self,
        *,
        filters: dict | None = None,
        now: str,
        window_start: str,
        today_start: str,
        utc_offset_hours: int = 8,
    ) -> dict:
        """Case figures computed in SQL (fast at 200,000 cases).

        ``kpis``: reported/closed today, reported and closed in the window, the window's
        closure rate (its reports closed by now), on-time rate (closures in the window by their
        deadline), open, open overdue, mean handling hours (closures in the window), escalated
        (window's reports handled above grid level). ``categories``: window reports per category.
        ``trend``: reports and closures per local day (UTC + ``utc_offset_hours``).
        """
        where, args = _case_filters(filters or {}, now)
        base = (" AND " + " AND ".join(where)) if where else ""
        sql_where = (" WHERE " + " AND ".join(where)) if where else ""
        p = {"now": now, "win": window_start, "today": today_start}
        with self.connect() as con:
            row = con.execute(
                f"""SELECT
                    SUM(reported_at >= ? AND reported_at <= ?),
                    SUM(closed_at >= ? AND closed_at <= ?),
                    SUM(reported_at >= ? AND reported_at <= ?),
                    SUM(reported_at >= ? AND reported_at <= ? AND closed_at IS NOT NULL AND closed_at <= ?),
                    SUM(closed_at >= ? AND closed_at <= ?),
                    SUM(closed_at >= ? AND closed_at <= ? AND closed_at <= deadline_at),
                    SUM(reported_at <= ? AND (closed_at IS NULL OR closed_at > ?)),
                    SUM(reported_at <= ? AND (closed_at IS NULL OR closed_at > ?) AND deadline_at < ?),
                    AVG(CASE WHEN closed_at >= ? AND closed_at <= ?
                        THEN (julianday(closed_at) - julianday(reported_at)) * 24 END),
                    SUM(reported_at >= ? AND reported_at <= ? AND level != 'grid')
                FROM cases{sql_where}""",
                [
                    p["today"],
                    p["now"],
                    p["today"],
                    p["now"],
                    p["win"],
                    p["now"],
                    p["win"],
                    p["now"],
                    p["now"],
                    p["win"],
                    p["now"],
                    p["win"],
                    p["now"],
                    p["now"],
                    p["now"],
                    p["now"],
                    p["now"],
                    p["now"],
                    p["win"],
                    p["now"],
                    p["win"],
                    p["now"],
                    *args,
                ],
            ).fetchone()
            cats = con.execute(
                f"SELECT category, COUNT(*) FROM cases WHERE reported_at >= ? AND reported_at <= ?{base} "
                "GROUP BY category",
                [p["win"], p["now"], *args],
            ).fetchall()
            shift = f"{utc_offset_hours:+d} hours"
            reported = con.execute(
                f"SELECT substr(datetime(reported_at, ?), 1, 10) AS day, COUNT(*) FROM cases "
                f"WHERE reported_at >= ? AND reported_at <= ?{base} GROUP BY day",
                [shift, p["win"], p["now"], *args],
            ).fetchall()
            closed = con.execute(
                f"SELECT substr(datetime(closed_at, ?), 1, 10) AS day, COUNT(*) FROM cases "
                f"WHERE closed_at >= ? AND closed_at <= ?{base} GROUP BY day",
                [shift, p["win"], p["now"], *args],
            ).fetchall()
        n = [int(v or 0) for v in row[:8]]
        nan = float("nan")
        kpis = {
            "reported_today": n[0],
            "closed_today": n[1],
            "reported": n[2],
            "closed": n[4],
            "closure_rate": n[3] / n[2] if n[2] else nan,
            "on_time_rate": n[5] / n[4] if n[4] else nan,
            "open": n[6],
            "open_overdue": n[7],
            "mean_handling_hours": float(row[8]) if row[8] is not None else nan,
            "escalated": int(row[9] or 0),
        }
        return {
            "kpis": kpis,
            "categories": dict(cats),
            "reported": dict(reported),
            "closed": dict(closed),
        }

    def case_points(
        self,
        *,
        filters: dict | None = None,
        now: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
    ) -> list[tuple]:
        """(case_id, lon, lat, category, status, overdue) of the matching cases: the lean rows a
        map layer needs (``open`` in filters keeps open cases only; ``bbox`` keeps those inside)."""
        now = now or utc_now()
        where, args = _case_filters(filters or {}, now)
        if bbox is not None:
            where.append("lon >= ? AND lat >= ? AND lon <= ? AND lat <= ?")
            args.extend(bbox)
        sql_where = (" WHERE " + " AND ".join(where)) if where else ""
        with self.connect() as con:
            return con.execute(
                "SELECT case_id, lon, lat, category, status, "
                "CASE WHEN (closed_at IS NULL AND deadline_at < ?) "
                "OR (closed_at IS NOT NULL AND closed_at > deadline_at) THEN 1 ELSE 0 END "
                f"FROM cases{sql_where}",
                [now, *args],
            ).fetchall()

    def case_bins(
        self,
        *,
        resolution: int,
        filters: dict | None = None,
        now: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
    ) -> list[tuple]:
        """Per H3 cell at ``resolution``: (cell, mean lon, mean lat, cases, overdue cases) of the
        matching cases, optionally only those inside ``bbox`` (a GROUP BY on the stored cells)."""
        if resolution not in H3_RESOLUTIONS:
            raise StoreError(f"H3 resolution {resolution}: expected one of {list(H3_RESOLUTIONS)}")
        now = now or utc_now()
        where, args = _case_filters(filters or {}, now)
        if bbox is not None:
            where.append("lon >= ? AND lat >= ? AND lon <= ? AND lat <= ?")
            args.extend(bbox)
        sql_where = (" WHERE " + " AND ".join(where)) if where else ""
        col = f"h3_{resolution}"
        with self.connect() as con:
            return con.execute(
                f"SELECT {col}, AVG(lon), AVG(lat), COUNT(*), SUM(CASE WHEN (closed_at IS NULL AND "
                f"deadline_at < ?) OR (closed_at IS NOT NULL AND closed_at > deadline_at) THEN 1 ELSE 0 END) "
                f"FROM cases{sql_where} GROUP BY {col}",
                [now, *args],
            ).fetchall()

    def case_cube(
        self, *, now: str, window_start: str, utc_offset_hours: int = 8
    ) -> dict[str, pd.DataFrame]:
        """Case counts summed by unit, so that every unit's figures come from one pass.

        ``reports``: the window's reports by township, community and grid code, local day and
        category: ``n``, ``closed`` (closed by ``now``), ``escalated`` (handled above grid
        level). ``closures``: the window's closures by unit codes and local day: ``n``,
        ``on_time`` (by their deadline), ``hours`` (summed handling hours). ``open``: cases open
        at ``now`` by unit codes: ``n``, ``overdue``. Sums over any set of rows give the same
        figures as :meth:`case_summary` and :meth:`grid_case_stats` for that set of units.
        """
        shift = f"{utc_offset_hours:+d} hours"
        units = "township_code, community_code, grid_code"
        with self.connect() as con:
            reports = con.execute(
                f"SELECT {units}, substr(datetime(reported_at, ?), 1, 10), category, COUNT(*), "
                "SUM(closed_at IS NOT NULL AND closed_at <= ?), SUM(level != 'grid') FROM cases "
                f"WHERE reported_at >= ? AND reported_at <= ? GROUP BY 1, 2, 3, 4, 5",
                (shift, now, window_start, now),
            ).fetchall()
            closures = con.execute(
                f"SELECT {units}, substr(datetime(closed_at, ?), 1, 10), COUNT(*), "
                "SUM(closed_at <= deadline_at), "
                "SUM((julianday(closed_at) - julianday(reported_at)) * 24) FROM cases "
                "WHERE closed_at >= ? AND closed_at <= ? GROUP BY 1, 2, 3, 4",
                (shift, window_start, now),
            ).fetchall()
            still_open = con.execute(
                f"SELECT {units}, COUNT(*), SUM(deadline_at < ?) FROM cases "
                "WHERE reported_at <= ? AND (closed_at IS NULL OR closed_at > ?) GROUP BY 1, 2, 3",
                (now, now, now),
            ).fetchall()
        codes = ["township_code", "community_code", "grid_code"]
        return {
            "reports": pd.DataFrame(
                reports, columns=[*codes, "day", "category", "n", "closed", "escalated"]
            ),
            "closures": pd.DataFrame(closures, columns=[*codes, "day", "n", "on_time", "hours"]),
            "open": pd.DataFrame(still_open, columns=[*codes, "n", "overdue"]),
        }

    def grid_case_stats(
        self, *, prefix: str = "", now: str, since: str
    ) -> dict[str, tuple[int, int, int]]:
        """Per grid (codes starting with ``prefix``): (reports since ``since``, open, open overdue)."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT grid_code, SUM(reported_at >= ?), SUM(closed_at IS NULL), "
                "SUM(closed_at IS NULL AND deadline_at < ?) FROM cases "
                "WHERE grid_code >= ? AND grid_code < ? AND grid_code != '' GROUP BY grid_code",
                (since, now, prefix, prefix + "\uffff"),
            ).fetchall()
        return {r[0]: (int(r[1] or 0), int(r[2] or 0), int(r[3] or 0)) for r in rows}

    def patrol_day_stats(
        self, *, since: str, until: str, gap_minutes: float = 30
    ) -> dict[str, tuple[int, float]]:
        """Per worker between ``since`` and ``until``: (sessions, minutes), a gap over
        ``gap_minutes`` starting a new session (computed in SQL with window functions)."""
        with self.connect() as con:
            rows = con.execute(
                """WITH f AS (
                    SELECT worker_id, julianday(at) AS t,
                           LAG(julianday(at)) OVER (PARTITION BY worker_id ORDER BY at) AS prev
                    FROM patrol_points WHERE at >= ? AND at < ?),
                s AS (
                    SELECT worker_id, t, SUM(CASE WHEN prev IS NULL OR (t - prev) * 1440 > ? THEN 1 ELSE 0 END)
                        OVER (PARTITION BY worker_id ORDER BY t ROWS UNBOUNDED PRECEDING) AS session
                    FROM f),
                d AS (SELECT worker_id, session, (MAX(t) - MIN(t)) * 1440 AS minutes FROM s GROUP BY worker_id, session)
                SELECT worker_id, COUNT(*), SUM(minutes) FROM d GROUP BY worker_id""",
                (since, until, gap_minutes),
            ).fetchall()
        return {r[0]: (int(r[1]), float(r[2] or 0.0)) for r in rows}

    def workers_seen_since(self, since: str) -> set[str]:
        """Workers with a GPS fix at or after ``since``."""
        with self.connect() as con:
            return {
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT worker_id FROM patrol_points WHERE at >= ?", (since,)
                )
            }

    def township_ranking(
        self, *, filters: dict | None = None, now: str, window_start: str
    ) -> list[dict]:
        """Per township: reports in the window, open and open overdue cases now."""
        where, args = _case_filters(filters or {}, now)
        base = (" AND " + " AND ".join(where)) if where else ""
        with self.connect() as con:
            rows = con.execute(
                "SELECT township_code, SUM(reported_at >= ? AND reported_at <= ?), "
                "SUM(reported_at <= ? AND (closed_at IS NULL OR closed_at > ?)), "
                "SUM(reported_at <= ? AND (closed_at IS NULL OR closed_at > ?) AND deadline_at < ?) "
                f"FROM cases WHERE township_code != ''{base} GROUP BY township_code",
                [window_start, now, now, now, now, now, now, *args],
            ).fetchall()
        return [
            {
                "township_code": r[0],
                "reported": int(r[1] or 0),
                "open": int(r[2] or 0),
                "overdue": int(r[3] or 0),
            }
            for r in rows
        ]

    def activity_fingerprint(self, filters: dict | None = None) -> str:
        """A short string that changes whenever cases, case events, cameras or patrol fixes do.

        Without ``filters`` it reads only indexed maxima (every new case and every status change
        writes a case event), about 0.1 ms instead of 30 ms of counting 190,000 cases."""
        where, args = _case_filters(filters or {}, utc_now())
        sql_where = (" WHERE " + " AND ".join(where)) if where else ""
        count = f"SELECT COUNT(*), MAX(updated_at) FROM cases{sql_where}"
        if not where:
            count = "SELECT MAX(rowid), NULL FROM cases"
        with self.connect() as con:
            n, last = con.execute(count, args).fetchone()
            ev = con.execute("SELECT MAX(event_id) FROM case_events").fetchone()[0]
            cams = con.execute(
                "SELECT COUNT(*), SUM(status = 'online'), MAX(last_heartbeat) FROM cameras"
            ).fetchone()
            fix = con.execute("SELECT MAX(rowid) FROM patrol_points").fetchone()[0]
        return f"{n}|{last}|{ev}|{cams[0]}|{cams[1]}|{cams[2]}|{fix}"

    def cases_frame(self, *, filters: dict | None = None, now: str | None = None) -> pd.DataFrame:
        """All matching cases as a DataFrame (times as UTC timestamps), for analytics."""
        where, args = _case_filters(filters or {}, now or utc_now())
        sql_where = (" WHERE " + " AND ".join(where)) if where else ""
        cols = [
            c for c in CASE_COLUMNS if c not in ("reporter_name", "reporter_phone", "description")
        ]
        with self.connect() as con:
            rows = con.execute(f"SELECT {', '.join(cols)} FROM cases{sql_where}", args).fetchall()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=cols)
        for c in ("reported_at", "deadline_at", "closed_at", "updated_at"):
            frame[c] = pd.to_datetime(frame[c], utc=True, format="ISO8601")
        return frame

    def insert_cases_bulk(self, cases: list[dict], events: list[tuple]) -> int:
        """Bulk insert of complete cases and their events (simulation, imports); one transaction.

        Cases whose ``case_id`` or ``client_id`` exists already are skipped with their events.
        Returns the number of cases inserted.
        """
        with self.transaction() as con:
            before = con.total_changes
            con.executemany(
                f"INSERT OR IGNORE INTO cases ({', '.join(_CASE_INSERT)}) "
                f"VALUES ({', '.join('?' * len(_CASE_INSERT))})",
                [
                    [{**c, **h3_cells(c["lon"], c["lat"])}.get(k) for k in _CASE_INSERT]
                    for c in cases
                ],
            )
            inserted = con.total_changes - before
            con.execute(
                "CREATE TEMP TABLE IF NOT EXISTS new_events (case_id, at, from_status, to_status, actor, comment)"
            )
            con.execute("DELETE FROM new_events")
            con.executemany("INSERT INTO new_events VALUES (?, ?, ?, ?, ?, ?)", events)
            con.execute(
                "INSERT INTO case_events (case_id, at, from_status, to_status, actor, comment) "
                "SELECT n.case_id, n.at, n.from_status, n.to_status, n.actor, n.comment FROM new_events n "
                "WHERE NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = n.case_id)"
            )
            con.execute("DELETE FROM new_events")
        return inserted

    # -- cameras -----------------------------------------------------------------------------------
    def upsert_cameras(self, cameras: pd.DataFrame) -> int:
        """Insert or update cameras (camera_id, lon, lat and optional fields)."""
        cols = [
            "camera_id",
            "name",
            "lon",
            "lat",
            "bearing",
            "fov",
            "range_m",
            "mount_height",
            "camera_type",
            "grid_code",
            "status",
        ]
        defaults = {
            "name": "",
            "bearing": None,
            "fov": 90.0,
            "range_m": 50.0,
            "mount_height": 4.0,
            "camera_type": "fixed",
            "grid_code": "",
            "status": "unknown",
        }
        frame = cameras.copy()
        for c, d in defaults.items():
            if c not in frame:
                frame[c] = d
        rows = [
            tuple(None if (isinstance(v, float) and math.isnan(v)) else v for v in r)
            for r in frame[cols].itertuples(index=False)
        ]
        updates = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
        with self.transaction() as con:
            con.executemany(
                f"INSERT INTO cameras ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                f"ON CONFLICT(camera_id) DO UPDATE SET {updates}",
                rows,
            )
        return len(rows)

    def cameras(self) -> pd.DataFrame:
        with self.connect() as con:
            rows = con.execute("SELECT * FROM cameras ORDER BY camera_id").fetchall()
            cols = [d[1] for d in con.execute("PRAGMA table_info(cameras)")]
        return pd.DataFrame([tuple(r) for r in rows], columns=cols)

    def record_heartbeats(self, beats: list[tuple[str, str, bool]]) -> tuple[int, list[str]]:
        """Store (camera_id, at, online) heartbeats; returns (stored, unknown camera ids)."""
        with self.transaction() as con:
            known = {r[0] for r in con.execute("SELECT camera_id FROM cameras")}
            good = [(c, at, int(bool(on))) for c, at, on in beats if c in known]
            unknown = sorted({c for c, _, _ in beats if c not in known})
            con.executemany("INSERT OR IGNORE INTO camera_heartbeats VALUES (?, ?, ?)", good)
            con.executemany(
                "UPDATE cameras SET status = CASE WHEN ? THEN 'online' ELSE 'offline' END, "
                "last_heartbeat = ? WHERE camera_id = ? AND (last_heartbeat IS NULL OR last_heartbeat <= ?)",
                [(on, at, c, at) for c, at, on in good],
            )
        return len(good), unknown

    # -- patrols ------------------------------------------------------------------------------------
    def add_patrol_points(self, points: list[tuple[str, str, float, float, float | None]]) -> int:
        """Store GPS fixes (worker_id, at, lon, lat, accuracy); a repeated fix is ignored."""
        with self.transaction() as con:
            before = con.total_changes
            con.executemany("INSERT OR IGNORE INTO patrol_points VALUES (?, ?, ?, ?, ?)", points)
            return con.total_changes - before

    def patrol_fix_stamp(self, *, since: str, until: str) -> str:
        """Changes whenever patrol fixes between ``since`` and ``until`` are added or removed
        (count and last row id, read from the index on time)."""
        with self.connect() as con:
            n, last = con.execute(
                "SELECT COUNT(*), MAX(rowid) FROM patrol_points WHERE at >= ? AND at < ?",
                (since, until),
            ).fetchone()
        return f"{n}|{last}"

    def patrol_points(
        self, *, worker_id: str | None = None, since: str | None = None, until: str | None = None
    ) -> pd.DataFrame:
        where, args = [], []
        for cond, value in (("worker_id = ?", worker_id), ("at >= ?", since), ("at < ?", until)):
            if value is not None:
                where.append(cond)
                args.append(value)
        sql = "SELECT worker_id, at, lon, lat, accuracy FROM patrol_points"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self.connect() as con:
            rows = con.execute(sql + " ORDER BY worker_id, at", args).fetchall()
        frame = pd.DataFrame(
            [tuple(r) for r in rows], columns=["worker_id", "at", "lon", "lat", "accuracy"]
        )
        frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
        return frame


_TABLES = frozenset(
    {
        "users",
        "api_tokens",
        "admin_units",
        "basemap_features",
        "buildings",
        "grid_versions",
        "grids",
        "building_grids",
        "workers",
        "cases",
        "case_events",
        "cameras",
        "camera_heartbeats",
        "patrol_points",
        "meta",
    }
)


class _GroupCommit:
    """Group commit of single case writes: concurrent writers share one transaction.

    A synced commit costs one fsync (measured 6.7 ms on the CI machine's disk), which caps
    one-at-a-time commits near 150 a second. Writers put their case on a queue and wait; one
    thread commits everything queued in one transaction and one fsync, then answers each writer.
    Nobody is answered before the transaction holding their case is committed, so durability is
    that of ``synchronous=FULL``. A batch that fails is retried one case at a time, so one bad
    case fails alone.
    """

    MAX_BATCH = 256

    def __init__(self, store: Store):
        self.store = store
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="wangge-group-commit", daemon=True)
        self.thread.start()

    def submit(self, case: dict, location: dict, actor: str) -> str | None:
        future: Future = Future()
        self.queue.put((case, location, actor, future))
        return future.result(timeout=60)

    def _commit(self, batch: list) -> None:
        ids = self.store.create_cases_bulk(
            [b[0] for b in batch], [b[1] for b in batch], actors=[b[2] for b in batch], comment=""
        )
        for item, case_id in zip(batch, ids, strict=True):
            item[3].set_result(case_id)

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
                        item[3].set_exception(exc)


_SORTABLE = frozenset(
    {
        "reported_at",
        "deadline_at",
        "closed_at",
        "updated_at",
        "category",
        "status",
        "level",
        "township_code",
        "community_code",
        "grid_code",
        "case_id",
    }
)


USER_ROLES = ("county", "township", "planner", "wall")
#: Statuses of open cases (all but closed), listed so that queries use the status index.
_OPEN = (
    "reported",
    "accepted",
    "dispatched",
    "in_progress",
    "resolved",
    "verified",
    "returned",
    "escalated",
)


def _transition(
    con: sqlite3.Connection,
    case_id: str,
    to_status: str,
    *,
    actor: str,
    at: str,
    comment: str = "",
    expect: str | None = None,
) -> None:
    """One status change inside the caller's transaction (KeyError: no such case)."""
    from wangge.casework import TRANSITIONS, TransitionError, next_level

    row = con.execute(
        "SELECT status, level, reported_at FROM cases WHERE case_id = ?", (case_id,)
    ).fetchone()
    if row is None:
        raise KeyError(case_id)
    status, level = row["status"], row["level"]
    if expect is not None and status != expect:
        raise TransitionError(f"case {case_id} is {status}, no longer {expect}")
    if to_status not in TRANSITIONS[status]:
        allowed = sorted(TRANSITIONS[status]) or ["nothing: the case is closed"]
        raise TransitionError(
            f"case {case_id} is {status}; it cannot become {to_status} (allowed: {', '.join(allowed)})"
        )
    if at < row["reported_at"]:
        raise TransitionError(
            f"case {case_id}: time {at} is before the report at {row['reported_at']}"
        )
    new_level = next_level(level) if to_status == "escalated" else level
    con.execute(
        "UPDATE cases SET status = ?, level = ?, updated_at = ?, "
        "closed_at = CASE WHEN ? = 'closed' THEN ? ELSE closed_at END WHERE case_id = ?",
        (to_status, new_level, utc_now(), to_status, at, case_id),
    )
    con.execute(
        "INSERT INTO case_events (case_id, at, from_status, to_status, actor, comment) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (case_id, at, status, to_status, actor, comment),
    )


def _hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _verify_password(password: str, stored: str) -> bool:
    try:
        kind, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return secrets.compare_digest(got.hex(), digest)


def h3_cells(lon: float, lat: float) -> dict[str, str]:
    """The H3 cells of a point at :data:`H3_RESOLUTIONS`, keyed by column name."""
    cell = h3.latlng_to_cell(lat, lon, max(H3_RESOLUTIONS))
    return {
        f"h3_{r}": (h3.cell_to_parent(cell, r) if r < max(H3_RESOLUTIONS) else cell)
        for r in H3_RESOLUTIONS
    }


def _backfill_h3(con: sqlite3.Connection) -> None:
    rows = con.execute("SELECT case_id, lon, lat FROM cases WHERE h3_10 IS NULL").fetchall()
    con.executemany(
        "UPDATE cases SET h3_7 = ?, h3_8 = ?, h3_9 = ?, h3_10 = ? WHERE case_id = ?",
        [(*h3_cells(r[1], r[2]).values(), r[0]) for r in rows],
    )


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _case_filters(filters: dict, now: str) -> tuple[list[str], list]:
    where: list[str] = []
    args: list = []
    for field in (
        "status",
        "category",
        "level",
        "township_code",
        "community_code",
        "grid_code",
        "source",
    ):
        value = filters.get(field)
        if value:
            where.append(f"{field} = ?")
            args.append(value)
    if filters.get("township_codes") is not None:
        codes = list(filters["township_codes"])
        where.append(f"township_code IN ({', '.join('?' * len(codes))})" if codes else "0")
        args.extend(codes)
    if filters.get("since"):
        where.append("reported_at >= ?")
        args.append(filters["since"])
    if filters.get("until"):
        where.append("reported_at < ?")
        args.append(filters["until"])
    if filters.get("open") is True:
        where.append("closed_at IS NULL")
    if filters.get("overdue") is True:
        where.append("((closed_at IS NULL AND deadline_at < ?) OR closed_at > deadline_at)")
        args.append(now)
    elif filters.get("overdue") is False:
        where.append("NOT ((closed_at IS NULL AND deadline_at < ?) OR closed_at > deadline_at)")
        args.append(now)
    return where, args


def _statements(sql: str) -> list[str]:
    """Split a migration script into statements (no semicolons inside our literals)."""
    return [s.strip() for s in sql.split(";") if s.strip()]
