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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from wangge.access import Scope
from wangge.store import Store, StoreError
from wangge.store.db import WGS84

__all__ = [
    "Cells",
    "cell_grids",
    "community_cells",
    "grid_parts",
    "grid_polygons",
    "rerun_community",
]

_BARRIERS = ("roads", "water", "railways")


@dataclass(frozen=True)
class Cells:
    """One community's buildings and cells.

    ``building_id``/``households`` per building (the store's order), ``cell_of`` the cell of
    each building, ``geometry`` each cell's polygon (EPSG:4326), ``edges`` the adjacent cell
    pairs (m x 2, i < j).
    """

    community_code: str
    building_id: np.ndarray
    households: np.ndarray
    cell_of: np.ndarray
    geometry: np.ndarray
    edges: np.ndarray

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


def _signature(buildings: gpd.GeoDataFrame) -> str:
    digest = hashlib.sha1()
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
    out = io.BytesIO()
    edges = result.edges[["i", "j"]].to_numpy(dtype=np.int64)
    np.savez_compressed(
        out,
        building_id=buildings["building_id"].astype(str).to_numpy(),
        cell_of=position.loc[hit.to_numpy()].to_numpy(dtype=np.int64),
        wkb=np.array(shapely.to_wkb(cells.geometry.to_crs(WGS84).to_numpy()), dtype=object),
        edges=edges,
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
    return Cells(
        community_code=code,
        building_id=data["building_id"].astype(str),
        households=buildings["households"].to_numpy(dtype=np.int64),
        cell_of=data["cell_of"],
        geometry=shapely.from_wkb(data["wkb"]),
        edges=data["edges"],
    )


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


def rerun_community(
    store: Store,
    code: str,
    assignment: pd.Series,
    locked: list[str],
    *,
    band: tuple[int, int],
) -> pd.Series:
    """The engine on community ``code``, warm-started from ``assignment`` (building id ->
    grid code) with the ``locked`` grids kept as they are; the new building id -> grid code
    (codes as the engine matched them; :mod:`wangge.services.planner` renumbers new grids).

    The locked grids' buildings are left out and the engine runs on the rest of the
    community (the union of the other buildings' cells) alone: less to tessellate and solve
    than the whole community with ``locked=``. The locked buildings come back unchanged.
    """
    from geo.partition import partition

    buildings = store.community_buildings(code)
    community = _community(store, code)
    grid = buildings["building_id"].map(assignment).fillna("").to_numpy(dtype=object)
    free = ~np.isin(grid, list(locked))
    kept = pd.Series(grid[~free], index=buildings["building_id"].to_numpy()[~free])
    if not free.any():
        return kept
    if (~free).any():
        cells = community_cells(store, code)
        mask = np.zeros(len(cells.building_id), dtype=bool)
        mask[cells.index[buildings["building_id"][free]].to_numpy()] = True
        owner = cell_grids(cells, np.where(mask, "free", "locked").astype(object))
        rest = _union(cells.geometry[owner == "free"])
        community = community.assign(geometry=[rest])
    part = buildings[free].reset_index(drop=True)
    previous = gpd.GeoDataFrame(
        {"grid_code": grid[free]}, geometry=part.geometry.to_numpy(), crs=buildings.crs
    )
    result = partition(
        _engine_buildings(part),
        households_column="households",
        communities=community,
        community_id="code",
        barriers=_barriers(store, community.total_bounds) or None,
        min_households=band[0],
        max_households=band[1],
        previous=previous[previous["grid_code"] != ""],
        workers=1,
    )
    ids = part["building_id"].to_numpy()[result.buildings["source_index"].to_numpy()]
    got = pd.Series(result.buildings["grid_code"].to_numpy(), index=ids).fillna("")
    return pd.concat([kept, got])
