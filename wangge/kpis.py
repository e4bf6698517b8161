"""The KPIs the application shows, from the one set of definitions in :mod:`geo.analytics.kpis`.

The wall, the drill-down, the case list and the API show case KPIs (reported, closed, closure
rate, on-time rate, open, open overdue, mean handling hours, escalated) that
:mod:`geo.analytics.kpis` defines once, in words and as conditions over a case's times. This
module renders those conditions as SQL (:func:`sql_condition`) and plans the case cube
(:func:`cube_queries`): per population (reported in the window, closed in the window, open now)
one GROUP BY over the cases, summing every measure by unit, local day and (for reports)
category. :meth:`wangge.store.Store.case_cube` runs the plan; :func:`cube_kpis` sums any set
of its rows and finishes with :func:`geo.analytics.kpis.kpi_values`, the step
:func:`geo.analytics.kpis.case_kpis` ends with too.

So every page has one implementation of each KPI: the wall asks for the cube of its scope
(summed by township for its ranking, by community for the map's open cases), the drill-down for
the county's cube (cached) and sums a unit's rows. SQL does the scanning, as before: measured
on a store of 209,075 cases (2-core VM shared with other work, CPU time, best of 7 calls in
each of 7 interleaved runs), the wall's case figures (KPIs, ranking, trend, open cases per
community) took 614 ms from one cube against 677 ms for the hand-written summary, ranking and
count queries they replace; the drill-down's cube 768 ms against 769 ms; a township's figures
from it 6.6 ms against 6.8 ms.

Figures that are not about cases are defined here too: :data:`PATROL_NORM` (patrol
compliance), :func:`patrol_compliance`, :data:`ON_DUTY` (workers on duty).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from geo.analytics.kpis import (
    KPIS,
    MEASURES,
    PARAMETERS,
    POPULATIONS,
    AllOf,
    AnyOf,
    Compare,
    Condition,
    Empty,
    Flag,
    Hours,
    kpi_values,
)

__all__ = [
    "DAY_KPIS",
    "KPIS",
    "MEASURES",
    "ON_DUTY",
    "PATROL_NORM",
    "POPULATIONS",
    "SQL_FIELDS",
    "UNIT_COLUMNS",
    "CubeQuery",
    "PatrolNorm",
    "SqlCondition",
    "cube_kpis",
    "cube_queries",
    "patrol_compliance",
    "sql_condition",
]

#: How the store's columns express the case fields the definitions read (others: same name).
#: A case is escalated when it is handled above the grid level.
SQL_FIELDS = {"escalated": "level != 'grid'"}

#: The unit columns a case cube can be summed by.
UNIT_COLUMNS = ("township_code", "community_code", "grid_code")

#: Breakdowns of a population's rows beyond units and days (the wall's category chart).
BREAKDOWNS = {"reported": ("category",)}

#: Figures of the current local day: name -> (measure, words). A population's rows dated
#: today (local day of its dating time) summed.
DAY_KPIS = {
    "reported_today": ("reported", "今日上报: cases reported since local midnight"),
    "closed_today": ("closed", "今日结案: cases closed since local midnight"),
}


@dataclass(frozen=True)
class SqlCondition:
    """A condition as SQL over the ``cases`` table: its text, with ``?`` for the
    :data:`~geo.analytics.kpis.PARAMETERS` named in ``params``, in order."""

    sql: str
    params: tuple[str, ...] = ()

    def args(self, values: Mapping[str, str]) -> list[str]:
        """The arguments of :attr:`sql` from the parameters' ``values``."""
        return [values[p] for p in self.params]


def sql_condition(condition: Condition) -> SqlCondition:
    """``condition`` as SQL. SQL's NULL reads as false in it, as NaT does in numpy: the
    definitions use no NOT, so a comparison with an empty time never holds either way.

    >>> sql_condition(Compare("deadline_at", "<", "cutoff"))
    SqlCondition(sql='deadline_at < ?', params=('cutoff',))
    """
    if isinstance(condition, Compare):
        sides = [_side(condition.left), _side(condition.right)]
        params = tuple(s for s in (condition.left, condition.right) if s in PARAMETERS)
        return SqlCondition(f"{sides[0]} {condition.op} {sides[1]}", params)
    if isinstance(condition, Empty):
        return SqlCondition(f"{_field(condition.field)} IS NULL")
    if isinstance(condition, Flag):
        return SqlCondition(f"({_field(condition.field)})")
    parts = [sql_condition(t) for t in condition.terms]
    if not parts:
        return SqlCondition("1" if isinstance(condition, AllOf) else "0")
    joiner = " OR " if isinstance(condition, AnyOf) else " AND "
    sql = joiner.join(p.sql for p in parts)
    return SqlCondition(f"({sql})" if len(parts) > 1 else sql, sum((p.params for p in parts), ()))


def _field(name: str) -> str:
    if name in PARAMETERS:
        raise ValueError(f"{name!r} is a parameter, not a case field")
    return SQL_FIELDS.get(name, name)


def _side(name: str) -> str:
    return "?" if name in PARAMETERS else _field(name)


def _value_sql(value: Hours) -> str:
    return f"(julianday({_field(value.until)}) - julianday({_field(value.since)})) * 24"


@dataclass(frozen=True)
class CubeQuery:
    """One population's part of the case cube: the cases of :attr:`where` grouped by unit,
    local day of :attr:`day` (None: not dated) and :attr:`by`, with one SQL sum per measure."""

    population: str
    where: SqlCondition
    day: str | None
    by: tuple[str, ...]
    sums: tuple[tuple[str, SqlCondition], ...]


def cube_queries() -> tuple[CubeQuery, ...]:
    """The case cube's plan, from the definitions: one :class:`CubeQuery` per population of
    :data:`~geo.analytics.kpis.POPULATIONS`, summing each of its measures."""
    plan = []
    for name, population in POPULATIONS.items():
        sums = []
        for m in MEASURES.values():
            if m.population != name:
                continue
            cond = sql_condition(m.condition)
            if m.value is not None and cond.sql == "1":
                expr = f"TOTAL({_value_sql(m.value)})"
            elif m.value is not None:
                expr = f"TOTAL(CASE WHEN {cond.sql} THEN {_value_sql(m.value)} END)"
            elif cond.sql == "1":
                expr = "COUNT(*)"
            else:
                expr = f"SUM({cond.sql})"  # NULL (no case met it) reads as 0
            sums.append((m.name, SqlCondition(expr, cond.params)))
        plan.append(
            CubeQuery(
                name,
                sql_condition(population.condition),
                population.day,
                BREAKDOWNS.get(name, ()),
                tuple(sums),
            )
        )
    return tuple(plan)


def cube_kpis(parts: Mapping[str, pd.DataFrame], *, today: str | None = None) -> dict:
    """The :data:`~geo.analytics.kpis.KPIS` of the rows of a case cube (``parts``: one frame
    per population with a column per measure, ``day`` on dated ones), and the
    :data:`DAY_KPIS` of the local day ``today`` (``YYYY-MM-DD``) when given.

    Counts are ints, rates and hours floats (NaN when undefined).
    """
    sums = {m.name: parts[m.population][m.name].sum() for m in MEASURES.values()}
    values = kpi_values(sums)
    out = {
        name: int(value) if KPIS[name].denominator is None else float(value)
        for name, value in values.items()
    }
    if today is not None:
        for name, (measure, _words) in DAY_KPIS.items():
            frame = parts[MEASURES[measure].population]
            out[name] = int(frame.loc[frame["day"] == today, measure].sum())
    return out


@dataclass(frozen=True)
class PatrolNorm:
    """The patrol norm: a grid worker patrols at least ``sessions`` times a day for at least
    ``minutes`` minutes in all; a pause of over ``gap_minutes`` between two GPS fixes starts a
    new session."""

    sessions: int = 2
    minutes: float = 180.0
    gap_minutes: float = 30.0

    def met(self, sessions: int, minutes: float) -> bool:
        """Whether a day of ``sessions`` sessions and ``minutes`` minutes meets the norm."""
        return sessions >= self.sessions and minutes >= self.minutes


#: The county's patrol norm (:func:`geo.analytics.patrols.patrol_coverage`'s defaults).
PATROL_NORM = PatrolNorm()

#: A worker is on duty (在岗) with a GPS fix in the last this many minutes.
ON_DUTY = pd.Timedelta(minutes=30)


def patrol_compliance(
    workers: Iterable[str],
    day_stats: Mapping[str, tuple[int, float]],
    norm: PatrolNorm = PATROL_NORM,
) -> float:
    """巡查达标率: the share of ``workers`` whose day (``day_stats``: worker -> (sessions,
    minutes)) meets ``norm``; NaN without workers.

    >>> patrol_compliance(["a", "b"], {"a": (2, 200.0), "b": (1, 300.0)})
    0.5
    """
    workers = set(workers)
    if not workers:
        return float("nan")
    met = sum(1 for w in workers if w in day_stats and norm.met(*day_stats[w]))
    return met / len(workers)
