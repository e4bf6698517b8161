"""Tests for geo.analytics.hexes: H3 indexing, counts and cell polygons."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from geo.analytics.hexes import h3_cell_polygons, h3_cells, h3_counts, h3_index
from geo.errors import CRSError, GeoWarning, InputError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CHICAGO = DATA / "chicago_incidents_cameras.gpkg"


@pytest.fixture
def points() -> gpd.GeoDataFrame:
    # three points at one spot in Beijing, one 5 km east
    geoms = [Point(116.397, 39.909)] * 3 + [Point(116.456, 39.909)]
    return gpd.GeoDataFrame(
        {"category": ["a", "b", "a", "a"]}, geometry=geoms, index=[10, 11, 12, 13], crs=4326
    )


def test_h3_index_matches_h3_and_keeps_index(points):
    cells = h3_index(points, resolution=9)
    assert list(cells.index) == [10, 11, 12, 13]
    assert cells.iloc[0] == h3.latlng_to_cell(39.909, 116.397, 9)


def test_h3_index_reprojects_from_metric_crs(points):
    projected = points.to_crs(32650)
    assert h3_index(projected, resolution=10).equals(h3_index(points, resolution=10))


def test_h3_counts_and_polygons(points):
    counts = h3_counts(points, resolution=8)
    assert counts.crs.equals("EPSG:4326")
    assert counts.index.name == "h3_cell"
    assert sorted(counts["count"]) == [1, 3]
    # each polygon is the cell's own boundary and contains its points
    for cell, row in counts.iterrows():
        lat, lon = h3.cell_to_latlng(cell)
        assert row.geometry.contains(Point(lon, lat))
    assert counts.geometry.contains(points.geometry.iloc[0]).sum() == 1


def test_h3_counts_by_group_is_a_complete_cube(points):
    cube = h3_counts(points, resolution=8, by="category")
    assert cube.index.names == ["h3_cell", "category"]
    assert len(cube) == 4  # 2 cells x 2 categories, zeros included
    assert cube["count"].sum() == 4
    assert (cube["count"] == 0).sum() == 1


def test_h3_counts_warns_about_empty_groups(points):
    pts = points.copy()
    pts.loc[13, "category"] = None
    with pytest.warns(GeoWarning, match=r"1 rows with an empty 'category' are left out .*\[13\]"):
        cube = h3_counts(pts, resolution=8, by="category")
    assert cube["count"].sum() == 3


def test_h3_counts_with_area_adds_empty_cells(points):
    area = gpd.GeoSeries([box(116.38, 39.90, 116.47, 39.92)], crs=4326)
    counts = h3_counts(points, resolution=8, area=area)
    assert len(counts) > 2
    assert counts["count"].sum() == 4
    assert set(h3_cells(area, resolution=8).index) <= set(counts.index)


def test_h3_counts_warns_about_missing_geometry(points):
    pts = points.copy()
    pts.loc[12, "geometry"] = None
    with pytest.warns(GeoWarning, match=r"1 rows with missing or empty geometry.*\[12\]"):
        counts = h3_counts(pts, resolution=8)
    assert counts["count"].sum() == 3


def test_errors(points):
    with pytest.raises(InputError, match="resolution must be an integer from 0 to 15, got 16"):
        h3_index(points, resolution=16)
    with pytest.raises(InputError, match="resolution must be an integer from 0 to 15, got '9'"):
        h3_index(points, resolution="9")
    with pytest.raises(CRSError, match=r"points have no CRS.*set_crs"):
        h3_index(points.set_crs(None, allow_override=True), resolution=9)
    lines = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], index=[7], crs=4326)
    with pytest.raises(
        InputError,
        match=r"must be Points; 1 rows are not \(first ids: \[7\], first type: LineString",
    ):
        h3_index(lines)
    with pytest.raises(InputError, match="no column 'week' to count by"):
        h3_counts(points, by="week")
    with pytest.raises(InputError, match=r"not valid H3 cell ids: \['nope'\]"):
        h3_cell_polygons(["nope"])
    with pytest.raises(CRSError, match="area has no CRS"):
        h3_cells(gpd.GeoSeries([box(0, 0, 1, 1)]), resolution=7)


@pytest.mark.shared_data
def test_chicago_assaults_by_resolution():
    if not CHICAGO.exists():
        pytest.skip(f"shared data folder absent: {CHICAGO} (only in the project workspace and CI)")
    pts = gpd.read_file(CHICAGO, layer="aggravated_assaults_2010_2019")
    sizes = {}
    for res in (7, 8, 9, 10):
        counts = h3_counts(pts, resolution=res)
        assert counts["count"].sum() == len(pts)
        sizes[res] = len(counts)
    assert sizes[7] < sizes[8] < sizes[9] < sizes[10]
    weeks = pts.assign(year=pts["date"].dt.year)
    cube = h3_counts(weeks, resolution=7, by="year")
    assert cube.index.get_level_values("year").nunique() == 10
    assert len(cube) == sizes[7] * 10
    assert isinstance(cube.index, pd.MultiIndex)
    assert np.isclose(cube["count"].sum(), len(pts))
