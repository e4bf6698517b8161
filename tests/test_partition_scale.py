"""The grid engine at size: large areas cut into pieces, parallel and Dask runs, streets.

A town given as one area of about 36 grids is cut into pieces (``geo.partition.pieces``)
solved in separate jobs; the output must not depend on the number of workers or on running
the jobs on a Dask cluster, and the pieces must tile the area with whole grids each.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.partition import partition
from geo.partition.pieces import split_community
from geo.partition.tessellation import barrier_lines

CRS = 32650
LO, HI = 300, 500


def _town(nx: int = 40, ny: int = 30, households: int = 12) -> dict[str, gpd.GeoDataFrame]:
    """``nx`` x ``ny`` houses of ``households`` each, streets between every 6 x 5 of them."""
    fp = [
        shapely.box(x * 25, y * 25, x * 25 + 14, y * 25 + 14) for x in range(nx) for y in range(ny)
    ]
    buildings = gpd.GeoDataFrame({"households": [households] * len(fp)}, geometry=fp, crs=CRS)
    w, h = nx * 25, ny * 25
    roads = [
        shapely.LineString([(x * 150 - 5.5, -40), (x * 150 - 5.5, h + 40)])
        for x in range(1, nx // 6 + 1)
    ]
    roads += [
        shapely.LineString([(-40, y * 125 - 5.5), (w + 40, y * 125 - 5.5)])
        for y in range(1, ny // 5 + 1)
    ]
    streets = gpd.GeoDataFrame({"highway": ["residential"] * len(roads)}, geometry=roads, crs=CRS)
    return {"buildings": buildings, "roads": streets}


def _run(town, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return partition(
            town["buildings"], barriers=[town["roads"]], households_column="households", **kw
        )


@pytest.fixture(scope="module")
def town():
    return _town()


@pytest.fixture(scope="module")
def one_worker(town):
    return _run(town, workers=1)


@pytest.mark.parametrize("streets", [True, False])
def test_a_large_area_is_cut_into_connected_pieces_of_whole_grids(town, streets):
    b = town["buildings"]
    area = shapely.box(-30, -30, 40 * 25 + 30, 30 * 25 + 30)
    lines = barrier_lines(town["roads"] if streets else None)
    hh = b["households"].to_numpy(float)
    polys, piece = split_community(area, b.geometry.to_numpy(), hh, lines, lo=LO, hi=HI)
    assert len(polys) >= 2
    # the pieces tile the area: no gap, no overlap
    assert shapely.area(polys).sum() == pytest.approx(area.area, abs=1e-3)
    assert shapely.area(shapely.union_all(polys)) == pytest.approx(area.area, abs=1e-3)
    # each piece one polygon, holding its buildings whole and a whole number of grids
    assert (shapely.get_type_id(polys) == 3).all()
    for p, poly in enumerate(polys):
        mine = b.geometry.to_numpy()[piece == p]
        assert shapely.covered_by(mine, poly).all()
        total = hh[piece == p].sum()
        assert np.ceil(total / HI) <= np.floor(total / LO), total
    # piece lines run along the streets, or through the gaps between houses: none is cut
    edges = shapely.union_all(shapely.boundary(polys))
    inner = shapely.difference(edges, shapely.boundary(area).buffer(1))
    assert not shapely.intersects(b.geometry.to_numpy(), inner).any()
    if streets:
        assert not shapely.dwithin(b.geometry.to_numpy(), inner, 2.0).any()


def test_a_small_area_stays_whole(town):
    b = town["buildings"].iloc[:300]
    polys, piece = split_community(
        shapely.box(-30, -30, 1030, 780),
        b.geometry.to_numpy(),
        b["households"].to_numpy(float),
        barrier_lines(town["roads"]),
        lo=LO,
        hi=HI,
    )
    assert len(polys) == 1 and (piece == 0).all()


def test_one_area_in_pieces_keeps_grids_in_band_and_whole(one_worker):
    g = one_worker.grids
    assert len(g) >= 30
    assert one_worker.report["pieces"]["communities_cut"] == 1
    assert one_worker.report["pieces"]["pieces"] >= 2
    assert (g["flags"] == "").all(), g["flags"].value_counts()
    assert g["households"].between(LO, HI).all()
    assert (shapely.get_type_id(g.geometry.to_numpy()) == 3).all()  # no grid in pieces
    assert one_worker.buildings["grid_code"].notna().all()
    assert g["grid_code"].is_unique


def test_pieces_give_the_same_grids_on_any_number_of_workers(town, one_worker):
    two = _run(town, workers=2)
    assert_geodataframe_equal(one_worker.grids, two.grids)
    assert_geodataframe_equal(one_worker.buildings, two.buildings)


def test_jobs_on_a_dask_cluster_give_byte_identical_grids(town, one_worker):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = _run(town, dask=client)
    assert_geodataframe_equal(one_worker.grids, on_dask.grids)
    assert_geodataframe_equal(one_worker.buildings, on_dask.buildings)
    wkb = one_worker.grids.geometry.to_wkb().to_numpy()
    assert (wkb == on_dask.grids.geometry.to_wkb().to_numpy()).all()


# ------------------------------------------------------------------ streets are not walls


def _campus_town(exclave: bool = False) -> dict:
    """A community: 16 houses of 50 households in the west, a school campus (a dedicated
    grid) across its middle, and one 36-household building east of the campus, cut off
    from the houses; with ``exclave``, a detached part farther east holds another one."""
    rows = [
        {"households": 50, "special": "", "geometry": shapely.box(x, y, x + 12, y + 12)}
        for x in range(10, 190, 45)
        for y in range(10, 190, 45)
    ]
    rows += [
        {"households": 0, "special": "school", "geometry": shapely.box(x, y, x + 30, y + 30)}
        for x in (205,)
        for y in range(5, 200, 40)
    ]
    rows.append({"households": 36, "special": "", "geometry": shapely.box(265, 90, 285, 110)})
    area = shapely.box(0, 0, 300, 200)
    if exclave:
        rows.append({"households": 36, "special": "", "geometry": shapely.box(420, 90, 440, 110)})
        area = shapely.MultiPolygon([area, shapely.box(400, 50, 460, 150)])
    buildings = gpd.GeoDataFrame(rows, crs=CRS)
    communities = gpd.GeoDataFrame({"code": ["420999009001"]}, geometry=[area], crs=CRS)
    # streets on both sides of the campus
    roads = gpd.GeoDataFrame(
        {"highway": ["residential", "residential"]},
        geometry=[
            shapely.LineString([(200, -10), (200, 210)]),
            shapely.LineString([(250, -10), (250, 210)]),
        ],
        crs=CRS,
    )
    return {"buildings": buildings, "communities": communities, "roads": roads}


def _campus(exclave: bool = False):
    town = _campus_town(exclave)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return partition(
            town["buildings"],
            communities=town["communities"],
            community_id="code",
            barriers=[town["roads"]],
            households_column="households",
        )


def test_a_building_cut_off_inside_a_one_part_community_joins_a_neighbour():
    r = _campus()
    g = r.grids
    assert not g["flags"].str.contains("undersize-piece").any(), g[["households", "flags"]]
    # the cut-off building went across the street into the campus grid, its only neighbour
    b = r.buildings
    cut_off = b.loc[b["households"] == 36, "grid_code"].iloc[0]
    campus = b.loc[b.index[16], "grid_code"]
    assert cut_off == campus
    assert g.set_index("grid_code").loc[campus, "households"] == 36
    # the houses keep their two in-band grids
    houses = g[g["kind"] == "urban"]
    assert sorted(houses["households"]) == [400, 400]
    assert (shapely.get_type_id(g.geometry.to_numpy()) == 3).all()


def test_a_detached_part_of_the_community_stays_alone_as_an_exclave():
    r = _campus(exclave=True)
    g = r.grids
    assert g["flags"].tolist().count("exclave") == 1
    exclave = g[g["flags"] == "exclave"].iloc[0]
    assert exclave["households"] == 36 and exclave["buildings"] == 1
    assert not g["flags"].str.contains("undersize-piece").any()
