"""The command line answers a bad option or file with one clear line, never a traceback
(issue #11)."""

from __future__ import annotations

import pytest

from wangge.cli import main


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("WANGGE_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "cases.csv"
    path.write_text("受理时间,诉求类型,经度,纬度\n2026-11-20 08:00,环境卫生,114.005,30.005\n")
    return tmp_path


def _one_error_line(capsys, rc: int) -> str:
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("kind", ["cases", "gps", "cameras"])
def test_a_missing_file(data_dir, capsys, kind):
    rc = main(["import", kind, str(data_dir / "nope.csv")])
    assert _one_error_line(capsys, rc) == f"error: {data_dir / 'nope.csv'}: no such file"
    assert not (data_dir / "data").exists()  # nothing was created for nothing


def test_an_unknown_encoding(data_dir, capsys):
    rc = main(["import", "cases", str(data_dir / "cases.csv"), "--encoding", "klingon"])
    assert "unknown encoding 'klingon'" in _one_error_line(capsys, rc)


@pytest.mark.parametrize("kind", ["cases", "gps"])
@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", ""])
def test_an_unknown_time_zone(data_dir, capsys, kind, zone):
    rc = main(["import", kind, str(data_dir / "cases.csv"), "--timezone", zone])
    assert f"unknown time zone {zone!r}" in _one_error_line(capsys, rc)


def test_a_malformed_time_option(data_dir, capsys):
    rc = main(["demo", "simulate", "--days", "1", "--end", "yesterday"])
    assert "Invalid isoformat string: 'yesterday'" in _one_error_line(capsys, rc)


def test_a_file_that_is_not_a_table(data_dir, capsys):
    path = data_dir / "cases.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    rc = main(["import", "cases", str(path)])
    assert "not an Excel .xlsx file" in _one_error_line(capsys, rc)


def test_a_simulated_end_out_of_range(data_dir, capsys):
    rc = main(["demo", "simulate", "--days", "1", "--end", "9999-01-01T00:00:00+08:00"])
    assert "expected a time at most one day after now" in _one_error_line(capsys, rc)
