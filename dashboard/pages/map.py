"""态势地图 (situation map): the county drawn from local data, with its grids.

Boundaries, grids, streets, water and railways come from ``/api/v1/layers/*.geojson`` (cached
by the browser per data version); buildings are fetched per viewport once the map is zoomed in
far enough (level of detail). No tile server is needed; an optional tile URL adds raster tiles.
"""

from __future__ import annotations

import json
import math

import dash
import dash_leaflet as dl
from dash import Input, Output, State, callback, dcc, html
from dash_extensions.javascript import Namespace
from flask import current_app

from dashboard import ids
from dashboard.components.header import header
from dashboard.i18n import normalise_lang, t
from dashboard.layers import BUILDINGS_LIMIT, BUILDINGS_MIN_ZOOM

dash.register_page(__name__, path="/", name="态势地图", title="网格化管理指挥中心")

style = Namespace("wangge", "style")
feature = Namespace("wangge", "feature")

MIN_HOUSEHOLDS, MAX_HOUSEHOLDS = 300, 500


def _layer(
    name: str, component_id: str, lang: str, *, checked: bool = True, **geojson
) -> dl.Overlay:
    return dl.Overlay(
        dl.GeoJSON(id=component_id, url=f"/api/v1/layers/{name}.geojson", **geojson),
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
    summary = current_app.config["WANGGE_LAYERS"].summary()
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
                t("summary.in_band", lang), f"{summary['in_band'] / n:.1%}", test_id="stat-in-band"
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
            _legend(lang),
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


def _legend(lang: str) -> html.Div:
    return html.Div(
        className="legend",
        children=[
            html.H4(t("legend.households", lang)),
            _swatch("hh-below", f"< {MIN_HOUSEHOLDS} {t('legend.below', lang)}"),
            _swatch("hh-band", f"{MIN_HOUSEHOLDS}–{MAX_HOUSEHOLDS} {t('legend.in_band', lang)}"),
            _swatch("hh-above", f"> {MAX_HOUSEHOLDS} {t('legend.above', lang)}"),
            _swatch("hh-flagged", t("legend.flagged", lang)),
            _swatch("line-arterial", t("legend.arterial", lang)),
            _swatch("line-local", t("legend.local", lang)),
            _swatch("fill-river", t("legend.river", lang)),
            _swatch("line-railway", t("legend.railway", lang)),
        ],
    )


def fit_zoom(
    minx: float, miny: float, maxx: float, maxy: float, *, width: int = 1300, height: int = 760
) -> float:
    """The largest zoom (in half levels) at which the box fits a map of about width x height px."""
    lon_span = max(maxx - minx, 1e-9)
    y0, y1 = (math.log(math.tan(math.pi / 4 + math.radians(v) / 2)) for v in (miny, maxy))
    lat_span = max((y1 - y0) / (2 * math.pi) * 360, 1e-9)  # in "mercator degrees"
    z = min(math.log2(width * 360 / (256 * lon_span)), math.log2(height * 360 / (256 * lat_span)))
    return max(8.0, min(18.0, math.floor(z * 2) / 2))


def layout(lang: str | None = None, **_query) -> html.Div:
    settings = current_app.config["WANGGE_SETTINGS"]
    lang = normalise_lang(lang, settings.lang)
    county = current_app.config["WANGGE_LAYERS"].county()
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
            dl.GeoJSON(
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
    ]
    return html.Div(
        className="page page-map",
        children=[
            header(lang, "/"),
            dcc.Store(id=ids.LANG_STORE, data=lang),
            html.Div(
                className="map-wrap",
                children=[
                    dl.Map(
                        id=ids.MAP,
                        bounds=[[miny, minx], [maxy, maxx]],
                        center=[(miny + maxy) / 2, (minx + maxx) / 2],
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
                ],
            ),
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
    text, n, capped = current_app.config["WANGGE_LAYERS"].buildings((west, south, east, north))
    status = (
        t("buildings.capped", lang, n=BUILDINGS_LIMIT)
        if capped
        else t("buildings.shown", lang, n=n)
    )
    return json.loads(text), status
