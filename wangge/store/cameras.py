"""Cameras and their heartbeats.

A heartbeat says whether a camera was online at a time; the camera keeps the status of its
newest heartbeat, so heartbeats that arrive out of order never make it older.
"""

from __future__ import annotations

import math

import pandas as pd

from wangge.store.db import Database

__all__ = ["CameraStore"]


class CameraStore(Database):
    """Cameras and heartbeats (see :class:`wangge.store.Store`)."""

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
