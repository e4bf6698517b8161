"""Honest trend charts: today's partial day is drawn apart, never as a full day.

A daily count of cases ends at today, which has only run since local midnight: plotted as a
full day it always ends in a false drop. :func:`daily_lines` draws the complete days as solid
lines and the step to today as a dotted segment ending in an open marker labelled "today (so
far)" (``trend.partial``), in the same colour, so the eye reads the last point as unfinished.
"""

from __future__ import annotations

import pandas as pd

from dashboard.i18n import t
from wangge import clock

__all__ = ["daily_lines", "partial_today"]


def partial_today(days: pd.Series, now: pd.Timestamp | None = None) -> bool:
    """Whether the last of ``days`` (local days, tz-aware or naive) is today in the county, a
    day still running."""
    if days.empty:
        return False
    last = pd.Timestamp(days.iloc[-1])
    today = (now or pd.Timestamp.now(tz="UTC")).tz_convert(clock.COUNTY_TZ).normalize()
    if last.tzinfo is None:
        return last.normalize() == today.tz_localize(None)
    return last.tz_convert(clock.COUNTY_TZ).normalize() == today


def daily_lines(
    trend: pd.DataFrame,
    series: tuple[tuple[str, str, str], ...],
    lang: str,
    *,
    width: float = 2,
    now: pd.Timestamp | None = None,
) -> tuple[list[dict], list[dict]]:
    """Plotly traces and annotations of daily counts: for each (column, name, colour) of
    ``series`` a solid line over the complete days and, when the last day is today, a dotted
    segment from yesterday to today's count so far; one annotation names the partial day."""
    x = [d.strftime("%Y-%m-%d") for d in trend["day"]]
    partial = partial_today(trend["day"], now) and len(x) >= 2
    full = slice(None, -1) if partial else slice(None)
    traces, notes = [], []
    for column, name, color in series:
        y = [int(v) for v in trend[column]]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": x[full],
                "y": y[full],
                "name": name,
                "legendgroup": column,
                "line": {"color": color, "width": width},
            }
        )
        if partial:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": x[-2:],
                    "y": y[-2:],
                    "name": f"{name} · {t('trend.partial', lang)}",
                    "legendgroup": column,
                    "showlegend": False,
                    "line": {"color": color, "width": width, "dash": "dot"},
                    "marker": {"symbol": "circle-open", "size": [0, 3 * width + 4]},
                    "hovertemplate": f"%{{y}} ({t('trend.partial', lang)})<extra>{name}</extra>",
                }
            )
    if partial:
        notes.append(
            {
                "x": x[-1],
                "y": 1,
                "yref": "paper",
                "text": t("trend.partial", lang),
                "showarrow": False,
                "xanchor": "right",
                "yanchor": "top",
                "font": {"size": 11},
                "opacity": 0.8,
            }
        )
    return traces, notes
