"""The grid division engine: building footprints in, grids of 300 to 500 households out.

``partition`` is the entry point; the steps live in their own modules: ``inputs``
(validation, repair, matching a previous division), ``households`` (estimates per building),
``tessellation`` (building cells and their adjacency), ``community`` (one community's
pieces, in worker processes), ``solver`` and ``polish`` (grouping cells into grids),
``quality`` (grid polygons, flags, the report), ``codes`` (grid codes) and ``review``
(the HTML review map).
"""

from __future__ import annotations

from geo.partition.engine import partition
from geo.partition.result import PartitionResult

__all__ = ["PartitionResult", "partition"]
