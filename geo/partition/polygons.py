"""Polygon unions of grouped cells: grid polygons without seams or pinholes, and compactness.

Cells cut by separate overlay operations can touch with gaps of a hair's width; the unions
here close those seams and fill the rounding slits, so that a grid of connected cells is one
polygon. Used by the per-community workers, the assembly of the result and the benchmarks.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["drop_pinholes", "polsby_popper", "union_groups"]

_SEAM = 1e-4  # m: seams narrower than this between cells of one grid are closed
_PINHOLE_M2 = 0.5  # holes smaller than this in a grid are rounding slits between cells


def polsby_popper(geoms: np.ndarray) -> np.ndarray:
    """4 pi A / P^2: 1 for a disc, near 0 for a sliver.

    Examples
    --------
    >>> from shapely import box
    >>> round(float(polsby_popper(np.array([box(0, 0, 1, 1)]))[0]), 3)
    0.785
    """
    p = shapely.length(geoms)
    return np.where(p > 0, 4 * np.pi * shapely.area(geoms) / np.maximum(p, 1e-12) ** 2, 0.0)


def union_groups(geoms: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """One polygon per group ``0..n-1``: the union of ``geoms`` with that group.

    Seams of a hair's width between cells of one group are closed and pinholes filled
    (:func:`drop_pinholes`); an empty group gets an empty polygon.

    Examples
    --------
    >>> from shapely import box
    >>> out = union_groups(np.array([box(0, 0, 1, 1), box(1, 0, 2, 1)]), np.array([0, 0]), 2)
    >>> [round(float(a), 3) for a in shapely.area(out)]
    [2.0, 0.0]
    """
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(n + 1))
    out = np.empty(n, dtype=object)
    for j in range(n):
        part = geoms[order[bounds[j] : bounds[j + 1]]]
        out[j] = shapely.union_all(part) if len(part) else shapely.Polygon()
    # cells cut by separate overlay operations can be 1e-9 m apart along a shared edge:
    # close such seams where a union of connected cells came out in pieces
    multi = np.flatnonzero(shapely.get_num_geometries(out) > 1)
    for m in multi:
        part = geoms[order[bounds[m] : bounds[m + 1]]]
        for fix in (
            lambda p: shapely.union_all(p, grid_size=1e-6),
            lambda p: shapely.buffer(
                shapely.buffer(shapely.union_all(p), _SEAM, join_style="mitre"),
                -_SEAM,
                join_style="mitre",
            ),
        ):
            fixed = fix(part)
            if shapely.get_num_geometries(fixed) < shapely.get_num_geometries(out[m]):
                out[m] = fixed
            if shapely.get_num_geometries(out[m]) == 1:
                break
    return drop_pinholes(out)


def drop_pinholes(geoms: np.ndarray) -> np.ndarray:
    """Fill holes under ``_PINHOLE_M2``: rounding slits between cells, not gaps."""
    rings, ridx = shapely.get_rings(geoms, return_index=True)
    nring = shapely.get_num_interior_rings(geoms)
    if nring.sum() == 0:
        return geoms
    out = geoms.copy()
    for j in np.flatnonzero(nring > 0):
        parts = []
        for poly in shapely.get_parts(geoms[j]):
            holes = [r for r in poly.interiors if shapely.area(shapely.Polygon(r)) >= _PINHOLE_M2]
            parts.append(shapely.Polygon(poly.exterior, holes))
        out[j] = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    return out
