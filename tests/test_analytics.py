"""The dashboard's analytics cache: recompute what a change touches, and only that."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from conftest import load_tiny_county

from wangge.access import Scope
from wangge.casework import validate_new_case
from wangge.clock import utc_now
from wangge.demo.simulate import simulate
from wangge.services.analytics import AnalyticsService
from wangge.services.locate import Locator
from wangge.store import Store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("analytics") / "wangge.sqlite")
    load_tiny_county(store)
    simulate(
        store,
        days=10,
        per_day=40,
        gps_days=2,
        seed=5,
        end=pd.Timestamp.now(tz="UTC").floor("h").to_pydatetime(),
    )
    store.upsert_cameras(
        pd.DataFrame(
            {
                "camera_id": [f"CAM{i:05d}" for i in range(1, 6)],
                "lon": [114.005 + 0.008 * i for i in range(5)],
                "lat": [30.01] * 5,
                "bearing": [90.0] * 5,
            }
        ),
        scope=Scope.county(),
    )
    return store


def _new_case(store: Store) -> None:
    p = store.grids(scope=Scope.county()).geometry.iloc[0].representative_point()
    case = validate_new_case({"category": "order", "lon": p.x, "lat": p.y}, now=utc_now())
    store.create_case(case, Locator(store).locate(p.x, p.y), scope=Scope.county())


def test_new_cases_and_heartbeats_do_not_recompute_yesterdays_patrols_or_camera_views(store):
    analytics = AnalyticsService(store)
    patrols, sectors = analytics.patrol_yesterday(), analytics.sectors(scope=Scope.county())
    coverage = analytics.camera_coverage()
    cam = store.cameras(scope=Scope.county())["camera_id"].iloc[0]
    _new_case(store)
    store.record_heartbeats([(cam, utc_now(), False)], scope=Scope.county())
    analytics._fingerprint = None
    assert analytics.patrol_yesterday() is patrols
    assert analytics.camera_coverage() is coverage
    again = analytics.sectors(scope=Scope.county())
    # the shapes are reused, the status is current
    assert again.geometry.equals(sectors.geometry)
    assert set(again.loc[again["camera_id"] == cam, "status"]) == {"offline"}


def test_a_fix_of_yesterday_recomputes_yesterdays_patrols(store):
    analytics = AnalyticsService(store)
    before = analytics.patrol_yesterday()
    day = pd.Timestamp.now(tz="Asia/Shanghai").normalize() - pd.Timedelta(hours=12)
    worker = store.workers(scope=Scope.county())["worker_id"].iloc[0]
    p = store.grids(scope=Scope.county()).geometry.iloc[0].representative_point()
    at = day.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    store.add_patrol_points([(worker, at, p.x, p.y, 5.0)], scope=Scope.county())
    # served stale at once, recomputed in the background
    assert analytics.patrol_yesterday() is before
    deadline = time.monotonic() + 20
    while analytics.patrol_yesterday() is before:
        assert time.monotonic() < deadline, "yesterday's patrols were not recomputed"
        time.sleep(0.05)
