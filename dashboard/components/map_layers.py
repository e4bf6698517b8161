"""The layers, legend and overview of the situation map (layout factories, no side effects).

The grids' colours follow the household band of the published grid version: the band travels in
the grid layer's ``hideout`` (``min``, ``max``; read by ``wangge.style.grid`` in assets) and is
written in the legend.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import html
from dash_extensions.javascript import Namespace

from dashboard import i18n, ids
from dashboard.components.geojson import geojson
from dashboard.i18n import t
from wangge.casework import CATEGORIES, STATUSES
from wangge.services.layers import BUILDINGS_MIN_ZOOM

__all__ = [
    "buildings_hint",
    "households_legend",
    "operational_overlays",
    "reference_overlays",
    "stat",
    "summary_stats",
    "swatch",
    "tile_base",
]

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


def reference_overlays(lang: str, band: tuple[int, int]) -> list:
    """Water, grids (coloured by ``band``), streets, railways, buildings and boundaries."""
    labels = {"households": t("tooltip.households", lang), "lang": lang}
    hideout = {"min": band[0], "max": band[1], "flags": i18n.labels("flag", lang), **labels}
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
        share = summary["in_band"] / max(1, summary["urban_grids"])
        stats.append(stat(t("summary.in_band", lang), f"{share:.1%}", test_id="stat-in-band"))
        stats.append(
            stat(t("summary.flagged", lang), f"{summary['flagged']:,}", test_id="stat-flagged")
        )
    return stats


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
