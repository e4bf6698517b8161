"""Polish of a divided piece: boundary cells move to the neighbouring grid when that shortens
the boundary price (length / barrier weight) between grids.

A lower boundary price means shorter boundaries (more compact grids, higher Polsby-Popper)
lying more on streets, rivers and railways (an edge along a barrier costs its length divided
by the barrier's weight). Every move keeps both grids' households as they were with respect to
the band (an in-band grid stays in band), keeps the donor grid connected and never touches
frozen grids (dedicated, locked, over-maximum). Deterministic: candidates are taken in order of
gain, then cell position, and the number of passes and moves is bounded by counts, not time.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from geo.partition.graph import Graph

__all__ = ["polish"]

_PASSES = 6
_MIN_GAIN = 1e-6


def polish(
    g: Graph, labels: np.ndarray, lo: int, hi: int, frozen: set[int] | None = None
) -> np.ndarray:
    """Labels after boundary moves that lower the boundary price; see the module docstring."""
    labels = np.asarray(labels, dtype=np.int64).copy()
    if g.n < 3 or labels.max() < 1:
        return labels
    frozen_arr = np.array(sorted(frozen or ()), dtype=np.int64)
    cut = g.cut.tocsr()
    adj = g.length.tocsr()
    k = int(labels.max()) + 1
    loads = np.bincount(labels, weights=g.h, minlength=k)
    in_band = (loads >= lo) & (loads <= hi)
    size = np.bincount(labels, minlength=k)
    coo = cut.tocoo()
    er, ec, ew = coo.row, coo.col, coo.data
    for _ in range(_PASSES):
        lr, lc = labels[er], labels[ec]
        cross = (lr != lc) & ~np.isin(lr, frozen_arr) & ~np.isin(lc, frozen_arr)
        if not cross.any():
            break
        # price of u's edges towards its own grid (new boundary if u leaves) and towards dst
        same = ~(lr != lc)
        inner = np.bincount(er[same], weights=ew[same], minlength=g.n)
        u, dst = er[cross], lc[cross]
        key = u * k + dst
        uniq, inv = np.unique(key, return_inverse=True)
        towards = np.bincount(inv, weights=ew[cross])
        cu, cd = uniq // k, uniq % k
        gain = towards - inner[cu]
        ok = gain > _MIN_GAIN
        if not ok.any():
            break
        cu, cd, gain = cu[ok], cd[ok], gain[ok]
        order = np.lexsort((cd, cu, -gain))
        moved = 0
        for t in order:
            c, b = int(cu[t]), int(cd[t])
            a = int(labels[c])
            if a == b or size[a] <= 1:
                continue
            row = slice(cut.indptr[c], cut.indptr[c + 1])
            nb, w = cut.indices[row], cut.data[row]
            if not (labels[nb] == b).any():
                continue
            now_gain = w[labels[nb] == b].sum() - w[labels[nb] == a].sum()
            if now_gain <= _MIN_GAIN:
                continue
            h = g.h[c]
            if h > 0:
                na, nb_load = loads[a] - h, loads[b] + h
                if in_band[a] and na < lo or in_band[b] and nb_load > hi:
                    continue
                if not in_band[a] and abs(na - np.clip(na, lo, hi)) > abs(
                    loads[a] - np.clip(loads[a], lo, hi)
                ):
                    continue
                if not in_band[b] and abs(nb_load - np.clip(nb_load, lo, hi)) > abs(
                    loads[b] - np.clip(loads[b], lo, hi)
                ):
                    continue
            if not _still_connected(adj, labels, c, a):
                continue
            labels[c] = b
            loads[a] -= h
            loads[b] += h
            size[a] -= 1
            size[b] += 1
            moved += 1
        if moved == 0:
            break
    return labels


def _still_connected(adj: sparse.csr_matrix, labels: np.ndarray, c: int, a: int) -> bool:
    """Whether grid ``a`` stays connected without cell ``c``: checked on the cells of ``a``
    within two steps of ``c`` (sufficient: a detour further away is not looked for)."""
    ring1 = adj.indices[adj.indptr[c] : adj.indptr[c + 1]]
    ring1 = ring1[labels[ring1] == a]
    if len(ring1) <= 1:
        return len(ring1) == 1
    ring2 = np.concatenate([adj.indices[adj.indptr[v] : adj.indptr[v + 1]] for v in ring1])
    local = np.unique(np.concatenate([ring1, ring2]))
    local = local[(labels[local] == a) & (local != c)]
    sub = adj[local][:, local]
    _, comp = csgraph.connected_components(sub, directed=False)
    pos = np.searchsorted(local, ring1)
    return len(np.unique(comp[pos])) == 1
