"""``wangge county import``: every validation message, all problems in one report, the store
untouched by a refused or failed import, a second import replacing the county atomically, and
the formats, CRSs and encodings a county brings (wangge.ingest.county, wangge.store)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import shapely
from county_files import X0, Y0, county_files, county_frames, write_county
from shapely import LineString, Polygon, box

from geo.coords import wgs84_to_gcj02
from wangge.access import Scope
from wangge.casework import validate_new_case
from wangge.cli import main
from wangge.clock import utc_now
from wangge.ingest.county import CountyFiles, import_county, read_county
from wangge.ingest.layers import LayerOptions
from wangge.ingest.problems import ImportRefused
from wangge.services.locate import Locator
from wangge.store import Store


def _files(path: Path, **changes) -> CountyFiles:
    return county_files(path, **changes)


def _problems(tmp_path: Path, files_changes: dict | None = None, **layers) -> list[str]:
    path = write_county(tmp_path, **layers)
    with pytest.raises(ImportRefused) as info:
        read_county(_files(path, **(files_changes or {})))
    return [str(p) for p in info.value.report.problems]


def _one(problems: list[str], pattern: str) -> str:
    found = [p for p in problems if re.search(pattern, p)]
    assert len(found) == 1, problems
    return found[0]


def test_a_good_county_is_stored(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    report = import_county(store, _files(write_county(tmp_path)))
    assert report.ok
    assert report.counts == {
        "townships": 2,
        "communities": 4,
        "buildings": 48,
        "households": 1920,
        "roads": 1,
    }
    units = store.admin_units(scope=Scope.county()).set_index("code")
    assert units.loc["341122000000", ["name", "level"]].tolist() == ["测试县", "county"]
    assert units.loc["341122100000", ["kind", "parent_code"]].tolist() == ["town", "341122000000"]
    assert units.loc["341122101000", "kind"] == "township"
    assert units.loc["341122101001", ["kind", "parent_code"]].tolist() == ["rural", "341122101000"]
    assert set(store.buildings(scope=Scope.county())["community_code"]) == set(
        units.index[units["level"] == "community"]
    )
    assert store.basemap_layer("roads")["kind"].tolist() == ["primary"]
    assert store.get_meta("county_code") == "341122"
    assert any("converted from CGCS2000" in n and "EPSG:4547" in n for n in report.notes)
    assert "overlaps and gaps up to 100 m2 are tolerated" in report.notes


def test_codes_that_do_not_nest(tmp_path):
    f = county_frames()
    f["townships"].loc[1, "TCODE"] = "341199101000"
    f["communities"].loc[0, "CCODE"] = "341122109001"
    f["communities"].loc[1, "CCODE"] = "34112210002"
    f["communities"].loc[2, "CCODE"] = "341122100000"
    problems = _problems(tmp_path, townships=f["townships"], communities=f["communities"])
    assert _one(problems, "does not start with the county code").startswith(
        "county.gpkg:townships: code 341199101000: TCODE: code 341199101000 does not start with "
        "the county code 341122"
    )
    assert re.search(
        r"communities: code 341122109001: CCODE: code 341122109001 does not nest: its first 9 "
        r"digits 341122109 are no township's",
        _one(problems, "341122109001"),
    )
    assert _one(problems, "not 12 digits").endswith("CCODE: code '34112210002' is not 12 digits")
    assert _one(problems, "also a township").endswith(
        "code 341122100000: CCODE: the code is also a township's code"
    )


def test_duplicate_codes_missing_codes_and_names(tmp_path):
    f = county_frames()
    f["communities"].loc[1, "CCODE"] = "341122100001"
    f["communities"].loc[3, "CNAME"] = None
    f["townships"].loc[0, "TCODE"] = None
    problems = _problems(tmp_path, townships=f["townships"], communities=f["communities"])
    assert _one(problems, "duplicate code").endswith(
        "code 341122100001: CCODE: duplicate code: features 1 and 2"
    )
    assert _one(problems, "name is missing").endswith(
        "communities: code 341122101002: CNAME: the name is missing"
    )
    assert _one(problems, "code is missing").endswith(
        "townships: feature 1: TCODE: the code is missing"
    )


def test_unknown_kind_and_missing_columns(tmp_path):
    f = county_frames()
    f["communities"].loc[0, "CKIND"] = "镇"
    problems = _problems(tmp_path, communities=f["communities"])
    assert re.search(r"code 341122100001: CKIND: kind '镇' is neither urban nor rural", problems[0])
    problems = _problems(tmp_path, {"township_name": "NAME", "households_column": "HH"})
    assert _one(problems, "TNAME").startswith(
        "county.gpkg:townships: NAME: no such column; the columns are ['TCODE', 'TNAME']"
    )
    assert _one(problems, "HH").startswith("county.gpkg:buildings: HH: no such column")


def test_communities_outside_or_across_their_township(tmp_path):
    f = county_frames()
    c = f["communities"]
    c.loc[0, "geometry"] = box(X0 + 2500, Y0 + 2000, X0 + 3000, Y0 + 2500)  # far away
    c.loc[3, "geometry"] = box(X0 + 3000, Y0, X0 + 4000, Y0 + 1200)  # 200 m beyond
    problems = _problems(tmp_path, communities=c)
    assert _one(problems, "lies outside").endswith(
        "code 341122100001: geometry: lies outside its township 341122100000 (城关镇)"
    )
    assert _one(problems, "crosses").endswith(
        "code 341122101002: geometry: crosses the boundary of its township 341122101000: "
        "200,000 m2 lie outside it (tolerance 100 m2)"
    )


def test_overlaps_and_gaps_above_the_tolerance(tmp_path):
    f = county_frames()
    t, c = f["townships"], f["communities"]
    t.loc[1, "geometry"] = box(X0 + 1990, Y0, X0 + 4000, Y0 + 1000)  # 10 x 1000 m on township 0
    c.loc[2, "geometry"] = box(X0 + 1990, Y0, X0 + 3000, Y0 + 1000)
    c.loc[1, "geometry"] = box(X0 + 1000, Y0, X0 + 1950, Y0 + 1000)  # 50 m strip uncovered
    problems = _problems(tmp_path, townships=t, communities=c)
    assert _one(problems, "townships overlap").endswith(
        "townships: code 341122100000 and code 341122101000: geometry: townships overlap by "
        "10,000 m2 (tolerance 100 m2)"
    )
    assert re.search(
        r"communities: township 341122100000: geometry: gap of 50,000 m2 covered by none of its "
        r"communities near 114\.\d{5}, 30\.\d{5} \(tolerance 100 m2\)",
        _one(problems, "gap of 50,000"),
    )
    # within the tolerance: a 5 m wide overlap (5,000 m2) passes with --tolerance 10000
    path = write_county(tmp_path, townships=t, communities=county_frames()["communities"])
    assert read_county(_files(path, tolerance_m2=20_000)).report.ok


def test_a_gap_between_townships(tmp_path):
    f = county_frames()
    hole = box(X0 + 500, Y0 + 400, X0 + 600, Y0 + 500)
    t, c = f["townships"], f["communities"]
    t.loc[0, "geometry"] = t.geometry[0].difference(hole)
    c.loc[0, "geometry"] = c.geometry[0].difference(hole)
    problems = _problems(tmp_path, townships=t, communities=c)
    assert re.search(r"townships: geometry: gap of 10,000 m2 between townships near", problems[0])


def test_invalid_empty_and_non_polygon_geometries(tmp_path):
    f = county_frames()
    c, b = f["communities"], f["buildings"]
    bowtie = Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)])
    c.loc[0, "geometry"] = bowtie
    b.loc[0, "geometry"] = LineString([(X0 + 10, Y0 + 10), (X0 + 20, Y0 + 20)])
    b.loc[1, "geometry"] = Polygon()
    problems = _problems(tmp_path, communities=c, buildings=b)
    assert re.search(
        r"code 341122100001: geometry: invalid geometry \(Self-intersection", problems[0]
    )
    assert _one(problems, "not a polygon").endswith(
        "buildings: building 341122100001-00: geometry: not a polygon (LineString)"
    )
    assert _one(problems, "empty").endswith(
        "building 341122100001-01: geometry: empty or missing geometry"
    )


def test_buildings_outside_every_community_and_bad_ids_and_households(tmp_path):
    f = county_frames()
    b = f["buildings"]
    b.loc[0, "geometry"] = box(X0 - 500, Y0, X0 - 480, Y0 + 20)
    b.loc[2, "bid"] = b.loc[3, "bid"]
    b.loc[4, "bid"] = None
    b["hh"] = b["hh"].astype(object)
    b.loc[5, "hh"] = "很多"
    problems = _problems(tmp_path, buildings=b)
    assert _one(problems, "outside every").endswith(
        "buildings: building 341122100001-00: geometry: outside every community"
    )
    assert _one(problems, "duplicate building").endswith(
        "bid 341122100001-10: bid: duplicate building id"
    )
    assert _one(problems, "id is missing").endswith("feature 5: bid: the building id is missing")
    assert re.search(r"buildings: hh: .*'很多'", _one(problems, "很多"))


def test_every_problem_in_one_report_and_the_county_options(tmp_path):
    f = county_frames()
    f["communities"].loc[0, "CNAME"] = ""
    f["buildings"].loc[0, "geometry"] = box(X0 - 500, Y0, X0 - 480, Y0 + 20)
    problems = _problems(
        tmp_path,
        {"county_code": "34112", "county_name": " ", "references": {"rivers": "x.gpkg"}},
        communities=f["communities"],
        buildings=f["buildings"],
    )
    assert problems[:3] == [
        "--county-code: code '34112' is not 6 digits",
        "--county-name: the county name is missing",
        "unknown reference layer(s) ['rivers']; expected ['roads', 'water', 'railways']",
    ]
    assert any("the name is missing" in p for p in problems)
    assert any("outside every community" in p for p in problems)
    # and townships no longer match the county code: reported too
    assert sum("does not start with the county code 34112" in p for p in problems) == 0


def test_unreadable_files_and_missing_crs(tmp_path):
    problems = _problems(tmp_path, {"townships": str(tmp_path / "nope.gpkg")})
    assert _one(problems, "nope").startswith("nope.gpkg: file not found")
    frames = county_frames()
    frames["roads"].to_file(tmp_path / "roads.shp", engine="pyogrio")
    (tmp_path / "roads.prj").unlink()
    problems = _problems(tmp_path, {"references": {"roads": str(tmp_path / "roads.shp")}})
    assert _one(problems, "no CRS") == (
        "roads.shp: the layer has no CRS; set the CRS its coordinates are in, e.g. EPSG:4490 "
        "(CGCS2000) in a .prj beside a shapefile"
    )


def _digest(store: Store) -> str:
    h = hashlib.sha256()
    for suffix in ("", "-wal"):
        p = Path(str(store.path) + suffix)
        h.update(p.read_bytes() if p.exists() else b"")
    return h.hexdigest()


def _dump(store: Store) -> list[str]:
    with store.connect() as con:
        return list(con.iterdump())


def _county_store(tmp_path) -> tuple[Store, dict]:
    from wangge.services.grids import partition_store

    store = Store(tmp_path / "s.sqlite")
    import_county(store, _files(write_county(tmp_path / "first")))
    vid, _ = partition_store(store)
    store.publish_grid_version(vid)
    p = store.grids(scope=Scope.county()).geometry.iloc[0].representative_point()
    case = validate_new_case({"category": "order", "lon": p.x, "lat": p.y}, now=utc_now())
    created, _ = store.create_case(case, Locator(store).locate(p.x, p.y), scope=Scope.county())
    return store, created


def test_a_refused_import_leaves_the_store_byte_for_byte(tmp_path):
    store, _ = _county_store(tmp_path)
    before = _digest(store)
    f = county_frames()
    f["communities"].loc[0, "CCODE"] = "341122109001"
    with pytest.raises(ImportRefused):
        import_county(store, _files(write_county(tmp_path / "bad", communities=f["communities"])))
    assert _digest(store) == before


def test_a_failure_inside_the_transaction_rolls_everything_back(tmp_path, monkeypatch):
    import wangge.store.reference as reference

    store, _ = _county_store(tmp_path)
    before = _dump(store)

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(reference, "_write_basemap_layer", fail)
    f = county_frames()
    f["townships"].loc[0, "TNAME"] = "新城关镇"
    with pytest.raises(OSError, match="disk full"):
        import_county(store, _files(write_county(tmp_path / "second", townships=f["townships"])))
    assert _dump(store) == before


def test_a_second_import_replaces_the_county_and_cases_keep_their_grid(tmp_path):
    store, case = _county_store(tmp_path)
    f = county_frames()
    f["townships"].loc[0, "TNAME"] = "新城关镇"
    f["buildings"] = f["buildings"].iloc[:40]
    report = import_county(store, _files(write_county(tmp_path / "second", **f)))
    assert report.counts["buildings"] == 40
    assert (
        store.admin_units("township", scope=Scope.county())
        .set_index("code")
        .loc["341122100000", "name"]
        == "新城关镇"
    )
    kept = store.get_case(case["case_id"], scope=Scope.county())
    assert (kept["grid_code"], kept["grid_version_id"]) == (case["grid_code"], 1)
    assert kept["grid_code"] in set(store.grids(1, scope=Scope.county())["grid_code"])
    assert any("grid version 1 stays published" in n for n in report.notes)


def test_epsg_4490_geojson_and_gcj02(tmp_path):
    f = {k: v.to_crs(4490) for k, v in county_frames().items()}
    for name, frame in f.items():
        frame.to_file(tmp_path / f"{name}.geojson", engine="pyogrio")
    files = _files(
        tmp_path,
        townships=str(tmp_path / "townships.geojson"),
        communities=str(tmp_path / "communities.geojson"),
        buildings=str(tmp_path / "buildings.geojson"),
        references={"roads": str(tmp_path / "roads.geojson")},
    )
    county = read_county(files)
    assert any(
        "China Geodetic Coordinate System 2000 (EPSG:4490)" in n for n in county.report.notes
    )
    plain = county.units.set_index("code").geometry
    # the same lon/lat shifted to GCJ-02, as digitised on Gaode maps, comes back to WGS84
    for name, frame in f.items():
        shifted = frame.set_geometry(
            shapely.transform(
                frame.geometry.to_numpy(),
                lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])),
            ),
            crs=4490,
        )
        shifted.to_file(tmp_path / f"{name}.geojson", engine="pyogrio")
    gcj = read_county(replace(files, options=LayerOptions(gcj02=True)))
    assert any("converted from GCJ-02 (Gaode/Tencent) to WGS84" in n for n in gcj.report.notes)
    back = gcj.units.set_index("code").geometry
    assert back.geom_equals_exact(plain, tolerance=1e-7).all()


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
def test_shapefiles_in_gbk_or_utf8(tmp_path, encoding):
    f = county_frames()
    paths = {}
    for name, frame in f.items():
        paths[name] = tmp_path / f"{name}.shp"
        frame.to_file(paths[name], engine="pyogrio", encoding=encoding)
    files = _files(
        tmp_path,
        townships=str(paths["townships"]),
        communities=str(paths["communities"]),
        buildings=str(paths["buildings"]),
        references={"roads": str(paths["roads"])},
    )
    county = read_county(files)
    assert "城关镇" in set(county.units["name"])
    assert (
        f"townships.shp: DBF read as {encoding} (from the .cpg file or detected)"
        in county.report.notes
    )
    for name in paths:
        paths[name].with_suffix(".cpg").unlink(missing_ok=True)
    county = read_county(replace(files, options=LayerOptions(encoding=encoding)))
    assert "东山村" in set(county.units["name"])
    assert f"townships.shp: DBF read as {encoding} (given)" in county.report.notes


def test_households_estimated_without_a_column(tmp_path):
    county = read_county(_files(write_county(tmp_path), households_column=None))
    assert (county.buildings["households"] > 0).all()
    assert any("households estimated for 48 building(s)" in n for n in county.report.notes)


def test_the_command_exits_non_zero_and_prints_the_report(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WANGGE_DATA_DIR", str(tmp_path / "data"))
    f = county_frames()
    f["communities"].loc[0, "CCODE"] = "341122109001"
    path = write_county(tmp_path, communities=f["communities"])
    args = ["county", "import", "--county-code", "341122", "--county-name", "测试县"]
    args += ["--townships", f"{path}:townships", "--township-code", "TCODE"]
    args += ["--township-name", "TNAME", "--communities", f"{path}:communities"]
    args += ["--community-code", "CCODE", "--community-name", "CNAME"]
    assert main(args) == 1
    out, err = capsys.readouterr()
    # the community that nests nowhere also leaves its township uncovered
    assert "county import: 2 problems" in out and "does not nest" in out
    assert "covered by none of its communities" in out
    assert "nothing was imported" in err
    assert not (tmp_path / "data" / "wangge.sqlite").exists()  # nothing was even created
    f = county_frames()
    path = write_county(tmp_path, communities=f["communities"])
    assert main(args) == 0
    assert "county import: ok" in capsys.readouterr().out


def test_buildings_across_community_lines_are_noted_and_go_to_the_majority(tmp_path):
    f = county_frames()
    b = f["buildings"]
    # 341122100001-30 moved across the line x = X0 + 1000: 2/3 of it in 341122100002
    b.loc[9, "geometry"] = box(X0 + 990, Y0 + 200, X0 + 1020, Y0 + 220)
    # 341122100001-31: 2/3 in 341122100001 (its point on surface is there too)
    b.loc[10, "geometry"] = box(X0 + 980, Y0 + 450, X0 + 1010, Y0 + 470)
    store = Store(tmp_path / "s.sqlite")
    report = import_county(store, _files(write_county(tmp_path, buildings=b)))
    note = _one(report.notes, "straddle a community line")
    assert note.startswith("2 building(s) straddle a community line")
    assert note.endswith(": 341122100001-30, 341122100001-31")
    stored = store.buildings(scope=Scope.county()).set_index("building_id")["community_code"]
    assert stored["341122100001-30"] == "341122100002"
    assert stored["341122100001-31"] == "341122100001"
    assert "straddle" in report.summary()
