"""An independent checker of the grid engine's contract, from the written files only.

It never reads the engine's report nor calls the engine: it reads the ``grids`` and
``buildings`` layers a run wrote (``wangge partition --out``, :func:`geo.io.write_result`) and
compares them with the inputs, using plain shapely predicates in a metric CRS of its own
(the UTM zone of the grids). The checks, one key each in :func:`check_written`'s answer:

``invalid_written``
    grid codes whose polygon, read back from the file, fails ``is_valid`` (written CRS);
``invalid_4326``
    grid codes whose polygon fails ``is_valid`` after reprojection to EPSG:4326 and a write
    and read back of that layer;
``outside_own_grid``
    source indexes of buildings not wholly inside their grid's polygon widened by
    :data:`TOLERANCE_M` (a cut building, or one listed under a far grid), or listed under a
    grid code that is not in the grids layer;
``unassigned``
    source indexes of buildings with a polygon footprint, most of it inside the communities,
    and no grid;
``households``
    source indexes of buildings whose households out differ from the input (a missing or
    repeated building included), and grid codes whose ``households`` column differs from the
    sum over their buildings (prefixed ``grid:``);
``empty_grids``
    grid codes without a building that are not flagged ``empty-exclave``/``no-buildings``
    (``exclave`` alone is the engine's flag for a detached part holding buildings), or that
    are flagged but whose part of the community (a detached part of its polygon) does hold a
    building;
``overlaps``
    pairs ``"a|b"`` of grid codes whose polygons overlap by more than :data:`OVERLAP_M2`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

__all__ = ["CHECKS", "OVERLAP_M2", "TOLERANCE_M", "check_frames", "check_written", "read_written"]

#: A building is "wholly inside" its grid when inside the grid widened by 1 cm (rounding of
#: written coordinates and reprojection move vertices by far less).
TOLERANCE_M = 0.01
#: Grids may touch; an overlap above 0.01 m2 is a breach.
OVERLAP_M2 = 0.01
#: The keys of :func:`check_written`'s answer.
CHECKS = (
    "invalid_written",
    "invalid_4326",
    "outside_own_grid",
    "unassigned",
    "households",
    "empty_grids",
    "overlaps",
)
EMPTY_FLAGS = ("empty-exclave", "no-buildings")


def read_written(path: str | Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The ``grids`` and ``buildings`` layers of a written result."""
    grids = pyogrio.read_dataframe(path, layer="grids")
    buildings = pyogrio.read_dataframe(path, layer="buildings")
    return grids, buildings


def check_written(
    path: str | Path,
    inputs: gpd.GeoDataFrame,
    *,
    households_column: str,
    communities: gpd.GeoDataFrame | None = None,
) -> dict[str, list]:
    """Every breach of the contract by the result written to ``path``, by check.

    Parameters
    ----------
    path
        A GeoPackage with the layers ``grids`` and ``buildings``.
    inputs
        The buildings given to the engine (their order is ``source_index``).
    households_column
        The households column of ``inputs``.
    communities
        The community polygons given to the engine (None: one area).
    """
    grids, buildings = read_written(path)
    return check_frames(
        grids, buildings, inputs, households_column=households_column, communities=communities
    )


def check_frames(
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    inputs: gpd.GeoDataFrame,
    *,
    households_column: str,
    communities: gpd.GeoDataFrame | None = None,
) -> dict[str, list]:
    """:func:`check_written` on layers already read (tests break them before checking)."""
    out: dict[str, list] = {k: [] for k in CHECKS}
    codes = grids["grid_code"].astype(str).to_numpy()
    out["invalid_written"] = codes[~shapely.is_valid(grids.geometry.to_numpy())].tolist()
    out["invalid_4326"] = _invalid_in_4326(grids)
    metric = grids.geometry.to_crs(4326).estimate_utm_crs()
    # the geometric checks below run on repaired polygons: invalidity is a breach of its own
    gm = grids.to_crs(metric)
    gm = gm.set_geometry(shapely.make_valid(gm.geometry.to_numpy()), crs=metric)
    bm = buildings.to_crs(metric)
    out["outside_own_grid"] = _outside_own_grid(gm, bm)
    out["households"] = _households(grids, buildings, inputs, households_column)
    cm = communities.to_crs(metric) if communities is not None else None
    out["unassigned"] = _unassigned(bm, inputs.to_crs(metric), cm)
    out["empty_grids"] = _empty_grids(gm, bm, inputs.to_crs(metric), cm)
    out["overlaps"] = _overlaps(gm)
    return out


def _invalid_in_4326(grids: gpd.GeoDataFrame) -> list[str]:
    wgs = grids[["grid_code", grids.geometry.name]].to_crs(4326)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grids_4326.gpkg"
        pyogrio.write_dataframe(wgs, path, layer="grids", driver="GPKG")
        back = pyogrio.read_dataframe(path, layer="grids")
    bad = ~shapely.is_valid(back.geometry.to_numpy()) | ~shapely.is_valid(wgs.geometry.to_numpy())
    return back["grid_code"].astype(str).to_numpy()[bad].tolist()


def _outside_own_grid(grids: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> list[int]:
    code = buildings["grid_code"].astype("string")
    has = code.notna().to_numpy() & (code.fillna("") != "").to_numpy()
    pos = pd.Series(np.arange(len(grids)), index=grids["grid_code"].astype(str).to_numpy())
    pos = pos[~pos.index.duplicated()]
    gi = code[has].map(pos).to_numpy(dtype=float)
    src = buildings["source_index"].to_numpy()[has]
    unknown = np.isnan(gi)
    widened = shapely.buffer(grids.geometry.to_numpy(), TOLERANCE_M, join_style="mitre")
    shapely.prepare(widened)
    geoms = buildings.geometry.to_numpy()[has][~unknown]
    inside = shapely.contains(widened[gi[~unknown].astype(np.int64)], geoms)
    bad = np.concatenate([src[unknown], src[~unknown][~inside]])
    return sorted(int(s) for s in bad)


def _households(
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    inputs: gpd.GeoDataFrame,
    households_column: str,
) -> list:
    given = pd.to_numeric(inputs[households_column], errors="coerce").fillna(0).to_numpy()
    src = buildings["source_index"].to_numpy().astype(np.int64)
    out_hh = pd.Series(buildings["households"].to_numpy(), index=src)
    counts = pd.Series(src).value_counts()
    bad = set(counts.index[counts.to_numpy() != 1].tolist())
    bad |= set(np.setdiff1d(np.arange(len(inputs)), src).tolist())
    once = out_hh[~out_hh.index.duplicated(keep=False)]
    once = once[once.index < len(inputs)]
    bad |= set(once.index[once.to_numpy() != given[once.index.to_numpy()]].tolist())
    per_grid = (
        buildings.dropna(subset=["grid_code"]).groupby("grid_code")["households"].sum().astype(int)
    )
    written = pd.Series(grids["households"].to_numpy(), index=grids["grid_code"].astype(str))
    diff = written.sub(per_grid.reindex(written.index).fillna(0)).abs() > 0
    return sorted(int(b) for b in bad) + [f"grid:{c}" for c in written.index[diff.to_numpy()]]


def _majority_inside(footprints: np.ndarray, area: shapely.Geometry) -> np.ndarray:
    ok = ~shapely.is_missing(footprints) & np.isin(shapely.get_type_id(footprints), (3, 6))
    ok &= shapely.is_valid(footprints)
    share = np.zeros(len(footprints))
    fa = shapely.area(footprints[ok])
    share[ok] = shapely.area(shapely.intersection(footprints[ok], area)) / np.maximum(fa, 1e-12)
    return ok & (share > 0.5)


def _unassigned(
    buildings: gpd.GeoDataFrame, inputs: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None
) -> list[int]:
    foot = inputs.geometry.to_numpy()
    area = (
        shapely.union_all(communities.geometry.to_numpy())
        if communities is not None
        else shapely.box(*shapely.total_bounds(foot[~shapely.is_missing(foot)])).buffer(1)
    )
    should = _majority_inside(foot, area)
    code = buildings["grid_code"].astype("string")
    has = code.notna() & (code.fillna("") != "")
    assigned = set(buildings["source_index"].to_numpy()[has.to_numpy()].astype(int).tolist())
    return [int(i) for i in np.flatnonzero(should) if int(i) not in assigned]


def _empty_grids(
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    inputs: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame | None,
) -> list[str]:
    counts = buildings.dropna(subset=["grid_code"]).groupby("grid_code").size()
    codes = grids["grid_code"].astype(str).to_numpy()
    empty = counts.reindex(codes).fillna(0).to_numpy() == 0
    flags = grids["flags"].fillna("").astype(str).to_numpy() if "flags" in grids else None
    foot = inputs.geometry.to_numpy()
    bad = []
    for j in np.flatnonzero(empty):
        flagged = flags is not None and any(f in flags[j].split(",") for f in EMPTY_FLAGS)
        if not flagged:
            bad.append(codes[j])
            continue
        part = _community_part(grids.geometry.iloc[j], communities)
        if part is None:  # a grid whose whole area went to a neighbour's footprint
            part = _community_by_id(str(grids["community_id"].iloc[j]), communities)
        # a building belongs to the community (part) holding most of its footprint, unless it
        # overlaps other footprints (the group goes together, wherever most of it lies)
        inside = np.flatnonzero(_majority_inside(foot, part)) if part is not None else None
        if inside is None or any(not _overlaps_another(foot, i) for i in inside):
            bad.append(codes[j])
    return bad


def _overlaps_another(footprints: np.ndarray, i: int) -> bool:
    """Whether footprint ``i`` overlaps another footprint by more than 0.01 m2."""
    others = np.delete(np.arange(len(footprints)), i)
    geoms = footprints[others]
    ok = ~shapely.is_missing(geoms)
    inter = shapely.area(shapely.intersection(geoms[ok], footprints[i]))
    return bool((inter > OVERLAP_M2).any())


def _community_by_id(community_id: str, communities: gpd.GeoDataFrame | None):
    """The polygon of the community whose id (in any column) is ``community_id``."""
    if communities is None:
        return None
    for col in communities.columns:
        if col == communities.geometry.name:
            continue
        hit = communities[col].astype(str).to_numpy() == community_id
        if hit.any():
            return shapely.union_all(communities.geometry.to_numpy()[hit])
    return None


def _community_part(grid: shapely.Geometry, communities: gpd.GeoDataFrame | None):
    """The detached part of a community polygon that holds most of ``grid`` (None: no part)."""
    if communities is None:
        return None
    parts = shapely.get_parts(communities.geometry.to_numpy())
    share = shapely.area(shapely.intersection(parts, grid))
    if not len(share) or share.max() <= 0:
        return None
    return parts[int(np.argmax(share))]


def _overlaps(grids: gpd.GeoDataFrame) -> list[str]:
    geoms = grids.geometry.to_numpy()
    codes = grids["grid_code"].astype(str).to_numpy()
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    area = shapely.area(shapely.intersection(geoms[a], geoms[b], grid_size=None))
    big = area > OVERLAP_M2
    return [f"{codes[i]}|{codes[j]}" for i, j in zip(a[big], b[big], strict=True)]
