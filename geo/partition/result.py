"""What the grid division engine returns: :class:`PartitionResult`.

A module of its own so that the engine (:mod:`geo.partition.engine`), which builds it, and
the assembly of grids and report (:mod:`geo.partition.quality`), which fills it, do not
import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

__all__ = ["PartitionResult"]


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
