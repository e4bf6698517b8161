"""Figures the command-centre pages show, computed from the store with :mod:`geo`'s analytics.

Pages call these functions and only serialise what they return. Times shown to users are
China time (Asia/Shanghai); "today" starts at local midnight. Every function that reads
township data takes the principal's ``scope`` (:class:`wangge.access.Scope`) and passes it to
the store, which filters by it; none builds a township filter itself.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from wangge import clock, kpis
from wangge.access import OutOfScope, Scope
from wangge.casework import CATEGORIES
from wangge.store import Store

log = logging.getLogger(__name__)

__all__ = [
    "WINDOWS",
    "window_since",
    "CaseFigures",
    "WallData",
    "case_figures",
    "WALL_CASE_KPIS",
    "WALL_UNITS",
    "CaseCube",
    "case_cube",
    "child_sums",
    "cube_figures",
    "cube_grid_stats",
    "grid_table",
    "hot_grids",
    "prime_views",
    "resolve_unit",
    "wall_data",
    "wall_fingerprint",
]


#: Time windows offered by the pages: key -> local days back (None: all time).
WINDOWS = {"1d": 1, "7d": 7, "30d": 30, "90d": 90, "all": None}


def window_since(window: str | None, default: str = "30d") -> str | None:
    """UTC start (ISO string) of a time window of :data:`WINDOWS` counted in local days, so
    "1d" means since local midnight; None for all time."""
    days = WINDOWS.get(window or default, WINDOWS[default])
    if days is None:
        return None
    since = pd.Timestamp.now(tz=clock.COUNTY_TZ).normalize() - pd.Timedelta(days=days - 1)
    return clock.stamp(since)


def wall_fingerprint(store: Store, *, scope: Scope, now: pd.Timestamp | None = None) -> str:
    """Changes whenever anything the wall shows inside ``scope`` changes: cases, their events,
    cameras, patrol fixes, and every 5 minutes of the clock (cases become overdue as time
    passes)."""
    now = now or pd.Timestamp.now(tz="UTC")
    return f"{store.activity_fingerprint(scope=scope)}|{now.floor('5min').isoformat()}"


@dataclass(frozen=True)
class CaseFigures:
    """A set of units' case figures: ``kpis`` (:func:`wangge.kpis.cube_kpis`), the window's
    reports per category and the reports and closures per local day."""

    kpis: dict
    categories: pd.DataFrame
    trend: pd.DataFrame


def case_figures(
    store: Store,
    *,
    scope: Scope,
    filters: dict | None = None,
    now: pd.Timestamp,
    days: int = 30,
) -> CaseFigures:
    """KPIs, category counts and the daily trend of the cases matching ``filters`` over the last
    ``days`` local days, as of ``now``: :func:`cube_figures` of their :func:`case_cube`.

    KPIs: :data:`geo.analytics.kpis.KPIS` with the window's first local day as ``start`` and
    ``now`` as the cut-off (reported, closed, closed on time, on-time rate, closure rate, open,
    open overdue, mean handling hours, escalated) and :data:`wangge.kpis.DAY_KPIS`
    (``reported_today``, ``closed_today``: since local midnight).
    """
    return cube_figures(
        case_cube(store, scope=scope, now=now, days=days, filters=filters, units=())
    )


def _window(now: pd.Timestamp, days: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    today = now.tz_convert(clock.COUNTY_TZ).normalize()
    return today, today - pd.Timedelta(days=days - 1)


@dataclass(frozen=True)
class CaseCube:
    """The KPI measures (:data:`geo.analytics.kpis.MEASURES`) of a window of ``days`` local days
    as of ``now``, summed by unit (some of township, community and grid code), local day and
    category (:meth:`Store.case_cube`): ``parts`` holds one frame per population (``reported``,
    ``closed``, ``open``). Any set of units' figures are sums over its rows, so a drill-down
    costs no scan of the cases."""

    now: pd.Timestamp
    days: int
    parts: dict[str, pd.DataFrame]
    #: Each part's rows grouped by a unit column, built on first use (:func:`unit_rows`).
    groups: dict = field(default_factory=dict, compare=False, repr=False)


def case_cube(
    store: Store,
    *,
    scope: Scope,
    now: pd.Timestamp,
    days: int = 30,
    filters: dict | None = None,
    units: tuple[str, ...] | dict[str, tuple[str, ...]] = kpis.UNIT_COLUMNS,
) -> CaseCube:
    """The :class:`CaseCube` of the cases inside ``scope`` matching ``filters`` over the last ``days`` local days
    as of ``now``, summed by ``units`` (for every population, or per population)."""
    today, window = _window(now, days)
    parts = store.case_cube(
        kpis.cube_queries(),
        scope=scope,
        start=clock.stamp(window),
        cutoff=clock.stamp(now),
        units=units,
        filters=filters,
        utc_offset_hours=int(today.utcoffset().total_seconds() // 3600),
    )
    return CaseCube(now.tz_convert("UTC"), days, parts)


def _rows(frame: pd.DataFrame, filters: dict) -> pd.DataFrame:
    for col, value in filters.items():
        frame = frame[frame[col] == value]
    return frame


def unit_rows(cube: CaseCube, part: str, filters: dict) -> pd.DataFrame:
    """The rows of ``cube``'s population ``part`` that ``filters`` select. One unit column
    (township, community or grid code) is looked up in the part's rows grouped by that column,
    built once per cube: a drill-down then costs a dictionary look-up, not a scan of the cube's
    tens of thousands of rows with string comparisons (60-80 ms per unit on the demo county's
    200,000 cases, measured with cProfile)."""
    frame = cube.parts[part]
    if len(filters) != 1 or next(iter(filters)) not in frame.columns:
        return _rows(frame, filters)
    ((col, value),) = filters.items()
    groups = cube.groups.get((part, col))
    if groups is None:
        groups = {k: g for k, g in frame.groupby(col, sort=False, observed=True)}
        cube.groups[(part, col)] = groups
    return groups.get(value, frame.iloc[0:0])


def cube_figures(cube: CaseCube, filters: dict | None = None) -> CaseFigures:
    """The figures of :func:`case_figures` of the units that ``filters`` select
    (``township_code``, ``community_code`` or ``grid_code``; none: every row), summed from
    ``cube``."""
    today, window = _window(cube.now, cube.days)
    parts = {name: unit_rows(cube, name, filters or {}) for name in cube.parts}
    reported, closed = parts["reported"], parts["closed"]
    figures = kpis.cube_kpis(parts, today=today.strftime("%Y-%m-%d"))
    by_category = reported.groupby("category")["reported"].sum()
    categories = pd.DataFrame(
        {"category": list(CATEGORIES), "cases": [int(by_category.get(c, 0)) for c in CATEGORIES]}
    )
    days_index = pd.date_range(window, today, freq="D", tz=clock.COUNTY_TZ)
    keys = days_index.strftime("%Y-%m-%d")
    trend = pd.DataFrame(
        {
            "day": days_index,
            "reported": reported.groupby("day")["reported"]
            .sum()
            .reindex(keys, fill_value=0)
            .to_numpy(),
            "closed": closed.groupby("day")["closed"].sum().reindex(keys, fill_value=0).to_numpy(),
        }
    )
    return CaseFigures(figures, categories, trend)


def _unit_sums(
    cube: CaseCube,
    unit: str,
    prefix: str = "",
    measures: tuple[str, ...] = ("reported", "open", "open_overdue"),
) -> pd.DataFrame:
    """Per unit of column ``unit`` (codes starting with ``prefix``, none empty): ``measures``
    of :data:`geo.analytics.kpis.MEASURES` summed over the cube's rows."""
    frames = []
    for part, frame in cube.parts.items():
        cols = [m for m in measures if kpis.MEASURES[m].population == part]
        if cols:
            f = frame[frame[unit].str.startswith(prefix) & (frame[unit] != "")]
            frames.append(f.groupby(unit)[cols].sum())
    return pd.concat(frames, axis=1).fillna(0).astype(int)


def cube_grid_stats(cube: CaseCube, prefix: str = "") -> dict[str, tuple[int, int, int]]:
    """Per grid (codes starting with ``prefix``): (the window's reports, open, open overdue), as
    :meth:`Store.grid_case_stats` gives them."""
    sums = _unit_sums(cube, "grid_code", prefix).sort_index()
    return {r.Index: (int(r.reported), int(r.open), int(r.open_overdue)) for r in sums.itertuples()}


@dataclass(frozen=True)
class WallData:
    kpis: dict
    #: the units ranked (:func:`_unit_ranking`): townships county-wide, a township's communities
    ranking: pd.DataFrame
    categories: pd.DataFrame
    trend: pd.DataFrame
    newest: pd.DataFrame
    overdue: pd.DataFrame
    recent_points: pd.DataFrame
    open_by_community: dict[str, int]
    #: the level of the units in :attr:`ranking`: ``township`` or ``community``
    ranking_level: str = "township"


def _local(ts: pd.Series) -> pd.Series:
    return ts.dt.tz_convert(clock.COUNTY_TZ)


def wall_data(
    store: Store,
    *,
    scope: Scope,
    now: pd.Timestamp | None = None,
    days: int = 30,
) -> WallData:
    """Everything the wall display shows of ``scope``, as of ``now`` (default: the current
    time).

    The case figures, the ranking (of the townships county-wide, of its communities for one
    township) and the open cases per community all come from one :func:`case_cube` of the scope
    (by township and community), so they are the KPIs of :mod:`wangge.kpis` and agree with the
    drill-down's.
    """
    now = (now or pd.Timestamp.now(tz="UTC")).tz_convert("UTC")
    filters: dict = {}
    cube = case_cube(store, scope=scope, now=now, days=days, filters=filters, units=WALL_UNITS)
    figures = cube_figures(cube)
    newest, overdue, recent_points = _case_lists(store, scope, filters, now)
    open_by_community = _unit_sums(cube, "community_code", measures=("open",))["open"]
    level = "township" if scope.county_wide else "community"
    return WallData(
        _wall_kpis(store, figures.kpis, now=now, scope=scope),
        _unit_ranking(store, cube, scope, level),
        figures.categories,
        figures.trend,
        newest,
        overdue,
        recent_points,
        {c: int(n) for c, n in open_by_community.items() if n},
        level,
    )


#: The units the wall's case cube sums each population by: townships (county-wide) or
#: communities (one township's wall) for the ranking, communities for the map's open cases.
WALL_UNITS = {
    "reported": ("township_code", "community_code"),
    "closed": (),
    "open": ("township_code", "community_code"),
}

#: The wall's case KPIs (:mod:`wangge.kpis`), in the order of its tiles.
WALL_CASE_KPIS = (
    "reported_today",
    "closed_today",
    "closure_rate",
    "on_time_rate",
    "open_overdue",
    "mean_handling_hours",
)


def _wall_kpis(store: Store, case_kpis: dict, *, now: pd.Timestamp, scope: Scope) -> dict:
    """The wall's tiles: its case KPIs, cameras online, patrol compliance, workers on duty."""
    cams = store.cameras(scope=scope)
    on_duty, compliance = _patrol_figures(store, now=now, scope=scope)
    return {
        **{k: case_kpis[k] for k in WALL_CASE_KPIS},
        "cameras_online": int((cams["status"] == "online").sum()) if len(cams) else 0,
        "cameras_total": len(cams),
        "patrol_compliance": compliance,
        "workers_on_duty": on_duty,
    }


def _unit_ranking(store: Store, cube: CaseCube, scope: Scope, level: str) -> pd.DataFrame:
    """Per unit of ``level`` (``township`` or ``community``) of ``cube``: its ``code``, ``name``,
    the window's reports, open and open overdue cases, the most overdue first. Every unit of
    the level inside ``scope`` is listed, those without cases too."""
    sums = _unit_sums(cube, f"{level}_code").rename(columns={"open_overdue": "overdue"})
    units = store.admin_units(level, scope=scope)
    codes = sorted(set(units["code"]) | set(sums.index))
    sums = sums.reindex(codes, fill_value=0).rename_axis("code")
    ranking = sums.reset_index()[["code", "reported", "open", "overdue"]]
    names = dict(zip(units["code"], units["name"], strict=True))
    ranking["name"] = ranking["code"].map(names).fillna(ranking["code"])
    return ranking.sort_values(["overdue", "open", "code"], ascending=[False, False, True])


_CASE_COLUMNS = [
    "case_id",
    "category",
    "status",
    "level",
    "township_code",
    "community_code",
    "grid_code",
    "reported_at",
    "deadline_at",
    "lon",
    "lat",
]


def _case_lists(
    store: Store, scope: Scope, filters: dict, now: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The wall's newest cases, the most overdue open ones, and the map's points: the last
    24 hours' cases and the open overdue ones (flagged)."""
    cols = _CASE_COLUMNS
    newest = _frame(store.list_cases(scope=scope, filters=filters, limit=12)[0], cols)
    overdue_rows = store.list_cases(
        scope=scope,
        filters={**filters, "open": True, "overdue": True},
        now=clock.stamp(now),
        limit=500,
        order_by="deadline_at",
        descending=False,
    )[0]
    overdue = _frame(overdue_rows[:12], cols)
    recent = store.list_cases(
        scope=scope,
        filters={**filters, "since": clock.stamp(now - pd.Timedelta(hours=24))},
        limit=5000,
    )[0]
    overdue_ids = {r["case_id"] for r in overdue_rows}
    points = {r["case_id"]: r for r in [*recent, *overdue_rows]}.values()
    recent_points = pd.DataFrame(
        [
            {
                "case_id": r["case_id"],
                "category": r["category"],
                "status": r["status"],
                "lon": r["lon"],
                "lat": r["lat"],
                "overdue": r["case_id"] in overdue_ids,
            }
            for r in points
        ],
        columns=["case_id", "category", "status", "lon", "lat", "overdue"],
    )
    return newest, overdue, recent_points


def _frame(rows: list[dict], cols: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=cols)
    for c in ("reported_at", "deadline_at"):
        frame[c] = pd.to_datetime(frame[c], utc=True, format="ISO8601")
    return frame


def _patrol_figures(store: Store, *, now: pd.Timestamp, scope: Scope) -> tuple[int, float]:
    """Workers inside ``scope`` on duty (a GPS fix within :data:`wangge.kpis.ON_DUTY`), and
    yesterday's patrol compliance (:func:`wangge.kpis.patrol_compliance`): both from SQL
    aggregates."""
    workers = store.workers(scope=scope)
    if workers.empty:
        return 0, float("nan")
    mine = set(workers["worker_id"])
    on_duty = len(store.workers_seen_since(clock.stamp(now - kpis.ON_DUTY), scope=scope) & mine)
    today = now.tz_convert(clock.COUNTY_TZ).normalize()
    stats = _yesterdays_patrols(store, scope, clock.stamp(today - pd.Timedelta(days=1)))
    return on_duty, kpis.patrol_compliance(mine, stats)


#: Yesterday's patrol sessions per (store, scope, day): the window query over a day of GPS
#: fixes is most of a wall refresh (0.6 of 0.8 s on the demo county, cProfile) and yesterday
#: hardly changes; a late fix shows within PATROL_STATS_TTL seconds.
PATROL_STATS_TTL = 300.0
_patrol_stats: dict[tuple, tuple[float, dict[str, tuple[int, float]]]] = {}


def _yesterdays_patrols(store: Store, scope: Scope, since: str) -> dict[str, tuple[int, float]]:
    """Patrol sessions per worker of ``scope`` on the county day starting at ``since``."""
    key = (id(store), scope, since)
    hit = _patrol_stats.get(key)
    if hit is not None and time.monotonic() - hit[0] < PATROL_STATS_TTL:
        return hit[1]
    until = clock.stamp(pd.Timestamp(since) + pd.Timedelta(days=1))
    stats = store.patrol_day_stats(
        scope=scope, since=since, until=until, gap_minutes=kpis.PATROL_NORM.gap_minutes
    )
    if len(_patrol_stats) > 512:
        _patrol_stats.clear()
    _patrol_stats[key] = (time.monotonic(), stats)
    return stats


LEVEL_ORDER = ("county", "township", "community", "grid")
#: Child level and the case/grid column that groups each level's children.
CHILD = {
    "county": ("township", "township_code"),
    "township": ("community", "community_code"),
    "community": ("grid", "grid_code"),
}


@dataclass(frozen=True)
class UnitView:
    level: str
    code: str
    name: str
    chain: list[tuple[str, str, str]]  # (level, code, name) from the county down to this unit
    figures: CaseFigures
    children: gpd.GeoDataFrame  # child units with their metrics (empty at grid level)
    grid: dict | None  # the grid card at grid level


def _unit_prefix(level: str, code: str) -> dict:
    """Case filters selecting one unit's cases."""
    col = {"township": "township_code", "community": "community_code", "grid": "grid_code"}.get(
        level
    )
    return {col: code} if col else {}


def resolve_unit(
    level: object,
    code: object,
    *,
    scope: Scope,
    units: pd.DataFrame,
    grids: pd.DataFrame,
) -> tuple[str, str]:
    """The (level, code) the drill-down shows for a requested ``level`` and ``code``.

    ``units`` and ``grids`` are the admin units and published grids inside ``scope`` (as the
    store returns them for it). A unit that is unknown, outside the scope, at another level than
    the one asked for, or malformed gives the scope's own root: the county county-wide, the
    township for a township principal; never anything wider. OutOfScope for an empty scope.
    """
    if scope.empty:
        raise OutOfScope("the principal's scope is empty")
    if scope.county_wide:
        county = units.loc[units["level"] == "county", "code"]
        if county.empty:
            raise OutOfScope("the store holds no county")
        root = ("county", str(county.iloc[0]))
    else:
        root = ("township", str(scope.township))
        if not ((units["code"] == root[1]) & (units["level"] == "township")).any():
            raise OutOfScope(f"township {root[1]} is not in the store")
    if not isinstance(level, str) or level not in LEVEL_ORDER or level == "county":
        return root
    if not isinstance(code, str) or not code:
        return root
    if level == "grid":
        return ("grid", code) if (grids["grid_code"] == code).any() else root
    known = ((units["code"] == code) & (units["level"] == level)).any()
    return (level, code) if known else root


def unit_view(
    store: Store,
    analytics,
    level: str,
    code: str | None,
    *,
    scope: Scope,
    now: pd.Timestamp | None = None,
    days: int = 30,
) -> UnitView:
    """A unit of the hierarchy inside ``scope`` with its figures and its children's metrics.

    The requested unit is checked first (:func:`resolve_unit`): one outside ``scope``, unknown,
    at the wrong level or malformed gives the scope's root, never the county to a township
    principal.

    Children metrics: ``households``, ``cases`` (last ``days`` days), ``per100`` (cases per 100
    households), ``open``, ``overdue`` (open overdue), ``patrol`` (yesterday's street share
    walked, mean over grids), ``camera`` (street share in camera view, mean over grids) and
    ``gi`` (the highest Gi* bin among the unit's grids: hot spots).
    """
    units = store.admin_units(scope=scope)
    grids = store.grids(scope=scope)
    level, code = resolve_unit(level, code, scope=scope, units=units, grids=grids)
    # one pass over the cases for every unit (cached, refreshed in the background as cases
    # arrive), instead of a scan per unit and visit; the unit checked above selects its rows
    cube = analytics.case_cube(days=days, now=now)
    # per-grid metrics (one table for all units, rebuilt only when its inputs are recomputed)
    table = grid_table(store, analytics, cube)
    # a township leader's hot spots: Gi* over the township's own grids
    own = None if scope.county_wide else analytics.hotspots(scope=scope)
    inputs = (cube, table, own)
    # a unit's view is kept while its inputs are: a second visit costs nothing; the memo holds
    # its inputs, so their ids cannot be reused while it does
    key = f"{store.data_version()}|" + "|".join(str(id(x)) for x in inputs)
    # the children's metrics of every unit, aggregated once per grid table (county-wide
    # hot spots only: a township's own Gi* changes the grids' bins)
    sums = None if own is not None else _memo_sums(store, analytics, inputs)
    return analytics.memo(
        f"unit|{scope!r}|{level}|{code}|{days}",
        key,
        lambda: (_unit_view(store, level, code, scope, units, grids, inputs, sums), inputs),
    )[0]


def _memo_sums(store: Store, analytics, inputs: tuple) -> dict[str, pd.DataFrame]:
    """:func:`child_sums` of the grid table in ``inputs`` (cube, table, None), kept while
    they are."""
    key = f"{store.data_version()}|" + "|".join(str(id(x)) for x in inputs)
    return analytics.memo("unit-sums", key, lambda: (child_sums(inputs[1]), inputs))[0]


def prime_views(store: Store, analytics, cube: CaseCube) -> None:
    """Compute what every unit's view reads of a new ``cube`` before it is served: its rows
    grouped by township, community and grid (:func:`unit_rows`), the grid table and the
    children's sums. Called where the cube is computed (at start and in the background
    refresh), so the first drill-down after a refresh does not pay for them (95 + 76 + 37 ms
    on 208,953 cases, measured on a loaded machine)."""
    for part, frame in cube.parts.items():
        for col in kpis.UNIT_COLUMNS:
            if col in frame.columns:
                unit_rows(cube, part, {col: ""})
    table = grid_table(store, analytics, cube)
    _memo_sums(store, analytics, (cube, table, None))


def _unit_view(
    store: Store,
    level: str,
    code: str,
    scope: Scope,
    units: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    inputs: tuple,
    sums: dict[str, pd.DataFrame] | None = None,
) -> UnitView:
    """:func:`unit_view` of a checked unit from its ``inputs`` (cube, grid table, the scope's
    own hot spots or None) and, when given, the children's metrics of every unit
    (:func:`child_sums` of the grid table)."""
    cube, table, own = inputs
    chain = _chain(store, level, code, grids)
    name = chain[-1][2] if level != "grid" else f"{chain[-2][2]} {code[-3:]}"
    figures = cube_figures(cube, _unit_prefix(level, code))
    prefix = {"county": "", "township": code[:9], "community": code, "grid": code}[level]
    g = table[table["grid_code"].str.startswith(prefix)]
    if own is not None:
        g = g.drop(columns="gi_bin").merge(own[["grid_code", "gi_bin"]], on="grid_code", how="left")
    grid_card = None
    if level in CHILD:
        children = _children(level, code, g, units, grids, sums)
    else:
        children = gpd.GeoDataFrame(
            columns=["code", "name", "geometry"], geometry="geometry", crs="EPSG:4326"
        )
        row = g[g["grid_code"] == code].iloc[0]
        grid_card = _grid_card(store, row, code, scope)
    return UnitView(
        level, code, name, chain, figures, gpd.GeoDataFrame(children, crs="EPSG:4326"), grid_card
    )


def _chain(store: Store, level: str, code: str, grids: gpd.GeoDataFrame) -> list:
    """(level, code, name) from the county down to the unit: the breadcrumbs."""
    by_code = store.admin_units(scope=Scope.county()).set_index("code")
    chain: list[tuple[str, str, str]] = []
    cur = code
    if level == "grid":
        chain.append(("grid", code, code[-3:]))
        cur = grids.set_index("grid_code").loc[code, "community_code"]
    while cur is not None and cur in by_code.index:
        row = by_code.loc[cur]
        chain.append((row["level"], cur, row["name"]))
        cur = row["parent_code"]
    chain.reverse()
    return chain


def _child_agg(g: pd.DataFrame, key: str) -> pd.DataFrame:
    """The metrics of the units of column ``key``, aggregated from their grids ``g``."""
    return g.groupby(key).agg(
        households=("households", "sum"),
        cases=("cases", "sum"),
        open=("open", "sum"),
        overdue=("overdue", "sum"),
        patrol=("patrol_street_share", "mean"),
        camera=("camera_street_share", "mean"),
        gi=("gi_bin", "max"),
    )


def child_sums(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per unit column (township, community, grid code): the metrics of every unit of that
    level aggregated from the grid ``table`` (:func:`grid_table`), computed once per table, so
    a first visit of a unit looks its children up instead of grouping its grids (the
    aggregation was 45 of a cold drill-down's 110 ms, cProfile of ``benchmarks/callbacks.py``).
    A unit's children lie inside it, so their rows are those of grouping its grids alone."""
    return {key: _child_agg(table, key) for _, key in CHILD.values()}


def _children(
    level: str,
    code: str,
    g: pd.DataFrame,
    units: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    sums: dict[str, pd.DataFrame] | None = None,
) -> gpd.GeoDataFrame:
    """The unit's children (outlines) with their metrics aggregated from its grids ``g``, or
    looked up in ``sums`` (:func:`child_sums`) when given."""
    child_level, key = CHILD[level]
    if sums is not None:
        agg = sums[key]
    else:
        if level != "county":
            g = g[g[_unit_key(level)] == code]
        agg = _child_agg(g, key)
    if child_level == "grid":
        geo_frame = grids[grids["community_code"] == code][["grid_code", "geometry"]].rename(
            columns={"grid_code": "code"}
        )
        geo_frame["name"] = geo_frame["code"].str[-3:]
    else:
        geo_frame = units[(units["level"] == child_level) & (units["parent_code"] == code)][
            ["code", "name", "geometry"]
        ]
    children = geo_frame.merge(agg, left_on="code", right_index=True, how="left")
    children["per100"] = np.where(
        children["households"] > 0,
        100 * children["cases"] / children["households"].clip(lower=1),
        np.nan,
    )
    return children.fillna({"households": 0, "cases": 0, "open": 0, "overdue": 0})


def grid_table(
    store: Store,
    analytics,
    cube: CaseCube,
    units: gpd.GeoDataFrame | None = None,
    grids: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Every published grid of the county with its township code, the window's cases, open and
    overdue cases (from ``cube``), yesterday's patrol coverage, camera coverage and Gi* bin.
    Memoised on the identity of its inputs (the analytics' cached results), so all units visited
    between two refreshes share one table; an analysis that fails leaves its columns empty.
    County-wide (the analytics' own scope): callers select the rows of a unit they checked
    against the principal's scope."""
    frames = []
    for name, compute in (
        ("patrol coverage", lambda: analytics.patrol_yesterday(cube.now)),
        ("camera coverage", analytics.camera_coverage),
        ("hot spots", lambda: analytics.hotspots(now=cube.now)),
    ):
        try:
            frames.append(compute())
        except Exception:  # one failed analysis must not blank the page: its columns stay empty
            log.exception("%s failed; shown as missing", name)
            frames.append(None)
    inputs = (cube, *frames)
    # the memo keeps its inputs alive, so their ids cannot be reused while it holds them
    key = f"{store.data_version()}|" + "|".join(str(id(x)) for x in inputs)

    def build():
        nonlocal units, grids
        units = store.admin_units(scope=Scope.county()) if units is None else units
        grids = store.grids(scope=Scope.county()) if grids is None else grids
        g = grids.drop(columns="geometry").copy()
        parent = dict(zip(units["code"], units["parent_code"], strict=True))
        g["township_code"] = g["community_code"].map(parent)
        stats = cube_grid_stats(cube)
        g["cases"] = [stats.get(c, (0, 0, 0))[0] for c in g["grid_code"]]
        g["open"] = [stats.get(c, (0, 0, 0))[1] for c in g["grid_code"]]
        g["overdue"] = [stats.get(c, (0, 0, 0))[2] for c in g["grid_code"]]
        for frame in frames:
            if frame is not None and len(frame):
                g = g.merge(
                    frame.drop(columns="cases", errors="ignore"), on="grid_code", how="left"
                )
        for col in ("patrol_street_share", "camera_street_share", "gi_bin"):
            if col not in g:
                g[col] = np.nan
        return g, inputs

    return analytics.memo("grid-table", key, build)[0]


def hot_grids(hot: pd.DataFrame, *, prefix: str = "", n: int = 10) -> pd.DataFrame:
    """The ``n`` hottest grids of ``hot`` (:meth:`AnalyticsService.hotspots`) whose codes start
    with ``prefix``: significant hot spots only (``gi_bin`` > 0), highest z-score first, ties
    by code."""
    rows = hot[hot["grid_code"].astype(str).str.startswith(prefix) & (hot["gi_bin"] > 0)]
    return rows.sort_values(["gi_z", "grid_code"], ascending=[False, True]).head(n)


def _unit_key(level: str) -> str:
    return {"township": "township_code", "community": "community_code"}[level]


def _grid_card(store: Store, row: pd.Series, code: str, scope: Scope) -> dict:
    from wangge.privacy import mask_phone

    workers = store.workers(scope=scope)
    mine = workers[workers["grid_code"] == code]
    worker = mine.iloc[0] if len(mine) else None
    return {
        "households": int(row["households"]),
        "buildings": int(row["buildings"]),
        "kind": row["kind"],
        "flags": row["flags"],
        "worker": worker["name"] if worker is not None else "",
        "worker_phone": mask_phone(worker["phone"]) if worker is not None else "",
        "patrol_street_share": _num(row.get("patrol_street_share")),
        "patrol_minutes": _num(row.get("patrol_minutes")),
        "patrol_sessions": _num(row.get("patrol_sessions")),
        "patrol_compliant": bool(row.get("patrol_compliant"))
        if pd.notna(row.get("patrol_compliant"))
        else None,
        "camera_street_share": _num(row.get("camera_street_share")),
        "camera_open_share": _num(row.get("camera_open_share")),
        "gi_bin": _num(row.get("gi_bin")),
        "open": int(row["open"]),
        "overdue": int(row["overdue"]),
    }


def _num(value) -> float:
    return float(value) if value is not None and pd.notna(value) else float("nan")
