"""Grid division (网格划分): divide every community into grids of whole cells.

Pipeline: validate -> metric CRS -> households (:mod:`geo.partition.inputs`) -> jobs of a few
communities each, run in worker processes (:mod:`geo.partition.community`): blocks and cells
(:mod:`geo.partition.tessellation`), dedicated, locked and indivisible grids, each connected piece solved
alone (:mod:`geo.partition.solver`) and polished (:mod:`geo.partition.polish`), grid
polygons -> codes and report (:mod:`geo.partition.quality`).

The solver is our own rather than a library's; measured on a 100k-building synthetic town
(``benchmarks/partition.py``, numbers in ``docs/partition.md``), METIS leaves grids
disconnected and has no lower bound, spopt's max-p builds a dense n x n matrix, GerryChain
hangs on infeasible bands, and none of them keeps codes stable between runs. Here:

1. Urban pieces: k = the grid count nearest T/target within ceil(T/max)..floor(T/min).
   Seeds by household-weighted k-means; grids grow as multi-source shortest paths on the cell
   graph (edge cost = distance x barrier weight) with a price per seed, adjusted until every
   grid is in the band. Every grid is a shortest-path tree: contiguous by construction, and
   boundaries settle on the costly edges, i.e. on streets, rivers and railways. This runs on
   the graph of blocks first, with every block of more households than a grid may hold cut
   beforehand by the shortest straight lines between its buildings (no street can take
   those boundaries, so they should be short).
2. Repair: single-cell moves that keep the donor connected, merge of two or three
   neighbouring grids re-split along a barrier-aware spanning tree, and ejection chains (a
   tower goes to a neighbour that passes small buildings on). The work is counted in steps,
   not seconds, so the result does not depend on the machine or its load.
3. Polish: boundary cells move to the neighbouring grid when that lowers the boundary price
   (length / barrier weight), never leaving the band or breaking a grid in two.
4. Rural pieces: one grid per hamlet (``hamlet_id`` or single-linkage clusters of buildings
   within ``hamlet_distance``), land in between going to the nearest hamlet; hamlets over the
   maximum are split like urban pieces.
5. Incremental runs (``previous``) start from the previous assignment and only repair grids
   that left the band; communities whose buildings did not change keep their grids, polygons
   included (byte for byte when ``previous`` is a result with its grids).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_crs
from geo.errors import GeoWarning
from geo.partition.community import combine, community_jobs, run_jobs
from geo.partition.households import HouseholdRules, building_households
from geo.partition.inputs import (
    as_frames,
    building_id_column,
    feature_ids,
    geom_keys,
    previous_assignment,
    repair_geometries,
    validate_inputs,
)
from geo.partition.quality import assemble
from geo.partition.result import PartitionResult
from geo.partition.tessellation import barrier_lines

__all__ = ["PartitionResult", "partition"]

log = logging.getLogger(__name__)

WHOLE_AREA_ID = "000000000000"
SPECIAL_TYPES = ("school", "hospital", "market", "industrial", "government", "park")


# --------------------------------------------------------------------------------------------
# the public function


def _peak_memory_mb() -> float | None:
    """Peak resident memory of this process so far (Unix), in MiB."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def partition(
    buildings: gpd.GeoDataFrame,
    *,
    communities: gpd.GeoDataFrame | None = None,
    community_id: str | None = None,
    community_kind: str = "kind",
    barriers: gpd.GeoDataFrame | Iterable[gpd.GeoDataFrame] | None = None,
    households_column: str | None = None,
    min_households: int = 300,
    max_households: int = 500,
    locked: Iterable[str] | None = None,
    previous: gpd.GeoDataFrame | PartitionResult | None = None,
    hamlet_column: str = "hamlet_id",
    hamlet_distance: float = 120.0,
    hamlet_min_households: int = 20,
    special_column: str = "special",
    rules: HouseholdRules | None = None,
    output_crs=None,
    progress: bool = False,
    workers: int | None = None,
) -> PartitionResult:
    """Divide communities into grids of ``min_households``..``max_households`` households.

    Parameters
    ----------
    buildings
        Building footprints (any CRS). Optional columns: ``households_column``, a type,
        floors or height (for estimates, see :mod:`geo.partition.households`), ``special``
        (school, hospital... : a dedicated grid) and ``hamlet_id``.
    communities
        Community polygons with ``community_id`` (a 12-digit statistical code gives 15-digit
        grid codes) and optionally ``community_kind`` ("urban"/"rural"). Without them the
        convex hull of the buildings (plus 30 m) is one area.
    barriers
        One or more layers of streets (class in ``highway``/``road_class``...), rivers and
        water polygons, railways. Grid boundaries follow them where possible.
    locked
        Grid codes of ``previous`` to keep exactly as they were.
    previous
        A previous result (or its ``buildings`` layer): buildings with unchanged footprints
        keep their grid unless the band requires a change, and grid codes are matched to the
        previous grids by shared households.
    output_crs
        CRS of the output (default: the buildings' CRS).
    progress
        Show a tqdm progress bar over communities.
    workers
        Processes solving communities in parallel (default: up to 4 for 20k+ cells, else 1);
        the result is the same for any number.

    Returns
    -------
    PartitionResult
        ``.grids``, ``.buildings`` and ``.report``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> b = gpd.GeoDataFrame({"households": [100] * 8},
    ...     geometry=[box(x * 30, y * 30, x * 30 + 20, y * 30 + 20)
    ...               for x in range(4) for y in range(2)], crs=32650)
    >>> r = partition(b, households_column="households")
    >>> r.grids[["grid_code", "households"]].to_dict("list")
    {'grid_code': ['000000000000001', '000000000000002'], 'households': [400, 400]}
    """
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        timings[name] = round(now - t0, 3)
        t0 = now
        log.info("partition: %s %.2f s", name, timings[name])

    barrier_frames = as_frames(barriers)
    if communities is not None and community_id is None:
        for cand in ("code", "community_id", "id"):
            if cand in communities.columns:
                community_id = cand
                break
    validate_inputs(
        buildings,
        communities,
        community_id,
        community_kind,
        barrier_frames,
        min_households,
        max_households,
    )
    lo, hi = int(min_households), int(max_households)
    in_crs = buildings.crs
    out_crs = output_crs if output_crs is not None else in_crs
    bid_col = building_id_column(buildings)
    geoms, brep = repair_geometries(buildings, "buildings", bid_col)
    n_b = len(buildings)
    present = np.array([g is not None for g in geoms])
    # duplicates: the same footprint twice
    keys = geom_keys(np.where(present, geoms, shapely.Polygon()), bool(buildings.crs.is_geographic))
    dup = pd.Series(keys).duplicated(keep="first").to_numpy() & present
    report_problems: dict = {"buildings": {k: v for k, v in brep.items()}}
    if dup.any():
        warnings.warn(
            f"buildings: {int(dup.sum())} duplicate footprint(s) (same geometry as an earlier "
            f"feature) count zero households (id(s) {feature_ids(buildings, dup, bid_col, 50)})",
            GeoWarning,
            stacklevel=2,
        )
        report_problems["buildings"]["duplicates"] = np.flatnonzero(dup).tolist()
    mcrs = metric_crs(buildings)
    bgeo = gpd.GeoSeries(np.where(present, geoms, None), crs=in_crs).to_crs(mcrs)
    footprint = bgeo.area.fillna(0).to_numpy()
    hh = building_households(
        buildings,
        households_column=households_column,
        rules=rules,
        footprint_m2=footprint,
        ids=buildings[bid_col] if bid_col else None,
    )
    households = hh["households"].to_numpy().copy()
    households[dup | ~present] = 0
    estimated = hh["households_estimated"].to_numpy()
    lap("read_validate_households")

    # communities (metric)
    if communities is not None:
        cgeoms, crep = repair_geometries(communities, "communities", community_id)
        if crep:
            report_problems["communities"] = crep
        cm = gpd.GeoSeries(cgeoms, crs=communities.crs).to_crs(mcrs)
        keepc = ~cm.isna().to_numpy()
        comm_ids = communities[community_id].astype(str).to_numpy()[keepc]
        comm_geo = gpd.GeoSeries(cm.to_numpy()[keepc], crs=mcrs)
        if community_kind in communities.columns:
            kinds = (
                communities[community_kind].astype("string").fillna("urban").str.lower()
            ).to_numpy()[keepc]
        else:
            kinds = np.full(len(comm_ids), "urban", dtype=object)
    else:
        hull = shapely.convex_hull(shapely.union_all(bgeo.dropna().to_numpy())).buffer(30)
        comm_ids = np.array([WHOLE_AREA_ID], dtype=object)
        comm_geo = gpd.GeoSeries([hull], crs=mcrs)
        kinds = np.array(["urban"], dtype=object)
    # building -> community: the community holding its point on surface
    pts = shapely.point_on_surface(bgeo.to_numpy())
    bcomm = np.full(n_b, -1, dtype=np.int64)
    valid_pts = np.flatnonzero(present)
    pi, ci = shapely.STRtree(comm_geo.to_numpy()).query(pts[valid_pts], predicate="intersects")
    bcomm[valid_pts[pi[::-1]]] = ci[::-1]
    outside = present & (bcomm < 0)
    if outside.any():
        warnings.warn(
            f"buildings: {int(outside.sum())} building(s) lie outside every community and get "
            f"no grid (id(s) {feature_ids(buildings, outside, bid_col, 50)})",
            GeoWarning,
            stacklevel=2,
        )
        report_problems["buildings"]["outside_communities"] = np.flatnonzero(outside).tolist()

    bar = [b.to_crs(mcrs) for b in barrier_frames]
    bar_all = (
        gpd.GeoDataFrame(pd.concat(bar, ignore_index=True), geometry="geometry", crs=mcrs)
        if bar
        else None
    )
    if bar_all is not None:
        bar_all = bar_all[~bar_all.geometry.isna() & ~bar_all.geometry.is_empty]
        bad_bar = ~bar_all.geometry.is_valid
        if bad_bar.any():
            bar_all = bar_all.copy()
            bar_all.loc[bad_bar, "geometry"] = shapely.make_valid(
                bar_all.geometry[bad_bar].to_numpy()
            )
    lines = barrier_lines(bar_all) if bar_all is not None else barrier_lines(None)
    if lines.crs is None:
        lines = lines.set_crs(mcrs)
    lap("prepare")

    prev_code = None
    if previous is not None:
        prev_code, _ = previous_assignment(previous, buildings, present, in_crs)
    jobs = community_jobs(
        comm_geo=comm_geo,
        kinds=kinds,
        footprints=bgeo.to_numpy(),
        bcomm=np.where(present, bcomm, -1),
        households=households,
        buildings=buildings,
        special_column=special_column,
        hamlet_column=hamlet_column,
        hamlet_distance=hamlet_distance,
        hamlet_min=hamlet_min_households,
        prev_code=prev_code,
        previous=previous,
        comm_ids=comm_ids,
        locked=locked,
        lines=lines,
        mcrs=mcrs,
        lo=lo,
        hi=hi,
    )
    lap("prepare_jobs")
    done = run_jobs(jobs, workers=workers, progress=progress)
    tess, cell_grid, grid_meta, grid_geom = combine(
        [(d, job.buildings) for d, job in zip(done, jobs, strict=True)], n_b, comm_ids
    )
    tess.cells = tess.cells.set_crs(mcrs, allow_override=True)
    lap("tessellate_divide")

    out = assemble(
        tess,
        cell_grid,
        grid_meta,
        grid_geom=grid_geom,
        buildings=buildings,
        households=households,
        estimated=estimated,
        present=present,
        comm_ids=comm_ids,
        comm_geo=comm_geo,
        lo=lo,
        hi=hi,
        previous=previous,
        prev_code=prev_code,
        mcrs=mcrs,
        out_crs=out_crs,
        lines=lines,
    )
    lap("assemble")
    out.report["problems"] = report_problems
    # inside the workers: CPU seconds summed over communities (the wall time of the
    # parallel stage is tessellate_divide)
    for stage, key in (
        ("tessellate", "tessellate"),
        ("partition", "divide"),
        ("grid_polygons", "polygons"),
    ):
        timings[stage] = round(sum(d.seconds[key] for d in done), 3)
    out.report["seconds"] = timings
    out.report["seconds_total"] = round(time.perf_counter() - t_start, 3)
    out.report["peak_memory_mb"] = _peak_memory_mb()
    out.report["metric_crs"] = mcrs.to_string()
    return out
