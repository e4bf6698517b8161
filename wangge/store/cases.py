"""Cases: creating them (one at a time through the group commit, or in bulk), reading them,
moving them along their lifecycle, and the figures computed from them in SQL.

Every filter of cases is built in one place, :func:`wangge.store.filters.case_filters`; every
query of cases takes the same ``filters`` dict, and a ``scope`` (:class:`wangge.access.Scope`,
keyword, required): the cases of a township scope are those whose ``township_code`` is the
township's
(:func:`wangge.store.scoping.scope_sql`). A write outside the scope raises
:class:`wangge.access.OutOfScope`; a read outside it finds nothing.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import pandas as pd

from wangge import clock
from wangge.access import OutOfScope, Scope
from wangge.casework import (
    NOTES,
    STATUSES,
    TRANSITIONS,
    ConflictError,
    TransitionError,
    ValidationError,
    case_day,
    next_level,
)
from wangge.store.db import Database, GroupCommit
from wangge.store.errors import StoreError
from wangge.store.filters import VIEWS, CaseFilter, case_filters
from wangge.store.schema import CASE_COLUMNS, CASE_DEFAULTS, CASE_INSERT, H3_RESOLUTIONS, h3_cells
from wangge.store.scoping import check_scope, scope_sql

__all__ = [
    "CUBE_BREAKDOWNS",
    "CUBE_DAYS",
    "CUBE_UNITS",
    "OPEN_STATUSES",
    "VIEWS",
    "SORTABLE",
    "CaseFilter",
    "CaseStore",
    "CubeQuery",
    "case_filters",
]

#: Columns cases can be sorted by.
SORTABLE = frozenset(
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

#: Columns a case cube can be summed by: units, breakdowns and the times that date cases.
CUBE_UNITS = ("township_code", "community_code", "grid_code")
CUBE_BREAKDOWNS = ("category",)
CUBE_DAYS = ("reported_at", "closed_at")


class CubeQuery(Protocol):
    """One part of a case cube, as :func:`wangge.kpis.cube_queries` plans it: the cases of
    ``where``, grouped by the local day of ``day`` (None: not dated) and ``by``, with one SQL
    sum per measure. The SQL comes from the KPI definitions, never from a caller's input."""

    population: str
    where: Any
    day: str | None
    by: tuple[str, ...]
    sums: tuple[tuple[str, Any], ...]


#: Statuses of open cases (all but closed), listed so that queries use the status index.
OPEN_STATUSES = tuple(s for s in STATUSES if s != "closed")


class CaseStore(Database):
    """Cases and their status history (see :class:`wangge.store.Store`)."""

    def __init__(self, path: str | os.PathLike[str]):
        super().__init__(path)
        self._committer: GroupCommit | None = None
        self._committer_lock = threading.Lock()

    def _group_commit(self) -> GroupCommit:
        with self._committer_lock:
            if self._committer is None:
                self._committer = GroupCommit(self._write_batch)
            return self._committer

    def _write_batch(self, batch: list[tuple[dict, dict, str]]) -> list[str | None]:
        """The group commit's write: (case, location, actor) items in one transaction (each
        checked against its writer's scope by :meth:`create_case` before it was queued)."""
        return self.create_cases_bulk(
            [b[0] for b in batch],
            [b[1] for b in batch],
            scope=Scope.county(),
            actors=[b[2] for b in batch],
            comment="",
        )

    def create_case(
        self, case: dict, location: dict, *, scope: Scope, actor: str = ""
    ) -> tuple[dict, bool]:
        """Store a validated new case; return (case, created).

        Idempotent on ``client_id``: a retry with a known client id returns the stored case
        and ``created=False``. The case id is ``C<yyyymmdd>-<sequence>`` of its report day (the
        county's day, :func:`wangge.clock.local_day`), numbered by a counter per day
        (:func:`_next_case_id`). The first status event
        (``reported``) is stored in the same transaction.

        OutOfScope when ``location`` lies outside ``scope``, or when ``client_id`` is already
        taken by a case outside it (whose data is never returned).
        """
        if not check_scope(scope).contains(location.get("township_code")):
            raise OutOfScope("the case lies outside the principal's township")
        case_id = self._group_commit().submit((case, location, actor or case.get("source", "")))
        if case_id is None:  # a retry: the client id is stored already
            stored = self._client_case(case["client_id"], scope)
            if stored is None:
                raise OutOfScope("client_id is taken by a case outside the principal's township")
            return stored, False
        with self.connect() as con:
            row = con.execute(
                f"SELECT {', '.join(CASE_COLUMNS)} FROM cases WHERE case_id = ?", (case_id,)
            ).fetchone()
        return dict(row), True

    def _client_case(self, client_id: str, scope: Scope) -> dict | None:
        """The case stored under ``client_id`` inside ``scope``, or None."""
        cond, args = scope_sql(scope, "township_code", exact=True)
        with self.connect() as con:
            row = con.execute(
                f"SELECT {', '.join(CASE_COLUMNS)} FROM cases WHERE client_id = ? AND {cond}",
                (client_id, *args),
            ).fetchone()
        return dict(row) if row else None

    def create_cases_bulk(
        self,
        cases: list[dict],
        locations: list[dict],
        *,
        scope: Scope,
        actor: str = "",
        actors: list[str] | None = None,
        comment: str = "imported",
    ) -> list[str | None]:
        """Store many validated new cases in one transaction (the API writes one, imports many).

        A case whose ``client_id`` is stored already is skipped. Returns, per input case, its
        new case id, or None when it was a duplicate. OutOfScope, and nothing stored, when a
        location lies outside ``scope``.
        """
        outside = [
            n for n, loc in enumerate(locations) if not scope.contains(loc.get("township_code"))
        ]
        if check_scope(scope).empty or outside:
            raise OutOfScope(
                f"{len(outside) if outside else len(locations)} case(s) lie outside the "
                f"principal's township (items {outside[:10]})"
            )
        out: list[str | None] = []
        now = clock.utc_now()
        with self.transaction() as con:
            for n, (case, location) in enumerate(zip(cases, locations, strict=True)):
                if (
                    case.get("client_id")
                    and con.execute(
                        "SELECT 1 FROM cases WHERE client_id = ?", (case["client_id"],)
                    ).fetchone()
                ):
                    out.append(None)
                    continue
                case_id = _next_case_id(con, case_day(case["reported_at"]))
                row = _new_case_row(case, location, case_id=case_id, now=now)
                con.execute(
                    f"INSERT INTO cases ({', '.join(CASE_INSERT)}) VALUES ({', '.join('?' * len(CASE_INSERT))})",
                    [row[k] for k in CASE_INSERT],
                )
                con.execute(
                    "INSERT INTO case_events (case_id, at, from_status, to_status, actor, comment) "
                    "VALUES (?, ?, NULL, 'reported', ?, ?)",
                    (case_id, row["reported_at"], actors[n] if actors else actor, comment),
                )
                out.append(case_id)
        return out

    def get_case(self, case_id: str, *, scope: Scope) -> dict | None:
        """One case with its status history (``events``, oldest first), or None (also when it
        lies outside ``scope``)."""
        cond, args = scope_sql(scope, "township_code", exact=True)
        with self.connect() as con:
            row = con.execute(
                f"SELECT {', '.join(CASE_COLUMNS)} FROM cases WHERE case_id = ? AND {cond}",
                (case_id, *args),
            ).fetchone()
            if row is None:
                return None
            events = con.execute(
                "SELECT at, from_status, to_status, actor, comment, action, assignee "
                "FROM case_events WHERE case_id = ? ORDER BY at, event_id",
                (case_id,),
            ).fetchall()
        return {**dict(row), "events": [dict(e) for e in events]}

    def list_cases(
        self,
        *,
        scope: Scope,
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
        ``overdue`` (bool, judged at ``now``); only cases inside ``scope``.
        """
        if order_by not in SORTABLE:
            raise StoreError(
                f"cases cannot be sorted by {order_by!r}; expected one of {sorted(SORTABLE)}"
            )
        direction = "DESC" if descending else "ASC"
        match = case_filters(filters or {}, now or clock.utc_now(), scope=scope)
        with self.connect() as con:
            count = con.execute(f"SELECT COUNT(*) FROM cases{match.where}", match.args)
            total = count.fetchone()[0]
            rows = con.execute(
                f"SELECT {', '.join(CASE_COLUMNS)} FROM cases{match.where} "
                f"ORDER BY {order_by} {direction}, case_id {direction} LIMIT ? OFFSET ?",
                [*match.args, int(limit), int(offset)],
            ).fetchall()
        return [dict(r) for r in rows], int(total)

    def transition_case(
        self,
        case_id: str,
        to_status: str,
        *,
        scope: Scope,
        actor: str,
        comment: str = "",
        at: str | None = None,
        version: int | None = None,
        assignee: str = "",
    ) -> dict:
        """Move a case along its lifecycle; TransitionError (HTTP 409) when not allowed,
        ValidationError (422) when ``at`` lies out of range (:func:`wangge.clock.parse_checked`)
        or before the report, KeyError when no such case lies inside ``scope``.

        ``version``: the case's version the caller saw; ConflictError (a TransitionError
        naming who changed the case and when) when the case has changed since.
        ``assignee``: who handles a dispatched case (``worker:<id>`` or ``dept:<code>``).
        """
        with self.transaction() as con:
            _transition(
                con,
                case_id,
                to_status,
                scope=scope,
                actor=actor,
                comment=comment,
                at=at or clock.utc_now(),
                version=version,
                assignee=assignee,
            )
        case = self.get_case(case_id, scope=scope)
        assert case is not None
        return case

    def transition_cases(self, moves: list[tuple[str, str, str, str, str]], *, scope: Scope) -> int:
        """Apply many status changes ``(case_id, from_status, to_status, actor, at)`` in one
        transaction, by the rules of :meth:`transition_case`.

        A move whose case is no longer in ``from_status`` (another writer moved it first), that
        the lifecycle does not allow, or whose case lies outside ``scope``, is skipped. Returns
        the number applied.
        """
        done = 0
        with self.transaction() as con:
            for case_id, from_status, to_status, actor, at in moves:
                try:
                    _transition(
                        con,
                        case_id,
                        to_status,
                        scope=scope,
                        actor=actor,
                        at=at,
                        expect=from_status,
                    )
                except (KeyError, TransitionError, ValidationError):
                    continue
                done += 1
        return done

    def note_case(
        self,
        case_id: str,
        action: str,
        *,
        scope: Scope,
        actor: str,
        comment: str = "",
        at: str | None = None,
        version: int | None = None,
    ) -> dict:
        """Record ``action`` (:data:`wangge.casework.NOTES`: ``urge`` 督办 with a note, or
        ``seen``: an operator acknowledged an urgent case, which unpins it from the wall) in a
        case's history without changing its status or version. KeyError when no such case lies
        inside ``scope``; TransitionError for a closed case (nothing to urge) or an unknown
        action; ConflictError when ``version`` (the version the note was decided on; None: not
        checked) is no longer the case's."""
        if action not in NOTES:
            raise TransitionError(f"unknown action {action!r}; expected one of {list(NOTES)}")
        at = at or clock.utc_now()
        cond, args = scope_sql(scope, "township_code", exact=True)
        with self.transaction() as con:
            row = con.execute(
                f"SELECT status, version FROM cases WHERE case_id = ? AND {cond}",
                (case_id, *args),
            ).fetchone()
            if row is None:
                raise KeyError(case_id)
            if version is not None and version != row["version"]:
                _stale(con, case_id, row["version"], row["status"])
            if action == "urge" and row["status"] == "closed":
                raise TransitionError(f"case {case_id} is closed; there is nothing to urge")
            seen = "COALESCE(seen_at, ?)" if action == "seen" else "seen_at"
            con.execute(
                f"UPDATE cases SET updated_at = ?, seen_at = {seen} WHERE case_id = ?",
                (clock.utc_now(), *((at,) if action == "seen" else ()), case_id),
            )
            con.execute(
                "INSERT INTO case_events (case_id, at, from_status, to_status, actor, comment, "
                "action) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (case_id, at, row["status"], row["status"], actor, comment, action),
            )
        case = self.get_case(case_id, scope=scope)
        assert case is not None
        return case

    def urgent_unseen(self, *, scope: Scope, limit: int = 20) -> list[dict]:
        """Open urgent cases inside ``scope`` that no operator has marked seen, newest first:
        what the wall keeps pinned."""
        cond, args = scope_sql(scope, "township_code", exact=True)
        with self.connect() as con:
            rows = con.execute(
                f"SELECT {', '.join(CASE_COLUMNS)} FROM cases WHERE urgency = 'urgent' "
                f"AND closed_at IS NULL AND seen_at IS NULL AND {cond} "
                "ORDER BY reported_at DESC LIMIT ?",
                (*args, int(limit)),
            ).fetchall()
        return [dict(r) for r in rows]

    def open_case_states(
        self, *, scope: Scope, client_prefixes: tuple[str, ...] = ("sim:", "feed:")
    ) -> list[dict]:
        """Open cases whose client id starts with one of ``client_prefixes``: case_id, client_id,
        category, status, level, reported_at, last_at (time of the last event), events (their
        number), escalated and returned (whether it ever was)."""
        match = " OR ".join("substr(c.client_id, 1, ?) = ?" for _ in client_prefixes) or "0"
        args = [a for p in client_prefixes for a in (len(p), p)]
        cond, scope_args = scope_sql(scope, "c.township_code", exact=True)
        with self.connect() as con:
            rows = con.execute(
                "SELECT c.case_id, c.client_id, c.category, c.status, c.level, c.reported_at, "
                "MAX(e.at) AS last_at, COUNT(*) AS events, "
                "SUM(e.to_status = 'escalated') > 0 AS escalated, "
                "SUM(e.to_status = 'returned') > 0 AS returned "
                "FROM cases c JOIN case_events e ON e.case_id = c.case_id AND e.action = '' "
                f"WHERE c.status IN ({', '.join('?' * len(OPEN_STATUSES))}) AND ({match}) "
                f"AND {cond} GROUP BY c.case_id ORDER BY c.case_id",
                [*OPEN_STATUSES, *args, *scope_args],
            ).fetchall()
        return [dict(r) for r in rows]

    def case_counts(
        self,
        *,
        scope: Scope,
        by: str = "community_code",
        filters: dict | None = None,
        open_only: bool = False,
    ) -> dict[str, int]:
        """Cases inside ``scope`` (only the open ones with ``open_only``) per grid, community or
        township code."""
        if by not in ("grid_code", "community_code", "township_code", "category", "status"):
            raise StoreError(
                f"case_counts: by={by!r}; expected grid_code, community_code, township_code, category or status"
            )
        match = case_filters(filters or {}, clock.utc_now(), scope=scope, open_only=open_only)
        with self.connect() as con:
            rows = con.execute(
                f"SELECT {by}, COUNT(*) FROM cases{match.where} GROUP BY {by}", match.args
            ).fetchall()
        return {r[0]: int(r[1]) for r in rows if r[0]}

    def case_points(
        self,
        *,
        scope: Scope,
        filters: dict | None = None,
        now: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
    ) -> list[tuple]:
        """(case_id, lon, lat, category, status, overdue) of the matching cases: the lean rows a
        map layer needs (``open`` in filters keeps open cases only; ``bbox`` keeps those inside)."""
        now = now or clock.utc_now()
        match = case_filters(filters or {}, now, scope=scope, bbox=bbox)
        with self.connect() as con:
            return con.execute(
                f"SELECT case_id, lon, lat, category, status, {_OVERDUE} FROM cases{match.where}",
                [now, *match.args],
            ).fetchall()

    def case_bins(
        self,
        *,
        scope: Scope,
        resolution: int,
        filters: dict | None = None,
        now: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
    ) -> list[tuple]:
        """Per H3 cell at ``resolution``: (cell, mean lon, mean lat, cases, overdue cases) of the
        matching cases, optionally only those inside ``bbox`` (a GROUP BY on the stored cells)."""
        if resolution not in H3_RESOLUTIONS:
            raise StoreError(f"H3 resolution {resolution}: expected one of {list(H3_RESOLUTIONS)}")
        now = now or clock.utc_now()
        match = case_filters(filters or {}, now, scope=scope, bbox=bbox)
        col = f"h3_{resolution}"
        with self.connect() as con:
            return con.execute(
                f"SELECT {col}, AVG(lon), AVG(lat), COUNT(*), SUM({_OVERDUE}) "
                f"FROM cases{match.where} GROUP BY {col}",
                [now, *match.args],
            ).fetchall()

    def case_cube(
        self,
        queries: Iterable[CubeQuery],
        *,
        scope: Scope,
        start: str,
        cutoff: str,
        units: tuple[str, ...] | Mapping[str, tuple[str, ...]] = CUBE_UNITS,
        filters: dict | None = None,
        utc_offset_hours: int = clock.COUNTY_UTC_OFFSET_HOURS,
    ) -> dict[str, pd.DataFrame]:
        """The case cube: the measures of each of ``queries`` (:func:`wangge.kpis.cube_queries`,
        the KPI definitions as SQL) summed over the cases matching ``filters``, by ``units``
        (some of :data:`CUBE_UNITS`, or a mapping from a population to its own), local day
        (UTC + ``utc_offset_hours``) and breakdown.

        ``start`` and ``cutoff`` (UTC strings) are the definitions' parameters: the window's
        first instant and the reporting instant. Returns one frame per query's population,
        with the unit columns, ``day`` (dated populations), the breakdowns and one column per
        measure: sums over any set of its rows give the measures of that set of units and days.
        """
        values = {"start": start, "cutoff": cutoff}
        match = case_filters(filters or {}, cutoff, scope=scope)
        shift = f"{utc_offset_hours:+d} hours"
        out = {}
        with self.connect() as con:
            for q in queries:
                mine = units.get(q.population, ()) if isinstance(units, Mapping) else units
                keys, names, args = _cube_keys(q, tuple(mine), shift)
                sums = [s.sql for _, s in q.sums]
                args += [a for _, s in q.sums for a in s.args(values)]
                args += [*q.where.args(values), *match.args]
                group = f" GROUP BY {', '.join(map(str, range(1, len(keys) + 1)))}" if keys else ""
                rows = con.execute(
                    f"SELECT {', '.join([*keys, *sums])} FROM cases "
                    f"WHERE {q.where.sql}{match.and_where}{group}",
                    args,
                ).fetchall()
                frame = pd.DataFrame(
                    [tuple(r) for r in rows], columns=[*names, *(n for n, _ in q.sums)]
                )
                out[q.population] = frame.fillna({n: 0 for n, _ in q.sums})
        return out

    def grid_case_stats(
        self, *, scope: Scope, prefix: str = "", now: str, since: str
    ) -> dict[str, tuple[int, int, int]]:
        """Per grid inside ``scope`` (codes starting with ``prefix``): (reports since ``since``,
        open, open overdue)."""
        cond, sargs = scope_sql(scope, "grid_code")
        with self.connect() as con:
            rows = con.execute(
                "SELECT grid_code, SUM(reported_at >= ?), SUM(closed_at IS NULL), "
                "SUM(closed_at IS NULL AND deadline_at < ?) FROM cases "
                "WHERE grid_code >= ? AND grid_code < ? AND grid_code != '' "
                f"AND {cond} GROUP BY grid_code",
                (since, now, prefix, prefix + "\uffff", *sargs),
            ).fetchall()
        return {r[0]: (int(r[1] or 0), int(r[2] or 0), int(r[3] or 0)) for r in rows}

    def case_version(self) -> str:
        """A short string that changes with every write of cases: a new case (the largest
        rowid) or a change of one (every transition, note and import writes a case event; the
        largest event id), and with the reference data (a published grid version moves cases
        to other grids). Two primary-key probes, about 0.1 ms: a cache of case answers keyed on
        it never serves an answer from before a write."""
        with self.connect() as con:
            rowid, event = con.execute(
                "SELECT (SELECT MAX(rowid) FROM cases), (SELECT MAX(event_id) FROM case_events)"
            ).fetchone()
        return f"{rowid}|{event}|{self.data_version()}"

    def activity_fingerprint(self, filters: dict | None = None, *, scope: Scope) -> str:
        """A short string that changes whenever cases, case events, cameras or patrol fixes
        inside ``scope`` do.

        County-wide without ``filters`` it reads only indexed maxima (every new case and every
        status change writes a case event), about 0.1 ms instead of 30 ms of counting 190,000
        cases."""
        match = case_filters(filters or {}, clock.utc_now(), scope=scope)
        count = f"SELECT COUNT(*), MAX(updated_at) FROM cases{match.where}"
        if not match.terms:
            count = "SELECT MAX(rowid), NULL FROM cases"
        # filtered, every status change shows in MAX(updated_at); inside a township, the
        # newest fix of its workers (one primary-key probe per worker)
        events = "SELECT MAX(event_id) FROM case_events" if not match.terms else "SELECT NULL"
        fixes = "SELECT MAX(rowid) FROM patrol_points"
        if not scope.county_wide:
            fixes = (
                "SELECT MAX((SELECT MAX(at) FROM patrol_points p WHERE p.worker_id = w.worker_id))"
                f" FROM workers w WHERE {scope_sql(scope, 'w.grid_code')[0]}"
            )
        cam, cam_args = scope_sql(scope, "grid_code")
        with self.connect() as con:
            n, last = con.execute(count, match.args).fetchone()
            ev = con.execute(events).fetchone()[0]
            cams = con.execute(
                "SELECT COUNT(*), SUM(status = 'online'), MAX(last_heartbeat) FROM cameras "
                f"WHERE {cam}",
                cam_args,
            ).fetchone()
            fix = con.execute(fixes, () if scope.county_wide else cam_args).fetchone()[0]
        return f"{n}|{last}|{ev}|{cams[0]}|{cams[1]}|{cams[2]}|{fix}"

    def cases_frame(
        self, *, scope: Scope, filters: dict | None = None, now: str | None = None
    ) -> pd.DataFrame:
        """All matching cases inside ``scope`` as a DataFrame (times as UTC timestamps), for
        analytics."""
        match = case_filters(filters or {}, now or clock.utc_now(), scope=scope)
        cols = [
            c for c in CASE_COLUMNS if c not in ("reporter_name", "reporter_phone", "description")
        ]
        with self.connect() as con:
            rows = con.execute(
                f"SELECT {', '.join(cols)} FROM cases{match.where}", match.args
            ).fetchall()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=cols)
        for c in ("reported_at", "deadline_at", "closed_at", "updated_at"):
            frame[c] = pd.to_datetime(frame[c], utc=True, format="ISO8601")
        return frame

    def insert_cases_bulk(self, cases: list[dict], events: list[tuple], *, scope: Scope) -> int:
        """Bulk insert of complete cases and their events (simulation, imports); one transaction.

        Cases whose ``case_id`` or ``client_id`` exists already are skipped with their events.
        Returns the number of cases inserted. OutOfScope, and nothing stored, when a case's
        township lies outside ``scope``.
        """
        outside = [c.get("case_id") for c in cases if not scope.contains(c.get("township_code"))]
        if check_scope(scope).empty or outside:
            raise OutOfScope(f"cases outside the principal's township: {outside[:10]}")
        with self.transaction() as con:
            before = con.total_changes
            con.executemany(
                f"INSERT OR IGNORE INTO cases ({', '.join(CASE_INSERT)}) "
                f"VALUES ({', '.join('?' * len(CASE_INSERT))})",
                [
                    [
                        {**CASE_DEFAULTS, **c, **h3_cells(c["lon"], c["lat"])}.get(k)
                        for k in CASE_INSERT
                    ]
                    for c in cases
                ],
            )
            inserted = con.total_changes - before
            _count_ids(con, (c["case_id"] for c in cases))
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


def _next_case_id(con: sqlite3.Connection, day: str) -> str:
    """``C<day>-<sequence>``: the next id of ``day`` from its counter (``case_id_counters``,
    migration 9), at least 5 digits (``C20261122-00042``; ``C20261122-100000`` past 99,999).

    The counter counts as a number, so ids never collide however many cases a day has (a
    string maximum of the ids did: "99999" > "100000"); an id taken by a row that did not
    come through the counter is skipped."""
    while True:
        seq = con.execute(
            "INSERT INTO case_id_counters (day, last) VALUES (?, 1) "
            "ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last",
            (day,),
        ).fetchone()[0]
        case_id = f"C{day}-{seq:05d}"
        if con.execute("SELECT 1 FROM cases WHERE case_id = ?", (case_id,)).fetchone() is None:
            return case_id


def _count_ids(con: sqlite3.Connection, case_ids: Iterable[str]) -> None:
    """Raise the day counters past ``case_ids`` (inserted with ids made elsewhere: the
    simulation), so that :func:`_next_case_id` never hands them out again."""
    last: dict[str, int] = {}
    for case_id in case_ids:
        day, _, seq = str(case_id)[1:].partition("-")
        if len(day) == 8 and seq.isascii() and seq.isdigit():
            last[day] = max(last.get(day, 0), int(seq))
    con.executemany(
        "INSERT INTO case_id_counters (day, last) VALUES (?, ?) "
        "ON CONFLICT (day) DO UPDATE SET last = MAX(last, excluded.last)",
        sorted(last.items()),
    )


def _new_case_row(case: dict, location: dict, *, case_id: str, now: str) -> dict:
    """The columns (:data:`CASE_INSERT`) of a validated new case placed at ``location``."""
    row = {k: case.get(k) for k in CASE_COLUMNS}
    row.update({k: case.get(k) or v for k, v in CASE_DEFAULTS.items()})
    row.update(h3_cells(case["lon"], case["lat"]))
    row.update({k: location.get(k, "") for k in ("grid_code", "community_code", "township_code")})
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
    return row


#: 1 when a case is overdue at the time given as its one argument (open past its deadline, or
#: closed after it), else 0.
_OVERDUE = (
    "CASE WHEN (closed_at IS NULL AND deadline_at < ?) "
    "OR (closed_at IS NOT NULL AND closed_at > deadline_at) THEN 1 ELSE 0 END"
)


def _cube_keys(q: CubeQuery, units: tuple[str, ...], shift: str) -> tuple[list, list, list]:
    """The GROUP BY expressions of a cube query, their column names and their arguments."""
    unknown = set(units) - set(CUBE_UNITS) | set(q.by) - set(CUBE_BREAKDOWNS)
    if unknown or q.day not in (None, *CUBE_DAYS):
        raise StoreError(
            f"case cube: cannot group by {sorted(unknown) or q.day}; units are "
            f"{list(CUBE_UNITS)}, breakdowns {list(CUBE_BREAKDOWNS)}, days {list(CUBE_DAYS)}"
        )
    keys, names, args = list(units), list(units), []
    if q.day:
        keys.append(f"substr(datetime({q.day}, ?), 1, 10)")
        names.append("day")
        args.append(shift)
    return [*keys, *q.by], [*names, *q.by], args


def _stale(con: sqlite3.Connection, case_id: str, version: int, status: str) -> None:
    """Raise the ConflictError of an action decided on another version than ``version``:
    who made the case's last status change, and when."""
    last = con.execute(
        "SELECT actor, at FROM case_events WHERE case_id = ? AND action = '' "
        "ORDER BY event_id DESC LIMIT 1",
        (case_id,),
    ).fetchone()
    raise ConflictError(case_id, version=version, status=status, actor=last["actor"], at=last["at"])


def _transition(
    con: sqlite3.Connection,
    case_id: str,
    to_status: str,
    *,
    scope: Scope,
    actor: str,
    at: str,
    comment: str = "",
    expect: str | None = None,
    version: int | None = None,
    assignee: str = "",
) -> None:
    """One status change inside the caller's transaction (KeyError: no such case inside
    ``scope``; ConflictError when ``version`` is not the case's)."""
    cond, args = scope_sql(scope, "township_code", exact=True)
    row = con.execute(
        f"SELECT status, level, reported_at, version FROM cases WHERE case_id = ? AND {cond}",
        (case_id, *args),
    ).fetchone()
    if row is None:
        raise KeyError(case_id)
    status, level = row["status"], row["level"]
    if expect is not None and status != expect:
        raise TransitionError(f"case {case_id} is {status}, no longer {expect}")
    if version is not None and version != row["version"]:
        _stale(con, case_id, row["version"], status)
    if to_status not in TRANSITIONS[status]:
        allowed = sorted(TRANSITIONS[status]) or ["nothing: the case is closed"]
        raise TransitionError(
            f"case {case_id} is {status}; it cannot become {to_status} (allowed: {', '.join(allowed)})"
        )
    try:  # the last gate: no time out of range reaches the history (the API checked it first)
        at = clock.parse_checked(at)
    except ValueError as exc:
        raise ValidationError({"at": str(exc)}) from None
    if at < row["reported_at"]:
        raise ValidationError(
            {"at": f"case {case_id}: time {at} is before the report at {row['reported_at']}"}
        )
    new_level = next_level(level) if to_status == "escalated" else level
    con.execute(
        "UPDATE cases SET status = ?, level = ?, updated_at = ?, version = version + 1, "
        "assignee = CASE WHEN ? != '' THEN ? ELSE assignee END, "
        "closed_at = CASE WHEN ? = 'closed' THEN ? ELSE closed_at END WHERE case_id = ?",
        (to_status, new_level, clock.utc_now(), assignee, assignee, to_status, at, case_id),
    )
    con.execute(
        "INSERT INTO case_events (case_id, at, from_status, to_status, actor, comment, assignee) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (case_id, at, status, to_status, actor, comment, assignee),
    )
