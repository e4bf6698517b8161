"""The demo county's live feed on the tiny county: catch-up, idempotence, determinism, patrols,
case handling, cameras, and that it never runs where it must not."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from conftest import load_tiny_county, tiny_county

from wangge import cli
from wangge.access import Scope
from wangge.casework import TRANSITIONS
from wangge.demo import is_demo_store
from wangge.demo.feed import DemoFeed, FeedRefused, start_feed
from wangge.demo.simulate import simulate
from wangge.settings import Settings
from wangge.store import Store

END = datetime(2026, 11, 22, 8, 13, tzinfo=UTC)  # 16:13 China time, a Sunday
FMT = "%Y-%m-%dT%H:%M:%SZ"


def _demo(path) -> Store:
    """The tiny county set up as the demo: 3 simulated days up to END, 5 cameras, flagged."""
    store = Store(path)
    load_tiny_county(store)
    simulate(store, days=3, per_day=60, gps_days=1, end=END, seed=7)
    store.upsert_cameras(
        pd.DataFrame(
            {
                "camera_id": [f"CAM{i:05d}" for i in range(1, 6)],
                "lon": [114.005 + 0.008 * i for i in range(5)],
                "lat": [30.01] * 5,
            }
        ),
        scope=Scope.county(),
    )
    store.set_meta("demo_county", "7")
    return store


@pytest.fixture
def demo(tmp_path) -> Store:
    return _demo(tmp_path / "demo.sqlite")


def _feed(store: Store) -> DemoFeed:
    return DemoFeed(store, per_day=60, pause=0)


def _rows(store: Store) -> dict[str, list[tuple]]:
    with store.connect() as con:
        return {
            "cases": [
                tuple(r)
                for r in con.execute(
                    "SELECT case_id, client_id, category, title, source, status, level, lon, lat,"
                    " grid_code, reporter_name, reporter_phone, reported_at, deadline_at,"
                    " closed_at FROM cases ORDER BY case_id"
                )
            ],
            "events": [
                tuple(r)
                for r in con.execute(
                    "SELECT case_id, at, from_status, to_status, actor FROM case_events"
                    " ORDER BY case_id, at, to_status"
                )
            ],
            "fixes": [tuple(r) for r in con.execute("SELECT * FROM patrol_points ORDER BY 1, 2")],
            "beats": [
                tuple(r) for r in con.execute("SELECT * FROM camera_heartbeats ORDER BY 1, 2")
            ],
        }


def test_catch_up_fills_the_gap_and_records_how_far(demo):
    until = END + timedelta(days=1)
    report = _feed(demo).advance(until)
    fed = demo.cases_frame(scope=Scope.county())
    fed = fed[fed["client_id"].str.startswith("feed:")]
    assert report.cases == len(fed)
    assert 30 < len(fed) < 100  # 60 a day
    assert fed["reported_at"].min() >= pd.Timestamp(END)
    assert fed["reported_at"].max() < pd.Timestamp(until)
    assert (fed["grid_code"] != "").all()
    assert demo.get_meta("demo_fed_until") == until.strftime(FMT)
    # the hourly rhythm: more cases by day (China time) than at night
    local_hour = fed["reported_at"].dt.tz_convert("Asia/Shanghai").dt.hour
    assert local_hour.between(8, 18).sum() > 2 * (~local_hour.between(7, 21)).sum()


def test_a_gap_longer_than_the_window_is_fed_for_its_last_days_only(demo):
    feed = _feed(demo)
    feed.windows = {
        "cases": timedelta(days=2),
        "patrols": timedelta(days=1),
        "heartbeats": timedelta(hours=1),
    }
    until = END + timedelta(days=6)
    report = feed.advance(until)
    fed = demo.cases_frame(scope=Scope.county())
    fed = fed[fed["client_id"].str.startswith("feed:")]
    assert report.cases == len(fed) > 0
    assert fed["reported_at"].min() >= pd.Timestamp(until - timedelta(days=2))
    fixes = demo.patrol_points(since=(END + timedelta(days=1)).strftime(FMT), scope=Scope.county())
    assert len(fixes) and fixes["at"].min() >= pd.Timestamp(until - timedelta(days=1))
    assert demo.get_meta("demo_fed_until") == until.strftime(FMT)


def test_a_second_catch_up_of_the_same_period_writes_nothing(demo):
    feed = _feed(demo)
    until = END + timedelta(hours=20)
    first = feed.advance(until)
    assert first.cases and first.moves and first.fixes and first.beats
    before = _rows(demo)
    again = feed.advance(until)
    assert (again.cases, again.moves, again.fixes, again.beats, again.writes) == (0, 0, 0, 0, 0)
    # even when the recorded time is lost, the same period adds no row
    demo.set_meta("demo_fed_until", END.strftime(FMT))
    redo = _feed(demo).advance(until)
    assert (redo.cases, redo.moves, redo.fixes) == (0, 0, 0)
    assert _rows(demo) == before  # heartbeats included


def test_same_seed_and_period_give_the_same_rows_in_one_catch_up_or_in_ticks(tmp_path):
    until = END + timedelta(hours=26)
    one = _demo(tmp_path / "one.sqlite")
    _feed(one).advance(until)
    ticks = _demo(tmp_path / "ticks.sqlite")
    feed = _feed(ticks)
    t = END
    for step in [timedelta(minutes=m) for m in (7, 300, 1, 45, 600)] * 10:
        t = min(until, t + step)
        feed.advance(t)
    assert t == until
    a, b = _rows(one), _rows(ticks)
    assert len(a["cases"]) > 0 and len(a["fixes"]) > 0
    for table in ("cases", "events", "fixes"):  # a catch-up sends only the last hour's heartbeats
        assert a[table] == b[table], table


def test_patrol_hours_put_the_workers_on_duty(demo):
    feed = _feed(demo)
    morning = datetime(2026, 11, 23, 9, 20, tzinfo=UTC) - timedelta(hours=8)  # 09:20 China time
    report = feed.advance(morning)
    assert report.fixes > 0
    on_duty = demo.workers_seen_since(
        (morning - timedelta(minutes=30)).strftime(FMT), scope=Scope.county()
    )
    assert len(on_duty) >= 3  # 4 workers; one may skip a day
    # a 30-second tick during the walk adds a fix per walking worker
    tick = feed.advance(morning + timedelta(seconds=30))
    assert tick.fixes == tick.workers_walking == len(on_duty)
    # at night nobody walks
    night = datetime(2026, 11, 24, 2, 0, tzinfo=UTC) - timedelta(hours=8)
    feed.advance(night)
    assert not demo.workers_seen_since(
        (night - timedelta(minutes=30)).strftime(FMT), scope=Scope.county()
    )
    # yesterday's walks add up to the patrol norm for most workers
    stats = demo.patrol_day_stats(
        since=(datetime(2026, 11, 23, tzinfo=UTC) - timedelta(hours=8)).strftime(FMT),
        until=(datetime(2026, 11, 24, tzinfo=UTC) - timedelta(hours=8)).strftime(FMT),
        scope=Scope.county(),
    )
    assert sum(1 for s, m in stats.values() if s == 2 and m >= 150) >= 2


def test_open_cases_progress_along_the_lifecycle(demo):
    states = demo.open_case_states(scope=Scope.county())
    open_before = {s["case_id"]: s["status"] for s in states}
    history = {s["case_id"]: s["events"] for s in states}
    assert len(open_before) > 10
    report = _feed(demo).advance(END + timedelta(days=2))
    assert report.moves > len(open_before)
    frame = demo.cases_frame(scope=Scope.county()).set_index("case_id")
    moved = [c for c, status in open_before.items() if frame.loc[c, "status"] != status]
    assert len(moved) > 0.8 * len(open_before)
    assert (frame.loc[list(open_before), "status"] == "closed").mean() > 0.5
    fed = frame[frame["client_id"].str.startswith("feed:")]
    assert {"closed", "accepted", "dispatched", "in_progress"} & set(fed["status"])
    for case_id in [*list(open_before)[:20], *fed.index[:20]]:
        case = demo.get_case(case_id, scope=Scope.county())
        events = case["events"]
        assert events[0]["to_status"] == "reported" and events[-1]["to_status"] == case["status"]
        for before, after in zip(events, events[1:], strict=False):
            assert after["to_status"] in TRANSITIONS[before["to_status"]]
            assert after["at"] >= before["at"]
        # steps the simulation left pending happen after it ended
        if case_id in open_before:
            assert all(e["at"] >= END.strftime(FMT) for e in events[history[case_id] :])
        assert (case["closed_at"] is not None) == (case["status"] == "closed")


def test_cases_people_reported_are_left_to_people(demo):
    from wangge.casework import validate_new_case
    from wangge.services.locate import Locator

    body = {"client_id": "hotline-1", "category": "safety", "lon": 114.005, "lat": 30.005}
    case = validate_new_case(body, now=(END + timedelta(minutes=1)).strftime(FMT))
    created, _ = demo.create_case(case, Locator(demo).locate(114.005, 30.005), scope=Scope.county())
    _feed(demo).advance(END + timedelta(days=1))
    assert demo.get_case(created["case_id"], scope=Scope.county())["status"] == "reported"


def test_cameras_report_every_five_minutes_and_some_drop_out(demo):
    feed = _feed(demo)
    report = feed.advance(END + timedelta(hours=5))
    assert report.beats == 5 * 12  # a catch-up reports the last hour: 12 rounds of 5 cameras
    cams = demo.cameras(scope=Scope.county())
    assert set(cams["status"]) <= {"online", "offline"}
    assert (cams["last_heartbeat"] > (END + timedelta(hours=4, minutes=54)).strftime(FMT)).all()
    # the outage model over many cameras and a month: about 7 % offline, and they come back
    ids = [f"X{i}" for i in range(300)]
    hours = [END + timedelta(hours=h) for h in range(0, 24 * 30, 6)]
    states = pd.DataFrame([feed.camera_offline(ids, t) for t in hours])
    assert 0.03 < states.to_numpy().mean() < 0.12
    assert (states.astype(int).diff() < 0).to_numpy().sum() > 20  # outages that ended


def test_the_feed_refuses_a_store_that_is_not_the_demo(tiny_store, demo):
    with pytest.raises(FeedRefused, match="is not the demo county .* never runs on a real county"):
        DemoFeed(tiny_store)
    assert start_feed(tiny_store) is None
    # loading another hierarchy over the demo county takes the demo flag away
    data = tiny_county()
    units = pd.concat(
        [data["county"].assign(level="county", kind="county", parent_code=None)],
        ignore_index=True,
    )
    import geopandas as gpd

    assert is_demo_store(demo)
    demo.replace_admin_units(gpd.GeoDataFrame(units, crs="EPSG:4326"))
    with pytest.raises(FeedRefused, match="not the demo county"):
        DemoFeed(demo)
    assert start_feed(demo) is None


def test_one_rule_says_which_store_holds_the_demo_county(tiny_store, demo, caplog):
    """The feed and the dashboard's badge ask is_demo_store: a store with another county (or a
    demo county another hierarchy was loaded over) gets no feed; nothing is written."""
    assert is_demo_store(demo) and not is_demo_store(tiny_store)
    before = _rows(tiny_store)
    with caplog.at_level("INFO", logger="wangge.demo.feed"):
        assert start_feed(tiny_store, enabled=True) is None
    assert "demo feed not started" in caplog.text and "is not the demo county" in caplog.text
    assert _rows(tiny_store) == before and tiny_store.get_meta("demo_fed_until") is None
    demo.replace_admin_units(tiny_store.admin_units(scope=Scope.county()))
    assert not is_demo_store(demo) and start_feed(demo) is None


def test_the_setting_switches_it_off(demo, tmp_path, monkeypatch):
    assert Settings.from_env({}).demo_feed is True
    assert Settings.from_env({"WANGGE_DEMO_FEED": "0"}).demo_feed is False
    with pytest.raises(ValueError, match="WANGGE_DEMO_FEED='maybe': expected 1 .on. or 0 .off."):
        Settings.from_env({"WANGGE_DEMO_FEED": "maybe"})
    assert start_feed(demo, enabled=False) is None
    assert demo.get_meta("demo_fed_until") == END.strftime(FMT)


@pytest.mark.parametrize("enabled", [False, True])
def test_the_served_app_starts_the_feed_only_when_switched_on(tmp_path, monkeypatch, enabled):
    import waitress

    import dashboard.app
    import wangge.demo.setup

    _demo(tmp_path / "wangge.sqlite")
    monkeypatch.setattr(wangge.demo.setup, "ensure_demo", lambda *a, **k: False)
    monkeypatch.setattr(waitress, "serve", lambda *a, **k: None)
    monkeypatch.setattr("wangge.services.analytics.AnalyticsService.warm_up", lambda self: None)
    monkeypatch.setattr("wangge.demo.feed._now", lambda: END + timedelta(hours=1))
    app = dashboard.app.create_app(Settings(data_dir=tmp_path, demo_feed=enabled))
    dashboard.app.main(app)
    handle = app.server.config["WANGGE_FEED"]
    assert (handle is not None) == enabled
    if handle:
        thread, stop = handle
        deadline = time.monotonic() + 30
        while app.server.config["WANGGE_STORE"].get_meta("demo_fed_until") == END.strftime(FMT):
            assert time.monotonic() < deadline, "the feed did not catch up"
            time.sleep(0.1)
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive()


def test_a_failing_feed_is_retried_and_the_thread_lives_on(demo, monkeypatch, caplog):
    feed = _feed(demo)
    calls = []

    def flaky(until=None):
        calls.append(until)
        if len(calls) <= 2:
            raise OSError("disk full")
        return real(END + timedelta(minutes=len(calls)))

    real = feed.advance
    monkeypatch.setattr(feed, "advance", flaky)
    stop = threading.Event()
    thread = threading.Thread(target=feed.run, args=(stop,), kwargs={"interval": 0.01})
    thread.start()
    deadline = time.monotonic() + 10
    while len(calls) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert thread.is_alive()
    stop.set()
    thread.join(timeout=10)
    assert len(calls) >= 4
    assert "demo feed: feeding failed (2 in a row)" in caplog.text
    assert demo.get_meta("demo_fed_until") > END.strftime(FMT)


def test_no_personal_data_in_the_log_or_on_the_command_line(
    demo, tmp_path, monkeypatch, capsys, caplog
):
    caplog.set_level("DEBUG", logger="dashboard")
    monkeypatch.setenv("WANGGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WANGGE_DEMO_FEED", "1")
    _feed(demo).advance(END + timedelta(hours=12))
    store = _demo(tmp_path / "wangge.sqlite")
    monkeypatch.setattr("wangge.demo.feed._now", lambda: END + timedelta(hours=12))
    assert cli.main(["demo", "feed", "--once"]) == 0
    out = capsys.readouterr().out
    assert "cases," in out and "+ C2026112" in out
    people = store.cases_frame(scope=Scope.county())
    with store.connect() as con:
        personal = [
            v
            for r in con.execute("SELECT reporter_name, reporter_phone FROM cases")
            for v in r
            if v
        ]
    assert len(people) and personal
    text = out + caplog.text
    assert not [p for p in personal if p in text]


def test_the_command_refuses_when_off_or_not_the_demo(tiny_store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WANGGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WANGGE_DEMO_FEED", "0")
    assert cli.main(["demo", "feed", "--once"]) == 2
    assert "switched off (WANGGE_DEMO_FEED=0)" in capsys.readouterr().err
    monkeypatch.setenv("WANGGE_DEMO_FEED", "1")
    assert cli.main(["demo", "feed", "--once"]) == 2
    assert "is not the demo county" in capsys.readouterr().err


def test_migration_marks_a_demo_store_set_up_before_the_feed(tmp_path):
    store = _demo(tmp_path / "old.sqlite")
    store.set_meta("demo_simulated", "7")  # what ensure_demo wrote before the feed existed
    with store.transaction() as con:
        con.execute("DELETE FROM meta WHERE key LIKE 'demo_%' AND key != 'demo_simulated'")
        con.execute("DELETE FROM schema_migrations WHERE version = 6")
    store.migrate()
    assert store.get_meta("demo_county") == "7"
    # the newest simulated time: here the last patrol fix or case before END
    until = store.get_meta("demo_simulated_until")
    assert until == store.get_meta("demo_fed_until")
    assert (END - timedelta(hours=2)).strftime(FMT) < until <= END.strftime(FMT)
    # a store that never held the demo gets none of it
    plain = Store(tmp_path / "plain.sqlite")
    load_tiny_county(plain)
    assert plain.get_meta("demo_county") is None and plain.get_meta("demo_fed_until") is None
