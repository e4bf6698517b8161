"""Patrols: GPS fixes of grid workers, and the sessions and minutes they add up to per day."""

from __future__ import annotations

import pandas as pd

from wangge.store.db import Database

__all__ = ["PatrolStore"]


class PatrolStore(Database):
    """Patrol points and their day statistics (see :class:`wangge.store.Store`)."""

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
