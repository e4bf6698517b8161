"""Per-community work of :func:`geo.partition.partition`, in parallel worker processes.

Each community is solved alone: dedicated, locked and over-maximum cells first, then each
connected piece (:mod:`geo.partition.solver`); unchanged communities of an incremental run
keep their previous grids.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from geo.errors import InputError
from geo.partition.graph import Graph, components, subgraph
from geo.partition.parallel import run_ordered
from geo.partition.pieces import split_community
from geo.partition.polish import polish
from geo.partition.polygons import union_groups
from geo.partition.prepare import Prepared
from geo.partition.seams import connect_pieces
from geo.partition.solver import band_excess, make_contiguous, repair_band, solve_piece
from geo.partition.tessellation import Tessellation, tessellate

__all__ = ["JOB_BUILDINGS", "community_jobs", "run_jobs"]

log = logging.getLogger(__name__)


#: Communities are tessellated and divided in jobs of about this many buildings: few enough
#: jobs to keep the per-call overhead low, enough for the workers to finish together. The
#: grouping never changes the result (each community depends on its own buildings only).
JOB_BUILDINGS = 2_000


@dataclass
class _Community:
    """One community of a job."""

    index: int  # position among all communities
    geometry: shapely.Geometry
    rural: bool
    unchanged: bool  # same buildings and households as in the previous run
    previous_grids: tuple[np.ndarray, np.ndarray] | None  # (codes, polygons) to keep
    piece: bool = False  # a piece of a larger community (geo.partition.pieces)


@dataclass
class _Job:
    """Everything one worker needs to tessellate and divide a few communities (metric CRS)."""

    communities: list[_Community]
    buildings: np.ndarray  # positions of the job's buildings in the input
    building_community: np.ndarray  # position of each building's community in the job
    footprints: np.ndarray
    households: np.ndarray
    special: np.ndarray
    hamlet: np.ndarray | None
    previous_code: np.ndarray | None  # previous grid code per building (None: new)
    lines: gpd.GeoDataFrame
    locked: set[str]
    lo: int
    hi: int
    hamlet_distance: float
    hamlet_min: int

    @property
    def size(self) -> int:
        return len(self.buildings) + len(self.communities)


@dataclass
class _Done:
    """What a worker sends back: the job's cells, graph, grids and timings."""

    tess: Tessellation  # ``community`` holds positions among all communities
    labels: np.ndarray  # grid (position in the job) of each cell
    grid_community: np.ndarray  # community (position among all) of each grid
    kinds: list[str]
    flags: list[str]
    grids: np.ndarray  # polygon per grid
    kept: list[str | None]  # previous code whose polygon a grid keeps
    seconds: dict[str, float]


def community_jobs(
    prep: Prepared,
    *,
    special_column: str,
    hamlet_column: str,
    hamlet_distance: float,
    hamlet_min: int,
    locked: Iterable[str] | None,
) -> list[_Job]:
    """Consecutive communities grouped into jobs of about :data:`JOB_BUILDINGS` buildings."""
    buildings, previous, prev_code = prep.buildings, prep.previous, prep.prev_code
    comm_ids, households, lines = prep.comm_ids, prep.households, prep.lines
    assert prep.comm_geo is not None and lines is not None
    bcomm = np.where(prep.present, prep.bcomm, -1)
    footprints = prep.footprints.to_numpy()
    n_b = len(buildings)
    special = np.full(n_b, "", dtype=object)
    if special_column in buildings.columns:
        special = buildings[special_column].astype("string").fillna("").str.strip().to_numpy(object)
    hamlet = None
    if hamlet_column in buildings.columns:
        hamlet = pd.factorize(buildings[hamlet_column].astype("string"))[0].astype(np.int64)
    locked_set = set(map(str, locked)) if locked is not None else set()
    if locked_set and previous is None:
        raise InputError("locked: grid codes can only be kept frozen together with previous=")
    unchanged = _unchanged_communities(previous, prev_code, bcomm, households, comm_ids)
    prev_grids = _previous_grids(previous, prep.mcrs)
    order = np.argsort(bcomm, kind="stable")
    bounds = np.searchsorted(bcomm[order], np.arange(len(comm_ids) + 1))
    cgeoms = prep.comm_geo.to_numpy()
    ltree = shapely.STRtree(lines.geometry.to_numpy())
    areas = _areas(prep, order, bounds, cgeoms)
    groups: list[list[_Area]] = [[]]
    count = 0
    for area in areas:
        if count >= JOB_BUILDINGS:
            groups.append([])
            count = 0
        groups[-1].append(area)
        count += len(area.members)
    jobs = []
    for group in groups:
        if not group:
            continue
        members = np.concatenate([a.members for a in group])
        position = np.concatenate([np.full(len(a.members), p) for p, a in enumerate(group)])
        geoms = np.array([a.geometry for a in group], dtype=object)
        near = np.unique(ltree.query(geoms, predicate="dwithin", distance=10.0)[1])
        comms = []
        for a in group:
            ci = a.index
            keep_prev = None
            if unchanged[ci] and prev_grids is not None:
                sel = prev_grids[2] == str(comm_ids[ci])
                if sel.any():
                    keep_prev = (prev_grids[0][sel], prev_grids[1][sel])
            comms.append(
                _Community(
                    ci,
                    a.geometry,
                    prep.kinds[ci] == "rural",
                    bool(unchanged[ci]),
                    keep_prev,
                    piece=a.piece,
                )
            )
        jobs.append(
            _Job(
                communities=comms,
                buildings=members,
                building_community=position.astype(np.int64),
                footprints=footprints[members],
                households=households[members],
                special=special[members],
                hamlet=None if hamlet is None else hamlet[members],
                previous_code=None if prev_code is None else prev_code[members],
                lines=lines.iloc[near],
                locked=locked_set,
                lo=prep.lo,
                hi=prep.hi,
                hamlet_distance=hamlet_distance,
                hamlet_min=hamlet_min,
            )
        )
    return jobs


@dataclass
class _Area:
    """A community, or a piece of a large one (:mod:`geo.partition.pieces`), and its buildings."""

    index: int  # position of the community among all
    geometry: shapely.Geometry
    members: np.ndarray  # positions of its buildings in the input
    piece: bool


def _areas(prep: Prepared, order: np.ndarray, bounds: np.ndarray, cgeoms: np.ndarray):
    """Every community as one area, large urban ones cut into pieces of whole grids.

    Incremental runs (``previous``) keep communities whole: their warm start and kept
    polygons work per community.
    """
    assert prep.lines is not None
    footprints = prep.footprints.to_numpy()
    areas: list[_Area] = []
    for ci in range(len(cgeoms)):
        members = order[bounds[ci] : bounds[ci + 1]]
        if prep.prev_code is not None or prep.kinds[ci] == "rural":
            areas.append(_Area(ci, cgeoms[ci], members, False))
            continue
        polys, piece = split_community(
            cgeoms[ci],
            footprints[members],
            prep.households[members],
            prep.lines,
            lo=prep.lo,
            hi=prep.hi,
        )
        if len(polys) == 1:
            areas.append(_Area(ci, cgeoms[ci], members, False))
            continue
        log.info("community %d: %d buildings in %d pieces", ci, len(members), len(polys))
        for p, poly in enumerate(polys):
            areas.append(_Area(ci, poly, members[piece == p], True))
    return areas


def _unchanged_communities(previous, prev_code, bcomm, households, comm_ids) -> np.ndarray:
    """Communities whose buildings all match the previous run, with the same households."""
    out = np.zeros(len(comm_ids), bool)
    if previous is None or prev_code is None:
        return out
    inside = bcomm >= 0
    changed = np.zeros(len(comm_ids), bool)
    changed[np.unique(bcomm[inside & (prev_code == None)])] = True  # noqa: E711
    prev_b = previous if isinstance(previous, pd.DataFrame) else previous.buildings
    if "households" in prev_b.columns:
        prev_total = prev_b.groupby(prev_b["grid_code"].astype(str).str[:-3])["households"].sum()
        cur_total = pd.Series(households[inside]).groupby(bcomm[inside]).sum()
        for ci, cid in enumerate(comm_ids):
            if abs(prev_total.get(str(cid), -1) - cur_total.get(ci, 0)) > 1e-6:
                changed[ci] = True
    return ~changed


def _previous_grids(previous, mcrs) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Codes, metric polygons and community ids of the previous grids, when known."""
    grids = getattr(previous, "grids", None) if not isinstance(previous, pd.DataFrame) else None
    if grids is None or len(grids) == 0 or "grid_code" not in grids.columns:
        return None
    geoms = grids.to_crs(mcrs).geometry.to_numpy() if grids.crs is not None else None
    if geoms is None:
        return None
    codes = grids["grid_code"].astype(str).to_numpy()
    comm = (
        grids["community_id"].astype(str).to_numpy()
        if "community_id" in grids.columns
        else np.array([c[:-3] for c in codes], dtype=object)
    )
    return codes, geoms, comm


def _run_job(job: _Job) -> _Done:
    """Tessellate a job's communities, divide each and build its grid polygons."""

    t0 = time.perf_counter()
    tess = tessellate(
        gpd.GeoSeries([c.geometry for c in job.communities]),
        gpd.GeoSeries(job.footprints),
        job.building_community,
        job.lines,
    )
    t1 = time.perf_counter()
    cells = _JobCells.of(job, tess)
    labels = np.full(len(cells.geoms), -1, dtype=np.int64)
    grid_comm: list[int] = []
    kinds: list[str] = []
    flags: list[str] = []
    kept: list[str | None] = []
    grids: list[np.ndarray] = []
    divide = polygons = 0.0
    for pos, comm in enumerate(job.communities):
        ta = time.perf_counter()
        members = np.flatnonzero(cells.community == pos)
        if len(members) == 0:
            continue
        lab, kind_map, flag_map, kept_map = _divide(job, comm, cells, members)
        tb = time.perf_counter()
        k = int(lab.max()) + 1
        polys = union_groups(cells.geoms[members], lab, k)
        lab, polys, flag_map = connect_pieces(
            cells.graph(members), cells.geoms[members], lab, polys, flag_map, job.lo, job.hi
        )
        labels[members] = lab + len(kinds)
        for j in range(k):
            grid_comm.append(comm.index)
            kinds.append(kind_map.get(j, "urban"))
            flags.append(flag_map.get(j, ""))
            kept.append(kept_map.get(j))
        grids.append(polys)
        tc = time.perf_counter()
        divide += tb - ta
        polygons += tc - tb
        log.debug(
            "community %d: %d cells, %d grids; divide %.2f s, polygons %.2f s",
            comm.index,
            len(members),
            k,
            tb - ta,
            tc - tb,
        )
    index = np.array([c.index for c in job.communities], dtype=np.int64)
    tess.cells["community"] = index[cells.community]
    tess.blocks["community"] = index[tess.blocks["community"].to_numpy()]
    return _Done(
        tess=tess,
        labels=labels,
        grid_community=np.array(grid_comm, dtype=np.int64),
        kinds=kinds,
        flags=flags,
        grids=np.concatenate(grids) if grids else np.zeros(0, dtype=object),
        kept=kept,
        seconds={"tessellate": t1 - t0, "divide": divide, "polygons": polygons},
    )


def _divide(job: _Job, comm: _Community, cells: _JobCells, members: np.ndarray):
    """Labels, kinds, flags and kept codes of one community's cells ``members``."""
    g = cells.graph(members)
    pc = None if cells.previous is None else cells.previous[members]
    if comm.previous_grids is not None:
        lab, kind_map, flag_map, kept_map = _keep_previous(
            g, cells.geoms[members], pc, comm, job.lo, job.hi
        )
        if lab is not None:
            return lab, kind_map, flag_map, kept_map
    lab, kind_map, flag_map = _solve_community(
        g,
        job,
        rural=comm.rural,
        unchanged=comm.unchanged,
        pc=pc,
        sp=cells.special[members],
        ch=None if cells.hamlet is None else cells.hamlet[members],
        piece=comm.piece,
        area=shapely.area(cells.geoms[members]),
    )
    return lab, kind_map, flag_map, {}


@dataclass
class _JobCells:
    """The cells of a job: geometry, community, households, matrices and attributes."""

    geoms: np.ndarray
    community: np.ndarray  # position of each cell's community in the job
    block: np.ndarray
    h: np.ndarray
    xy: np.ndarray  # label point: its building's point on surface, or its own
    length: sparse.csr_matrix
    cost: sparse.csr_matrix
    cut: sparse.csr_matrix
    special: np.ndarray
    hamlet: np.ndarray | None
    previous: np.ndarray | None  # the previous grid holding most of a cell's households

    @classmethod
    def of(cls, job: _Job, tess: Tessellation) -> _JobCells:
        cells = tess.cells.geometry.to_numpy()
        n = len(cells)
        bc = tess.building_cell
        inside = bc >= 0
        # a cell's point: its building's point on surface, or its own for empty cells
        unit = tess.cells["unit"].to_numpy()
        label_pts = shapely.get_coordinates(shapely.point_on_surface(cells))
        has_unit = unit >= 0
        if has_unit.any():
            label_pts[has_unit] = shapely.get_coordinates(
                shapely.point_on_surface(job.footprints[unit[has_unit]])
            )
        e = tess.edges
        ei, ej = e["i"].to_numpy(), e["j"].to_numpy()
        length, weight = e["length"].to_numpy(), e["weight"].to_numpy()
        dist = np.hypot(*(label_pts[ei] - label_pts[ej]).T) + 1e-3

        def sym(vals):
            m = sparse.coo_matrix((vals, (ei, ej)), shape=(n, n)).tocsr()
            return (m + m.T).tocsr()

        cell_special = np.full(n, "", dtype=object)
        has = inside & (job.special != "")
        cell_special[bc[has]] = job.special[has]
        cell_hamlet = None
        if job.hamlet is not None:
            cell_hamlet = np.full(n, -1, dtype=np.int64)
            ok = inside & (job.hamlet >= 0)
            cell_hamlet[bc[ok]] = job.hamlet[ok]
        return cls(
            geoms=cells,
            community=tess.cells["community"].to_numpy(),
            block=tess.cells["block"].to_numpy(),
            h=np.bincount(bc[inside], weights=job.households[inside], minlength=n),
            xy=label_pts,
            length=sym(length),
            cost=sym(dist * weight),
            cut=sym(length / weight),
            special=cell_special,
            hamlet=cell_hamlet,
            previous=_cell_previous(job, bc, n),
        )

    def graph(self, members: np.ndarray) -> Graph:
        """The graph of the cells ``members`` (one community)."""
        return Graph(
            h=self.h[members],
            xy=self.xy[members],
            length=subgraph(self.length, members),
            cost=subgraph(self.cost, members),
            cut=subgraph(self.cut, members),
            block=self.block[members],
        )


def _cell_previous(job: _Job, bc: np.ndarray, n: int) -> np.ndarray | None:
    """The previous grid code holding most of each cell's households (None: none)."""
    if job.previous_code is None:
        return None
    inside = bc >= 0
    cell_prev = np.full(n, None, dtype=object)
    ok = inside & (job.previous_code != None)  # noqa: E711
    df = pd.DataFrame(
        {"cell": bc[ok], "code": job.previous_code[ok], "h": job.households[ok] + 1e-3}
    )
    if len(df):
        best = df.groupby(["cell", "code"])["h"].sum().reset_index()
        best = best.sort_values(["cell", "h", "code"], ascending=[True, False, True])
        best = best.drop_duplicates("cell")
        cell_prev[best["cell"].to_numpy()] = best["code"].to_numpy()
    return cell_prev


def _keep_previous(g: Graph, cells: np.ndarray, cell_prev, comm: _Community, lo: int, hi: int):
    """Cells of an unchanged community in the previous grid polygon holding them.

    Returns ``(None, ...)`` when the previous polygons do not account for every cell or
    disagree with the buildings' previous grids; the community is then solved warm.
    """
    assert comm.previous_grids is not None
    codes, polys = comm.previous_grids
    pts = shapely.point_on_surface(cells)
    pi, gi = shapely.STRtree(polys).query(pts, predicate="within")
    labels = np.full(len(cells), -1, dtype=np.int64)
    labels[pi[::-1]] = gi[::-1]
    if (labels < 0).any():
        return None, {}, {}, {}
    if cell_prev is not None:
        known = np.array([p is not None for p in cell_prev])
        if (codes[labels[known]] != cell_prev[known].astype(str)).any():
            return None, {}, {}, {}
    used, labels = np.unique(labels, return_inverse=True)
    loads = np.bincount(labels, weights=g.h)
    kind = "rural" if comm.rural else "urban"
    kinds, flags, kept = {}, {}, {}
    for j, u in enumerate(used):
        kinds[j] = kind
        ok = (comm.rural and loads[j] <= hi) or lo <= loads[j] <= hi
        flags[j] = "" if ok else "kept"
        kept[j] = str(codes[u])
    return labels.astype(np.int64), kinds, flags, kept


def _solve_community(
    g: Graph,
    job: _Job,
    *,
    rural: bool,
    unchanged: bool,
    pc: np.ndarray | None,
    sp: np.ndarray,
    ch: np.ndarray | None,
    piece: bool = False,
    area: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[int, str], dict[int, str]]:
    """Labels, kinds and flags of the grids of one community (local cell positions).

    ``pc`` is each cell's previous grid code, ``sp`` its special value (a dedicated grid),
    ``ch`` its hamlet. In order: an unchanged community keeps its previous grids; dedicated,
    locked and indivisible grids are set aside; each connected piece of the rest is solved
    and polished; empty land joins a neighbouring grid.
    """
    kind = "rural" if rural else "urban"
    if unchanged and pc is not None:
        kept = _kept_whole(g, pc, kind, job.lo, job.hi)
        if kept is not None:
            return kept
    grids = _Grids(np.full(g.n, -1, dtype=np.int64))
    _set_aside(g, grids, job, kind=kind, pc=pc, sp=sp)
    free = np.flatnonzero(grids.labels < 0)
    if len(free):
        _solve_free(g, grids, free, job, rural=rural, pc=pc, ch=ch, piece=piece)
    _join_empty(g, grids, kind, area)
    _join_cut_off(g, grids, job.lo, job.hi)
    used, labels = np.unique(grids.labels, return_inverse=True)
    kind_map = {i: grids.kind[int(u)] for i, u in enumerate(used)}
    flag_map = {i: grids.flag[int(u)] for i, u in enumerate(used)}
    return labels, kind_map, flag_map


@dataclass
class _Grids:
    """The grids of a community being built: a label per cell, kind, flag, frozen ones."""

    labels: np.ndarray
    kind: dict[int, str] = field(default_factory=dict)
    flag: dict[int, str] = field(default_factory=dict)
    frozen: set[int] = field(default_factory=set)
    count: int = 0

    def add(
        self, cells: np.ndarray | int | np.integer, kind: str, flag: str, *, frozen: bool
    ) -> None:
        """A new grid of ``cells``."""
        self.labels[cells] = self.count
        self.kind[self.count] = kind
        self.flag[self.count] = flag
        if frozen:
            self.frozen.add(self.count)
        self.count += 1


def _kept_whole(g: Graph, pc: np.ndarray, kind: str, lo: int, hi: int):
    """An unchanged community's previous grids (None when a building's grid is unknown)."""
    inhabited_known = all(p is not None for p in pc[g.h > 0])
    if not (inhabited_known and any(p is not None for p in pc)):
        return None
    labs = _warm_labels(g, pc)  # empty land: the nearest labelled cell's grid
    labels = make_contiguous(g, labs.astype(np.int64))
    _, labels = np.unique(labels, return_inverse=True)
    loads = np.bincount(labels, weights=g.h)
    grid_kind: dict[int, str] = {}
    grid_flag: dict[int, str] = {}
    for j, load in enumerate(loads):
        grid_kind[j] = kind
        grid_flag[j] = "" if (kind == "rural" and load <= hi) or lo <= load <= hi else "kept"
    return labels, grid_kind, grid_flag


def _set_aside(
    g: Graph, grids: _Grids, job: _Job, *, kind: str, pc: np.ndarray | None, sp: np.ndarray
) -> None:
    """Frozen grids first: dedicated (special), locked and over-maximum buildings."""
    # dedicated grids: groups of adjacent cells with the same special value
    sp_cells = np.flatnonzero(sp != "")
    if len(sp_cells):
        sub = subgraph(g.length, sp_cells).tocoo()
        same = sp[sp_cells][sub.row] == sp[sp_cells][sub.col]
        m = sparse.coo_matrix(
            (np.ones(int(same.sum())), (sub.row[same], sub.col[same])),
            shape=(len(sp_cells), len(sp_cells)),
        )
        _, comp = components(m)
        for cpt in np.unique(comp):
            grids.add(sp_cells[comp == cpt], "special", "", frozen=True)
    for code in sorted(job.locked):
        sel = np.flatnonzero((pc == code) & (grids.labels < 0))
        if len(sel):
            grids.add(sel, kind, "locked", frozen=True)
    for c in np.flatnonzero((g.h > job.hi) & (grids.labels < 0)):
        grids.add(c, kind, "indivisible-building", frozen=True)


def _solve_free(
    g: Graph,
    grids: _Grids,
    free: np.ndarray,
    job: _Job,
    *,
    rural: bool,
    pc: np.ndarray | None,
    ch: np.ndarray | None,
    piece: bool = False,
) -> None:
    """Solve and polish each connected piece of the cells not set aside."""
    lo, hi = job.lo, job.hi
    ncomp, comp = components(subgraph(g.length, free))
    for cpt in range(ncomp):
        nodes = free[comp == cpt]
        tot = g.h[nodes].sum()
        if tot == 0 and grids.count > 0:
            continue  # empty land: joins a neighbour below
        sub = g.take(nodes)
        init = None
        if pc is not None:
            pcn = pc[nodes]
            if any(p is not None for p in pcn):
                init = _warm_labels(sub, pcn)
        labs, flags = solve_piece(
            sub,
            lo,
            hi,
            rural=rural,
            init=init,
            cell_hamlet=None if ch is None else ch[nodes],
            hamlet_distance=job.hamlet_distance,
            hamlet_min=job.hamlet_min,
        )
        labs = polish(sub, labs, lo, hi)
        if "out-of-band" in flags.values():
            labs, flags = _repair_again(sub, labs, flags, lo, hi)
        whole = len(nodes) == len(free) and not grids.frozen and not piece
        nl = grids.count
        for j in range(labs.max() + 1):
            grids.kind[nl + j] = "rural" if rural else "urban"
            f = flags[j]
            if f == "undersize-community" and not whole:
                f = "undersize-piece"
            grids.flag[nl + j] = f
        grids.labels[nodes] = labs + nl
        grids.count = nl + labs.max() + 1


def _join_cut_off(g: Graph, grids: _Grids, lo: int, hi: int) -> None:
    """Streets are not walls: a piece under the band joins a neighbouring grid.

    A piece of the community cut off from the rest by streets, rivers or a dedicated grid
    (flagged ``undersize-piece`` by the solver: it cannot reach the band alone) joins the
    neighbouring grid across the cheapest boundary (the highest boundary price: length /
    barrier weight), preferring ordinary grids that stay within the band, then any ordinary
    grid, then a dedicated grid, then an indivisible building's; never a locked grid. Only
    a piece with no neighbour at all, a detached part of the community polygon, stays on its
    own, flagged ``exclave`` (an empty one is flagged ``empty-exclave`` later, by
    :func:`geo.partition.contract.settle_empty_grids`); one whose only neighbours are locked
    stays ``undersize-piece``.
    """
    labels = grids.labels
    cut = g.cut.tocoo()
    stays: set[int] = set()
    for _ in range(grids.count):
        placed = labels >= 0
        loads = np.bincount(labels[placed], weights=g.h[placed], minlength=grids.count)
        present = np.bincount(labels[placed], minlength=grids.count) > 0
        small = [
            j
            for j in np.argsort(loads, kind="stable")
            if present[j] and grids.flag.get(int(j)) == "undersize-piece" and int(j) not in stays
        ]
        if not small:
            return
        j = int(small[0])
        mine = labels[cut.row] == j
        other = labels[cut.col]
        across = mine & (other != j) & (other >= 0)
        if not across.any():
            grids.flag[j] = "exclave"
            continue
        price = pd.Series(cut.data[across]).groupby(other[across]).sum()
        best, best_key = None, None
        for nb, p in price.items():
            nb = int(nb)
            if grids.flag.get(nb) == "locked":
                continue
            rank = (
                3
                if grids.flag.get(nb) == "indivisible-building"
                else 2
                if grids.kind.get(nb) == "special"
                else 0
                if loads[nb] + loads[j] <= hi
                else 1
            )
            key = (rank, -round(float(p), 9), nb)
            if best_key is None or key < best_key:
                best, best_key = nb, key
        if best is None:  # only locked grids beside it
            stays.add(j)
            continue
        labels[labels == j] = best
        grids.flag.pop(j, None)
        load = loads[best] + loads[j]
        if grids.kind.get(best) != "special" and grids.flag.get(best) in ("", "undersize-piece"):
            grids.flag[best] = (
                "" if lo <= load <= hi else "undersize-piece" if load < lo else "out-of-band"
            )


#: Empty cells of less area than this (m2) sharing no boundary are rounding specks.
SPECK_M2 = 1.0


def _join_empty(g: Graph, grids: _Grids, kind: str, area: np.ndarray | None = None) -> None:
    """Empty pieces join the neighbouring grid with the longest shared boundary.

    A speck of no boundary (a rounding leftover beside a footprint, under :data:`SPECK_M2`)
    joins the grid of the nearest cell instead of becoming a grid of its own.
    """
    labels = grids.labels
    rest = np.flatnonzero(labels < 0)
    if len(rest) == 0:
        return
    if grids.count == 0:
        grids.add(rest, kind, "empty", frozen=False)
        return
    for _ in range(len(rest) + 1):
        rest = np.flatnonzero(labels < 0)
        if len(rest) == 0:
            break
        ncomp, comp = components(subgraph(g.length, rest))
        progress_made = False
        for cpt in range(ncomp):
            piece = rest[comp == cpt]
            row = g.length[piece].tocoo()
            lab_nb = labels[row.col]
            mask = lab_nb >= 0
            if not mask.any():
                continue
            prefer = np.array([grids.kind.get(int(x)) != "special" for x in lab_nb[mask]])
            score = pd.Series(row.data[mask] * (1 + 1000 * prefer)).groupby(lab_nb[mask]).sum()
            labels[piece] = int(score.idxmax())
            progress_made = True
        if not progress_made:
            for cpt in range(ncomp):
                piece = rest[comp == cpt]
                if area is not None and area[piece].sum() < SPECK_M2 and (labels >= 0).any():
                    done = np.flatnonzero(labels >= 0)
                    d = np.hypot(*(g.xy[done][:, None, :] - g.xy[piece][None, :, :]).T)
                    labels[piece] = labels[done[int(np.argmin(d.min(axis=0)))]]
                    continue
                grids.add(piece, kind, "empty", frozen=False)


def _repair_again(g: Graph, labels: np.ndarray, flags: dict[int, str], lo: int, hi: int):
    """One more repair of the grids still out of band, from the polished division.

    Ejection chains depend on the neighbours' loads; after the other grids have settled a
    chain that failed during the first repair can succeed. Kept only when the band excess
    falls; the result is polished again.
    """
    loads = np.bincount(labels, weights=g.h)
    again = repair_band(g, labels, lo, hi, set())
    new_loads = np.bincount(again, weights=g.h)
    if band_excess(new_loads, lo, hi) >= band_excess(loads, lo, hi):
        return labels, flags
    again = polish(g, again, lo, hi)
    new_loads = np.bincount(again, weights=g.h)
    return again, {j: "" if lo <= load <= hi else "out-of-band" for j, load in enumerate(new_loads)}


def run_jobs(
    jobs: list[_Job], *, workers: int | None, progress: bool, dask: Any = None
) -> list[_Done]:
    """Run :func:`_run_job` on every job (:func:`geo.partition.parallel.run_ordered`).

    Results come back in the order of ``jobs``, so the output does not depend on ``workers``
    or on where the jobs ran (``dask``: a ``dask.distributed`` address or client).
    """
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(len(j.communities) for j in jobs), desc="areas", unit="area")

    def tick(i: int) -> None:
        if bar is not None:
            bar.update(len(jobs[i].communities))

    try:
        return run_ordered(
            _run_job,
            jobs,
            sizes=[job.size for job in jobs],
            workers=workers,
            dask=dask,
            progress=tick,
        )
    finally:
        if bar is not None:
            bar.close()


def _warm_labels(g: Graph, prev_codes: np.ndarray) -> np.ndarray:
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
