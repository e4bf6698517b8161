"""An interactive map of a grid version as one self-contained HTML file (folium), for people
without access to the dashboard.

folium's pages load Leaflet, jQuery, Bootstrap and Font Awesome from CDNs. The map drawn here
needs only Leaflet (GeoJSON layers, popups and tooltips), so the map's CDN lists are emptied and
Leaflet 1.9.4's script and style, shipped in ``geo/atlas/static/leaflet/`` (BSD-2-Clause, see
its README), are inlined into the page: it opens from a ``file://`` path with the network off.
There is no tile layer; grids, buildings and streets are the map. The engine's REVIEW.html
(:mod:`geo.partition.review`) is a hand-written canvas viewer and could use
:func:`leaflet_assets` the same way.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from geo.errors import InputError

__all__ = ["html_map", "leaflet_assets", "write_html_map"]

_STATIC = Path(__file__).resolve().parent / "static" / "leaflet"
_PRECISION = 1e-6  # degrees: about 0.1 m

_WORDS: dict[str, dict[str, str]] = {
    "zh": {"grid": "网格", "households": "户数", "buildings": "楼栋", "worker": "网格员",
           "community": "社区", "street": "街道"},
    "en": {"grid": "Grid", "households": "Households", "buildings": "Buildings",
           "worker": "Grid worker", "community": "Community", "street": "Street"},
}  # fmt: skip
#: The names of the map's layers in the layer switch: grids, buildings, streets.
_LAYERS = {"zh": ("网格", "楼栋", "街道"), "en": ("Grids", "Buildings", "Streets")}


def leaflet_assets() -> tuple[str, str]:
    """Leaflet's script and stylesheet (the shipped local copies) as text, to inline."""
    js, css = _STATIC / "leaflet.js", _STATIC / "leaflet.css"
    for path in (js, css):
        if not path.is_file():
            raise InputError(f"{path}: the local copy of Leaflet is missing from the package")
    return js.read_text(encoding="utf-8"), css.read_text(encoding="utf-8")


def _wgs84(frame: gpd.GeoDataFrame | None, columns: list[str]) -> gpd.GeoDataFrame | None:
    if frame is None or frame.empty:
        return None
    if frame.crs is None:
        raise InputError("html map: a layer has no CRS (set one with GeoDataFrame.set_crs)")
    keep = [c for c in columns if c in frame.columns]
    out = frame[[*keep, frame.geometry.name]].to_crs("EPSG:4326")
    geoms = shapely.set_precision(out.geometry.to_numpy(), _PRECISION)
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs="EPSG:4326"))
    for col in keep:
        if out[col].dtype == object:
            out[col] = out[col].fillna("").astype(str)
    return out[~out.geometry.is_empty]


def html_map(
    grids: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    title: str = "",
    language: str = "zh",
) -> str:
    """The map as one HTML page: grids (a click shows code, households, buildings and grid
    worker), buildings and streets (their names on hover), a layer switch.

    Parameters
    ----------
    grids
        Polygons with ``grid_code`` and ``households`` (``community_code``, ``buildings``,
        ``worker`` shown when present), in any CRS.
    buildings, streets
        Optional layers; streets with a ``name`` column.
    title
        The page's title.
    language
        ``"zh"`` or ``"en"``: the words of the popups and the layer switch.

    Returns
    -------
    str, the HTML text (no URL of a script, stylesheet or tile in it).
    """
    import folium
    from branca.element import Element, Figure

    if language not in _WORDS:
        raise InputError(f"language {language!r}: expected one of {sorted(_WORDS)}")
    missing = [c for c in ("grid_code", "households") if c not in grids.columns]
    if missing or grids.empty:
        raise InputError(f"html map: grids need rows and the columns grid_code, households "
                         f"(missing: {', '.join(missing) or 'none'}; rows: {len(grids)})")  # fmt: skip
    words = _WORDS[language]
    fields = ["grid_code", "community_code", "households", "buildings", "worker"]
    layer = _wgs84(grids, fields)
    assert layer is not None
    fields = [f for f in fields if f in layer.columns]
    minx, miny, maxx, maxy = layer.total_bounds
    fmap = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=None,
                      zoom_start=14, control_scale=True)  # fmt: skip
    fmap.default_js, fmap.default_css = [], []
    js, css = leaflet_assets()
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element(f"<style>{css}</style>"), name="leaflet_css")
    root.header.add_child(Element(f"<script>{js}</script>"), name="leaflet")
    root.title = title or words["grid"]
    blds = _wgs84(buildings, ["building_id", "households"])
    if blds is not None:
        folium.GeoJson(
            blds.to_json(ensure_ascii=False), name=_LAYERS[language][1],
            style_function=lambda _f: {"color": "#6e6e6e", "weight": 0.5,
                                       "fillColor": "#e8a33d", "fillOpacity": 0.6},
        ).add_to(fmap)  # fmt: skip
    lines = _wgs84(streets, ["name"])
    if lines is not None:
        tip = (
            folium.GeoJsonTooltip(["name"], aliases=[words["street"]]) if "name" in lines else None
        )
        folium.GeoJson(
            lines.to_json(ensure_ascii=False), name=_LAYERS[language][2], tooltip=tip,
            style_function=lambda _f: {"color": "#9c9c9c", "weight": 2},
        ).add_to(fmap)  # fmt: skip
    folium.GeoJson(
        layer.to_json(ensure_ascii=False), name=_LAYERS[language][0],
        style_function=lambda _f: {"color": "#d7301f", "weight": 2, "fillOpacity": 0.08},
        popup=folium.GeoJsonPopup(fields, aliases=[words.get(_alias(f), f) for f in fields]),
        tooltip=folium.GeoJsonTooltip(["grid_code", "households"],
                                      aliases=[words["grid"], words["households"]]),
    ).add_to(fmap)  # fmt: skip
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return root.render()


def _alias(field: str) -> str:
    return {"grid_code": "grid", "community_code": "community"}.get(field, field)


def write_html_map(grids: gpd.GeoDataFrame, out: str | Path, **kwargs) -> Path:
    """Write :func:`html_map` of ``grids`` (same keywords) to ``out``; returns the path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html_map(grids, **kwargs), encoding="utf-8")
    return out
