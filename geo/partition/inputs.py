"""Input checks of :func:`geo.partition.partition`: validation, geometry repair, matching.

Everything wrong with the input is collected and reported in one message (errors) or one
warning per kind of problem with the feature ids (repaired, empty, duplicate features); the
previous result of an incremental run is matched to the current buildings by footprint.
"""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import CRSError, GeoWarning, InputError
from geo.validate import require_layer_crs

__all__ = [
    "as_frames",
    "building_id_column",
    "feature_ids",
    "geom_keys",
    "previous_assignment",
    "repair_geometries",
    "validate_inputs",
]

log = logging.getLogger(__name__)


def feature_ids(
    frame: pd.DataFrame, mask: np.ndarray, id_column: str | None, limit: int = 20
) -> str:
    """The ids (or row positions) of the features under ``mask``, for messages; at most ``limit``."""
    idx = np.flatnonzero(mask)
    vals = frame[id_column].to_numpy()[idx] if id_column and id_column in frame.columns else idx
    shown = ", ".join(str(v) for v in vals[:limit])
    more = f" and {len(idx) - limit} more" if len(idx) > limit else ""
    return shown + more


def building_id_column(buildings: gpd.GeoDataFrame) -> str | None:
    """The id column of ``buildings`` used in messages, or None (row positions)."""
    for name in ("building_id", "id", "osm_id", "fid"):
        if name in buildings.columns:
            return name
    return None


def validate_inputs(
    buildings: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame | None,
    community_id: str | None,
    community_kind: str,
    barriers: list[gpd.GeoDataFrame],
    min_households: int,
    max_households: int,
) -> None:
    """Check every input of :func:`geo.partition.partition`; raise one error listing all."""
    crs_problems: list[str] = []
    problems: list[str] = []
    if not isinstance(buildings, gpd.GeoDataFrame):
        raise InputError(f"buildings: expected a GeoDataFrame, got {type(buildings).__name__}")
    for name, frame in [("buildings", buildings), ("communities", communities)] + [
        (f"barriers[{i}]", b) for i, b in enumerate(barriers)
    ]:
        if frame is None:
            continue
        try:
            require_layer_crs(frame, name)
        except CRSError as exc:
            crs_problems.append(str(exc))
    if min_households <= 0 or max_households < min_households:
        problems.append(
            f"households band: min_households={min_households}, max_households="
            f"{max_households}; expected 0 < min <= max"
        )
    if len(buildings) == 0:
        problems.append("buildings: the layer has no features")
    if communities is not None:
        if community_id is None or community_id not in communities.columns:
            problems.append(
                f"communities: no id column {community_id!r}; pass community_id= one of "
                f"{[c for c in communities.columns if c != communities.geometry.name]}"
            )
        else:
            ids = communities[community_id]
            dup = ids.duplicated(keep=False).to_numpy()
            if dup.any():
                problems.append(
                    f"communities: duplicate {community_id!r} values "
                    f"{sorted(set(ids[dup].astype(str)))[:20]}; each community needs its own id"
                )
            if ids.isna().any():
                problems.append(
                    f"communities: {int(ids.isna().sum())} feature(s) without {community_id!r}"
                )
        ctypes = shapely.get_type_id(communities.geometry.to_numpy())
        if (~np.isin(ctypes, (3, 6))).any():
            problems.append(
                "communities: feature(s) at row(s) "
                f"{feature_ids(communities, ~np.isin(ctypes, (3, 6)), community_id)} are not polygons"
            )
        if community_kind in communities.columns:
            kinds = communities[community_kind].astype("string").fillna("urban").str.lower()
            wrong = ~kinds.isin(["urban", "rural"]).to_numpy()
            if wrong.any():
                problems.append(
                    f"communities: {community_kind!r} must be 'urban' or 'rural'; found "
                    f"{sorted(set(communities[community_kind][wrong].astype(str)))} at id(s) "
                    f"{feature_ids(communities, wrong, community_id)}"
                )
    if crs_problems:
        raise CRSError("; ".join(crs_problems + problems))
    if problems:
        raise InputError("; ".join(problems))


def repair_geometries(
    frame: gpd.GeoDataFrame, name: str, id_column: str | None, *, stacklevel: int = 3
) -> tuple[np.ndarray, dict]:
    """Valid polygonal geometries; report of repaired and empty features (warns with ids)."""
    geoms = frame.geometry.to_numpy().copy()
    empty = shapely.is_empty(geoms) | pd.isna(geoms)
    report: dict = {}
    wrong = ~empty & ~np.isin(shapely.get_type_id(geoms), (3, 6))
    if wrong.any():
        kinds = sorted(set(shapely.get_type_id(geoms[wrong]).tolist()))
        names = [shapely.GeometryType(k).name.title().replace("string", "String") for k in kinds]
        warnings.warn(
            f"{name}: {int(wrong.sum())} feature(s) are not polygons ({', '.join(names)}) and "
            f"are left out (id(s) {feature_ids(frame, wrong, id_column, limit=50)}); expected Polygon "
            "or MultiPolygon",
            GeoWarning,
            stacklevel=stacklevel,
        )
        report["not_polygon"] = np.flatnonzero(wrong).tolist()
        geoms[wrong] = None
        empty = empty | wrong
    invalid = ~empty & ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        parts, idx = shapely.get_parts(fixed, return_index=True)
        polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        pidx = idx[np.isin(shapely.get_type_id(parts), (3, 6))]
        repaired = np.array([None] * int(invalid.sum()), dtype=object)
        for i in np.unique(pidx):
            repaired[i] = shapely.union_all(polys[pidx == i])
        repaired = np.array(
            [g if g is not None else shapely.Polygon() for g in repaired], dtype=object
        )
        geoms[invalid] = repaired
        ids = feature_ids(frame, invalid, id_column, limit=50)
        warnings.warn(
            f"{name}: repaired {int(invalid.sum())} invalid geometr(y/ies) with make_valid "
            f"(id(s) {ids})",
            GeoWarning,
            stacklevel=stacklevel,
        )
        report["repaired"] = np.flatnonzero(invalid).tolist()
        empty = empty | shapely.is_empty(geoms)
    if (empty & ~wrong).any():
        empty_only = empty & ~wrong
        warnings.warn(
            f"{name}: {int(empty_only.sum())} feature(s) with empty geometry are left out "
            f"(id(s) {feature_ids(frame, empty_only, id_column, limit=50)})",
            GeoWarning,
            stacklevel=stacklevel,
        )
        report["empty"] = np.flatnonzero(empty_only).tolist()
    geoms[empty] = None
    return geoms, report


def as_frames(barriers) -> list[gpd.GeoDataFrame]:
    """The barrier layers as a list of GeoDataFrames (one frame, a series or an iterable)."""
    if barriers is None:
        return []
    if isinstance(barriers, gpd.GeoDataFrame | gpd.GeoSeries):
        barriers = [barriers]
    out = []
    for b in barriers:
        if isinstance(b, gpd.GeoSeries):
            b = gpd.GeoDataFrame(geometry=b)
        out.append(b)
    return out


def geom_keys(geoms: np.ndarray, geographic: bool) -> np.ndarray:
    """Footprint keys: normalised WKB rounded to about a centimetre, for matching features."""
    decimals = 7 if geographic else 2
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, decimals))
    return np.array(shapely.to_wkb(shapely.normalize(rounded)), dtype=object)


def previous_assignment(
    previous, buildings: gpd.GeoDataFrame, present: np.ndarray, in_crs
) -> tuple[np.ndarray, pd.Series | None]:
    """Previous grid code of each current building (None when new or changed)."""
    n = len(buildings)
    prev_code = np.full(n, None, dtype=object)
    if previous is None:
        return prev_code, None
    prev = previous if isinstance(previous, pd.DataFrame) else previous.buildings
    if "grid_code" not in prev.columns:
        raise InputError("previous: expected a 'grid_code' column (a previous result's buildings)")
    require_layer_crs(prev, "previous")
    cur = gpd.GeoSeries(buildings.geometry.to_numpy(), crs=in_crs)
    if prev.crs != in_crs:
        cur = cur.to_crs(prev.crs)
    geographic = bool(prev.crs.is_geographic)
    ck = geom_keys(np.where(present, cur.to_numpy(), shapely.Polygon()), geographic)
    pk = geom_keys(prev.geometry.to_numpy(), geographic)
    lookup = pd.Series(prev["grid_code"].to_numpy(), index=pk)
    lookup = lookup[~lookup.index.duplicated(keep="first")]
    found = pd.Series(ck).map(lookup).to_numpy(dtype=object)
    found[~present | pd.isna(found)] = None
    prev_hh = None
    if "households" in prev.columns:
        prev_hh = pd.Series(prev["households"].to_numpy(), index=pk)
        prev_hh = prev_hh[~prev_hh.index.duplicated(keep="first")]
        prev_hh = pd.Series(ck).map(prev_hh)
    return found, prev_hh
