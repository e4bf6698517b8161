"""Grid division (网格划分): divide every community into grids of whole cells.

Pipeline: validate -> metric CRS -> households (:mod:`geo.partition.inputs`) -> large urban
communities cut into pieces of a few grids (:mod:`geo.partition.pieces`) -> jobs of a few
communities or pieces each, run in worker processes or on a Dask cluster
(:mod:`geo.partition.community`, :mod:`geo.partition.parallel`): blocks and cells
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
from collections.abc import Iterable
from typing import Any

import geopandas as gpd

from geo.partition.combine import combine
from geo.partition.community import community_jobs, run_jobs
from geo.partition.households import HouseholdRules
from geo.partition.inputs import as_frames, validate_inputs
from geo.partition.prepare import (
    Prepared,
    prepare_barriers,
    prepare_buildings,
    prepare_communities,
    prepare_previous,
)
from geo.partition.quality import assemble
from geo.partition.result import PartitionResult

__all__ = ["PartitionResult", "partition"]

log = logging.getLogger(__name__)

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
    dask: Any = None,
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
    dask
        A ``dask.distributed`` scheduler address (``"tcp://host:8786"``) or ``Client``: the
        per-area jobs run on that cluster (:mod:`geo.partition.parallel`); the result is
        byte for byte the local one.

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
        community_id = _community_id_column(communities)
    validate_inputs(
        buildings,
        communities,
        community_id,
        community_kind,
        barrier_frames,
        min_households,
        max_households,
    )
    prep = prepare_buildings(
        buildings,
        households_column=households_column,
        rules=rules,
        lo=int(min_households),
        hi=int(max_households),
        output_crs=output_crs,
    )
    lap("read_validate_households")
    prepare_communities(prep, communities, community_id=community_id, community_kind=community_kind)
    prepare_barriers(prep, barrier_frames)
    lap("prepare")
    prepare_previous(prep, previous)
    jobs = community_jobs(
        prep,
        special_column=special_column,
        hamlet_column=hamlet_column,
        hamlet_distance=hamlet_distance,
        hamlet_min=hamlet_min_households,
        locked=locked,
    )
    lap("prepare_jobs")
    done = run_jobs(jobs, workers=workers, progress=progress, dask=dask)
    tess, cell_grid, grid_meta, grid_geom = combine(
        [(d, job.buildings) for d, job in zip(done, jobs, strict=True)],
        len(buildings),
        prep.comm_ids,
    )
    tess.cells = tess.cells.set_crs(prep.mcrs, allow_override=True)
    lap("tessellate_divide")
    out = assemble(prep, tess, cell_grid, grid_meta, grid_geom=grid_geom)
    lap("assemble")
    _finish_report(out.report, prep, done, timings)
    # large communities cut into pieces solved apart (geo.partition.pieces)
    cut = [c.index for job in jobs for c in job.communities if c.piece]
    out.report["pieces"] = {"communities_cut": len(set(cut)), "pieces": len(cut)}
    out.report["seconds_total"] = round(time.perf_counter() - t_start, 3)
    out.report["peak_memory_mb"] = _peak_memory_mb()
    out.report["metric_crs"] = prep.mcrs.to_string()
    return out


def _community_id_column(communities: gpd.GeoDataFrame) -> str | None:
    """The community id column when none is named: ``code``, ``community_id`` or ``id``."""
    for cand in ("code", "community_id", "id"):
        if cand in communities.columns:
            return cand
    return None


def _finish_report(report: dict, prep: Prepared, done: list, timings: dict[str, float]) -> None:
    """Add the input problems and the timings of the stages to ``report``."""
    report["problems"] = prep.problems
    # inside the workers: CPU seconds summed over communities (the wall time of the
    # parallel stage is tessellate_divide)
    for stage, key in (
        ("tessellate", "tessellate"),
        ("partition", "divide"),
        ("grid_polygons", "polygons"),
    ):
        timings[stage] = round(sum(d.seconds[key] for d in done), 3)
    report["seconds"] = timings
