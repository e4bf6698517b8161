"""The building cells of a community, for the planner: polygons, adjacency and the engine.

A planner edits whole buildings. Each building sits in one cell of the engine's tessellation
(:func:`geo.partition.partition` returns them as ``result.cells`` with their adjacency as
``result.edges``); a grid's polygon is the union of its buildings' cells, so it tiles the
community and never cuts a building, whatever the planner moves. The cells are made once per
community by the engine's public entry, kept in the store (``community_cells``) under a
signature of the community's buildings, and made again only when those change.

Buildings that share one cell (overlapping footprints the engine merged into one unit) move
together: :attr:`Cells.cell_of` says which cell each building is in.

Re-running the engine on the unlocked rest of a community (:func:`rerun_community`) is the same
public entry with the current assignment as ``previous`` and the locked grids as ``locked``:
a warm start, so that little moves.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.partition.graph import Graph, components, subgraph
from geo.partition.solver import make_contiguous, repair_band
from wangge.access import Scope
from wangge.store import Store, StoreError
from wangge.store.db import WGS84

__all__ = [
    "Cells",
    "cell_graph",
    "cell_grids",
    "community_cells",
    "grid_parts",
    "grid_polygons",
    "outline_payload",
    "rerun_community",
]

_BARRIERS = ("roads", "water", "railways")


@dataclass(frozen=True)
class Cells:
    """One community's buildings and cells.

    ``building_id``/``households`` per building (the store's order), ``cell_of`` the cell of
    each building, ``geometry`` each cell's polygon (EPSG:4326), ``edges`` the adjacent cell
    pairs (m x 2, i < j) with the engine's ``edge_length`` (metres of shared boundary) and
    ``edge_weight`` (barrier weight), ``xy`` each cell's label point (metres, the engine's
    metric CRS), ``edge_lines`` the shared boundary of each pair and ``outline`` the
    community's outer boundary (EPSG:4326: the grid outlines the page redraws live).
    """

    community_code: str
    building_id: np.ndarray
    households: np.ndarray
    cell_of: np.ndarray
    geometry: np.ndarray
    edges: np.ndarray
    edge_length: np.ndarray
    edge_weight: np.ndarray
    xy: np.ndarray
    edge_lines: np.ndarray
    outline: object

    @property
    def index(self) -> pd.Series:
        """Building id -> position."""
        return pd.Series(np.arange(len(self.building_id)), index=self.building_id)

    def building_edges(self) -> np.ndarray:
        """Adjacent buildings (pairs of positions, computed once per call): buildings of
        adjacent cells (through one representative building per cell), buildings of the same
        cell chained together, and buildings whose cells touch the same run of cells without
        buildings (open land between them)."""
        n_cells = len(self.geometry)
        order = np.argsort(self.cell_of, kind="stable")
        rep = np.full(n_cells, -1)
        rep[self.cell_of[order[::-1]]] = order[::-1]
        edges = self.edges.reshape(-1, 2)
        pairs = [rep[edges]]
        same = self.cell_of[order[1:]] == self.cell_of[order[:-1]]
        pairs.append(np.column_stack([order[:-1][same], order[1:][same]]))
        pairs.extend(_through_empty(edges, rep))
        out = np.vstack(pairs).astype(int)
        return out[(out >= 0).all(axis=1)]


def _through_empty(edges: np.ndarray, rep: np.ndarray) -> list[np.ndarray]:
    """Pairs of buildings whose cells border the same connected run of empty cells."""
    empty = rep < 0
    if not empty.any():
        return []
    n = len(rep)
    inner = edges[empty[edges[:, 0]] & empty[edges[:, 1]]]
    graph = coo_matrix((np.ones(len(inner)), (inner[:, 0], inner[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    border = edges[empty[edges[:, 0]] != empty[edges[:, 1]]]
    run = np.where(empty[border[:, 0]], label[border[:, 0]], label[border[:, 1]])
    full = np.where(empty[border[:, 0]], border[:, 1], border[:, 0])
    out = []
    for _, group in pd.DataFrame({"run": run, "cell": full}).groupby("run")["cell"]:
        members = rep[np.unique(group.to_numpy())]
        if len(members) > 1:
            a, b = np.triu_indices(len(members), 1)
            out.append(np.column_stack([members[a], members[b]]))
    return out


def cell_grids(cells: Cells, grid_of: np.ndarray) -> np.ndarray:
    """The grid code of every cell: its buildings' grid; a cell without buildings takes the
    grid of a neighbouring cell (the one of the lowest number, repeated until every cell that
    borders a building's cell, directly or through empty cells, has one; others stay "")."""
    out = np.full(len(cells.geometry), "", dtype=object)
    out[cells.cell_of] = grid_of
    edges = np.vstack([cells.edges.reshape(-1, 2), cells.edges.reshape(-1, 2)[:, ::-1]])
    edges = edges[np.lexsort((edges[:, 1], edges[:, 0]))]
    while True:
        todo = (out[edges[:, 0]] == "") & (out[edges[:, 1]] != "")
        if not todo.any():
            return out
        first = pd.Series(edges[todo, 1]).groupby(edges[todo, 0]).first()
        out[first.index.to_numpy()] = out[first.to_numpy()]


def grid_polygons(cells: Cells, grid_of: np.ndarray, codes) -> dict[str, object]:
    """The polygon of each grid of ``codes``: the union of its cells (EPSG:4326)."""
    owner = cell_grids(cells, grid_of)
    return {code: _union(cells.geometry[owner == code]) for code in codes}


def _union(parts: np.ndarray):
    """The union of cells: the coverage union (the cells tile the community; several times
    faster), or the general union where reprojection left them not exactly noded; made valid
    (polygonal parts kept) when the cells' slivers left it invalid."""
    try:
        union = shapely.coverage_union_all(parts)
    except shapely.errors.GEOSException:
        union = shapely.union_all(parts)
    if union.is_valid:
        return union
    valid = shapely.make_valid(union)  # slivers where cells meet: keep the polygonal parts
    polygons = [g for g in shapely.get_parts(valid) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polygons)


#: The layout of the kept cells: a blob of an older layout is made again.
_LAYOUT = "cells-2"


def _signature(buildings: gpd.GeoDataFrame) -> str:
    digest = hashlib.sha1(_LAYOUT.encode())
    digest.update("\n".join(buildings["building_id"].astype(str)).encode())
    for wkb in shapely.to_wkb(buildings.geometry.to_numpy()):
        digest.update(wkb)
    return digest.hexdigest()


def _barriers(store: Store, bounds) -> list[gpd.GeoDataFrame]:
    bbox = tuple(float(v) for v in bounds)
    layers = [store.basemap_layer(name, bbox) for name in _BARRIERS]
    return [layer for layer in layers if len(layer)]


def _engine_buildings(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The buildings as the engine reads them: empty ``special``/``hamlet_id`` left out."""
    for column in ("special", "hamlet_id"):
        if buildings[column].fillna("").eq("").all():
            buildings = buildings.drop(columns=column)
        else:
            buildings = buildings.assign(**{column: buildings[column].replace("", None)})
    return buildings


def _community(store: Store, code: str) -> gpd.GeoDataFrame:
    units = store.admin_units("community", scope=Scope.county())
    unit = units[units["code"] == code]
    if unit.empty:
        raise StoreError(f"community {code}: no such community")
    return unit.reset_index(drop=True)


def _make_cells(store: Store, code: str, buildings: gpd.GeoDataFrame) -> bytes:
    """Run the engine on the community and keep its cells with their buildings."""
    from geo.partition import partition

    community = _community(store, code)
    result = partition(
        _engine_buildings(buildings),
        households_column="households",
        communities=community,
        community_id="code",
        barriers=_barriers(store, community.total_bounds) or None,
        workers=1,
    )
    cells = result.cells
    if cells is None or result.edges is None:
        raise StoreError(f"community {code}: the grid engine returned no cells")
    metric = buildings.to_crs(cells.crs)
    points = gpd.GeoDataFrame(geometry=metric.geometry.representative_point(), crs=cells.crs)
    hit = gpd.sjoin(points, cells[["geometry"]], predicate="within", how="left")
    hit = hit[~hit.index.duplicated(keep="first")]["index_right"]
    missing = hit.isna().to_numpy()
    if missing.any():  # on a cell edge: the nearest cell
        near = gpd.sjoin_nearest(points[missing], cells[["geometry"]], how="left")
        hit[missing] = near[~near.index.duplicated(keep="first")]["index_right"].to_numpy()
    position = pd.Series(np.arange(len(cells)), index=cells.index)
    cell_of = position.loc[hit.to_numpy()].to_numpy(dtype=np.int64)
    edges = result.edges[["i", "j"]].to_numpy(dtype=np.int64)
    geoms = cells.geometry.to_numpy()
    # label points as the engine takes them: a building's point on surface, else the cell's
    xy = shapely.get_coordinates(shapely.point_on_surface(geoms))
    xy[cell_of[::-1]] = shapely.get_coordinates(points.geometry.to_numpy())[::-1]
    shared = shapely.intersection(
        shapely.boundary(geoms[edges[:, 0]]), shapely.boundary(geoms[edges[:, 1]])
    )
    to_wgs = gpd.GeoSeries(np.append(shared, _union(geoms).boundary), crs=cells.crs).to_crs(WGS84)
    out = io.BytesIO()
    np.savez_compressed(
        out,
        building_id=buildings["building_id"].astype(str).to_numpy(),
        cell_of=cell_of,
        wkb=np.array(shapely.to_wkb(cells.geometry.to_crs(WGS84).to_numpy()), dtype=object),
        edges=edges,
        edge_length=result.edges["length"].to_numpy(dtype=float),
        edge_weight=result.edges["weight"].to_numpy(dtype=float),
        xy=xy,
        lines=np.array(shapely.to_wkb(to_wgs.to_numpy()), dtype=object),
    )
    return out.getvalue()


def community_cells(store: Store, code: str) -> Cells:
    """The cells of community ``code``: from the store, or made by the engine (and kept) when
    its buildings changed since."""
    buildings = store.community_buildings(code)
    if buildings.empty:
        raise StoreError(f"community {code}: it has no buildings")
    signature = _signature(buildings)
    kept = store.community_cells(code)
    if kept is None or kept[0] != signature:
        blob = _make_cells(store, code, buildings)
        store.put_community_cells(code, signature, blob)
    else:
        blob = kept[1]
    data = np.load(io.BytesIO(blob), allow_pickle=True)
    lines = shapely.from_wkb(data["lines"])
    return Cells(
        community_code=code,
        building_id=data["building_id"].astype(str),
        households=buildings["households"].to_numpy(dtype=np.int64),
        cell_of=data["cell_of"],
        geometry=shapely.from_wkb(data["wkb"]),
        edges=data["edges"],
        edge_length=data["edge_length"],
        edge_weight=data["edge_weight"],
        xy=data["xy"],
        edge_lines=lines[:-1],
        outline=lines[-1],
    )


def _paths(lines: np.ndarray, digits: int = 7) -> list[list[list[float]]]:
    """The line parts of each geometry of ``lines`` as flat [lat, lon, lat, lon, ...] lists
    (Leaflet's order): one list of paths per geometry (points and empties give none)."""
    parts, owner = shapely.get_parts(lines, return_index=True)
    linear = (shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 0)
    parts, owner = parts[linear], owner[linear]
    xy, which = shapely.get_coordinates(parts, return_index=True)
    xy = np.round(xy[:, ::-1], digits)
    cuts = np.flatnonzero(np.diff(which)) + 1
    flat = [c.ravel().tolist() for c in np.split(xy, cuts)] if len(xy) else []
    out: list[list[list[float]]] = [[] for _ in range(len(lines))]
    for k, path in zip(owner, flat, strict=True):
        out[k].append(path)
    return out


def outline_payload(cells: Cells) -> dict:
    """What the page needs to redraw grid outlines after each move without the server:
    ``cell_root`` (the building whose grid each cell takes, -1 for none: empty cells take a
    neighbour's, as :func:`cell_grids` decides, and which one does not depend on the grids),
    ``cell_edges`` (pairs of adjacent cells, flat) with ``cell_paths`` (their shared boundary,
    one list of flat [lat, lon, ...] paths per pair) and ``outer`` (the community's outline).
    An edge is stroked when its two cells are in different grids."""
    positions = np.arange(len(cells.building_id)).astype(str).astype(object)
    root = cell_grids(cells, positions)
    cell_root = np.array([int(r) if r != "" else -1 for r in root])
    edges = cells.edges.reshape(-1, 2)
    paths = _paths(cells.edge_lines)
    keep = [
        k
        for k, p in enumerate(paths)
        if p and (cell_root[edges[k, 0]] >= 0 or cell_root[edges[k, 1]] >= 0)
    ]
    return {
        "cell_root": cell_root.tolist(),
        "cell_edges": edges[keep].ravel().tolist(),
        "cell_paths": [paths[k] for k in keep],
        "outer": _paths(np.array([cells.outline]))[0],
    }


def grid_parts(cells: Cells, grid_of: np.ndarray, pairs: np.ndarray | None = None) -> pd.Series:
    """How many connected parts each grid of ``grid_of`` (a code per building) has, over
    :meth:`Cells.building_edges` (or ``pairs`` of them computed before)."""
    pairs = cells.building_edges() if pairs is None else pairs
    keep = grid_of[pairs[:, 0]] == grid_of[pairs[:, 1]]
    pairs = pairs[keep]
    n = len(grid_of)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return pd.Series(labels).groupby(pd.Series(grid_of)).nunique()


def cell_graph(cells: Cells, nodes: np.ndarray) -> Graph:
    """The engine's cell graph (:class:`geo.partition.graph.Graph`) over the cells ``nodes``,
    from the kept cells: households, label points, shared boundary length, travel cost
    (distance x barrier weight) and boundary price (length / weight), as the engine builds it."""
    n = len(cells.geometry)
    e = cells.edges.reshape(-1, 2)
    dist = np.hypot(*(cells.xy[e[:, 0]] - cells.xy[e[:, 1]]).T) + 1e-3

    def sym(values: np.ndarray) -> sparse.csr_matrix:
        m = sparse.coo_matrix((values, (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
        return subgraph((m + m.T).tocsr(), nodes)

    h = np.bincount(cells.cell_of, weights=cells.households, minlength=n)
    return Graph(
        h=h[nodes],
        xy=cells.xy[nodes],
        length=sym(cells.edge_length),
        cost=sym(dist * cells.edge_weight),
        cut=sym(cells.edge_length / cells.edge_weight),
    )


def rerun_community(
    store: Store,
    code: str,
    assignment: pd.Series,
    locked: list[str],
    *,
    band: tuple[int, int],
    rural: bool = False,
    frozen: frozenset[str] = frozenset(),
) -> pd.Series:
    """The engine's solver on community ``code``'s kept cells, warm-started from
    ``assignment`` (building id -> grid code) with the ``locked`` grids kept as they are; the
    new building id -> grid label (``rerun-K``; :mod:`wangge.services.planner` matches them to
    codes). Locked buildings come back unchanged; the ``frozen`` grids (out of the band but
    as the version has them: the engine's grids of special buildings, grids a planner saved
    with a reason) are neither repaired nor given or taken buildings.

    The cells, their adjacency and barrier weights are the engine's, kept with the community
    (:func:`community_cells`), so a re-run does not tessellate again: the cells of the
    unlocked grids (and the empty cells they own) are one graph, each connected piece of it
    solved as the engine's warm start does (:func:`geo.partition.solver.make_contiguous`, then
    :func:`geo.partition.solver.repair_band` for out-of-band grids; grids in band and
    contiguous stay as they are).
    Measured on the 5,000-building community of ``benchmarks/planner.py``: the engine run on
    the unlocked rest took 5.0 s (and failed on the reprojected rest's topology), this takes
    0.45-1.04 s there at load 4-8 (docs/planner.md).
    """
    cells = community_cells(store, code)
    grid = pd.Series(cells.building_id).map(assignment).fillna("").to_numpy(dtype=object)
    owner = cell_grids(cells, grid)
    free = np.flatnonzero((owner != "") & ~np.isin(owner, list(locked)))
    out = pd.Series(grid, index=cells.building_id)
    if not len(free):
        return out
    graph = cell_graph(cells, free)
    count, piece = components(graph.length)
    label = np.full(len(cells.geometry), "", dtype=object)
    lo, hi = band
    for k in range(count):
        nodes = np.flatnonzero(piece == k)
        sub = graph.take(nodes)
        codes, init = np.unique(owner[free[nodes]].astype(str), return_inverse=True)
        got = make_contiguous(sub, init)
        if not rural:
            keep = {int(j) for j in np.unique(got) if codes[j] in frozen}
            got = repair_band(sub, got, lo, hi, keep)
        label[free[nodes]] = [f"rerun-{k}-{j}" for j in got]
    moved = label[cells.cell_of]
    keep = moved != ""
    out[keep] = moved[keep]
    return out
