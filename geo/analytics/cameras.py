"""Cameras: field-of-view sectors with occlusion, coverage of grids and streets, placement.

OSM tags are read by :mod:`geo.analytics.camera_tags` (re-exported here).

Bearings are degrees clockwise from north, as OSM's ``camera:direction`` and ``direction``.
A camera's field of view is a sector of ``fov`` degrees centred on its bearing and
``range_m`` metres deep; domes (and panning cameras, which sweep) see all around. Buildings
occlude: the visible area is found by casting rays from the camera every ``step`` degrees and
stopping each at the first building footprint it enters (vectorised with a shapely STRtree);
the polygon through the ray ends is the camera's visibility polygon. With a 1 degree step the
sector area is exact to 0.005 %, and a building corner can be cut by at most the chord between
two rays (0.9 m at 50 m). Buildings within ``mount_tolerance`` of a camera are the ones it is
mounted on and do not occlude it.

All geometry work is done in the cameras' CRS, which must be projected in metres.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Hashable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from geo.analytics.camera_tags import (
    CAMERA_DEFAULTS,
    camera_from_tags,
    cameras_from_osm,
    parse_direction,
)
from geo.analytics.patrols import sample_lines
from geo.errors import GeoWarning, InputError
from geo.validate import require_column, require_crs, require_metric_crs

__all__ = [
    "CAMERA_DEFAULTS",
    "camera_coverage",
    "camera_from_tags",
    "camera_sectors",
    "cameras_from_osm",
    "parse_direction",
    "suggest_camera_sites",
    "uncovered_streets",
]

log = logging.getLogger(__name__)


def _occlusion_distances(
    origins: np.ndarray,
    ends: np.ndarray,
    ray_owner: np.ndarray,
    cam_points: np.ndarray,
    buildings: np.ndarray,
    mount_tolerance: float,
) -> np.ndarray:
    """Distance along each ray to the first building it enters (inf when none)."""
    n_rays = len(origins)
    hit = np.full(n_rays, np.inf)
    if len(buildings) == 0 or n_rays == 0:
        return hit
    tree = shapely.STRtree(buildings)
    rays = shapely.linestrings(np.stack([origins, ends], axis=1))
    r_idx, b_idx = tree.query(rays, predicate="intersects")
    if len(r_idx) == 0:
        return hit
    c_idx, mb_idx = tree.query(cam_points, predicate="dwithin", distance=mount_tolerance)
    if len(c_idx):
        nb = len(buildings)
        mounted = c_idx.astype(np.int64) * nb + mb_idx
        pair_key = ray_owner[r_idx].astype(np.int64) * nb + b_idx
        keep = ~np.isin(pair_key, mounted)
        r_idx, b_idx = r_idx[keep], b_idx[keep]
    if len(r_idx) == 0:
        return hit
    pieces = shapely.intersection(rays[r_idx], buildings[b_idx])
    origin_pts = shapely.points(origins[r_idx])
    d = shapely.distance(origin_pts, pieces)
    d = np.where(np.isnan(d), np.inf, d)
    np.minimum.at(hit, r_idx, d)
    return hit


def _footprints(buildings: gpd.GeoDataFrame | gpd.GeoSeries, crs: Any) -> np.ndarray:
    """Polygonal footprints in ``crs``; other geometries are left out with a warning."""
    require_crs(buildings, "buildings", plural=True)
    frame = buildings.to_crs(crs) if buildings.crs != crs else buildings
    arr = np.asarray(frame.geometry.values)
    missing = shapely.is_missing(arr) | shapely.is_empty(arr)
    kind = shapely.get_type_id(arr)
    polygonal = (kind == shapely.GeometryType.POLYGON) | (kind == shapely.GeometryType.MULTIPOLYGON)
    odd = ~missing & ~polygonal
    if odd.any():
        ids = list(frame.index[odd][:20])
        warnings.warn(
            f"buildings: {int(odd.sum())} features are not polygons and do not occlude "
            f"(ids: {ids}{' ...' if odd.sum() > 20 else ''}, types: "
            f"{sorted({g.geom_type for g in arr[odd][:1000]})})",
            GeoWarning,
            stacklevel=3,
        )
    return arr[polygonal & ~missing]


def camera_sectors(
    cameras: gpd.GeoDataFrame,
    *,
    direction: Hashable = "direction",
    camera_type: Hashable = "camera_type",
    fov: Hashable = "fov",
    range_m: Hashable = "range_m",
    buildings: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    step: float = 1.0,
    mount_tolerance: float = 1.0,
) -> gpd.GeoDataFrame:
    """Field-of-view polygons of cameras, one per sector, cut by building footprints.

    Parameters
    ----------
    cameras
        Camera points in a projected CRS in metres. Columns (each optional): ``direction``
        (anything :func:`parse_direction` reads; several values give several sectors),
        ``camera_type`` (fixed/panning/dome; other values are treated as fixed, with a
        warning), ``fov`` (degrees) and ``range_m`` (override the type's defaults where not
        NaN). The store's cameras table fits with ``direction="bearing"``.
    direction, camera_type, fov, range_m
        Column names.
    buildings
        Footprints that occlude (any CRS; reprojected). None for no occlusion.
    step
        Angle between rays, in degrees.
    mount_tolerance
        Buildings this close to a camera (metres) carry it and do not occlude it.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per sector with the camera's index label (repeated for several sectors):
        ``sector`` (0, 1, ...), ``camera_type``, ``bearing``, ``fov``, ``range_m``,
        ``area_m2`` and the visibility polygon, in the cameras' CRS. A fixed camera without a
        direction has no sector (warned); a dome or panning camera without one sees all
        around.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> cams = gpd.GeoDataFrame({"direction": ["N"], "camera_type": ["fixed"]},
    ...                         geometry=[Point(0, 0)], crs="EPSG:4547")
    >>> round(float(camera_sectors(cams)["area_m2"].iloc[0]))  # pi * 50**2 / 4
    1963
    """
    require_metric_crs(cameras, "cameras")
    if not 0 < step <= 30:
        raise InputError(f"step must be between 0 and 30 degrees, got {step!r}")
    geoms = np.asarray(cameras.geometry.values)
    kinds, fov_col, range_col, parsed = _camera_columns(
        cameras, direction=direction, camera_type=camera_type, fov=fov, range_m=range_m
    )
    sectors = _sectors(cameras.index, parsed, kinds.to_numpy(), fov_col, range_col)
    cam_i = sectors["camera"].to_numpy(dtype=np.int64)
    bearings_a = sectors["bearing"].to_numpy(dtype=float)
    fovs_a = sectors["fov"].to_numpy(dtype=float)
    ranges_a = sectors["range_m"].to_numpy(dtype=float)
    rays = _Rays.cast(
        shapely.get_coordinates(geoms)[cam_i], bearings_a, fovs_a, ranges_a, step=step
    )
    if buildings is not None and len(buildings):
        bgeoms = _footprints(buildings, cameras.crs)
        hit = _occlusion_distances(
            rays.origins, rays.ends, cam_i[rays.owner], geoms[cam_i], bgeoms, mount_tolerance
        )
        rays.stop(np.minimum(hit, rays.reach))
    polys = rays.polygons()
    out = gpd.GeoDataFrame(
        {
            "sector": sectors["sector"].to_numpy(dtype=np.int64),
            "camera_type": kinds.to_numpy()[cam_i],
            "bearing": bearings_a,
            "fov": fovs_a,
            "range_m": ranges_a,
            "area_m2": shapely.area(polys) if len(cam_i) else np.empty(0),
        },
        index=cameras.index[cam_i],
        geometry=polys,
        crs=cameras.crs,
    )
    log.debug(
        "camera_sectors: %d cameras, %d sectors, %d rays", len(cameras), len(out), len(rays.owner)
    )
    return out


def _camera_columns(
    cameras: gpd.GeoDataFrame,
    *,
    direction: Hashable,
    camera_type: Hashable,
    fov: Hashable,
    range_m: Hashable,
) -> tuple[pd.Series, pd.Series, pd.Series, list[list[tuple[float, float | None]]]]:
    """Checked camera columns: type (odd ones fixed, warned), fov, range and directions."""
    geoms = np.asarray(cameras.geometry.values)
    problems = []
    not_point = shapely.get_type_id(geoms) != shapely.GeometryType.POINT
    if not_point.any():
        problems.append(f"rows {list(cameras.index[not_point][:10])} are not points")
    n = len(cameras)

    def col(name: Hashable) -> pd.Series:
        return (
            cameras[name] if name in cameras.columns else pd.Series([None] * n, index=cameras.index)
        )

    kinds_raw = col(camera_type)
    kinds = kinds_raw.where(kinds_raw.isin(list(CAMERA_DEFAULTS)), "fixed")
    odd = kinds_raw.notna() & ~kinds_raw.isin(list(CAMERA_DEFAULTS))
    fov_col = pd.to_numeric(col(fov), errors="coerce")
    range_col = pd.to_numeric(col(range_m), errors="coerce")
    bad_fov = fov_col.notna() & ~fov_col.between(0, 360, inclusive="right")
    if bad_fov.any():
        problems.append(
            f"column {fov!r} must be in (0, 360] degrees; rows {list(cameras.index[bad_fov][:10])}"
        )
    bad_range = range_col.notna() & ~(range_col > 0)
    if bad_range.any():
        problems.append(
            f"column {range_m!r} must be positive metres; rows "
            f"{list(cameras.index[bad_range][:10])}"
        )
    parsed = []
    for idx, value in col(direction).items():
        try:
            parsed.append(parse_direction(value))
        except InputError as exc:
            problems.append(f"row {idx!r}: {exc}")
            parsed.append([])
    if problems:
        raise InputError("cameras: " + "; ".join(problems[:20]))
    if odd.any():
        warnings.warn(
            f"cameras: {int(odd.sum())} have a {camera_type!r} that is not fixed/panning/dome "
            f"and are treated as fixed (ids: {list(cameras.index[odd][:20])}, values: "
            f"{sorted(set(map(str, kinds_raw[odd])))[:5]})",
            GeoWarning,
            stacklevel=3,
        )
    return kinds, fov_col, range_col, parsed


def _sectors(
    index: pd.Index,
    parsed: list[list[tuple[float, float | None]]],
    kinds: np.ndarray,
    fov_col: pd.Series,
    range_col: pd.Series,
) -> pd.DataFrame:
    """One row per sector: camera position, sector number, bearing, fov and range.

    A column value overrides the type's default; a fixed camera without a direction has no
    sector (warned), a dome or panning one sees all around.
    """
    rows: dict[str, list] = {k: [] for k in ("camera", "sector", "bearing", "fov", "range_m")}
    blind = []
    for i, (pairs, kind) in enumerate(zip(parsed, kinds, strict=True)):
        defaults = CAMERA_DEFAULTS[kind]
        r = range_col.iat[i] if not np.isnan(range_col.iat[i]) else defaults["range_m"]
        f_override = fov_col.iat[i]
        if not pairs:
            if kind == "fixed" and np.isnan(f_override):
                blind.append(index[i])
                continue
            pairs = [(0.0, defaults["fov_deg"] if np.isnan(f_override) else f_override)]
        for k, (b, f) in enumerate(pairs):
            if not np.isnan(f_override):
                f = f_override
            elif f is None:
                f = defaults["fov_deg"]
            for key, value in zip(rows, (i, k, b, float(f), float(r)), strict=True):
                rows[key].append(value)
    if blind:
        warnings.warn(
            f"cameras: {len(blind)} fixed cameras have no direction and get no sector "
            f"(ids: {blind[:20]}{' ...' if len(blind) > 20 else ''}); give them a bearing",
            GeoWarning,
            stacklevel=3,
        )
    return pd.DataFrame(rows)


class _Rays:
    """Rays of the sectors: fov < 360 -> apex + m+1 ends; fov = 360 -> m ends all around."""

    def __init__(
        self, apex: np.ndarray, full: np.ndarray, n_ends: np.ndarray, angle: np.ndarray, reach
    ) -> None:
        self.apex, self.full, self.n_ends = apex, full, n_ends
        self.owner = np.repeat(np.arange(len(apex)), n_ends)
        self.k = np.arange(len(self.owner)) - np.repeat(np.cumsum(n_ends) - n_ends, n_ends)
        self.angle, self.reach = angle, reach
        self.origins = apex[self.owner]
        self.ends = self._at(reach)

    @classmethod
    def cast(
        cls,
        apex: np.ndarray,
        bearings: np.ndarray,
        fovs: np.ndarray,
        ranges: np.ndarray,
        *,
        step: float,
    ) -> _Rays:
        """Rays every ``step`` degrees (at most) across each sector, ``ranges`` long."""
        apex = apex.reshape(-1, 2)
        full = fovs >= 360.0
        m = np.maximum(1, np.ceil(fovs / step)).astype(np.int64)
        n_ends = np.where(full, m, m + 1)
        owner = np.repeat(np.arange(len(apex)), n_ends)
        k = np.arange(len(owner)) - np.repeat(np.cumsum(n_ends) - n_ends, n_ends)
        start = np.where(full, bearings, bearings - fovs / 2.0)
        angle = np.radians(start[owner] + k * (fovs / m)[owner])
        return cls(apex, full, n_ends, angle, ranges[owner])

    def _at(self, d: np.ndarray) -> np.ndarray:
        ox, oy = self.origins[:, 0], self.origins[:, 1]
        return np.column_stack([ox + d * np.sin(self.angle), oy + d * np.cos(self.angle)])

    def stop(self, d: np.ndarray) -> None:
        """End each ray ``d`` metres from its camera."""
        self.ends = self._at(d)

    def polygons(self) -> np.ndarray:
        """The visibility polygon of each sector: [apex, ends..., apex] or [ends..., first]."""
        n = len(self.apex)
        if not n:
            return np.empty(0, dtype=object)
        with_apex = ~self.full
        ring_len = self.n_ends + np.where(with_apex, 2, 1)
        coords = np.empty((int(ring_len.sum()), 2))
        ring_start = np.cumsum(ring_len) - ring_len
        coords[ring_start[self.owner] + with_apex[self.owner] + self.k] = self.ends
        apex_rows = np.flatnonzero(with_apex)
        coords[ring_start[apex_rows]] = self.apex[apex_rows]
        coords[ring_start + ring_len - 1] = coords[ring_start]
        ring_ids = np.repeat(np.arange(n), ring_len)
        polys = shapely.polygons(shapely.linearrings(coords, indices=ring_ids))
        invalid = ~shapely.is_valid(polys)
        if invalid.any():
            polys[invalid] = shapely.make_valid(polys[invalid])
        return polys


def _keep_dim(geoms: np.ndarray, dim: int) -> np.ndarray:
    """Geometry collections reduced to their parts of dimension ``dim`` (1 lines, 2 areas):
    overlays of touching shapes leave stray points and edges that later overlays refuse."""
    geoms = np.asarray(geoms, dtype=object)
    mixed = np.flatnonzero(shapely.get_type_id(geoms) == shapely.GeometryType.GEOMETRYCOLLECTION)
    out = geoms.copy()
    for i in mixed:
        parts = shapely.get_parts(geoms[i])
        parts = parts[shapely.get_dimensions(parts) == dim]
        out[i] = (
            shapely.union_all(parts) if len(parts) else shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")
        )
    return out


def _overlay(op, a, b):
    """``op(a, b)`` (shapely.intersection or difference), retried with 1 cm snap-rounding when
    GEOS's floating overlay gives up ("Unable to determine overlay result geometry
    dimension", seen on grid unions whose edges nearly coincide with view edges)."""
    try:
        return op(a, b)
    except shapely.errors.GEOSException:
        log.debug("overlay failed in floating precision; retrying with grid_size=0.01")
        return op(a, b, grid_size=0.01)


def _require_valid_grids(geoms: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``geoms``, or an :class:`InputError` naming every invalid grid.

    Grids come from the grid engine, valid in EPSG:4326 and after reprojection
    (:mod:`geo.partition.contract`), or from an import that refuses invalid polygons; an
    invalid grid here is a defect upstream, not something to repair silently (GEOS would
    refuse the overlay: "TopologyException: side location conflict").
    """
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if invalid.any():
        reasons = [shapely.is_valid_reason(g) for g in geoms[invalid][:20]]
        listed = "; ".join(f"{c}: {r}" for c, r in zip(codes[invalid][:20], reasons, strict=True))
        raise InputError(
            f"grids: {int(invalid.sum())} invalid grid polygon(s) ({listed}"
            f"{' ...' if invalid.sum() > 20 else ''}); expected valid polygons: re-run the "
            "grid engine or re-import the grid layer"
        )
    return geoms


def _valid_areas(
    geoms: np.ndarray, what: str, labels: pd.Index | np.ndarray, *, stacklevel: int = 3
) -> np.ndarray:
    """``geoms`` with invalid polygons repaired by ``make_valid`` (their polygonal parts).

    For computed visibility polygons: GEOS refuses overlays with an invalid polygon
    ("TopologyException: side location conflict"), even with snap-rounding. The repair keeps
    the area (a spike has none) and warns with the ids of the repaired features.
    """
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if not invalid.any():
        return geoms
    fixed = shapely.make_valid(geoms[invalid])
    kept = _keep_dim(fixed, 2)
    # a ring collapsed to a line or a point has no area left
    kept[shapely.get_dimensions(kept) != 2] = shapely.Polygon()
    out = geoms.copy()
    out[invalid] = kept
    ids = np.asarray(labels)[invalid][:20].tolist()
    warnings.warn(
        f"{what}: repaired {int(invalid.sum())} invalid polygon(s) with make_valid before the "
        f"overlay (ids: {ids}{' ...' if invalid.sum() > 20 else ''}; reasons: "
        f"{sorted({shapely.is_valid_reason(g).split('[')[0] for g in geoms[invalid][:100]})})",
        GeoWarning,
        stacklevel=stacklevel,
    )
    return out


def _per_group_union(geoms: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.full(n_groups, None, dtype=object)
    if len(group) == 0:
        out[:] = shapely.Polygon()
        return out
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    bounds = np.flatnonzero(np.diff(g_sorted)) + 1
    for chunk in np.split(order, bounds):
        out[group[chunk[0]]] = shapely.union_all(geoms[chunk])
    empty = np.array([g is None for g in out])
    out[empty] = shapely.Polygon()
    return out


def camera_coverage(
    grids: gpd.GeoDataFrame,
    visibility: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    streets: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    buildings: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    grid: Hashable = "grid_code",
) -> pd.DataFrame:
    """Share of street length and of open area per grid inside the cameras' view.

    Parameters
    ----------
    grids
        Grid polygons in a projected CRS in metres.
    visibility
        Visibility polygons (:func:`camera_sectors`), any CRS (reprojected).
    streets
        Street lines; None skips the street measures.
    buildings
        Footprints; open area = grid minus buildings. None counts the whole grid as open.
    grid
        Grid code column.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``grids``: ``grid``, ``street_m``, ``street_covered_m``, ``street_share``,
        ``open_m2``, ``open_covered_m2``, ``open_share`` (shares NaN when the denominator is 0).
    """
    require_metric_crs(grids, "grids")
    require_column(grids, grid, "grids")
    crs = grids.crs
    g_geoms = _require_valid_grids(np.asarray(grids.geometry.values), grids[grid].to_numpy())
    n = len(g_geoms)
    tree = shapely.STRtree(g_geoms)

    def geoms_of(frame: gpd.GeoDataFrame | gpd.GeoSeries, what: str = "") -> np.ndarray:
        frame = frame.to_crs(crs) if frame.crs != crs else frame
        arr = np.asarray(frame.geometry.values)
        present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
        if what:
            return _valid_areas(arr[present], what, frame.index[present], stacklevel=4)
        return arr[present]

    vis = geoms_of(visibility, "visibility")
    v_idx, g_idx = tree.query(vis, predicate="intersects")
    covered = _per_group_union(vis[v_idx], g_idx, n)
    covered = _keep_dim(_overlay(shapely.intersection, covered, g_geoms), 2)

    if buildings is not None:
        bld = _footprints(buildings, crs)
        b_idx, bg_idx = tree.query(bld, predicate="intersects")
        built = _per_group_union(bld[b_idx], bg_idx, n)
        open_geom = _keep_dim(_overlay(shapely.difference, g_geoms, built), 2)
    else:
        open_geom = g_geoms
    open_m2 = shapely.area(open_geom)
    open_cov = shapely.area(_overlay(shapely.intersection, covered, open_geom))

    street_m: np.ndarray = np.zeros(n)
    street_cov: np.ndarray = np.zeros(n)
    if streets is not None:
        st = geoms_of(streets)
        s_idx, sg_idx = tree.query(st, predicate="intersects")
        pieces = _keep_dim(_overlay(shapely.intersection, st[s_idx], g_geoms[sg_idx]), 1)
        street_m = np.bincount(sg_idx, weights=shapely.length(pieces), minlength=n)
        inside = _overlay(shapely.intersection, pieces, covered[sg_idx])
        street_cov = np.bincount(sg_idx, weights=shapely.length(inside), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame(
            {
                grid: grids[grid].to_numpy(),
                "street_m": street_m,
                "street_covered_m": street_cov,
                "street_share": np.where(street_m > 0, street_cov / street_m, np.nan),
                "open_m2": open_m2,
                "open_covered_m2": open_cov,
                "open_share": np.where(open_m2 > 0, open_cov / open_m2, np.nan),
            },
            index=grids.index,
        )
    return out


def uncovered_streets(
    streets: gpd.GeoDataFrame | gpd.GeoSeries,
    visibility: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    cases: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    within: float = 50.0,
    min_length: float = 1.0,
) -> gpd.GeoDataFrame:
    """Street pieces outside every camera's view, ranked.

    Parameters
    ----------
    streets
        Street lines in a projected CRS in metres.
    visibility
        Visibility polygons (any CRS; reprojected).
    cases
        Optional case points: pieces are then ranked by the number of cases within ``within``
        metres (ties by length); otherwise by length.
    within
        Distance in metres at which a case counts for a piece.
    min_length
        Pieces shorter than this (metres) are not listed: slivers where a street grazes a
        view's edge.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per uncovered piece, best first: ``street`` (index label of the street),
        ``length_m``, ``cases`` (0 without cases) and ``rank`` (1 = most in need of a camera),
        in the streets' CRS.
    """
    require_metric_crs(streets, "streets")
    crs = streets.crs
    st = np.asarray(streets.geometry.values)
    vis_frame = visibility.to_crs(crs) if visibility.crs != crs else visibility
    vis = np.asarray(vis_frame.geometry.values)
    s_idx, v_idx = shapely.STRtree(vis).query(st, predicate="intersects")
    union = _per_group_union(vis[v_idx], s_idx, len(st))
    rest = _overlay(shapely.difference, st, union)
    pieces = gpd.GeoDataFrame({"street": streets.index.to_numpy()}, geometry=rest, crs=crs)
    pieces = pieces.explode(index_parts=False)
    pieces = pieces[~(pieces.geometry.isna() | pieces.geometry.is_empty)]
    pieces["length_m"] = pieces.geometry.length
    pieces = pieces[pieces["length_m"] >= min_length].reset_index(drop=True)
    pieces["cases"] = 0
    if cases is not None and len(pieces):
        cs = cases.to_crs(crs) if cases.crs != crs else cases
        c_idx, p_idx = shapely.STRtree(np.asarray(pieces.geometry.values)).query(
            np.asarray(cs.geometry.values), predicate="dwithin", distance=within
        )
        pieces["cases"] = np.bincount(p_idx, minlength=len(pieces))
    pieces = pieces.sort_values(["cases", "length_m"], ascending=False, kind="stable")
    pieces["rank"] = np.arange(1, len(pieces) + 1)
    return pieces.reset_index(drop=True)[["street", "length_m", "cases", "rank", "geometry"]]


def suggest_camera_sites(
    streets: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    n_sites: int = 10,
    existing: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    buildings: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    cases: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    camera_type: str = "dome",
    range_m: float | None = None,
    candidate_spacing: float = 50.0,
    demand_spacing: float = 10.0,
    case_radius: float = 50.0,
    step: float = 2.0,
) -> gpd.GeoDataFrame:
    """New camera sites by greedy maximal covering location (MCLP), existing cameras fixed.

    Demand: street sample points every ``demand_spacing`` metres, each weighing its street
    length, times (1 + the number of ``cases`` within ``case_radius`` metres) when cases are
    given. Demand already inside an ``existing`` view is covered. Candidates: street
    intersections (points where three or more street ends meet) and points every
    ``candidate_spacing`` metres along the streets, each carrying a camera of
    ``camera_type`` looking all around (a dome; a fixed camera's bearing is a later, local
    choice), occluded by ``buildings``. The greedy rule adds, ``n_sites`` times, the
    candidate covering the most uncovered weight; it reaches at least 1 - 1/e (63 %) of the
    optimum and usually within a few per cent of it, with no solver to install.

    Parameters
    ----------
    streets
        Street lines in a projected CRS in metres.
    n_sites
        Number of sites to choose.
    existing
        Visibility polygons of the existing cameras (:func:`camera_sectors`).
    buildings
        Footprints that occlude the candidates' view.
    cases
        Case points weighting the demand.
    camera_type, range_m
        The camera to place (range defaults to :data:`CAMERA_DEFAULTS`).
    candidate_spacing, demand_spacing, case_radius
        Distances in metres.
    step
        Ray step in degrees for the candidates' visibility.

    Returns
    -------
    geopandas.GeoDataFrame
        The chosen sites in order: ``rank``, ``gain`` (weight newly covered),
        ``gain_m`` (street metres newly covered), ``covered_share`` (share of all demand
        weight covered after adding it, existing cameras included) and the site's visibility
        polygon in ``view``; point geometry in the streets' CRS.
    """
    require_metric_crs(streets, "streets")
    if camera_type not in ("dome", "panning"):
        raise InputError(
            f"camera_type must be 'dome' or 'panning' (cameras that look all around), "
            f"got {camera_type!r}"
        )
    if isinstance(n_sites, bool) or not isinstance(n_sites, int | np.integer) or n_sites < 1:
        raise InputError(f"n_sites must be a positive integer, got {n_sites!r}")
    crs = streets.crs
    demand = sample_lines(streets, spacing=demand_spacing)
    d_geom = np.asarray(demand.geometry.values)
    length = demand["length_m"].to_numpy()
    weight = length.copy()
    if cases is not None:
        cs = cases.to_crs(crs) if cases.crs != crs else cases
        c_idx, d_idx = shapely.STRtree(d_geom).query(
            np.asarray(cs.geometry.values), predicate="dwithin", distance=case_radius
        )
        weight = length * (1 + np.bincount(d_idx, minlength=len(d_geom)))
    total = float(weight.sum())
    uncovered = np.ones(len(d_geom), dtype=bool)
    if existing is not None and len(existing):
        ex = existing.to_crs(crs) if existing.crs != crs else existing
        e_idx, d_idx = shapely.STRtree(d_geom).query(
            np.asarray(ex.geometry.values), predicate="intersects"
        )
        uncovered[d_idx] = False

    cand_xy = _candidate_sites(streets, candidate_spacing)
    cands = gpd.GeoDataFrame(
        {
            "camera_type": np.full(len(cand_xy), camera_type, dtype=object),
            "range_m": np.full(len(cand_xy), float(range_m) if range_m else np.nan),
        },
        geometry=gpd.points_from_xy(cand_xy[:, 0], cand_xy[:, 1]),
        crs=crs,
    )
    views = camera_sectors(cands, buildings=buildings, step=step)
    v_geom = np.asarray(views.geometry.values)
    c_idx, d_idx = shapely.STRtree(d_geom).query(v_geom, predicate="intersects")
    cover = sp.csr_matrix((np.ones(len(c_idx)), (c_idx, d_idx)), shape=(len(v_geom), len(d_geom)))
    chosen: list[int] = []
    gains: list[float] = []
    gains_m: list[float] = []
    shares: list[float] = []
    covered_w = total - float(weight[uncovered].sum())
    for _ in range(min(n_sites, len(v_geom))):
        w_now = weight * uncovered
        gain = cover @ w_now
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            log.info("suggest_camera_sites: all demand covered after %d sites", len(chosen))
            break
        newly = cover.indices[cover.indptr[best] : cover.indptr[best + 1]]
        newly = newly[uncovered[newly]]
        chosen.append(best)
        gains.append(float(gain[best]))
        gains_m.append(float(length[newly].sum()))
        uncovered[newly] = False
        covered_w += float(gain[best])
        shares.append(covered_w / total if total else np.nan)
    return gpd.GeoDataFrame(
        {
            "rank": np.arange(1, len(chosen) + 1),
            "gain": gains,
            "gain_m": gains_m,
            "covered_share": shares,
            "view": gpd.GeoSeries(v_geom[chosen], crs=crs).values,
        },
        geometry=gpd.points_from_xy(cand_xy[chosen, 0], cand_xy[chosen, 1]),
        crs=crs,
    )


def _candidate_sites(streets: gpd.GeoDataFrame | gpd.GeoSeries, spacing: float) -> np.ndarray:
    """Candidate sites: street intersections (three or more ends) and points along streets."""
    lines = streets.geometry if isinstance(streets, gpd.GeoDataFrame) else streets
    parts = np.asarray(lines.explode(index_parts=False).values)
    ends = np.vstack(
        [
            shapely.get_coordinates(shapely.get_point(parts, 0)),
            shapely.get_coordinates(shapely.get_point(parts, -1)),
        ]
    )
    uniq, counts = np.unique(np.round(ends, 2), axis=0, return_counts=True)
    crossings = uniq[counts >= 3]
    along = shapely.get_coordinates(
        np.asarray(sample_lines(streets, spacing=spacing).geometry.values)
    )
    return np.unique(np.round(np.vstack([crossings, along]), 2), axis=0)
