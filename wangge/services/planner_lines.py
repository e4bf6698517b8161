"""Split a grid along a line the planner drew across it.

The buildings of the grid go to one side or the other of the line by where their centroid
lies; the side of more households keeps the grid's code, the other becomes a new grid
(``new:line-NNN``). The page (one request with the drawn vertices) and the API (``"split":
{"grid", "line"}`` in ``POST /api/v1/grid-versions``, a WKT or GeoJSON line) both call
:func:`line_split_moves`.

The line must cross the grid: pass through the grid's polygon (the union of its buildings'
cells, as the saved polygon is made) and leave buildings of the grid on both sides; a line
beside the grid, or one with every building on one side, is refused with a message naming the
grid. The sides are those of the line extended straight from both ends past the grid, so a
line drawn across the buildings only (not to the grid's edge), or in a zigzag, still has two
sides; one that crosses itself there is refused.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import shapely
from shapely import ops
from shapely.geometry import LineString, shape

from wangge.access import Scope
from wangge.services.planner import PlannerError, current_assignment
from wangge.services.planner_cells import cell_grids, community_cells
from wangge.store import Store

__all__ = ["LineError", "line_split_moves", "parse_line", "with_line_split"]


class LineError(PlannerError):
    """A drawn line that cannot split the grid (the message says why; ``fields`` names
    ``split.line``)."""

    def __init__(self, message: str, field: str = "split.line"):
        super().__init__(message, {field: message})


def parse_line(value) -> LineString:
    """A line from WKT (``LINESTRING (lon lat, ...)``), GeoJSON (a LineString geometry or a
    Feature of one) or a list of ``[lon, lat]`` pairs; LineError naming what is wrong."""
    try:
        if isinstance(value, str) and value.lstrip().startswith("{"):
            value = json.loads(value)
        if isinstance(value, str):
            geom = shapely.from_wkt(value)
        elif isinstance(value, dict):
            geom = shape(value.get("geometry", value) if value.get("type") == "Feature" else value)
        elif isinstance(value, list):
            geom = LineString([(float(x), float(y)) for x, y in value])
        else:
            raise LineError("line: expected WKT, a GeoJSON LineString or [[lon, lat], ...]")
    except LineError:
        raise
    except Exception as exc:  # whatever shapely or json raise on a malformed line
        raise LineError(f"line: not a line ({str(exc)[:120]})") from None
    if geom.geom_type != "LineString" or geom.is_empty or len(geom.coords) < 2:
        raise LineError(f"line: expected a LineString of 2 points or more, got {geom.geom_type}")
    xy = np.asarray(geom.coords)[:, :2]
    if not np.isfinite(xy).all() or (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
        raise LineError("line: coordinates must be longitude, latitude (EPSG:4326)")
    return LineString(xy)


def _extended(line: LineString, reach: float) -> LineString:
    """``line`` with its first and last segments carried on straight by ``reach``."""
    xy = np.asarray(line.coords)

    def beyond(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = b - a
        return b + d / max(float(np.hypot(*d)), 1e-12) * reach

    return LineString(np.vstack([beyond(xy[1], xy[0]), xy, beyond(xy[-2], xy[-1])]))


def _sides(line: LineString, grid_polygon, points: np.ndarray, code: str) -> np.ndarray:
    """Side (0 or 1) of each point of ``points`` (n x 2) against ``line`` across the grid."""
    if not line.intersects(grid_polygon):
        raise LineError(f"the line does not cross grid {code}: draw it across the grid")
    minx, miny, maxx, maxy = shapely.union(grid_polygon.envelope, line.envelope).bounds
    reach = 2 * max(maxx - minx, maxy - miny, 1e-6)
    frame = shapely.box(minx, miny, maxx, maxy).buffer(reach / 2, join_style="mitre")
    halves = ops.split(frame, _extended(line, reach)).geoms
    if len(halves) != 2:
        raise LineError(f"the line crosses itself near grid {code}: draw a simpler line")
    side = np.where(shapely.contains_xy(halves[0], points[:, 0], points[:, 1]), 0, 1)
    return side


def line_split_moves(
    store: Store, grid_code: str, line, current: pd.Series, community: str | None = None
) -> list[dict]:
    """Moves that split grid ``grid_code`` along ``line`` (parsed by :func:`parse_line`),
    ``current`` being the community's building id -> grid code (the version plus the
    planner's moves). LineError when the line does not cross the grid or leaves one side
    without buildings. ``community`` defaults to the grid code's (a new grid's label has
    none)."""
    line = line if isinstance(line, LineString) else parse_line(line)
    community = community or grid_code[:12]
    cells = community_cells(store, community)
    grid_of = current.reindex(cells.building_id).fillna("").to_numpy(dtype=object)
    mine = np.flatnonzero(grid_of == grid_code)
    if not len(mine):
        raise LineError(f"grid {grid_code} has no buildings to split")
    owner = cell_grids(cells, grid_of)
    polygon = shapely.union_all(cells.geometry[owner == grid_code])
    buildings = store.community_buildings(community).set_index("building_id")
    centroids = shapely.get_coordinates(
        shapely.centroid(buildings.geometry.reindex(cells.building_id[mine]).to_numpy())
    )
    side = _sides(line, polygon, centroids, grid_code)
    hh = cells.households[mine]
    weight = np.bincount(side, weights=hh + 1e-3, minlength=2)
    if (np.bincount(side, minlength=2) == 0).any():
        raise LineError(f"the line leaves every building of grid {grid_code} on one side")
    keep = int(np.argmax(weight))
    stem = grid_code[12:] if grid_code[:12] == community else grid_code.replace(":", "-")
    taken, k = set(current.astype(str)), 1
    while f"new:line-{stem}-{k}" in taken:
        k += 1
    to = f"new:line-{stem}-{k}"
    return [{"building": str(b), "to": to} for b in cells.building_id[mine[side != keep]]]


def with_line_split(store: Store, parent_id: int, moves: list, split, scope: Scope) -> list:
    """``moves`` plus the moves of ``split`` (``{"grid": CODE, "line": LINE}``) applied after
    them: the API's ``split`` of ``POST /api/v1/grid-versions``."""
    if not isinstance(split, dict) or not {"grid", "line"} <= set(split):
        raise LineError('split: expected {"grid": GRID_CODE, "line": LINE}', "split")
    code = str(split["grid"])
    if not scope.contains(code):
        raise LineError(f"split.grid {code[:40]!r}: not a grid of your township", "split.grid")
    current = current_assignment(store, parent_id, moves, code[:12])
    if not (current == code).any():
        raise LineError(
            f"split.grid {code[:40]!r}: no such grid in version {parent_id}", "split.grid"
        )
    return [*moves, *line_split_moves(store, code, split["line"], current)]
