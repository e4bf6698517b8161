"""Cameras and their heartbeats.

A heartbeat says whether a camera was online at a time; the camera keeps the status of its
newest heartbeat, so heartbeats that arrive out of order never make it older.

A camera belongs to the township of its ``grid_code``; every query takes a ``scope``
(:mod:`wangge.store.scoping`): a township principal reads, places and beats only its own
cameras.
"""

from __future__ import annotations

import math

import pandas as pd

from wangge.access import OutOfScope, Scope
from wangge.store.db import Database
from wangge.store.scoping import check_scope, scope_sql

__all__ = ["CameraStore"]


class CameraStore(Database):
    """Cameras and heartbeats (see :class:`wangge.store.Store`)."""

    def upsert_cameras(self, cameras: pd.DataFrame, *, scope: Scope) -> int:
        """Insert or update cameras (camera_id, lon, lat and optional fields).

        OutOfScope, and nothing stored, when a camera's ``grid_code`` lies outside ``scope``
        or its id names a stored camera outside ``scope`` (which is never renamed or moved).
        """
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
        outside = sorted(
            str(i)
            for i, g in zip(frame["camera_id"], frame["grid_code"], strict=True)
            if not check_scope(scope).contains(g)
        )
        with self.transaction() as con:
            outside += _outside(con, [str(i) for i in frame["camera_id"]], scope)
            if outside:
                raise OutOfScope(
                    f"camera(s) outside the principal's township: {sorted(set(outside))[:10]}"
                )
            con.executemany(
                f"INSERT INTO cameras ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                f"ON CONFLICT(camera_id) DO UPDATE SET {updates}",
                rows,
            )
        return len(rows)

    def cameras_outside(self, camera_ids: list[str], *, scope: Scope) -> list[str]:
        """Those of ``camera_ids`` that are stored cameras outside ``scope`` (which a principal
        of ``scope`` may neither rename, move nor beat)."""
        with self.connect() as con:
            return _outside(con, [str(i) for i in camera_ids], check_scope(scope))

    def cameras(self, *, scope: Scope) -> pd.DataFrame:
        """The cameras inside ``scope``, by id."""
        cond, args = scope_sql(scope, "grid_code")
        with self.connect() as con:
            rows = con.execute(
                f"SELECT * FROM cameras WHERE {cond} ORDER BY camera_id", args
            ).fetchall()
            cols = [d[1] for d in con.execute("PRAGMA table_info(cameras)")]
        return pd.DataFrame([tuple(r) for r in rows], columns=cols)

    def record_heartbeats(
        self, beats: list[tuple[str, str, bool]], *, scope: Scope
    ) -> tuple[int, list[str]]:
        """Store (camera_id, at, online) heartbeats; returns (stored, unknown camera ids). A
        camera outside ``scope`` is unknown: its heartbeats are not stored."""
        cond, args = scope_sql(scope, "grid_code")
        with self.transaction() as con:
            known = {r[0] for r in con.execute(f"SELECT camera_id FROM cameras WHERE {cond}", args)}
            good = [(c, at, int(bool(on))) for c, at, on in beats if c in known]
            unknown = sorted({c for c, _, _ in beats if c not in known})
            con.executemany("INSERT OR IGNORE INTO camera_heartbeats VALUES (?, ?, ?)", good)
            con.executemany(
                "UPDATE cameras SET status = CASE WHEN ? THEN 'online' ELSE 'offline' END, "
                "last_heartbeat = ? WHERE camera_id = ? AND (last_heartbeat IS NULL OR last_heartbeat <= ?)",
                [(on, at, c, at) for c, at, on in good],
            )
        return len(good), unknown


def _outside(con, ids: list[str], scope: Scope) -> list[str]:
    """The stored cameras among ``ids`` that lie outside ``scope``."""
    if scope.county_wide or not ids:
        return []
    cond, args = scope_sql(scope, "grid_code")
    out: list[str] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        out += [
            r[0]
            for r in con.execute(
                f"SELECT camera_id FROM cameras WHERE camera_id IN ({', '.join('?' * len(chunk))}) "
                f"AND NOT {cond}",
                (*chunk, *args),
            )
        ]
    return out
