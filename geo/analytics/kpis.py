"""Case KPIs per administrative unit and period, as digital city management reports them.

The conventions follow GB/T 30428 (数字化城市管理信息系统) as county command centres use them:
a case is reported (上报/立案), handled, then closed (结案) by its deadline (处置时限) or late.
See :func:`case_kpis` for the precise definitions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.validate import missing_columns

__all__ = ["KPI_LEVELS", "case_kpis"]

log = logging.getLogger(__name__)

#: Unit levels and the case column naming each unit (``None``: the whole county).
KPI_LEVELS = {
    "grid": "grid_code",
    "community": "community_code",
    "township": "township_code",
    "county": None,
}

_TIMES = ("reported_at", "closed_at", "deadline_at")


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

    For a period [s, e) let the cut-off c = min(e, now): figures for the current period are
    as of now. Per unit:

    - ``reported`` (上报数): cases with s <= reported_at < e.
    - ``closed`` (结案数): cases with s <= closed_at < c, whenever they were reported.
    - ``closed_on_time`` (按期结案数): of those, the ones with closed_at <= deadline_at.
    - ``on_time_rate`` (按期结案率): closed_on_time / closed; NaN when nothing was closed.
    - ``closure_rate`` (结案率): of the cases reported in the period, the share closed by the
      cut-off c (a cohort rate, so it never exceeds 1); NaN when nothing was reported.
    - ``open`` (在办数): cases reported before c and not closed before c.
    - ``open_overdue`` (超期未结数): open cases whose deadline_at < c.
    - ``mean_handling_hours`` (平均处置时长): mean of closed_at - reported_at, in hours, over
      the cases closed in the period; NaN when none.
    - ``escalated`` (上报升级数): cases reported in the period with ``escalated`` true.

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
    times = _CaseTimes.of(frame, tz, unit_code, len(units))
    now64 = _utc64(now_ts, tz)
    rows = []
    for p in periods:
        start64, end64 = _utc64(p.start_time, tz), _utc64((p + 1).start_time, tz)
        counts = times.counts(start64, end64, min(end64, now64))
        rows.append(
            pd.DataFrame(
                {
                    name: units,
                    "period": p,
                    "period_start": p.start_time,
                    "period_end": (p + 1).start_time,
                    **counts,
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


@dataclass(frozen=True)
class _CaseTimes:
    """The case times as naive UTC nanoseconds, with each case's unit, for counting."""

    unit_code: np.ndarray
    n_units: int
    reported: np.ndarray
    closed: np.ndarray
    deadline: np.ndarray
    escalated: np.ndarray

    @classmethod
    def of(cls, frame: pd.DataFrame, tz, unit_code: np.ndarray, n_units: int) -> _CaseTimes:
        def ns(col: str) -> np.ndarray:
            s = frame[col]
            if tz is not None:
                s = s.dt.tz_convert("UTC").dt.tz_localize(None)
            return s.to_numpy(dtype="datetime64[ns]")

        esc = frame["escalated"].to_numpy(dtype=bool)
        return cls(unit_code, n_units, ns("reported_at"), ns("closed_at"), ns("deadline_at"), esc)

    def count(self, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Cases (or ``weights`` summed) under ``mask`` per unit."""
        return np.bincount(
            self.unit_code[mask],
            weights=None if weights is None else weights[mask],
            minlength=self.n_units,
        )

    def counts(self, s: np.datetime64, e: np.datetime64, c: np.datetime64) -> dict:
        """The KPI columns of the period ``[s, e)`` as known at ``c`` (``min(e, now)``)."""
        rep, clo, dl = self.reported, self.closed, self.deadline
        is_closed = ~np.isnat(clo)
        hours = np.where(is_closed, (clo - rep) / np.timedelta64(1, "h"), 0.0)
        on_time = is_closed & (clo <= dl)
        in_rep = (rep >= s) & (rep < e)
        in_clo = is_closed & (clo >= s) & (clo < c)
        closed_by_c = is_closed & (clo < c)
        open_c = (rep < c) & ~closed_by_c
        reported = self.count(in_rep)
        closed = self.count(in_clo)
        cohort_closed = self.count(in_rep & closed_by_c)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "reported": reported,
                "closed": closed,
                "closed_on_time": self.count(in_clo & on_time),
                "on_time_rate": np.where(closed > 0, self.count(in_clo & on_time) / closed, np.nan),
                "closure_rate": np.where(reported > 0, cohort_closed / reported, np.nan),
                "open": self.count(open_c),
                "open_overdue": self.count(open_c & (dl < c)),
                "mean_handling_hours": np.where(
                    closed > 0, self.count(in_clo, hours) / closed, np.nan
                ),
                "escalated": self.count(in_rep & self.escalated),
            }
