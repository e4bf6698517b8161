"""态势地图 (situation map): the county drawn from local data, with its grids.

Boundaries, grids, streets, water and railways come from ``/api/v1/layers/*.geojson`` (cached
by the browser per data version); buildings are fetched per viewport once the map is zoomed in
far enough (level of detail). No tile server is needed; an optional tile URL adds raster tiles.
"""

from __future__ import annotations

import json

import dash
import dash_leaflet as dl
import pandas as pd
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
from flask import current_app

from dashboard import ids
from dashboard.auth import current_scope, may_open_page, page_callback
from dashboard.components.case_detail import card_frame, card_id
from dashboard.components.geojson import display_bounds, fitted_view, from_display
from dashboard.components.header import county_page_title, header, message_page
from dashboard.components.map_layers import (
    buildings_hint,
    households_legend,
    map_card,
    operational_legend,
    operational_overlays,
    reference_overlays,
    summary_stats,
    tile_base,
)
from dashboard.desk import desk_card
from dashboard.i18n import normalise_lang, t
from wangge.casework import CATEGORIES, STATUSES
from wangge.clock import local_now
from wangge.services import mapdata
from wangge.services.layers import BUILDINGS_LIMIT, BUILDINGS_MIN_ZOOM, feature_collection
from wangge.services.metrics import window_since

dash.register_page(__name__, path="/", name="map", title=county_page_title)

GRID_METRICS = ("households", "per100", "overdue", "patrol", "camera", "gi")


def _summary(lang: str, summary: dict) -> html.Div:
    band = (summary["band_min"], summary["band_max"])
    return html.Div(
        id=ids.SUMMARY,
        className="panel summary-panel",
        children=[
            html.H3(t("summary.title", lang)),
            html.Div(summary_stats(summary, lang), className="stats"),
            None if summary["grids"] else html.Div(t("summary.no_grids", lang), className="muted"),
            *_legend(lang, band),
            operational_legend(lang),
            buildings_hint(lang),
        ],
    )


def _legend(lang: str, band: tuple[int, int]) -> list:
    """The households legend, and the legend of another grid metric (filled in the browser)."""
    labels = {
        "none": t("legend.no_data", lang),
        "gi": {b: t(f"sit.gi.{b}", lang) for b in (3, 2, 1, 0, -1, -2, -3)},
    }
    metric = html.Div(id=ids.GRID_LEGEND, className="legend metric-legend hidden")
    return [
        dcc.Store(id=ids.GRID_LEGEND_LABELS, data=labels),
        metric,
        households_legend(lang, band),
    ]


def _county_map(home: tuple, summary: dict, settings, lang: str) -> dl.Map:
    """The map, opened on ``home`` (where people live and cases are; :meth:`home_bounds`)."""
    band = (summary["band_min"], summary["band_max"])
    # the first view is fitted again in the browser to the map's real size (a 4K screen, a
    # phone) once the grids are drawn: at the map's creation its box is not laid out yet
    home_bounds = display_bounds(*home)
    overlays = [*reference_overlays(lang, band, home_bounds), *operational_overlays(lang)]
    control = dl.LayersControl(
        [*tile_base(settings, lang), *overlays],
        # dash-leaflet 1.1.3 reads ``overlays`` when one is switched off: left undefined, the
        # first switch-off throws in the browser and the callbacks never hear of it
        overlays=[o.name for o in overlays if o.checked],
        collapsed=True,
        position="topright",
        id=ids.MAP_LAYERS,
    )
    return dl.Map(
        id=ids.MAP,
        **fitted_view(*home),
        preferCanvas=True,
        minZoom=8,
        maxZoom=19,
        zoomSnap=0.5,
        className="county-map",
        children=[control, dl.ScaleControl(imperial=False, position="bottomright")],
    )


def layout(lang: str | None = None, **_query) -> html.Div:
    settings = current_app.config["WANGGE_SETTINGS"]
    lang = normalise_lang(lang, settings.lang)
    if not may_open_page("/"):
        return message_page(lang, "/", "error.forbidden")
    layers = current_app.config["WANGGE_LAYERS"]
    county = layers.county(scope=current_scope())
    if len(county) == 0:
        return message_page(lang, "/", "error.not_ready")
    summary = layers.summary(scope=current_scope())
    return html.Div(
        className="page page-map",
        children=[
            header(lang, "/"),
            dcc.Store(id=ids.LANG_STORE, data=lang),
            dcc.Store(id=ids.GRID_VALUES),
            dcc.Store(id=ids.GRID_RESTYLED),
            dcc.Store(id=ids.MAP_CASE_RESTYLED),
            dcc.Interval(id=ids.GRID_VALUES_TICK, interval=GRID_VALUES_REFRESH * 1000),
            html.Div(
                className="map-wrap",
                children=[
                    _county_map(layers.home_bounds(scope=current_scope()), summary, settings, lang),
                    _summary(lang, summary),
                    _controls(lang),
                    _card(lang),
                ],
            ),
        ],
    )


def _card(lang: str) -> html.Div:
    """The card of a grid or case clicked on the map (filled by :func:`open_card`)."""
    return html.Div(
        className="panel map-card hidden",
        id=ids.MAP_CARD,
        children=[
            html.Button(
                "×", id=ids.MAP_CARD_CLOSE, className="card-close", title=t("mapcard.close", lang)
            ),
            html.Div(id=ids.MAP_CARD_BODY),
        ],
    )


def _controls(lang: str) -> html.Div:
    """The panel of what the operational layers show."""
    store = current_app.config["WANGGE_STORE"]
    workers = store.workers(scope=current_scope())
    today = local_now().date()
    return html.Div(
        className="panel controls-panel",
        children=[
            html.H4(t("ctl.grid_metric", lang)),
            dcc.Dropdown(
                id=ids.GRID_METRIC,
                options=[{"label": t(f"ctl.metric.{m}", lang), "value": m} for m in GRID_METRICS],
                value="households",
                clearable=False,
            ),
            html.H4(t("ctl.cases", lang)),
            dcc.Dropdown(
                id=ids.CASE_WINDOW,
                options=[
                    {"label": t(f"window.{w}", lang), "value": w}
                    for w in ("1d", "7d", "30d", "90d")
                ],
                value="7d",
                clearable=False,
            ),
            dcc.Dropdown(
                id=ids.CASE_CATEGORY,
                options=[{"label": t(f"category.{c}", lang), "value": c} for c in CATEGORIES],
                placeholder=t("cases.filter.category", lang),
            ),
            dcc.Dropdown(
                id=ids.CASE_STATUS,
                options=[{"label": t("ctl.open", lang), "value": "open"}]
                + [{"label": t(f"status.{c}", lang), "value": c} for c in STATUSES],
                placeholder=t("cases.filter.status", lang),
            ),
            html.Div(id=ids.CASE_COUNT, className="muted"),
            html.H4(t("ctl.track", lang)),
            dcc.Dropdown(
                id=ids.TRACK_WORKER,
                options=[
                    {"label": f"{r.name} · {r.grid_code}", "value": r.worker_id}
                    for r in workers.itertuples()
                ],
                placeholder=t("ctl.worker", lang),
            ),
            dcc.DatePickerSingle(
                id=ids.TRACK_DATE,
                date=str(today - pd.Timedelta(days=1)),
                display_format="YYYY-MM-DD",
                max_date_allowed=str(today),
                className="track-date",
            ),
            html.Div(id=ids.TRACK_STATUS, className="muted"),
        ],
    )


@callback(
    Output(ids.BUILDINGS, "data"),
    Output(ids.BUILDINGS_STATUS, "children"),
    Input(ids.MAP, "zoom"),
    Input(ids.MAP, "bounds"),
    State(ids.LANG_STORE, "data"),
)
@page_callback("/")
def show_buildings(zoom, bounds, lang):
    """Buildings in the viewport once zoomed in to :data:`BUILDINGS_MIN_ZOOM` or more."""
    lang = normalise_lang(lang)
    if zoom is None or bounds is None or zoom < BUILDINGS_MIN_ZOOM:
        return None, t("buildings.zoom_hint", lang, zoom=BUILDINGS_MIN_ZOOM)
    text, n, capped = current_app.config["WANGGE_LAYERS"].buildings(
        _box(bounds), scope=current_scope()
    )
    status = (
        t("buildings.capped", lang, n=BUILDINGS_LIMIT)
        if capped
        else t("buildings.shown", lang, n=n)
    )
    return json.loads(text), status


def _box(bounds) -> tuple[float, float, float, float]:
    """The map's bounds ([[south, west], [north, east]] as drawn) as a WGS84 box."""
    (south, west), (north, east) = bounds
    west, south = from_display(west, south)
    east, north = from_display(east, north)
    return west, south, east, north


def _h3_resolution(zoom: float | None) -> int:
    """Finer hexagons as the map zooms in (resolution 7 to 10), about one bubble's size (26-48
    px): at zoom 15, the map's first view of the town, resolution 9 (742 bins of a 30-day
    category at resolution 10 were as many DOM markers, most overlapping)."""
    z = zoom or 12
    return 7 if z < 12.5 else 8 if z < 14 else 9 if z < 16 else 10


#: Past this many cases in the view, the server sends one bubble per H3 cell instead of points.
MAX_POINTS = mapdata.MAX_POINTS


def _case_filters(window, category, status) -> dict:
    filters = {"since": window_since(window if window != "all" else "90d", "7d")}
    if category:
        filters["category"] = category
    if status and status != "open":
        filters["status"] = status
    if status == "open":
        filters["open"] = True
    return filters


@callback(
    Output(ids.CASES, "data"),
    Output(ids.CASE_BINS, "data"),
    Output(ids.CASE_COUNT, "children"),
    Input(ids.CASE_WINDOW, "value"),
    Input(ids.CASE_CATEGORY, "value"),
    Input(ids.CASE_STATUS, "value"),
    Input(ids.MAP, "zoom"),
    Input(ids.MAP, "bounds"),
    State(ids.LANG_STORE, "data"),
)
@page_callback("/")
def show_cases(window, category, status, zoom, bounds, lang):
    """Cases of the time window, category and status, as points or, past :data:`MAX_POINTS`
    in the view (the viewport counts from zoom 14 on), as bins
    (:func:`wangge.services.mapdata.case_layers`)."""
    cfg, scope, filters = (
        current_app.config,
        current_scope(),
        _case_filters(window, category, status),
    )
    bbox = _box(bounds) if bounds and (zoom or 0) >= 14 else None
    points, bins, total = mapdata.cached_case_layers(
        cfg["WANGGE_STORE"],
        cfg["WANGGE_ANALYTICS"],
        filters,
        scope=scope,
        resolution=_h3_resolution(zoom),
        bbox=bbox,
        max_points=MAX_POINTS,
    )
    return points, bins, t("cases.count", normalise_lang(lang), n=f"{total:,}")


@callback(
    Output(ids.HEXES, "data"),
    Input(ids.CASE_WINDOW, "value"),
    Input(ids.CASE_CATEGORY, "value"),
    Input(ids.CASE_STATUS, "value"),
    Input(ids.MAP, "zoom"),
    Input(ids.MAP_LAYERS, "overlays"),
    State(ids.LANG_STORE, "data"),
)
@page_callback("/")
def show_hexes(window, category, status, zoom, overlays, lang):
    """H3 hexagon counts of the same cases at a resolution that suits the zoom, computed and
    sent only while the hexagon layer is switched on (it is off by default)."""
    if t("layer.hexes", normalise_lang(lang)) not in (overlays or []):
        return None
    cells = current_app.config["WANGGE_STORE"].case_bins(
        scope=current_scope(),
        resolution=_h3_resolution(zoom),
        filters=_case_filters(window, category, status),
    )
    return mapdata.hex_layer(cells)


#: How often the map refreshes the grids' metric values (seconds).
GRID_VALUES_REFRESH = 60


@callback(
    Output(ids.GRID_VALUES, "data"),
    Input(ids.GRID_VALUES_TICK, "n_intervals"),
)
@page_callback("/")
def grid_values(_tick):
    """Every grid metric's values, per grid of the user's scope, sent once and then every
    :data:`GRID_VALUES_REFRESH` seconds: choosing a metric restyles the grids in the browser
    (``wangge.restyleGrids``: ``setStyle`` on the drawn polygons), with no round trip and no
    rebuild of the layer, which dash-leaflet does on every ``hideout`` change."""
    cfg = current_app.config
    grids = cfg["WANGGE_STORE"].grids(scope=current_scope()).drop(columns="geometry")
    return mapdata.grid_metric_values(cfg["WANGGE_ANALYTICS"], grids, scope=current_scope())


clientside_callback(
    ClientsideFunction(namespace="wangge_map", function_name="restyleGrids"),
    Output(ids.GRID_RESTYLED, "data"),
    Output(ids.GRID_LEGEND, "children"),
    Output(ids.GRID_LEGEND, "className"),
    Output(ids.HH_LEGEND, "className"),
    Input(ids.GRID_METRIC, "value"),
    Input(ids.GRID_VALUES, "data"),
    State(ids.LANG_STORE, "data"),
    State(ids.GRID_METRIC, "options"),
    State(ids.GRID_LEGEND_LABELS, "data"),
)


@callback(
    Output(ids.SECTORS, "data"),
    Output(ids.UNCOVERED, "data"),
    Input(ids.MAP_LAYERS, "overlays"),
    State(ids.SECTORS, "data"),
    State(ids.UNCOVERED, "data"),
    State(ids.LANG_STORE, "data"),
)
@page_callback("/")
def load_camera_layers(overlays, sectors, uncovered, lang):
    """Camera views and uncovered streets are loaded the first time their layer is switched on."""
    lang = normalise_lang(lang)
    overlays = overlays or []
    analytics = current_app.config["WANGGE_ANALYTICS"]
    out_sectors, out_uncovered = dash.no_update, dash.no_update
    if t("layer.cameras", lang) in overlays and not sectors:
        frame = analytics.sectors(scope=current_scope()).to_crs("EPSG:4326")
        out_sectors = json.loads(feature_collection(frame, ["camera_id", "status"], precision=1e-6))
    if t("layer.uncovered", lang) in overlays and not uncovered:
        frame = analytics.uncovered(scope=current_scope())
        out_uncovered = json.loads(feature_collection(frame, ["rank", "length_m", "cases"]))
    return out_sectors, out_uncovered


@callback(
    Output(ids.TRACK, "data"),
    Output(ids.TRACK_STATUS, "children"),
    Input(ids.TRACK_WORKER, "value"),
    Input(ids.TRACK_DATE, "date"),
    State(ids.LANG_STORE, "data"),
)
@page_callback("/")
def show_track(worker, day, lang):
    """One grid worker's GPS track on one (local) day, with its sessions and minutes."""
    lang = normalise_lang(lang)
    if not worker or not day:
        return None, ""
    store = current_app.config["WANGGE_STORE"]
    if worker not in set(store.workers(scope=current_scope())["worker_id"]):
        return None, t("error.forbidden", lang)
    track, n = mapdata.worker_track(store, worker, day, scope=current_scope())
    if track is None:
        return None, t("ctl.no_track", lang)
    minutes = f"{n['minutes']:.0f}"
    status = t("ctl.track_summary", lang, n=n["sessions"], minutes=minutes, fixes=n["fixes"])
    return track, status


@callback(
    Output(ids.MAP_CARD_BODY, "children"),
    Output(ids.MAP_CARD, "className"),
    Input(ids.GRIDS, "n_clicks"),
    Input(ids.CASES, "n_clicks"),
    Input(ids.MAP_CARD_CLOSE, "n_clicks"),
    State(ids.GRIDS, "clickData"),
    State(ids.CASES, "clickData"),
    State(ids.LANG_STORE, "data"),
    prevent_initial_call=True,
)
@page_callback("/")
def open_card(_grids_n, _cases_n, _close, grid_click, case_click, lang):
    """A click on a grid opens its card (:func:`wangge.services.mapdata.grid_card`), a click on
    a case its card with the actions the user may take (:func:`dashboard.desk.desk_card`, the
    case list's; its buttons are answered by :func:`dashboard.pages.cases.act`); the close
    button hides the card. Grids and cases outside the user's scope open nothing. Triggered by the clicks' count, so a second
    click on the same grid after closing opens it again (its clickData does not change)."""
    lang, cfg = normalise_lang(lang), current_app.config
    trigger, hidden = ctx.triggered_id, "panel map-card hidden"
    click = grid_click if trigger == ids.GRIDS else case_click
    if trigger not in (ids.GRIDS, ids.CASES) or not isinstance(click, dict):
        return None, hidden
    props = click.get("properties") or {}
    if trigger == ids.GRIDS:
        card = mapdata.grid_card(
            cfg["WANGGE_STORE"],
            cfg["WANGGE_ANALYTICS"],
            props.get("grid_code"),
            scope=current_scope(),
        )
        return (map_card(card, lang), "panel map-card") if card else (None, hidden)
    if props.get("cluster") or not isinstance(click.get("id"), str):
        return dash.no_update, dash.no_update  # a cluster zooms in
    card = desk_card(click["id"], lang, where="map")
    return (card_frame(card, where="map"), "panel map-card") if card else (None, hidden)


# an action in the map's case card (dashboard.pages.cases.act) restyles the case's dot
clientside_callback(
    ClientsideFunction(namespace="wangge_map", function_name="restyleCase"),
    Output(ids.MAP_CASE_RESTYLED, "data"),
    Input(card_id(ids.CASE_CARD_ROW, "map"), "data"),
    prevent_initial_call=True,
)
