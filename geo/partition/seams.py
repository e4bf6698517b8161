"""The last check of a community's grids, on their polygons: one polygon per grid.

The cell graph keeps grids contiguous; two cells can still touch only through a rounding
artefact, and the union of a grid's cells then comes out in pieces. Here every stray piece
goes to the grid it shares most boundary with.
"""

from __future__ import annotations

import numpy as np
import shapely

from geo.partition.graph import Graph
from geo.partition.polygons import union_groups

__all__ = ["connect_pieces"]


def connect_pieces(g: Graph, cells, labels, grids, flags, lo: int, hi: int):
    """Give every stray piece of a grid polygon to the grid it shares most boundary with.

    The cell graph keeps grids contiguous; this last check works on the polygons themselves,
    so a grid is one Polygon even where two cells touch only through a rounding artefact.
    Grids pushed out of the band by a move are flagged ``out-of-band``.
    """

    labels = labels.copy()
    moved: set[int] = set()
    for _ in range(3):
        multi = np.flatnonzero(shapely.get_num_geometries(grids) > 1)
        if len(multi) == 0:
            break
        touched: set[int] = set()
        for j in multi:
            members = np.flatnonzero(labels == j)
            parts = shapely.get_parts(grids[j])
            # each cell goes with the part holding most of its area
            ci, pi = shapely.STRtree(parts).query(cells[members], predicate="intersects")
            area = shapely.area(shapely.intersection(cells[members][ci], parts[pi]))
            o = np.lexsort((-area, ci))
            part_of = np.full(len(members), -1)
            part_of[ci[o][::-1]] = pi[o][::-1]
            load = np.bincount(part_of[part_of >= 0], weights=g.h[members][part_of >= 0])
            load = np.pad(load, (0, len(parts) - len(load)))
            main = int(np.lexsort((-shapely.area(parts), -load))[0])
            for p in range(len(parts)):
                if p == main:
                    continue
                stray = members[part_of == p]
                if len(stray) == 0:
                    continue
                others = np.flatnonzero(np.arange(len(grids)) != j)
                shared = shapely.length(
                    shapely.intersection(shapely.boundary(grids[others]), parts[p].boundary)
                )
                if shared.max() <= 0:
                    continue
                dst = int(others[int(np.argmax(shared))])
                labels[stray] = dst
                touched.update((int(j), dst))
        if not touched:
            break
        moved |= touched
        fresh = union_groups(cells, labels, len(grids))
        for t in touched:
            grids[t] = fresh[t]
    loads = np.bincount(labels, weights=g.h, minlength=len(grids))
    flags = dict(flags)
    for t in moved:
        if flags.get(t) == "" and loads[t] > 0 and not lo <= loads[t] <= hi:
            flags[t] = "out-of-band"
    return labels, grids, flags
