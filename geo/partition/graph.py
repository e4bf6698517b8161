"""The cell graph of one community and its primitives, shared by the solver and the polish.

A :class:`Graph` holds the cells of a community (households, label points) and three
adjacency matrices over them: shared boundary length, travel cost (distance x barrier weight)
and boundary price (length / barrier weight). Local indices throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

__all__ = ["Graph", "components", "subgraph"]


@dataclass
class Graph:
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

    def take(self, nodes: np.ndarray) -> Graph:
        """The subgraph on ``nodes`` (local positions)."""
        return Graph(
            self.h[nodes],
            self.xy[nodes],
            subgraph(self.length, nodes),
            subgraph(self.cost, nodes),
            subgraph(self.cut, nodes),
            None if self.block is None else self.block[nodes],
        )

    def contract(self) -> tuple[Graph, np.ndarray]:
        """The graph of blocks (cells of a block merged) and the block position of each cell."""
        assert self.block is not None, "contract() needs the block of each cell"
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
        return Graph(hb, xy, length, cost, cut, np.arange(nb)), bl

    def cut_price(self, labels: np.ndarray) -> float:
        """Total boundary price between different labels."""
        coo = self.cut.tocoo()
        return float(coo.data[labels[coo.row] != labels[coo.col]].sum() / 2)


def subgraph(m: sparse.csr_matrix, nodes: np.ndarray) -> sparse.csr_matrix:
    """The rows and columns ``nodes`` (positions or a boolean mask) of the CSR matrix ``m``.

    The same matrix as ``m[nodes][:, nodes]``, entry for entry and in the same order within
    each row, built with a few numpy gathers: the solver takes about 17,000 subgraphs of
    100,000 cells, and scipy's two fancy-indexing passes (each validating its indices and
    building an intermediate matrix) were a quarter of the division's time in a profile of
    ``benchmarks/partition.py --scaling 100000``.
    """
    nodes = np.asarray(nodes)
    if nodes.dtype == bool:
        nodes = np.flatnonzero(nodes)
    nodes = nodes.astype(np.int64, copy=False)
    k, n = len(nodes), m.shape[0]
    pos = np.full(n, -1, dtype=np.int64)
    pos[nodes] = np.arange(k)
    if k and (nodes.min() < 0 or (pos[nodes] != np.arange(k)).any()):
        return m[nodes][:, nodes].tocsr()  # negative or repeated positions: scipy's meaning
    starts, counts = m.indptr[nodes], m.indptr[nodes + 1] - m.indptr[nodes]
    total = int(counts.sum())
    first = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    at = first + np.arange(total)
    cols = pos[m.indices[at]]
    keep = cols >= 0
    rows = np.repeat(np.arange(k), counts)[keep]
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=k))))
    index_dtype = m.indices.dtype
    return sparse.csr_matrix(
        (m.data[at][keep], cols[keep].astype(index_dtype), indptr.astype(index_dtype)),
        shape=(k, k),
    )


def components(m: sparse.csr_matrix) -> tuple[int, np.ndarray]:
    """Number of connected components of ``m`` and the component of each node."""
    return csgraph.connected_components(m, directed=False)
