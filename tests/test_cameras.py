"""Tests for geo.analytics.cameras: OSM tags, sectors, occlusion, coverage and placement."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from geo.analytics.cameras import (
    CAMERA_DEFAULTS,
    camera_coverage,
    camera_from_tags,
    camera_sectors,
    cameras_from_osm,
    parse_direction,
    suggest_camera_sites,
    uncovered_streets,
)
from geo.errors import CRSError, GeoWarning, InputError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CHICAGO = DATA / "chicago_incidents_cameras.gpkg"
CRS = "EPSG:4547"
QUARTER = math.pi * 50**2 / 4


def _cams(**columns) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    return gpd.GeoDataFrame(columns, geometry=[Point(0, 0)] * n, index=range(100, 100 + n), crs=CRS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("180", [(180.0, None)]),
        ("180;160;170", [(180.0, None), (160.0, None), (170.0, None)]),
        ("NE", [(45.0, None)]),
        ("ssw", [(202.5, None)]),
        ("-90", [(270.0, None)]),
        ("360", [(0.0, None)]),
        (" 90 ; 45.5", [(90.0, None), (45.5, None)]),
        ("90-270", [(180.0, 180.0)]),
        ("350-10", [(0.0, 20.0)]),
        ("W-E", [(0.0, 180.0)]),
        (135, [(135.0, None)]),
        ([10, "N"], [(10.0, None), (0.0, None)]),
        (None, []),
        (float("nan"), []),
        ("", []),
    ],
)
def test_parse_direction(value, expected):
    assert parse_direction(value) == expected


def test_parse_direction_errors():
    with pytest.raises(InputError, match=r"direction 'up': 'up' is not a bearing in degrees"):
        parse_direction("up")
    with pytest.raises(InputError, match=r"direction '90-x': '90-x' is not a bearing"):
        parse_direction("90-x")
    with pytest.raises(InputError, match="expected text or a number, got dict"):
        parse_direction({"a": 1})


def test_camera_from_tags():
    info = camera_from_tags(json.dumps({"camera:type": "dome"}))
    assert info["bearings"] == [0.0] and info["fov_deg"] == [360.0]
    assert info["range_m"] == CAMERA_DEFAULTS["dome"]["range_m"]
    info = camera_from_tags({"camera:direction": "90-180", "direction": "0"})
    assert info["bearings"] == [135.0] and info["fov_deg"] == [90.0]
    info = camera_from_tags({"camera:type": "trailer", "direction": "S"})
    assert info["camera_type"] == "fixed" and info["type_tag"] == "trailer"
    assert camera_from_tags({})["bearings"] == []
    with pytest.raises(InputError, match="are not a JSON object"):
        camera_from_tags("{not json")
    with pytest.raises(InputError, match="tags must be a mapping or a JSON object, got list"):
        camera_from_tags([1])


def test_north_facing_sector_has_analytic_area_and_points_north():
    cams = _cams(direction=["0"], camera_type=["fixed"], fov=[90.0], range_m=[50.0])
    out = camera_sectors(cams)
    assert list(out.index) == [100]
    assert out["area_m2"].iloc[0] == pytest.approx(QUARTER, rel=1e-4)
    c = out.geometry.iloc[0].centroid
    # centroid of a circular sector: 2 r sin(a) / (3 a) from the apex, a the half-angle
    assert c.y == pytest.approx(2 * 50 * math.sin(math.pi / 4) / (3 * math.pi / 4), rel=1e-3)
    assert abs(c.x) < 1e-6
    assert out.crs == cams.crs


def test_wall_in_front_removes_shadow():
    cams = _cams(direction=["N"], camera_type=["fixed"])
    wall = gpd.GeoSeries([box(-100, 20, 100, 21)], crs=CRS)
    out = camera_sectors(cams, buildings=wall)
    # the view stops at y = 20: a right triangle of height 20 and base 40
    assert out["area_m2"].iloc[0] == pytest.approx(400, rel=1e-9)
    # a wall beyond the range changes nothing; a wall behind the camera neither
    far = gpd.GeoSeries([box(-100, 60, 100, 61), box(-100, -30, 100, -20)], crs=CRS)
    assert camera_sectors(cams, buildings=far)["area_m2"].iloc[0] == pytest.approx(
        QUARTER, rel=1e-4
    )
    # a block covering the right half of the view at 10-20 m shadows it beyond
    block = gpd.GeoSeries([box(1, 10, 30, 20)], crs=CRS)
    part = camera_sectors(cams, buildings=block)["area_m2"].iloc[0]
    assert QUARTER / 2 < part < QUARTER * 0.75


def test_building_carrying_the_camera_does_not_occlude():
    cams = _cams(direction=["N"], camera_type=["fixed"])
    host = gpd.GeoSeries([box(-5, -10, 5, 0.5)], crs=CRS)  # camera inside its wall
    out = camera_sectors(cams, buildings=host)
    assert out["area_m2"].iloc[0] == pytest.approx(QUARTER, rel=1e-4)


def test_several_sectors_dome_and_defaults():
    cams = _cams(direction=["180;90", None, "0-180"], camera_type=["fixed", "dome", None])
    out = camera_sectors(cams)
    assert list(out.index) == [100, 100, 101, 102]
    assert list(out["sector"]) == [0, 1, 0, 0]
    assert list(out["bearing"]) == [180.0, 90.0, 0.0, 90.0]
    assert list(out["fov"]) == [90.0, 90.0, 360.0, 180.0]
    dome = out.loc[101, "area_m2"]
    assert dome == pytest.approx(math.pi * 30**2, rel=1e-3)
    east = out[out["bearing"] == 90.0].geometry.iloc[0].centroid
    assert east.x > 20 and abs(east.y) < 1e-6


def test_fixed_camera_without_direction_is_warned():
    cams = _cams(direction=[None, "N"], camera_type=["fixed", "fixed"])
    with pytest.warns(GeoWarning, match=r"1 fixed cameras have no direction .*\[100\]"):
        out = camera_sectors(cams)
    assert list(out.index) == [101]


def test_unknown_type_is_warned_and_fixed():
    cams = _cams(direction=["N"], camera_type=["trailer"])
    with pytest.warns(GeoWarning, match=r"not fixed/panning/dome .*\[100\].*'trailer'"):
        out = camera_sectors(cams)
    assert out["fov"].iloc[0] == 90.0


def test_sector_errors():
    cams = _cams(direction=["up", "N"], fov=[400.0, 90.0], range_m=[50.0, -1.0])
    with pytest.raises(
        InputError,
        match=r"'fov' must be in \(0, 360\] degrees; rows \[100\]; column 'range_m' must "
        r"be positive metres; rows \[101\]; row 100: direction 'up'",
    ):
        camera_sectors(cams)
    with pytest.raises(CRSError, match="cameras is in a geographic CRS"):
        camera_sectors(_cams(direction=["N"]).to_crs(4326))
    with pytest.raises(InputError, match="step must be between 0 and 30 degrees"):
        camera_sectors(_cams(direction=["N"]), step=0)
    lines = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs=CRS)
    with pytest.raises(InputError, match=r"rows \[0\] are not points"):
        camera_sectors(lines)
    with pytest.raises(InputError, match="cameras have no column 'tags_json'"):
        cameras_from_osm(_cams(direction=["N"]))
    bad = _cams(tags_json=['{"direction": "up"}', "{}"])
    with pytest.raises(InputError, match=r"1 cameras have unusable tags .*row 100: direction 'up'"):
        cameras_from_osm(bad)


@pytest.fixture
def block() -> tuple[gpd.GeoDataFrame, gpd.GeoSeries, gpd.GeoSeries, gpd.GeoDataFrame]:
    grids = gpd.GeoDataFrame({"grid_code": ["A"]}, geometry=[box(0, 0, 100, 100)], crs=CRS)
    streets = gpd.GeoSeries([LineString([(0, 50), (100, 50)])], crs=CRS)
    buildings = gpd.GeoSeries([box(0, 0, 10, 10)], crs=CRS)
    dome = gpd.GeoDataFrame({"camera_type": ["dome"]}, geometry=[Point(50, 50)], crs=CRS)
    return grids, streets, buildings, camera_sectors(dome)


def test_coverage_of_streets_and_open_area(block):
    grids, streets, buildings, view = block
    out = camera_coverage(grids, view, streets=streets, buildings=buildings)
    row = out.iloc[0]
    assert row["street_m"] == pytest.approx(100)
    assert row["street_covered_m"] == pytest.approx(60)
    assert row["street_share"] == pytest.approx(0.6)
    assert row["open_m2"] == pytest.approx(9900)
    assert row["open_covered_m2"] == pytest.approx(math.pi * 900, rel=1e-3)
    assert list(out.index) == list(grids.index)
    with pytest.raises(InputError, match="grids: no column 'code'"):
        camera_coverage(grids, view, grid="code")
    with pytest.raises(CRSError, match="grids is in a geographic CRS"):
        camera_coverage(grids.to_crs(4326), view)


def test_uncovered_streets_ranked_by_length_or_cases(block):
    _, streets, _, view = block
    out = uncovered_streets(streets, view)
    assert list(out["length_m"]) == pytest.approx([20, 20])
    cases = gpd.GeoSeries([Point(95, 55)] * 3, crs=CRS)
    ranked = uncovered_streets(streets, view, cases=cases)
    assert ranked["cases"].tolist() == [3, 0]
    assert ranked.geometry.iloc[0].bounds[0] == pytest.approx(80)
    assert ranked["rank"].tolist() == [1, 2]


def test_greedy_placement_covers_uncovered_demand(block):
    _, _, _, view = block
    street = gpd.GeoSeries([LineString([(0, 50), (300, 50)])], crs=CRS)
    out = suggest_camera_sites(street, existing=view, n_sites=3)
    assert len(out) == 3
    assert (out.geometry.x > 80).all()  # not under the existing camera
    assert out["gain_m"].iloc[0] == pytest.approx(60)
    assert out["covered_share"].is_monotonic_increasing
    cases = gpd.GeoSeries([Point(290, 55)] * 5, crs=CRS)
    first = suggest_camera_sites(street, existing=view, n_sites=1, cases=cases)
    assert first.geometry.x.iloc[0] > 240
    with pytest.raises(InputError, match="camera_type must be 'dome' or 'panning'"):
        suggest_camera_sites(street, camera_type="fixed")
    with pytest.raises(InputError, match="n_sites must be a positive integer, got 0"):
        suggest_camera_sites(street, n_sites=0)


@pytest.mark.shared_data
def test_chicago_alpr_cameras_with_real_directions():
    if not CHICAGO.exists():
        pytest.skip(f"shared data folder absent: {CHICAGO} (only in the project workspace and CI)")
    raw = gpd.read_file(CHICAGO, layer="alpr_cameras_illinois_osm")
    cams = cameras_from_osm(raw.to_crs(raw.estimate_utm_crs()))
    assert (cams["type_tag"] == "trailer").sum() == 1
    no_direction = cams["direction"].isna()
    with pytest.warns(
        GeoWarning, match=f"{int(no_direction.sum())} fixed cameras have no direction"
    ):
        sectors = camera_sectors(cams)
    assert sectors.index.nunique() == len(cams) - no_direction.sum()
    three = cams.index[cams["direction"] == "180;160;170"]
    assert len(three) == 1
    assert sorted(sectors.loc[three, "bearing"]) == [160.0, 170.0, 180.0]
    # each sector points its way: centroid bearing from the camera equals its bearing
    xy = cams.geometry.loc[sectors.index]
    c = sectors.geometry.centroid
    angle = np.degrees(np.arctan2(c.x - xy.x.to_numpy(), c.y - xy.y.to_numpy())) % 360
    diff = (angle - sectors["bearing"].to_numpy() + 180) % 360 - 180
    assert np.abs(diff).max() < 0.01
    east = sectors[sectors["bearing"] == 90.0]
    assert (east.geometry.centroid.x > cams.geometry.loc[east.index].x.to_numpy()).all()


def test_non_polygon_buildings_are_warned():
    cams = _cams(direction=["N"], camera_type=["fixed"])
    things = gpd.GeoSeries([box(-100, 20, 100, 21), Point(0, 10)], index=[7, 8], crs=CRS)
    with pytest.warns(GeoWarning, match=r"1 features are not polygons .*\[8\].*'Point'"):
        out = camera_sectors(cams, buildings=things)
    assert out["area_m2"].iloc[0] == pytest.approx(400)
    with pytest.raises(InputError, match="buildings have no CRS"):
        camera_sectors(cams, buildings=gpd.GeoSeries([box(0, 0, 1, 1)]))


SHANGHAI = DATA / "china_osm_tiles_shanghai_wuhan.gpkg"


@pytest.mark.shared_data
def test_shanghai_real_footprints_occlude():
    if not SHANGHAI.exists():
        pytest.skip(f"shared data folder absent: {SHANGHAI} (only in the project workspace and CI)")
    from geo.crs import metric_crs

    buildings = gpd.read_file(SHANGHAI, layer="shanghai_buildings")
    roads = gpd.read_file(SHANGHAI, layer="shanghai_roads")
    crs = metric_crs(buildings)
    buildings, roads = buildings.to_crs(crs), roads.to_crs(crs)
    sites = roads.geometry.sample(60, random_state=1).interpolate(0.5, normalized=True)
    bearings = np.random.default_rng(1).integers(0, 360, 30).astype(str)
    cams = gpd.GeoDataFrame(
        {"camera_type": ["dome"] * 30 + ["fixed"] * 30, "direction": [None] * 30 + list(bearings)},
        geometry=sites.to_numpy(),
        crs=crs,
    )
    open_view = camera_sectors(cams)
    n_points = int((buildings.geom_type == "Point").sum())
    with pytest.warns(GeoWarning, match=f"{n_points} features are not polygons"):
        seen = camera_sectors(cams, buildings=buildings)
    assert seen.geometry.is_valid.all()
    assert (seen["area_m2"] <= open_view["area_m2"] + 1e-6).all()
    assert (seen["area_m2"] < 0.99 * open_view["area_m2"]).mean() > 0.3
    # the rays stop at the walls: views overlap building interiors by under 1 %
    inside = seen.intersection(buildings[buildings.geom_type == "Polygon"].union_all()).area
    assert (inside / seen["area_m2"]).max() < 0.01


def test_overlays_of_mixed_collections_from_the_demo_county():
    import shapely

    from geo.analytics.cameras import _keep_dim, _overlay

    fixture = Path(__file__).parent / "fixtures" / "cameras" / "mixed_overlay.geojson"
    piece, covered = gpd.read_file(fixture).geometry.to_numpy()
    assert piece.geom_type == "GeometryCollection"
    with pytest.raises(shapely.errors.GEOSException):
        shapely.intersection(piece, covered)  # what broke the drill-down page
    lines = _keep_dim(np.array([piece]), 1)
    inside = _overlay(shapely.intersection, lines, np.array([covered]))
    # a line (here empty: this piece lies outside the view), no longer a refused collection
    assert inside[0].geom_type in ("LineString", "MultiLineString")
    assert shapely.length(inside[0]) <= shapely.length(piece) + 1e-6
