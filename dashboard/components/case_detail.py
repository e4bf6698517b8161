"""A case's card (layout factory, no side effects): its status history, deadline, address,
urgency and reporter (masked), and the actions the signed-in user may take on it.

The card is used by the case list beside its map and by the map page's case card: both call
:func:`case_detail` with a ``where`` of their own, and the action callback of
:mod:`dashboard.pages.cases` answers the card's buttons wherever it is (its component ids are
pattern-matching ids keyed by ``where``, :func:`card_id`).
"""

from __future__ import annotations

import dash_leaflet as dl
import pandas as pd
from dash import dcc, html

from dashboard import ids
from dashboard.components.case_actions import action_panel
from dashboard.i18n import actor_label, t
from wangge.clock import COUNTY_TZ

__all__ = [
    "assignee_label",
    "card_frame",
    "card_id",
    "case_card",
    "case_detail",
    "case_marker",
    "event_label",
    "local_time",
]


def local_time(ts: str | None) -> str:
    """A stored UTC time as the county's local ``YYYY-MM-DD HH:MM`` ("" for none)."""
    return pd.Timestamp(ts).tz_convert(COUNTY_TZ).strftime("%Y-%m-%d %H:%M") if ts else ""


def card_id(kind: str, where: str) -> dict:
    """The pattern-matching id of a part (``kind``: one of the ``ids.CASE_CARD*`` names) of the
    case card shown at ``where`` (``cases``, ``map``)."""
    return {"type": kind, "where": where}


def event_label(e: dict, lang: str) -> str:
    """What an event of the history did: the status it moved to, or its note (督办, seen)."""
    return (
        t(f"event.{e['action']}", lang) if e.get("action") else t(f"status.{e['to_status']}", lang)
    )


def assignee_label(assignee: str, lang: str, workers: dict | None = None) -> str:
    """``worker:<id>`` / ``dept:<code>`` in words ("" for none)."""
    kind, _, key = (assignee or "").partition(":")
    if kind == "dept":
        return t(f"dept.{key}", lang)
    if kind == "worker":
        return t("act.worker", lang, name=(workers or {}).get(key, key))
    return ""


def _event(e: dict, lang: str) -> html.Li:
    target = assignee_label(e.get("assignee", ""), lang)
    return html.Li(
        [
            html.Span(local_time(e["at"]), className="ev-time"),
            html.Span(event_label(e, lang), className="ev-status"),
            html.Span(actor_label(e["actor"], lang), className="ev-actor"),
            html.Span(f"→ {target}", className="ev-assignee") if target else None,
            html.Span(e["comment"], className="ev-comment"),
        ],
        className="ev-note" if e.get("action") else None,
    )


def case_card(
    case: dict, lang: str, *, where: str, choices: dict | None = None, message=None
) -> list:
    """The content of a case's card: ``case`` as :func:`dashboard.api.public_case` gives it;
    ``choices`` (:func:`dashboard.components.case_actions.action_panel`'s) when the user may
    act on it; ``message`` shown on top (the outcome of the last action)."""
    reporter = f"{case['reporter_name'] or '—'}  {case['reporter_phone'] or ''}"
    deadline = f"{t('cases.col.deadline', lang)}: {local_time(case['deadline_at'])}"
    if case["overdue"]:
        deadline += f" · {t('cases.overdue', lang)}"
    urgent = case.get("urgency") == "urgent"
    title = f"{case['case_id']} · {t('category.' + case['category'], lang)}"
    handler = assignee_label(case.get("assignee", ""), lang, (choices or {}).get("names"))
    return [
        message,
        html.H3(
            [
                html.Span(t("urgency.urgent", lang), className="urgent-badge") if urgent else None,
                title,
            ]
        ),
        html.Div(
            f"{t('cases.col.status', lang)}: {t('status.' + case['status'], lang)}",
            className="case-status-line",
        ),
        html.Div(case["title"] or "", className="case-title"),
        html.Div(
            f"{t('cases.col.address', lang)}: {case.get('address') or '—'}", className="muted"
        ),
        html.Div(f"{t('cases.col.reporter', lang)}: {reporter}", className="muted"),
        html.Div(f"{t('cases.col.assignee', lang)}: {handler}", className="muted")
        if handler
        else None,
        html.Div(deadline, className="overdue-text" if case["overdue"] else "muted"),
        action_panel(case, lang, choices, where=where) if choices else None,
        html.Ol(
            [_event(e, lang) for e in case["events"]], className="event-list", id=ids.CASES_EVENTS
        ),
    ]


def card_frame(content: list, *, where: str) -> html.Div:
    """A case card at ``where`` around its ``content`` (:func:`case_card`): the container the
    action callback refills, and a store of the row the last action changed (the case list
    puts it into its grid)."""
    return html.Div(
        [
            dcc.Store(id=card_id(ids.CASE_CARD_ROW, where)),
            html.Div(content, id=card_id(ids.CASE_CARD, where), className="case-card"),
        ]
    )


def case_detail(
    case: dict, lang: str, *, where: str = "map", choices: dict | None = None
) -> html.Div:
    """The card of ``case`` (as :func:`dashboard.api.public_case` gives it) at ``where``, with
    the actions of ``choices`` (:func:`dashboard.components.case_actions.desk_choices`)."""
    return card_frame(case_card(case, lang, where=where, choices=choices), where=where)


def case_marker(lat: float, lon: float) -> dl.CircleMarker:
    """The marker of the case shown, at a point as the basemap draws it."""
    return dl.CircleMarker(center=[lat, lon], radius=9, color="#d4380d", fillOpacity=0.8)
