"""The wall display's figures and its refresh that sends nothing when nothing changed."""

from __future__ import annotations

import dash
import pandas as pd
import pytest
from conftest import X0, Y0, load_tiny_county, signed_in

from dashboard.app import create_app
from wangge.access import Scope
from wangge.casework import validate_new_case
from wangge.clock import COUNTY_TZ, utc_now
from wangge.demo.simulate import simulate
from wangge.services.metrics import wall_data, wall_fingerprint
from wangge.settings import Settings
from wangge.store import Store


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("wall")
    settings = Settings(data_dir=data)
    store = Store(settings.db_path)
    load_tiny_county(store)
    simulate(
        store,
        days=35,
        per_day=40,
        gps_days=3,
        seed=3,
        end=pd.Timestamp.now(tz="UTC").floor("h").to_pydatetime(),
    )
    return create_app(settings)


def _store(app) -> Store:
    return app.server.config["WANGGE_STORE"]


def test_kpis_match_the_cases(app):
    store = _store(app)
    now = pd.Timestamp.now(tz="UTC")
    data = wall_data(store, now=now, scope=Scope.county())
    cases = store.cases_frame(scope=Scope.county())
    midnight = now.tz_convert(COUNTY_TZ).normalize().tz_convert("UTC")
    assert data.kpis["reported_today"] == int((cases["reported_at"] >= midnight).sum())
    overdue = cases["closed_at"].isna() & (cases["deadline_at"] < now)
    assert data.kpis["open_overdue"] == int(overdue.sum()) > 0
    assert 0.5 < data.kpis["on_time_rate"] <= 1
    assert data.kpis["cameras_total"] == store.count("cameras")
    assert set(data.overdue["case_id"]) <= set(cases.loc[overdue, "case_id"])
    assert list(data.townships["name"]) and set(data.townships["name"]) <= {"城关街道", "青石镇"}
    assert len(data.trend) == 30 and data.trend["reported"].sum() > 0
    assert data.categories["cases"].sum() == int(
        (cases["reported_at"] >= midnight - pd.Timedelta(days=29)).sum()
    )


def test_refresh_sends_nothing_new_when_nothing_changed_and_shows_a_new_case(app):
    from dashboard.pages import wall

    store = _store(app)
    with signed_in(app):
        first = wall.refresh_wall(1, None, None, {"lang": "zh"})
        fingerprint = first[-3]
        again = wall.refresh_wall(2, None, fingerprint, {"lang": "zh"})
        assert all(v is dash.no_update for v in again[:-2]) and isinstance(again[-2], int)
        assert again[-1] is dash.no_update  # the map keeps its view
        case = validate_new_case(
            {"category": "safety", "lon": X0 + 0.005, "lat": Y0 + 0.005}, now=utc_now()
        )
        stored, _ = store.create_case(
            case,
            app.server.config["WANGGE_LOCATOR"].locate(case["lon"], case["lat"]),
            scope=Scope.county(),
        )
        assert not fingerprint["data"].startswith(wall_fingerprint(store, scope=Scope.county()))
        changed = wall.refresh_wall(3, None, fingerprint, {"lang": "zh"})
        assert changed[0] is not dash.no_update and changed[4] is not dash.no_update
        # only panels whose content differs travel: with the data "changed" but every panel as
        # the wall shows it, nothing but the new fingerprint goes out
        stale = {**changed[-3], "data": "an older fingerprint"}
        unchanged = wall.refresh_wall(4, None, stale, {"lang": "zh"})
        assert all(v is dash.no_update for v in unchanged[:8])
        assert unchanged[-3] == changed[-3]
        # a 4K wall (scale 2): only the two charts are re-sent, with fonts twice as large
        big = wall.refresh_wall(5, 2.0, changed[-3], {"lang": "zh"})
        same = wall.refresh_wall(6, 2.0, big[-3], {"lang": "zh"})
    assert [i for i, v in enumerate(big[:8]) if v is not dash.no_update] == [2, 3]
    assert big[2]["layout"]["font"]["size"] == 2 * changed[2]["layout"]["font"]["size"]
    assert big[-1]["bounds"] and big[-1]["transition"] == "fitBounds"  # refitted to the screen
    assert all(v is dash.no_update for v in same[:-2]) and same[-1] is dash.no_update
    newest_ids = [row.to_plotly_json()["props"].get("data-case") for row in changed[4]]
    assert newest_ids[0] == stored["case_id"]


def test_wall_layout_speaks_english_too(app):
    from dashboard.pages import wall

    with signed_in(app):
        text = str(wall.layout(lang="en"))
    assert "grid management command centre" in text and "Newest cases" in text


def test_wall_shows_the_demo_badge_only_on_the_demo_county(tmp_path):
    settings = Settings(data_dir=tmp_path)
    store = Store(settings.db_path)
    load_tiny_county(store)
    app = create_app(settings)
    from dashboard.pages import wall

    with signed_in(app):
        assert "虚构示范数据" not in str(wall.layout())
        store.set_meta("demo_county", "20261122")
        assert "虚构示范数据" in str(wall.layout())
