"""Filters of cases as SQL: the one place where a query's ``filters`` and ``scope`` become a
WHERE clause (:func:`case_filters`), including the desk's views (:data:`VIEWS`) and search.

Split from :mod:`wangge.store.cases` to keep modules under 800 lines; every case query of the
store builds its WHERE here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from wangge import clock, kpis
from wangge.access import Scope
from wangge.store.errors import StoreError
from wangge.store.scoping import scope_sql
from wangge.validation import VIEW_CODES

__all__ = ["VIEWS", "CaseFilter", "case_filters"]

#: The desk's views of cases (``filters["view"]``), judged at the query's time ``now``, with
#: the KPI definitions (:mod:`wangge.kpis`) where the wall shows the same figure: ``open``
#: (在办, the wall's population of open cases), ``open_overdue`` (超期未结: open and past the
#: deadline, never a case closed late), ``today`` (今日上报: reported since local midnight) and
#: ``urgent`` (urgent cases still open).
VIEWS = VIEW_CODES


@dataclass(frozen=True)
class CaseFilter:
    """A filter of cases as SQL: its terms (joined by AND) and their arguments, in order."""

    terms: tuple[str, ...]
    args: tuple

    @property
    def where(self) -> str:
        """`` WHERE t1 AND t2 ...``, or nothing when no term filters."""
        return (" WHERE " + " AND ".join(self.terms)) if self.terms else ""

    @property
    def and_where(self) -> str:
        """`` AND t1 AND t2 ...`` to follow a query's own condition, or nothing."""
        return (" AND " + " AND ".join(self.terms)) if self.terms else ""


def case_filters(
    filters: dict,
    now: str,
    *,
    scope: Scope,
    open_only: bool = False,
    bbox: tuple[float, float, float, float] | None = None,
) -> CaseFilter:
    """The one place where a query's ``filters`` and ``scope`` become SQL.

    Filters: ``status`` (one, or a list of any of them), ``category``, ``level``,
    ``township_code``, ``community_code``, ``grid_code``, ``source``, ``urgency`` (exact),
    ``view`` (one of :data:`VIEWS`), ``q`` (search: a case number, or words in the title,
    description or address, or the start of a grid code), ``since``/``until`` (reported_at bounds, UTC strings),
    ``open`` (True: open cases only), ``overdue`` (True/False, judged at ``now``).
    ``open_only`` keeps open cases; ``bbox`` (minx, miny, maxx, maxy) keeps cases inside it.
    ``scope`` keeps the cases of its township (nothing of an empty scope); filters only narrow
    it, never widen it.

    >>> f = case_filters({"category": "safety"}, "2026-11-22T00:00:00Z", scope=Scope.nothing())
    >>> f.where, f.args
    (' WHERE 0 AND category = ?', ('safety',))
    >>> f = case_filters({}, "2026-11-22T00:00:00Z", scope=Scope.of_township("420999001000"))
    >>> f.where, f.args
    (' WHERE township_code = ?', ('420999001000',))
    """
    where: list[str] = []
    args: list = []
    cond, scope_args = scope_sql(scope, "township_code", exact=True)
    if cond != "1":
        where.append(cond)
        args.extend(scope_args)
    for field in (
        "category",
        "level",
        "township_code",
        "community_code",
        "grid_code",
        "source",
        "urgency",
    ):
        value = filters.get(field)
        if value:
            where.append(f"{field} = ?")
            args.append(value)
    status = filters.get("status")
    if isinstance(status, list | tuple | set | frozenset):
        where.append(f"status IN ({', '.join('?' * len(status))})" if status else "0")
        args.extend(sorted(status))
    elif status:
        where.append("status = ?")
        args.append(status)
    if filters.get("view"):
        term, term_args = _view_sql(filters["view"], now)
        where.append(term)
        args.extend(term_args)
    if filters.get("q"):
        term, term_args = _search_sql(str(filters["q"]))
        where.append(term)
        args.extend(term_args)
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
    if open_only:
        where.append("closed_at IS NULL")
    if bbox is not None:
        where.append("lon >= ? AND lat >= ? AND lon <= ? AND lat <= ?")
        args.extend(bbox)
    return CaseFilter(tuple(where), tuple(args))


def _view_sql(view: str, now: str) -> tuple[str, list]:
    """The SQL of a desk view at ``now`` (the open ones from the KPI definitions)."""
    cutoff = {"cutoff": now}
    open_now = kpis.sql_condition(kpis.POPULATIONS["open"].condition)
    # the same condition; the unary + keeps SQLite off the reported_at index (every case is
    # reported before now: a scan of 200,000 rows, 773 ms) and on cases_open_deadline
    # (closed_at, deadline_at): 0.3 ms for the open-overdue count of 209,716 cases
    open_now = kpis.SqlCondition(
        open_now.sql.replace("reported_at <=", "+reported_at <=", 1), open_now.params
    )
    if view == "open":
        return open_now.sql, open_now.args(cutoff)
    if view == "open_overdue":
        late = kpis.sql_condition(kpis.MEASURES["open_overdue"].condition)
        return f"{open_now.sql} AND {late.sql}", [*open_now.args(cutoff), *late.args(cutoff)]
    if view == "today":
        midnight = (
            clock.parse_stamp(now)
            .astimezone(ZoneInfo(clock.COUNTY_TZ))
            .replace(hour=0, minute=0, second=0, microsecond=0)
        )
        return "reported_at >= ? AND reported_at <= ?", [clock.stamp(midnight), now]
    if view == "urgent":  # not closed: the partial index of open urgent cases
        return "urgency = 'urgent' AND closed_at IS NULL", []
    raise StoreError(f"unknown view {view!r}; expected one of {list(VIEWS)}")


def _search_sql(text: str) -> tuple[str, list]:
    """Cases a desk search of ``text`` finds. A case number (``C`` and digits, or its start)
    or a code (digits) is looked up in the indexes of case ids and grid codes; other text in
    the title, description or address (a scan of the cases in the other filters)."""
    q = text.strip()[:100]
    prefix = [q, q + "\uffff"]
    if re.fullmatch(r"[Cc]\d[\d-]*", q):
        return "case_id >= ? AND case_id < ?", [q.upper(), q.upper() + "\uffff"]
    if q.isdigit():
        return "grid_code >= ? AND grid_code < ?", prefix
    return (
        "(instr(title, ?) > 0 OR instr(address, ?) > 0 OR instr(description, ?) > 0)",
        [q, q, q],
    )
