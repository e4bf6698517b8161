"""态势 (situation) drill-down: county -> township -> community -> grid.

The URL holds the state (``/situation?level=township&code=420999001000&metric=per100``), so a
link can be shared. Clicking a child on the map, a row of the ranking or a breadcrumb goes one
level down or up. The page is built once from the URL; a drill-down then updates its parts in
place (KPIs, ranking or grid card, charts through ``Plotly.react``, the map's unit layers and
viewport) and pushes the new URL to the history, instead of navigating: navigating would rebuild
the whole page, map and charts included (0.42 s median, 1.06 s p95 in ``benchmarks/browser.py``
before this change). The browser's back button still works (it re-renders from the URL).
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
from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    dcc,
    html,
)
from dash.exceptions import PreventUpdate
from dash_extensions.javascript import Namespace
from flask import current_app

from dashboard import ids
from dashboard.auth import current_scope, may_open_page, page_callback
from dashboard.components.geojson import display_point, geojson
from dashboard.components.header import header, message_page
from dashboard.i18n import flags_label, label, labels, normalise_lang, page_title, t
from dashboard.pages.wall import category_figure, trend_figure
from wangge.casework import CATEGORIES
from wangge.services.layers import feature_collection, fit_zoom, packed_collection
from wangge.services.metrics import hot_grids, unit_view

dash.register_page(__name__, path="/situation", name="situation", title=page_title("nav.situation"))

style = Namespace("wangge", "style")
feature = Namespace("wangge", "feature")

METRICS = ("per100", "overdue", "patrol", "camera", "gi")
#: The hot-spot periods offered (local days of cases Gi* counts).
HOT_PERIODS = {"7d": 7, "30d": 30, "90d": 90}
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


def _go(label: str, level: str, code: str, metric: str, lang: str, **props) -> html.A:
    """A link to a unit: a plain click drills in place (``wangge_sit`` in assets/wangge.js stops
    the browser from navigating and hands the unit to :func:`navigate` through the
    ``sit-target`` store), a middle or ctrl-click opens the shareable URL elsewhere. Plain
    links, not pattern-matched components: Dash re-indexes pattern ids on every redraw."""
    return html.A(
        label,
        href=href(level, code, metric, lang),
        **{"data-sit-go": "1", "data-level": level, "data-code": code, **props},
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
                html.Td(_go(r.name, child_level, r.code, metric, lang)),
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
        ("kind", label("gridkind", c["kind"], lang)),
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
        rows.append(("flags", flags_label(c["flags"], lang)))
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


EMPTY = {"type": "FeatureCollection", "features": []}


def _hot(hot: dict | None) -> dict:
    """Hot-spot choices of the state (period, category) as :meth:`hotspots` arguments."""
    hot = hot or {}
    return {"days": HOT_PERIODS.get(hot.get("period"), 30), "category": hot.get("category")}


def _map_props(view, metric: str, lang: str, hot: dict | None = None) -> dict:
    """What the map shows for ``view``: its children coloured by ``metric`` (or its grids by Gi*
    bin), or at grid level the grid and its buildings; and the viewport that fits the unit."""
    store = current_app.config["WANGGE_STORE"]
    scope = current_scope()
    if view.level == "grid":
        grids = store.grids(scope=scope)
        shape = grids[grids["grid_code"] == view.code]
    elif view.level == "county":
        shape = store.admin_units("county", scope=scope)
    else:
        units_all = store.admin_units(scope=scope)
        shape = units_all[units_all["code"] == view.code]
    minx, miny, maxx, maxy = shape.total_bounds
    (south, west), (north, east) = (
        list(reversed(display_point(minx, miny))),
        list(reversed(display_point(maxx, maxy))),
    )
    props = {
        "viewport": {"bounds": [[south, west], [north, east]], "transition": "fitBounds"},
        "children": EMPTY,
        "hideout": {"values": {}, "min": 0, "max": 1, "metric": metric, "fill": True},
        "gi": EMPTY,
        "shape": EMPTY,
        "buildings": EMPTY,
    }
    if metric == "gi":
        # Gi* over the grids of the user's scope: a township leader's own township
        spots = current_app.config["WANGGE_ANALYTICS"].hotspots(scope=scope, **_hot(hot))
        grids = store.grids(scope=scope)
        if view.level == "grid":
            grids = grids[grids["grid_code"] == view.code]
        elif view.level != "county":
            grids = grids[
                grids["grid_code"].str.startswith(
                    view.code[:9] if view.level == "township" else view.code
                )
            ]
        grids = grids.merge(
            spots[["grid_code", "gi_bin", "cases"]], on="grid_code", how="left"
        ).fillna({"gi_bin": 0, "cases": 0})
        props["gi"] = _json(
            feature_collection(grids, ["grid_code", "gi_bin", "cases"], id_column="grid_code")
        )
    units = view.children
    if len(units):
        values = {
            r.code: (None if isinstance(r.value, float) and math.isnan(r.value) else float(r.value))
            for r in units.assign(value=units[metric]).itertuples()
        }
        finite = [v for v in values.values() if v is not None]
        # the children's outlines change only with the reference data: kept per unit
        props["children"] = current_app.config["WANGGE_ANALYTICS"].memo(
            f"outlines|{view.level}|{view.code}",
            f"{store.data_version()}|{len(units)}",
            lambda: _json(feature_collection(units, ["code", "name"], id_column="code")),
        )
        props["hideout"] = {
            "values": values,
            "min": min(finite, default=0),
            "max": max(finite, default=1),
            "metric": metric,
            "fill": metric != "gi",
        }
    elif view.level == "grid":
        # a grid's outline and buildings change only with the reference data: kept per grid
        props["shape"], props["buildings"] = current_app.config["WANGGE_ANALYTICS"].memo(
            f"grid-layers|{scope!r}|{view.code}",
            str(store.data_version()),
            lambda: (
                _json(feature_collection(shape, [])),
                _json(
                    feature_collection(
                        store.buildings(tuple(shape.total_bounds), scope=scope),
                        ["kind", "households", "floors", "name"],
                    )
                ),
            ),
        )
    return props


def _map(props: dict, lang: str) -> dl.Map:
    """The map, built once per page: reference layers, then the layers a drill-down updates."""
    (south, west), (north, east) = props["viewport"]["bounds"]
    minx, miny = west, south
    maxx, maxy = east, north
    return dl.Map(
        id=ids.SIT_MAP,
        center=[(south + north) / 2, (west + east) / 2],
        zoom=fit_zoom(minx, miny, maxx, maxy, width=820, height=620),
        zoomSnap=0.25,
        preferCanvas=True,
        minZoom=8,
        maxZoom=19,
        className="sit-map",
        children=[
            geojson(url="/api/v1/layers/roads.geojson", style=style("road"), interactive=False),
            geojson(url="/api/v1/layers/water.geojson", style=style("water"), interactive=False),
            # the units' colours above the streets (fetched by URL, the roads would otherwise
            # draw last, over the hot spots): a pane of their own, above the overlay pane
            dl.Pane(
                name="sit-units",
                style={"zIndex": 450},
                children=[
                    geojson(
                        id=ids.SIT_GI,
                        data=props["gi"],
                        style=style("giBin"),
                        onEachFeature=feature("giTooltip"),
                    ),
                    geojson(
                        id=ids.SIT_CHILDREN,
                        data=props["children"],
                        style=style("metric"),
                        hideout=props["hideout"],
                        onEachFeature=feature("unitName"),
                    ),
                ],
            ),
            geojson(id=ids.SIT_SHAPE, data=props["shape"], style=style("selectedGrid")),
            geojson(
                id=ids.SIT_BUILDINGS,
                data=props["buildings"],
                style=style("building"),
                onEachFeature=feature("buildingTooltip"),
                hideout={
                    "households": t("tooltip.households", lang),
                    "kinds": labels("building", lang),
                },
            ),
            dl.ScaleControl(imperial=False, position="bottomright"),
        ],
    )


def _json(text: str) -> dict:
    """A layer's GeoJSON for the answer, coordinates as arrays (:func:`packed_collection`)."""
    return packed_collection(text)


def _crumbs(view, metric: str, lang: str) -> list:
    crumbs = []
    for i, (lv, c, name) in enumerate(view.chain):
        if i:
            crumbs.append(html.Span("›", className="crumb-sep"))
        label = name if lv != "grid" else f"{t('level.grid', lang)} {name}"
        current = i == len(view.chain) - 1
        crumbs.append(
            _go(label, lv, c, metric, lang, className="crumb" + (" current" if current else ""))
        )
    return crumbs


def _detail(view, metric: str, lang: str, hot: dict | None = None) -> html.Div:
    """The grid card at grid level, otherwise the children ranked by ``metric``; with the Gi*
    metric also the unit's ten hottest grids."""
    if view.grid is not None:
        return _grid_card(view, lang)
    parts = [html.H3(t(f"sit.children.{view.level}", lang)), _ranking(view, metric, lang)]
    if metric == "gi":
        parts.extend(_hot_list(view, lang, hot))
    return html.Div(parts, className="sit-section")


def _hot_list(view, lang: str, hot: dict | None) -> list:
    """The top-10 hot-spot grids of ``view``'s unit, Gi* computed over the user's scope."""
    scope = current_scope()
    spots = current_app.config["WANGGE_ANALYTICS"].hotspots(scope=scope, **_hot(hot))
    prefix = {"county": "", "township": view.code[:9]}.get(view.level, view.code)
    top = hot_grids(spots, prefix=prefix)
    names = dict(
        current_app.config["WANGGE_STORE"]
        .admin_units("community", scope=scope)[["code", "name"]]
        .itertuples(index=False)
    )
    within = "county" if scope.county_wide else "township"
    head = [
        html.H3(t("hot.top", lang)),
        html.Div(t(f"hot.within.{within}", lang), className="muted"),
    ]
    if top.empty:
        return [*head, html.Div(t("hot.none", lang), className="muted", id=ids.SIT_HOT_TOP)]
    cols = ("grid", "community", "cases", "z", "bin")
    rows = [
        html.Tr(
            [
                html.Td(_go(r.grid_code, "grid", r.grid_code, "gi", lang)),
                html.Td(names.get(r.grid_code[:12], r.grid_code[:12])),
                html.Td(_fmt(r.cases, "int")),
                html.Td(f"{r.gi_z:.2f}"),
                html.Td(t(f"sit.gi.{r.gi_bin}", lang), className=f"gi gi{r.gi_bin}"),
            ]
        )
        for r in top.itertuples()
    ]
    table = html.Table(
        [html.Thead(html.Tr([html.Th(t(f"hot.col.{c}", lang)) for c in cols])), html.Tbody(rows)],
        className="rank-table hot-table",
        id=ids.SIT_HOT_TOP,
    )
    return [*head, table]


def _figures(view, lang: str):
    trend = trend_figure(view.figures.trend, lang, LIGHT, grid_color="#eef0f3")
    cats = category_figure(view.figures.categories, lang, LIGHT)
    return trend, cats


def _view(level: str | None, code: str | None):
    return unit_view(
        current_app.config["WANGGE_STORE"],
        current_app.config["WANGGE_ANALYTICS"],
        level or "county",
        code,
        scope=current_scope(),
    )


def layout(
    lang: str | None = None,
    level: str | None = None,
    code: str | None = None,
    metric: str | None = None,
    period: str | None = None,
    category: str | None = None,
    **_query,
) -> html.Div:
    settings = current_app.config["WANGGE_SETTINGS"]
    lang = normalise_lang(lang, settings.lang)
    metric = metric if metric in METRICS else "per100"
    if not may_open_page("/situation"):
        return message_page(lang, "/situation", "error.forbidden")
    if current_app.config["WANGGE_STORE"].published_grid_version() is None:
        return message_page(lang, "/situation", "error.not_ready")
    view = _view(level, code)
    state = _clean_state(
        {"level": view.level, "code": view.code, "metric": metric, "lang": lang}
        | {"period": period, "category": category}
    )
    props = _map_props(view, metric, lang, state)
    body = [
        html.Div(
            [
                _map(props, lang),
                html.Div(_legend(metric, lang, view.level, props["hideout"]), id=ids.SIT_LEGEND),
            ],
            className="sit-map-wrap",
        ),
        html.Div(_side(view, state), className="sit-side"),
    ]
    return html.Div(
        className="page page-situation",
        children=[
            header(lang, "/situation"),
            dcc.Store(id=ids.SIT_STATE, data=state),
            dcc.Store(id=ids.SIT_URL_SYNC),
            dcc.Store(id=ids.SIT_TARGET),
            _bar(view, state),
            html.Div(className="sit-body", children=body),
        ],
    )


def _side(view, state: dict) -> list:
    """KPIs, ranking or grid card, trend and category charts."""
    metric, lang = state["metric"], state["lang"]
    graph = {"config": {"displayModeBar": False}, "style": {"height": "220px"}}
    trend, cats = _figures(view, lang)
    return [
        html.Div(_kpis(view, lang), id=ids.SIT_KPIS),
        html.Div(_detail(view, metric, lang, state), id=ids.SIT_DETAIL),
        html.Div(
            [html.H3(t("wall.trend", lang)), dcc.Graph(id=ids.SIT_TREND, figure=trend, **graph)],
            className="sit-section",
        ),
        html.Div(
            [html.H3(t("wall.categories", lang)), dcc.Graph(id=ids.SIT_CATS, figure=cats, **graph)],
            className="sit-section",
        ),
    ]


def _hot_choices(state: dict) -> html.Div:
    """The hot-spot period and category, shown with the Gi* metric."""
    lang = state["lang"]
    return html.Div(
        [
            dcc.Dropdown(
                id=ids.SIT_HOT_PERIOD,
                options=[{"label": t(f"window.{p}", lang), "value": p} for p in HOT_PERIODS],
                value=state["period"],
                clearable=False,
                className="hot-dropdown",
            ),
            dcc.Dropdown(
                id=ids.SIT_HOT_CATEGORY,
                options=[{"label": t(f"category.{c}", lang), "value": c} for c in CATEGORIES],
                value=state["category"],
                placeholder=t("hot.category", lang),
                className="hot-dropdown",
            ),
        ],
        id=ids.SIT_HOT_CHOICES,
        className=_hot_class(state["metric"]),
        title=t("hot.period", lang),
    )


def _hot_class(metric: str) -> str:
    return "hot-choices" if metric == "gi" else "hot-choices hidden"


def _bar(view, state: dict) -> html.Div:
    """The breadcrumbs, the metric chooser and, for Gi*, the hot-spot choices."""
    metric, lang = state["metric"], state["lang"]
    return html.Div(
        className="sit-bar",
        children=[
            html.Nav(_crumbs(view, metric, lang), className="breadcrumbs", id=ids.SIT_CRUMBS),
            html.Div(className="wall-spacer"),
            html.Label(t("sit.metric", lang)),
            dcc.Dropdown(
                id=ids.SIT_METRIC,
                options=[{"label": t(f"sit.metric.{m}", lang), "value": m} for m in METRICS],
                value=metric,
                clearable=False,
                className="metric-dropdown",
            ),
            _hot_choices(state),
        ],
    )


def _ramp_ends(metric: str, hideout: dict | None) -> tuple[str, str]:
    """The values at the ends of the colour ramp (the children's lowest and highest)."""
    kind = {"per100": "float", "patrol": "pct", "camera": "pct"}.get(metric, "int")
    hideout = hideout or {}
    return _fmt(hideout.get("min"), kind), _fmt(hideout.get("max"), kind)


def _legend(metric: str, lang: str, level: str = "county", hideout: dict | None = None) -> html.Div:
    """The legend of the map's colours with the values at the ends of the ramp (none at grid
    level, where only Gi* colours the map)."""
    if level == "grid" and metric != "gi":
        return html.Div()
    if metric == "gi":
        rows = [(f"gi{b}", t(f"sit.gi.{b}", lang)) for b in (3, 2, 1, 0, -1, -2, -3)]
        # the swatch's class (gi3 ... gi-3) carries the bin's colour (assets/wangge.css)
        return html.Div(
            [
                html.H4(t("sit.metric.gi", lang)),
                *[
                    html.Div(
                        [html.Span(className=f"swatch {css}"), html.Span(lbl)],
                        className="legend-row",
                    )
                    for css, lbl in rows
                ],
            ],
            className="panel sit-legend",
        )
    lo, hi = _ramp_ends(metric, hideout)
    return html.Div(
        [
            html.H4(t(f"sit.metric.{metric}", lang)),
            html.Div(className="swatch metric-ramp"),
            html.Div(
                [
                    html.Span(f"{t('sit.low', lang)} {lo}", id="sit-legend-min"),
                    html.Span(f"{hi} {t('sit.high', lang)}", id="sit-legend-max"),
                ],
                className="ramp-labels",
            ),
        ],
        className="panel sit-legend",
    )


def target(trigger, click, metric, state) -> dict | None:
    """The state after a click on a unit link (``trigger`` is the ``sit-target`` store and
    ``click`` its level and code), on a child on the map (``click`` is the feature), or a
    change of ``metric``, or of the hot-spot period or category (``click`` is the new value);
    None when nothing changes."""
    if not state:
        return None
    if trigger == ids.SIT_TARGET:
        if not click or not click.get("level") or not click.get("code"):
            return None
        new = {**state, "level": click["level"], "code": click["code"]}
    elif trigger == ids.SIT_CHILDREN:
        if not click or state["level"] not in CHILD_LEVEL:
            return None
        code = (click.get("properties") or {}).get("code") or click.get("id")
        if not code:
            return None
        new = {**state, "level": CHILD_LEVEL[state["level"]], "code": code}
    elif trigger == ids.SIT_METRIC:
        new = {**state, "metric": metric if metric in METRICS else "per100"}
    elif trigger == ids.SIT_HOT_PERIOD:
        new = _clean_state({**state, "period": click})
    elif trigger == ids.SIT_HOT_CATEGORY:
        new = _clean_state({**state, "category": click})
    else:
        return None
    return None if new == state else new


@callback(
    Output(ids.SIT_STATE, "data"),
    Output(ids.SIT_CRUMBS, "children"),
    Output(ids.SIT_KPIS, "children"),
    Output(ids.SIT_DETAIL, "children"),
    Output(ids.SIT_TREND, "figure"),
    Output(ids.SIT_CATS, "figure"),
    Output(ids.SIT_LEGEND, "children"),
    Output(ids.SIT_MAP, "viewport"),
    Output(ids.SIT_CHILDREN, "data"),
    Output(ids.SIT_CHILDREN, "hideout"),
    Output(ids.SIT_GI, "data"),
    Output(ids.SIT_SHAPE, "data"),
    Output(ids.SIT_BUILDINGS, "data"),
    Output(ids.SIT_HOT_CHOICES, "className"),
    Input(ids.SIT_TARGET, "data"),
    Input(ids.SIT_CHILDREN, "clickData"),
    Input(ids.SIT_METRIC, "value"),
    State(ids.SIT_STATE, "data"),
    Input(ids.SIT_HOT_PERIOD, "value"),
    Input(ids.SIT_HOT_CATEGORY, "value"),
    prevent_initial_call=True,
)
@page_callback("/situation")
def navigate(link, click, metric, state, period=None, category=None):
    """One level down (a child on the map or in the ranking), up (a breadcrumb), another
    metric, or another hot-spot period or category: the page's parts are updated in place. The
    unit is checked against the user's scope by :func:`wangge.services.metrics.unit_view`, as
    on a full page load."""
    trigger = ctx.triggered_id
    if not isinstance(state, dict):
        raise PreventUpdate
    state = _clean_state(state)
    value = {ids.SIT_TARGET: link, ids.SIT_HOT_PERIOD: period, ids.SIT_HOT_CATEGORY: category}
    new = target(trigger, value.get(trigger, click), metric, state)
    if new is None:
        raise PreventUpdate
    view = _view(new["level"], new["code"])
    new = {**new, "level": view.level, "code": view.code}
    return (new, *_unchanged(_parts(view, new), state, new))


def _clean_state(state: dict) -> dict:
    """The page's state as it came back from the browser: only known metrics and languages."""
    return {
        "level": str(state.get("level") or "county"),
        "code": str(state.get("code") or ""),
        "metric": state.get("metric") if state.get("metric") in METRICS else "per100",
        "lang": normalise_lang(state.get("lang")),
        "period": state.get("period") if state.get("period") in HOT_PERIODS else "30d",
        "category": state.get("category") if state.get("category") in CATEGORIES else None,
    }


def _parts(view, state: dict) -> tuple:
    """Every output of :func:`navigate` but the state, for ``view`` as ``state`` asks (its
    metric, language and hot-spot choices)."""
    metric, lang = state["metric"], state["lang"]
    trend, cats = _figures(view, lang)
    props = _map_props(view, metric, lang, state)
    return (
        _crumbs(view, metric, lang),
        _kpis(view, lang),
        _detail(view, metric, lang, state),
        trend,
        cats,
        _legend(metric, lang, view.level, props["hideout"]),
        *(props[k] for k in ("viewport", "children", "hideout", "gi", "shape", "buildings")),
        _hot_class(metric),
    )


def _unchanged(parts: tuple, old: dict, new: dict) -> tuple:
    """``parts`` (:func:`_parts`) with the map layers and classes the browser already shows as
    ``dash.no_update``: the grid's shape and buildings stay empty between two levels above the
    grid, the Gi* layer while neither metric is Gi*. A layer sent again, even empty, is rebuilt by
    dash-leaflet."""
    parts = list(parts)
    if old["level"] != "grid" and new["level"] != "grid":
        parts[10] = parts[11] = dash.no_update  # shape, buildings
    if old["metric"] != "gi" and new["metric"] != "gi":
        parts[9] = dash.no_update  # gi
    return tuple(parts)


# the URL follows the state without navigating, so a link to the current view can be shared
clientside_callback(
    ClientsideFunction(namespace="wangge_sit", function_name="pushUrl"),
    Output(ids.SIT_URL_SYNC, "data"),
    Input(ids.SIT_STATE, "data"),
    State(ids.SIT_URL_SYNC, "data"),
)
