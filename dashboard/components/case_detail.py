"""A case's detail panel (layout factory, no side effects): its status history, deadline and
reporter (masked), as the case list shows it beside the map."""

from __future__ import annotations

import dash_leaflet as dl
import pandas as pd
from dash import html

from dashboard import ids
from dashboard.i18n import actor_label, t
from wangge.clock import COUNTY_TZ

__all__ = ["case_detail", "case_marker", "local_time"]


def local_time(ts: str | None) -> str:
    """A stored UTC time as the county's local ``YYYY-MM-DD HH:MM`` ("" for none)."""
    return pd.Timestamp(ts).tz_convert(COUNTY_TZ).strftime("%Y-%m-%d %H:%M") if ts else ""


def _event(e: dict, lang: str) -> html.Li:
    return html.Li(
        [
            html.Span(local_time(e["at"]), className="ev-time"),
            html.Span(t(f"status.{e['to_status']}", lang), className="ev-status"),
            html.Span(actor_label(e["actor"], lang), className="ev-actor"),
            html.Span(e["comment"], className="ev-comment"),
        ]
    )


def case_detail(case: dict, lang: str) -> html.Div:
    """The detail of ``case`` (as :func:`dashboard.api.public_case` gives it)."""
    reporter = f"{case['reporter_name'] or '—'}  {case['reporter_phone'] or ''}"
    deadline = f"{t('cases.col.deadline', lang)}: {local_time(case['deadline_at'])}"
    if case["overdue"]:
        deadline += f" · {t('cases.overdue', lang)}"
    return html.Div(
        [
            html.H3(f"{case['case_id']} · {t('category.' + case['category'], lang)}"),
            html.Div(case["title"] or "", className="case-title"),
            html.Div(f"{t('cases.col.reporter', lang)}: {reporter}", className="muted"),
            html.Div(deadline, className="overdue-text" if case["overdue"] else "muted"),
            html.Ol(
                [_event(e, lang) for e in case["events"]],
                className="event-list",
                id=ids.CASES_EVENTS,
            ),
        ]
    )


def case_marker(lat: float, lon: float) -> dl.CircleMarker:
    """The marker of the case shown, at a point as the basemap draws it."""
    return dl.CircleMarker(center=[lat, lon], radius=9, color="#d4380d", fillOpacity=0.8)
