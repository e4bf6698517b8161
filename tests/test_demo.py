"""Tests for :mod:`wangge.demo.county`, the synthetic demo county (built once per module)."""

from __future__ import annotations

import filecmp

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from wangge.demo.county import DEMO_CRS, ROAD_WIDTHS_M, build_demo_county

pytestmark = pytest.mark.slow

COLUMNS = {
    "county": ["code", "name", "source"],
    "townships": ["code", "name", "kind", "county_code"],
    "communities": ["code", "name", "township_code", "kind"],
    "hamlets": ["hamlet_id", "name", "community_code"],
    "buildings": [
        "building_id",
        "community_code",
        "kind",
        "floors",
        "height_m",
        "households",
        "special",
        "compound_id",
        "hamlet_id",
        "name",
    ],
    "roads": ["road_id", "name", "road_class"],
    "water": ["name", "kind"],
    "railways": ["name"],
    "pois": ["name", "kind", "community_code"],
}
RESIDENTIAL = {"walkup", "tower", "house", "shophouse", "rural_house"}
KINDS = RESIDENTIAL | {
    "outbuilding",
    "school",
    "hospital",
    "market",
    "government",
    "commercial",
    "industrial",
    "warehouse",
    "station",
    "pavilion",
}


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory):
    return build_demo_county(tmp_path_factory.mktemp("demo"), progress=False)["gpkg"]


@pytest.fixture(scope="module")
def layers(gpkg):
    """All layers, projected back to the metric CRS the county was generated in."""
    return {name: gpd.read_file(gpkg, layer=name).to_crs(DEMO_CRS) for name in COLUMNS}


def test_same_seed_gives_byte_identical_file(gpkg, tmp_path):
    again = build_demo_county(tmp_path / "again", progress=False)["gpkg"]
    assert again.name == "demo_county.gpkg"
    assert filecmp.cmp(gpkg, again, shallow=False)


def test_layers_columns_and_crs(gpkg):
    listed = dict(pyogrio.list_layers(gpkg))
    assert set(listed) == set(COLUMNS)
    for name, cols in COLUMNS.items():
        df = gpd.read_file(gpkg, layer=name)
        assert list(df.columns) == [*cols, "geometry"], name
        assert df.crs.to_epsg() == 4326
        assert len(df) > 0, name
    assert listed["buildings"] == "Polygon"
    assert listed["communities"] == "Polygon"
    assert listed["roads"] == "LineString"
    assert listed["pois"] == "Point"
    meta = pyogrio.read_info(gpkg, layer="buildings")["layer_metadata"]
    assert "synthetic" in meta["source"] and "虚构示范数据" in meta["source"]


def test_geometries_valid_and_not_empty(layers):
    for name, df in layers.items():
        assert shapely.is_valid(df.geometry.values).all(), name
        assert not df.geometry.is_empty.any(), name


def test_totals_in_range(layers):
    b = layers["buildings"]
    assert 20_000 <= len(b) <= 40_000
    assert 50_000 <= b["households"].sum() <= 90_000
    assert b["building_id"].is_unique
    assert b["building_id"].str.fullmatch(r"B\d{6}").all()


def test_codes_and_hierarchy(layers):
    county, twp, com = layers["county"], layers["townships"], layers["communities"]
    for df in (county, twp, com):
        assert df["code"].str.fullmatch(r"\d{12}").all()
        assert df["code"].is_unique
    cc = county["code"].iloc[0]
    assert cc.endswith("000000") and county["name"].iloc[0] == "示范县"
    assert (twp["county_code"] == cc).all()
    assert twp["code"].str.startswith(cc[:6]).all() and twp["code"].str.endswith("000").all()
    assert set(twp["kind"]) == {"subdistrict", "town", "township"}
    assert com["township_code"].isin(twp["code"]).all()
    assert (com["code"].str[:9] == com["township_code"].str[:9]).all()
    kinds = com.merge(twp, left_on="township_code", right_on="code", suffixes=("", "_t"))
    assert ((kinds["kind"] == "urban") == (kinds["kind_t"] == "subdistrict")).all()
    urban_per_sd = com[com["kind"] == "urban"].groupby("township_code").size()
    assert len(urban_per_sd) == 2 and urban_per_sd.between(8, 12).all()
    for layer in ("buildings", "hamlets", "pois"):
        assert layers[layer]["community_code"].isin(com["code"]).all(), layer
    rural = set(com.loc[com["kind"] == "rural", "code"])
    assert layers["hamlets"]["community_code"].isin(rural).all()
    b = layers["buildings"]
    in_hamlet = b["hamlet_id"] != ""
    assert b.loc[in_hamlet, "hamlet_id"].isin(layers["hamlets"]["hamlet_id"]).all()
    assert b.loc[in_hamlet, "community_code"].isin(rural).all()


def _assert_tiles(parts: gpd.GeoSeries, whole, tol=1.0):
    """``parts`` cover ``whole`` without gaps or overlaps (areas in m2, within ``tol``)."""
    assert abs(parts.area.sum() - whole.area) < tol
    assert abs(shapely.union_all(parts.values).area - whole.area) < tol
    assert shapely.union_all(parts.values).symmetric_difference(whole).area < tol


def test_communities_tile_townships_and_townships_tile_county(layers):
    twp, com = layers["townships"], layers["communities"]
    for _, t in twp.iterrows():
        _assert_tiles(com.geometry[com["township_code"] == t["code"]], t.geometry)
    _assert_tiles(twp.geometry, layers["county"].geometry.iloc[0])


def test_buildings_do_not_overlap(layers):
    g = layers["buildings"].geometry.values
    i, j = shapely.STRtree(g).query(g, predicate="intersects")
    m = i < j
    assert shapely.area(shapely.intersection(g[i[m]], g[j[m]])).sum() < 0.1


def test_each_building_inside_its_own_community(layers):
    b, com = layers["buildings"], layers["communities"]
    own = com.set_index("code").geometry.reindex(b["community_code"]).values
    assert shapely.within(b.geometry.values, shapely.buffer(own, 0.01)).all()
    rep = shapely.point_on_surface(b.geometry.values)
    hits = shapely.STRtree(com.geometry.values).query(rep, predicate="intersects")[0]
    assert (np.bincount(hits, minlength=len(b)) == 1).all()


def test_buildings_clear_of_water_rail_and_carriageways(layers):
    g = layers["buildings"].geometry.values
    tree = shapely.STRtree(g)
    assert len(tree.query(layers["water"].geometry.values, predicate="intersects")[1]) == 0
    roads = layers["roads"]
    carriageway = shapely.buffer(roads.geometry.values, roads["road_class"].map(ROAD_WIDTHS_M) / 2)
    assert len(tree.query(carriageway, predicate="intersects")[1]) == 0
    rail = shapely.buffer(layers["railways"].geometry.values, 5)
    assert len(tree.query(rail, predicate="intersects")[1]) == 0


def test_household_rules(layers):
    b = layers["buildings"]
    w = b[b["kind"] == "walkup"]
    stairs = w["households"] / (2 * w["floors"])
    assert (w["households"] % (2 * w["floors"]) == 0).all() and stairs.between(1, 4).all()
    t = b[b["kind"] == "tower"]
    assert (t["households"] % t["floors"] == 0).all() and t["floors"].between(18, 33).all()
    assert set(t["households"] // t["floors"]) <= {4, 6, 8, 16}
    assert (b.loc[b["kind"] == "rural_house", "households"] == 1).all()
    assert b.loc[b["kind"].isin(["house", "shophouse"]), "households"].isin([1, 2]).all()
    assert (b.loc[~b["kind"].isin(RESIDENTIAL), "households"] == 0).all()
    assert (b.loc[b["special"] != "", "households"] == 0).all()
    assert (b["floors"] >= 1).all() and (b["height_m"] > 2).all()
    assert set(b["kind"]) <= KINDS


def test_cases_the_grid_engine_must_handle(layers):
    b, com = layers["buildings"], layers["communities"]
    per = b.groupby("community_code")["households"].sum().reindex(com["code"], fill_value=0)
    urban = per[com.set_index("code")["kind"] == "urban"]
    assert ((urban > 0) & (urban < 300)).sum() >= 2
    assert urban.between(500, 600).any()
    assert (b.loc[b["kind"] == "tower", "households"] > 500).any()
    compounds = b[b["compound_id"] != ""].groupby("compound_id")["households"].sum()
    assert (compounds > 1000).any()
    assert {"school", "hospital", "market", "industrial", "government", "park"} <= set(b["special"])
    rural = com.loc[com["kind"] == "rural", "code"]
    assert rural.isin(layers["hamlets"]["community_code"]).all()
    houses = b[b["hamlet_id"] != ""].query("kind == 'rural_house'").groupby("hamlet_id").size()
    assert houses.between(15, 150).all()
    assert set(layers["roads"]["road_class"]) == set(ROAD_WIDTHS_M)
    assert "river" in set(layers["water"]["kind"])


def _blocks(layers, kind: str):
    """Street blocks of the ``kind`` communities (cut by roads, water, railways and community
    edges, as the grid engine cuts them) and each residential building's block."""
    com = layers["communities"][layers["communities"]["kind"] == kind]
    lines = np.r_[
        layers["roads"].geometry.values,
        layers["railways"].geometry.values,
        shapely.boundary(layers["water"].geometry.values),
        shapely.boundary(com.geometry.values),
    ]
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(lines))))
    area = shapely.union_all(com.geometry.values)
    faces = faces[shapely.contains(area, shapely.point_on_surface(faces))]
    b = layers["buildings"]
    b = b[b["community_code"].isin(com["code"]) & (b["households"] > 0)]
    bi, fi = shapely.STRtree(faces).query(
        shapely.point_on_surface(b.geometry.values), predicate="within"
    )
    return b.iloc[bi], fi


def test_large_compounds_have_estate_roads_splitting_them_into_courts(layers):
    b, roads = layers["buildings"], layers["roads"]
    service = roads.geometry.values[(roads["road_class"] == "service").to_numpy()]
    assert len(service) > 50
    c = b[b["compound_id"] != ""]
    hulls = c.dissolve("compound_id").convex_hull
    big = hulls[hulls.area > 20_000]  # over 2 ha
    assert len(big) >= 20
    crossed = shapely.STRtree(service).query(big.buffer(-10).values, predicate="intersects")[0]
    assert set(crossed) == set(range(len(big)))
    # the grid engine has streets to follow: few urban households live in street blocks of
    # more than 500 households (75% did before compounds had estate roads)
    homes, block = _blocks(layers, "urban")
    per_block = np.bincount(block, weights=homes["households"].to_numpy())
    assert per_block[per_block > 500].sum() / per_block.sum() < 0.25


def test_rural_communities_have_farm_tracks_clear_of_houses(layers):
    roads, com = layers["roads"], layers["communities"]
    tracks = roads[roads["road_class"] == "track"]
    rural = com[com["kind"] == "rural"]
    per_km2 = [tracks.geometry.intersection(g).length.sum() / g.area * 1e6 for g in rural.geometry]
    assert min(per_km2) > 3_000 and max(per_km2) < 9_000  # m of track per km2: every 280-380 m
    town = com[com["kind"] == "urban"].union_all()
    assert tracks.geometry.intersection(town).length.sum() < 1.0
    houses = layers["buildings"]
    houses = houses[houses["hamlet_id"] != ""].geometry.values
    gap = shapely.STRtree(houses).query_nearest(tracks.geometry.values, return_distance=True)[1]
    assert gap.min() > 5.0
    # most hamlets have a block of their own: tracks run between neighbouring hamlets
    homes, block = _blocks(layers, "rural")
    hamlets_per_block = homes.groupby(block)["hamlet_id"].nunique()
    assert (hamlets_per_block > 1).mean() < 0.1


def test_no_grid_of_the_demo_county_is_a_piece_cut_off_by_streets(layers):
    """420999002001: three 36-household buildings cut off from each other by a campus were
    three ``undersize-piece`` grids; they join the neighbouring grid (issue 15)."""
    import warnings

    from geo.partition import partition

    com = layers["communities"]
    com = com[com["code"] == "420999002001"]
    b = layers["buildings"]
    b = b[b["community_code"] == "420999002001"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = partition(
            b,
            communities=com,
            community_id="code",
            barriers=[layers["roads"], layers["water"], layers["railways"]],
            households_column="households",
        )
    assert not r.grids["flags"].str.contains("undersize-piece").any()
    assert r.grids["households"].sum() == b["households"].sum()
