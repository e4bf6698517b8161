"""指挥大屏 (wall display) for a 16:9 wall: dark, no scrollbars, no interaction needed.

The same layout at any size (1920x1080 and 3840x2160 are tested): the text is sized in vh, the
charts' fonts follow the screen's height, the map is fitted to the scope again whenever its box
changes size, and the case lists and the ranking show whole rows only (assets/wangge.js hides
the rows that do not fit). County-wide it ranks the townships; a township's wall (a township
user, or a wall token of a township) ranks that township's communities. The layout is built from
small functions (:func:`left_panels`, :func:`right_panels`, :func:`_header`) so that a panel can
be added without touching the others.

Every ``WANGGE_WALL_REFRESH`` seconds the server compares a fingerprint of the data (cases,
their events, cameras, patrol fixes, the 5-minute clock) with the one the page holds; when
nothing changed it answers with the time alone, so an idle refresh is a few hundred bytes. A
clientside clock turns "数据更新于 hh:mm:ss" red when no refresh has succeeded for 2.5 periods
(server down, network cut), without asking the server.
"""

from __future__ import annotations

import hashlib
import math

import dash
import dash_leaflet as dl
import pandas as pd
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html
from dash_extensions.javascript import Namespace
from flask import current_app
from plotly.io.json import to_json_plotly

from dashboard import ids
from dashboard.auth import current_scope, may_open_page, page_callback
from dashboard.components.geojson import display_bounds, fitted_view, geojson
from dashboard.components.header import demo_badge
from dashboard.components.trend import daily_lines
from dashboard.i18n import normalise_lang, page_title, t
from wangge.clock import COUNTY_TZ
from wangge.services.mapdata import recent_multipoints
from wangge.services.metrics import wall_data, wall_fingerprint

dash.register_page(__name__, path="/wall", name="wall", title=page_title("nav.wall"))

style = Namespace("wangge", "style")
feature = Namespace("wangge", "feature")

KPI_KEYS = (
    "reported_today",
    "closed_today",
    "closure_rate",
    "on_time_rate",
    "open_overdue",
    "mean_handling_hours",
    "cameras_online",
    "patrol_compliance",
    "workers_on_duty",
)
DARK = {
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "font": {"color": "#cfe3ff", "size": 14},
}


def _pct(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1%}"


def kpi_tiles(kpis: dict, lang: str) -> list:
    values = {
        "reported_today": f"{kpis['reported_today']:,}",
        "closed_today": f"{kpis['closed_today']:,}",
        "closure_rate": _pct(kpis["closure_rate"]),
        "on_time_rate": _pct(kpis["on_time_rate"]),
        "open_overdue": f"{kpis['open_overdue']:,}",
        "mean_handling_hours": "–"
        if math.isnan(kpis["mean_handling_hours"])
        else f"{kpis['mean_handling_hours']:.1f}",
        "cameras_online": f"{kpis['cameras_online']:,}/{kpis['cameras_total']:,}",
        "patrol_compliance": _pct(kpis["patrol_compliance"]),
        "workers_on_duty": f"{kpis['workers_on_duty']:,}",
    }
    return [
        html.Div(
            [
                html.Div(values[k], className="kpi-value", id=f"kpi-{k}"),
                html.Div(t(f"kpi.{k}", lang), className="kpi-label"),
            ],
            className="kpi-tile" + (" alert" if k == "open_overdue" and kpis[k] > 0 else ""),
        )
        for k in KPI_KEYS
    ]


#: The figures of a ranked unit, in the order of their columns (each with its header).
RANK_FIGURES = ("overdue", "open", "reported")


def ranking_rows(ranking: pd.DataFrame, lang: str, level: str = "township") -> list:
    """The ranking of :func:`wangge.services.metrics.wall_data` (townships, or one township's
    communities) under a header that names each column: rank, name, a bar of the open cases,
    open overdue, open, reported in the window."""
    head = html.Div(
        className="rank-row rank-head",
        children=[
            html.Span("#", className="rank-no"),
            html.Span(t(f"wall.col.{level}", lang), className="rank-name"),
            html.Span(t("wall.col.bar", lang), className="rank-bar-head"),
            *(html.Span(t(f"wall.col.{k}", lang), className=f"rank-fig {k}") for k in RANK_FIGURES),
        ],
    )
    if ranking.empty:
        return [head, html.Div(t("wall.none", lang), className="rank-row muted")]
    top = max(1, int(ranking["open"].max()))
    rows = [
        html.Div(
            className="rank-row",
            children=[
                html.Span(str(i + 1), className="rank-no"),
                html.Span(r.name, className="rank-name"),
                html.Div(
                    html.Div(style={"width": f"{100 * r.open / top:.0f}%"}, className="rank-fill"),
                    className="rank-bar",
                ),
                *(html.Span(f"{getattr(r, k):,}", className=f"rank-fig {k}") for k in RANK_FIGURES),
            ],
            **{"data-code": r.code},
        )
        for i, r in enumerate(ranking.itertuples())
    ]
    return [head, html.Div(rows, className="rank-list")]


def label_px(text: str, size: float) -> float:
    """The width in pixels of ``text`` at font size ``size``, a little over what the UI font
    draws (a CJK or full-width character about ``size``, others about 0.62 x ``size``)."""
    return sum(size if ord(c) > 0x2E80 else 0.62 * size for c in str(text))


def category_figure(
    categories: pd.DataFrame, lang: str, theme: dict | None = None, size: float = 14
) -> dict:
    """Horizontal bars of cases per category, as a plain Plotly figure dict (building
    ``go.Figure`` objects cost 10-40 ms per chart, more than the chart's data); ``size`` is the
    font size in pixels (the wall scales it with the screen)."""
    labels = [t(f"category.{c}", lang) for c in categories["category"]]
    values = [int(v) for v in categories["cases"]]
    theme = theme or DARK
    return {
        "data": [
            {
                "type": "bar",
                "x": values,
                "y": labels,
                "orientation": "h",
                "marker": {"color": "#3fa7ff"},
                "text": values,
                "textposition": "outside",
                "cliponaxis": False,
            }
        ],
        "layout": {
            **theme,
            "font": {**theme.get("font", {}), "size": size},
            # margins fitted to the labels here: Plotly's automargin measured every label and,
            # when a drill-down changed the room they need, drew the chart a second time
            "margin": {
                "l": round(8 + max((label_px(x, size) for x in labels), default=0)),
                "r": round(2.2 * size),
                "t": 4,
                "b": 4,
            },
            "yaxis": {"autorange": "reversed", "automargin": False, "ticklabeloverflow": "allow"},
            "xaxis": {"visible": False},
            "bargap": 0.35,
        },
    }


def trend_figure(
    trend: pd.DataFrame,
    lang: str,
    theme: dict | None = None,
    grid_color: str = "#1e3558",
    size: float = 14,
) -> dict:
    """Reported and closed cases per day, as a plain Plotly figure dict."""
    theme = theme or DARK
    # today, still running, is drawn dotted and labelled, not as a false drop
    series = tuple(
        (c, t(f"wall.{c}", lang), k) for c, k in (("reported", "#ffb347"), ("closed", "#5ee38f"))
    )
    data, notes = daily_lines(trend, series, lang, width=max(2, round(size / 5)))
    top = max((int(v) for c, _, _ in series for v in trend[c]), default=0)
    return {
        "data": data,
        "layout": {
            "annotations": notes,
            **theme,
            "font": {**theme.get("font", {}), "size": size},
            "margin": {
                "l": round(10 + label_px(f"{top:,}", size)),
                "r": 8,
                "t": 4,
                "b": round(1.6 * size + 4),
            },
            "legend": {"orientation": "h", "y": 1.1},
            "xaxis": {
                "gridcolor": grid_color,
                "tickformat": "%m-%d",
                "type": "date",
                "automargin": False,
                "ticklabeloverflow": "allow",
            },
            "yaxis": {"gridcolor": grid_color, "automargin": False, "ticklabeloverflow": "allow"},
        },
    }


def case_rows(frame: pd.DataFrame, lang: str, names: dict, *, overdue: bool = False) -> list:
    if frame.empty:
        return [html.Div(t("wall.none", lang), className="case-row muted")]
    now = pd.Timestamp.now(tz="UTC")
    rows = []
    for r in frame.itertuples():
        when = r.reported_at.tz_convert(COUNTY_TZ).strftime("%m-%d %H:%M")
        place = names.get(r.community_code, r.community_code or "—")
        extra = (
            f"+{(now - r.deadline_at).total_seconds() / 3600:.0f}h"
            if overdue
            else t(f"status.{r.status}", lang)
        )
        rows.append(
            html.Div(
                className="case-row" + (" overdue" if overdue else ""),
                children=[
                    html.Span(when, className="case-time"),
                    html.Span(t(f"category.{r.category}", lang), className="case-cat"),
                    html.Span(place, className="case-place"),
                    html.Span(extra, className="case-status"),
                ],
                **{"data-case": r.case_id},
            )
        )
    return rows


def urgent_banner(cases: list[dict], lang: str, names: dict) -> list:
    """The urgent open cases no operator has marked seen (:meth:`Store.urgent_unseen`), pinned
    above the wall and flashing until an operator marks each seen on the case list."""
    return [
        html.Div(
            className="wall-urgent-item",
            children=[
                html.Strong(t("wall.urgent", lang)),
                html.Span(pd.Timestamp(c["reported_at"]).tz_convert(COUNTY_TZ).strftime("%H:%M")),
                html.Span(t(f"category.{c['category']}", lang)),
                html.Span(c["title"] or ""),
                html.Span(c["address"] or names.get(c["community_code"], "")),
                html.Span(t("wall.urgent_hint", lang), className="urgent-hint"),
            ],
            **{"data-case": c["case_id"]},
        )
        for c in cases
    ]


def _panel(title: str, body, *, cls: str = "") -> html.Section:
    return html.Section([html.H3(title), body], className=f"wall-panel {cls}")


#: The charts of the wall: static, no mode bar, filling their panel.
GRAPH = {
    "config": {"displayModeBar": False, "staticPlot": True},
    "style": {"height": "100%"},
    "responsive": True,
}


def _stores(settings, lang: str, bounds: list) -> list:
    """What the browser keeps: the wall's settings and texts, fingerprint, scale, the map's box,
    timers. ``bounds`` are the scope's [[south, west], [north, east]]: the map is fitted to them
    whenever its box changes size (:func:`wangge_wall.fit` in assets/wangge.js)."""
    wall_settings = {
        "lang": lang,
        "refresh": settings.wall_refresh,
        "updated": t("wall.updated", lang, time="{time}"),
        "never": t("wall.never", lang),
        # the county's clock, whatever time zone the display's computer is set to
        "tz": COUNTY_TZ,
        # the date beside it: 2026年12月6日 星期日 / Sunday 6 December 2026
        "date": t("wall.date", lang),
        "weekdays": [t(f"weekday.{i}", lang) for i in range(7)],  # Sunday first, as JS counts
        "months": [t(f"month.{i}", lang) for i in range(1, 13)],
        "bounds": bounds,
    }
    return [
        dcc.Store(id=ids.WALL_SETTINGS, data=wall_settings),
        dcc.Store(id=ids.WALL_FINGERPRINT, data=None),
        dcc.Store(id=ids.WALL_SCALE, data=None),
        dcc.Store(id=ids.WALL_MAP_BOX, data=None),
        dcc.Store(id=ids.WALL_LAST_OK, data=None),
        dcc.Store(id=ids.WALL_REQUEST, data=None),
        dcc.Interval(id=ids.WALL_TICK, interval=settings.wall_refresh * 1000, n_intervals=0),
        dcc.Interval(id=ids.WALL_CLOCK_TICK, interval=1000, n_intervals=0),
    ]


def _header(county_name: str, lang: str) -> html.Header:
    return html.Header(
        className="wall-header",
        children=[
            html.H1(t("wall.title", lang, county=county_name)),
            demo_badge(lang),
            html.Div(className="wall-spacer"),
            html.Span(id=ids.WALL_DATE, className="wall-date"),
            html.Span(id=ids.WALL_CLOCK, className="wall-clock"),
            html.Span(t("wall.never", lang), id=ids.WALL_UPDATED, className="wall-updated"),
        ],
    )


def _map(county, bounds: list, lang: str) -> html.Div:
    """The scope's communities shaded by open cases, with the last 24 hours' cases; fitted to
    the scope at start and again whenever the map's box changes size (a 4K wall, a resize)."""
    wall_map = dl.Map(
        id=ids.WALL_MAP,
        **fitted_view(*county.total_bounds, width=900, height=720),
        viewport={"bounds": bounds, "transition": "fitBounds", "options": {"animate": False}},
        zoomSnap=0.25,
        preferCanvas=True,
        zoomControl=False,
        attributionControl=False,
        minZoom=8,
        maxZoom=18,
        className="wall-map",
        children=[
            geojson(
                id=ids.WALL_COMMUNITIES,
                url="/api/v1/layers/communities.geojson",
                style=style("wallCommunity"),
                hideout={"counts": {}, "max": 1},
            ),
            geojson(
                url="/api/v1/layers/townships.geojson",
                style=style("wallTownship"),
                interactive=False,
            ),
            geojson(id=ids.WALL_POINTS, data=None, pointToLayer=feature("wallCase")),
        ],
    )
    legend = html.Div(t("wall.map_legend", lang), className="wall-map-legend")
    return html.Div([wall_map, legend], className="wall-col wall-centre")


def _column(panels: list) -> html.Div:
    """A column of panels, each given as (title, body)."""
    return html.Div(
        [_panel(title, body, cls="grow") for title, body in panels], className="wall-col"
    )


def left_panels(lang: str, level: str) -> list:
    """The left column's panels, (title, body) each: the ranking and the categories."""
    return [
        (t(f"wall.ranking.{level}", lang), html.Div(id=ids.WALL_TOWNSHIPS, className="ranking")),
        (t("wall.categories", lang), dcc.Graph(id=ids.WALL_CATEGORIES, **GRAPH)),
    ]


def right_panels(lang: str) -> list:
    """The right column's panels, (title, body) each: the trend and the two case lists (whole
    rows only: the rows that do not fit are hidden by assets/wangge.js)."""
    return [
        (t("wall.trend", lang), dcc.Graph(id=ids.WALL_TREND, **GRAPH)),
        (t("wall.newest", lang), html.Div(id=ids.WALL_NEWEST, className="case-list")),
        (t("wall.overdue", lang), html.Div(id=ids.WALL_OVERDUE, className="case-list")),
    ]


def layout(lang: str | None = None, **_query) -> html.Div:
    settings = current_app.config["WANGGE_SETTINGS"]
    lang = normalise_lang(lang, settings.lang)
    if not may_open_page("/wall"):
        return html.Div(t("error.forbidden", lang), className="wall-page")
    scope = current_scope()
    county = current_app.config["WANGGE_LAYERS"].county(scope=scope)
    if len(county) == 0:
        return html.Div(t("error.not_ready", lang), className="wall-page")
    level = "township" if scope.county_wide else "community"
    bounds = display_bounds(*county.total_bounds)
    body = [
        _column(left_panels(lang, level)),
        _map(county, bounds, lang),
        _column(right_panels(lang)),
    ]
    return html.Div(
        className=f"wall-page lang-{lang}",  # English words are longer: wider columns
        children=[
            *_stores(settings, lang, bounds),
            _header(county["name"].iloc[0], lang),
            html.Div(id=ids.WALL_KPIS, className="kpi-strip"),
            html.Div(id=ids.WALL_URGENT, className="wall-urgent", role="alert"),
            html.Div(className="wall-body", children=body),
        ],
    )


DATA_OUTPUTS = (
    Output(ids.WALL_KPIS, "children"),
    Output(ids.WALL_TOWNSHIPS, "children"),
    Output(ids.WALL_CATEGORIES, "figure"),
    Output(ids.WALL_TREND, "figure"),
    Output(ids.WALL_NEWEST, "children"),
    Output(ids.WALL_OVERDUE, "children"),
    Output(ids.WALL_COMMUNITIES, "hideout"),
    Output(ids.WALL_POINTS, "data"),
    Output(ids.WALL_URGENT, "children"),
    Output(ids.WALL_FINGERPRINT, "data"),
)


@callback(
    *DATA_OUTPUTS,
    Output(ids.WALL_LAST_OK, "data"),
    Input(ids.WALL_REQUEST, "data"),
    Input(ids.WALL_SCALE, "data"),
    State(ids.WALL_FINGERPRINT, "data"),
    State(ids.WALL_SETTINGS, "data"),
    prevent_initial_call=True,
)
@page_callback("/wall")
def refresh_wall(_request, scale, fingerprint, settings):
    """Only what changed: nothing but the time of the check when the data (and the screen's
    scale) are as at ``fingerprint``; else the panels whose content differs from what the wall
    shows (each panel's digest is kept in the fingerprint store), so a status change re-sends
    the KPIs and the lists, not the map's dots. ``scale`` is the screen height over 1080 pixels:
    chart fonts grow with it, as the page's own text does (it is sized in vh). ``_request`` is
    the browser's request for a refresh (:func:`wangge_wall.gate`: at most one at a time)."""
    store = current_app.config["WANGGE_STORE"]
    now = pd.Timestamp.now(tz="UTC")
    checked = int(now.timestamp() * 1000)
    scope = current_scope()
    scale = min(4.0, max(0.5, float(scale or 1.0)))
    previous = fingerprint if isinstance(fingerprint, dict) else {}
    current = f"{wall_fingerprint(store, scope=scope, now=now)}|{scale:g}"
    if current == previous.get("data"):
        return (*([dash.no_update] * len(DATA_OUTPUTS)), checked)
    lang = normalise_lang((settings or {}).get("lang"))
    panels = _panels(store, scope, now=now, lang=lang, scale=scale)
    digests = [_digest(p) for p in panels]
    shown = previous.get("panels") or []
    sent = [
        dash.no_update if i < len(shown) and shown[i] == d else p
        for i, (p, d) in enumerate(zip(panels, digests, strict=True))
    ]
    return (*sent, {"data": current, "panels": digests}, checked)


def _panels(store, scope, *, now: pd.Timestamp, lang: str, scale: float) -> list:
    """The content of every :data:`DATA_OUTPUTS` panel but the fingerprint, in their order, of
    what lies inside ``scope``."""
    data = wall_data(store, scope=scope, now=now)
    communities = store.admin_units("community", scope=scope)
    names = dict(zip(communities["code"], communities["name"], strict=True))
    counts = data.open_by_community
    return [
        kpi_tiles(data.kpis, lang),
        ranking_rows(data.ranking, lang, data.ranking_level),
        category_figure(data.categories, lang, size=14 * scale),
        trend_figure(data.trend, lang, size=13 * scale),
        case_rows(data.newest, lang, names),
        case_rows(data.overdue, lang, names, overdue=True),
        {"counts": counts, "max": max(counts.values(), default=1)},
        recent_multipoints(data.recent_points),
        urgent_banner(store.urgent_unseen(scope=scope, limit=5), lang, names),
    ]


def _digest(panel) -> str:
    """A short digest of a panel's content as the browser receives it."""
    text = to_json_plotly(panel)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


# one refresh at a time: a tick while the last request is unanswered asks nothing (Dash drops
# the answer of a request that a newer one overtook, so a server slower than the refresh period
# would otherwise never update the wall)
clientside_callback(
    ClientsideFunction(namespace="wangge_wall", function_name="gate"),
    Output(ids.WALL_REQUEST, "data"),
    Input(ids.WALL_TICK, "n_intervals"),
    State(ids.WALL_LAST_OK, "data"),
    State(ids.WALL_REQUEST, "data"),
)


clientside_callback(
    ClientsideFunction(namespace="wangge_wall", function_name="scale"),
    Output(ids.WALL_SCALE, "data"),
    Input(ids.WALL_CLOCK_TICK, "n_intervals"),
    State(ids.WALL_SCALE, "data"),
)


clientside_callback(
    ClientsideFunction(namespace="wangge_wall", function_name="fit"),
    Output(ids.WALL_MAP, "invalidateSize"),
    Output(ids.WALL_MAP, "viewport"),
    Output(ids.WALL_MAP_BOX, "data"),
    Input(ids.WALL_CLOCK_TICK, "n_intervals"),
    State(ids.WALL_MAP_BOX, "data"),
    State(ids.WALL_SETTINGS, "data"),
)


clientside_callback(
    ClientsideFunction(namespace="wangge_wall", function_name="clock"),
    Output(ids.WALL_CLOCK, "children"),
    Output(ids.WALL_DATE, "children"),
    Output(ids.WALL_UPDATED, "children"),
    Output(ids.WALL_UPDATED, "className"),
    Input(ids.WALL_CLOCK_TICK, "n_intervals"),
    State(ids.WALL_LAST_OK, "data"),
    State(ids.WALL_SETTINGS, "data"),
)
