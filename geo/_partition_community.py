"""Per-community work of :func:`geo.partition.partition`, in parallel worker processes.

Each community is solved alone: dedicated, locked and over-maximum cells first, then each
connected piece (:mod:`geo._partition_solver`); unchanged communities of an incremental run
keep their previous grids.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from geo._partition_input import _previous_assignment
from geo._partition_solver import _components, _Graph, _make_contiguous, _solve_piece, _subgraph
from geo.errors import InputError
from geo.tessellation import Tessellation

__all__: list[str] = []

log = logging.getLogger(__name__)


def _solve_all(
    tess: Tessellation,
    households: np.ndarray,
    buildings: gpd.GeoDataFrame,
    present: np.ndarray,
    comm_ids: np.ndarray,
    kinds: np.ndarray,
    lo: int,
    hi: int,
    *,
    special_column: str,
    hamlet_column: str,
    hamlet_distance: float,
    hamlet_min: int,
    previous,
    locked,
    mcrs,
    in_crs,
    progress: bool,
    workers: int | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    cells = tess.cells
    n_cells = len(cells)
    bc = tess.building_cell
    inside = bc >= 0
    cell_h = np.bincount(bc[inside], weights=households[inside], minlength=n_cells)
    geoms = cells.geometry.to_numpy()
    unit = cells["unit"].to_numpy()
    # a cell's point: its building's point on surface, or its own for empty cells
    label_pts = shapely.get_coordinates(shapely.point_on_surface(geoms))
    has_unit = unit >= 0
    bgeoms = buildings.geometry.to_numpy()
    if has_unit.any():
        unit_geoms = gpd.GeoSeries(bgeoms[unit[has_unit]], crs=buildings.crs).to_crs(mcrs)
        label_pts[has_unit] = shapely.get_coordinates(
            shapely.point_on_surface(unit_geoms.to_numpy())
        )
    cell_comm = cells["community"].to_numpy()
    cell_block = cells["block"].to_numpy()

    # special cells: any special building in them
    cell_special = np.full(n_cells, "", dtype=object)
    if special_column in buildings.columns:
        sp = buildings[special_column].astype("string").fillna("").str.strip().to_numpy(object)
        has = inside & (sp != "")
        cell_special[bc[has]] = sp[has]
    cell_hamlet = None
    if hamlet_column in buildings.columns:
        hv = buildings[hamlet_column]
        codes_h, uniq = pd.factorize(hv.astype("string"))
        cell_hamlet = np.full(n_cells, -1, dtype=np.int64)
        ok = inside & (codes_h >= 0)
        cell_hamlet[bc[ok]] = codes_h[ok]

    prev_code, _ = _previous_assignment(previous, buildings, present, in_crs)
    locked_set = set(map(str, locked)) if locked is not None else set()
    if locked_set and previous is None:
        raise InputError("locked: grid codes can only be kept frozen together with previous=")
    cell_prev = np.full(n_cells, None, dtype=object)
    if previous is not None:
        ok = inside & (prev_code != None)  # noqa: E711
        df = pd.DataFrame({"cell": bc[ok], "code": prev_code[ok], "h": households[ok] + 1e-3})
        if len(df):
            best = df.groupby(["cell", "code"])["h"].sum().reset_index()
            best = best.sort_values(["cell", "h", "code"], ascending=[True, False, True])
            best = best.drop_duplicates("cell")
            cell_prev[best["cell"].to_numpy()] = best["code"].to_numpy()
    # communities whose buildings are all unchanged keep their previous grids
    changed_comm = np.zeros(len(comm_ids), bool)
    if previous is not None:
        new_b = inside & (prev_code == None)  # noqa: E711
        changed_comm[np.unique(cell_comm[bc[new_b]])] = True
        prev_b = previous if isinstance(previous, pd.DataFrame) else previous.buildings
        prev_total = (
            prev_b.groupby(prev_b["grid_code"].astype(str).str[:-3])["households"].sum()
            if "households" in prev_b.columns
            else None
        )
        cur_total = pd.Series(cell_h).groupby(cell_comm).sum()
        if prev_total is not None:
            for ci, cid in enumerate(comm_ids):
                if abs(prev_total.get(str(cid), -1) - cur_total.get(ci, 0)) > 1e-6:
                    changed_comm[ci] = True

    e = tess.edges
    ei, ej = e["i"].to_numpy(), e["j"].to_numpy()
    length = e["length"].to_numpy()
    weight = e["weight"].to_numpy()
    dist = np.hypot(*(label_pts[ei] - label_pts[ej]).T) + 1e-3

    cell_grid = np.full(n_cells, -1, dtype=np.int64)
    meta_rows: list[dict] = []
    order = np.argsort(cell_comm, kind="stable")
    bounds = np.searchsorted(cell_comm[order], np.arange(len(comm_ids) + 1))
    e_comm = cell_comm[ei]
    e_order = np.argsort(e_comm, kind="stable")
    e_bounds = np.searchsorted(e_comm[e_order], np.arange(len(comm_ids) + 1))
    jobs: list[tuple] = []
    job_members: list[tuple[int, np.ndarray]] = []
    for ci in range(len(comm_ids)):
        members = order[bounds[ci] : bounds[ci + 1]]
        if len(members) == 0:
            continue
        local = np.full(n_cells, -1, dtype=np.int64)
        local[members] = np.arange(len(members))
        es = e_order[e_bounds[ci] : e_bounds[ci + 1]]
        a, b = local[ei[es]], local[ej[es]]
        nloc = len(members)

        def sym(vals, a=a, b=b, nloc=nloc):
            m = sparse.coo_matrix((vals, (a, b)), shape=(nloc, nloc)).tocsr()
            return (m + m.T).tocsr()

        g = _Graph(
            h=cell_h[members],
            xy=label_pts[members],
            length=sym(length[es]),
            cost=sym(dist[es] * weight[es]),
            cut=sym(length[es] / weight[es]),
            block=cell_block[members],
        )
        jobs.append(
            (
                g,
                kinds[ci] == "rural",
                previous is not None and not changed_comm[ci],
                cell_prev[members] if previous is not None else None,
                cell_special[members],
                None if cell_hamlet is None else cell_hamlet[members],
                locked_set,
                lo,
                hi,
                hamlet_distance,
                hamlet_min,
            )
        )
        job_members.append((ci, members))
    results = _run_jobs(jobs, workers=workers, progress=progress)
    next_grid = 0
    for (ci, members), (labels, kind_map, flag_map) in zip(job_members, results, strict=True):
        _store(cell_grid, members, labels, next_grid, kind_map, flag_map, meta_rows, comm_ids[ci])
        next_grid += labels.max() + 1
    meta = pd.DataFrame(meta_rows)
    if len(meta) == 0:
        meta = pd.DataFrame(columns=["grid", "community_id", "kind", "flags"])
    return cell_grid, meta


def _solve_community(
    g: _Graph,
    rural: bool,
    unchanged: bool,
    pc: np.ndarray | None,
    sp: np.ndarray,
    ch: np.ndarray | None,
    locked_set: set[str],
    lo: int,
    hi: int,
    hamlet_distance: float,
    hamlet_min: int,
) -> tuple[np.ndarray, dict[int, str], dict[int, str]]:
    """Labels, kinds and flags of the grids of one community (local cell positions)."""
    labels = np.full(g.n, -1, dtype=np.int64)
    grid_kind: dict[int, str] = {}
    grid_flag: dict[int, str] = {}
    nl = 0
    frozen: set[int] = set()
    # unchanged community with a previous version: keep it
    if unchanged and pc is not None:
        inhabited_known = all(p is not None for p in pc[g.h > 0])
        if inhabited_known and any(p is not None for p in pc):
            labs = _warm_labels(g, pc)  # empty land: the nearest labelled cell's grid
            labels = _make_contiguous(g, labs.astype(np.int64))
            _, labels = np.unique(labels, return_inverse=True)
            loads = np.bincount(labels, weights=g.h)
            for j, load in enumerate(loads):
                grid_kind[j] = "rural" if rural else "urban"
                grid_flag[j] = "" if (rural and load <= hi) or lo <= load <= hi else "kept"
            return labels, grid_kind, grid_flag
    # dedicated grids: groups of adjacent cells with the same special value
    sp_cells = np.flatnonzero(sp != "")
    if len(sp_cells):
        sub = _subgraph(g.length, sp_cells).tocoo()
        same = sp[sp_cells][sub.row] == sp[sp_cells][sub.col]
        m = sparse.coo_matrix(
            (np.ones(int(same.sum())), (sub.row[same], sub.col[same])),
            shape=(len(sp_cells), len(sp_cells)),
        )
        _, comp = _components(m)
        for cpt in np.unique(comp):
            labels[sp_cells[comp == cpt]] = nl
            grid_kind[nl] = "special"
            grid_flag[nl] = ""
            frozen.add(nl)
            nl += 1
    # locked grids
    if locked_set:
        for code in sorted(locked_set):
            sel = np.flatnonzero((pc == code) & (labels < 0))
            if len(sel):
                labels[sel] = nl
                grid_kind[nl] = "rural" if rural else "urban"
                grid_flag[nl] = "locked"
                frozen.add(nl)
                nl += 1
    # buildings over the maximum
    big = np.flatnonzero((g.h > hi) & (labels < 0))
    for c in big:
        labels[c] = nl
        grid_kind[nl] = "rural" if rural else "urban"
        grid_flag[nl] = "indivisible-building"
        frozen.add(nl)
        nl += 1
    free = np.flatnonzero(labels < 0)
    if len(free):
        ncomp, comp = _components(_subgraph(g.length, free))
        for cpt in range(ncomp):
            nodes = free[comp == cpt]
            tot = g.h[nodes].sum()
            if tot == 0 and nl > 0:
                continue  # empty land: joins a neighbour below
            sub = g.take(nodes)
            init = None
            if pc is not None:
                pcn = pc[nodes]
                if any(p is not None for p in pcn):
                    init = _warm_labels(sub, pcn)
            labs, flags = _solve_piece(
                sub,
                lo,
                hi,
                rural=rural,
                init=init,
                cell_hamlet=None if ch is None else ch[nodes],
                hamlet_distance=hamlet_distance,
                hamlet_min=hamlet_min,
            )
            whole = len(nodes) == len(free) and not frozen
            for j in range(labs.max() + 1):
                grid_kind[nl + j] = "rural" if rural else "urban"
                f = flags[j]
                if f == "undersize-community" and not whole:
                    f = "undersize-piece"
                grid_flag[nl + j] = f
            labels[nodes] = labs + nl
            nl += labs.max() + 1
    # empty pieces join the neighbouring grid with the longest shared boundary
    rest = np.flatnonzero(labels < 0)
    if len(rest):
        if nl == 0:
            labels[rest] = 0
            grid_kind[0] = "rural" if rural else "urban"
            grid_flag[0] = "empty"
            nl = 1
        else:
            for _ in range(len(rest) + 1):
                rest = np.flatnonzero(labels < 0)
                if len(rest) == 0:
                    break
                ncomp, comp = _components(_subgraph(g.length, rest))
                progress_made = False
                for cpt in range(ncomp):
                    piece = rest[comp == cpt]
                    row = g.length[piece].tocoo()
                    lab_nb = labels[row.col]
                    mask = lab_nb >= 0
                    if not mask.any():
                        continue
                    prefer = np.array([grid_kind.get(int(x)) != "special" for x in lab_nb[mask]])
                    score = (
                        pd.Series(row.data[mask] * (1 + 1000 * prefer)).groupby(lab_nb[mask]).sum()
                    )
                    labels[piece] = int(score.idxmax())
                    progress_made = True
                if not progress_made:
                    for cpt in range(ncomp):
                        piece = rest[comp == cpt]
                        labels[piece] = nl
                        grid_kind[nl] = "rural" if rural else "urban"
                        grid_flag[nl] = "empty"
                        nl += 1
    used, labels = np.unique(labels, return_inverse=True)
    kind_map = {i: grid_kind[int(u)] for i, u in enumerate(used)}
    flag_map = {i: grid_flag[int(u)] for i, u in enumerate(used)}
    return labels, kind_map, flag_map


def _solve_job(args):
    return _solve_community(*args)


def _run_jobs(jobs: list[tuple], *, workers: int | None, progress: bool) -> list:
    """Solve communities, in parallel worker processes when there is enough work.

    Communities are independent; large ones go first so the workers finish together.
    Results come back in the order of ``jobs``, so the output does not depend on ``workers``.
    """
    import os

    cells = sum(job[0].n for job in jobs)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if cells >= 20_000 and len(jobs) > 1 else 1
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="communities", unit="community")
    results: list = [None] * len(jobs)
    if workers <= 1:
        for i, job in enumerate(jobs):
            results[i] = _solve_job(job)
            if bar is not None:
                bar.update()
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        order = sorted(range(len(jobs)), key=lambda i: -jobs[i][0].n)
        with ProcessPoolExecutor(workers, mp_context=mp.get_context(method)) as pool:
            futures = {pool.submit(_solve_job, jobs[i]): i for i in order}
            from concurrent.futures import as_completed

            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                if bar is not None:
                    bar.update()
    if bar is not None:
        bar.close()
    return results


def _warm_labels(g: _Graph, prev_codes: np.ndarray) -> np.ndarray:
    """Initial labels from previous codes; unlabelled cells join the nearest labelled one."""
    known = np.array([p is not None for p in prev_codes])
    codes, labs = np.unique(prev_codes[known].astype(str), return_inverse=True)
    labels = np.full(g.n, -1, dtype=np.int64)
    labels[known] = labs
    if (~known).any():
        src_nodes = np.flatnonzero(known)
        _, _, src = csgraph.dijkstra(
            g.cost, directed=False, indices=src_nodes, min_only=True, return_predecessors=True
        )
        fill = ~known & (src >= 0)
        labels[fill] = labels[src[fill]]
        labels[labels < 0] = 0
    return labels


def _store(cell_grid, members, labels, offset, kinds, flags, rows, community) -> None:
    cell_grid[members] = labels + offset
    for j in range(labels.max() + 1):
        rows.append(
            {
                "grid": offset + j,
                "community_id": str(community),
                "kind": kinds.get(j, "urban"),
                "flags": flags.get(j, ""),
            }
        )
