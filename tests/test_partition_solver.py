"""The solver on small cell lattices: ejection chains for towers, the compactness polish."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.sparse import csgraph

from geo.partition.graph import Graph, subgraph
from geo.partition.polish import polish
from geo.partition.solver import _eject, _unit_moves, _Work, repair_band


def lattice(h: np.ndarray, weight: dict[tuple[int, int], float] | None = None) -> Graph:
    """Square cells of 10 m on a rows x cols lattice with households ``h``."""
    rows, cols = h.shape
    idx = np.arange(rows * cols).reshape(rows, cols)
    a = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    b = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    w = np.array([(weight or {}).get((int(i), int(j)), 1.0) for i, j in zip(a, b, strict=True)])
    n = rows * cols

    def sym(v):
        m = sparse.coo_matrix((v, (a, b)), shape=(n, n)).tocsr()
        return (m + m.T).tocsr()

    yy, xx = np.divmod(np.arange(n), cols)
    return Graph(
        h=h.ravel().astype(float),
        xy=np.c_[xx * 10.0, yy * 10.0],
        length=sym(np.full(len(a), 10.0)),
        cost=sym(10.0 * w),
        cut=sym(10.0 / w),
    )


def connected(g: Graph, labels: np.ndarray) -> bool:
    for j in np.unique(labels):
        nodes = np.flatnonzero(labels == j)
        n, _ = csgraph.connected_components(g.length[nodes][:, nodes], directed=False)
        if n != 1:
            return False
    return True


def test_two_towers_in_one_grid_are_separated_by_an_ejection_chain():
    # a grid of two towers (264 + 248) next to a grid of small buildings (302): no single
    # move helps; a tower has to go over and small buildings come back
    h = np.array([[264, 248, 20, 20, 20, 20], [48, 48, 36, 36, 30, 24]])
    g = lattice(h)
    labels = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    stuck = labels.copy()
    assert not _unit_moves(g, stuck, 0, 300, 500, set())
    out = labels.copy()
    assert _eject(g, out, 0, 300, 500, set(), _Work(100))
    loads = np.bincount(out, weights=g.h)
    assert len(loads) == 2 and ((loads >= 300) & (loads <= 500)).all()
    assert connected(g, out)
    # and the whole repair gets there too
    loads = np.bincount(repair_band(g, labels, 300, 500, set()), weights=g.h)
    assert ((loads >= 300) & (loads <= 500)).all()


def test_polish_straightens_a_jagged_boundary_onto_the_street():
    # 4 x 8 cells, 25 households each (800): a street between columns 3 and 4; the start
    # has a zigzag boundary off the street
    h = np.full((4, 8), 25)
    street = {}
    for r in range(4):
        street[(r * 8 + 3, r * 8 + 4)] = 5.0
    g = lattice(h, street)
    labels = np.array(
        [
            [0, 0, 0, 0, 0, 1, 1, 1],
            [0, 0, 0, 1, 1, 1, 1, 1],
            [0, 0, 0, 0, 0, 1, 1, 1],
            [0, 0, 0, 1, 1, 1, 1, 1],
        ]
    ).ravel()
    before = g.cut_price(labels)
    out = polish(g, labels, 300, 500)
    loads = np.bincount(out, weights=g.h)
    assert g.cut_price(out) < before
    assert ((loads >= 300) & (loads <= 500)).all()
    assert connected(g, out)
    assert (out.reshape(4, 8)[:, :4] == 0).all() and (out.reshape(4, 8)[:, 4:] == 1).all()


def test_polish_never_leaves_the_band_or_disconnects():
    rng = np.random.default_rng(5)
    h = rng.integers(0, 30, size=(6, 10))
    g = lattice(h)
    labels = (np.arange(60) % 10 >= 5).astype(np.int64)  # two halves
    loads = np.bincount(labels, weights=g.h)
    out = polish(g, labels, int(loads.min()) - 5, int(loads.max()) + 5)
    new = np.bincount(out, weights=g.h)
    assert ((new >= loads.min() - 5) & (new <= loads.max() + 5)).all()
    assert connected(g, out)
    assert g.cut_price(out) <= g.cut_price(labels)


def test_sub_blocks_cut_a_long_block_across_its_narrow_side():
    # one block of 4 x 24 cells, 20 households each (1,920): it must be cut into parts of
    # at most 500 across its narrow side (4 cells of 10 m), never along it (24 cells)
    from geo.partition.solver import _straight_cut, _sub_blocks

    g = lattice(np.full((4, 24), 20))
    g.block = np.zeros(g.n, dtype=np.int64)
    side = _straight_cut(g, np.arange(g.n), 300, 500)
    labels = np.zeros(g.n, dtype=np.int64)
    labels[side] = 1
    assert g.cut_price(labels) == 40.0  # one straight line of 4 cells
    parts = _sub_blocks(g, 300, 500)
    loads = np.bincount(parts, weights=g.h)
    assert len(loads) >= 4 and loads.max() <= 500
    assert connected(g, parts)
    assert g.cut_price(parts) == 40.0 * (len(loads) - 1)  # every cut across the narrow side


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 40),
    density=st.floats(0.0, 0.6),
    seed=st.integers(0, 2**32 - 1),
    pick=st.sampled_from(["positions", "shuffled", "mask", "repeated"]),
)
def test_subgraph_is_scipys_fancy_indexing_entry_for_entry(n, density, seed, pick):
    """geo.partition.graph.subgraph builds m[nodes][:, nodes] itself: the same entries (explicit
    zeros too) in the same order within each row, for sorted, shuffled, masked and repeated
    nodes."""
    rng = np.random.default_rng(seed)
    dense = rng.random((n, n)) * (rng.random((n, n)) < density)
    m = sparse.csr_matrix(dense)
    m.data[:: max(1, len(m.data) // 3)] = 0.0  # explicit zeros stay entries
    if rng.random() < 0.5:  # rows whose columns are not sorted
        order = np.concatenate(
            [a + rng.permutation(b - a) for a, b in zip(m.indptr[:-1], m.indptr[1:], strict=True)]
        ).astype(np.int64)
        m = sparse.csr_matrix((m.data[order], m.indices[order], m.indptr), shape=m.shape)
    mask = rng.random(n) < 0.6
    nodes = {
        "positions": np.flatnonzero(mask),
        "shuffled": rng.permutation(np.flatnonzero(mask)),
        "mask": mask,
        "repeated": np.r_[np.flatnonzero(mask), np.flatnonzero(mask)[:1]],
    }[pick]
    got, want = subgraph(m, nodes), m[nodes][:, nodes].tocsr()
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)
