"""Camera coverage on invalid grid polygons: the demo county's start-up failure, kept fixed.

The published demo grids held self-intersecting rings (a ring doubling back on a spike of
vertices millimetres apart); GEOS refused to cut streets by such a grid ("TopologyException:
side location conflict"), even with snap-rounding, and the warm-up of camera coverage failed
for the whole county. The grid engine now writes valid grids (``geo.partition.contract``,
tests/test_partition_contract.py); camera coverage names an invalid grid instead of failing
deep in GEOS. ``tests/fixtures/cameras/invalid_grid.geojson`` holds that grid and the
two streets it broke on (see the README beside it).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.analytics.cameras import camera_coverage
from geo.errors import GeoWarning, InputError

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


def test_an_invalid_grid_is_a_clear_error_naming_it(layers):
    # the grid engine writes valid grids (geo.partition.contract) and imports refuse invalid
    # ones: an invalid grid here is a defect upstream, named, never repaired in silence
    grids, streets = layers
    centre = grids.geometry.iloc[0].representative_point()
    view = gpd.GeoDataFrame(geometry=[centre.buffer(60.0)], crs=grids.crs)
    with pytest.raises(
        InputError, match=rf"grids: 1 invalid grid polygon\(s\) \({GRID}: Self-inter"
    ):
        camera_coverage(grids, view, streets=streets)


def test_the_repaired_grid_is_measured_like_any_other(layers):
    grids, streets = layers
    grid = shapely.make_valid(grids.geometry.iloc[0])
    # make_valid keeps the area: only the spikes (no area) go
    assert grid.area == pytest.approx(grids.geometry.iloc[0].area, rel=1e-9)
    centre = grid.representative_point()
    view = gpd.GeoDataFrame(geometry=[centre.buffer(60.0)], crs=grids.crs)
    cov = camera_coverage(grids.assign(geometry=[grid]), view, streets=streets)
    row = cov.iloc[0]
    assert row["grid_code"] == GRID
    assert row["open_m2"] == pytest.approx(grid.area, rel=1e-9)
    assert row["open_covered_m2"] == pytest.approx(
        grid.intersection(centre.buffer(60.0)).area, rel=1e-6
    )
    expected = sum(s.intersection(grid).length for s in streets.geometry)
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
