"""Re-run on the kept cells and split along a drawn line, on a lattice community of 400
buildings (the benchmark's synthetic county at a small size): services and the API."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import shapely

from dashboard.app import create_app
from wangge.services import planner
from wangge.services.planner_cells import community_cells
from wangge.services.planner_lines import LineError, line_split_moves
from wangge.settings import Settings
from wangge.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from planner import build_county  # noqa: E402  (benchmarks/planner.py)


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    folder = tmp_path_factory.mktemp("planner-rerun")
    store = Store(Settings(data_dir=folder).db_path)
    community = build_county(store, 400, seed=5)
    return folder, store, community


def _grid_line(store: Store, version: int, grid: str, community: str) -> tuple:
    """A vertical line through the middle of ``grid`` (lon, lat), and the grid's centroids."""
    buildings = store.community_buildings(community).set_index("building_id")
    ids = store.version_assignment(version, community_code=community)
    mine = ids.loc[ids["grid_code"] == grid, "building_id"]
    xy = shapely.get_coordinates(shapely.centroid(buildings.geometry.loc[mine].to_numpy()))
    miny, maxy = float(xy[:, 1].min()), float(xy[:, 1].max())
    mid = float(np.median(xy[:, 0]))
    return [[mid, miny - 0.01], [mid, maxy + 0.01]], xy, mine.to_numpy()


def test_rerun_with_nothing_changed_moves_nothing_and_repairs_edits(county):
    _, store, community = county
    v1 = store.published_grid_version()
    grids = sorted(set(store.version_assignment(v1, community_code=community)["grid_code"]))
    assert len(grids) >= 3
    assert planner.rerun_moves(store, v1, community, grids[:1]) == []  # warm: nothing moves
    # empty a grid into its neighbour: the neighbour goes over the band, the re-run repairs it
    absorbed = planner.merge_moves(store, v1, grids[1], grids[2])
    lo, hi = planner.band_of(store, v1)
    moves = planner.rerun_moves(store, v1, community, [grids[0]], absorbed)
    draft = planner.save_draft(store, v1, moves)
    over = [v for v in draft["violations"] if v["kind"] in ("over", "noncontiguous")]
    assert over == []
    assert all(m["to"] != grids[0] for m in moves)  # nothing given to the locked grid
    assert len(moves) < len(absorbed) * 3  # warm-started: the rest of the community stays


def test_split_along_a_line_by_the_side_of_the_centroids(county):
    _, store, community = county
    v1 = store.published_grid_version()
    grid = sorted(set(store.version_assignment(v1, community_code=community)["grid_code"]))[0]
    line, xy, ids = _grid_line(store, v1, grid, community)
    current = planner.current_assignment(store, v1, [], community)
    moves = line_split_moves(store, grid, line, current)
    moved = {m["building"] for m in moves}
    assert moves and {m["to"] for m in moves} == {f"new:line-{grid[12:]}-1"}
    west = set(ids[xy[:, 0] < line[0][0]])
    east = set(ids[xy[:, 0] >= line[0][0]])
    assert moved in (west, east)  # one whole side, nothing of the other
    # a line beside the grid is refused with a message naming the grid
    far = [[p[0] + 1.0, p[1]] for p in line]
    with pytest.raises(LineError, match=f"does not cross grid {grid}"):
        line_split_moves(store, grid, far, current)
    # a second line in the same draft gives another new grid
    again = planner.current_assignment(store, v1, moves, community)
    rest = xy[~np.isin(ids, list(moved))]
    mid = float(np.median(rest[:, 1]))
    across = [[rest[:, 0].min() - 0.01, mid], [rest[:, 0].max() + 0.01, mid]]
    second = line_split_moves(store, grid, across, again)
    assert second and {m["to"] for m in second} == {f"new:line-{grid[12:]}-2"}
    assert community_cells(store, community).outline.length > 0


def test_split_along_a_line_from_the_api(county):
    folder, store, community = county
    app = create_app(Settings(data_dir=folder))
    client = app.server.test_client()
    token = store.create_token("planner-bot", "planner")
    township = store.create_token("leader-bot", "township", scope="420999002000")
    v1 = store.published_grid_version()
    grid = sorted(set(store.version_assignment(v1, community_code=community)["grid_code"]))[1]
    line, _, ids = _grid_line(store, v1, grid, community)
    wkt = "LINESTRING (" + ", ".join(f"{x} {y}" for x, y in line) + ")"
    headers = {"Authorization": f"Bearer {token}"}
    body = {"parent": v1, "split": {"grid": grid, "line": wkt}, "comment": "沿路拆分"}
    resp = client.post("/api/v1/grid-versions", json=body, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert 0 < out["moved"] < len(ids)
    codes = {t["grid"] for t in out["tallies"]}
    assert grid in codes and len(codes) >= 2
    geojson = {"type": "LineString", "coordinates": line}
    body["split"]["line"] = geojson
    assert client.post("/api/v1/grid-versions", json=body, headers=headers).status_code == 201
    # refused, each with its field named
    for split, field in (
        ({"grid": grid, "line": [[p[0] + 1.0, p[1]] for p in line]}, "split.line"),
        ({"grid": grid, "line": "POINT (1 2)"}, "split.line"),
        ({"grid": grid, "line": {"type": "Nonsense"}}, "split.line"),
        ({"grid": grid[:12] + "999", "line": wkt}, "split.grid"),
        ({"grid": grid}, "split"),
    ):
        resp = client.post("/api/v1/grid-versions", json=body | {"split": split}, headers=headers)
        assert resp.status_code == 422, (split, resp.get_json())
        assert field in resp.get_json()["fields"], resp.get_json()
    other = {"Authorization": f"Bearer {township}"}
    assert client.post("/api/v1/grid-versions", json=body, headers=other).status_code == 403


def test_the_outline_edges_are_the_saved_polygons_boundaries(county):
    """The page strokes a cell edge when its cells are in different grids: those edges add up
    to the boundaries between the grid polygons a save makes."""
    from wangge.services.planner_cells import grid_polygons, outline_payload

    _, store, community = county
    v1 = store.published_grid_version()
    cells = community_cells(store, community)
    grid_of = planner.current_assignment(store, v1, [], community)
    grid_of = grid_of.reindex(cells.building_id).to_numpy(dtype=object)
    out = outline_payload(cells)
    root = np.array(out["cell_root"])
    owner = np.where(root >= 0, grid_of[np.maximum(root, 0)], "")
    edges = np.array(out["cell_edges"]).reshape(-1, 2)
    stroked = owner[edges[:, 0]] != owner[edges[:, 1]]
    assert 0 < stroked.sum() < len(edges)
    lines = [
        shapely.LineString(np.array(p).reshape(-1, 2)[:, ::-1])
        for k in np.flatnonzero(stroked)
        for p in out["cell_paths"][k]
    ]
    drawn = shapely.union_all(lines)
    codes = sorted(set(grid_of))
    polygons = grid_polygons(cells, grid_of, codes)
    inner = shapely.union_all([shapely.boundary(polygons[c]) for c in codes]).difference(
        shapely.boundary(shapely.union_all(list(polygons.values()))).buffer(1e-7)
    )
    assert abs(drawn.length - inner.length) < 0.02 * inner.length
    assert drawn.buffer(1e-6).covers(inner.simplify(0))
