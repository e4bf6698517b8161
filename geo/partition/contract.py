"""The grid engine's contract, enforced and checked by the engine itself.

What every result of :func:`geo.partition.partition` guarantees (``docs/partition.md``,
"Contract"):

1. every building is wholly inside its own grid's polygon. A building that straddles a
   community line belongs wholly to the community holding most of it (buildings whose
   footprints overlap go together, to the community holding most of the group); its grid
   takes the whole footprint and the neighbouring grids give way (:func:`give_footprints`).
   Those buildings are listed in the report;
2. every grid polygon is valid in the written CRS and in EPSG:4326. Unions of cells can hold
   near-spikes (a vertex 1e-11 m from a non-adjacent edge of its own ring) that are valid in
   the metric CRS and cross after reprojection; measured on Liechtenstein and the demo county
   (``benchmarks/contract.py``), snap-rounding the metric polygons to a micrometre grid
   (:data:`GRID_SIZE`) removed every such case while moving no area by more than 0.002 m2,
   and a polygon still invalid after reprojection is repaired there with ``make_valid``
   (its polygonal parts: a spike has no area) and listed (:func:`valid_after_reprojection`);
3. households out equal households in, building by building (duplicates and overlapping
   footprints keep theirs when a households column is given);
4. no grid without buildings unless its community (flag ``no-buildings``) or the detached
   part of the community holding it (flag ``empty-exclave``) has none; any other empty grid
   joins the neighbouring grid of its community with the longest shared boundary
   (:func:`settle_empty_grids`).

:func:`breaches` re-checks 1-4 on the final layers; the report lists every breach under
``report["contract"]["breaches"]`` and ``wangge partition`` exits non-zero on one. The tests
check the written files again with a checker of their own (``tests/partition_checker.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

__all__ = [
    "BREACHES",
    "EMPTY_FLAGS",
    "GRID_SIZE",
    "OVERLAP_M2",
    "TOLERANCE_M",
    "breach_lines",
    "breaches",
    "give_footprints",
    "overlapping_pairs",
    "owner_communities",
    "settle_empty_grids",
    "valid_after_reprojection",
]

#: Snap-rounding grid of the metric grid polygons, m.
GRID_SIZE = 1e-6
#: Footprints overlapping by more than this (m2) are one unit: they go to the same grid.
OVERLAP_M2 = 0.01
#: A building is wholly inside its grid when inside the grid widened by this (m).
TOLERANCE_M = 0.01
#: The flags of a grid allowed to hold no building.
EMPTY_FLAGS = ("empty-exclave", "no-buildings")
#: The kinds of breach, as keyed in ``report["contract"]["breaches"]``.
BREACHES = {
    "outside_own_grid": "building(s) not wholly inside their grid",
    "invalid_polygons": "grid polygon(s) invalid in the written CRS or in EPSG:4326",
    "households_changed": "building(s) whose households out differ from the input",
    "empty_grids": "grid(s) without buildings in a part of a community that has buildings",
}


def overlapping_pairs(footprints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``i < j`` of footprints overlapping by more than :data:`OVERLAP_M2`."""
    ok = ~shapely.is_missing(footprints)
    idx = np.flatnonzero(ok)
    geoms = footprints[idx]
    # not "overlaps": a footprint inside another one does not overlap it
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    if len(a):
        big = shapely.area(shapely.intersection(geoms[a], geoms[b])) > OVERLAP_M2
        a, b = a[big], b[big]
    return idx[a], idx[b]


def owner_communities(
    footprints: np.ndarray, comm_geo: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The community owning each building and which buildings straddle a community line.

    A building belongs to the community holding most of its footprint when the communities
    together hold more than half of it (else to none: -1); footprints overlapping each other
    (:func:`overlapping_pairs`) go together, to the community holding most of the group.

    Parameters
    ----------
    footprints
        Valid polygons in a metric CRS, None where a building has no usable footprint.
    comm_geo
        The community polygons, same CRS.

    Returns
    -------
    owner, straddling
        The community position of each building (-1: none) and whether its footprint lies
        in two communities or more.

    Examples
    --------
    >>> from shapely import box
    >>> owner, cut = owner_communities(
    ...     np.array([box(8, 0, 12, 1), box(1, 0, 2, 1), None], dtype=object),
    ...     np.array([box(0, 0, 9, 9), box(9, 0, 20, 9)]))
    >>> owner.tolist(), cut.tolist()
    ([1, 0, -1], [True, False, False])
    """
    n = len(footprints)
    present = ~shapely.is_missing(footprints)
    idx = np.flatnonzero(present)
    shapely.prepare(comm_geo)
    if len(comm_geo) == 1 and shapely.covers(comm_geo[0], footprints[idx]).all():
        # one area holding every footprint (no community layer: the hull): the overlap
        # groups cannot change the owner (0.6 s of self-join at 100,000 buildings)
        return np.where(present, 0, -1).astype(np.int64), np.zeros(n, bool)
    tree = shapely.STRtree(comm_geo)
    bi, ci = tree.query(footprints[idx], predicate="intersects")
    bi = idx[bi]
    whole = shapely.covers(comm_geo[ci], footprints[bi])
    share = np.ones(len(bi))
    part = ~whole
    if part.any():
        fa = np.maximum(shapely.area(footprints[bi[part]]), 1e-12)
        share[part] = (
            shapely.area(shapely.intersection(footprints[bi[part]], comm_geo[ci[part]])) / fa
        )
    area = shapely.area(footprints[bi]) * share
    # across a community line: in two communities or more (not just across the outer edge)
    straddling = np.bincount(bi[share > 1e-9], minlength=n) > 1
    # the communities' shares of each overlapping group, summed over its members
    group = _overlap_groups(footprints, n)
    by = (
        pd.DataFrame({"g": group[bi], "c": ci, "a": area})
        .groupby(["g", "c"], as_index=False)["a"]
        .sum()
    )
    best = by.sort_values(["g", "a", "c"], ascending=[True, False, True]).drop_duplicates("g")
    size = np.zeros(n)
    size[present] = shapely.area(footprints[present])
    gsize = pd.Series(size).groupby(group).sum()
    owner_of_group = pd.Series(-1, index=gsize.index, dtype=np.int64)
    owner_of_group.loc[best["g"].to_numpy()] = best["c"].to_numpy()
    total_in = by.groupby("g")["a"].sum().reindex(gsize.index).fillna(0)
    owner_of_group[~(total_in > 0.5 * gsize).to_numpy()] = -1
    owner = owner_of_group.reindex(group).to_numpy().astype(np.int64)
    owner[~present] = -1
    return owner, straddling


def _overlap_groups(footprints: np.ndarray, n: int) -> np.ndarray:
    """Connected groups of overlapping footprints: one label per building."""
    a, b = overlapping_pairs(footprints)
    g = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return csgraph.connected_components(g, directed=False)[1]


# --------------------------------------------------------------------------------------------
# settling the grids: empty grids, footprints, precision


@dataclass
class Settled:
    """Grids after :func:`settle_empty_grids`: polygons, cell and building maps, metadata."""

    grid_geom: np.ndarray
    cell_grid: np.ndarray
    b_grid: np.ndarray
    meta: pd.DataFrame
    merged_empty: int


def settle_empty_grids(
    grid_geom: np.ndarray,
    cell_grid: np.ndarray,
    b_grid: np.ndarray,
    meta: pd.DataFrame,
    comm_geo: np.ndarray,
    comm_ids: np.ndarray,
) -> Settled:
    """Flag the grids allowed to be empty; the others join a neighbour of their community.

    A grid without buildings is flagged ``no-buildings`` when its community holds no
    building, ``empty-exclave`` when the detached part of the community polygon holding it has
    no grid with buildings (``exclave`` is the solver's flag for a detached part that does
    hold buildings, kept alone below the band); any other empty grid joins the grid of its community with which it
    shares the longest boundary (its cells and polygon go there).
    """
    meta = meta.sort_values("grid").reset_index(drop=True).copy()
    n = len(grid_geom)
    count = np.bincount(b_grid[b_grid >= 0], minlength=n)
    comm = meta["community_id"].astype(str).to_numpy()
    flags = meta["flags"].fillna("").astype(str).to_numpy().copy()
    geom = grid_geom.copy()
    target = np.arange(n)
    pos = {str(c): i for i, c in enumerate(comm_ids)}
    for j in np.flatnonzero(count == 0):
        mates = np.flatnonzero((comm == comm[j]) & (count > 0))
        if not len(mates):
            flags[j] = "no-buildings"
            continue
        cpoly = comm_geo[pos[comm[j]]] if comm[j] in pos else None
        part = _part_holding(geom[j], cpoly)
        if (
            part is not None
            and not (shapely.area(shapely.intersection(geom[mates], part)) > 1.0).any()
        ):
            flags[j] = "empty-exclave"
            continue
        shared = shapely.length(shapely.intersection(shapely.boundary(geom[mates]), geom[j]))
        if shared.max() <= 0:
            shared = -shapely.distance(geom[mates], geom[j])
        k = int(mates[int(np.argmax(shared))])
        geom[k] = shapely.union(geom[k], geom[j])
        target[j] = k
    merged = np.flatnonzero(target != np.arange(n))
    if not len(merged):
        return Settled(geom, cell_grid, b_grid, meta.assign(flags=flags), 0)
    keep = np.setdiff1d(np.arange(n), merged)
    renumber = np.full(n, -1, dtype=np.int64)
    renumber[keep] = np.arange(len(keep))
    new_of = renumber[target]
    meta = meta.assign(flags=flags).iloc[keep].reset_index(drop=True)
    meta["grid"] = np.arange(len(keep))
    return Settled(
        geom[keep],
        new_of[cell_grid],
        np.where(b_grid >= 0, new_of[np.maximum(b_grid, 0)], -1),
        meta,
        len(merged),
    )


def _part_holding(grid: shapely.Geometry, community: shapely.Geometry | None):
    """The detached part of ``community`` holding most of ``grid`` (None: none)."""
    if community is None:
        return None
    parts = shapely.get_parts(community)
    share = shapely.area(shapely.intersection(parts, grid))
    return parts[int(np.argmax(share))] if len(parts) and share.max() > 0 else None


def give_footprints(
    grid_geom: np.ndarray,
    b_grid: np.ndarray,
    footprints: np.ndarray,
    grid_community: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each grid takes the whole footprint of its buildings; the neighbouring grids give way.

    Cells are cut along community lines and street blocks, so a footprint across one is
    only partly in its cell. Such footprints are added to their grid's polygon and cut out of
    every other grid, in building order (footprints of two grids never overlap by more than
    :data:`OVERLAP_M2`: such buildings are one unit). A building whose grid holds less of
    its footprint than another grid of the same community (a cell lost to a neighbour's
    footprint) first moves to that grid, so that the grid's tallies and the map agree.
    Finally all polygons are snap-rounded to :data:`GRID_SIZE` (see the module docstring).

    Returns the polygons, the buildings' grids, the positions of the buildings moved to
    another grid and of those whose footprint was given.
    """
    geom = grid_geom.copy()
    b_grid = b_grid.copy()
    has = np.flatnonzero((b_grid >= 0) & ~shapely.is_missing(footprints))
    shapely.prepare(geom)
    inside = shapely.covers(geom[b_grid[has]], footprints[has])
    moved = has[~inside]
    if len(moved):
        widened = shapely.buffer(geom[b_grid[moved]], TOLERANCE_M / 2, join_style="mitre")
        moved = moved[~shapely.covers(widened, footprints[moved])]
    shapely.destroy_prepared(geom)
    reassigned = np.array([], dtype=np.int64)
    if len(moved):
        tree = shapely.STRtree(geom)
        fi, gi = tree.query(footprints[moved], predicate="intersects")
        reassigned = _to_the_grid_holding_most(
            moved, fi, gi, geom, b_grid, footprints, grid_community
        )
        for b in moved:
            own = b_grid[b]
            geom[own] = shapely.union(geom[own], footprints[b])
        keep = _kept_by_others(moved, b_grid, footprints)
        for k, g in zip(fi.tolist(), gi.tolist(), strict=True):
            b = moved[k]
            if g != b_grid[b]:
                cut = footprints[b]
                if (b, g) in keep:  # the grid's own buildings overlapping it keep their part
                    cut = shapely.difference(cut, shapely.union_all(footprints[keep[b, g]]))
                geom[g] = _polygonal(shapely.difference(geom[g], cut))
    geom = _polygonal(shapely.set_precision(geom, GRID_SIZE))
    return geom, b_grid, reassigned, moved


def _kept_by_others(moved, b_grid, footprints) -> dict[tuple[int, int], list[int]]:
    """For each moved building and other grid: that grid's buildings overlapping it.

    Footprints overlapping by less than :data:`OVERLAP_M2` are not one unit and can lie in
    two grids; cutting one wholly out of the other grid would cut the other's building (a
    sliver of 0.0015 m2 but 2 cm deep, on 1,000,000 synthetic buildings). The two grids
    overlap by that sliver instead, which the contract allows.
    """
    present = np.flatnonzero(~shapely.is_missing(footprints))
    mi, oi = shapely.STRtree(footprints[present]).query(footprints[moved], predicate="intersects")
    out: dict[tuple[int, int], list[int]] = {}
    for m, o in zip(moved[mi].tolist(), present[oi].tolist(), strict=True):
        if o != m and b_grid[o] >= 0 and b_grid[o] != b_grid[m]:
            out.setdefault((m, int(b_grid[o])), []).append(o)
    return out


def _to_the_grid_holding_most(moved, fi, gi, geom, b_grid, footprints, grid_community):
    """Move (in ``b_grid``) each building of ``moved`` whose grid holds less of its footprint
    than another grid of its community to that grid; the positions moved."""
    area = shapely.area(shapely.intersection(footprints[moved[fi]], geom[gi]))
    # a building overlapping others stays with them (they are one unit, in one grid)
    present = np.flatnonzero(~shapely.is_missing(footprints))
    mi, oi = shapely.STRtree(footprints[present]).query(footprints[moved], predicate="intersects")
    other = present[oi] != moved[mi]
    if other.any():
        inter = shapely.area(
            shapely.intersection(footprints[moved[mi[other]]], footprints[present[oi[other]]])
        )
        grouped = set(mi[other][inter > OVERLAP_M2].tolist())
    else:
        grouped = set()
    out = []
    for k in range(len(moved)):
        b = moved[k]
        sel = fi == k
        if not sel.any() or k in grouped:
            continue
        cand, held = gi[sel], area[sel]
        own = b_grid[b]
        own_area = float(held[cand == own].sum())
        if grid_community is not None:
            same = grid_community[cand] == grid_community[own]
            cand, held = cand[same], held[same]
        if len(cand) and held.max() > own_area + OVERLAP_M2:
            b_grid[b] = int(cand[int(np.argmax(held))])
            out.append(int(b))
    return np.array(out, dtype=np.int64)


def _polygonal(geoms):
    """The polygonal parts of each geometry (overlays can leave stray lines and points)."""
    arr = np.atleast_1d(np.asarray(geoms, dtype=object))
    out = arr.copy()
    for i in np.flatnonzero(shapely.get_type_id(arr) == shapely.GeometryType.GEOMETRYCOLLECTION):
        parts = shapely.get_parts(arr[i])
        parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        out[i] = shapely.union_all(parts) if len(parts) else shapely.Polygon()
    return out if np.ndim(geoms) else out[0]


# --------------------------------------------------------------------------------------------
# validity after reprojection


def valid_after_reprojection(grids: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """``grids`` valid in their CRS and in EPSG:4326; the codes of the repaired grids.

    An invalid polygon is repaired with ``make_valid`` (its polygonal parts) in the CRS
    where it fails; one failing in EPSG:4326 is repaired there and brought back. Three
    rounds at most; what is still invalid is left for :func:`breaches` to list.
    """
    geoms = grids.geometry.to_numpy().copy()
    crs = grids.crs
    repaired: set[str] = set()
    codes = grids["grid_code"].astype(str).to_numpy()
    for _ in range(3):
        bad = ~shapely.is_valid(geoms)
        if bad.any():
            geoms[bad] = _polygonal(shapely.make_valid(geoms[bad]))
            repaired.update(codes[bad].tolist())
        if crs is None or crs.equals("EPSG:4326"):
            break
        wgs = gpd.GeoSeries(geoms, crs=crs).to_crs(4326).to_numpy()
        bad = ~shapely.is_valid(wgs)
        if not bad.any():
            break
        fixed = _polygonal(shapely.make_valid(wgs[bad]))
        geoms[bad] = gpd.GeoSeries(fixed, crs=4326).to_crs(crs).to_numpy()
        repaired.update(codes[bad].tolist())
    out = grids.copy()
    out[out.geometry.name] = gpd.GeoSeries(geoms, crs=crs, index=grids.index)
    return out, sorted(repaired)


# --------------------------------------------------------------------------------------------
# the check


def breaches(
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    households_in: np.ndarray,
    metric_crs,
) -> dict[str, list]:
    """Every breach of the contract by the final layers, by kind (:data:`BREACHES`).

    Parameters
    ----------
    grids, buildings
        The result's layers (any CRS; ``buildings`` has ``source_index``, ``grid_code`` and
        ``households``).
    households_in
        The households of each input building, by ``source_index``.
    metric_crs
        The CRS in which footprints are compared with grids.
    """
    out: dict[str, list] = {k: [] for k in BREACHES}
    codes = grids["grid_code"].astype(str).to_numpy()
    gw = grids.geometry.to_numpy()
    bad = ~shapely.is_valid(gw)
    if grids.crs is not None and not grids.crs.equals("EPSG:4326"):
        bad |= ~shapely.is_valid(grids.geometry.to_crs(4326).to_numpy())
    out["invalid_polygons"] = codes[bad].tolist()
    gm = grids.geometry.to_crs(metric_crs).to_numpy()
    gm = _polygonal(np.where(shapely.is_valid(gm), gm, shapely.make_valid(gm)))
    widened = shapely.buffer(gm, TOLERANCE_M, join_style="mitre")
    shapely.prepare(widened)
    pos = pd.Series(np.arange(len(codes)), index=codes)
    bcode = buildings["grid_code"].astype("string")
    has = (bcode.notna() & (bcode.fillna("") != "")).to_numpy()
    gi = bcode[has].map(pos).to_numpy(dtype=float)
    fp = buildings.geometry.to_crs(metric_crs).to_numpy()[has]
    src = buildings["source_index"].to_numpy()[has]
    known = ~np.isnan(gi)
    ok = np.zeros(len(gi), bool)
    ok[known] = shapely.covers(widened[gi[known].astype(np.int64)], fp[known])
    out["outside_own_grid"] = sorted(int(s) for s in src[~ok])
    hh_out = buildings["households"].to_numpy()
    src_all = buildings["source_index"].to_numpy()
    changed = hh_out != np.asarray(households_in)[src_all]
    missing = np.setdiff1d(np.arange(len(households_in)), src_all)
    out["households_changed"] = sorted({int(s) for s in src_all[changed]} | set(missing.tolist()))
    count = pd.Series(bcode[has].to_numpy()).value_counts()
    empty = count.reindex(codes).fillna(0).to_numpy() == 0
    flags = grids["flags"].fillna("").astype(str).to_numpy()
    allowed = np.isin(flags, EMPTY_FLAGS)
    out["empty_grids"] = codes[empty & ~allowed].tolist()
    return out


def breach_lines(report: dict) -> list[str]:
    """One line per kind of breach in ``report["contract"]`` (empty when the contract holds).

    Examples
    --------
    >>> breach_lines({"contract": {"breaches": {"empty_grids": ["341122100101003"]}}})
    ['contract breach: 1 grid(s) without buildings in a part of a community that has buildings (341122100101003)']
    """
    found = report.get("contract", {}).get("breaches", {})
    lines = []
    for kind, what in BREACHES.items():
        ids = found.get(kind) or []
        if ids:
            shown = ", ".join(str(i) for i in ids[:10]) + (" ..." if len(ids) > 10 else "")
            lines.append(f"contract breach: {len(ids)} {what} ({shown})")
    return lines
