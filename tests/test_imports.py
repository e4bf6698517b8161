"""Imports: hotline exports (CSV in GBK, Excel) with Chinese headers, GPS CSV and GPX."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SHARED_DATA, X0, Y0

from wangge.access import Scope
from wangge.ingest.files import import_cameras, import_cases, import_gps, read_table

HOTLINE = pd.DataFrame(
    {
        "工单编号": ["GD001", "GD002", "GD003", "GD004", "GD005"],
        "受理时间": [
            "2026/11/20 08:30:00",
            "2026-11-20 09:00",
            "昨天",
            "2026-11-21 10:00:00",
            "2026-11-21 11:00:00",
        ],
        "诉求类型": ["环境卫生", "矛盾纠纷", "治安秩序", "噪音", "市政设施"],
        "经度": [X0 + 0.005, X0 + 0.025, X0 + 0.005, X0 + 0.005, "东经114"],
        "纬度": [Y0 + 0.005, Y0 + 0.005, Y0 + 0.005, Y0 + 0.005, Y0 + 0.005],
        "来电人": ["张三", "李四", "王五", "赵六", "钱七"],
        "联系电话": ["13800138000"] * 5,
        "诉求内容": ["小区门口垃圾堆放", "邻里噪音纠纷", "", "", "路灯不亮"],
    }
)


def test_hotline_csv_in_gbk_keeps_good_rows_and_names_bad_ones(tiny_store, tmp_path):
    path = tmp_path / "12345导出.csv"
    HOTLINE.to_csv(path, index=False, encoding="gbk")
    report = import_cases(path, tiny_store, scope=Scope.county())
    assert (report.total, report.added, report.duplicates, report.bad_rows) == (5, 2, 0, 3)
    assert [row for row, _ in report.errors] == [4, 5, 6]
    reasons = dict(report.errors)
    assert "受理时间" in reasons[4] and "'昨天'" in reasons[4]
    assert "诉求类型" in reasons[5] and "'噪音'" in reasons[5]
    assert "经度" in reasons[6] and "expected a number" in reasons[6]
    first = tiny_store.list_cases(filters={"category": "sanitation"}, scope=Scope.county())[0][0]
    assert first["client_id"] == "GD001"
    assert first["reported_at"] == "2026-11-20T00:30:00Z"  # 08:30 in China is 00:30 UTC
    assert first["grid_code"] == "420999001001001"
    assert first["description"] == "小区门口垃圾堆放"


def test_importing_the_same_file_twice_adds_nothing(tiny_store, tmp_path):
    path = tmp_path / "cases.csv"
    HOTLINE.drop(columns="工单编号").to_csv(path, index=False)  # no id column: rows are hashed
    assert import_cases(path, tiny_store, scope=Scope.county()).added == 2
    again = import_cases(path, tiny_store, scope=Scope.county())
    assert (again.added, again.duplicates) == (0, 2)
    assert tiny_store.count("cases") == 2


def test_excel_export_with_a_mapping_for_an_unusual_header(tiny_store, tmp_path):
    path = tmp_path / "export.xlsx"
    HOTLINE.rename(columns={"诉求类型": "业务分类"}).iloc[:2].to_excel(
        path, index=False, sheet_name="工单"
    )
    report = import_cases(
        path, tiny_store, mapping={"业务分类": "category"}, sheet="工单", scope=Scope.county()
    )
    assert report.added == 2
    with pytest.raises(ValueError, match=r"no column for \['category'\]"):
        import_cases(path, tiny_store, sheet="工单", scope=Scope.county())
    with pytest.raises(ValueError, match="the mapping names column '分类', which the file lacks"):
        import_cases(
            path, tiny_store, mapping={"分类": "category"}, sheet="工单", scope=Scope.county()
        )


def test_unsupported_files_are_refused_with_the_reason(tmp_path):
    path = tmp_path / "cases.json"
    path.write_text("{}")
    with pytest.raises(
        ValueError, match=r"unsupported file type '.json'; expected .csv, .tsv or .xlsx"
    ):
        read_table(path)


GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><name>W007</name><trkseg>
    <trkpt lat="{lat}" lon="{lon}"><time>2026-11-22T00:00:00Z</time><hdop>4</hdop></trkpt>
    <trkpt lat="{lat}" lon="{lon2}"><time>2026-11-22T00:00:10Z</time></trkpt>
    <trkpt lat="{lat}" lon="{lon2}"></trkpt>
  </trkseg></trk>
</gpx>"""


def test_gpx_track_import_is_idempotent(tiny_store, tmp_path):
    path = tmp_path / "track.gpx"
    path.write_text(GPX.format(lat=Y0 + 0.005, lon=X0 + 0.001, lon2=X0 + 0.0011))
    report = import_gps(path, tiny_store, scope=Scope.county())
    assert (report.total, report.added, report.bad_rows) == (3, 2, 1)
    assert "track 1 point 3" in report.errors[0][1] and "empty time" in report.errors[0][1]
    assert import_gps(path, tiny_store, scope=Scope.county()).added == 0
    points = tiny_store.patrol_points(worker_id="W007", scope=Scope.county())
    assert len(points) == 2 and points["accuracy"].iloc[0] == 4


def test_gps_csv_with_chinese_headers(tiny_store, tmp_path):
    path = tmp_path / "gps.csv"
    pd.DataFrame(
        {
            "网格员编号": ["W1", "W1", ""],
            "定位时间": ["2026-11-22 08:00:00"] * 3,
            "经度": [X0, X0, X0],
            "纬度": [Y0, 95, Y0],
        }
    ).to_csv(path, index=False)
    report = import_gps(path, tiny_store, scope=Scope.county())
    assert report.added == 1
    assert [r for r, _ in report.errors] == [3, 4]
    assert "纬度" in report.errors[0][1] and "网格员编号" in report.errors[1][1]


@pytest.mark.shared_data
def test_chicago_incidents_go_through_the_case_importer(tiny_store, tmp_path):
    gpkg = SHARED_DATA / "chicago_incidents_cameras.gpkg"
    if not gpkg.exists():
        pytest.skip(f"real data not found at {gpkg} (it is beside the repository in CI)")
    import geopandas as gpd

    incidents = gpd.read_file(
        gpkg, layer="aggravated_assaults_2010_2019", rows=3000, ignore_geometry=True
    )
    path = tmp_path / "chicago.csv"
    incidents[["date", "loc_cat", "longitude", "latitude", "district"]].to_csv(path, index=False)
    report = import_cases(
        path,
        tiny_store,
        constants={"category": "order", "source": "citizen"},
        timezone="America/Chicago",
        mapping={"loc_cat": "title"},
        scope=Scope.county(),
    )
    valid = incidents["longitude"].notna() & incidents["latitude"].notna()
    assert report.added == int(valid.sum()) and report.bad_rows == int((~valid).sum())
    stored = tiny_store.cases_frame(scope=Scope.county())
    assert stored["lon"].between(-88, -87).all() and stored["lat"].between(41.6, 42.1).all()
    assert (stored["grid_code"] == "").all()  # outside the county: no grid, still kept
    assert (
        import_cases(
            path,
            tiny_store,
            constants={"category": "order", "source": "citizen"},
            timezone="America/Chicago",
            mapping={"loc_cat": "title"},
            scope=Scope.county(),
        ).added
        == 0
    )


def test_cameras_from_csv_with_chinese_headers(tiny_store, tmp_path):
    from wangge.ingest.files import import_cameras

    path = tmp_path / "cameras.csv"
    pd.DataFrame(
        {
            "设备编号": ["CAM-1", "CAM-2", "CAM-3", "CAM-4"],
            "名称": ["人民路口", "小区东门", "", ""],
            "经度": [X0 + 0.005, X0 + 0.006, X0 + 0.007, "x"],
            "纬度": [Y0 + 0.005] * 4,
            "朝向": ["90", "180;0", "sideways", "0"],
            "类型": ["fixed", "fixed", "fixed", "dome"],
            "视场角": ["60", "", "", ""],
        }
    ).to_csv(path, index=False)
    report = import_cameras(path, tiny_store, scope=Scope.county())
    assert (report.added, report.bad_rows) == (3, 2)
    assert [r for r, _ in report.errors] == [4, 5]
    assert "'sideways' is not a bearing" in report.errors[0][1]
    assert "经度" in report.errors[1][1]
    cams = tiny_store.cameras(scope=Scope.county()).set_index("camera_id")
    assert cams.loc["CAM-1", "fov"] == 60 and cams.loc["CAM-1", "bearing"] == 90
    assert cams.loc["CAM-2-2", "bearing"] == 0 and cams.loc["CAM-2", "fov"] == 90
    assert cams.loc["CAM-1", "grid_code"] == "420999001001001"
    again = import_cameras(path, tiny_store, scope=Scope.county())
    assert (again.added, again.duplicates) == (0, 3)


@pytest.mark.shared_data
def test_osm_cameras_with_their_real_directions(tiny_store, tmp_path):
    from wangge.ingest.files import import_cameras

    gpkg = SHARED_DATA / "chicago_incidents_cameras.gpkg"
    if not gpkg.exists():
        pytest.skip(f"real data not found at {gpkg} (it is beside the repository in CI)")
    report = import_cameras(
        gpkg, tiny_store, layer="alpr_cameras_illinois_osm", scope=Scope.county()
    )
    assert (report.total, report.bad_rows) == (2422, 0)
    cams = tiny_store.cameras(scope=Scope.county())
    assert len(cams) == report.added > 2422  # "180;160;170" gives one camera head each
    # 2,394 of 2,422 nodes carry a direction
    assert cams["bearing"].notna().sum() >= 2394
    assert cams["bearing"].dropna().between(0, 360, inclusive="left").all()


# -- bounds (issue #11): files that would expand, rows that break the API's rules -------------


def xlsx_bomb(path, expanded: int = 500 * 1024 * 1024):
    """A valid one-row workbook whose shared strings expand to ``expanded`` bytes (about 3 MB
    on disk: one long string repeated, deflated)."""
    import zipfile

    import openpyxl

    small = path.with_suffix(".small.xlsx")
    book = openpyxl.Workbook()
    book.active.append(["category", "lon", "lat", "reported_at"])
    book.active.append(["order", X0 + 0.005, Y0 + 0.005, "2026-11-22 08:00:00"])
    book.save(small)
    unit = b"<si><t>" + b"A" * 1000 + b"</t></si>"
    with (
        zipfile.ZipFile(small) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            if not info.filename.endswith("sharedStrings.xml"):
                dst.writestr(info, src.read(info))
        with dst.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for _ in range(expanded // len(unit) // 1000):
                fh.write(unit * 1000)
            fh.write(b"</sst>")
    return path


def test_an_xlsx_whose_shared_strings_expand_is_refused_before_parsing(tmp_path):
    path = xlsx_bomb(tmp_path / "bomb.xlsx", expanded=64 * 1024 * 1024)
    with pytest.raises(
        ValueError, match=r"bomb.xlsx: xl/sharedStrings.xml declares 67,[\d,]+ bytes"
    ):
        read_table(path)


def test_an_xlsx_whose_directory_lies_about_sizes_is_refused(tmp_path):
    import struct

    path = xlsx_bomb(tmp_path / "liar.xlsx", expanded=64 * 1024 * 1024)
    data = bytearray(path.read_bytes())
    name = b"xl/sharedStrings.xml"
    # the central directory entry: signature, ..., uncompressed size at byte 24, name at 46;
    # zip64 keeps the real size in an extra field, so make that small as well
    at = data.find(b"PK\x01\x02" + bytes(16))
    while data[at + 46 : at + 46 + len(name)] != name:
        at = data.find(b"PK\x01\x02", at + 4)
    data[at + 24 : at + 28] = struct.pack("<I", 1000)
    extra = at + 46 + len(name)
    if data[extra : extra + 2] == b"\x01\x00":  # zip64 extra: sizes follow its 4-byte header
        data[extra + 4 : extra + 12] = struct.pack("<Q", 1000)
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"liar.xlsx: not an Excel .xlsx file"):
        read_table(path)


def test_an_xlsx_is_read_as_a_stream_with_its_cells_as_text(tmp_path):
    import openpyxl

    path = tmp_path / "cases.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["工单编号", "经度", "电话", None])
    book.active.append(["GD1", 114.005, 13800138000, None])
    book.active.append([None, None, None, None])
    book.save(path)
    frame = read_table(path)
    assert list(frame.columns) == ["工单编号", "经度", "电话", "Unnamed: 3"]
    assert frame.to_dict("records") == [
        {"工单编号": "GD1", "经度": "114.005", "电话": "13800138000", "Unnamed: 3": ""}
    ]
    with pytest.raises(ValueError, match=r"cannot read sheet '工单': the sheets are \['Sheet'\]"):
        read_table(path, sheet="工单")


def test_a_file_with_too_many_rows_is_refused(tmp_path, monkeypatch):
    from wangge.ingest import files

    monkeypatch.setattr(files, "MAX_ROWS", 3)
    path = tmp_path / "gps.csv"
    path.write_text("worker_id,at,lon,lat\n" + "w,2026-11-22 08:00,114,30\n" * 4)
    with pytest.raises(ValueError, match=r"gps.csv: more than 3 rows; split the file"):
        read_table(path)


def test_an_unknown_encoding_is_a_clear_error(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a\n1\n")
    with pytest.raises(ValueError, match="unknown encoding 'klingon'"):
        read_table(path, encoding="klingon")


def test_imported_cameras_obey_the_api_rules_naming_the_row(tiny_store, tmp_path):
    path = tmp_path / "cams.csv"
    pd.DataFrame(
        {
            "camera_id": ["C1", "C2", "C3", "C4"],
            "lon": [X0 + 0.005] * 4,
            "lat": [Y0 + 0.005] * 4,
            "fov": ["-30", "", "", "60"],
            "range_m": ["", "-5", "", "40"],
            "mount_height": ["", "", "-2", "3"],
        }
    ).to_csv(path, index=False)
    report = import_cameras(path, tiny_store, scope=Scope.county())
    assert report.added == 1
    assert [r for r, _ in report.errors] == [2, 3, 4]
    assert "fov: expected 1 to 360, found -30" in report.errors[0][1]
    assert "range_m: expected 1 to 1000, found -5" in report.errors[1][1]
    assert "mount_height: expected 0 to 200, found -2" in report.errors[2][1]
    assert tiny_store.cameras(scope=Scope.county())["camera_id"].tolist() == ["C4"]


def test_imported_gps_fixes_obey_the_api_rules(tiny_store, tmp_path):
    path = tmp_path / "gps.csv"
    pd.DataFrame(
        {
            "worker_id": ["W1", "W1", "W1"],
            "at": ["2026-11-22 08:00:00", "2026-11-22 08:01:00", "9999-01-01 00:00:00"],
            "lon": [X0, X0, X0],
            "lat": [Y0, Y0, Y0],
            "accuracy": ["5", "-1", ""],
        }
    ).to_csv(path, index=False)
    report = import_gps(path, tiny_store, scope=Scope.county())
    assert report.added == 1
    assert [r for r, _ in report.errors] == [3, 4]
    assert "accuracy: expected 0 to 10000, found -1" in report.errors[0][1]
    assert "at: expected a time at most one day after now" in report.errors[1][1]


@pytest.mark.parametrize("when", ["0999-06-01 00:00:00", "9999-12-31 23:59:59", "0001-01-01"])
def test_a_case_row_dated_out_of_range_is_named_and_the_others_kept(tiny_store, tmp_path, when):
    path = tmp_path / "cases.csv"
    pd.DataFrame(
        {
            "受理时间": ["2026-11-20 08:30:00", when],
            "诉求类型": ["环境卫生", "环境卫生"],
            "经度": [X0 + 0.005] * 2,
            "纬度": [Y0 + 0.005] * 2,
        }
    ).to_csv(path, index=False)
    report = import_cases(path, tiny_store, scope=Scope.county())
    assert (report.added, report.bad_rows) == (1, 1)
    assert report.errors[0][0] == 3 and "受理时间" in report.errors[0][1]
    assert "expected a time" in report.errors[0][1]
