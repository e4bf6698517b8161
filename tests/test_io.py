"""Reading buildings and barriers: formats, encodings, OSM, FILE:LAYER, errors."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from geo.errors import InputError
from geo.io import detect_dbf_encoding, parse_source, read_osm, read_vector

FIXTURES = Path(__file__).parent / "fixtures" / "partition"


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["幸福小区1号楼", "和平里2栋"], "households": [24, 36]},
        geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)],
        crs="EPSG:4547",
    )


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
def test_shapefile_encoding_detected_without_cpg(tmp_path, encoding):
    path = tmp_path / "b.shp"
    _frame().to_file(path, encoding=encoding)
    path.with_suffix(".cpg").unlink(missing_ok=True)
    assert detect_dbf_encoding(path) == ("GB18030" if encoding == "GBK" else "UTF-8")
    frame = read_vector(path)
    assert frame["name"].tolist() == ["幸福小区1号楼", "和平里2栋"]
    assert frame.crs.to_epsg() == 4547


def test_explicit_encoding_wins(tmp_path):
    path = tmp_path / "b.shp"
    _frame().to_file(path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    assert read_vector(path, encoding="GB18030")["name"][1] == "和平里2栋"


def test_file_layer_spec_and_formats(tmp_path):
    gpkg = tmp_path / "town.gpkg"
    _frame().to_file(gpkg, layer="buildings")
    assert parse_source(f"{gpkg}:buildings") == (gpkg, "buildings")
    assert len(read_vector(f"{gpkg}:buildings")) == 2
    _frame().to_parquet(tmp_path / "b.parquet")
    assert read_vector(tmp_path / "b.parquet")["households"].tolist() == [24, 36]
    _frame().to_file(tmp_path / "b.geojson")
    assert len(read_vector(tmp_path / "b.geojson")) == 2


def test_missing_file_and_layer_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match=r"nope\.gpkg: file not found"):
        read_vector(tmp_path / "nope.gpkg")
    gpkg = tmp_path / "town.gpkg"
    _frame().to_file(gpkg, layer="buildings")
    with pytest.raises(InputError, match=r"no layer 'roads'; the file has \['buildings'\]"):
        read_vector(gpkg, layer="roads")


def test_osm_layers():
    layers = read_osm(FIXTURES / "tiny.osm")
    assert set(layers) == {"buildings", "roads", "water", "railways", "boundaries"}
    b = layers["buildings"]
    assert sorted(b["building"]) == ["apartments", "school"]
    assert layers["roads"]["highway"].tolist() == ["residential"]
    assert layers["water"]["waterway"].tolist() == ["canal"]
    assert read_vector(FIXTURES / "tiny.osm", layer="roads").crs.to_epsg() == 4326
    with pytest.raises(InputError, match="no OSM layer 'parks'"):
        read_vector(FIXTURES / "tiny.osm", layer="parks")


def test_osm_through_partition():
    from geo.partition import partition

    layers = read_osm(FIXTURES / "tiny.osm")
    b = layers["buildings"].assign(
        special=lambda f: f["building"].where(f["building"] == "school", "")
    )
    r = partition(b, barriers=[layers["roads"], layers["water"]])
    # the house alone cannot reach the band and streets are not walls: it joins the school's
    # grid, its only neighbour, instead of standing as an undersize grid of one building
    assert r.grids["kind"].tolist() == ["special"]
    assert r.grids["buildings"].tolist() == [len(b)]
    assert r.buildings["households"].tolist()[0] > 0 or r.buildings["households"].tolist()[1] > 0
