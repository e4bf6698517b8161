"""Camera coverage on invalid grid polygons: the demo county's start-up failure, kept fixed.

The published demo grids hold self-intersecting rings (a ring doubling back on a spike of
vertices millimetres apart); GEOS refused to cut streets by such a grid ("TopologyException:
side location conflict"), even with snap-rounding, and the warm-up of camera coverage failed
for the whole county. ``tests/fixtures/cameras/invalid_grid.geojson`` holds that grid and the
two streets it broke on (see the README beside it).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.analytics.cameras import camera_coverage
from geo.errors import GeoWarning

FIXTURE = Path(__file__).parent / "fixtures" / "cameras" / "invalid_grid.geojson"
GRID = "420999101202010"


@pytest.fixture(scope="module")
def layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    frame = gpd.read_file(FIXTURE)
    grids = frame[frame["layer"] == "grid"][["grid_code", "geometry"]].reset_index(drop=True)
    streets = frame[frame["layer"] == "street"][["geometry"]].reset_index(drop=True)
    return grids, streets


def test_the_fixture_still_breaks_geos(layers):
    grids, streets = layers
    grid = grids.geometry.iloc[0]
    assert not grid.is_valid and "Self-intersection" in shapely.is_valid_reason(grid)
    for street in streets.geometry:
        with pytest.raises(shapely.errors.GEOSException, match="side location conflict"):
            shapely.intersection(street, grid)
        with pytest.raises(shapely.errors.GEOSException, match="side location conflict"):
            shapely.intersection(street, grid, grid_size=0.01)


def test_coverage_of_an_invalid_grid_repairs_it_and_says_which(layers):
    grids, streets = layers
    grid = grids.geometry.iloc[0]
    # a camera in the middle of the grid that sees 60 m all around
    centre = grid.representative_point()
    view = gpd.GeoDataFrame(geometry=[centre.buffer(60.0)], crs=grids.crs)
    with pytest.warns(GeoWarning, match=rf"grids: repaired 1 invalid polygon.*'{GRID}'"):
        cov = camera_coverage(grids, view, streets=streets)
    row = cov.iloc[0]
    assert row["grid_code"] == GRID
    # make_valid keeps the area: only the spikes (no area) go
    repaired = shapely.make_valid(grid)
    assert repaired.area == pytest.approx(grid.area, rel=1e-9)
    assert row["open_m2"] == pytest.approx(grid.area, rel=1e-9)
    assert row["open_covered_m2"] == pytest.approx(
        repaired.intersection(centre.buffer(60.0)).area, rel=1e-6
    )
    # the streets measured inside the repaired grid
    expected = sum(s.intersection(repaired).length for s in streets.geometry)
    assert expected > 0
    assert row["street_m"] == pytest.approx(expected, rel=1e-9)
    assert 0 <= row["street_share"] <= 1


def test_valid_grids_are_not_touched_and_do_not_warn(layers):
    grids, streets = layers
    valid = grids.assign(geometry=grids.geometry.make_valid())
    view = gpd.GeoDataFrame(geometry=[valid.geometry.iloc[0].centroid.buffer(60.0)], crs=grids.crs)
    cov = camera_coverage(valid, view, streets=streets)  # GeoWarning is an error in the tests
    assert np.isfinite(cov["street_m"]).all()


def test_an_invalid_view_is_repaired_with_its_id(layers):
    grids, _ = layers
    valid = grids.assign(geometry=grids.geometry.make_valid())
    c = valid.geometry.iloc[0].representative_point()
    # a bow-tie: two triangles touching at the camera
    bowtie = shapely.Polygon(
        [(c.x - 30, c.y - 30), (c.x + 30, c.y + 30), (c.x + 30, c.y - 30), (c.x - 30, c.y + 30)]
    )
    view = gpd.GeoDataFrame(geometry=[bowtie], index=["CAM7"], crs=grids.crs)
    with pytest.warns(GeoWarning, match=r"visibility: repaired 1 invalid polygon.*'CAM7'"):
        cov = camera_coverage(valid, view)
    assert cov["open_covered_m2"].iloc[0] == pytest.approx(900.0 * 2, rel=1e-6)
