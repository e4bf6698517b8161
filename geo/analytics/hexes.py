"""H3 aggregation of case points: cell ids, counts per cell (and per group), cell polygons.

H3 works on WGS84 longitude/latitude, so points in any CRS are converted to EPSG:4326 here, at
the edge, and every frame returned carries EPSG:4326 cell polygons. Resolutions 7 to 10 are the
useful ones for a county (average cell area 5.2 km2, 0.74 km2, 0.105 km2 and 0.015 km2).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Hashable, Iterable

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from geo.errors import GeoWarning, InputError
from geo.validate import require_crs

__all__ = ["h3_cell_polygons", "h3_cells", "h3_counts", "h3_index"]

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
CELL = "h3_cell"


def _check_resolution(resolution: int) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
        raise InputError(f"H3 resolution must be an integer from 0 to 15, got {resolution!r}")
    if not 0 <= int(resolution) <= 15:
        raise InputError(f"H3 resolution must be an integer from 0 to 15, got {resolution}")
    return int(resolution)


def _lonlat(points: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of valid points; warn about (and mark) unusable rows."""
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    require_crs(
        geoms,
        what,
        plural=True,
        need="H3 needs longitude/latitude",
        example="points.set_crs('EPSG:4326') or points.set_crs('EPSG:4547')",
    )
    arr = np.asarray(geoms.values)
    missing = shapely.is_missing(arr) | shapely.is_empty(arr)
    kinds = shapely.get_type_id(arr)
    not_point = ~missing & (kinds != shapely.GeometryType.POINT)
    if not_point.any():
        bad = list(geoms.index[not_point][:10])
        raise InputError(
            f"{what} must be Points; {int(not_point.sum())} rows are not "
            f"(first ids: {bad}, first type: {arr[not_point][0].geom_type}); "
            "use .centroid or .representative_point() first"
        )
    if missing.any():
        bad = list(geoms.index[missing][:20])
        warnings.warn(
            f"{what}: {int(missing.sum())} rows with missing or empty geometry are left out "
            f"(ids: {bad}{' ...' if missing.sum() > 20 else ''})",
            GeoWarning,
            stacklevel=3,
        )
    if not geoms.crs.equals(WGS84):
        geoms = geoms.to_crs(WGS84)
        arr = np.asarray(geoms.values)
    lon = np.full(len(arr), np.nan)
    lat = np.full(len(arr), np.nan)
    ok = ~missing
    lon[ok] = shapely.get_x(arr[ok])
    lat[ok] = shapely.get_y(arr[ok])
    return lon, lat


def h3_index(points: gpd.GeoDataFrame | gpd.GeoSeries, *, resolution: int = 9) -> pd.Series:
    """H3 cell id of each point.

    Parameters
    ----------
    points
        Points in any CRS (converted to EPSG:4326 for H3).
    resolution
        H3 resolution, 0 to 15.

    Returns
    -------
    pandas.Series
        Cell ids as hexadecimal strings, named ``h3_cell``, with the input's index; ``None``
        where the geometry is missing or empty (those rows are reported with a
        :class:`~geo.errors.GeoWarning`).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoSeries([Point(116.397, 39.909)], crs="EPSG:4326")
    >>> h3_index(pts, resolution=9).tolist()
    ['8931aa42803ffff']
    """
    res = _check_resolution(resolution)
    lon, lat = _lonlat(points, "points")
    f = h3.latlng_to_cell
    cells = [
        None if lo != lo else f(la, lo, res)
        for la, lo in zip(lat.tolist(), lon.tolist(), strict=True)
    ]
    return pd.Series(cells, index=points.index, name=CELL, dtype=object)


def h3_cell_polygons(cells: Iterable[str]) -> gpd.GeoSeries:
    """Polygons of H3 cells in EPSG:4326, indexed by cell id.

    Parameters
    ----------
    cells
        H3 cell ids (hexadecimal strings).

    Returns
    -------
    geopandas.GeoSeries
        One polygon per cell, index named ``h3_cell``.
    """
    cells = list(cells)
    bad = [c for c in cells if not isinstance(c, str) or not h3.is_valid_cell(c)]
    if bad:
        raise InputError(f"not valid H3 cell ids: {bad[:10]}{' ...' if len(bad) > 10 else ''}")
    rings = [h3.cell_to_boundary(c) for c in cells]
    counts = np.fromiter((len(r) + 1 for r in rings), dtype=np.int64, count=len(rings))
    coords = np.empty((int(counts.sum()), 2))
    pos = 0
    for ring in rings:
        n = len(ring)
        arr = np.asarray(ring)
        coords[pos : pos + n, 0] = arr[:, 1]
        coords[pos : pos + n, 1] = arr[:, 0]
        coords[pos + n] = coords[pos]
        pos += n + 1
    ring_idx = np.repeat(np.arange(len(rings)), counts)
    if len(rings):
        lr = shapely.linearrings(coords, indices=ring_idx)
        polys = shapely.polygons(lr)
    else:
        polys = np.empty(0, dtype=object)
    return gpd.GeoSeries(polys, index=pd.Index(cells, name=CELL), crs=WGS84)


def h3_cells(area: gpd.GeoDataFrame | gpd.GeoSeries, *, resolution: int = 9) -> gpd.GeoDataFrame:
    """All H3 cells whose centre lies in a study area, with zero counts.

    Use it to give Gi* the empty cells of the study area too: a hot-spot statistic computed on
    occupied cells only overstates the mean and misses cold spots.

    Parameters
    ----------
    area
        Polygons in any CRS (their union is the study area).
    resolution
        H3 resolution, 0 to 15.

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``h3_cell``, column ``count`` (all 0), cell polygons in EPSG:4326.
    """
    res = _check_resolution(resolution)
    require_crs(area, "area")
    geom = shapely.union_all(np.asarray(area.to_crs(WGS84).geometry.values))
    cells = sorted(h3.geo_to_cells(geom, res)) if not geom.is_empty else []
    polys = h3_cell_polygons(cells)
    return gpd.GeoDataFrame(
        {"count": np.zeros(len(cells), dtype=np.int64)},
        index=polys.index,
        geometry=polys.values,
        crs=WGS84,
    )


def h3_counts(
    points: gpd.GeoDataFrame,
    *,
    resolution: int = 9,
    by: Hashable | None = None,
    area: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
) -> gpd.GeoDataFrame:
    """Count points per H3 cell, optionally per group, with cell polygons.

    Parameters
    ----------
    points
        Case points in any CRS.
    resolution
        H3 resolution (7 to 10 are useful for a county).
    by
        Optional column of ``points`` to count by (a category, or a period such as
        ``reported_at.dt.to_period("W")``); the result is then a complete cube: every cell crossed
        with every group value present, zeros included.
    area
        Optional study area: its cells with no points are included with count 0 (see
        :func:`h3_cells`); points outside it still count in their own cells.

    Returns
    -------
    geopandas.GeoDataFrame
        Without ``by``: index ``h3_cell`` (sorted), column ``count``. With ``by``: a MultiIndex
        (``h3_cell``, ``by``) and column ``count``. Cell polygons in EPSG:4326.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame(geometry=[Point(116.397, 39.909)] * 3, crs="EPSG:4326")
    >>> h3_counts(pts, resolution=8)["count"].tolist()
    [3]
    """
    res = _check_resolution(resolution)
    if by is not None and by not in points.columns:
        raise InputError(
            f"points have no column {by!r} to count by; columns are {list(points.columns)}"
        )
    cells = h3_index(points, resolution=res)
    keep = cells.notna().to_numpy()
    extra: list[str] = []
    if area is not None:
        extra = list(h3_cells(area, resolution=res).index)
    if by is None:
        counts = cells[keep].value_counts()
        idx = pd.Index(sorted(set(counts.index) | set(extra)), name=CELL)
        counts = counts.reindex(idx, fill_value=0).astype(np.int64)
        geometry = h3_cell_polygons(idx)
        out = gpd.GeoDataFrame({"count": counts.to_numpy()}, index=idx, geometry=geometry.values)
        out = out.set_crs(WGS84)
    else:
        no_group = keep & points[by].isna().to_numpy()
        if no_group.any():
            warnings.warn(
                f"points: {int(no_group.sum())} rows with an empty {by!r} are left out "
                f"(ids: {list(points.index[no_group][:20])})",
                GeoWarning,
                stacklevel=2,
            )
            keep = keep & ~no_group
        groups = points[by][keep]
        frame = pd.DataFrame({CELL: cells[keep].to_numpy(), by: groups.to_numpy()})
        counts = frame.groupby([CELL, by], observed=True, sort=True).size()
        all_cells = sorted(set(frame[CELL]) | set(extra))
        values = pd.unique(groups.dropna())
        try:
            values = np.sort(values)
        except TypeError:
            values = np.asarray(values, dtype=object)
        full = pd.MultiIndex.from_product([all_cells, values], names=[CELL, by])
        counts = counts.reindex(full, fill_value=0).astype(np.int64)
        polys = h3_cell_polygons(all_cells)
        geometry = polys.reindex(full.get_level_values(0)).values
        out = gpd.GeoDataFrame({"count": counts.to_numpy()}, index=full, geometry=geometry)
        out = out.set_crs(WGS84)
    log.debug("h3_counts: %d points into %d rows at resolution %d", int(keep.sum()), len(out), res)
    return out
