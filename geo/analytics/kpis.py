"""Case KPIs per administrative unit and period, as digital city management reports them.

The conventions follow GB/T 30428 (数字化城市管理信息系统) as county command centres use them:
a case is reported (上报/立案), handled, then closed (结案) by its deadline (处置时限) or late.

Every KPI is defined here once, declaratively, in words and in code: :data:`POPULATIONS` (the
cases a figure counts among: reported in the period, closed in the period, open at the cut-off),
:data:`MEASURES` (additive counts and sums over a population, so units and days add up) and
:data:`KPIS` (a measure, or the ratio of two). :func:`case_kpis` evaluates the definitions over a
frame of cases with numpy; an application can render the same conditions as SQL (their terms
compare case fields and the two parameters ``start`` and ``cutoff``) and finish with
:func:`kpi_values`, so a figure computed in a database and in pandas is the same figure.

A period runs from ``start`` to the cut-off, both included: the cut-off is the reporting
instant (now) in the current period, and the last instant before the period's end in a past one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.validate import missing_columns

__all__ = [
    "ALWAYS",
    "KPIS",
    "KPI_LEVELS",
    "MEASURES",
    "OPEN_AT_CUTOFF",
    "PARAMETERS",
    "POPULATIONS",
    "AllOf",
    "AnyOf",
    "Compare",
    "Condition",
    "Empty",
    "Flag",
    "Hours",
    "Kpi",
    "Measure",
    "Population",
    "case_kpis",
    "evaluate",
    "kpi_values",
]

log = logging.getLogger(__name__)

#: Unit levels and the case column naming each unit (``None``: the whole county).
KPI_LEVELS = {
    "grid": "grid_code",
    "community": "community_code",
    "township": "township_code",
    "county": None,
}

_TIMES = ("reported_at", "closed_at", "deadline_at")


# --- the definitions ----------------------------------------------------------------------
#
# A condition is a small expression over one case: comparisons of its times with each other
# or with the parameters ``start`` and ``cutoff``, an empty time, a boolean field, and AND/OR
# of those (no NOT, so that SQL's NULL and numpy's NaT both read as false: a comparison with
# an empty time never holds).

#: The parameters a condition may compare with: the period's first instant and its cut-off.
PARAMETERS = ("start", "cutoff")


@dataclass(frozen=True)
class Compare:
    """``left op right``: case fields or :data:`PARAMETERS`; false when either is empty."""

    left: str
    op: str  # one of "<", "<=", ">", ">="
    right: str


@dataclass(frozen=True)
class Empty:
    """The case field is empty (a case still open has no ``closed_at``)."""

    field: str


@dataclass(frozen=True)
class Flag:
    """A boolean case field is true."""

    field: str


@dataclass(frozen=True)
class AllOf:
    """Every term holds (no term: always true)."""

    terms: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class AnyOf:
    """At least one term holds."""

    terms: tuple[Condition, ...]


@dataclass(frozen=True)
class Hours:
    """A value summed by a measure: ``until - since`` in hours."""

    since: str
    until: str


Condition = Compare | Empty | Flag | AllOf | AnyOf

#: Always true.
ALWAYS = AllOf()

#: Open at the cut-off: reported by then and not closed by then.
OPEN_AT_CUTOFF = AllOf(
    (
        Compare("reported_at", "<=", "cutoff"),
        AnyOf((Empty("closed_at"), Compare("closed_at", ">", "cutoff"))),
    )
)


@dataclass(frozen=True)
class Population:
    """The cases a measure counts among; ``day`` is the time that dates them (None: a state
    at the cut-off, not dated)."""

    name: str
    condition: Condition
    day: str | None
    words: str


def _in_period(field: str) -> Condition:
    return AllOf((Compare(field, ">=", "start"), Compare(field, "<=", "cutoff")))


#: The populations, by name.
POPULATIONS = {
    p.name: p
    for p in (
        Population("reported", _in_period("reported_at"), "reported_at", "reported in the period"),
        Population("closed", _in_period("closed_at"), "closed_at", "closed in the period"),
        Population("open", OPEN_AT_CUTOFF, None, "open at the cut-off"),
    )
}


@dataclass(frozen=True)
class Measure:
    """An additive figure: the cases of ``population`` meeting ``condition``, counted, or
    ``value`` summed over them. Sums over units or days give the measure of their union."""

    name: str
    population: str
    condition: Condition
    words: str
    value: Hours | None = None


#: The measures, by name.
MEASURES = {
    m.name: m
    for m in (
        Measure("reported", "reported", ALWAYS, "上报数: cases reported in the period"),
        Measure(
            "reported_closed",
            "reported",
            Compare("closed_at", "<=", "cutoff"),
            "cases reported in the period and closed by the cut-off",
        ),
        Measure(
            "escalated",
            "reported",
            Flag("escalated"),
            "上报升级数: cases reported in the period that were escalated (handled above the "
            "grid level)",
        ),
        Measure(
            "closed", "closed", ALWAYS, "结案数: cases closed in the period, whenever reported"
        ),
        Measure(
            "closed_on_time",
            "closed",
            Compare("closed_at", "<=", "deadline_at"),
            "按期结案数: cases closed in the period by their deadline",
        ),
        Measure(
            "handling_hours",
            "closed",
            ALWAYS,
            "hours from report to closure, summed over the cases closed in the period",
            value=Hours("reported_at", "closed_at"),
        ),
        Measure("open", "open", ALWAYS, "在办数: cases open at the cut-off"),
        Measure(
            "open_overdue",
            "open",
            Compare("deadline_at", "<", "cutoff"),
            "超期未结数: cases open at the cut-off whose deadline has passed",
        ),
    )
}


@dataclass(frozen=True)
class Kpi:
    """A KPI: a measure, or the ratio ``numerator / denominator`` of two (NaN when the
    denominator is 0)."""

    name: str
    numerator: str
    words: str
    denominator: str | None = None


#: The KPIs, by name, in the order :func:`case_kpis` returns them.
KPIS = {
    k.name: k
    for k in (
        Kpi("reported", "reported", MEASURES["reported"].words),
        Kpi("closed", "closed", MEASURES["closed"].words),
        Kpi("closed_on_time", "closed_on_time", MEASURES["closed_on_time"].words),
        Kpi(
            "on_time_rate",
            "closed_on_time",
            "按期结案率: closed_on_time / closed; NaN when nothing was closed",
            denominator="closed",
        ),
        Kpi(
            "closure_rate",
            "reported_closed",
            "结案率: of the cases reported in the period, the share closed by the cut-off (a "
            "cohort rate, never above 1); NaN when nothing was reported",
            denominator="reported",
        ),
        Kpi("open", "open", MEASURES["open"].words),
        Kpi("open_overdue", "open_overdue", MEASURES["open_overdue"].words),
        Kpi(
            "mean_handling_hours",
            "handling_hours",
            "平均处置时长: mean hours from report to closure over the cases closed in the "
            "period; NaN when none",
            denominator="closed",
        ),
        Kpi("escalated", "escalated", MEASURES["escalated"].words),
    )
}


def kpi_values(sums: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`KPIS` from the sums of the :data:`MEASURES` (numbers, or arrays of one
    value per unit): counts stay counts, ratios are NaN where the denominator is 0.

    >>> kpi_values({"reported": 4, "reported_closed": 3, "closed": 0})["closure_rate"]
    0.75
    """
    out: dict[str, Any] = {}
    for kpi in KPIS.values():
        num = sums.get(kpi.numerator, 0)
        if kpi.denominator is None:
            out[kpi.name] = num
            continue
        den = sums.get(kpi.denominator, 0)
        if np.ndim(num) == 0 and np.ndim(den) == 0:
            out[kpi.name] = float(num) / float(den) if den else float("nan")
        else:
            num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
            out[kpi.name] = np.divide(
                num, den, out=np.full(np.broadcast(num, den).shape, np.nan), where=den > 0
            )
    return out


def evaluate(
    condition: Condition,
    fields: Mapping[str, np.ndarray],
    params: Mapping[str, np.datetime64],
    n: int,
) -> np.ndarray:
    """A condition over ``n`` cases: ``fields`` hold one array per case field (times as
    ``datetime64``, NaT when empty), ``params`` the values of :data:`PARAMETERS`."""

    def side(name: str):
        return params[name] if name in PARAMETERS else fields[name]

    if isinstance(condition, Compare):
        left, right = side(condition.left), side(condition.right)
        result = _OPERATORS[condition.op](left, right)
        return np.broadcast_to(result, (n,))
    if isinstance(condition, Empty):
        return np.isnat(fields[condition.field])
    if isinstance(condition, Flag):
        return fields[condition.field].astype(bool)
    terms = [evaluate(t, fields, params, n) for t in condition.terms]
    if isinstance(condition, AnyOf):
        return np.logical_or.reduce(terms) if terms else np.zeros(n, dtype=bool)
    return np.logical_and.reduce(terms) if terms else np.ones(n, dtype=bool)


_OPERATORS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


def _validate(cases: pd.DataFrame, level: str, exclude_status: tuple[str, ...]) -> list[str]:
    problems = []
    if level not in KPI_LEVELS:
        return [f"level must be one of {list(KPI_LEVELS)}, got {level!r}"]
    needed = ["case_id", *_TIMES, "escalated"]
    unit_col = KPI_LEVELS[level]
    if unit_col:
        needed.append(unit_col)
    if exclude_status:
        needed.append("status")
    missing = missing_columns(cases, needed)
    if missing:
        return [f"cases: missing columns {missing} (columns are {list(cases.columns)})"]
    ids = cases["case_id"]

    def listed(mask: pd.Series) -> str:
        bad = list(ids[mask.to_numpy()][:10])
        return f"{bad}{' ...' if int(mask.sum()) > 10 else ''} ({int(mask.sum())} cases)"

    tz = set()
    for col in _TIMES:
        s = cases[col]
        if not pd.api.types.is_datetime64_any_dtype(s):
            problems.append(f"cases: column {col!r} must hold datetimes, found {s.dtype}")
            continue
        tz.add(str(s.dt.tz))
    if len(tz) > 1:
        problems.append(f"cases: the time columns mix time zones {sorted(tz)}; convert them to one")
    if problems:
        return problems
    if ids.duplicated().any():
        problems.append(f"cases: case_id repeated: {listed(ids.duplicated())}")
    for col in ("reported_at", "deadline_at"):
        if cases[col].isna().any():
            problems.append(f"cases: {col} is empty for case_id {listed(cases[col].isna())}")
    early = cases["closed_at"] < cases["reported_at"]
    if early.any():
        problems.append(f"cases: closed_at before reported_at for case_id {listed(early)}")
    if not pd.api.types.is_bool_dtype(cases["escalated"]):
        problems.append(
            f"cases: column 'escalated' must be boolean, found {cases['escalated'].dtype}"
        )
    unit_col = KPI_LEVELS[level]
    if unit_col and cases[unit_col].isna().any():
        problems.append(f"cases: {unit_col} is empty for case_id {listed(cases[unit_col].isna())}")
    return problems


def case_kpis(
    cases: pd.DataFrame,
    *,
    level: str = "grid",
    freq: str = "M",
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
    now: pd.Timestamp | str | None = None,
    exclude_status: Iterable[str] = (),
) -> pd.DataFrame:
    """Case KPIs per unit (grid, community, township or county) and period.

    For a period [s, e) the cut-off c is the last instant before e, or now if earlier: figures
    for the current period are as of now. Per unit, the :data:`KPIS` (``reported``,
    ``closed``, ``closed_on_time``, ``on_time_rate``, ``closure_rate``, ``open``,
    ``open_overdue``, ``mean_handling_hours``, ``escalated``), each defined there in words and
    in code, with the parameters ``start`` = s and ``cutoff`` = c.

    Parameters
    ----------
    cases
        One row per case with columns ``case_id``, ``reported_at``, ``closed_at`` (NaT while
        open), ``deadline_at``, ``escalated`` (bool), the unit column of ``level``
        (``grid_code``, ``community_code`` or ``township_code``) and ``status`` when
        ``exclude_status`` is given. Times naive (local) or all in one time zone.
    level
        ``"grid"``, ``"community"``, ``"township"`` or ``"county"`` (all cases as one unit).
    freq
        Period length as a pandas period alias: ``"D"``, ``"W"`` (Monday to Sunday), ``"M"``,
        ``"Q"``, ``"Y"``.
    start, end
        First and last instants to cover (default: the earliest report, and ``now``).
    now
        The reporting instant (default: the current time in the data's time zone); periods
        starting after it are left out.
    exclude_status
        Status values to leave out entirely (e.g. cases voided as invalid reports).

    Returns
    -------
    pandas.DataFrame
        One row per unit and period (every unit present in ``cases`` crossed with every
        period), columns: the unit column (``county`` holds ``"county"`` at that level),
        ``period``, ``period_start``, ``period_end`` and the KPIs above.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.Timestamp
    >>> cases = pd.DataFrame({
    ...     "case_id": [1, 2], "grid_code": "G1", "escalated": [False, True],
    ...     "reported_at": [t("2026-05-04 09:00"), t("2026-05-05 09:00")],
    ...     "closed_at": [t("2026-05-04 15:00"), pd.NaT],
    ...     "deadline_at": [t("2026-05-05 09:00"), t("2026-05-06 09:00")]})
    >>> k = case_kpis(cases, freq="W", now=t("2026-05-08"))
    >>> print(k[["reported", "closed", "on_time_rate", "open_overdue"]].to_string(index=False))
     reported  closed  on_time_rate  open_overdue
            2       1           1.0             1
    """
    exclude = tuple(exclude_status)
    problems = _validate(cases, level, exclude)
    if problems:
        raise InputError("; ".join(problems))
    frame = cases[~cases["status"].isin(exclude)] if exclude else cases
    tz = frame["reported_at"].dt.tz
    periods, now_ts = _periods(frame, tz, freq=freq, start=start, end=end, now=now)
    unit_col = KPI_LEVELS[level]
    if unit_col:
        units, unit_code = np.unique(frame[unit_col].to_numpy(), return_inverse=True)
        name = unit_col
    else:
        units, unit_code = np.array(["county"], dtype=object), np.zeros(len(frame), dtype=int)
        name = "county"
    fields = _fields(frame, tz)
    now64 = _utc64(now_ts, tz)
    rows = []
    for p in periods:
        start64, end64 = _utc64(p.start_time, tz), _utc64((p + 1).start_time, tz)
        cutoff = min(end64 - np.timedelta64(1, "ns"), now64)
        sums = _measure_sums(fields, {"start": start64, "cutoff": cutoff}, unit_code, len(units))
        rows.append(
            pd.DataFrame(
                {
                    name: units,
                    "period": p,
                    "period_start": p.start_time,
                    "period_end": (p + 1).start_time,
                    **kpi_values(sums),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    log.debug("case_kpis: %d cases, %d units x %d periods", len(frame), len(units), len(periods))
    return out


def _stamp(value: pd.Timestamp | str | None, what: str, tz) -> pd.Timestamp | None:
    """``value`` as a timestamp, with a time zone exactly when the case times have one."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if (ts.tz is None) != (tz is None):
        raise InputError(
            f"{what}={value!r} and the case times must both have a time zone or both not"
        )
    return ts


def _periods(
    frame: pd.DataFrame, tz, *, freq: str, start, end, now
) -> tuple[pd.PeriodIndex, pd.Timestamp]:
    """The periods from ``start`` (default: the first report) to ``min(end, now)``, and now."""
    now_ts = _stamp(now, "now", tz) or pd.Timestamp.now(tz=tz)
    if tz is None:
        now_ts = now_ts.tz_localize(None) if now_ts.tz is not None else now_ts
    start_ts = _stamp(start, "start", tz)
    end_ts = _stamp(end, "end", tz) or now_ts
    if start_ts is None:
        if frame.empty:
            raise InputError("cases is empty and no start was given")
        start_ts = frame["reported_at"].min()
    try:
        periods = pd.period_range(
            start_ts.tz_localize(None) if tz is not None else start_ts,
            (min(end_ts, now_ts)).tz_localize(None) if tz is not None else min(end_ts, now_ts),
            freq=freq,
        )
    except ValueError as exc:
        raise InputError(
            f"freq {freq!r} is not a pandas period alias such as 'D', 'W', 'M'"
        ) from exc
    if len(periods) == 0:
        raise InputError(f"no period between start {start_ts} and end {min(end_ts, now_ts)}")
    return periods, now_ts


def _utc64(ts: pd.Timestamp, tz) -> np.datetime64:
    """A period bound (local wall time when the cases have a zone) as naive UTC nanoseconds."""
    if tz is not None:
        ts = ts.tz_localize(tz) if ts.tz is None else ts
        ts = ts.tz_convert("UTC").tz_localize(None)
    return np.datetime64(ts.to_datetime64(), "ns")


def _fields(frame: pd.DataFrame, tz) -> dict[str, np.ndarray]:
    """The case fields the definitions read: times as naive UTC nanoseconds, flags as bool."""

    def ns(col: str) -> np.ndarray:
        s = frame[col]
        if tz is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        return s.to_numpy(dtype="datetime64[ns]")

    return {
        **{col: ns(col) for col in _TIMES},
        "escalated": frame["escalated"].to_numpy(dtype=bool),
    }


def _measure_sums(
    fields: Mapping[str, np.ndarray],
    params: Mapping[str, np.datetime64],
    unit_code: np.ndarray,
    n_units: int,
) -> dict[str, np.ndarray]:
    """Every measure of :data:`MEASURES` per unit (``unit_code`` gives each case's unit)."""
    n = len(unit_code)
    populations = {
        name: evaluate(p.condition, fields, params, n) for name, p in POPULATIONS.items()
    }
    sums = {}
    for m in MEASURES.values():
        mask = populations[m.population] & evaluate(m.condition, fields, params, n)
        weights = None
        if m.value is not None:
            span = fields[m.value.until] - fields[m.value.since]
            weights = np.where(mask, span / np.timedelta64(1, "h"), 0.0)[mask]
        sums[m.name] = np.bincount(unit_code[mask], weights=weights, minlength=n_units)
    return sums
