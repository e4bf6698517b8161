"""Grid polygons, building assignment, codes and the quality report of a partition.

The report says what a planner and a reviewer need: how many grids, their household
distribution, the share in the band (overall and among communities where an in-band split
exists), every flagged grid with its reason, compactness (Polsby-Popper), how much of the
boundary between grids follows streets, rivers and railways, and the tiling error.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.partition import contract
from geo.partition.codes import assign_codes
from geo.partition.inputs import previous_assignment
from geo.partition.polygons import polsby_popper, union_groups
from geo.partition.prepare import Prepared
from geo.partition.result import PartitionResult
from geo.partition.tessellation import Tessellation

__all__ = ["assemble", "polsby_popper", "summarise"]

#: Flags saying that no in-band grid is possible there (the rest are the solver's to meet).
INFEASIBLE = (
    "undersize-community",
    "undersize-piece",
    "no-integer-split",
    "no-building-split",
    "indivisible-building",
    "empty",
    "exclave",
    "empty-exclave",
    "no-buildings",
    "locked",
    "kept",
)


def _stats(values: np.ndarray) -> dict:
    if len(values) == 0:
        return {}
    q = np.percentile(values, [0, 10, 25, 50, 75, 90, 100])
    return {
        "min": float(q[0]),
        "p10": float(q[1]),
        "p25": float(q[2]),
        "median": float(q[3]),
        "p75": float(q[4]),
        "p90": float(q[5]),
        "max": float(q[6]),
        "mean": float(np.mean(values)),
    }


def assemble(
    prep: Prepared,
    tess: Tessellation,
    cell_grid: np.ndarray,
    meta: pd.DataFrame,
    *,
    grid_geom: np.ndarray | None = None,
) -> PartitionResult:
    """Build the :class:`geo.partition.PartitionResult` from a cell-to-grid assignment.

    Parameters
    ----------
    prep
        The prepared inputs of the run.
    tess
        The cells of every community (metric CRS), their adjacency and each building's cell.
    cell_grid
        The grid of each cell (0..n-1).
    meta
        One row per grid: ``grid``, ``community_id``, ``kind``, ``flags`` and, for unchanged
        communities of an incremental run, ``kept_code``.
    grid_geom
        The grid polygons when the workers built them (else unions of the cells).
    """
    n_grid = int(cell_grid.max()) + 1 if len(cell_grid) else 0
    cells = tess.cells
    if grid_geom is None:
        grid_geom = union_groups(cells.geometry.to_numpy(), cell_grid, n_grid)
    buildings, households = prep.buildings, prep.households
    bc = tess.building_cell
    b_grid = np.where(bc >= 0, cell_grid[np.maximum(bc, 0)], -1)
    assert prep.comm_geo is not None
    settled = contract.settle_empty_grids(
        grid_geom, cell_grid, b_grid, meta, prep.comm_geo.to_numpy(), prep.comm_ids
    )
    cell_grid, b_grid, meta = settled.cell_grid, settled.b_grid, settled.meta
    footprints = prep.footprints.to_numpy()  # None where not present
    grid_geom, b_grid, regridded, given = contract.give_footprints(
        settled.grid_geom, b_grid, footprints, meta["community_id"].astype(str).to_numpy()
    )
    n_grid = len(grid_geom)
    inside = b_grid >= 0
    prev_code = prep.prev_code
    if prev_code is None:
        prev_code, _ = previous_assignment(prep.previous, buildings, prep.present, buildings.crs)
    codes = _grid_codes(prep, meta, grid_geom, b_grid, prev_code)
    grids = gpd.GeoDataFrame(
        {
            "grid_code": codes.astype(str),
            "community_id": meta["community_id"].astype(str).to_numpy(),
            "households": np.bincount(b_grid[inside], weights=households[inside], minlength=n_grid)
            .round()
            .astype(np.int64),
            "buildings": np.bincount(b_grid[inside], minlength=n_grid).astype(np.int64),
            "kind": meta["kind"].to_numpy(),
            "flags": meta["flags"].fillna("").to_numpy(),
        },
        geometry=gpd.GeoSeries(grid_geom, crs=prep.mcrs),
    )
    report = summarise(
        grids,
        tess,
        cell_grid,
        lo=prep.lo,
        hi=prep.hi,
        comm_ids=prep.comm_ids,
        comm_geo=prep.comm_geo,
        lines=prep.lines,
        buildings_metric=None,
        area_moves=_area_moves(prep, footprints, given),
    )
    report.update(_building_figures(prep, tess, b_grid, codes, prev_code))
    cells_out = cells.copy()
    cells_out["grid_code"] = codes[cell_grid].astype(str)
    cells_out["households"] = np.bincount(
        bc[bc >= 0], weights=households[bc >= 0], minlength=len(cells)
    ).astype(np.int64)
    out_crs = prep.out_crs
    grids = grids.to_crs(out_crs) if out_crs is not None else grids
    if "kept_code" in meta.columns:
        grids = _keep_polygons(grids, meta["kept_code"].to_numpy(), prep.previous)
    grids, repaired = contract.valid_after_reprojection(grids)
    grids = grids.sort_values("grid_code", kind="stable").reset_index(drop=True)
    bout = _buildings_out(prep, b_grid, codes)
    report["contract"] = _contract_report(prep, grids, bout, given, repaired, settled.merged_empty)
    ids = _building_ids(prep.buildings)
    report["contract"]["buildings_moved_to_the_grid_holding_them"] = [ids[i] for i in regridded]
    return PartitionResult(
        grids=grids,
        buildings=bout,
        report=report,
        cells=cells_out,
        edges=tess.edges,
    )


def _contract_report(
    prep: Prepared,
    grids: gpd.GeoDataFrame,
    bout: gpd.GeoDataFrame,
    given: np.ndarray,
    repaired: list[str],
    merged_empty: int,
) -> dict:
    """The report's ``contract`` section: breaches, straddling buildings, what was settled."""
    ids = _building_ids(prep.buildings)
    straddling = np.flatnonzero(prep.straddling & (prep.bcomm >= 0))
    flags = grids["flags"].astype(str)
    empty = grids["buildings"] == 0
    # households in: as given (or estimated) per input building, before any grouping
    hh_in = prep.households
    return {
        "breaches": contract.breaches(grids, bout, hh_in, prep.mcrs),
        "straddling_buildings": [
            {
                "building": ids[i],
                "community_id": str(prep.comm_ids[prep.bcomm[i]]),
                "grid_code": str(bout["grid_code"].iloc[i]),
            }
            for i in straddling
        ],
        "footprints_given_to_their_grid": [ids[i] for i in given],
        "polygons_repaired_after_reprojection": repaired,
        "empty_grids": {
            "empty-exclave": grids.loc[empty & (flags == "empty-exclave"), "grid_code"].tolist(),
            "no-buildings": grids.loc[empty & (flags == "no-buildings"), "grid_code"].tolist(),
            "joined_a_neighbour": int(merged_empty),
        },
    }


def _building_ids(buildings: gpd.GeoDataFrame) -> list:
    """Each building's id (``building_id``/``id`` column) or its position, for the report."""
    for col in ("building_id", "id"):
        if col in buildings.columns:
            values = buildings[col].to_numpy()
            if values.dtype != object:  # numbers: Python scalars at once (0.5 s at 100k)
                return values.tolist()
            return [v.item() if hasattr(v, "item") else v for v in values]
    return list(range(len(buildings)))


def _area_moves(prep: Prepared, footprints: np.ndarray, given: np.ndarray) -> pd.Series:
    """Area each community's grids gain (+) or give (-) by footprints across its line, m2."""
    assert prep.comm_geo is not None
    comm = prep.comm_geo.to_numpy()
    moves = np.zeros(len(comm))
    tree = shapely.STRtree(comm)
    for b in given:
        owner = prep.bcomm[b]
        if owner < 0:
            continue
        fp = footprints[b]
        moves[owner] += shapely.area(shapely.difference(fp, comm[owner]))
        for c in tree.query(fp, predicate="intersects"):
            if c != owner:
                moves[c] -= shapely.area(shapely.intersection(fp, comm[c]))
    return pd.Series(moves, index=prep.comm_ids.astype(str))


def _grid_codes(
    prep: Prepared,
    meta: pd.DataFrame,
    grid_geom: np.ndarray,
    b_grid: np.ndarray,
    prev_code: np.ndarray,
) -> np.ndarray:
    """Grid codes per community in reading order, matched to the previous run's codes."""
    inside = b_grid >= 0
    label = shapely.point_on_surface(grid_geom)
    gone = np.flatnonzero(shapely.is_empty(label))
    if len(gone):
        # a grid whose area went to its neighbours' footprints: placed at its first building
        # (its buildings are then listed as breaches by contract.breaches)
        first = pd.Series(np.arange(len(b_grid))).groupby(b_grid).first()
        fp = prep.footprints.to_numpy()
        for j in gone:
            b = first.get(j)
            label[j] = shapely.point_on_surface(fp[b]) if b is not None else shapely.Point(0, 0)
    lx, ly = shapely.get_x(label), shapely.get_y(label)
    codes = np.empty(len(grid_geom), dtype=object)
    areas = shapely.area(grid_geom)
    for cid, rows in meta.groupby("community_id", sort=False):
        gidx = rows["grid"].to_numpy()
        overlap = None
        if prep.previous is not None:
            sel = inside & np.isin(b_grid, gidx) & (prev_code != None)  # noqa: E711
            if sel.any():
                local = pd.Series(np.arange(len(gidx)), index=gidx)
                overlap = (
                    pd.DataFrame(
                        {
                            "grid": local.loc[b_grid[sel]].to_numpy(),
                            "previous_code": prev_code[sel].astype(str),
                            "households": prep.households[sel] + 1e-3,
                        }
                    )
                    .groupby(["grid", "previous_code"], as_index=False)["households"]
                    .sum()
                )
        row_h = float(np.sqrt(np.median(areas[gidx]))) if len(gidx) else 1.0
        codes[gidx] = assign_codes(str(cid), lx[gidx], ly[gidx], row_h, overlap=overlap)
        if "kept_code" in rows.columns and rows["kept_code"].notna().all():
            # an unchanged community keeps every grid's code, empty grids included
            codes[gidx] = rows["kept_code"].astype(str).to_numpy()
    return codes


def _building_figures(
    prep: Prepared,
    tess: Tessellation,
    b_grid: np.ndarray,
    codes: np.ndarray,
    prev_code: np.ndarray,
) -> dict:
    """The report's ``buildings`` section and, for incremental runs, ``incremental``."""
    households, inside = prep.households, b_grid >= 0
    out: dict = {
        "buildings": {
            "input": int(len(prep.buildings)),
            "assigned": int(inside.sum()),
            "unassigned": int((~inside).sum()),
            "households": int(households.sum()),
            "households_estimated_buildings": int(prep.estimated[prep.present].sum()),
            "merged_overlapping_groups": len(tess.merged_units),
        }
    }
    if prep.previous is not None:
        moved = inside & (prev_code != None) & (codes[np.maximum(b_grid, 0)] != prev_code)  # noqa: E711
        out["incremental"] = {
            "matched_buildings": int((prev_code != None).sum()),  # noqa: E711
            "households_changed_grid": int(households[moved].sum()),
            "share_households_changed_grid": float(
                households[moved].sum() / max(households.sum(), 1)
            ),
        }
    return out


def _buildings_out(prep: Prepared, b_grid: np.ndarray, codes: np.ndarray) -> gpd.GeoDataFrame:
    """The result's buildings layer: every input building once, with its grid code."""
    buildings, inside = prep.buildings, b_grid >= 0
    bout = gpd.GeoDataFrame(
        {
            "source_index": np.arange(len(buildings), dtype=np.int64),
            "grid_code": pd.array(
                np.where(inside, codes[np.maximum(b_grid, 0)], None), dtype="string"
            ),
            "households": prep.households.astype(np.int64),
            "households_estimated": prep.estimated.astype(bool),
        },
        geometry=gpd.GeoSeries(buildings.geometry.to_numpy(), crs=buildings.crs),
    )
    for col in ("building_id", "id"):
        if col in buildings.columns:
            bout.insert(1, col, buildings[col].to_numpy())
            break
    out_crs = prep.out_crs
    if out_crs is not None and bout.crs != out_crs:
        bout = bout.to_crs(out_crs)
    return bout


def _keep_polygons(grids: gpd.GeoDataFrame, kept: np.ndarray, previous) -> gpd.GeoDataFrame:
    """Grids of unchanged communities get their previous polygon back, byte for byte.

    Their cells were assigned by the previous polygons, so the union is the same area; the
    previous geometry itself is kept so that an unchanged grid does not move by a rounding
    error (or by a CRS round trip).
    """
    prev = getattr(previous, "grids", None) if not isinstance(previous, pd.DataFrame) else None
    codes = grids["grid_code"].to_numpy()
    take = np.array([k is not None and k == c for k, c in zip(kept, codes, strict=True)])
    if prev is None or not take.any():
        return grids
    if prev.crs is not None and grids.crs is not None and prev.crs != grids.crs:
        prev = prev.to_crs(grids.crs)
    lookup = pd.Series(prev.geometry.to_numpy(), index=prev["grid_code"].astype(str).to_numpy())
    lookup = lookup[~lookup.index.duplicated(keep="first")]
    found = take & pd.Series(codes).isin(lookup.index).to_numpy()
    if not found.any():
        return grids
    geoms = grids.geometry.to_numpy().copy()
    geoms[found] = lookup.loc[codes[found]].to_numpy()
    out = grids.copy()
    out[out.geometry.name] = gpd.GeoSeries(geoms, crs=grids.crs, index=grids.index)
    return out


def summarise(
    grids: gpd.GeoDataFrame,
    tess: Tessellation,
    cell_grid: np.ndarray,
    *,
    lo: int,
    hi: int,
    comm_ids: np.ndarray,
    comm_geo: gpd.GeoSeries,
    lines: gpd.GeoDataFrame,
    buildings_metric=None,
    area_moves: pd.Series | None = None,
) -> dict:
    """Quality figures of a partition (grids in the metric CRS).

    ``area_moves``: area each community's grids gain or give by footprints across its line
    (:func:`geo.partition.contract.give_footprints`), taken into account by the tiling error.
    """
    geoms = grids.geometry.to_numpy()
    hh = grids["households"].to_numpy()
    kind = grids["kind"].to_numpy()
    flags = grids["flags"].to_numpy()
    urban = kind == "urban"
    ntype = shapely.get_num_geometries(geoms)
    pp = polsby_popper(geoms)
    flagged = grids.loc[flags != "", ["grid_code", "community_id", "households", "kind", "flags"]]
    reasons = pd.Series(flags[flags != ""]).value_counts().to_dict()
    hist_edges = np.arange(0, max(hi * 2, int(hh.max()) + 50 if len(hh) else 0) + 50, 50)
    hist, _ = np.histogram(hh[urban], bins=hist_edges)
    return {
        "band": {"min_households": lo, "max_households": hi},
        "counts": {
            "communities": int(len(comm_ids)),
            "grids": int(len(grids)),
            "by_kind": pd.Series(kind).value_counts().to_dict(),
            "cells": int(len(tess.cells)),
            "blocks": int(len(tess.blocks)),
        },
        "households_per_grid": {
            "all": _stats(hh),
            "urban": _stats(hh[urban]),
            "urban_histogram": {
                f"{int(a)}-{int(b)}": int(c)
                for a, b, c in zip(hist_edges[:-1], hist_edges[1:], hist, strict=True)
                if c
            },
        },
        "in_band": _in_band(grids, lo, hi),
        "flagged": {
            "count": int(len(flagged)),
            "reasons": {str(k): int(v) for k, v in reasons.items()},
            "grids": flagged.to_dict("records")[:500],
        },
        "contiguity": {"disconnected_grids": int((ntype > 1).sum())},
        "compactness": {
            "polsby_popper_mean": float(pp.mean()) if len(pp) else 0.0,
            "polsby_popper_median": float(np.median(pp)) if len(pp) else 0.0,
        },
        "boundaries": _boundaries(tess, cell_grid, comm_geo, lines),
        "tiling": _tiling(grids, tess, comm_ids, comm_geo, area_moves),
    }


def _in_band(grids: gpd.GeoDataFrame, lo: int, hi: int) -> dict:
    """Urban grids in the band, overall and where the band is reachable."""
    hh = grids["households"].to_numpy()
    urban = grids["kind"].to_numpy() == "urban"
    in_band = (hh >= lo) & (hh <= hi)
    # communities where an in-band split of the urban households exists
    uh = pd.Series(hh[urban]).groupby(grids["community_id"].to_numpy()[urban]).sum()
    feasible_comm = {c for c, t in uh.items() if t > 0 and np.ceil(t / hi) <= np.floor(t / lo)}
    # grids whose piece of community admits an in-band split: all urban grids but those
    # flagged with a reason that makes the band unreachable
    feas = urban & ~np.isin(grids["flags"].to_numpy(), INFEASIBLE)
    return {
        "urban_grids": int(urban.sum()),
        "urban_in_band": int((urban & in_band).sum()),
        "share_urban": float((urban & in_band).sum() / max(urban.sum(), 1)),
        "grids_where_band_reachable": int(feas.sum()),
        "share_in_feasible_communities": float((feas & in_band).sum() / max(feas.sum(), 1)),
        "feasible_communities": len(feasible_comm),
    }


def _boundaries(
    tess: Tessellation, cell_grid: np.ndarray, comm_geo: gpd.GeoSeries, lines: gpd.GeoDataFrame
) -> dict:
    """Length of the boundaries between grids and the share along barriers."""
    # boundaries between grids of the same community, from the cell graph
    e = tess.edges
    gi, gj = cell_grid[e["i"].to_numpy()], cell_grid[e["j"].to_numpy()]
    between = gi != gj
    internal_len = float(e["length"].to_numpy()[between].sum())
    near_len = float(e["near_barrier"].to_numpy()[between].sum())
    comm_len = float(shapely.length(comm_geo.to_numpy()).sum())
    return {
        "internal_boundary_m": round(internal_len, 1),
        "internal_near_barrier_m": round(near_len, 1),
        "share_internal_on_barrier": float(near_len / internal_len) if internal_len else None,
        "community_boundary_m": round(comm_len, 1),
        "share_all_on_barrier_or_community": float(
            (near_len + comm_len) / (internal_len + comm_len)
        )
        if internal_len + comm_len
        else None,
        "barrier_lines": int(len(lines)),
    }


def _tiling(
    grids: gpd.GeoDataFrame,
    tess: Tessellation,
    comm_ids: np.ndarray,
    comm_geo: gpd.GeoSeries,
    area_moves: pd.Series | None = None,
) -> dict:
    """Grid areas against community areas (plus footprints taken in): the tiling error."""
    comm_area = pd.Series(shapely.area(comm_geo.to_numpy()), index=comm_ids.astype(str))
    if area_moves is not None:
        comm_area = comm_area + area_moves.reindex(comm_area.index).fillna(0)
    grid_area = (
        pd.Series(shapely.area(grids.geometry.to_numpy()))
        .groupby(grids["community_id"].to_numpy())
        .sum()
    )
    area_diff = (grid_area.reindex(comm_area.index).fillna(0) - comm_area).abs()
    return {
        "cells_area_error_m2": float(tess.area_error_m2),
        "max_community_area_difference_m2": float(area_diff.max()) if len(area_diff) else 0.0,
        "max_area_difference_per_grid_m2": float(
            (
                area_diff
                / pd.Series(1, index=grids["community_id"].to_numpy())
                .groupby(level=0)
                .sum()
                .reindex(area_diff.index)
                .fillna(1)
            ).max()
        )
        if len(area_diff)
        else 0.0,
    }
