"""Grid versions, their grids and building assignments, and the grid workers.

A grid version is stored as a draft or published; at most one is published at a time, and
publishing one archives the previous. Reads of the published grids are cached on the reference
data counter (:class:`wangge.store.reference.ReferenceStore`).

Grids, building assignments and workers belong to the township of their grid code; reads take a
``scope`` (:mod:`wangge.store.scoping`).
"""

from __future__ import annotations

import json
import sqlite3

import geopandas as gpd
import pandas as pd

from wangge import clock
from wangge.access import Scope
from wangge.store.db import WGS84, geo_frame, to_wkb
from wangge.store.errors import StoreError
from wangge.store.reference import ReferenceStore, bump_data_version
from wangge.store.scoping import scope_sql, scoped

__all__ = ["GridStore"]


class GridStore(ReferenceStore):
    """Grid versions, grids, building assignments and workers (see :class:`wangge.store.Store`)."""

    def add_grid_version(
        self,
        grids: gpd.GeoDataFrame,
        assignments: pd.DataFrame | None = None,
        *,
        note: str = "",
        params: dict | None = None,
        publish: bool = False,
        author: str = "",
    ) -> int:
        """Store a new grid version (draft, or published when ``publish``); return its id.

        ``grids`` needs grid_code, community_id or community_code, households, buildings, kind,
        flags; ``assignments`` (building_id, grid_code) says which grid each building is in.
        ``note`` is the version's comment, ``author`` who made it.
        """
        grids = grids.to_crs(WGS84)
        community = grids["community_code"] if "community_code" in grids else grids["community_id"]
        flags = grids["flags"] if "flags" in grids else pd.Series("", index=grids.index)
        flags = flags.map(lambda f: ";".join(f) if isinstance(f, list | tuple) else (f or ""))
        now = clock.utc_now()
        with self.transaction() as con:
            cur = con.execute(
                "INSERT INTO grid_versions (created_at, status, note, params, author) "
                "VALUES (?, 'draft', ?, ?, ?)",
                (now, note, json.dumps(params or {}, ensure_ascii=False, sort_keys=True), author),
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
                    to_wkb(grids.geometry),
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
                _publish(con, vid)
            bump_data_version(con)
        return vid

    def publish_grid_version(self, version_id: int) -> None:
        """Make ``version_id`` the published version; the previous one is archived."""
        with self.transaction() as con:
            _publish(con, version_id)
            bump_data_version(con)

    def published_grid_version(self) -> int | None:
        with self.connect() as con:
            row = con.execute(
                "SELECT version_id FROM grid_versions WHERE status = 'published'"
            ).fetchone()
        return int(row[0]) if row else None

    def grid_version_params(self, version_id: int | None = None) -> dict:
        """The parameters ``version_id`` was made with (default: the published version's; an
        empty dict when there is no such version)."""
        vid = self.published_grid_version() if version_id is None else version_id
        with self.connect() as con:
            row = con.execute(
                "SELECT params FROM grid_versions WHERE version_id = ?", (vid,)
            ).fetchone()
        return json.loads(row[0] or "{}") if row else {}

    def grid_versions(self) -> pd.DataFrame:
        """Every grid version, oldest first: version_id, created_at, status, note (its
        comment), published_at, author and grids (how many it has)."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT v.version_id, v.created_at, v.status, v.note, v.published_at, v.author, "
                "(SELECT COUNT(*) FROM grids g WHERE g.version_id = v.version_id) "
                "FROM grid_versions v ORDER BY v.version_id"
            ).fetchall()
        return pd.DataFrame(
            [tuple(r) for r in rows],
            columns=[
                "version_id",
                "created_at",
                "status",
                "note",
                "published_at",
                "author",
                "grids",
            ],
        )

    def has_grid_version(self, version_id: int) -> bool:
        """Whether grid version ``version_id`` exists."""
        with self.connect() as con:
            row = con.execute(
                "SELECT 1 FROM grid_versions WHERE version_id = ?", (version_id,)
            ).fetchone()
        return row is not None

    def grids(self, version_id: int | None = None, *, scope: Scope) -> gpd.GeoDataFrame:
        """The grids inside ``scope`` of ``version_id`` (default: the published version; empty
        if none)."""
        if version_id is None:
            frame = self._cached_reference(("grids",), lambda: self._grids(None))
        else:
            frame = self._grids(version_id)
        return scoped(frame, scope, "grid_code")

    def _grids(self, version_id: int | None) -> gpd.GeoDataFrame:
        vid = self.published_grid_version() if version_id is None else version_id
        with self.connect() as con:
            rows = con.execute(
                "SELECT grid_code, community_code, households, buildings, kind, flags, geometry "
                "FROM grids WHERE version_id = ? ORDER BY grid_code",
                (vid,),
            ).fetchall()
        return geo_frame(
            rows, ["grid_code", "community_code", "households", "buildings", "kind", "flags"]
        )

    def building_grids(self, version_id: int | None = None, *, scope: Scope) -> pd.DataFrame:
        """(building_id, grid_code) of the buildings in grids inside ``scope``."""
        vid = self.published_grid_version() if version_id is None else version_id
        cond, args = scope_sql(scope, "grid_code")
        with self.connect() as con:
            rows = con.execute(
                f"SELECT building_id, grid_code FROM building_grids WHERE version_id = ? "
                f"AND {cond} ORDER BY building_id",
                (vid, *args),
            ).fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=["building_id", "grid_code"])

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
            bump_data_version(con)
        return len(rows)

    def workers(self, *, scope: Scope) -> pd.DataFrame:
        """The grid workers of the grids inside ``scope``."""
        cond, args = scope_sql(scope, "grid_code")
        with self.connect() as con:
            rows = con.execute(
                "SELECT worker_id, name, phone, grid_code, active FROM workers "
                f"WHERE {cond} ORDER BY worker_id",
                args,
            ).fetchall()
        return pd.DataFrame(
            [tuple(r) for r in rows], columns=["worker_id", "name", "phone", "grid_code", "active"]
        )


def _publish(con: sqlite3.Connection, version_id: int) -> None:
    row = con.execute(
        "SELECT status FROM grid_versions WHERE version_id = ?", (version_id,)
    ).fetchone()
    if row is None:
        raise StoreError(f"grid version {version_id} does not exist")
    con.execute("UPDATE grid_versions SET status = 'archived' WHERE status = 'published'")
    con.execute(
        "UPDATE grid_versions SET status = 'published', published_at = ? WHERE version_id = ?",
        (clock.utc_now(), version_id),
    )
