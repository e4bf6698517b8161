"""Grid division (网格划分): divide every community into grids of whole cells.

Pipeline: validate -> metric CRS -> households -> blocks and cells (:mod:`geo.tessellation`)
-> per community: dedicated, locked and indivisible grids first, then each connected piece
solved alone -> grid polygons, codes, report (:mod:`geo.quality`).

The solver is our own rather than a library's; measured on a 100k-building synthetic town
(``benchmarks/partition.py``, numbers in ``docs/partition.md``), METIS leaves grids
disconnected and has no lower bound, spopt's max-p builds a dense n x n matrix, GerryChain
hangs on infeasible bands, and none of them keeps codes stable between runs. Here:

1. Urban pieces: k = the grid count nearest T/target within ceil(T/max)..floor(T/min).
   Seeds by household-weighted k-means; grids grow as multi-source shortest paths on the cell
   graph (edge cost = distance x barrier weight) with a price per seed, adjusted until every
   grid is in the band. Every grid is a shortest-path tree: contiguous by construction, and
   boundaries settle on the costly edges, i.e. on streets, rivers and railways.
2. Repair: single-cell moves that keep the donor connected, then merge two or three
   neighbouring grids and re-split them along a barrier-aware spanning tree.
3. Rural pieces: one grid per hamlet (``hamlet_id`` or single-linkage clusters of buildings
   within ``hamlet_distance``), land in between going to the nearest hamlet; hamlets over the
   maximum are split like urban pieces.
4. Incremental runs (``previous``) start from the previous assignment and only repair grids
   that left the band; communities whose buildings did not change keep their grids.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import Delaunay

from geo.crs import metric_crs, require_crs
from geo.errors import CRSError, GeoWarning, InputError
from geo.households import HouseholdRules, building_households
from geo.tessellation import Tessellation, barrier_lines, tessellate

__all__ = ["PartitionResult", "partition"]

log = logging.getLogger(__name__)

WHOLE_AREA_ID = "000000000000"
SPECIAL_TYPES = ("school", "hospital", "market", "industrial", "government", "park")


@dataclass
class PartitionResult:
    """What :func:`partition` returns."""

    grids: gpd.GeoDataFrame
    """One polygon per grid: grid_code, community_id, households, buildings, kind, flags."""
    buildings: gpd.GeoDataFrame
    """Every input building once: source_index, grid_code, households, households_estimated."""
    report: dict
    """Counts, distribution, band share, flags, compactness, barrier share, timings."""
    cells: gpd.GeoDataFrame | None = field(default=None, repr=False)
    """The cells (metric CRS) with households and grid_code, for review and benchmarks."""
    edges: pd.DataFrame | None = field(default=None, repr=False)
    """Cell adjacency (i, j, length, near_barrier, weight), for benchmarks."""


# --------------------------------------------------------------------------------------------
# validation


def _ids(frame: pd.DataFrame, mask: np.ndarray, id_column: str | None, limit: int = 20) -> str:
    idx = np.flatnonzero(mask)
    vals = frame[id_column].to_numpy()[idx] if id_column and id_column in frame.columns else idx
    shown = ", ".join(str(v) for v in vals[:limit])
    more = f" and {len(idx) - limit} more" if len(idx) > limit else ""
    return shown + more


def _building_id_column(buildings: gpd.GeoDataFrame) -> str | None:
    for name in ("building_id", "id", "osm_id", "fid"):
        if name in buildings.columns:
            return name
    return None


def _validate(
    buildings: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame | None,
    community_id: str | None,
    community_kind: str,
    barriers: list[gpd.GeoDataFrame],
    min_households: int,
    max_households: int,
) -> None:
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
            require_crs(frame, name)
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
                f"{_ids(communities, ~np.isin(ctypes, (3, 6)), community_id)} are not polygons"
            )
        if community_kind in communities.columns:
            kinds = communities[community_kind].astype("string").fillna("urban").str.lower()
            wrong = ~kinds.isin(["urban", "rural"]).to_numpy()
            if wrong.any():
                problems.append(
                    f"communities: {community_kind!r} must be 'urban' or 'rural'; found "
                    f"{sorted(set(communities[community_kind][wrong].astype(str)))} at id(s) "
                    f"{_ids(communities, wrong, community_id)}"
                )
    if crs_problems:
        raise CRSError("; ".join(crs_problems + problems))
    if problems:
        raise InputError("; ".join(problems))


def _repair(frame: gpd.GeoDataFrame, name: str, id_column: str | None) -> tuple[np.ndarray, dict]:
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
            f"are left out (id(s) {_ids(frame, wrong, id_column, limit=50)}); expected Polygon "
            "or MultiPolygon",
            GeoWarning,
            stacklevel=3,
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
        ids = _ids(frame, invalid, id_column, limit=50)
        warnings.warn(
            f"{name}: repaired {int(invalid.sum())} invalid geometr(y/ies) with make_valid "
            f"(id(s) {ids})",
            GeoWarning,
            stacklevel=3,
        )
        report["repaired"] = np.flatnonzero(invalid).tolist()
        empty = empty | shapely.is_empty(geoms)
    if (empty & ~wrong).any():
        empty_only = empty & ~wrong
        warnings.warn(
            f"{name}: {int(empty_only.sum())} feature(s) with empty geometry are left out "
            f"(id(s) {_ids(frame, empty_only, id_column, limit=50)})",
            GeoWarning,
            stacklevel=3,
        )
        report["empty"] = np.flatnonzero(empty_only).tolist()
    return np.where(empty, None, geoms), report


# --------------------------------------------------------------------------------------------
# graph helpers


@dataclass
class _Graph:
    """Cell graph of one community (local indices)."""

    h: np.ndarray  # households per cell
    xy: np.ndarray  # label point per cell
    length: sparse.csr_matrix  # shared boundary length
    cost: sparse.csr_matrix  # distance x barrier weight
    cut: sparse.csr_matrix  # length / weight: the price of a boundary along the edge
    block: np.ndarray | None = None  # block of each cell

    @property
    def n(self) -> int:
        return len(self.h)

    def take(self, nodes: np.ndarray) -> _Graph:
        """The subgraph on ``nodes`` (local positions)."""
        return _Graph(
            self.h[nodes],
            self.xy[nodes],
            _subgraph(self.length, nodes),
            _subgraph(self.cost, nodes),
            _subgraph(self.cut, nodes),
            None if self.block is None else self.block[nodes],
        )

    def contract(self) -> tuple[_Graph, np.ndarray]:
        """The graph of blocks (cells of a block merged) and the block position of each cell."""
        _, bl = np.unique(self.block, return_inverse=True)
        nb = int(bl.max()) + 1
        p = sparse.csr_matrix((np.ones(self.n), (np.arange(self.n), bl)), shape=(self.n, nb))
        w = self.h + 1e-9
        hb = np.bincount(bl, weights=self.h, minlength=nb)
        wb = np.bincount(bl, weights=w, minlength=nb)
        xy = np.c_[
            np.bincount(bl, weights=self.xy[:, 0] * w, minlength=nb) / wb,
            np.bincount(bl, weights=self.xy[:, 1] * w, minlength=nb) / wb,
        ]

        def fold(m: sparse.csr_matrix) -> sparse.csr_matrix:
            out = (p.T @ m @ p).tocsr()
            out.setdiag(0)
            out.eliminate_zeros()
            return out

        length, cut = fold(self.length), fold(self.cut)
        coo = length.tocoo()
        weight = coo.data / np.maximum(np.asarray(cut[coo.row, coo.col]).ravel(), 1e-12)
        dist = np.hypot(*(xy[coo.row] - xy[coo.col]).T) + 1e-3
        cost = sparse.csr_matrix((dist * weight, (coo.row, coo.col)), shape=(nb, nb))
        return _Graph(hb, xy, length, cost, cut, np.arange(nb)), bl

    def cut_price(self, labels: np.ndarray) -> float:
        """Total boundary price between different labels."""
        coo = self.cut.tocoo()
        return float(coo.data[labels[coo.row] != labels[coo.col]].sum() / 2)


def _subgraph(m: sparse.csr_matrix, nodes: np.ndarray) -> sparse.csr_matrix:
    return m[nodes][:, nodes].tocsr()


def _components(m: sparse.csr_matrix) -> tuple[int, np.ndarray]:
    return csgraph.connected_components(m, directed=False)


def _choose_k(total: float, lo_h: int, hi_h: int) -> tuple[int, str]:
    target = (lo_h + hi_h) / 2
    if total <= 0:
        return 1, "empty"
    if total < lo_h:
        return 1, "undersize-community"
    k_lo = int(np.ceil(total / hi_h))
    k_hi = int(np.floor(total / lo_h))
    if k_lo > k_hi:
        return max(1, int(round(total / target))), "no-integer-split"
    return int(np.clip(round(total / target), k_lo, k_hi)), ""


def _kmeans_seeds(xy: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """Deterministic household-weighted k-means; returns one seed cell per centre."""
    rng = np.random.default_rng(20261122)
    wpos = w + 1e-6
    # k-means++ initialisation
    first = int(np.argmax(wpos))
    centres = [xy[first]]
    d2 = ((xy - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        p = d2 * wpos
        p = p / p.sum() if p.sum() > 0 else np.full(len(xy), 1 / len(xy))
        nxt = int(rng.choice(len(xy), p=p))
        centres.append(xy[nxt])
        d2 = np.minimum(d2, ((xy - xy[nxt]) ** 2).sum(1))
    c = np.array(centres)
    for _ in range(15):
        d = ((xy[:, None, :] - c[None, :, :]) ** 2).sum(2)
        lab = d.argmin(1)
        for j in range(k):
            m = lab == j
            if m.any():
                c[j] = (xy[m] * wpos[m, None]).sum(0) / wpos[m].sum()
    seeds = []
    taken: set[int] = set()
    for j in range(k):
        order = np.argsort(((xy - c[j]) ** 2).sum(1), kind="stable")
        for cand in order:
            if int(cand) not in taken:
                seeds.append(int(cand))
                taken.add(int(cand))
                break
    return np.array(seeds, dtype=np.int64)


def _grow(
    cost: sparse.csr_matrix, seeds: np.ndarray, prices: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-source shortest paths with a price per seed; returns owner and distance."""
    n, k = cost.shape[0], len(seeds)
    p = prices - prices.min() + 1e-9
    # the cell graph plus k virtual sources, one edge each to its seed, priced
    indptr = np.concatenate([cost.indptr, cost.indptr[-1] + np.arange(1, k + 1)])
    indices = np.concatenate([cost.indices, seeds])
    data = np.concatenate([cost.data, p])
    aug = sparse.csr_matrix((data, indices, indptr), shape=(n + k, n + k))
    dist, _, src = csgraph.dijkstra(
        aug, directed=True, indices=np.arange(n, n + k), min_only=True, return_predecessors=True
    )
    owner = src[:n] - n
    return owner.astype(np.int64), dist[:n]


def _band_excess(loads: np.ndarray, lo: int, hi: int) -> float:
    return float(np.maximum(lo - loads, 0).sum() + np.maximum(loads - hi, 0).sum())


def _balanced_growth(g: _Graph, k: int, lo: int, hi: int, iters: int = 60) -> np.ndarray:
    """Grow k contiguous grids from k-means seeds, pricing seeds until loads fit the band."""
    k = min(k, g.n)
    if k <= 1:
        return np.zeros(g.n, dtype=np.int64)
    seeds = _kmeans_seeds(g.xy, g.h, k)
    prices = np.zeros(k)
    target = g.h.sum() / k
    span = np.sqrt(max(np.ptp(g.xy[:, 0]) * np.ptp(g.xy[:, 1]), 1.0) / k)
    step = 0.5 * span
    best, best_score = None, np.inf
    for it in range(iters):
        owner, _ = _grow(g.cost, seeds, prices)
        if (owner < 0).any():  # unreachable cells (should not happen in a component)
            owner[owner < 0] = 0
        loads = np.bincount(owner, weights=g.h, minlength=k)
        score = _band_excess(loads, lo, hi) + 1e-6 * np.abs(loads - target).sum()
        if score < best_score:
            best, best_score = owner.copy(), score
        if score < 1e-3 * target:
            break
        prices += step * (loads - target) / target
        if it in (8, 16):  # re-centre seeds on their grid for compactness
            for j in range(k):
                m = np.flatnonzero(owner == j)
                if len(m) == 0:
                    continue
                w = g.h[m] + 1e-6
                c = (g.xy[m] * w[:, None]).sum(0) / w.sum()
                seeds[j] = m[int(np.argmin(((g.xy[m] - c) ** 2).sum(1)))]
        if it % 10 == 9:
            step *= 0.7
    return best


def _connected_without(g: _Graph, members: np.ndarray, drop: int) -> bool:
    rest = members[members != drop]
    if len(rest) <= 1:
        return len(rest) == 1
    n, _ = _components(_subgraph(g.length, rest))
    return n == 1


def _tree_split(
    g: _Graph, nodes: np.ndarray, m: int, lo: int, hi: int, salt: int = 0
) -> list[np.ndarray] | None:
    """Split connected ``nodes`` into ``m`` in-band parts by cutting spanning-tree edges.

    The tree is a minimum spanning tree of the barrier cost (with deterministic jitter), so
    it crosses barriers rarely and cutting one of those crossings puts the boundary on the
    barrier; among feasible cuts the most barrier-like, then the best balanced, wins.
    """
    if m == 1:
        t = g.h[nodes].sum()
        return [nodes] if lo <= t <= hi else None
    sub = _subgraph(g.cut, nodes).tocoo()
    sub_cost = _subgraph(g.cost, nodes).tocoo()
    rng = np.random.default_rng(1000 + salt)
    w = sub_cost.data * (1 + 0.3 * rng.random(len(sub_cost.data))) + 1e-9
    mat = sparse.coo_matrix((w, (sub_cost.row, sub_cost.col)), shape=sub.shape)
    mat = sparse.triu(mat).tocsr()
    mst = csgraph.minimum_spanning_tree(mat)
    mst = (mst + mst.T).tocsr()
    order, pred = csgraph.breadth_first_order(mst, 0, directed=False, return_predecessors=True)
    if len(order) != len(nodes):
        return None
    hs = g.h[nodes].astype(float)
    sub_sum = hs.copy()
    for v in order[::-1][:-1]:
        sub_sum[pred[v]] += sub_sum[v]
    total = hs.sum()
    target = (lo + hi) / 2
    edge_w = np.asarray(mst[order[1:], pred[order[1:]]]).ravel()
    best, best_key = None, None
    for idx, v in enumerate(order[1:]):
        s = sub_sum[v]
        for j in (1, m - 1) if m > 2 else (1,):
            if j * lo <= s <= j * hi and (m - j) * lo <= total - s <= (m - j) * hi:
                key = (-edge_w[idx], abs(s - j * target))
                if best_key is None or key < best_key:
                    best, best_key = (v, j), key
    if best is None:
        return None
    v, j = best
    # nodes in the subtree of v
    children = [[] for _ in range(len(nodes))]
    for u in order[1:]:
        children[pred[u]].append(u)
    inside = np.zeros(len(nodes), bool)
    stack = [v]
    while stack:
        u = stack.pop()
        inside[u] = True
        stack.extend(children[u])
    a, b = nodes[inside], nodes[~inside]
    pa = _tree_split(g, a, j, lo, hi, salt)
    pb = _tree_split(g, b, m - j, lo, hi, salt)
    if pa is None or pb is None:
        return None
    return pa + pb


def _resplit(g: _Graph, nodes: np.ndarray, lo: int, hi: int) -> list[np.ndarray] | None:
    """Divide connected ``nodes`` into in-band parts: balanced growth first, then trees."""
    total = g.h[nodes].sum()
    m, why = _choose_k(total, lo, hi)
    if why:
        return None
    sub = g.take(nodes)
    lab = _balanced_growth(sub, m, lo, hi, iters=25)
    loads = np.bincount(lab, weights=sub.h, minlength=m)
    if ((loads >= lo) & (loads <= hi)).all():
        return [nodes[lab == j] for j in range(m)]
    for salt in range(6):
        parts = _tree_split(g, nodes, m, lo, hi, salt)
        if parts is not None:
            return parts
    return None


def _neighbours(g: _Graph, labels: np.ndarray, grid: int) -> np.ndarray:
    members = np.flatnonzero(labels == grid)
    nb = g.length[members].indices
    other = np.unique(labels[nb])
    return other[(other != grid) & (other >= 0)]


def _repair_band(
    g: _Graph, labels: np.ndarray, lo: int, hi: int, frozen: set[int], budget: float | None = None
) -> np.ndarray:
    """Bring out-of-band grids into the band: unit moves, then merge and re-split.

    ``budget`` (seconds, default 0.3 s + 0.3 ms per cell + 50 ms per grid) bounds the work on one piece; what is
    still out of band then is flagged.
    """
    labels = labels.copy()
    k0 = labels.max() + 1
    default = 0.3 + 3e-4 * g.n + 0.05 * k0
    deadline = time.perf_counter() + (budget if budget is not None else default)
    hopeless: set[int] = set()
    for _ in range(4 * max(1, labels.max() + 1)):
        if time.perf_counter() > deadline:
            log.debug("repair budget spent with grids still out of band")
            break
        loads = np.bincount(labels, weights=g.h, minlength=labels.max() + 1)
        bad = [
            int(j)
            for j in np.argsort(-np.maximum(lo - loads, loads - hi), kind="stable")
            if (loads[j] < lo or loads[j] > hi)
            and j not in frozen
            and j not in hopeless
            and (labels == j).any()
        ]
        if not bad:
            break
        changed = False
        for j in bad:
            if time.perf_counter() > deadline:
                break
            if _unit_moves(g, labels, j, lo, hi, frozen):
                changed = True
                break
            if _merge_resplit(g, labels, j, lo, hi, frozen):
                changed = True
                break
            hopeless.add(j)
        if not changed:
            break
    # compact the label numbers
    _, labels = np.unique(labels, return_inverse=True)
    return labels


def _unit_moves(
    g: _Graph, labels: np.ndarray, j: int, lo: int, hi: int, frozen: set[int], limit: int = 400
) -> bool:
    """Move boundary cells into or out of grid ``j`` while that lowers the band excess.

    Candidates are scored by the change in boundary price (``cut``: length / barrier weight),
    so cells move across the boundary that makes the new boundary follow barriers; a move is
    taken only when the donor stays connected.
    """
    coo = g.cut.tocoo()
    er, ec, ew = coo.row, coo.col, coo.data
    frozen_arr = np.array(sorted(frozen), dtype=np.int64)
    moved = False
    for _ in range(limit):
        k = labels.max() + 1
        loads = np.bincount(labels, weights=g.h, minlength=k)
        if lo <= loads[j] <= hi:
            return True
        lr, lc = labels[er], labels[ec]
        cross = lr != lc
        m = cross & (lr == j) if loads[j] > hi else cross & (lc == j)
        m &= ~np.isin(lr, frozen_arr) & ~np.isin(lc, frozen_arr) & (g.h[er] > 0)
        if not m.any():
            return moved
        u, dst = er[m], lc[m]
        src = lr[m]
        # boundary price now inside the source grid minus that towards the destination
        same = ~cross
        inner = np.bincount(er[same], weights=ew[same], minlength=g.n)
        pair = pd.DataFrame({"u": u, "dst": dst, "src": src, "w": ew[m]})
        pair = pair.groupby(["u", "dst", "src"], as_index=False, sort=True)["w"].sum()
        uu, dd, ss = pair["u"].to_numpy(), pair["dst"].to_numpy(), pair["src"].to_numpy()
        gain = inner[uu] - pair["w"].to_numpy()
        hu = g.h[uu]
        before = np.maximum(lo - loads[ss], 0) + np.maximum(loads[ss] - hi, 0)
        before += np.maximum(lo - loads[dd], 0) + np.maximum(loads[dd] - hi, 0)
        ns, nd = loads[ss] - hu, loads[dd] + hu
        after = np.maximum(lo - ns, 0) + np.maximum(ns - hi, 0)
        after += np.maximum(lo - nd, 0) + np.maximum(nd - hi, 0)
        ok = after < before - 1e-9
        if not ok.any():
            return moved
        idx = np.flatnonzero(ok)
        idx = idx[np.lexsort((uu[idx], gain[idx], after[idx] - before[idx]))]
        done = False
        for t in idx[:12]:
            c, src_g, dst_g = int(uu[t]), int(ss[t]), int(dd[t])
            if not _connected_without(g, np.flatnonzero(labels == src_g), c):
                continue
            labels[c] = dst_g
            moved = done = True
            break
        if not done:
            return moved
    return moved


def _merge_resplit(
    g: _Graph, labels: np.ndarray, j: int, lo: int, hi: int, frozen: set[int]
) -> bool:
    loads = np.bincount(labels, weights=g.h, minlength=labels.max() + 1)
    nbrs = [int(o) for o in _neighbours(g, labels, j) if o not in frozen]
    groups: list[list[int]] = [[j, o] for o in nbrs]
    for o in nbrs:
        for o2 in _neighbours(g, labels, o):
            if o2 != j and int(o2) not in frozen and o2 not in nbrs:
                groups.append([j, o, int(o2)])
        for o2 in nbrs:
            if o2 > o:
                groups.append([j, o, o2])
    if not nbrs:  # alone: maybe split itself
        groups = [[j]]
    else:
        groups.insert(0, [j])
    for grp in groups[:6]:
        before = _band_excess(loads[grp], lo, hi)
        nodes = np.flatnonzero(np.isin(labels, grp))
        parts = _resplit(g, nodes, lo, hi)
        if parts is None:
            continue
        new_loads = np.array([g.h[p].sum() for p in parts])
        if _band_excess(new_loads, lo, hi) >= before:
            continue
        fresh = list(grp) + [labels.max() + 1 + i for i in range(max(0, len(parts) - len(grp)))]
        for lab, p in zip(fresh, parts, strict=False):
            labels[p] = lab
        return True
    return False


def _make_contiguous(g: _Graph, labels: np.ndarray) -> np.ndarray:
    """Give every detached piece of a grid to the neighbour it shares most boundary with."""
    labels = labels.copy()
    for _ in range(20):
        changed = False
        for j in np.unique(labels):
            members = np.flatnonzero(labels == j)
            if len(members) <= 1:
                continue
            n, comp = _components(_subgraph(g.length, members))
            if n == 1:
                continue
            weight = np.bincount(comp, weights=g.h[members] + 1e-9 * g.xy[members, 0] * 0)
            area = np.bincount(comp, minlength=n)
            keep = int(np.lexsort((-area, -weight))[0])
            for cpt in range(n):
                if cpt == keep:
                    continue
                piece = members[comp == cpt]
                row = g.length[piece].tocoo()
                nb = piece[row.row] if False else row.col
                lab_nb = labels[nb]
                mask = lab_nb != j
                if not mask.any():
                    continue
                score = pd.Series(row.data[mask]).groupby(lab_nb[mask]).sum()
                labels[piece] = int(score.idxmax())
                changed = True
        if not changed:
            break
    return labels


def _hamlets(g: _Graph, cell_hamlet: np.ndarray | None, distance: float, min_hh: int) -> np.ndarray:
    """Hamlet label per cell: given, or single-linkage clusters of inhabited cells."""
    inhabited = np.flatnonzero(g.h > 0)
    lab = np.full(g.n, -1, dtype=np.int64)
    if len(inhabited) == 0:
        return np.zeros(g.n, dtype=np.int64)
    if cell_hamlet is not None and (cell_hamlet[inhabited] >= 0).all():
        lab[inhabited] = cell_hamlet[inhabited]
    elif len(inhabited) < 3:
        lab[inhabited] = 0
    else:
        pts = g.xy[inhabited]
        try:
            tri = Delaunay(pts)
            s = tri.simplices
            a = np.concatenate([s[:, 0], s[:, 1], s[:, 2]])
            b = np.concatenate([s[:, 1], s[:, 2], s[:, 0]])
        except Exception:  # collinear points: chain them in x order
            o = np.lexsort((pts[:, 1], pts[:, 0]))
            a, b = o[:-1], o[1:]
        d = np.hypot(*(pts[a] - pts[b]).T)
        near = d <= distance
        m = sparse.coo_matrix(
            (np.ones(int(near.sum())), (a[near], b[near])), shape=(len(pts), len(pts))
        )
        _, comp = _components(m)
        lab[inhabited] = comp
    # small hamlets are not seeds of their own: they join the nearest larger one
    hh = pd.Series(g.h[inhabited]).groupby(lab[inhabited]).sum()
    big = hh.index[hh >= min_hh].to_numpy()
    if len(big) == 0:
        big = np.array([hh.idxmax()])
    sources = np.flatnonzero(np.isin(lab, big))
    _, _, src = csgraph.dijkstra(
        g.cost, directed=False, indices=sources, min_only=True, return_predecessors=True
    )
    out = np.where(src >= 0, lab[np.maximum(src, 0)], -1)
    out[out < 0] = lab[sources[0]]
    _, out = np.unique(out, return_inverse=True)
    return _make_contiguous(g, out.astype(np.int64))


def _urban(g: _Graph, lo: int, hi: int) -> np.ndarray:
    """Best of a block-level and a cell-level division of one urban piece.

    Grids made of whole blocks have every boundary on a street, river or railway: the block
    graph is divided first and repaired at cell level only where blocks cannot be combined
    into the band. A direct cell-level division competes; the lower band excess wins, then
    the lower boundary price (length / barrier weight).
    """
    total = g.h.sum()
    k, why = _choose_k(total, lo, hi)
    if k <= 1:
        return np.zeros(g.n, dtype=np.int64)
    candidates = []
    if g.block is not None and len(np.unique(g.block)) >= k:
        bg, bl = g.contract()
        blab = _balanced_growth(bg, k, lo, hi)
        blab = _make_contiguous(bg, blab)
        if not why:
            blab = _repair_band(bg, blab, lo, hi, set())
        lab = _make_contiguous(g, blab[bl])
        if not why:
            lab = _repair_band(g, lab, lo, hi, set())
        candidates.append(lab)
        loads = np.bincount(lab, weights=g.h)
        if why or _band_excess(loads, lo, hi) == 0:
            return lab  # all in band (or as good as it gets) along block edges
    lab = _make_contiguous(g, _balanced_growth(g, k, lo, hi))
    if not why:
        lab = _repair_band(g, lab, lo, hi, set())
    candidates.append(lab)
    best, best_key = None, None
    for lab in candidates:
        lab = _make_contiguous(g, lab)
        loads = np.bincount(lab, weights=g.h)
        key = (round(_band_excess(loads, lo, hi), 6), g.cut_price(lab))
        if best_key is None or key < best_key:
            best, best_key = lab, key
    return best


def _solve_piece(
    g: _Graph,
    lo: int,
    hi: int,
    *,
    rural: bool,
    init: np.ndarray | None,
    cell_hamlet: np.ndarray | None,
    hamlet_distance: float,
    hamlet_min: int,
) -> tuple[np.ndarray, dict[int, str]]:
    """Labels 0..k-1 for one connected piece and the flag of each label ('' = none)."""
    total = g.h.sum()
    if init is not None:
        labels = _make_contiguous(g, init)
        _, labels = np.unique(labels, return_inverse=True)
        labels = _repair_band(g, labels, lo, hi, set()) if not rural else labels
    elif rural:
        labels = _hamlets(g, cell_hamlet, hamlet_distance, hamlet_min)
        out = labels.copy()
        nxt = labels.max() + 1
        for j in np.unique(labels):
            nodes = np.flatnonzero(labels == j)
            if g.h[nodes].sum() > hi:
                parts = _resplit(g, nodes, lo, hi)
                if parts:
                    for p in parts[1:]:
                        out[p] = nxt
                        nxt += 1
        _, labels = np.unique(out, return_inverse=True)
    else:
        labels = _urban(g, lo, hi)
    labels = _make_contiguous(g, labels)
    _, labels = np.unique(labels, return_inverse=True)
    loads = np.bincount(labels, weights=g.h)
    _, why = _choose_k(total, lo, hi)
    flags: dict[int, str] = {}
    for j, load in enumerate(loads):
        if rural:
            flags[j] = "" if load <= hi else (why or "over-maximum")
        elif lo <= load <= hi:
            flags[j] = ""
        else:
            flags[j] = why or "out-of-band"
    return labels.astype(np.int64), flags


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


def _as_frames(barriers) -> list[gpd.GeoDataFrame]:
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


def _geom_keys(geoms: np.ndarray, geographic: bool) -> np.ndarray:
    decimals = 7 if geographic else 2
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, decimals))
    return np.array(shapely.to_wkb(shapely.normalize(rounded)), dtype=object)


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
        floors or height (for estimates, see :mod:`geo.households`), ``special``
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

    barrier_frames = _as_frames(barriers)
    if communities is not None and community_id is None:
        for cand in ("code", "community_id", "id"):
            if cand in communities.columns:
                community_id = cand
                break
    _validate(
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
    bid_col = _building_id_column(buildings)
    geoms, brep = _repair(buildings, "buildings", bid_col)
    n_b = len(buildings)
    present = np.array([g is not None for g in geoms])
    # duplicates: the same footprint twice
    keys = _geom_keys(
        np.where(present, geoms, shapely.Polygon()), bool(buildings.crs.is_geographic)
    )
    dup = pd.Series(keys).duplicated(keep="first").to_numpy() & present
    report_problems: dict = {"buildings": {k: v for k, v in brep.items()}}
    if dup.any():
        warnings.warn(
            f"buildings: {int(dup.sum())} duplicate footprint(s) (same geometry as an earlier "
            f"feature) count zero households (id(s) {_ids(buildings, dup, bid_col, 50)})",
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
        cgeoms, crep = _repair(communities, "communities", community_id)
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
            f"no grid (id(s) {_ids(buildings, outside, bid_col, 50)})",
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

    tess = tessellate(comm_geo, bgeo.where(present, None), np.where(present, bcomm, -1), lines)
    lap("tessellate")

    result = _solve_all(
        tess,
        households,
        buildings,
        present,
        comm_ids,
        kinds,
        lo,
        hi,
        special_column=special_column,
        hamlet_column=hamlet_column,
        hamlet_distance=hamlet_distance,
        hamlet_min=hamlet_min_households,
        previous=previous,
        locked=locked,
        mcrs=mcrs,
        in_crs=in_crs,
        progress=progress,
        workers=workers,
    )
    cell_grid, grid_meta = result
    lap("partition")

    from geo.quality import assemble

    out = assemble(
        tess,
        cell_grid,
        grid_meta,
        buildings=buildings,
        households=households,
        estimated=estimated,
        present=present,
        comm_ids=comm_ids,
        comm_geo=comm_geo,
        lo=lo,
        hi=hi,
        previous=previous,
        mcrs=mcrs,
        out_crs=out_crs,
        lines=lines,
    )
    lap("assemble")
    out.report["problems"] = report_problems
    out.report["seconds"] = timings
    out.report["seconds_total"] = round(time.perf_counter() - t_start, 3)
    out.report["peak_memory_mb"] = _peak_memory_mb()
    out.report["metric_crs"] = mcrs.to_string()
    return out


def _previous_assignment(
    previous, buildings: gpd.GeoDataFrame, present: np.ndarray, in_crs
) -> tuple[np.ndarray, pd.Series | None]:
    """Previous grid code of each current building (None when new or changed)."""
    n = len(buildings)
    prev_code = np.full(n, None, dtype=object)
    if previous is None:
        return prev_code, None
    prev = previous.buildings if isinstance(previous, PartitionResult) else previous
    if "grid_code" not in prev.columns:
        raise InputError("previous: expected a 'grid_code' column (a previous result's buildings)")
    require_crs(prev, "previous")
    cur = gpd.GeoSeries(buildings.geometry.to_numpy(), crs=in_crs)
    if prev.crs != in_crs:
        cur = cur.to_crs(prev.crs)
    geographic = bool(prev.crs.is_geographic)
    ck = _geom_keys(np.where(present, cur.to_numpy(), shapely.Polygon()), geographic)
    pk = _geom_keys(prev.geometry.to_numpy(), geographic)
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
        prev_b = previous.buildings if isinstance(previous, PartitionResult) else previous
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
