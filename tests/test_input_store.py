"""What no input may do to the store (issue #11): case ids that collide past 99,999 a day, times
out of range (and the migration that repairs those stored before), files readable by others."""

from __future__ import annotations

import stat

import pytest
from conftest import X0, Y0, load_tiny_county

from wangge import clock
from wangge.access import Scope
from wangge.casework import ValidationError, validate_new_case
from wangge.store import Store

REPAIRING_MIGRATION = 9


def _raw_case(con, case_id: str, reported_at: str, closed_at: str | None = None) -> None:
    con.execute(
        "INSERT INTO cases (case_id, category, status, lon, lat, reported_at, deadline_at, "
        "closed_at, updated_at) VALUES (?, 'order', ?, 114.005, 30.005, ?, ?, ?, ?)",
        (
            case_id,
            "closed" if closed_at else "accepted",
            reported_at,
            reported_at,
            closed_at,
            reported_at,
        ),
    )


def test_migration_9_repairs_times_out_of_range_and_counts_the_ids(tmp_path):
    store = Store(tmp_path / "old.sqlite")
    before = store.migrate(upto=REPAIRING_MIGRATION - 1)
    assert before < REPAIRING_MIGRATION
    with store.transaction() as con:
        # the year-999 transition of the issue, as the old server stored it
        _raw_case(con, "C20261120-00007", "2026-11-20T02:00:00Z")
        con.execute(
            "INSERT INTO case_events (case_id, at, from_status, to_status, actor, comment) VALUES "
            "('C20261120-00007', '2026-11-20T02:00:00Z', NULL, 'reported', 'x', ''),"
            "('C20261120-00007', '999-06-01T00:00:00Z', 'reported', 'accepted', 'x', 'ok')"
        )
        # a case reported in year 9999 (its history is fine), a closing time in year 1
        _raw_case(con, "C20261121-100000", "9999-01-01T00:00:00Z")
        con.execute(
            "INSERT INTO case_events (case_id, at, from_status, to_status, actor, comment) VALUES "
            "('C20261121-100000', '2026-11-21T03:00:00Z', NULL, 'reported', 'x', '')"
        )
        _raw_case(con, "C20261121-99999", "2026-11-21T01:00:00Z", closed_at="1-01-01T00:00:00Z")
        con.execute(
            "INSERT INTO case_events (case_id, at, from_status, to_status, actor, comment) VALUES "
            "('C20261121-99999', '2026-11-21T01:00:00Z', NULL, 'reported', 'x', ''),"
            "('C20261121-99999', '2026-11-21T05:00:00Z', 'verified', 'closed', 'x', '')"
        )
        con.execute(
            "INSERT INTO patrol_points VALUES ('w1', '0999-01-01T00:00:00Z', 114, 30, -5),"
            "('w1', '2026-11-21T01:00:00Z', 114, 30, -5)"
        )
        # a camera imported before imports obeyed the API's rules (the camera layer then failed)
        con.execute(
            "INSERT INTO cameras (camera_id, lon, lat, fov, range_m, mount_height, "
            "last_heartbeat) VALUES ('CAM1', 114, 30, -30, -5, -2, '9999-01-01T00:00:00Z')"
        )
    assert store.migrate() >= REPAIRING_MIGRATION
    with store.connect() as con:
        events = con.execute(
            "SELECT at, comment FROM case_events WHERE case_id = 'C20261120-00007' ORDER BY at"
        ).fetchall()
        assert [tuple(e) for e in events] == [
            ("2026-11-20T02:00:00Z", ""),
            ("2026-11-20T02:00:00Z", "ok [time repaired: was 999-06-01T00:00:00Z]"),
        ]
        reported, deadline = con.execute(
            "SELECT reported_at, deadline_at FROM cases WHERE case_id = 'C20261121-100000'"
        ).fetchone()
        assert reported == "2026-11-21T03:00:00Z" and deadline == "2026-11-22T03:00:00Z"
        closed = con.execute(
            "SELECT closed_at FROM cases WHERE case_id = 'C20261121-99999'"
        ).fetchone()[0]
        assert closed == "2026-11-21T05:00:00Z"
        assert [tuple(r) for r in con.execute("SELECT at, accuracy FROM patrol_points")] == [
            ("2026-11-21T01:00:00Z", None)
        ]
        counters = dict(con.execute("SELECT day, last FROM case_id_counters").fetchall())
        camera = con.execute(
            "SELECT fov, range_m, mount_height, last_heartbeat FROM cameras"
        ).fetchone()
    assert tuple(camera) == (90, 50, 4, None)
    # numbers, not strings: 100000 > 99999
    assert counters == {"20261120": 7, "20261121": 100000}


def _new(reported_at: str) -> dict:
    return validate_new_case(
        {"category": "order", "lon": X0 + 0.005, "lat": Y0 + 0.005, "reported_at": reported_at},
        now=clock.utc_now(),
    )


def test_case_ids_never_collide_past_99999_in_one_day(tiny_store):
    day_time = "2026-11-21T02:00:00Z"  # local day 20261121
    location = {"township_code": "420999001000", "community_code": "", "grid_code": ""}
    with tiny_store.transaction() as con:
        con.execute("INSERT INTO case_id_counters VALUES ('20261121', 99998)")
    ids = [
        tiny_store.create_case(_new(day_time), location, scope=Scope.county())[0]["case_id"]
        for _ in range(3)
    ]
    assert ids == ["C20261121-99999", "C20261121-100000", "C20261121-100001"]
    # existing ids are untouched and the next one still follows
    assert tiny_store.get_case("C20261121-99999", scope=Scope.county()) is not None
    bulk = tiny_store.create_cases_bulk(
        [_new(day_time)], [location], scope=Scope.county(), actor="import"
    )
    assert bulk == ["C20261121-100002"]


def test_ids_inserted_by_the_simulation_are_never_handed_out_again(tiny_store):
    case = {**_new("2026-11-21T02:00:00Z"), "case_id": "C20261121-00500"}
    case.update(
        status="reported",
        level="grid",
        township_code="420999001000",
        community_code="",
        grid_code="",
        updated_at=clock.utc_now(),
    )
    assert tiny_store.insert_cases_bulk([case], [], scope=Scope.county()) == 1
    location = {"township_code": "420999001000"}
    made, _ = tiny_store.create_case(_new("2026-11-21T03:00:00Z"), location, scope=Scope.county())
    assert made["case_id"] == "C20261121-00501"


def test_a_transition_before_the_report_is_refused(tiny_store):
    location = {"township_code": "420999001000"}
    made, _ = tiny_store.create_case(_new("2026-11-21T03:00:00Z"), location, scope=Scope.county())
    with pytest.raises(ValidationError, match="at: .* is before the report"):
        tiny_store.transition_case(
            made["case_id"], "accepted", scope=Scope.county(), actor="a", at="2026-11-21T02:59:59Z"
        )


def test_the_database_and_its_wal_files_are_private(tmp_path):
    store = Store(tmp_path / "db" / "wangge.sqlite")
    load_tiny_county(store)
    files = [store.path, *(store.path.with_name(store.path.name + s) for s in ("-wal", "-shm"))]
    assert all(f.exists() for f in files)
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_migrate_tightens_a_database_an_older_version_left_readable(tmp_path):
    store = Store(tmp_path / "wangge.sqlite")
    store.migrate()
    store.path.chmod(0o644)
    store.migrate()
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
