"""The layers, legend and overview of the situation map (layout factories, no side effects).

The grids' colours follow the household band of the published grid version: the band travels in
the grid layer's ``hideout`` (``min``, ``max``; read by ``wangge.style.grid`` in assets) and is
written in the legend.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import dcc, html
from dash_extensions.javascript import Namespace

from dashboard import i18n, ids
from dashboard.components.geojson import geojson
from dashboard.i18n import t
from wangge.casework import CATEGORIES, STATUSES
from wangge.services.layers import BUILDINGS_MIN_ZOOM

__all__ = [
    "CASE_COLOURS",
    "buildings_hint",
    "map_card",
    "operational_legend",
    "households_legend",
    "in_band_stat",
    "operational_overlays",
    "reference_overlays",
    "stat",
    "summary_stats",
    "swatch",
    "tile_base",
]

#: The case dots' colours by category (the map's ``casePoint`` and its legend).
CASE_COLOURS = {
    "dispute": "#722ed1",
    "safety": "#fa541c",
    "sanitation": "#52c41a",
    "facilities": "#1890ff",
    "order": "#eb2f96",
    "services": "#faad14",
}

style = Namespace("wangge", "style")
feature = Namespace("wangge", "feature")


def _layer(name: str, component_id: str, lang: str, *, checked: bool = True, **props) -> dl.Overlay:
    return dl.Overlay(
        geojson(id=component_id, url=f"/api/v1/layers/{name}.geojson", **props),
        name=t(f"layer.{name}", lang),
        checked=checked,
    )


def _overlay(name: str, lang: str, *, checked: bool, **props) -> dl.Overlay:
    """A layer whose data the page's callbacks send."""
    return dl.Overlay(geojson(data=None, **props), name=t(f"layer.{name}", lang), checked=checked)


def tile_base(settings, lang: str) -> list:
    """The optional raster tiles of ``settings.tile_url`` as a base layer."""
    if not settings.tile_url:
        return []
    tiles = dl.TileLayer(url=settings.tile_url, attribution=settings.tile_attribution, maxZoom=19)
    return [dl.BaseLayer(tiles, name=t("layer.tiles", lang), checked=True)]


def reference_overlays(lang: str, band: tuple[int, int], home: list | None = None) -> list:
    """Water, grids (coloured by ``band``), streets, railways, buildings and boundaries.
    ``home`` (Leaflet bounds) is the first view, which the browser fits to the map's size once
    the grids are drawn (``wangge.feature.gridTooltip``)."""
    labels = {"households": t("tooltip.households", lang), "lang": lang}
    hideout = {"min": band[0], "max": band[1], "flags": i18n.labels("flag", lang), **labels}
    if home is not None:
        hideout["home"] = home
    buildings = {**labels, "kinds": i18n.labels("building", lang)}
    return [
        _layer("water", ids.WATER, lang, style=style("water"), interactive=False),
        _layer(
            "grids",
            ids.GRIDS,
            lang,
            style=style("grid"),
            hideout=hideout,
            onEachFeature=feature("gridTooltip"),
        ),
        _layer("roads", ids.ROADS, lang, style=style("road"), interactive=False),
        _layer("railways", ids.RAILWAYS, lang, style=style("railway"), interactive=False),
        _overlay(
            "buildings",
            lang,
            checked=True,
            id=ids.BUILDINGS,
            style=style("building"),
            hideout=buildings,
            onEachFeature=feature("buildingTooltip"),
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


def operational_overlays(lang: str) -> list:
    """Case density, camera views, uncovered streets, cases and a worker's track."""
    case_labels = {
        "categories": {c: t(f"category.{c}", lang) for c in CATEGORIES},
        "statuses": {c: t(f"status.{c}", lang) for c in STATUSES},
        "colors": CASE_COLOURS,
    }
    return [
        _overlay(
            "hexes",
            lang,
            checked=False,
            id=ids.HEXES,
            style=style("hex"),
            onEachFeature=feature("hexTooltip"),
        ),
        _overlay(
            "cameras",
            lang,
            checked=False,
            id=ids.SECTORS,
            style=style("sector"),
            interactive=False,
        ),
        _overlay(
            "uncovered",
            lang,
            checked=False,
            id=ids.UNCOVERED,
            style=style("uncovered"),
            onEachFeature=feature("uncoveredTooltip"),
        ),
        _overlay(
            "cases",
            lang,
            checked=True,
            id=ids.CASES,
            cluster=True,
            zoomToBoundsOnClick=True,
            superClusterOptions={"radius": 70, "maxZoom": 17},
            pointToLayer=feature("casePoint"),
            onEachFeature=feature("caseTooltip"),
            hideout=case_labels,
        ),
        _overlay(
            "case_bins", lang, checked=True, id=ids.CASE_BINS, pointToLayer=feature("caseBin")
        ),
        _overlay(
            "track",
            lang,
            checked=True,
            id=ids.TRACK,
            style=style("track"),
            pointToLayer=feature("trackPoint"),
        ),
    ]


def stat(label: str, value: str, *, test_id: str) -> html.Div:
    return html.Div(
        className="stat",
        children=[
            html.Div(value, className="stat-value", id=test_id),
            html.Div(label, className="stat-label"),
        ],
    )


def summary_stats(summary: dict, lang: str) -> list:
    """The overview's figures (``LayerService.summary``)."""
    keys = ("townships", "communities", "grids", "buildings", "households")
    stats = [stat(t(f"summary.{k}", lang), f"{summary[k]:,}", test_id=f"stat-{k}") for k in keys]
    if summary["grids"]:
        stats.append(in_band_stat(summary, lang))
        stats.append(
            stat(t("summary.flagged", lang), f"{summary['flagged']:,}", test_id="stat-flagged")
        )
    return stats


def in_band_stat(summary: dict, lang: str) -> html.Div:
    """The share of urban grids in the household band; a rural township has no urban grid, and
    says so instead of showing 0.0 %."""
    if not summary["urban_grids"]:
        return stat(t("summary.in_band", lang), t("summary.no_urban", lang), test_id="stat-in-band")
    share = summary["in_band"] / summary["urban_grids"]
    return stat(t("summary.in_band", lang), f"{share:.1%}", test_id="stat-in-band")


def swatch(css_class: str, label: str) -> html.Div:
    return html.Div(
        [html.Span(className=f"swatch {css_class}"), html.Span(label)], className="legend-row"
    )


def households_legend(lang: str, band: tuple[int, int]) -> html.Div:
    """The legend of the grids' households (the published version's ``band``) and the lines."""
    lo, hi = band
    return html.Div(
        id=ids.HH_LEGEND,
        className="legend",
        children=[
            html.H4(t("legend.households", lang)),
            swatch("hh-below", f"< {lo} {t('legend.below', lang)}"),
            swatch("hh-band", f"{lo}–{hi} {t('legend.in_band', lang)}"),
            swatch("hh-above", f"> {hi} {t('legend.above', lang)}"),
            swatch("hh-flagged", t("legend.flagged", lang)),
            swatch("grid-rural", t("legend.rural", lang)),
            swatch("grid-special", t("legend.special", lang)),
            swatch("line-arterial", t("legend.arterial", lang)),
            swatch("line-local", t("legend.local", lang)),
            swatch("fill-river", t("legend.river", lang)),
            swatch("line-railway", t("legend.railway", lang)),
        ],
    )


def buildings_hint(lang: str) -> html.Div:
    return html.Div(
        t("buildings.zoom_hint", lang, zoom=BUILDINGS_MIN_ZOOM),
        id=ids.BUILDINGS_STATUS,
        className="muted",
    )


def operational_legend(lang: str) -> html.Div:
    """The legend of the case dots (colour by category, a red ring when overdue, faded when
    closed, a number on a cluster), the grid and community edges, the camera views and the uncovered streets."""
    cases = [
        html.Div(
            [html.Span(className="swatch dot", style={"background": colour}), html.Span(label)],
            className="legend-row",
        )
        for label, colour in ((t(f"category.{c}", lang), k) for c, k in CASE_COLOURS.items())
    ]
    return html.Div(
        id=ids.MAP_LEGEND_MORE,
        className="legend",
        children=[
            html.H4(t("legend.cases", lang)),
            *cases,
            swatch("dot dot-overdue", t("legend.case_overdue", lang)),
            swatch("dot dot-closed", t("status.closed", lang)),
            swatch("dot dot-cluster", t("legend.case_cluster", lang)),
            swatch("line-grid", t("legend.grid_edge", lang)),
            swatch("line-community", t("legend.community_edge", lang)),
            swatch("fill-camera", t("legend.camera_online", lang)),
            swatch("fill-camera-off", t("legend.camera_offline", lang)),
            swatch("line-uncovered", t("legend.uncovered", lang)),
        ],
    )


def _row(key: str, value, lang: str) -> html.Tr:
    return html.Tr([html.Th(t(f"mapcard.{key}", lang)), html.Td(value)])


def map_card(card: dict, lang: str) -> html.Div:
    """The card of a grid clicked on the map (:func:`wangge.services.mapdata.grid_card`): its
    households, worker (phone masked), open and overdue cases, the last 30 days' cases, and a
    link to its drill-down."""
    href = f"/situation?level=grid&code={card['grid_code']}&metric=per100"
    if lang != "zh":
        href += f"&lang={lang}"
    worker = f"{card['worker']} {card['worker_phone']}".strip() or "–"
    return html.Div(
        [
            html.H3(t("mapcard.grid", lang, code=card["grid_code"])),
            html.Table(
                [
                    _row("households", f"{card['households']:,}", lang),
                    _row("worker", worker, lang),
                    _row("open", f"{card['open']:,}", lang),
                    _row("overdue", f"{card['overdue']:,}", lang),
                    _row("cases30", f"{card['cases']:,}", lang),
                ],
                className="grid-card-table",
            ),
            dcc.Link(t("mapcard.drill", lang), href=href, className="card-link"),
        ],
        className="map-grid-card",
    )
