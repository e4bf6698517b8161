"""GeoJSON layers and points placed for the basemap in use.

Our data are WGS84. With Gaode-style tiles (``WANGGE_TILE_CRS=gcj02``) every GeoJSON layer
converts its coordinates to GCJ-02 in the browser (``wangge.coords.gcj02`` in assets, the same
formula as :mod:`geo.coords`), and points placed from Python are shifted here, so vectors sit on
the tiles. Viewports coming back from the browser are shifted back with :func:`from_display`.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash_extensions.javascript import Namespace
from flask import current_app

from geo.coords import gcj02_to_wgs84, wgs84_to_gcj02
from wangge.services.layers import fit_zoom

__all__ = ["display_bounds", "display_point", "fitted_view", "from_display", "geojson"]

_coords = Namespace("wangge", "coords")


def _gcj02() -> bool:
    settings = current_app.config["WANGGE_SETTINGS"]
    return bool(settings.tile_url) and settings.tile_crs == "gcj02"


def geojson(**props) -> dl.GeoJSON:
    """``dl.GeoJSON`` that converts to the basemap's datum when it is GCJ-02."""
    if _gcj02():
        props.setdefault("coordsToLatLng", _coords("gcj02"))
    return dl.GeoJSON(**props)


def display_point(lon: float, lat: float) -> tuple[float, float]:
    """A WGS84 point where the basemap draws it (lon, lat)."""
    if _gcj02():
        x, y = wgs84_to_gcj02(lon, lat)
        return float(x), float(y)
    return lon, lat


def from_display(lon: float, lat: float) -> tuple[float, float]:
    """A point of the map's viewport back in WGS84 (lon, lat)."""
    if _gcj02():
        x, y = gcj02_to_wgs84(lon, lat)
        return float(x), float(y)
    return lon, lat


def display_bounds(minx: float, miny: float, maxx: float, maxy: float) -> list[list[float]]:
    """A WGS84 box as Leaflet bounds where the basemap draws it ([[lat, lon], [lat, lon]])."""
    return [list(reversed(display_point(minx, miny))), list(reversed(display_point(maxx, maxy)))]


def fitted_view(
    minx: float, miny: float, maxx: float, maxy: float, *, width: int = 1300, height: int = 760
) -> dict:
    """``center`` and ``zoom`` of a map of about width x height px showing the WGS84 box."""
    return {
        "center": list(reversed(display_point((minx + maxx) / 2, (miny + maxy) / 2))),
        "zoom": fit_zoom(minx, miny, maxx, maxy, width=width, height=height),
    }
