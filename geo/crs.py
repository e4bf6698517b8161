"""Coordinate reference systems: checks and the choice of a metric CRS.

Metric work (areas, distances, Voronoi cells) happens in a projected CRS chosen on purpose:
CGCS2000 3-degree Gauss-Kruger (EPSG:4534-4554, the Chinese national standard) for data inside
China, the local UTM zone elsewhere. Data is converted back to the input CRS (or EPSG:4326)
only at the edges.
"""

from __future__ import annotations

import math

import geopandas as gpd
from pyproj import CRS

from geo.errors import CRSError
from geo.validate import require_layer_crs

__all__ = ["metric_crs"]

# CGCS2000 / 3-degree Gauss-Kruger CM 75E .. CM 135E are EPSG:4534 .. EPSG:4554 (no zone prefix).
_CGCS2000_GK3_FIRST = 4534
_CHINA_LON = (73.0, 136.0)
_CHINA_LAT = (17.0, 54.0)


def metric_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """Choose a projected CRS in metres for ``frame``.

    A projected input CRS in metres is kept. Otherwise the centre of the data decides:
    CGCS2000 3-degree Gauss-Kruger inside China, the WGS84 UTM zone elsewhere.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> metric_crs(gpd.GeoSeries([Point(121.49, 31.24)], crs=4326)).to_epsg()  # Shanghai
    4549
    >>> metric_crs(gpd.GeoSeries([Point(9.52, 47.14)], crs=4326)).to_epsg()  # Liechtenstein
    32632
    """
    crs = require_layer_crs(frame, "input")
    if crs.is_projected and crs.axis_info and crs.axis_info[0].unit_name in ("metre", "meter"):
        return crs
    lonlat = frame.to_crs(4326) if not crs.is_geographic or crs.to_epsg() != 4326 else frame
    minx, miny, maxx, maxy = lonlat.total_bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise CRSError("input: cannot choose a metric CRS for empty data (no finite bounds)")
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    if _CHINA_LON[0] <= lon <= _CHINA_LON[1] and _CHINA_LAT[0] <= lat <= _CHINA_LAT[1]:
        cm = 3 * round(lon / 3)
        cm = min(max(cm, 75), 135)
        return CRS.from_epsg(_CGCS2000_GK3_FIRST + (cm - 75) // 3)
    zone = int((lon + 180) // 6) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)
