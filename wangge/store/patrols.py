"""Patrols: GPS fixes of grid workers, and the sessions and minutes they add up to per day.

A fix belongs to the township of its worker's grid (``workers.grid_code``); every query takes
a ``scope`` (:mod:`wangge.store.scoping`). Inside a township scope only the fixes of its
workers are read, and only they may be added.
"""

from __future__ import annotations

import pandas as pd

from wangge.access import OutOfScope, Scope
from wangge.store.db import Database
from wangge.store.scoping import check_scope, scope_sql

__all__ = ["PatrolStore"]


class PatrolStore(Database):
    """Patrol points and their day statistics (see :class:`wangge.store.Store`)."""

    def add_patrol_points(
        self, points: list[tuple[str, str, float, float, float | None]], *, scope: Scope
    ) -> int:
        """Store GPS fixes (worker_id, at, lon, lat, accuracy); a repeated fix is ignored.

        Inside a township scope every worker must be one of the township's (OutOfScope, and
        nothing stored, otherwise); county-wide any worker id is taken."""
        with self.transaction() as con:
            if not check_scope(scope).county_wide:
                mine = _scope_workers(con, scope)
                outside = sorted({str(p[0]) for p in points} - mine)
                if outside:
                    raise OutOfScope(f"worker(s) not of the principal's township: {outside[:10]}")
            before = con.total_changes
            con.executemany("INSERT OR IGNORE INTO patrol_points VALUES (?, ?, ?, ?, ?)", points)
            return con.total_changes - before

    def patrol_fix_stamp(self, *, scope: Scope, since: str, until: str) -> str:
        """Changes whenever patrol fixes inside ``scope`` between ``since`` and ``until`` are
        added or removed (count and last row id, read from the index on time)."""
        cond, args = _worker_condition(scope)
        with self.connect() as con:
            n, last = con.execute(
                "SELECT COUNT(*), MAX(rowid) FROM patrol_points WHERE at >= ? AND at < ? "
                f"AND {cond}",
                (since, until, *args),
            ).fetchone()
        return f"{n}|{last}"

    def patrol_points(
        self,
        *,
        scope: Scope,
        worker_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> pd.DataFrame:
        """GPS fixes inside ``scope`` (of one worker, between two times), by worker and time."""
        cond, scope_args = _worker_condition(scope)
        where, args = ([cond], list(scope_args)) if cond != "1" else ([], [])
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
        self, *, scope: Scope, since: str, until: str, gap_minutes: float = 30
    ) -> dict[str, tuple[int, float]]:
        """Per worker inside ``scope`` between ``since`` and ``until``: (sessions, minutes), a
        gap over ``gap_minutes`` starting a new session (computed in SQL with window
        functions)."""
        cond, args = _worker_condition(scope)
        with self.connect() as con:
            rows = con.execute(
                """WITH f AS (
                    SELECT worker_id, julianday(at) AS t,
                           LAG(julianday(at)) OVER (PARTITION BY worker_id ORDER BY at) AS prev
                    FROM patrol_points WHERE at >= ? AND at < ? AND {cond}),
                s AS (
                    SELECT worker_id, t, SUM(CASE WHEN prev IS NULL OR (t - prev) * 1440 > ? THEN 1 ELSE 0 END)
                        OVER (PARTITION BY worker_id ORDER BY t ROWS UNBOUNDED PRECEDING) AS session
                    FROM f),
                d AS (SELECT worker_id, session, (MAX(t) - MIN(t)) * 1440 AS minutes FROM s GROUP BY worker_id, session)
                SELECT worker_id, COUNT(*), SUM(minutes) FROM d GROUP BY worker_id""".replace(
                    "{cond}", cond
                ),
                (since, until, *args, gap_minutes),
            ).fetchall()
        return {r[0]: (int(r[1]), float(r[2] or 0.0)) for r in rows}

    def workers_seen_since(self, since: str, *, scope: Scope) -> set[str]:
        """Workers inside ``scope`` with a GPS fix at or after ``since``."""
        cond, args = _worker_condition(scope)
        with self.connect() as con:
            return {
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT worker_id FROM patrol_points WHERE at >= ? AND {cond}",
                    (since, *args),
                )
            }


def _worker_condition(scope: Scope) -> tuple[str, tuple]:
    """A condition on ``worker_id`` keeping the fixes of the workers inside ``scope``."""
    cond, args = scope_sql(scope, "grid_code")
    if cond in ("0", "1"):
        return cond, ()
    return f"worker_id IN (SELECT worker_id FROM workers WHERE {cond})", args


def _scope_workers(con, scope: Scope) -> set[str]:
    """The ids of the workers inside ``scope``."""
    cond, args = scope_sql(scope, "grid_code")
    return {r[0] for r in con.execute(f"SELECT worker_id FROM workers WHERE {cond}", args)}
