"""The workers' parts of a partition run put together: one tessellation, grid table and polygons.

Each job (:mod:`geo.partition.community`) numbers its cells, blocks and grids from 0; here they
are offset and concatenated in the order of the jobs, so the whole does not depend on where or
in which order the jobs ran.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.partition.tessellation import Tessellation

__all__ = ["combine"]


def combine(done: list[tuple[Any, np.ndarray]], n_buildings: int, comm_ids: np.ndarray):
    """One tessellation, cell-to-grid array, grid table and polygons from the workers' parts."""
    cells, blocks, edges, geoms, labels = [], [], [], [], []
    rows: dict[str, list] = {k: [] for k in ("community_id", "kind", "flags", "kept_code")}
    building_cell = np.full(n_buildings, -1, dtype=np.int64)
    area_error = 0.0
    merged: list[list[int]] = []
    c_off = b_off = g_off = 0
    for d, positions in done:
        t = d.tess
        c = t.cells.copy()
        c["block"] = c["block"].to_numpy() + b_off
        unit = c["unit"].to_numpy()
        if len(positions):
            c["unit"] = np.where(unit >= 0, positions[np.maximum(unit, 0)], -1)
        cells.append(c)
        blocks.append(t.blocks)
        ed = t.edges.copy()
        ed["i"] += c_off
        ed["j"] += c_off
        edges.append(ed)
        ok = t.building_cell >= 0
        building_cell[positions[ok]] = t.building_cell[ok] + c_off
        merged += [[int(positions[i]) for i in grp] for grp in t.merged_units]
        area_error += t.area_error_m2
        labels.append(d.labels + g_off)
        geoms.append(d.grids)
        rows["community_id"] += [str(comm_ids[ci]) for ci in d.grid_community]
        rows["kind"] += d.kinds
        rows["flags"] += d.flags
        rows["kept_code"] += d.kept
        c_off += len(c)
        b_off += len(t.blocks)
        g_off += len(d.grids)
    tess = Tessellation(
        blocks=gpd.GeoDataFrame(pd.concat(blocks, ignore_index=True)),
        cells=gpd.GeoDataFrame(pd.concat(cells, ignore_index=True)),
        building_cell=building_cell,
        edges=pd.concat(edges, ignore_index=True),
        area_error_m2=area_error,
        merged_units=merged,
    )
    meta = pd.DataFrame({"grid": np.arange(g_off, dtype=np.int64), **rows})
    return tess, np.concatenate(labels), meta, np.concatenate(geoms)
