"""态势 (situation) drill-down: county -> township -> community -> grid.

The URL holds the state (``/situation?level=township&code=420999001000&metric=per100``), so a
link can be shared. Clicking a child on the map or a breadcrumb goes one level down or up.
Each level shows its KPIs, its children ranked by the chosen metric, the trend and the
category mix; the map colours the children by the metric, or the unit's grids by their Gi*
hot-spot bin. At grid level the grid card shows households, buildings, the grid worker, patrol
and camera coverage and the open cases.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

import dash
import dash_leaflet as dl
from dash import Input, Output, State, callback, dcc, html
from dash_extensions.javascript import Namespace
from flask import current_app

from dashboard import ids
from dashboard.auth import allowed_page, scope
from dashboard.components.geojson import display_point, geojson
from dashboard.components.header import header
from dashboard.i18n import normalise_lang, t
from dashboard.layers import feature_collection, fit_zoom
from dashboard.metrics import unit_view
from dashboard.pages.wall import category_figure, trend_figure

dash.register_page(__name__, path="/situation", name="态势", title="态势研判")

style = Namespace("wangge", "style")
feature = Namespace("wangge", "feature")

METRICS = ("per100", "overdue", "patrol", "camera", "gi")
CHILD_LEVEL = {"county": "township", "township": "community", "community": "grid"}
LIGHT = {
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
    "font": {"color": "#1f2633", "size": 12},
}


def href(level: str, code: str, metric: str, lang: str) -> str:
    query = {"level": level, "code": code, "metric": metric}
    if lang != "zh":
        query["lang"] = lang
    return "/situation?" + urlencode(query)


def _fmt(value, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "pct":
        return f"{value:.0%}"
    if kind == "float":
        return f"{value:.1f}"
    return f"{int(value):,}"


def _kpis(view, lang: str) -> html.Div:
    k = view.figures.kpis
    items = [
        ("reported", "int"),
        ("closed", "int"),
        ("closure_rate", "pct"),
        ("on_time_rate", "pct"),
        ("open", "int"),
        ("open_overdue", "int"),
        ("mean_handling_hours", "float"),
        ("escalated", "int"),
    ]
    return html.Div(
        [
            html.Div(
                [
                    html.Div(_fmt(k[key], kind), className="stat-value", id=f"sit-{key}"),
                    html.Div(t(f"sit.kpi.{key}", lang), className="stat-label"),
                ],
                className="stat",
            )
            for key, kind in items
        ],
        className="stats sit-kpis",
    )


def _ranking(view, metric: str, lang: str) -> html.Table:
    children = view.children.drop(columns="geometry")
    if children.empty:
        return html.Div()
    children = children.sort_values(
        metric if metric in children else "cases", ascending=False, na_position="last"
    )
    head = html.Tr(
        [
            html.Th(t(f"sit.col.{c}", lang))
            for c in ("name", "households", "cases", "per100", "overdue", "patrol", "camera", "gi")
        ]
    )
    child_level = CHILD_LEVEL[view.level]
    rows = [
        html.Tr(
            [
                html.Td(dcc.Link(r.name, href=href(child_level, r.code, metric, lang))),
                html.Td(_fmt(r.households, "int")),
                html.Td(_fmt(r.cases, "int")),
                html.Td(_fmt(r.per100, "float")),
                html.Td(_fmt(r.overdue, "int"), className="bad" if r.overdue else ""),
                html.Td(_fmt(r.patrol, "pct")),
                html.Td(_fmt(r.camera, "pct")),
                html.Td(
                    _fmt(r.gi, "int"), className=f"gi gi{int(r.gi) if not math.isnan(r.gi) else 0}"
                ),
            ]
        )
        for r in children.itertuples()
    ]
    return html.Table(
        [html.Thead(head), html.Tbody(rows)], className="rank-table", id="sit-ranking"
    )


def _grid_card(view, lang: str) -> html.Div:
    c = view.grid
    rows = [
        ("households", _fmt(c["households"], "int")),
        ("buildings", _fmt(c["buildings"], "int")),
        (
            "kind",
            t(f"gridkind.{c['kind']}", lang)
            if c["kind"] in ("urban", "rural", "special")
            else c["kind"],
        ),
        ("worker", f"{c['worker']} {c['worker_phone']}".strip() or "–"),
        ("patrol_street_share", _fmt(c["patrol_street_share"], "pct")),
        ("patrol_minutes", _fmt(c["patrol_minutes"], "int")),
        ("patrol_sessions", _fmt(c["patrol_sessions"], "int")),
        (
            "patrol_compliant",
            "–"
            if c["patrol_compliant"] is None
            else t("sit.yes" if c["patrol_compliant"] else "sit.no", lang),
        ),
        ("camera_street_share", _fmt(c["camera_street_share"], "pct")),
        ("camera_open_share", _fmt(c["camera_open_share"], "pct")),
        ("gi_bin", _fmt(c["gi_bin"], "int")),
        ("open", _fmt(c["open"], "int")),
        ("overdue", _fmt(c["overdue"], "int")),
    ]
    if c["flags"]:
        rows.append(("flags", c["flags"]))
    return html.Div(
        [
            html.H3(t("sit.grid_card", lang)),
            html.Table(
                [html.Tr([html.Th(t(f"sit.card.{k}", lang)), html.Td(v)]) for k, v in rows],
                className="grid-card-table",
            ),
        ],
        className="grid-card",
        id="grid-card",
    )


def _map(view, metric: str, lang: str):
    units = view.children if len(view.children) else None
    store = current_app.config["WANGGE_STORE"]
    if view.level == "grid":
        grids = store.grids()
        shape = grids[grids["grid_code"] == view.code]
    elif view.level == "county":
        shape = store.admin_units("county")
    else:
        units_all = store.admin_units()
        shape = units_all[units_all["code"] == view.code]
    minx, miny, maxx, maxy = shape.total_bounds
    layers = [
        geojson(url="/api/v1/layers/roads.geojson", style=style("road"), interactive=False),
        geojson(url="/api/v1/layers/water.geojson", style=style("water"), interactive=False),
    ]
    values = {}
    if metric == "gi":
        analytics = current_app.config["WANGGE_ANALYTICS"]
        hot = analytics.hotspots()
        grids = store.grids()
        if view.level == "grid":
            grids = grids[grids["grid_code"] == view.code]
        elif view.level != "county":
            grids = grids[
                grids["grid_code"].str.startswith(
                    view.code[:9] if view.level == "township" else view.code
                )
            ]
        grids = grids.merge(
            hot[["grid_code", "gi_bin", "cases"]], on="grid_code", how="left"
        ).fillna({"gi_bin": 0, "cases": 0})
        data = feature_collection(grids, ["grid_code", "gi_bin", "cases"], id_column="grid_code")
        layers.append(
            geojson(
                id=ids.SIT_GI,
                data=_json(data),
                style=style("giBin"),
                onEachFeature=feature("giTooltip"),
            )
        )
    if units is not None:
        values = {
            r.code: (None if isinstance(r.value, float) and math.isnan(r.value) else float(r.value))
            for r in units.assign(value=units[metric if metric != "gi" else "gi"]).itertuples()
        }
        finite = [v for v in values.values() if v is not None]
        data = feature_collection(units, ["code", "name"], id_column="code")
        layers.append(
            geojson(
                id=ids.SIT_CHILDREN,
                data=_json(data),
                style=style("metric"),
                hideout={
                    "values": values,
                    "min": min(finite, default=0),
                    "max": max(finite, default=1),
                    "metric": metric,
                    "fill": metric != "gi",
                },
                onEachFeature=feature("unitName"),
            )
        )
    else:
        layers.append(
            geojson(data=_json(feature_collection(shape, [])), style=style("selectedGrid"))
        )
        layers.append(
            geojson(
                data=_json(
                    feature_collection(
                        store.buildings(tuple(shape.total_bounds)),
                        ["kind", "households", "floors", "name"],
                    )
                ),
                style=style("building"),
                onEachFeature=feature("buildingTooltip"),
                hideout={"households": t("tooltip.households", lang)},
            )
        )
    return dl.Map(
        id=ids.SIT_MAP,
        center=list(reversed(display_point((minx + maxx) / 2, (miny + maxy) / 2))),
        zoom=fit_zoom(minx, miny, maxx, maxy, width=820, height=620),
        zoomSnap=0.25,
        preferCanvas=True,
        minZoom=8,
        maxZoom=19,
        className="sit-map",
        children=[*layers, dl.ScaleControl(imperial=False, position="bottomright")],
    )


def _json(text: str) -> dict:
    import json

    return json.loads(text)


def layout(
    lang: str | None = None,
    level: str | None = None,
    code: str | None = None,
    metric: str | None = None,
    **_query,
) -> html.Div:
    settings = current_app.config["WANGGE_SETTINGS"]
    lang = normalise_lang(lang, settings.lang)
    metric = metric if metric in METRICS else "per100"
    store = current_app.config["WANGGE_STORE"]
    if store.published_grid_version() is None:
        return html.Div(
            [header(lang, "/situation"), html.Div(t("error.not_ready", lang), className="panel")]
        )
    if not allowed_page("/situation"):
        return html.Div(
            [header(lang, "/situation"), html.Div(t("error.forbidden", lang), className="panel")]
        )
    view = unit_view(
        store, current_app.config["WANGGE_ANALYTICS"], level or "county", code, scope=scope()
    )
    crumbs = []
    for i, (lv, c, name) in enumerate(view.chain):
        if i:
            crumbs.append(html.Span("›", className="crumb-sep"))
        label = name if lv != "grid" else f"{t('level.grid', lang)} {name}"
        crumbs.append(
            dcc.Link(
                label,
                href=href(lv, c, metric, lang),
                className="crumb" + (" current" if i == len(view.chain) - 1 else ""),
            )
        )
    right = [_kpis(view, lang)]
    if view.grid is not None:
        right.append(_grid_card(view, lang))
    else:
        right.append(
            html.Div(
                [html.H3(t(f"sit.children.{view.level}", lang)), _ranking(view, metric, lang)],
                className="sit-section",
            )
        )
    graph = {"config": {"displayModeBar": False}, "style": {"height": "220px"}}
    light_axes = {"xaxis_gridcolor": "#eef0f3", "yaxis_gridcolor": "#eef0f3"}
    trend = trend_figure(view.figures.trend, lang).update_layout(**LIGHT, **light_axes)
    cats = category_figure(view.figures.categories, lang).update_layout(**LIGHT)
    right.append(
        html.Div(
            [html.H3(t("wall.trend", lang)), dcc.Graph(figure=trend, **graph)],
            className="sit-section",
        )
    )
    right.append(
        html.Div(
            [html.H3(t("wall.categories", lang)), dcc.Graph(figure=cats, **graph)],
            className="sit-section",
        )
    )
    return html.Div(
        className="page page-situation",
        children=[
            header(lang, "/situation"),
            dcc.Store(
                id=ids.SIT_STATE,
                data={"level": view.level, "code": view.code, "metric": metric, "lang": lang},
            ),
            html.Div(
                className="sit-bar",
                children=[
                    html.Nav(crumbs, className="breadcrumbs", id=ids.SIT_CRUMBS),
                    html.Div(className="wall-spacer"),
                    html.Label(t("sit.metric", lang)),
                    dcc.Dropdown(
                        id=ids.SIT_METRIC,
                        options=[
                            {"label": t(f"sit.metric.{m}", lang), "value": m} for m in METRICS
                        ],
                        value=metric,
                        clearable=False,
                        className="metric-dropdown",
                    ),
                ],
            ),
            html.Div(
                className="sit-body",
                children=[
                    html.Div(
                        [_map(view, metric, lang), _legend(metric, lang)], className="sit-map-wrap"
                    ),
                    html.Div(right, className="sit-side"),
                ],
            ),
        ],
    )


def _legend(metric: str, lang: str) -> html.Div:
    if metric == "gi":
        rows = [(f"gi{b}", t(f"sit.gi.{b}", lang)) for b in (3, 2, 1, 0, -1, -2, -3)]
        return html.Div(
            [
                html.H4(t("sit.metric.gi", lang)),
                *[
                    html.Div(
                        [html.Span(className=f"swatch gi{b}"), html.Span(lbl)],
                        className="legend-row",
                    )
                    for b, lbl in rows
                ],
            ],
            className="panel sit-legend",
        )
    return html.Div(
        [
            html.H4(t(f"sit.metric.{metric}", lang)),
            html.Div(className="swatch metric-ramp"),
            html.Div(
                [html.Span(t("sit.low", lang)), html.Span(t("sit.high", lang))],
                className="ramp-labels",
            ),
        ],
        className="panel sit-legend",
    )


@callback(
    Output(ids.URL, "href"),
    Input(ids.SIT_CHILDREN, "clickData"),
    State(ids.SIT_STATE, "data"),
    prevent_initial_call=True,
)
def drill_down(click, state):
    """A click on a child unit goes one level down."""
    if not click or not state or state["level"] not in CHILD_LEVEL:
        return dash.no_update
    code = (click.get("properties") or {}).get("code") or click.get("id")
    if not code:
        return dash.no_update
    return href(CHILD_LEVEL[state["level"]], code, state["metric"], state["lang"])


@callback(
    Output(ids.URL, "href", allow_duplicate=True),
    Input(ids.SIT_METRIC, "value"),
    State(ids.SIT_STATE, "data"),
    prevent_initial_call=True,
)
def change_metric(metric, state):
    if not state or metric == state["metric"]:
        return dash.no_update
    return href(state["level"], state["code"], metric, state["lang"])
