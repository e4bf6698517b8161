"""Grid versions from the command line: ``wangge grids partition|import|list|publish|export``
(wangge.services.grids, wangge.ingest.grids), and the published version is the one in use."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pyogrio
import pytest
from county_files import X0, Y0, county_files, write_county
from shapely import box

from wangge.access import Scope
from wangge.cli import main
from wangge.ingest.county import import_county
from wangge.ingest.grids import GridFiles, import_grids
from wangge.ingest.problems import ImportRefused
from wangge.services import grids as versions
from wangge.services.locate import Locator
from wangge.store import Store, StoreError

CRS = "EPSG:4547"


@pytest.fixture
def store(tmp_path) -> Store:
    path = write_county(tmp_path / "files")
    store = Store(tmp_path / "data" / "wangge.sqlite")
    import_county(store, county_files(path))
    return store


def _grid_layer(tmp_path, rows: list[tuple[str, object]], name="grids.gpkg") -> str:
    frame = gpd.GeoDataFrame(
        {"WGCODE": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=CRS
    )
    path = tmp_path / name
    frame.to_file(path, layer="grids", engine="pyogrio")
    return f"{path}:grids"


def _halves() -> list[tuple[str, object]]:
    """Each community in two grids (west, east half)."""
    rows = []
    for k, code in enumerate(["341122100001", "341122100002", "341122101001", "341122101002"]):
        x = X0 + k * 1000
        rows.append((code + "001", box(x, Y0, x + 500, Y0 + 1000)))
        rows.append((code + "002", box(x + 500, Y0, x + 1000, Y0 + 1000)))
    return rows


def test_partition_makes_a_draft_and_publish_puts_it_in_use(store):
    vid, report = versions.partition_store(store, author="planner", comment="first")
    assert report["counts"]["communities"] == 4
    assert store.published_grid_version() is None
    rows = versions.grid_version_rows(store)
    assert [(r["id"], r["status"], r["author"], r["comment"]) for r in rows] == [
        (vid, "draft", "planner", "first")
    ]
    assert set(rows[0]) == {
        "id",
        "status",
        "created_at",
        "author",
        "comment",
        "published_at",
        "grids",
    }
    versions.publish_grid_version(store, vid)
    grids = store.grids(scope=Scope.county())
    assert len(grids) == rows[0]["grids"] and grids["households"].sum() == 1920
    # new cases are located in the published version
    p = grids.geometry.iloc[0].representative_point()
    found = Locator(store).locate(p.x, p.y)
    assert (found["grid_code"], found["grid_version_id"]) == (grids["grid_code"].iloc[0], vid)
    with pytest.raises(StoreError, match="grid version 99 does not exist"):
        versions.publish_grid_version(store, 99)


def test_partition_of_one_township_keeps_the_others(store):
    first, _ = versions.partition_store(store)
    versions.publish_grid_version(store, first)
    second, report = versions.partition_store(store, township="341122101000")
    assert report["counts"]["communities"] == 2
    old, new = store.grids(first, scope=Scope.county()), store.grids(second, scope=Scope.county())
    assert sorted(old["grid_code"]) == sorted(new["grid_code"])
    assert (
        len(store.building_grids(second, scope=Scope.county()))
        == len(store.building_grids(first, scope=Scope.county()))
        == 48
    )
    with pytest.raises(StoreError, match=r"township 341122199000: no such township \(townships: "):
        versions.partition_store(store, township="341122199000")


def _empty(tmp_path) -> Store:
    store = Store(tmp_path / "empty.sqlite")
    store.migrate()
    return store


def test_partition_needs_buildings(tmp_path):
    with pytest.raises(StoreError, match="no buildings in the store; load a county"):
        versions.partition_store(_empty(tmp_path))


def test_import_assigns_buildings_by_largest_overlap(store, tmp_path):
    rows = _halves()
    # the west half of the first community reaches 10 m into the east half's buildings' side
    vid, report = import_grids(
        store, GridFiles(_grid_layer(tmp_path, rows), "WGCODE"), author="gis", comment="多网合一"
    )
    assert report.ok and report.counts == {"grids": 8, "buildings assigned": 48}
    grids = store.grids(vid, scope=Scope.county()).set_index("grid_code")
    assert grids["community_code"].tolist() == [code[:12] for code, _ in rows]
    assert grids["buildings"].tolist() == [6] * 8
    assert grids.loc["341122100001001", ["households", "kind", "flags"]].tolist() == [
        240,
        "urban",
        "out-of-band",
    ]
    assert grids.loc["341122101001001", ["kind", "flags"]].tolist() == ["rural", ""]
    row = versions.grid_version_rows(store)[-1]
    assert (row["status"], row["author"], row["comment"]) == ("draft", "gis", "多网合一")


def test_import_by_overlap_when_codes_do_not_carry_the_community(store, tmp_path):
    rows = [(f"W{i:02d}", geom) for i, (_, geom) in enumerate(_halves())]
    vid, _ = import_grids(store, GridFiles(_grid_layer(tmp_path, rows), "WGCODE"))
    assert (
        store.grids(vid, scope=Scope.county()).set_index("grid_code").loc["W07", "community_code"]
        == "341122101002"
    )


def test_import_warnings_stored_as_draft(store, tmp_path):
    rows = _halves()[:-1]  # the last half missing: its 6 buildings lie in no grid
    rows[0] = (rows[0][0], box(X0, Y0, X0 + 600, Y0 + 1000))  # overlaps its neighbour
    rows[2] = (rows[2][0], box(X0 + 1000, Y0, X0 + 1500, Y0 + 1300))  # beyond its community
    vid, report = import_grids(store, GridFiles(_grid_layer(tmp_path, rows), "WGCODE"))
    assert store.has_grid_version(vid)
    text = "\n".join(report.notes)
    assert (
        "warning: grids.gpkg:grids: grid 341122100001001 and grid 341122100001002: geometry: "
        "grids overlap by 100,000 m2 (tolerance 100 m2)"
    ) in text
    assert (
        "grid 341122100002001: geometry: crosses the boundary of community 341122100002: "
        "150,000 m2 outside it (tolerance 100 m2)"
    ) in text
    assert re.search(r"warning: 6 building\(s\) lie in no grid: 341122101002-", text)


def test_import_refusals(store, tmp_path):
    rows = _halves()
    rows[1] = (rows[0][0], rows[1][1])
    rows[2] = ("", rows[2][1])
    rows[3] = (rows[3][0], box(X0 + 9000, Y0, X0 + 9500, Y0 + 500))
    with pytest.raises(ImportRefused) as info:
        import_grids(store, GridFiles(_grid_layer(tmp_path, rows), "WGCODE"))
    problems = [str(p) for p in info.value.report.problems]
    assert problems == [
        "grids.gpkg:grids: feature 3: WGCODE: the grid code is missing",
        "grids.gpkg:grids: grid 341122100001001: WGCODE: duplicate grid code",
    ]
    rows = _halves()
    rows[3] = ("X1", box(X0 + 9000, Y0, X0 + 9500, Y0 + 500))
    with pytest.raises(ImportRefused, match="grid X1: geometry: outside every community"):
        import_grids(store, GridFiles(_grid_layer(tmp_path, rows), "WGCODE"))
    with pytest.raises(
        ImportRefused, match=r"grids: CODE: no such column; the columns are \['WGCODE'\]"
    ):
        import_grids(store, GridFiles(_grid_layer(tmp_path, rows), "CODE"))
    frame = gpd.read_file(tmp_path / "grids.gpkg", layer="grids").assign(COMM="341122100009")
    frame.to_file(tmp_path / "c.gpkg", layer="grids", engine="pyogrio")
    with pytest.raises(ImportRefused, match="grid W?X?.*COMM: no community '341122100009'"):
        import_grids(store, GridFiles(f"{tmp_path / 'c.gpkg'}:grids", "WGCODE", "COMM"))
    with pytest.raises(
        ImportRefused, match="the store holds no county; run `wangge county import`"
    ):
        import_grids(_empty(tmp_path), GridFiles(_grid_layer(tmp_path, _halves()), "WGCODE"))


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp"])
def test_export(store, tmp_path, fmt):
    vid, _ = versions.partition_store(store)
    out = versions.export_grid_version(
        store, vid, fmt, tmp_path / "out" / f"grids.{fmt}", encoding="GBK" if fmt == "shp" else None
    )
    back = pyogrio.read_dataframe(out)
    assert len(back) == len(store.grids(vid, scope=Scope.county()))
    assert back.crs.to_epsg() == 4326
    if fmt == "shp":
        assert out.with_suffix(".cpg").read_text().strip() == "GBK"
        assert "comm_code" in back.columns
    with pytest.raises(
        StoreError, match=r"format 'kml': expected one of \['geojson', 'gpkg', 'shp'\]"
    ):
        versions.export_grid_version(store, vid, "kml", tmp_path / "x.kml")
    with pytest.raises(StoreError, match="grid version 42 does not exist"):
        versions.export_grid_version(store, 42, fmt, tmp_path / "x")


def test_the_commands(store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WANGGE_DATA_DIR", str(store.path.parent))
    assert main(["grids", "partition", "--quiet", "--author", "cli", "--comment", "c1"]) == 0
    assert "grid version 1 (draft)" in capsys.readouterr().out
    assert (
        main(["grids", "import", _grid_layer(tmp_path, _halves()), "--code-column", "WGCODE"]) == 0
    )
    assert "grid version 2 (draft)" in capsys.readouterr().out
    assert main(["grids", "publish", "2"]) == 0
    assert main(["grids", "list", "--json"]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out[out.index("[") :])
    assert [(r["id"], r["status"]) for r in rows] == [(1, "draft"), (2, "published")]
    assert main(["grids", "list"]) == 0
    assert re.search(r"1\s+draft .* cli\s+c1", capsys.readouterr().out)
    out = tmp_path / "g.shp"
    assert (
        main(["grids", "export", "2", "--format", "shp", "--out", str(out), "--encoding", "GBK"])
        == 0
    )
    assert out.exists()
    assert main(["grids", "publish", "7"]) == 2
    assert "error: grid version 7 does not exist" in capsys.readouterr().err
    assert main(["grids", "import", _grid_layer(tmp_path, _halves()), "--code-column", "NOPE"]) == 1
