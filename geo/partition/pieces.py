"""Large communities cut into pieces of a few grids, solved alone and in parallel.

The solver's cost grows faster than the number of cells of the piece it divides (shortest
paths from every seed, repair steps that look at the whole piece), so an area given with no
community layer, or a sub-district of 30,000 households, took minutes: the synthetic town
as one area of 10,000 buildings took 19.5 s whole (``cProfile``: 14.3 s dividing it), and
the issue measured 53 s on 20,000 real buildings. Here such a community is cut, before
tessellation, into pieces of whole street blocks holding a whole number of grids each, by
recursive bisection along the cheapest cuts:

1. Units: the community's blocks (cut by the barrier lines, as the tessellation cuts them);
   a block holding more than :data:`UNIT_GRIDS` grids of households (an area with no street
   data is one block) is cut into sub-blocks by straight lines through the widest gap
   between its footprints, perpendicular to its longest extent (where every line would
   cross a footprint, the footprint goes wholly to the side holding its point).
2. Unit graph: units sharing a boundary, priced by its length, a third of it when the
   boundary is a street between blocks (streets first).
3. Bisection: a region of m grids (more than 1.5 x :data:`PIECE_GRIDS`) is cut by the
   cheapest straight sweep over its units' centres (12 directions; each side must hold a
   household total that whole in-band grids can take, m/3 to 2m/3 of them); units left on
   a side but not connected to it go to the other side. Then each side again.

Each piece is then tessellated and divided in its own job, in parallel; the jobs do not
depend on the number of workers, so neither does the output. Piece boundaries run along
streets, or along short straight lines between footprints where a block has no street.
Smaller pieces gave more compact grids (one area of 10,000 buildings, no barriers, median
Polsby-Popper: whole 0.31, pieces of 32 grids 0.42, 16: 0.47, 8: 0.54, METIS on the whole
cell graph 0.49). METIS is not used for the bisection: it knows no household band and
leaves parts disconnected (``benchmarks/partition.py``), which the sweep never does.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from geo.partition.tessellation import build_blocks

__all__ = ["PIECE_GRIDS", "UNIT_GRIDS", "split_community"]

#: A community of more grids than 1.5 times this is cut into pieces of about this many.
PIECE_GRIDS = 8
#: Blocks of more households than this many grids are cut into sub-blocks first.
UNIT_GRIDS = 4.0
#: The price of a piece boundary along a street, relative to one across a block.
STREET_PRICE = 1.0 / 3.0
#: Directions tried for a bisection (every 15 degrees).
_ANGLES = np.deg2rad(np.arange(0, 180, 15))
#: Parts of a piece polygon smaller than this (m2) are rounding specks.
_SPECK = 1e-3
#: Candidate cuts tried per bisection before the region is kept whole.
_TRIES = 24


@dataclass
class _Units:
    """The units of one community: polygon, households, centre, block, and their graph."""

    geoms: np.ndarray
    h: np.ndarray
    xy: np.ndarray
    price: sparse.csr_matrix  # shared boundary length x (STREET_PRICE between blocks)


def split_community(
    geometry: shapely.Geometry,
    footprints: np.ndarray,
    households: np.ndarray,
    lines: gpd.GeoDataFrame,
    *,
    lo: int,
    hi: int,
    piece_grids: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pieces of a community too large to be divided at once.

    Parameters
    ----------
    geometry
        The community polygon (metric CRS).
    footprints, households
        Its buildings (valid polygons) and their households.
    lines
        Barrier lines with ``weight`` (:func:`geo.partition.tessellation.barrier_lines`).
    lo, hi
        The household band of a grid.
    piece_grids
        Grids per piece, about (default :data:`PIECE_GRIDS`).

    Returns
    -------
    tuple
        The piece polygons (they tile ``geometry``) and the piece of each building. One
        piece, ``geometry`` itself, when the community holds at most 1.5 x ``piece_grids``
        grids.

    Examples
    --------
    >>> from shapely import box
    >>> fp = np.array([box(x * 30, y * 30, x * 30 + 20, y * 30 + 20)
    ...                for x in range(20) for y in range(10)])
    >>> empty = gpd.GeoDataFrame({"weight": []}, geometry=[], crs=32650)
    >>> polys, piece = split_community(box(-10, -10, 600, 300), fp, np.full(200, 50.0),
    ...                                empty, lo=300, hi=500, piece_grids=8)
    >>> len(polys), np.bincount(piece).tolist()
    (3, [70, 50, 80])
    >>> round(float(shapely.area(shapely.union_all(polys))), 3) == 610 * 310
    True
    """
    n = len(footprints)
    piece_grids = PIECE_GRIDS if piece_grids is None else piece_grids
    target = (lo + hi) / 2
    if households.sum() <= 1.5 * piece_grids * target or n < 2:
        return np.array([geometry], dtype=object), np.zeros(n, dtype=np.int64)
    pts = shapely.point_on_surface(footprints)
    units, unit_of = _units(geometry, footprints, pts, households, lines, UNIT_GRIDS * target)
    piece = np.full(len(units.geoms), -1, dtype=np.int64)
    ncomp, comp = csgraph.connected_components(units.price, directed=False)
    comp_h = np.bincount(comp, weights=units.h, minlength=ncomp)
    parts: list[np.ndarray] = []
    rest: list[np.ndarray] = []
    for c in np.flatnonzero(comp_h > 0):
        nodes = np.flatnonzero(comp == c)
        if comp_h[c] > 1.5 * piece_grids * target:
            parts += _bisect(units, nodes, lo, hi, piece_grids)
        else:
            rest.append(nodes)  # exclaves and small parts stay together, as one piece
    if rest:
        parts.append(np.concatenate(rest))
    for p, nodes in enumerate(parts):
        piece[nodes] = p
    # units of no building on their own (slivers beside a footprint on a cut line, empty
    # parts of the community) go with the nearest piece: no piece is left without buildings
    empty = np.flatnonzero(piece < 0)
    if len(empty):
        placed = np.flatnonzero(piece >= 0)
        near = shapely.STRtree(units.geoms[placed]).query_nearest(
            units.geoms[empty], all_matches=False
        )[1]
        piece[empty] = piece[placed[near]]
        parts = [np.flatnonzero(piece == p) for p in range(len(parts))]
    polys = np.array([_union(units.geoms[nodes]) for nodes in parts], dtype=object)
    return polys, piece[unit_of]


def _union(geoms: np.ndarray) -> shapely.Geometry:
    """The union of ``geoms`` without the specks of no area that rounding leaves beside it."""
    parts = shapely.get_parts(shapely.union_all(geoms))
    keep = shapely.area(parts) > _SPECK
    return shapely.union_all(parts[keep]) if keep.any() else shapely.union_all(parts)


def _units(
    geometry: shapely.Geometry,
    footprints: np.ndarray,
    pts: np.ndarray,
    households: np.ndarray,
    lines: gpd.GeoDataFrame,
    unit_max: float,
) -> tuple[_Units, np.ndarray]:
    """Blocks, large ones cut into sub-blocks; the unit of each building; the unit graph."""
    blocks = build_blocks(gpd.GeoSeries([geometry]), lines).geometry.to_numpy()
    tree = shapely.STRtree(blocks)
    pi, bi = tree.query(pts, predicate="intersects")
    block_of = np.full(len(pts), -1, dtype=np.int64)
    block_of[pi[::-1]] = bi[::-1]  # first hit wins
    lost = np.flatnonzero(block_of < 0)
    if len(lost):  # a point on no block (rounding at the edge): the nearest block
        block_of[lost] = tree.query_nearest(pts[lost], all_matches=False)[1]
    geoms: list[shapely.Geometry] = []
    block_id: list[int] = []
    unit_of = np.full(len(pts), -1, dtype=np.int64)
    spans = _spans(footprints)
    pxy = shapely.get_coordinates(pts)  # once (per sub-block: 1.9 s at 1,000,000)
    order = np.argsort(block_of, kind="stable")
    bounds = np.searchsorted(block_of[order], np.arange(len(blocks) + 1))
    for b, poly in enumerate(blocks):
        members = order[bounds[b] : bounds[b + 1]]
        for sub_poly, sub_members in _cut_block(
            poly, members, footprints, (pts, pxy), households, unit_max, spans
        ):
            for part, part_members in _parts(sub_poly, sub_members, pts):
                unit_of[part_members] = len(geoms)
                geoms.append(part)
                block_id.append(b)
    ug = np.array(geoms, dtype=object)
    h = np.bincount(unit_of, weights=households, minlength=len(ug))
    xy = shapely.get_coordinates(shapely.point_on_surface(ug))
    inhabited = np.bincount(unit_of, minlength=len(ug)) > 0
    if inhabited.any():  # the household-weighted centre of the buildings
        w = households + 1e-6
        sw = np.bincount(unit_of, weights=w, minlength=len(ug))
        for d in range(2):
            c = np.bincount(unit_of, weights=pxy[:, d] * w, minlength=len(ug))
            xy[inhabited, d] = c[inhabited] / sw[inhabited]
    return _Units(ug, h, xy, _unit_graph(ug, np.array(block_id))), unit_of


def _parts(poly: shapely.Geometry, members: np.ndarray, pts: np.ndarray):
    """The polygon parts of ``poly``, each with the buildings whose point it holds."""
    parts = shapely.get_parts(poly)
    if len(parts) <= 1:
        yield poly, members
        return
    where = np.zeros(len(members), dtype=np.int64)
    if len(members):
        d = shapely.distance(parts[None, :], pts[members][:, None])
        where = np.argmin(d, axis=1)
    for p, part in enumerate(parts):
        yield part, members[where == p]


def _spans(footprints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each footprint's extent along the four cut directions: ``(lowest, highest)``."""
    xy, which = shapely.get_coordinates(footprints, return_index=True)
    dirs = np.c_[np.cos(_ANGLES[::3]), np.sin(_ANGLES[::3])].T  # 2 x 4
    proj = xy @ dirs
    low = np.full((len(footprints), dirs.shape[1]), np.inf)
    high = np.full((len(footprints), dirs.shape[1]), -np.inf)
    count = np.bincount(which, minlength=len(footprints))
    has = np.flatnonzero(count)
    if len(has):  # ``which`` is sorted: one reduction per run (ufunc.at took 0.3 s at 100k)
        start = (np.cumsum(count) - count)[has]
        low[has] = np.minimum.reduceat(proj, start, axis=0)
        high[has] = np.maximum.reduceat(proj, start, axis=0)
    return low, high


def _cut_block(poly, members, footprints, points, households, unit_max, spans):
    """``poly`` cut by straight lines into parts of at most ``unit_max`` households.

    Each cut (:func:`_block_cut`) runs through a clean gap between footprints where there
    is one, across the long side of the buildings; where every line would cross a
    footprint, the footprint goes wholly to the side holding its point and the other side
    gives way.
    """
    low, high = spans
    pts, pxy = points  # the buildings' points and their coordinates
    stack = [(poly, members)]
    out = []
    while stack:
        p, mem = stack.pop()
        if households[mem].sum() <= unit_max or len(mem) < 2:
            out.append((p, mem))
            continue
        cut = _block_cut(pxy[mem], households[mem], low[mem], high[mem])
        if cut is None:
            out.append((p, mem))
            continue
        a, o, k, at, is_clean = cut
        direction = np.array([np.cos(_ANGLES[::3][a]), np.sin(_ANGLES[::3][a])])
        left, right = mem[o[: k + 1]], mem[o[k + 1 :]]
        if is_clean:
            pa, pb = _halves(p, direction, at, footprints[:0], footprints[:0])
        else:  # the footprints on the line: those whose extent holds it
            on = (low[mem, a] <= at) & (high[mem, a] >= at)
            on_left = np.zeros(len(mem), bool)
            on_left[o[: k + 1]] = True
            pa, pb = _halves(
                p, direction, at, footprints[mem[on & on_left]], footprints[mem[on & ~on_left]]
            )
        pa, pb = _tidy(pa, pb, pts[left], pts[right])
        stack += [(pb, right), (pa, left)]
    return out


def _block_cut(xy: np.ndarray, h: np.ndarray, low: np.ndarray, high: np.ndarray):
    """Where to cut a block's buildings: ``(direction, order, k, position, clean)``.

    Directions are tried from the longest extent of the buildings' points down to 0.6 of it
    (a cut across the long side keeps the parts compact); the first with a clean gap (every
    footprint before it ends before every one after it starts) leaving 35-65% of the
    households on each side wins, the widest such gap; then 20-80%. Else the widest gap
    between points in the longest direction (``clean`` False: footprints on the line).
    """
    dirs = np.c_[np.cos(_ANGLES[::3]), np.sin(_ANGLES[::3])]
    extents = np.ptp(xy @ dirs.T, axis=0)
    tries = [
        int(a) for a in np.argsort(-extents, kind="stable") if extents[a] >= 0.6 * extents.max()
    ]
    total = max(float(h.sum()), 1e-9)
    sweeps: dict[int, tuple] = {}  # per direction, computed once for both share windows
    for lo_s, hi_s in ((0.35, 0.65), (0.2, 0.8)):
        for a in tries:
            if a not in sweeps:
                o = np.argsort(xy @ dirs[a], kind="stable")
                before = np.maximum.accumulate(high[o, a])[:-1]
                after = np.minimum.accumulate(low[o, a][::-1])[::-1][1:]
                sweeps[a] = (o, np.cumsum(h[o])[:-1] / total, before, after)
            o, share, before, after = sweeps[a]
            clean = after - before
            ok = (share >= lo_s) & (share <= hi_s) & (clean > 1e-6)
            if ok.any():
                k = int(np.flatnonzero(ok)[np.argmax(clean[ok])])
                return a, o, k, (before[k] + after[k]) / 2, True
    a = tries[0]
    proj = xy @ dirs[a]
    o = np.argsort(proj, kind="stable")
    share = np.cumsum(h[o])[:-1] / total
    gap = np.diff(proj[o])
    ok = gap > 1e-6
    if not ok.any():
        return None
    mid = ok & (share >= 0.35) & (share <= 0.65)
    ok = mid if mid.any() else ok
    k = int(np.flatnonzero(ok)[np.argmax(gap[ok])])
    return a, o, k, (proj[o][k] + proj[o][k + 1]) / 2, False


def _halves(poly, direction, at, fp_a, fp_b):
    """``poly`` cut by the line ``x . direction = at``; the footprints on the line
    (``fp_a`` on the lower side, ``fp_b`` on the upper) keep their side whole."""
    minx, miny, maxx, maxy = poly.bounds
    r = 2 * float(np.hypot(maxx - minx, maxy - miny)) + 10
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    centre = np.array([cx, cy])
    off = at - float(centre @ direction)
    normal = np.array([-direction[1], direction[0]])
    base = centre + direction * off
    half = shapely.Polygon(
        [
            base + normal * r,
            base + normal * r - direction * r,
            base - normal * r - direction * r,
            base - normal * r,
        ]
    )
    a = shapely.intersection(poly, half)
    if len(fp_b):
        a = shapely.difference(a, shapely.union_all(fp_b))
    if len(fp_a):
        a = shapely.union(a, shapely.intersection(shapely.union_all(fp_a), poly))
    b = shapely.difference(poly, a)
    return a, b


def _tidy(a, b, pts_a: np.ndarray, pts_b: np.ndarray):
    """Parts of one half holding none of its buildings (slivers left beside a footprint on
    the cut line) go to the other half."""
    for _ in range(2):
        for src, pts in ((0, pts_a), (1, pts_b)):
            halves = [a, b]
            parts = shapely.get_parts(halves[src])
            if len(parts) < 2 or len(pts) == 0:
                continue
            held = shapely.intersects(parts[:, None], pts[None, :]).any(axis=1)
            if held.all() or not held.any():
                continue
            loose = shapely.union_all(parts[~held])
            halves[src] = shapely.union_all(parts[held])
            halves[1 - src] = shapely.union(halves[1 - src], loose)
            a, b = halves
    return a, b


def _unit_graph(geoms: np.ndarray, block_id: np.ndarray) -> sparse.csr_matrix:
    """Units sharing a boundary, priced by its length (x STREET_PRICE between blocks)."""
    n = len(geoms)
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j]))
    )
    ok = shared > 1e-6
    i, j, shared = i[ok], j[ok], shared[ok]
    price = shared * np.where(block_id[i] == block_id[j], 1.0, STREET_PRICE)
    m = sparse.coo_matrix((price, (i, j)), shape=(n, n)).tocsr()
    return (m + m.T).tocsr()


def _grid_count(total: float, lo: int, hi: int) -> int:
    """Grids for ``total`` households: nearest to total / target within the band's range."""
    target = (lo + hi) / 2
    k_lo, k_hi = int(np.ceil(total / hi)), int(np.floor(total / lo))
    k = int(round(total / target))
    return max(1, int(np.clip(k, k_lo, k_hi)) if k_lo <= k_hi else k)


def _whole_grids(left: np.ndarray, total: float, m: int, lo: int, hi: int) -> np.ndarray:
    """For each left-side total, whether some j in m/3..2m/3 grids fit it and m - j the rest."""
    right = total - left
    j_min = np.maximum(np.ceil(left / hi), m - np.floor(right / lo))
    j_max = np.minimum(np.floor(left / lo), m - np.ceil(right / hi))
    j_min = np.maximum(j_min, np.ceil(m / 3))
    j_max = np.minimum(j_max, np.floor(2 * m / 3))
    return j_min <= j_max


def _bisect(units: _Units, nodes: np.ndarray, lo: int, hi: int, piece_grids: int):
    """Recursive bisection of the connected ``nodes`` into pieces of about ``piece_grids``."""
    out: list[np.ndarray] = []
    stack = [nodes]
    while stack:
        region = stack.pop()
        total = units.h[region].sum()
        m = _grid_count(total, lo, hi)
        if m <= 1.5 * piece_grids or len(region) < 2:
            out.append(region)
            continue
        halves = _cut(units, region, m, lo, hi)
        if halves is None:
            out.append(region)
            continue
        stack += [halves[1], halves[0]]
    return out


def _cut(units: _Units, region: np.ndarray, m: int, lo: int, hi: int):
    """The cheapest straight sweep of ``region`` into two connected sides of whole grids."""
    h = units.h[region]
    total = h.sum()
    sub = units.price[region][:, region].tocoo()
    up = sub.row < sub.col
    er, ec, ew = sub.row[up], sub.col[up], sub.data[up]
    n = len(region)
    # every feasible sweep position of every direction: (price, balance, direction, position),
    # gathered as arrays and ordered at once (a Python tuple per position took 1-2 s at 100k)
    c_price, c_bal, c_dir, c_at = [], [], [], []
    orders = []
    adj = sub.tocsr()
    for angle in _ANGLES:
        proj = units.xy[region] @ np.array([np.cos(angle), np.sin(angle)])
        order = np.argsort(proj, kind="stable")
        orders.append(order)
        a = len(orders) - 1
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        lo_r, hi_r = np.minimum(rank[er], rank[ec]), np.maximum(rank[er], rank[ec])
        diff = np.bincount(lo_r, weights=ew, minlength=n + 1)
        diff -= np.bincount(hi_r, weights=ew, minlength=n + 1)
        price = np.cumsum(diff)[: n - 1]
        cum = np.cumsum(h[order])
        ok = np.flatnonzero(
            _whole_grids(cum[:-1], total, m, lo, hi) & (np.diff(proj[order]) > 1e-9)
        )
        c_price.append(np.round(price[ok], 6))
        c_bal.append(np.round(np.abs(cum[ok] - total / 2) / total, 6))
        c_dir.append(np.full(len(ok), a, dtype=np.int64))
        c_at.append(ok)
    cp, cb, ca, ck = (np.concatenate(c) for c in (c_price, c_bal, c_dir, c_at))
    best = np.lexsort((ck, ca, cb, cp))[:_TRIES]
    for a, at in zip(ca[best].tolist(), ck[best].tolist(), strict=True):
        side = np.zeros(n, bool)
        side[orders[a][: at + 1]] = True
        side = _connected_sides(adj, side, h)
        if side is None:
            continue
        left = float(h[side].sum())
        if _whole_grids(np.array([left]), total, m, lo, hi)[0]:
            return region[side], region[~side]
    return None


def _connected_sides(adj: sparse.csr_matrix, side: np.ndarray, h: np.ndarray):
    """``side`` with every part not connected to the heavier part of its side flipped."""
    side = side.copy()
    for _ in range(3):
        flipped = False
        for s in (True, False):
            nodes = np.flatnonzero(side == s)
            if len(nodes) == 0:
                return None
            ncomp, comp = csgraph.connected_components(adj[nodes][:, nodes], directed=False)
            if ncomp == 1:
                continue
            weight = np.bincount(comp, weights=h[nodes] + 1e-6)
            keep = int(np.argmax(weight))
            side[nodes[comp != keep]] = not s
            flipped = True
        if not flipped:
            return side if side.any() and (~side).any() else None
    return None
