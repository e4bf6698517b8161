"""The demo simulation on the tiny county: deterministic, consistent with the lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import load_tiny_county

from wangge.access import Scope
from wangge.casework import TRANSITIONS
from wangge.demo.simulate import simulate
from wangge.store import Store

END = datetime(2026, 11, 22, 8, tzinfo=UTC)


@pytest.fixture
def simulated(tmp_path):
    store = Store(tmp_path / "a.sqlite")
    load_tiny_county(store)
    counts = simulate(store, days=10, per_day=60, gps_days=2, end=END, seed=7)
    return store, counts


def test_same_seed_and_end_give_the_same_data(simulated, tmp_path):
    store, counts = simulated
    other = Store(tmp_path / "b.sqlite")
    load_tiny_county(other)
    assert simulate(other, days=10, per_day=60, gps_days=2, end=END, seed=7) == counts
    cols = ["case_id", "category", "status", "lon", "lat", "reported_at", "closed_at"]
    a, b = (
        store.cases_frame(scope=Scope.county())[cols],
        other.cases_frame(scope=Scope.county())[cols],
    )
    assert (
        a.sort_values("case_id")
        .reset_index(drop=True)
        .equals(b.sort_values("case_id").reset_index(drop=True))
    )
    assert store.patrol_points(scope=Scope.county()).equals(
        other.patrol_points(scope=Scope.county())
    )


def test_cases_follow_the_lifecycle_and_the_clock(simulated):
    store, counts = simulated
    assert 400 < counts["cases"] < 800  # 60 a day for 10 days
    frame = store.cases_frame(scope=Scope.county())
    assert frame["reported_at"].min() >= datetime(2026, 11, 12, 8, tzinfo=UTC)
    assert frame["reported_at"].max() <= END
    assert set(frame["grid_code"]) <= set(store.grids(scope=Scope.county())["grid_code"]) | {""}
    assert (frame["grid_code"] != "").mean() > 0.9
    for case_id in frame["case_id"].sample(60, random_state=1):
        case = store.get_case(case_id, scope=Scope.county())
        events = case["events"]
        assert events[0]["to_status"] == "reported" and events[-1]["to_status"] == case["status"]
        for before, after in zip(events, events[1:], strict=False):
            assert after["to_status"] in TRANSITIONS[before["to_status"]]
            assert after["at"] >= before["at"]
        assert (case["closed_at"] is not None) == (case["status"] == "closed")
    closed = frame[frame["status"] == "closed"]
    late = (closed["closed_at"] > closed["deadline_at"]).mean()
    assert 0.02 < late < 0.25
    assert (frame["status"] != "closed").sum() > 0  # recent cases still open


def test_workers_patrol_their_own_grids_twice_a_day(simulated):
    store, counts = simulated
    workers = store.workers(scope=Scope.county())
    assert len(workers) == len(store.grids(scope=Scope.county())) == counts["workers"]
    points = store.patrol_points(scope=Scope.county())
    assert counts["patrol_points"] == len(points) > 0
    per_worker_day = points.groupby(
        ["worker_id", points["at"].dt.tz_convert("Asia/Shanghai").dt.date]
    ).size()
    assert per_worker_day.median() > 200  # two sessions of about 90 minutes, a fix every 30 s


def test_a_second_simulation_adds_cases_when_numbered_past_the_first(simulated):
    store, counts = simulated
    before = store.count("cases")
    # the same day numbers: most of a second simulation meets the first one's case ids
    simulate(store, days=10, per_day=60, gps_days=0, end=END, seed=8)
    assert store.count("cases") < before + 0.5 * counts["cases"]
    middle = store.count("cases")
    again = simulate(store, days=10, per_day=60, gps_days=0, end=END, seed=8, first_sequence=10_000)
    assert store.count("cases") == middle + again["cases"]
    assert store.cases_frame(scope=Scope.county())["case_id"].str.endswith("-10001").any()
