"""The cell adjacency graph: which cells share a boundary, how long, along which barrier.

Two cells are neighbours when they share a boundary of positive length. Every boundary
segment's midpoint is looked up in an STRtree of the cells, which finds the cell on the other
side whether or not the two rings share vertices (cells of different blocks do not). Across
blocks the shared length is the exact intersection of the two boundaries, or, where that
comes out short (vertices cut into a long two-vertex street edge lie off it by rounding, and
two nearly collinear segments intersect in a point), the overlap of their collinear segments
within 1 mm. Each shared edge records its length, the length lying within 5 m of a barrier
and the heaviest barrier class along it.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["cell_adjacency"]

_ADJ_TOL = 1e-3  # m: a segment midpoint this close to another cell lies on its boundary
_BARRIER_TOL = 0.5  # m: an edge this close to a barrier crosses it
_MIN_SHARED = 0.05  # m: shorter shared boundaries (corners touching) are no adjacency
_LOOSE_GAIN = 1e-4  # m: the tolerant measure replaces the exact one when longer by this
_LOOSE_COLUMNS = (
    ("i", "int64"),
    ("j", "int64"),
    ("overlap", "float64"),
    ("x", "float64"),
    ("y", "float64"),
)
_NEAR_BARRIER = 5.0  # m: "grid boundary follows a barrier" in the quality report


def _segments(lines: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split lines into their two-point segments (with each line's weight)."""
    xy, idx = shapely.get_coordinates(lines, return_index=True)
    same = idx[1:] == idx[:-1]
    a, b = xy[:-1][same], xy[1:][same]
    segs = shapely.linestrings(np.stack([a, b], axis=1))
    return segs, weight[idx[:-1][same]]


def cell_adjacency(cells: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> pd.DataFrame:
    """Shared boundaries of the cells of each community (see the module docstring).

    Parameters
    ----------
    cells
        Cells with ``community`` and ``block`` (metric CRS).
    lines
        Barrier lines with ``weight`` (:func:`geo.partition.tessellation.barrier_lines`).

    Returns
    -------
    pandas.DataFrame
        One row per pair of neighbouring cells ``i < j``: shared ``length``, the length
        within 5 m of a barrier (``near_barrier``) and the heaviest barrier ``weight`` along
        it (1 within a block).
    """
    geoms = cells.geometry.to_numpy()
    comm = cells["community"].to_numpy()
    block = cells["block"].to_numpy()
    seg = _Segments.of(geoms)
    tree = shapely.STRtree(geoms)
    si, cj = tree.query(seg.mid, predicate="dwithin", distance=_ADJ_TOL)
    ci = seg.cell[si]
    ok = (cj != ci) & (comm[cj] == comm[ci])
    si, ci, cj = si[ok], ci[ok], cj[ok]
    barriers = _Barriers.of(lines)
    near, wseg = barriers.along(seg.mid, np.unique(si))
    w = np.where(block[ci] != block[cj], np.maximum(wseg[si], 1.0), 1.0)
    df = pd.DataFrame(
        {
            "i": np.minimum(ci, cj),
            "j": np.maximum(ci, cj),
            "from": ci,
            "length": seg.length[si],
            "near_barrier": seg.length[si] * near[si],
            "weight": w,
        }
    )
    # each side measures the shared boundary; keep the larger of the two sums
    per_side = df.groupby(["i", "j", "from"], sort=True).agg(
        length=("length", "sum"), near_barrier=("near_barrier", "sum"), weight=("weight", "max")
    )
    out = per_side.groupby(level=["i", "j"], sort=True).agg(
        length=("length", "max"), near_barrier=("near_barrier", "max"), weight=("weight", "max")
    )
    out = out.reset_index()
    # cells of different blocks do not share vertices, so a segment's midpoint can over- or
    # under-count: measure those shared boundaries exactly, on every touching pair
    out = out[block[out["i"].to_numpy()] == block[out["j"].to_numpy()]]
    across = np.unique(si[block[ci] != block[cj]])
    cross_df = _across_blocks(geoms, tree, comm, block, barriers)
    cross_df = _loose_across(cross_df, seg, across, comm, block, barriers)
    out = pd.concat([out, cross_df], ignore_index=True).sort_values(["i", "j"])
    return out[out["length"] > _MIN_SHARED].reset_index(drop=True)


@dataclass(frozen=True)
class _Segments:
    """Every boundary segment of the cells: end points, owner cell, length, midpoint."""

    a: np.ndarray
    b: np.ndarray
    cell: np.ndarray
    length: np.ndarray
    mid: np.ndarray

    @classmethod
    def of(cls, geoms: np.ndarray) -> _Segments:
        rings, ridx = shapely.get_rings(geoms, return_index=True)
        xy, owner_ring = shapely.get_coordinates(rings, return_index=True)
        same = owner_ring[1:] == owner_ring[:-1]
        a, b = xy[:-1][same], xy[1:][same]
        seg_cell = ridx[owner_ring[:-1][same]]
        seg_len = np.hypot(*(b - a).T)
        keep = seg_len > 1e-9
        a, b = a[keep], b[keep]
        return cls(a, b, seg_cell[keep], seg_len[keep], shapely.points((a + b) / 2))


@dataclass(frozen=True)
class _Barriers:
    """Barrier segments (short envelopes: quick queries) and their weights."""

    tree: shapely.STRtree | None
    geoms: np.ndarray
    weight: np.ndarray

    @classmethod
    def of(cls, lines: gpd.GeoDataFrame) -> _Barriers:
        if not len(lines):
            return cls(None, np.zeros(0, dtype=object), np.zeros(0))
        geoms, weight = _segments(lines.geometry.to_numpy(), lines["weight"].to_numpy(float))
        return cls(shapely.STRtree(geoms), geoms, weight)

    def along(self, mid: np.ndarray, segs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per segment: 1 when within 5 m of a barrier, and the heaviest weight it crosses."""
        near = np.zeros(len(mid), float)
        wseg = np.ones(len(mid), float)
        if self.tree is None:
            return near, wseg
        qi, li = self.tree.query(mid[segs], predicate="dwithin", distance=_NEAR_BARRIER)
        if len(qi):
            s = segs[qi]
            near[np.unique(s)] = 1.0
            d = shapely.distance(mid[s], self.geoms[li])
            close = d <= _BARRIER_TOL
            np.maximum.at(wseg, s[close], self.weight[li[close]])
        return near, wseg

    def heaviest(self, at: np.ndarray) -> np.ndarray:
        """The heaviest barrier weight within ``_BARRIER_TOL`` of each point (1: none)."""
        w = np.ones(len(at))
        if self.tree is not None and len(at):
            qi, li = self.tree.query(at, predicate="dwithin", distance=_BARRIER_TOL)
            np.maximum.at(w, qi, self.weight[li])
        return w


def _across_blocks(
    geoms: np.ndarray,
    tree: shapely.STRtree,
    comm: np.ndarray,
    block: np.ndarray,
    barriers: _Barriers,
) -> pd.DataFrame:
    """Exact shared boundaries of touching cells of different blocks of one community."""
    pa, pb = tree.query(geoms, predicate="intersects")
    keep = (pa < pb) & (block[pa] != block[pb]) & (comm[pa] == comm[pb])
    pa, pb = pa[keep], pb[keep]
    shared = shapely.intersection(shapely.boundary(geoms[pa]), shapely.boundary(geoms[pb]))
    exact = shapely.length(shared)
    # a point on the shared line
    w_cross = barriers.heaviest(shapely.point_on_surface(shared)) if len(pa) else np.ones(0)
    return pd.DataFrame(
        {"i": pa, "j": pb, "length": exact, "near_barrier": exact, "weight": w_cross}
    )


def _loose_across(
    cross_df: pd.DataFrame,
    seg: _Segments,
    across: np.ndarray,
    comm: np.ndarray,
    block: np.ndarray,
    barriers: _Barriers,
) -> pd.DataFrame:
    """Shared boundaries across blocks measured with a tolerance where the exact one is short.

    The exact intersection of two nearly collinear segments is a point or nothing when their
    vertices are off the line by rounding (a Voronoi vertex cut into a long two-vertex street
    edge): measure the segments along other blocks' cells with a tolerance, and take that
    where the exact intersection comes out short.
    """
    loose = _collinear_overlaps(seg.a, seg.b, seg.cell, across, comm, block)
    if len(loose):
        loose = loose.merge(cross_df[["i", "j", "length"]], on=["i", "j"], how="left")
        loose = loose[loose["overlap"] > loose["length"].fillna(0.0) + _LOOSE_GAIN]
    if not len(loose):
        return cross_df
    w_loose = barriers.heaviest(shapely.points(loose[["x", "y"]].to_numpy()))
    fixed = pd.DataFrame(
        {
            "i": loose["i"].to_numpy(),
            "j": loose["j"].to_numpy(),
            "length": loose["overlap"].to_numpy(),
            "near_barrier": loose["overlap"].to_numpy(),
            "weight": w_loose,
        }
    )
    pairs = pd.MultiIndex.from_frame(cross_df[["i", "j"]])
    replaced = pairs.isin(pd.MultiIndex.from_frame(fixed[["i", "j"]]))
    return pd.concat([cross_df[~replaced], fixed], ignore_index=True)


def _collinear_overlaps(
    a: np.ndarray,
    b: np.ndarray,
    seg_cell: np.ndarray,
    segs: np.ndarray,
    comm: np.ndarray,
    block: np.ndarray,
) -> pd.DataFrame:
    """Shared boundary of cells of different blocks, measured segment by segment.

    ``a``, ``b`` are the end points of every boundary segment and ``seg_cell`` its cell;
    ``segs`` the segments lying along another block. Two segments share the length over
    which they overlap when both ends of one lie within ``_ADJ_TOL`` of the other's line.
    Returns one row per cell pair ``i < j``: ``overlap`` (the larger of the lengths summed
    on either side) and ``x``, ``y``, the middle of its longest overlapping piece.
    """
    empty = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in _LOOSE_COLUMNS})
    if len(segs) < 2:
        return empty
    lines = shapely.linestrings(np.stack([a[segs], b[segs]], axis=1))
    lo_xy = np.minimum(a[segs], b[segs]) - _ADJ_TOL
    hi_xy = np.maximum(a[segs], b[segs]) + _ADJ_TOL
    boxes = shapely.box(lo_xy[:, 0], lo_xy[:, 1], hi_xy[:, 0], hi_xy[:, 1])
    s, t = shapely.STRtree(lines).query(boxes)  # envelopes: the test below is exact
    s, t = segs[s], segs[t]
    cs, ct = seg_cell[s], seg_cell[t]
    ok = (block[cs] != block[ct]) & (comm[cs] == comm[ct])
    s, t, cs, ct = s[ok], t[ok], cs[ok], ct[ok]
    if len(s) == 0:
        return empty
    d = b[s] - a[s]
    length = np.hypot(d[:, 0], d[:, 1])
    u = d / length[:, None]
    pc, pd_ = a[t] - a[s], b[t] - a[s]
    off_c = np.abs(u[:, 0] * pc[:, 1] - u[:, 1] * pc[:, 0])
    off_d = np.abs(u[:, 0] * pd_[:, 1] - u[:, 1] * pd_[:, 0])
    tc = u[:, 0] * pc[:, 0] + u[:, 1] * pc[:, 1]
    td = u[:, 0] * pd_[:, 0] + u[:, 1] * pd_[:, 1]
    lo = np.maximum(np.minimum(tc, td), 0.0)
    hi = np.minimum(np.maximum(tc, td), length)
    keep = (off_c <= _ADJ_TOL) & (off_d <= _ADJ_TOL) & (hi > lo)
    if not keep.any():
        return empty
    mid = a[s] + u * ((lo + hi) / 2)[:, None]
    df = pd.DataFrame(
        {
            "i": np.minimum(cs, ct)[keep],
            "j": np.maximum(cs, ct)[keep],
            "from": cs[keep],
            "piece": (hi - lo)[keep],
            "x": mid[keep, 0],
            "y": mid[keep, 1],
        }
    )
    side = df.groupby(["i", "j", "from"], sort=True)["piece"].sum()
    overlap = side.groupby(level=["i", "j"], sort=True).max()
    longest = df.sort_values("piece", ascending=False, kind="stable").drop_duplicates(["i", "j"])
    out = longest.set_index(["i", "j"])[["x", "y"]].join(overlap.rename("overlap"))
    return out.reset_index()[[c for c, _ in _LOOSE_COLUMNS]]
