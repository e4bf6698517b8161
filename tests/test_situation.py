"""The drill-down page: county -> township -> community -> grid, metrics, grid card."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from conftest import load_tiny_county, signed_in
from dash.exceptions import PreventUpdate

from dashboard.app import create_app
from wangge.access import Scope
from wangge.demo.simulate import simulate
from wangge.services.metrics import unit_view
from wangge.settings import Settings
from wangge.store import Store


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("sit"))
    store = Store(settings.db_path)
    load_tiny_county(store)
    simulate(
        store,
        days=20,
        per_day=40,
        gps_days=2,
        seed=9,
        end=pd.Timestamp.now(tz="UTC").floor("h").to_pydatetime(),
    )
    return create_app(settings)


def _view(app, level, code):
    cfg = app.server.config
    return unit_view(
        cfg["WANGGE_STORE"], cfg["WANGGE_ANALYTICS"], level, code, scope=Scope.county()
    )


def test_each_level_has_its_children_and_their_figures_add_up(app):
    county = _view(app, "county", None)
    assert [c[2] for c in county.chain] == ["测试县"]
    assert list(county.children["name"]) == ["城关街道", "青石镇"]
    assert county.children["cases"].sum() == county.figures.kpis["reported"]
    assert county.children["households"].sum() == 4 * sum(range(24, 32))
    town = _view(app, "township", "420999002000")
    assert [c[2] for c in town.chain] == ["测试县", "青石镇"]
    assert set(town.children["code"]) == {"420999002001", "420999002002"}
    assert town.figures.kpis["reported"] == town.children["cases"].sum()
    community = _view(app, "community", "420999002001")
    assert list(community.children["code"]) == ["420999002001001"]
    grid = _view(app, "grid", "420999002001001")
    assert grid.grid["households"] == sum(range(24, 32)) and grid.grid["buildings"] == 8
    assert grid.grid["worker"] and "****" in grid.grid["worker_phone"]
    assert 0 <= grid.grid["patrol_street_share"] <= 1
    assert [c[0] for c in grid.chain] == ["county", "township", "community", "grid"]


def test_unknown_units_fall_back_to_the_county(app):
    assert _view(app, "township", "999999999999").level == "county"
    assert _view(app, "grid", "nope").level == "county"
    assert _view(app, "planet", None).level == "county"


def test_clicking_a_child_goes_one_level_down_keeping_metric_and_language(app):
    from dashboard import ids
    from dashboard.pages import situation

    county = {"level": "county", "code": "420999000000", "metric": "gi", "lang": "en"}
    click = {"id": "420999001000", "properties": {"code": "420999001000"}}
    assert situation.target(ids.SIT_CHILDREN, click, "gi", county) == {
        **county,
        "level": "township",
        "code": "420999001000",
    }
    grid = {"level": "grid", "code": "420999001001001", "metric": "per100", "lang": "zh"}
    assert situation.target(ids.SIT_CHILDREN, {"properties": {"code": "x"}}, None, grid) is None
    town = {**grid, "level": "township", "code": "420999001000"}
    assert situation.target(ids.SIT_METRIC, None, "overdue", town) == {**town, "metric": "overdue"}
    assert situation.target(ids.SIT_METRIC, None, "per100", town) is None  # nothing changed
    crumb = {"level": "county", "code": "420999000000", "at": 1}  # what a link click stores
    assert situation.target(ids.SIT_TARGET, crumb, None, town)["level"] == "county"
    assert situation.target(ids.SIT_TARGET, None, None, town) is None
    # the shareable URL of a view keeps the metric and the language
    query = parse_qs(urlparse(situation.href("township", "420999001000", "gi", "en")).query)
    assert query == {
        "level": ["township"],
        "code": ["420999001000"],
        "metric": ["gi"],
        "lang": ["en"],
    }


def test_a_drill_down_updates_the_page_in_place(app):
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    from dashboard import ids
    from dashboard.pages import situation

    state = {"level": "county", "code": "420999000000", "metric": "per100", "lang": "zh"}
    click = {"id": "420999002000", "properties": {"code": "420999002000"}}
    context_value.set(
        AttributeDict(
            triggered_inputs=[{"prop_id": f"{ids.SIT_CHILDREN}.clickData", "value": click}]
        )
    )
    with signed_in(app):
        out = situation.navigate([], click, "per100", state)
    new, crumbs, kpis, detail, trend, cats, legend, viewport, children, hideout = out[:10]
    hot = {"period": "30d", "category": None}  # the hot-spot choices' defaults
    assert new == {**state, "level": "township", "code": "420999002000", **hot}
    assert "青石镇" in str(crumbs) and "社区/村排名" in str(detail)
    assert {f["id"] for f in children["features"]} == {"420999002001", "420999002002"}
    assert set(hideout["values"]) == {"420999002001", "420999002002"}
    (south, west), (north, east) = viewport["bounds"]
    assert south < north and west < east
    # a state tampered with in the browser gets the defaults, not an error
    with signed_in(app):
        odd = situation.navigate([], click, "per100", {"level": "county", "metric": "x; drop"})
    assert odd[0]["metric"] == "per100" and odd[0]["lang"] == "zh"
    # a township leader cannot drill into another township: they stay in their own
    with signed_in(app, "township", scope="420999001000"):
        out = situation.navigate([], click, "per100", state)
    assert out[0]["code"] == "420999001000"
    assert "青石镇" not in str(out[1])


def test_layouts_render_at_every_level(app):
    from dashboard.pages import situation

    with signed_in(app):
        for level, code, expect in [
            ("county", None, "乡镇/街道排名"),
            ("township", "420999001000", "社区/村排名"),
            ("community", "420999001001", "网格排名"),
            ("grid", "420999001001001", "网格档案"),
        ]:
            text = str(situation.layout(level=level, code=code))
            assert expect in text, level
        assert "Hot spots (Gi*)" in str(situation.layout(lang="en", metric="gi"))
    # each Gi* bin's swatch carries the class that colours it
    legend = situation._legend("gi", "en")
    classes = [row.children[0].className for row in legend.children[1:]]
    assert classes == [f"swatch gi{b}" for b in (3, 2, 1, 0, -1, -2, -3)]


def test_a_failed_analysis_leaves_its_column_empty_not_the_page(app, monkeypatch, caplog):
    analytics = app.server.config["WANGGE_ANALYTICS"]

    def broken():
        raise RuntimeError("GEOS gave up")

    monkeypatch.setattr(analytics, "camera_coverage", broken)
    view = _view(app, "township", "420999001000")
    assert view.children["camera"].isna().all()
    assert view.children["patrol"].notna().any()
    assert "camera coverage failed" in caplog.text


def test_the_case_cube_gives_every_unit_the_same_figures_as_its_own_query(app):
    import math

    from wangge.services.metrics import case_cube, case_figures, cube_figures, cube_grid_stats

    store = app.server.config["WANGGE_STORE"]
    now = pd.Timestamp.now(tz="UTC")
    cube = case_cube(store, now=now, scope=Scope.county())
    units = store.admin_units(scope=Scope.county())
    grid = store.grids(scope=Scope.county())["grid_code"].iloc[0]
    checked = 0
    for filters in [
        {},
        {"township_code": units.loc[units["level"] == "township", "code"].iloc[1]},
        {"community_code": units.loc[units["level"] == "community", "code"].iloc[0]},
        {"grid_code": grid},
    ]:
        fast, slow = (
            cube_figures(cube, filters),
            case_figures(store, filters=filters, now=now, scope=Scope.county()),
        )
        for key, value in slow.kpis.items():
            mine = fast.kpis[key]
            assert (math.isnan(value) and math.isnan(mine)) or mine == pytest.approx(value), key
        pd.testing.assert_frame_equal(fast.categories, slow.categories)
        pd.testing.assert_frame_equal(fast.trend, slow.trend)
        checked += slow.kpis["reported"]
    assert checked > 0
    since = (now.tz_convert("Asia/Shanghai").normalize() - pd.Timedelta(days=29)).tz_convert("UTC")
    assert cube_grid_stats(cube, "420999001") == store.grid_case_stats(
        prefix="420999001",
        now=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        since=since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        scope=Scope.county(),
    )


def test_figures_follow_new_cases_without_waiting_for_them(app):
    """Stale-while-revalidate: a new case shows on a later visit; the visit itself never waits
    for the recomputation."""
    import time

    from wangge.services import analytics as service

    analytics = app.server.config["WANGGE_ANALYTICS"]
    store = app.server.config["WANGGE_STORE"]
    before = _view(app, "county", None).figures.kpis["reported_today"]
    from wangge.casework import validate_new_case
    from wangge.clock import utc_now

    grid = store.grids(scope=Scope.county()).iloc[0]
    p = grid.geometry.representative_point()
    case = validate_new_case({"category": "order", "lon": p.x, "lat": p.y}, now=utc_now())
    store.create_case(
        case, app.server.config["WANGGE_LOCATOR"].locate(p.x, p.y), scope=Scope.county()
    )
    analytics._fingerprint = None  # as if FINGERPRINT_TTL had passed
    deadline = time.monotonic() + 20
    while _view(app, "county", None).figures.kpis["reported_today"] == before:
        assert time.monotonic() < deadline, "the cube was not refreshed"
        time.sleep(0.1)
    assert service.FINGERPRINT_TTL <= 5


def test_today_is_drawn_as_partial_not_as_a_false_drop(app):
    from dashboard.components.trend import daily_lines
    from dashboard.pages.wall import trend_figure

    now = pd.Timestamp("2026-12-06 03:00", tz="UTC")  # 11:00 in the county
    days = pd.date_range("2026-12-01", "2026-12-06", freq="D", tz="Asia/Shanghai")
    trend = pd.DataFrame({"day": days, "reported": [9, 8, 9, 10, 9, 2], "closed": [1] * 6})
    series = (("reported", "reported", "#f00"),)
    traces, notes = daily_lines(trend, series, "en", now=now)
    solid, partial = traces
    assert solid["x"][-1] == "2026-12-05" and solid["y"] == [9, 8, 9, 10, 9]
    assert partial["x"] == ["2026-12-05", "2026-12-06"] and partial["y"] == [9, 2]
    assert partial["line"]["dash"] == "dot" and partial["showlegend"] is False
    assert [n["text"] for n in notes] == ["today (so far)"] and notes[0]["x"] == "2026-12-06"
    # a window that ended yesterday has no partial day
    traces, notes = daily_lines(trend, series, "en", now=now + pd.Timedelta(days=1))
    assert len(traces) == 1 and traces[0]["y"][-1] == 2 and notes == []
    # the charts of the drill-down and the wall (the same figure) end today as partial
    today = pd.Timestamp.now(tz="Asia/Shanghai").normalize()
    figure = trend_figure(trend.assign(day=pd.date_range(end=today, periods=6, freq="D")), "zh")
    assert [t["line"].get("dash") for t in figure["data"]] == [None, "dot", None, "dot"]
    assert figure["layout"]["annotations"][0]["text"] == "今日(未完)"


def test_hot_spot_choices_travel_in_the_state(app):
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    from dashboard import ids
    from dashboard.pages import situation

    state = {"level": "county", "code": "420999000000", "metric": "gi", "lang": "en"}

    def change(prop: str, value):
        context_value.set(
            AttributeDict(triggered_inputs=[{"prop_id": f"{prop}.value", "value": value}])
        )
        period = value if prop == ids.SIT_HOT_PERIOD else None
        category = value if prop == ids.SIT_HOT_CATEGORY else None
        return situation.navigate(None, None, "gi", state, period, category)

    with signed_in(app):
        out = change(ids.SIT_HOT_PERIOD, "7d")
        assert out[0]["period"] == "7d" and out[-1] == "hot-choices"
        assert "Top 10 hot-spot grids" in str(out[3]) and "county's grids" in str(out[3])
        out = change(ids.SIT_HOT_CATEGORY, "sanitation")
        assert out[0]["category"] == "sanitation" and out[0]["period"] == "30d"
        # made-up values fall back to the defaults, which is no change at all
        with pytest.raises(PreventUpdate):
            change(ids.SIT_HOT_PERIOD, "1y; drop")
        state["metric"] = "per100"
        out = change(ids.SIT_HOT_CATEGORY, "order")
        assert out[-1] == "hot-choices hidden"  # shown with the Gi* metric only
    with signed_in(app, "township", scope="420999001000"):
        state["metric"] = "gi"
        out = change(ids.SIT_HOT_PERIOD, "90d")
        assert "this township's grids" in str(out[3])


def test_top_hot_grids_are_significant_hottest_first():
    from wangge.services.metrics import hot_grids

    hot = pd.DataFrame(
        {
            "grid_code": ["A1", "A2", "A3", "B1", "A4"],
            "cases": [5, 9, 1, 50, 7],
            "gi_z": [2.0, 3.1, -2.5, 4.0, 1.2],
            "gi_bin": [2, 3, -2, 3, 0],
        }
    )
    assert list(hot_grids(hot, prefix="A")["grid_code"]) == ["A2", "A1"]
    assert list(hot_grids(hot, n=1)["grid_code"]) == ["B1"]
