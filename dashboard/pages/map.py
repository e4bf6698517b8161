"""态势地图 (situation map): the county drawn from local data, with its grids.

Boundaries, grids, streets, water and railways come from ``/api/v1/layers/*.geojson`` (cached
by the browser per data version); buildings are fetched per viewport once the map is zoomed in
far enough (level of detail). No tile server is needed; an optional tile URL adds raster tiles.
"""

from __future__ import annotations

import json
import logging
import math

import dash
import dash_leaflet as dl
import geopandas as gpd
import numpy as np
import pandas as pd
from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    dcc,
    html,
)
from dash_extensions.javascript import Namespace
from flask import current_app

from dashboard import ids
from dashboard.auth import allowed_page, scope, within_scope
from dashboard.components.geojson import display_point, from_display, geojson
from dashboard.components.header import header
from dashboard.i18n import normalise_lang, t
from wangge.casework import CATEGORIES, LOCAL_TZ, STATUSES
from wangge.services.layers import BUILDINGS_LIMIT, BUILDINGS_MIN_ZOOM, feature_collection, fit_zoom
from wangge.services.metrics import cube_grid_stats, window_since

dash.register_page(__name__, path="/", name="态势地图", title="网格化管理指挥中心")

log = logging.getLogger(__name__)
style = Namespace("wangge", "style")
feature = Namespace("wangge", "feature")

MIN_HOUSEHOLDS, MAX_HOUSEHOLDS = 300, 500
GRID_METRICS = ("households", "per100", "overdue", "patrol", "camera", "gi")


def _layer(name: str, component_id: str, lang: str, *, checked: bool = True, **props) -> dl.Overlay:
    return dl.Overlay(
        geojson(id=component_id, url=f"/api/v1/layers/{name}.geojson", **props),
        name=t(f"layer.{name}", lang),
        checked=checked,
    )


def _stat(label: str, value: str, *, test_id: str) -> html.Div:
    return html.Div(
        className="stat",
        children=[
            html.Div(value, className="stat-value", id=test_id),
            html.Div(label, className="stat-label"),
        ],
    )


def _summary(lang: str) -> html.Div:
    summary = current_app.config["WANGGE_LAYERS"].summary(scope=scope())
    n = summary["grids"]
    stats = [
        _stat(t("summary.townships", lang), f"{summary['townships']:,}", test_id="stat-townships"),
        _stat(
            t("summary.communities", lang),
            f"{summary['communities']:,}",
            test_id="stat-communities",
        ),
        _stat(t("summary.grids", lang), f"{n:,}", test_id="stat-grids"),
        _stat(t("summary.buildings", lang), f"{summary['buildings']:,}", test_id="stat-buildings"),
        _stat(
            t("summary.households", lang), f"{summary['households']:,}", test_id="stat-households"
        ),
    ]
    if n:
        stats.append(
            _stat(
                t("summary.in_band", lang),
                f"{summary['in_band'] / max(1, summary['urban_grids']):.1%}",
                test_id="stat-in-band",
            )
        )
        stats.append(
            _stat(t("summary.flagged", lang), f"{summary['flagged']:,}", test_id="stat-flagged")
        )
    return html.Div(
        id=ids.SUMMARY,
        className="panel summary-panel",
        children=[
            html.H3(t("summary.title", lang)),
            html.Div(stats, className="stats"),
            None if n else html.Div(t("summary.no_grids", lang), className="muted"),
            *_legend(lang),
            html.Div(
                t("buildings.zoom_hint", lang, zoom=BUILDINGS_MIN_ZOOM),
                id=ids.BUILDINGS_STATUS,
                className="muted",
            ),
        ],
    )


def _swatch(css_class: str, label: str) -> html.Div:
    return html.Div(
        [html.Span(className=f"swatch {css_class}"), html.Span(label)], className="legend-row"
    )


def _legend(lang: str) -> list:
    """The households legend, and the legend of another grid metric (filled in the browser)."""
    labels = {
        "none": t("legend.no_data", lang),
        "gi": {b: t(f"sit.gi.{b}", lang) for b in (3, 2, 1, 0, -1, -2, -3)},
    }
    metric = html.Div(id=ids.GRID_LEGEND, className="legend metric-legend hidden")
    return [
        dcc.Store(id=ids.GRID_LEGEND_LABELS, data=labels),
        metric,
        _households_legend(lang),
    ]


def _households_legend(lang: str) -> html.Div:
    return html.Div(
        id=ids.HH_LEGEND,
        className="legend",
        children=[
            html.H4(t("legend.households", lang)),
            _swatch("hh-below", f"< {MIN_HOUSEHOLDS} {t('legend.below', lang)}"),
            _swatch("hh-band", f"{MIN_HOUSEHOLDS}–{MAX_HOUSEHOLDS} {t('legend.in_band', lang)}"),
            _swatch("hh-above", f"> {MAX_HOUSEHOLDS} {t('legend.above', lang)}"),
            _swatch("hh-flagged", t("legend.flagged", lang)),
            _swatch("grid-rural", t("legend.rural", lang)),
            _swatch("grid-special", t("legend.special", lang)),
            _swatch("line-arterial", t("legend.arterial", lang)),
            _swatch("line-local", t("legend.local", lang)),
            _swatch("fill-river", t("legend.river", lang)),
            _swatch("line-railway", t("legend.railway", lang)),
        ],
    )


def layout(lang: str | None = None, **_query) -> html.Div:
    settings = current_app.config["WANGGE_SETTINGS"]
    lang = normalise_lang(lang, settings.lang)
    if not allowed_page("/"):
        return html.Div(
            [header(lang, "/"), html.Div(t("error.forbidden", lang), className="panel")]
        )
    county = current_app.config["WANGGE_LAYERS"].county(scope=scope())
    if len(county) == 0:
        return html.Div(
            [header(lang, "/"), html.Div(t("error.not_ready", lang), className="panel")]
        )
    minx, miny, maxx, maxy = county.total_bounds
    labels = {"households": t("tooltip.households", lang), "lang": lang}
    band = {"min": MIN_HOUSEHOLDS, "max": MAX_HOUSEHOLDS, **labels}
    base = []
    if settings.tile_url:
        base.append(
            dl.BaseLayer(
                dl.TileLayer(
                    url=settings.tile_url, attribution=settings.tile_attribution, maxZoom=19
                ),
                name=t("layer.tiles", lang),
                checked=True,
            )
        )
    overlays = [
        _layer("water", ids.WATER, lang, style=style("water"), interactive=False),
        _layer(
            "grids",
            ids.GRIDS,
            lang,
            style=style("grid"),
            hideout=band,
            onEachFeature=feature("gridTooltip"),
        ),
        _layer("roads", ids.ROADS, lang, style=style("road"), interactive=False),
        _layer("railways", ids.RAILWAYS, lang, style=style("railway"), interactive=False),
        dl.Overlay(
            geojson(
                id=ids.BUILDINGS,
                data=None,
                style=style("building"),
                hideout=labels,
                onEachFeature=feature("buildingTooltip"),
            ),
            name=t("layer.buildings", lang),
            checked=True,
        ),
        _layer(
            "communities",
            ids.COMMUNITIES,
            lang,
            style=style("community"),
            onEachFeature=feature("unitTooltip"),
        ),
        _layer("townships", ids.TOWNSHIPS, lang, style=style("township"), interactive=False),
        dl.Overlay(
            geojson(
                id=ids.HEXES, data=None, style=style("hex"), onEachFeature=feature("hexTooltip")
            ),
            name=t("layer.hexes", lang),
            checked=False,
        ),
        dl.Overlay(
            geojson(id=ids.SECTORS, data=None, style=style("sector"), interactive=False),
            name=t("layer.cameras", lang),
            checked=False,
        ),
        dl.Overlay(
            geojson(
                id=ids.UNCOVERED,
                data=None,
                style=style("uncovered"),
                onEachFeature=feature("uncoveredTooltip"),
            ),
            name=t("layer.uncovered", lang),
            checked=False,
        ),
        dl.Overlay(
            geojson(
                id=ids.CASES,
                data=None,
                cluster=True,
                zoomToBoundsOnClick=True,
                superClusterOptions={"radius": 70, "maxZoom": 17},
                pointToLayer=feature("casePoint"),
                onEachFeature=feature("caseTooltip"),
                hideout={
                    "categories": {c: t(f"category.{c}", lang) for c in CATEGORIES},
                    "statuses": {c: t(f"status.{c}", lang) for c in STATUSES},
                },
            ),
            name=t("layer.cases", lang),
            checked=True,
        ),
        dl.Overlay(
            geojson(id=ids.CASE_BINS, data=None, pointToLayer=feature("caseBin")),
            name=t("layer.case_bins", lang),
            checked=True,
        ),
        dl.Overlay(
            geojson(
                id=ids.TRACK, data=None, style=style("track"), pointToLayer=feature("trackPoint")
            ),
            name=t("layer.track", lang),
            checked=True,
        ),
    ]
    return html.Div(
        className="page page-map",
        children=[
            header(lang, "/"),
            dcc.Store(id=ids.LANG_STORE, data=lang),
            dcc.Store(id=ids.GRID_VALUES),
            dcc.Store(id=ids.GRID_RESTYLED),
            dcc.Interval(id=ids.GRID_VALUES_TICK, interval=GRID_VALUES_REFRESH * 1000),
            html.Div(
                className="map-wrap",
                children=[
                    dl.Map(
                        id=ids.MAP,
                        center=list(reversed(display_point((minx + maxx) / 2, (miny + maxy) / 2))),
                        zoom=fit_zoom(minx, miny, maxx, maxy),
                        preferCanvas=True,
                        minZoom=8,
                        maxZoom=19,
                        zoomSnap=0.5,
                        className="county-map",
                        children=[
                            dl.LayersControl(
                                [*base, *overlays],
                                collapsed=True,
                                position="topright",
                                id=ids.MAP_LAYERS,
                            ),
                            dl.ScaleControl(imperial=False, position="bottomright"),
                        ],
                    ),
                    _summary(lang),
                    _controls(lang),
                ],
            ),
        ],
    )


def _controls(lang: str) -> html.Div:
    """The panel of what the operational layers show."""
    store = current_app.config["WANGGE_STORE"]
    workers = store.workers()
    workers = workers[[within_scope(g) for g in workers["grid_code"]]]
    today = pd.Timestamp.now(tz=LOCAL_TZ).date()
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
def show_buildings(zoom, bounds, lang):
    """Buildings in the viewport once zoomed in to :data:`BUILDINGS_MIN_ZOOM` or more."""
    lang = normalise_lang(lang)
    if zoom is None or bounds is None or zoom < BUILDINGS_MIN_ZOOM:
        return None, t("buildings.zoom_hint", lang, zoom=BUILDINGS_MIN_ZOOM)
    (south, west), (north, east) = bounds
    west, south = from_display(west, south)
    east, north = from_display(east, north)
    text, n, capped = current_app.config["WANGGE_LAYERS"].buildings(
        (west, south, east, north), scope=scope()
    )
    status = (
        t("buildings.capped", lang, n=BUILDINGS_LIMIT)
        if capped
        else t("buildings.shown", lang, n=n)
    )
    return json.loads(text), status


def _h3_resolution(zoom: float | None) -> int:
    """Finer hexagons as the map zooms in (resolution 7 to 10)."""
    z = zoom or 12
    return 7 if z < 12 else 8 if z < 13.5 else 9 if z < 15 else 10


#: Past this many cases in the view, the server sends one bubble per H3 cell instead of points.
MAX_POINTS = 6000


def _case_filters(window, category, status) -> dict:
    filters = {"since": window_since(window if window != "all" else "90d", "7d")}
    if category:
        filters["category"] = category
    if status and status != "open":
        filters["status"] = status
    if scope():
        filters["township_codes"] = [scope()]
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
def show_cases(window, category, status, zoom, bounds, lang):
    """Cases of the time window, category and status. Up to :data:`MAX_POINTS` cases in the
    view travel as points (clustered in the browser); past that the server sends one bubble per
    H3 cell (count and overdue count), so a 60,000-case month does not ship 60,000 features."""
    lang = normalise_lang(lang)
    filters = _case_filters(window, category, status)
    store = current_app.config["WANGGE_STORE"]
    res = _h3_resolution(zoom)
    bbox = None
    if bounds and (zoom or 0) >= 14:
        (south, west), (north, east) = bounds
        west, south = from_display(west, south)
        east, north = from_display(east, north)
        bbox = (west, south, east, north)
    cells = store.case_bins(resolution=res, filters=filters)  # H3 cells stored with each case
    total = sum(c[3] for c in cells)
    count = t("cases.count", lang, n=f"{total:,}")
    if not total:
        return None, None, count
    in_view = cells if bbox is None else store.case_bins(resolution=res, filters=filters, bbox=bbox)
    if sum(c[3] for c in in_view) <= MAX_POINTS:
        rows = store.case_points(filters=filters, bbox=bbox)
        points = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": cid,
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {"c": cat, "s": st, "o": od},
                }
                for cid, lon, lat, cat, st, od in rows
            ],
        }
        return points, None, count
    bins = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": cell,
                "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
                "properties": {"n": n, "o": od},
            }
            for cell, lon, lat, n, od in in_view
        ],
    }
    return None, bins, count


@callback(
    Output(ids.HEXES, "data"),
    Input(ids.CASE_WINDOW, "value"),
    Input(ids.CASE_CATEGORY, "value"),
    Input(ids.CASE_STATUS, "value"),
    Input(ids.MAP, "zoom"),
    Input(ids.MAP_LAYERS, "overlays"),
    State(ids.LANG_STORE, "data"),
)
def show_hexes(window, category, status, zoom, overlays, lang):
    """H3 hexagon counts of the same cases at a resolution that suits the zoom, computed and
    sent only while the hexagon layer is switched on (it is off by default)."""
    if t("layer.hexes", normalise_lang(lang)) not in (overlays or []):
        return None
    cells = current_app.config["WANGGE_STORE"].case_bins(
        resolution=_h3_resolution(zoom), filters=_case_filters(window, category, status)
    )
    if not cells:
        return None
    return _hex_layer(np.array([c[0] for c in cells]), np.array([c[3] for c in cells]))


def _hex_layer(uniq: np.ndarray, counts: np.ndarray) -> dict:
    """H3 cells with their counts and share of the busiest cell, as GeoJSON polygons."""
    from geo.analytics.hexes import h3_cell_polygons

    polygons = h3_cell_polygons(uniq)
    frame = gpd.GeoDataFrame(
        {"h3_cell": uniq, "count": counts, "share": counts / counts.max()},
        geometry=polygons.to_numpy(),
        crs="EPSG:4326",
    )
    return json.loads(feature_collection(frame, ["h3_cell", "count", "share"], id_column="h3_cell"))


#: How often the map refreshes the grids' metric values (seconds).
GRID_VALUES_REFRESH = 60


@callback(
    Output(ids.GRID_VALUES, "data"),
    Input(ids.GRID_VALUES_TICK, "n_intervals"),
)
def grid_values(_tick):
    """Every grid metric's values, per grid of the user's scope, sent once and then every
    :data:`GRID_VALUES_REFRESH` seconds: choosing a metric restyles the grids in the browser
    (``wangge.restyleGrids``: ``setStyle`` on the drawn polygons), with no round trip and no
    rebuild of the layer, which dash-leaflet does on every ``hideout`` change."""
    cfg = current_app.config
    store = cfg["WANGGE_STORE"]
    analytics = cfg["WANGGE_ANALYTICS"]
    grids = store.grids().drop(columns="geometry")
    grids = grids[[within_scope(g) for g in grids["grid_code"]]]
    codes = list(grids["grid_code"])
    # the last 30 local days' reports and the open overdue cases per grid, from the drill-down's
    # case cube (cached; the same figures as the 态势 page)
    stats = cube_grid_stats(analytics.case_cube())
    raw = {
        # undefined for grids without households (schools, industrial parks: 专属网格)
        "per100": {
            g: 100 * stats.get(g, (0, 0, 0))[0] / h if h > 0 else None
            for g, h in zip(codes, grids["households"], strict=True)
        },
        "overdue": {g: stats.get(g, (0, 0, 0))[2] for g in codes},
    }
    for metric, compute, column in (
        ("patrol", analytics.patrol_yesterday, "patrol_street_share"),
        ("camera", analytics.camera_coverage, "camera_street_share"),
        ("gi", analytics.hotspots, "gi_bin"),
    ):
        try:
            frame = compute()
        except Exception:  # one failed analysis leaves its metric grey, not the map broken
            log.exception("grid metric %s failed; shown as missing", metric)
            frame = pd.DataFrame(columns=["grid_code", column])
        raw[metric] = dict(zip(frame["grid_code"], frame[column], strict=True))
    out = {}
    for metric, values in raw.items():
        clean = {
            g: (
                None
                if values.get(g) is None
                or (isinstance(values.get(g), float) and math.isnan(values[g]))
                else round(float(values[g]), 4)
            )
            for g in codes
        }
        finite = [v for v in clean.values() if v is not None]
        top = max(finite, default=1)
        if metric in ("per100", "overdue") and len(finite) >= 20:
            # the colour ramp ends at the 95th percentile, so one outlier does not wash out the
            # rest; the legend then reads "≥ vmax"
            top = float(np.percentile(finite, 95)) or top
        out[metric] = {
            "values": clean,
            "vmin": min(finite, default=0),
            "vmax": top,
            "clipped": top < max(finite, default=top),
        }
    return out


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
def load_camera_layers(overlays, sectors, uncovered, lang):
    """Camera views and uncovered streets are loaded the first time their layer is switched on."""
    lang = normalise_lang(lang)
    overlays = overlays or []
    analytics = current_app.config["WANGGE_ANALYTICS"]
    out_sectors, out_uncovered = dash.no_update, dash.no_update
    if t("layer.cameras", lang) in overlays and not sectors:
        frame = analytics.sectors().to_crs("EPSG:4326")
        if scope():
            cams = current_app.config["WANGGE_STORE"].cameras()
            mine = set(cams.loc[[within_scope(g) for g in cams["grid_code"]], "camera_id"])
            frame = frame[frame["camera_id"].isin(mine)]
        out_sectors = json.loads(feature_collection(frame, ["camera_id", "status"], precision=1e-6))
    if t("layer.uncovered", lang) in overlays and not uncovered:
        frame = analytics.uncovered()
        if scope():
            area = current_app.config["WANGGE_LAYERS"].county(scope=scope()).union_all()
            frame = frame[frame.intersects(area)]
        out_uncovered = json.loads(feature_collection(frame, ["rank", "length_m", "cases"]))
    return out_sectors, out_uncovered


@callback(
    Output(ids.TRACK, "data"),
    Output(ids.TRACK_STATUS, "children"),
    Input(ids.TRACK_WORKER, "value"),
    Input(ids.TRACK_DATE, "date"),
    State(ids.LANG_STORE, "data"),
)
def show_track(worker, day, lang):
    """One grid worker's GPS track on one (local) day, with its sessions and minutes."""
    from geo.analytics.patrols import patrol_sessions

    lang = normalise_lang(lang)
    if not worker or not day:
        return None, ""
    workers = current_app.config["WANGGE_STORE"].workers().set_index("worker_id")
    if worker not in workers.index or not within_scope(workers.loc[worker, "grid_code"]):
        return None, t("error.forbidden", lang)
    start = pd.Timestamp(day).tz_localize(LOCAL_TZ)
    fixes = current_app.config["WANGGE_STORE"].patrol_points(
        worker_id=worker,
        since=start.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        until=(start + pd.Timedelta(days=1)).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    if fixes.empty:
        return None, t("ctl.no_track", lang)
    sessions = patrol_sessions(fixes, person="worker_id", time="at")
    features = []
    for s in sessions.itertuples():
        part = fixes[(fixes["at"] >= s.start) & (fixes["at"] <= s.end)]
        coords = part[["lon", "lat"]].to_numpy().tolist()
        if len(coords) >= 2:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": coords},
                    "properties": {"session": int(s.session)},
                }
            )
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": coords[0]},
                "properties": {"start": s.start.tz_convert(LOCAL_TZ).strftime("%H:%M")},
            }
        )
    minutes = float(sessions["minutes"].sum())
    status = t(
        "ctl.track_summary", lang, n=len(sessions), minutes=f"{minutes:.0f}", fixes=len(fixes)
    )
    return {"type": "FeatureCollection", "features": features}, status
