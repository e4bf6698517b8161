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
    assert data.ranking_level == "township"
    assert set(data.ranking["name"]) == {"城关街道", "青石镇"}  # every township, ranked
    assert len(data.trend) == 30 and data.trend["reported"].sum() > 0
    assert data.categories["cases"].sum() == int(
        (cases["reported_at"] >= midnight - pd.Timedelta(days=29)).sum()
    )


def test_refresh_sends_nothing_new_when_nothing_changed_and_shows_a_new_case(app):
    from dashboard.pages import wall

    store = _store(app)
    with signed_in(app):
        first = wall.refresh_wall(1, None, None, {"lang": "zh"})
        fingerprint = first[-2]
        again = wall.refresh_wall(2, None, fingerprint, {"lang": "zh"})
        assert all(v is dash.no_update for v in again[:-1]) and isinstance(again[-1], int)
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
        stale = {**changed[-2], "data": "an older fingerprint"}
        unchanged = wall.refresh_wall(4, None, stale, {"lang": "zh"})
        assert all(v is dash.no_update for v in unchanged[:8])
        assert unchanged[-2] == changed[-2]
        # a 4K wall (scale 2): only the two charts are re-sent, with fonts twice as large
        big = wall.refresh_wall(5, 2.0, changed[-2], {"lang": "zh"})
        same = wall.refresh_wall(6, 2.0, big[-2], {"lang": "zh"})
    assert [i for i, v in enumerate(big[:8]) if v is not dash.no_update] == [2, 3]
    assert big[2]["layout"]["font"]["size"] == 2 * changed[2]["layout"]["font"]["size"]
    assert all(v is dash.no_update for v in same[:-1])
    newest_ids = [row.to_plotly_json()["props"].get("data-case") for row in changed[4]]
    assert newest_ids[0] == stored["case_id"]


def _texts(component) -> list[str]:
    """The strings of a Dash component tree, in order."""
    if isinstance(component, str):
        return [component]
    if isinstance(component, list | tuple):
        return [s for c in component for s in _texts(c)]
    children = getattr(component, "children", None)
    return [] if children is None else _texts(children)


def test_the_ranking_names_its_columns_and_a_township_wall_ranks_its_communities(app):
    from dashboard.pages import wall

    store = _store(app)
    township = "420999001000"
    mine = store.admin_units("community", scope=Scope.of_township(township))
    data = wall_data(store, scope=Scope.of_township(township))
    # every community of the township, none of another, with its own figures
    assert data.ranking_level == "community"
    assert sorted(data.ranking["code"]) == sorted(mine["code"]) and len(mine) > 1
    cases = store.cases_frame(scope=Scope.of_township(township))
    now = pd.Timestamp.now(tz="UTC")
    open_ = cases[cases["closed_at"].isna()]
    for r in data.ranking.itertuples():
        assert r.open == int((open_["community_code"] == r.code).sum())
        overdue = open_[(open_["community_code"] == r.code) & (open_["deadline_at"] < now)]
        assert r.overdue == len(overdue)
    assert list(data.ranking["overdue"]) == sorted(data.ranking["overdue"], reverse=True)
    rows = wall.ranking_rows(data.ranking, "en", data.ranking_level)
    assert _texts(rows[0]) == ["#", "Community", "Open cases", "Overdue", "Open", "30 d"]
    first = rows[1].children[0]
    assert _texts(first)[1] == data.ranking["name"].iloc[0]
    assert _texts(first)[2:] == [f"{data.ranking[k].iloc[0]:,}" for k in wall.RANK_FIGURES]
    # the township's own wall, as its leader opens it: the communities ranked
    with signed_in(app, "township", township):
        text = str(wall.layout())
        shown = wall.refresh_wall(1, None, None, {"lang": "zh"})
    assert "社区/村排名" in text and "乡镇/街道排名" not in text
    assert set(_texts(shown[1])) >= set(mine["name"])


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
