"""Urgent cases in the demo county's data (issue 13): the simulated history and the live feed
report gas leaks, falls, fights... as urgent, deterministically from the seed, and the wall pins
the fed ones until an operator marks them seen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import load_tiny_county

from wangge.access import Scope
from wangge.demo.feed import DemoFeed
from wangge.demo.simulate import URGENT, simulate
from wangge.settings import Settings
from wangge.store import Store

END = datetime(2026, 11, 22, 8, 13, tzinfo=UTC)
COUNTY = Scope.county()
TITLES = {title: category for category, (_, titles) in URGENT.items() for title in titles}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Store:
    """The tiny county set up as the demo: 30 simulated days of 80 cases up to END."""
    store = Store(tmp_path_factory.mktemp("urgent") / "demo.sqlite")
    load_tiny_county(store)
    simulate(store, days=30, per_day=80, gps_days=1, end=END, seed=11)
    store.set_meta("demo_county", "11")
    return store


def _cases(store: Store) -> list[dict]:
    with store.connect() as con:
        rows = con.execute(
            "SELECT case_id, client_id, category, title, urgency, status, seen_at, reported_at, "
            "closed_at FROM cases ORDER BY case_id"
        ).fetchall()
    return [dict(r) for r in rows]


def test_the_history_has_urgent_cases_mostly_closed_and_seen(demo):
    cases = [c for c in _cases(demo) if c["client_id"].startswith("sim:")]
    urgent = [c for c in cases if c["urgency"] == "urgent"]
    # a realistic share (about 1.5 %), urgent situations of their own category only
    assert 0.005 < len(urgent) / len(cases) < 0.04, (len(urgent), len(cases))
    assert all(TITLES.get(c["title"]) == c["category"] for c in urgent)
    assert not any(c["title"] in TITLES for c in cases if c["urgency"] != "urgent")
    # mostly closed; every one accepted was seen then, so only fresh ones are pinned
    assert sum(c["closed_at"] is not None for c in urgent) >= 0.8 * len(urgent)
    assert all(c["seen_at"] for c in urgent if c["status"] != "reported")
    pinned = {c["case_id"] for c in demo.urgent_unseen(scope=COUNTY, limit=100)}
    assert pinned == {c["case_id"] for c in urgent if c["status"] == "reported"}


def test_the_same_seed_makes_the_same_urgent_cases(tmp_path, demo):
    again = Store(tmp_path / "again.sqlite")
    load_tiny_county(again)
    simulate(again, days=30, per_day=80, gps_days=1, end=END, seed=11)
    assert _cases(again) == _cases(demo)
    other = Store(tmp_path / "other.sqlite")
    load_tiny_county(other)
    simulate(other, days=30, per_day=80, gps_days=1, end=END, seed=12)
    urgent = {c["case_id"] for c in _cases(demo) if c["urgency"] == "urgent"}
    assert urgent != {c["case_id"] for c in _cases(other) if c["urgency"] == "urgent"}


def test_a_fed_hour_brings_urgent_cases_and_the_wall_pins_them(demo, tmp_path):
    from dashboard.app import create_app

    create_app(Settings(data_dir=tmp_path))  # the pages register with an app
    from dashboard.pages.wall import urgent_banner

    feed = DemoFeed(demo, per_day=240, pause=0)
    hours = [END.replace(minute=0, second=0) + timedelta(hours=h) for h in range(1, 73)]
    fed = {h: feed.hour_cases(h) for h in hours}
    urgent_hours = [h for h in hours if any(b.get("urgency") == "urgent" for b in fed[h])]
    share = sum(b.get("urgency") == "urgent" for bs in fed.values() for b in bs) / sum(
        map(len, fed.values())
    )
    assert urgent_hours and 0.005 < share < 0.04, share
    hour = urgent_hours[0]
    assert feed.hour_cases(hour) == fed[hour]  # the same hour, the same cases
    urgent = [b for b in fed[hour] if b.get("urgency") == "urgent"]
    assert all(TITLES[b["title"]] == b["category"] for b in urgent)
    feed.advance(hour + timedelta(hours=1))
    stored = {c["client_id"]: c for c in _cases(demo)}
    ids = {stored[b["client_id"]]["case_id"] for b in urgent}
    assert all(stored[b["client_id"]]["urgency"] == "urgent" for b in urgent)
    # the wall's pinned list (as its refresh asks for it) shows them until marked seen
    pinned = demo.urgent_unseen(scope=COUNTY, limit=5)
    assert ids <= {c["case_id"] for c in pinned}
    banner = str(urgent_banner(pinned, "zh", {}))
    assert all(b["title"] in banner for b in urgent)
    for case_id in ids:
        demo.note_case(case_id, "seen", scope=COUNTY, actor="值班员")
    assert not ids & {c["case_id"] for c in demo.urgent_unseen(scope=COUNTY, limit=100)}
