"""The SQLite store: schema and migrations, WAL, round trips, atomic replacement."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from conftest import X0, Y0, load_tiny_county, tiny_county
from shapely.geometry import box

from wangge.access import Scope
from wangge.store import SCHEMA_VERSION, Store, StoreError, migrations
from wangge.store.db import GroupCommit
from wangge.store.schema import h3_cells

ROOT = Path(__file__).resolve().parents[1]


def test_new_database_gets_the_whole_schema_in_wal_mode(tmp_path):
    store = Store(tmp_path / "sub" / "w.sqlite")
    assert store.schema_version() == 0
    assert store.migrate() == SCHEMA_VERSION
    assert store.schema_version() == SCHEMA_VERSION
    con = sqlite3.connect(store.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for table in [
        "admin_units",
        "grid_versions",
        "grids",
        "cases",
        "case_events",
        "cameras",
        "camera_heartbeats",
        "workers",
        "patrol_points",
        "buildings",
    ]:
        assert table in tables


def test_migrate_twice_changes_nothing(store):
    store.set_meta("x", "1")
    store.migrate()
    assert store.get_meta("x") == "1"
    with store.connect() as con:
        assert con.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len(
            migrations.MIGRATIONS
        )


def test_a_database_from_a_newer_program_is_refused(store):
    with store.connect() as con:
        con.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01T00:00:00Z')")
    with pytest.raises(StoreError, match="schema version 999, newer than this program's"):
        store.migrate()


def test_admin_hierarchy_round_trip(tiny_store):
    townships = tiny_store.admin_units("township", scope=Scope.county())
    assert list(townships["code"]) == ["420999001000", "420999002000"]
    assert list(townships["parent_code"]) == ["420999000000"] * 2
    communities = tiny_store.admin_units(
        "community", parent_code="420999002000", scope=Scope.county()
    )
    assert list(communities["code"]) == ["420999002001", "420999002002"]
    assert set(communities["kind"]) == {"rural"}
    assert communities.crs == "EPSG:4326"
    assert communities.geometry.iloc[0].equals(tiny_county()["communities"].geometry.iloc[2])


def test_unknown_admin_level_is_refused_and_keeps_what_was_stored(tiny_store):
    bad = gpd.GeoDataFrame(
        {"code": ["1"], "name": ["x"], "level": ["province"]},
        geometry=[box(0, 0, 1, 1)],
        crs="EPSG:4326",
    )
    with pytest.raises(StoreError, match=r"unknown level\(s\) \['province'\]"):
        tiny_store.replace_admin_units(bad)
    assert len(tiny_store.admin_units(scope=Scope.county())) == 7


def test_buildings_by_viewport(tiny_store):
    everything = tiny_store.buildings(scope=Scope.county())
    assert len(everything) == 32
    # the first community's column only
    inside = tiny_store.buildings((X0, Y0, X0 + 0.0099, Y0 + 0.02), scope=Scope.county())
    assert len(inside) == 8
    assert set(inside["community_code"]) == {"420999001001"}
    assert (
        len(tiny_store.buildings((X0, Y0, X0 + 0.04, Y0 + 0.02), limit=5, scope=Scope.county()))
        == 5
    )
    assert len(tiny_store.buildings((0, 0, 1, 1), scope=Scope.county())) == 0


def test_failed_replacement_leaves_the_old_buildings(tiny_store):
    version = tiny_store.data_version()
    dup = tiny_county()["buildings"].iloc[:2].copy()
    dup["building_id"] = "SAME"
    with pytest.raises(sqlite3.IntegrityError):
        tiny_store.replace_buildings(dup)
    assert len(tiny_store.buildings(scope=Scope.county())) == 32
    assert tiny_store.data_version() == version


def test_publishing_a_grid_version_archives_the_previous_one(tiny_store):
    first = tiny_store.published_grid_version()
    before = tiny_store.grids(
        scope=Scope.county()
    )  # read (and kept) before the new version is published
    before["grid_code"] = "spoilt"  # a caller changing its copy changes nothing stored
    assert not tiny_store.grids(scope=Scope.county())["grid_code"].eq("spoilt").any()
    data = tiny_county()
    grids = data["grids"].assign(grid_code=data["grids"]["community_code"] + "002")
    second = tiny_store.add_grid_version(grids, note="redrawn")
    assert tiny_store.published_grid_version() == first  # a draft until published
    tiny_store.publish_grid_version(second)
    versions = tiny_store.grid_versions().set_index("version_id")["status"]
    assert versions[first] == "archived" and versions[second] == "published"
    assert tiny_store.grids(scope=Scope.county())["grid_code"].str.endswith("002").all()
    assert len(tiny_store.grids(first, scope=Scope.county())) == 4
    with pytest.raises(StoreError, match="grid version 99 does not exist"):
        tiny_store.publish_grid_version(99)


def test_building_assignments_per_version(tiny_store):
    assignments = tiny_store.building_grids(scope=Scope.county())
    assert len(assignments) == 32
    assert assignments.set_index("building_id").loc["B00000", "grid_code"] == "420999001001001"


def test_totals_and_data_version(store):
    v0 = store.data_version()
    load_tiny_county(store)
    assert store.data_version() > v0
    assert store.totals(scope=Scope.county()) == {
        "townships": 2,
        "communities": 4,
        "buildings": 32,
        "households": 4 * sum(range(24, 32)),
    }


def test_workers_round_trip(store):
    store.replace_workers(
        pd.DataFrame(
            {"worker_id": ["W1"], "name": ["李华"], "phone": ["13800138000"], "grid_code": ["G1"]}
        )
    )
    workers = store.workers(scope=Scope.county())
    assert workers.to_dict("records") == [
        {"worker_id": "W1", "name": "李华", "phone": "13800138000", "grid_code": "G1", "active": 1}
    ]


def test_count_refuses_unknown_tables(store):
    assert store.count("cases") == 0
    with pytest.raises(StoreError, match="unknown table 'sqlite_master'"):
        store.count("sqlite_master")


def test_an_older_database_gets_the_h3_cells_of_its_cases(tmp_path, monkeypatch):
    old = Store(tmp_path / "old.sqlite")
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:4])
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 4)
    assert old.migrate() == 4
    with old.connect() as con:
        con.execute(
            "INSERT INTO cases (case_id, category, status, lon, lat, reported_at, deadline_at, "
            "updated_at) VALUES ('C20261122-00001', 'safety', 'reported', ?, ?, ?, ?, ?)",
            (X0 + 0.005, Y0 + 0.005, *["2026-11-22T00:00:00Z"] * 3),
        )
    monkeypatch.undo()
    assert old.migrate() == SCHEMA_VERSION
    with old.connect() as con:
        row = con.execute("SELECT h3_7, h3_8, h3_9, h3_10 FROM cases").fetchone()
    assert dict(zip(("h3_7", "h3_8", "h3_9", "h3_10"), row, strict=True)) == h3_cells(
        X0 + 0.005, Y0 + 0.005
    )


def test_the_group_commit_fails_a_bad_write_alone():
    batches = []

    def write(items):
        batches.append(list(items))
        if "bad" in items:
            raise ValueError("a bad item")
        return [f"ok:{i}" for i in items]

    commit = GroupCommit(write)
    results: dict[str, object] = {}

    def submit(item):
        try:
            results[item] = commit.submit(item)
        except ValueError as exc:
            results[item] = exc

    threads = [threading.Thread(target=submit, args=(i,)) for i in ("a", "bad", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {k: v for k, v in results.items() if k != "bad"} == {
        "a": "ok:a",
        "b": "ok:b",
        "c": "ok:c",
    }
    assert isinstance(results["bad"], ValueError)
    assert sum(len(b) for b in batches) >= 4


def test_settings_and_case_rules_load_without_the_store():
    code = (
        "import sys, wangge.settings, wangge.casework, wangge.clock, wangge.paths; "
        "print(sorted(m for m in sys.modules if m.startswith('wangge.store')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_sql_is_written_only_in_the_store():
    sql = re.compile(r"\.execute(many)?\(|\b(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b [a-z_*]")
    outside = [
        str(path.relative_to(ROOT))
        for folder in ("geo", "wangge", "dashboard")
        for path in (ROOT / folder).rglob("*.py")
        if "store" not in path.relative_to(ROOT).parts[:2] and sql.search(path.read_text())
    ]
    assert outside == []
