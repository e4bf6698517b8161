"""Blocks, cells and adjacency: exact tiling, footprints inside their cells, barrier classes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, box

from geo.tessellation import barrier_lines, build_blocks, tessellate

CRS = "EPSG:32650"


def _setup():
    rng = np.random.default_rng(3)
    xy = rng.uniform(10, 390, size=(150, 2))
    fp = [box(x - 6, y - 4, x + 6, y + 4) for x, y in xy]  # some overlap, some cross the street
    comm = gpd.GeoSeries([box(0, 0, 400, 400)], crs=CRS)
    roads = gpd.GeoDataFrame(
        {"highway": ["primary", "footway"]},
        geometry=[LineString([(200, -10), (200, 410)]), LineString([(0, 100), (400, 100)])],
        crs=CRS,
    )
    return gpd.GeoSeries(fp, crs=CRS), comm, roads


def test_barrier_classes_and_non_barriers():
    _, _, roads = _setup()
    water = gpd.GeoDataFrame({"kind": ["water"]}, geometry=[box(0, 0, 5, 5)], crs=CRS)
    lines = barrier_lines(roads)
    assert lines["barrier_class"].tolist() == ["primary"]  # the footway does not cut blocks
    assert lines["weight"].tolist() == [8.0]
    w = barrier_lines(water)
    assert w.geom_type.tolist() == ["LineString"] and w["weight"].tolist() == [9.0]


def test_blocks_cut_by_street():
    _, comm, roads = _setup()
    blocks = build_blocks(comm, barrier_lines(roads))
    assert len(blocks) == 2
    assert abs(blocks.area.sum() - 160_000) < 1e-6


def test_cells_tile_blocks_and_hold_their_footprints():
    fp, comm, roads = _setup()
    lines = barrier_lines(roads)
    t = tessellate(comm, fp, np.zeros(len(fp), dtype=np.int64), lines)
    cells = t.cells.geometry.to_numpy()
    assert t.area_error_m2 < 1e-3
    assert abs(shapely.area(cells).sum() - 160_000) < 1e-3
    assert abs(shapely.union_all(cells).area - 160_000) < 1e-3  # no overlaps
    assert (t.building_cell >= 0).all()
    # every footprint lies in its own cell, except where the street cuts it
    own = cells[t.building_cell]
    share = shapely.area(shapely.intersection(fp.to_numpy(), own)) / shapely.area(fp.to_numpy())
    crosses = shapely.intersects(fp.to_numpy(), lines.geometry.iloc[0])
    a, _ = shapely.STRtree(fp.to_numpy()).query(fp.to_numpy(), predicate="overlaps")
    overlapping = np.isin(np.arange(len(fp)), a)  # small overlaps are cut off one footprint
    assert (share[~crosses & ~overlapping] > 0.999).all()
    assert (share[~crosses] > 0.99).all()
    merged = np.isin(np.arange(len(fp)), [i for g in t.merged_units for i in g])
    assert share[crosses & ~merged].min() >= 0.5  # the block holding most of it
    # overlapping footprints share one cell
    assert t.merged_units and all(len(set(t.building_cell[g])) == 1 for g in t.merged_units)


def test_adjacency_lengths_and_barrier_weights():
    fp, comm, roads = _setup()
    t = tessellate(comm, fp, np.zeros(len(fp), dtype=np.int64), barrier_lines(roads))
    e = t.edges
    assert (e["i"] < e["j"]).all() and not e.duplicated(["i", "j"]).any()
    block = t.cells["block"].to_numpy()
    across = block[e["i"]] != block[e["j"]]
    assert across.any() and (e.loc[across, "weight"] == 8.0).all()
    assert (e.loc[~across, "weight"] == 1.0).all()
    # the street is 400 m long: the edges across it add up to it
    assert abs(e.loc[across, "length"].sum() - 400) < 1.0
    # shared lengths match the geometry
    cells = t.cells.geometry.to_numpy()
    sample = e.iloc[:20]
    geo_len = shapely.length(
        shapely.intersection(
            shapely.boundary(cells[sample["i"]]), shapely.boundary(cells[sample["j"]])
        )
    )
    assert np.allclose(geo_len, sample["length"], atol=0.01)


def test_street_along_the_community_edge_leaves_no_spike():
    # an arterial along the west edge crosses it at a hair's angle (rounding after a CRS
    # round trip) and a side street starts between the two: the sliver between edge and
    # arterial, merged into one block, must not leave a zero-width spike along the other,
    # which made cells on either side look adjacent and a grid come out in two pieces
    comm = gpd.GeoSeries([box(0, 0, 400, 400)], crs=CRS)
    roads = gpd.GeoDataFrame(
        {"highway": ["primary", "residential"]},
        geometry=[
            LineString([(-1e-7, -10), (1e-7, 410)]),
            LineString([(1e-9, 300), (410, 300)]),
        ],
        crs=CRS,
    )
    blocks = build_blocks(comm, barrier_lines(roads)).geometry.to_numpy()
    big = blocks[shapely.area(blocks) > 1]
    assert len(big) == 2
    assert abs(shapely.area(blocks).sum() - 160_000) < 1e-3
    shared = shapely.intersection(shapely.boundary(big[0]), shapely.boundary(big[1]))
    assert abs(shapely.length(shared) - 400) < 1e-3  # only the side street


def test_weak_barriers_are_streets_paths_and_driveways_are_not():
    # compound roads, alleys, pedestrian streets and farm tracks are streets, weaker than a
    # residential street; footways, paths, steps and OSM service=driveway/parking_aisle are not
    classes = ["residential", "service", "service", "service", "alley", "pedestrian", "track"]
    classes += ["footway", "path", "cycleway", "steps", "service"]
    service = [None, None, "alley", "driveway", None, None, None, None, None, None, None]
    service += ["parking_aisle"]
    roads = gpd.GeoDataFrame(
        {"highway": classes, "service": service},
        geometry=[LineString([(0, i), (10, i)]) for i in range(len(classes))],
        crs=CRS,
    )
    lines = barrier_lines(roads)
    assert lines["barrier_class"].tolist() == [
        "residential", "service", "service", "alley", "pedestrian", "track"
    ]  # fmt: skip
    assert lines["weight"].tolist()[0] == 3.0
    assert set(lines["weight"].tolist()[1:]) == {1.5}
    ditch = gpd.GeoDataFrame(
        {"waterway": ["ditch", "drain", "canal"]},
        geometry=[LineString([(0, i), (10, i)]) for i in range(3)],
        crs=CRS,
    )
    assert barrier_lines(ditch)["weight"].tolist() == [2.0, 2.0, 8.0]


def test_dead_end_service_roads_cut_no_block():
    # a through service road cuts the block in two; dead ends (a driveway, a compound road
    # ending among the buildings) cut nothing and leave no sliver
    comm = gpd.GeoSeries([box(0, 0, 400, 200)], crs=CRS)
    roads = gpd.GeoDataFrame(
        {"highway": ["service", "service", "service", "service"]},
        geometry=[
            LineString([(200, -5), (200, 205)]),  # through
            LineString([(0, 100), (120, 100)]),  # dead end from the edge
            LineString([(200, 50), (260, 50), (260, 80)]),  # dead end from the through road
            LineString([(300, 150), (330, 150)]),  # loose piece
        ],
        crs=CRS,
    )
    blocks = build_blocks(comm, barrier_lines(roads))
    assert len(blocks) == 2
    assert np.allclose(sorted(blocks.area), [40_000, 40_000])
