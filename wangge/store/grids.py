"""Grid versions, their grids and building assignments, and the grid workers.

A grid version is stored as a draft or published; at most one is published at a time, and
publishing one archives the previous. Reads of the published grids are cached on the reference
data counter (:class:`wangge.store.reference.ReferenceStore`).

Grids, building assignments and workers belong to the township of their grid code; reads take a
``scope`` (:mod:`wangge.store.scoping`).

The planner's drafts (:meth:`GridStore.save_grid_draft`) are whole versions like any other,
made in one transaction from their parent: the parent's unchanged grids and assignments are
copied inside SQLite, the changed grids written anew and the moved buildings recorded in
``grid_moves``. Every save, publish, restore and relocation of open cases writes a row of the
audit log in the same transaction as the change it records.
"""

from __future__ import annotations

import json
import sqlite3

import geopandas as gpd
import pandas as pd

from wangge import clock
from wangge.access import Scope
from wangge.casework import STATUSES
from wangge.store.db import WGS84, geo_frame, to_wkb
from wangge.store.errors import StoreError
from wangge.store.reference import ReferenceStore, bump_data_version
from wangge.store.scoping import scope_sql, scoped

__all__ = ["OPEN_CASE_STATUSES", "GridStore"]

#: Case statuses that relocating open cases moves to the published grids (all but closed).
OPEN_CASE_STATUSES = tuple(s for s in STATUSES if s != "closed")


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
        now = clock.utc_now()
        with self.transaction() as con:
            cur = con.execute(
                "INSERT INTO grid_versions (created_at, status, note, params, author) "
                "VALUES (?, 'draft', ?, ?, ?)",
                (now, note, json.dumps(params or {}, ensure_ascii=False, sort_keys=True), author),
            )
            vid = int(cur.lastrowid)
            _insert_grids(con, vid, grids)
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

    def publish_grid_version(self, version_id: int, *, actor: str = "", reason: str = "") -> None:
        """Make ``version_id`` the published version; the previous one is archived. The audit
        log records ``actor`` and ``reason`` in the same transaction."""
        with self.transaction() as con:
            _publish(con, version_id)
            con.execute(
                "UPDATE grid_versions SET publish_reason = ? WHERE version_id = ?",
                (reason, version_id),
            )
            _audit(con, actor, "publish", version_id, {"reason": reason} if reason else {})
            bump_data_version(con)

    # -- the planner's drafts ----------------------------------------------------------------
    def save_grid_draft(
        self,
        parent_id: int,
        *,
        moves: pd.DataFrame,
        changed: gpd.GeoDataFrame,
        removed: list[str],
        author: str,
        comment: str,
        summary: dict,
        action: str = "save",
    ) -> int:
        """Store a draft made from ``parent_id``; return its id.

        ``moves`` (building_id, from_code, to_code) are the buildings whose grid differs from
        the parent's; ``changed`` the grids whose buildings changed or that are new (the same
        columns as :meth:`add_grid_version`); ``removed`` the parent's grids the draft drops.
        Everything else is copied from the parent inside SQLite. ``summary`` (tallies and
        violations) is kept with the version; the audit log gets an ``action`` row.
        """
        replaced = json.dumps([*changed["grid_code"].astype(str), *removed])
        params = self.grid_version_params(parent_id)
        now = clock.utc_now()
        detail = {"parent": parent_id, "moved": len(moves), "changed": len(changed)}
        if summary.get("reason"):
            detail["reason"] = summary["reason"]
        with self.transaction() as con:
            if not con.execute(
                "SELECT 1 FROM grid_versions WHERE version_id = ?", (parent_id,)
            ).fetchone():
                raise StoreError(f"grid version {parent_id} does not exist")
            cur = con.execute(
                "INSERT INTO grid_versions (created_at, status, note, params, author, parent_id, "
                "summary) VALUES (?, 'draft', ?, ?, ?, ?, ?)",
                (
                    now,
                    comment,
                    json.dumps(params, ensure_ascii=False, sort_keys=True),
                    author,
                    parent_id,
                    json.dumps(summary, ensure_ascii=False, sort_keys=True),
                ),
            )
            vid = int(cur.lastrowid)
            con.execute(
                "INSERT INTO grids SELECT ?, grid_code, community_code, households, buildings, "
                "kind, flags, geometry FROM grids WHERE version_id = ? AND grid_code NOT IN "
                "(SELECT value FROM json_each(?))",
                (vid, parent_id, replaced),
            )
            _insert_grids(con, vid, changed)
            con.execute(
                "INSERT INTO building_grids SELECT ?, building_id, grid_code FROM building_grids "
                "WHERE version_id = ?",
                (vid, parent_id),
            )
            rows = list(
                zip(
                    moves["building_id"].astype(str),
                    moves["from_code"].astype(str),
                    moves["to_code"].astype(str),
                    strict=True,
                )
            )
            con.executemany(
                "INSERT OR REPLACE INTO building_grids VALUES (?, ?, ?)",
                [(vid, b, to) for b, _, to in rows],
            )
            con.executemany("INSERT INTO grid_moves VALUES (?, ?, ?, ?)", [(vid, *r) for r in rows])
            _audit(con, author, action, vid, {**detail, "comment": comment})
            bump_data_version(con)
        return vid

    def grid_version_info(self, version_id: int) -> dict:
        """One version's row as a dict (version_id, created_at, status, note, params,
        published_at, author, parent_id, summary, publish_reason); StoreError when missing."""
        with self.connect() as con:
            row = con.execute(
                "SELECT version_id, created_at, status, note, params, published_at, author, "
                "parent_id, summary, publish_reason FROM grid_versions WHERE version_id = ?",
                (version_id,),
            ).fetchone()
        if row is None:
            raise StoreError(f"grid version {version_id} does not exist")
        info = dict(zip(_INFO_COLUMNS, tuple(row), strict=True))
        info["params"] = json.loads(info["params"] or "{}")
        info["summary"] = json.loads(info["summary"]) if info["summary"] else None
        return info

    def version_diff(self, version_id: int, against: int) -> pd.DataFrame:
        """Buildings whose grid differs between ``against`` (from) and ``version_id`` (to):
        building_id, from_code, to_code ("" where a version has no grid for it), households."""
        with self.connect() as con:
            # straight on the table, so that each lookup uses its primary key
            rows = con.execute(
                "SELECT d.id, d.f, d.t, COALESCE(x.households, 0) FROM ("
                " SELECT a.building_id AS id, a.grid_code AS f, COALESCE(b.grid_code, '') AS t"
                " FROM building_grids a LEFT JOIN building_grids b"
                " ON b.version_id = ? AND b.building_id = a.building_id"
                " WHERE a.version_id = ? AND (b.grid_code IS NULL OR b.grid_code != a.grid_code)"
                " UNION ALL SELECT b.building_id, '', b.grid_code FROM building_grids b"
                " WHERE b.version_id = ? AND NOT EXISTS (SELECT 1 FROM building_grids a"
                " WHERE a.version_id = ? AND a.building_id = b.building_id)"
                ") d LEFT JOIN buildings x ON x.building_id = d.id ORDER BY d.id",
                (version_id, against, version_id, against),
            ).fetchall()
        return pd.DataFrame(
            [tuple(r) for r in rows], columns=["building_id", "from_code", "to_code", "households"]
        )

    def versions_touching(self, community_code: str) -> set[int]:
        """Versions whose planner's moves changed a grid of ``community_code``."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT DISTINCT version_id FROM grid_moves WHERE substr(from_code, 1, 12) = ? "
                "OR substr(to_code, 1, 12) = ?",
                (community_code, community_code),
            ).fetchall()
        return {int(r[0]) for r in rows}

    def grid_moves(self, version_id: int) -> pd.DataFrame:
        """The buildings a planner's draft moved from its parent (building_id, from_code,
        to_code); empty for engine and imported versions."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT building_id, from_code, to_code FROM grid_moves WHERE version_id = ? "
                "ORDER BY building_id",
                (version_id,),
            ).fetchall()
        return pd.DataFrame(
            [tuple(r) for r in rows], columns=["building_id", "from_code", "to_code"]
        )

    def last_grid_number(self, community_code: str) -> int:
        """The highest grid number (the last 3 digits of a 15-digit code) ever stored for
        ``community_code`` in any version: new grids count on from it, so no number is
        reused."""
        with self.connect() as con:
            row = con.execute(
                "SELECT MAX(CAST(substr(grid_code, 13) AS INTEGER)) FROM grids "
                "WHERE community_code = ? AND length(grid_code) = 15",
                (community_code,),
            ).fetchone()
        return int(row[0] or 0)

    def community_buildings(self, community_code: str) -> gpd.GeoDataFrame:
        """The buildings of one community (building_id, households, special, hamlet_id,
        geometry), in the store's order."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT building_id, households, special, hamlet_id, geometry FROM buildings "
                "WHERE community_code = ? ORDER BY rid",
                (community_code,),
            ).fetchall()
        return geo_frame(rows, ["building_id", "households", "special", "hamlet_id"])

    def version_assignment(
        self, version_id: int, *, community_code: str | None = None
    ) -> pd.DataFrame:
        """(building_id, grid_code) of every building of ``version_id`` (of one community)."""
        sql = "SELECT building_id, grid_code FROM building_grids WHERE version_id = ?"
        args: list = [version_id]
        if community_code is not None:
            sql += " AND substr(grid_code, 1, 12) = ?"
            args.append(community_code)
        with self.connect() as con:
            rows = con.execute(sql + " ORDER BY building_id", args).fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=["building_id", "grid_code"])

    def assignment_of(self, version_id: int, building_ids: list[str]) -> pd.Series:
        """Building id -> grid code in ``version_id`` of the given buildings (those in none
        left out)."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT building_id, grid_code FROM building_grids WHERE version_id = ? AND "
                "building_id IN (SELECT value FROM json_each(?))",
                (version_id, json.dumps([str(b) for b in building_ids])),
            ).fetchall()
        return pd.Series([r[1] for r in rows], index=[r[0] for r in rows], dtype=object)

    def grid_kinds(self, version_id: int, community_code: str | None = None) -> dict[str, str]:
        """Grid code -> kind of the grids of ``version_id`` (of one community); no geometry."""
        sql = "SELECT grid_code, kind FROM grids WHERE version_id = ?"
        args: list = [version_id]
        if community_code is not None:
            sql += " AND community_code = ?"
            args.append(community_code)
        with self.connect() as con:
            return {r[0]: r[1] for r in con.execute(sql, args).fetchall()}

    # -- the cell cache and the autosave ------------------------------------------------------
    def community_cells(self, community_code: str) -> tuple[str, bytes] | None:
        """(signature, cells) kept for ``community_code``, or None."""
        with self.connect() as con:
            row = con.execute(
                "SELECT signature, cells FROM community_cells WHERE community_code = ?",
                (community_code,),
            ).fetchone()
        return (row[0], bytes(row[1])) if row else None

    def put_community_cells(self, community_code: str, signature: str, cells: bytes) -> None:
        """Keep the cells of ``community_code`` made from buildings of ``signature``."""
        with self.transaction() as con:
            con.execute(
                "INSERT OR REPLACE INTO community_cells VALUES (?, ?, ?, ?)",
                (community_code, signature, clock.utc_now(), cells),
            )

    def autosave(self, username: str, community_code: str) -> dict | None:
        """The unsaved edits of ``username`` in ``community_code``: parent, moves, saved_at."""
        with self.connect() as con:
            row = con.execute(
                "SELECT parent_id, moves, saved_at FROM planner_autosave "
                "WHERE username = ? AND community_code = ?",
                (username, community_code),
            ).fetchone()
        if row is None:
            return None
        return {"parent": int(row[0]), "moves": json.loads(row[1]), "saved_at": row[2]}

    def put_autosave(self, username: str, community_code: str, parent_id: int, moves: list) -> None:
        """Keep (or with no ``moves``, forget) the unsaved edits of ``username``."""
        with self.transaction() as con:
            if not moves:
                con.execute(
                    "DELETE FROM planner_autosave WHERE username = ? AND community_code = ?",
                    (username, community_code),
                )
                return
            con.execute(
                "INSERT OR REPLACE INTO planner_autosave VALUES (?, ?, ?, ?, ?)",
                (
                    username,
                    community_code,
                    parent_id,
                    json.dumps(moves, ensure_ascii=False),
                    clock.utc_now(),
                ),
            )

    # -- audit and relocation -----------------------------------------------------------------
    def audit_log(self, *, limit: int = 200, version_id: int | None = None) -> list[dict]:
        """The newest ``limit`` rows of the audit log (of one version): event_id, at, actor,
        action, version_id, detail."""
        sql = "SELECT event_id, at, actor, action, version_id, detail FROM audit_log"
        args: list = []
        if version_id is not None:
            sql += " WHERE version_id = ?"
            args.append(version_id)
        with self.connect() as con:
            rows = con.execute(sql + " ORDER BY event_id DESC LIMIT ?", [*args, limit]).fetchall()
        keys = ("event_id", "at", "actor", "action", "version_id", "detail")
        return [
            {**dict(zip(keys, tuple(r), strict=True)), "detail": json.loads(r[5] or "{}")}
            for r in rows
        ]

    def add_audit(self, actor: str, action: str, version_id: int | None, detail: dict) -> None:
        """One row of the audit log."""
        with self.transaction() as con:
            _audit(con, actor, action, version_id, detail)

    def open_cases_off_version(self, version_id: int) -> pd.DataFrame:
        """Open cases located on another grid version than ``version_id``: case_id, lon, lat,
        grid_code."""
        marks = ", ".join("?" * len(OPEN_CASE_STATUSES))
        with self.connect() as con:
            rows = con.execute(
                "SELECT case_id, lon, lat, grid_code FROM cases WHERE status IN "
                f"({marks}) AND COALESCE(grid_version_id, -1) != ? ORDER BY case_id",
                (*OPEN_CASE_STATUSES, version_id),
            ).fetchall()
        return pd.DataFrame(
            [tuple(r) for r in rows], columns=["case_id", "lon", "lat", "grid_code"]
        )

    def relocate_cases(self, located: pd.DataFrame, version_id: int, *, actor: str) -> int:
        """Give the cases of ``located`` (case_id, grid_code, community_code, township_code)
        their place in ``version_id``; one audit row lists how many moved grid."""
        rows = list(
            zip(
                located["grid_code"].astype(str),
                located["community_code"].astype(str),
                located["township_code"].astype(str),
                [version_id] * len(located),
                [clock.utc_now()] * len(located),
                located["case_id"].astype(str),
                strict=True,
            )
        )
        moved = int(located.get("moved", pd.Series(True, index=located.index)).sum())
        with self.transaction() as con:
            con.executemany(
                "UPDATE cases SET grid_code = ?, community_code = ?, township_code = ?, "
                "grid_version_id = ?, updated_at = ? WHERE case_id = ?",
                rows,
            )
            _audit(con, actor, "relocate", version_id, {"cases": len(rows), "changed_grid": moved})
            bump_data_version(con)
        return len(rows)

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
        comment), published_at, author, grids (how many it has) and parent_id."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT v.version_id, v.created_at, v.status, v.note, v.published_at, v.author, "
                "(SELECT COUNT(*) FROM grids g WHERE g.version_id = v.version_id), v.parent_id "
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
                "parent_id",
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


_INFO_COLUMNS = (
    "version_id",
    "created_at",
    "status",
    "note",
    "params",
    "published_at",
    "author",
    "parent_id",
    "summary",
    "publish_reason",
)


def _insert_grids(con: sqlite3.Connection, vid: int, grids: gpd.GeoDataFrame) -> None:
    """Write ``grids`` (grid_code, community_code or community_id, households, buildings,
    kind, flags, geometry) as grids of version ``vid``."""
    if grids.empty:
        return
    grids = grids.to_crs(WGS84)
    community = grids["community_code"] if "community_code" in grids else grids["community_id"]
    flags = grids["flags"] if "flags" in grids else pd.Series("", index=grids.index)
    flags = flags.map(lambda f: ";".join(f) if isinstance(f, list | tuple) else (f or ""))
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


def _audit(
    con: sqlite3.Connection, actor: str, action: str, version_id: int | None, detail: dict
) -> None:
    """One audit row, inside the caller's transaction."""
    con.execute(
        "INSERT INTO audit_log (at, actor, action, version_id, detail) VALUES (?, ?, ?, ?, ?)",
        (clock.utc_now(), actor, action, version_id, json.dumps(detail, ensure_ascii=False)),
    )
