"""The fast paths of the dashboard at scale (#13): they answer as the slow ones, and never stale.

- the map's case layers are cached per filters (:func:`wangge.services.mapdata.cached_case_layers`):
  a case written or moved after a cached read is in the next read;
- the covering index of migration 12 (``cases_map``) is the one the map's queries read, and its
  answers are those of the table itself (counts per H3 cell and category);
- the drill-down's layers travel with numpy coordinates (:func:`packed_collection`): the JSON
  Dash sends is the same; and layers the browser already shows are not sent again.
"""

from __future__ import annotations

import json

import dash
import pandas as pd
import pytest
from conftest import X0, Y0, load_tiny_county, signed_in
from dash._utils import to_json

from wangge.access import Scope
from wangge.casework import validate_new_case
from wangge.clock import utc_now
from wangge.demo.simulate import simulate
from wangge.services import mapdata
from wangge.services.analytics import AnalyticsService
from wangge.services.layers import feature_collection, packed_collection
from wangge.services.locate import Locator
from wangge.store import Store

COUNTY = Scope.county()


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    """The tiny county with 40 days of simulated cases (the demo's simulation)."""
    s = Store(tmp_path_factory.mktemp("speed") / "wangge.sqlite")
    load_tiny_county(s)
    simulate(
        s,
        days=40,
        per_day=120,
        gps_days=0,
        seed=13,
        end=pd.Timestamp.now(tz="UTC").floor("h").to_pydatetime(),
    )
    return s


def _new_case(store: Store) -> dict:
    case = validate_new_case(
        {"category": "order", "lon": X0 + 0.005, "lat": Y0 + 0.005, "title": "噪音"}, now=utc_now()
    )
    location = Locator(store).locate(case["lon"], case["lat"])
    return store.create_case(case, location, scope=COUNTY, actor="hotline")[0]


def test_a_write_after_a_cached_read_is_in_the_next_read(store, monkeypatch):
    analytics = AnalyticsService(store)
    computed = []
    original = mapdata.case_layers
    monkeypatch.setattr(
        mapdata, "case_layers", lambda *a, **k: computed.append(1) or original(*a, **k)
    )
    filters = {"since": "2000-01-01T00:00:00Z", "category": "order"}

    def read():
        return mapdata.cached_case_layers(
            store, analytics, filters, scope=COUNTY, resolution=9, max_points=10**6
        )

    points, _, total = read()
    assert read()[2] == total and len(computed) == 1  # the second read is the cached answer
    case = _new_case(store)
    points, _, again = read()
    assert again == total + 1 and len(computed) == 2
    status = {f["id"]: f["properties"]["s"] for f in points["features"]}
    assert status[case["case_id"]] == "reported"
    # a status change (no new case) is seen too
    store.transition_case(case["case_id"], "accepted", scope=COUNTY, actor="op")
    points, _, _ = read()
    status = {f["id"]: f["properties"]["s"] for f in points["features"]}
    assert status[case["case_id"]] == "accepted" and len(computed) == 3


def test_the_map_queries_read_the_covering_index_and_agree_with_the_table(store):
    since = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    now = utc_now()
    frame = store.cases_frame(scope=COUNTY)
    frame = frame[frame["reported_at"] >= pd.Timestamp(since)]
    with store.connect() as con:
        plan = " ".join(
            r[3]
            for r in con.execute(
                "EXPLAIN QUERY PLAN SELECT h3_9, COUNT(*) FROM cases "
                "WHERE reported_at >= ? AND category = ? GROUP BY h3_9",
                (since, "order"),
            )
        )
        every = con.execute("SELECT case_id, h3_9 FROM cases NOT INDEXED").fetchall()
    assert "COVERING INDEX cases_map (" in plan
    cells = dict(every)
    assert len(frame) > 1000
    for category in (None, "order", "safety"):
        filters = {"since": since} | ({"category": category} if category else {})
        bins = store.case_bins(scope=COUNTY, resolution=9, filters=filters, now=now)
        mine = frame if category is None else frame[frame["category"] == category]
        expected = mine["case_id"].map(cells).value_counts().to_dict()
        assert {b[0]: b[3] for b in bins} == expected
        points = store.case_points(scope=COUNTY, filters=filters, now=now)
        assert sorted(p[0] for p in points) == sorted(mine["case_id"])
    # per grid and category, the points agree with the table read without any index
    with store.connect() as con:
        table = con.execute(
            "SELECT grid_code, category, COUNT(*) FROM cases NOT INDEXED "
            "WHERE reported_at >= ? GROUP BY grid_code, category",
            (since,),
        ).fetchall()
    by_id = frame.set_index("case_id")
    points = store.case_points(scope=COUNTY, filters={"since": since}, now=now)
    counted = pd.Series(1, index=[p[0] for p in points]).groupby(
        [by_id.loc[[p[0] for p in points], "grid_code"], [p[3] for p in points]]
    )
    assert {k: int(v) for k, v in counted.sum().items()} == {(g, c): n for g, c, n in table}


def test_packed_layers_are_sent_as_the_same_json(store):
    grids = store.grids(scope=COUNTY)
    text = feature_collection(grids, ["grid_code"], id_column="grid_code")
    packed = packed_collection(text)
    assert type(packed["features"][0]["geometry"]["coordinates"][0]).__name__ == "ndarray"
    # as Dash sends an answer that also holds components (its Python walk, then orjson)
    answer = {"response": {"children": dash.html.Div("x"), "layer": packed}}
    plain = {"response": {"children": dash.html.Div("x"), "layer": json.loads(text)}}
    assert json.loads(to_json(answer)) == json.loads(to_json(plain))


def test_a_drill_down_does_not_resend_the_layers_the_browser_shows(tmp_path):
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    from dashboard import ids
    from dashboard.app import create_app
    from wangge.settings import Settings

    settings = Settings(data_dir=tmp_path)
    s = Store(settings.db_path)
    load_tiny_county(s)
    simulate(s, days=5, per_day=30, gps_days=0, seed=3)
    app = create_app(settings)
    from dashboard.pages import situation  # registered by the app

    state = {"level": "county", "code": "420999000000", "metric": "per100", "lang": "zh"}

    def go(level, code, state):
        context_value.set(
            AttributeDict(triggered_inputs=[{"prop_id": f"{ids.SIT_TARGET}.data", "value": 1}])
        )
        return situation.navigate({"level": level, "code": code}, None, "per100", state)

    with signed_in(app):
        town = go("township", "420999001000", state)
        grid = s.grids(scope=COUNTY)["grid_code"].iloc[0]
        at_grid = go("grid", grid, town[0])
        back = go("township", "420999001000", at_grid[0])
    # outputs: state, crumbs, kpis, detail, trend, cats, legend, viewport, children, hideout,
    # gi (10), shape (11), buildings (12), hot-spot class
    assert all(town[i] is dash.no_update for i in (10, 11, 12))  # no grid, no Gi*: as shown
    assert at_grid[11]["features"] and at_grid[12] is not dash.no_update  # the grid drawn
    assert back[11] == situation.EMPTY and back[12] == situation.EMPTY  # and cleared again
    assert back[10] is dash.no_update


def test_children_looked_up_in_the_sums_equal_those_grouped_per_unit(store):
    from wangge.services import metrics

    analytics = AnalyticsService(store)
    units, grids = store.admin_units(scope=COUNTY), store.grids(scope=COUNTY)
    cube = analytics.case_cube()
    table = metrics.grid_table(store, analytics, cube)
    sums = metrics.child_sums(table)
    assert table["cases"].sum() > 1000
    checked = 0
    for level, code in [
        ("county", units.loc[units["level"] == "county", "code"].iloc[0]),
        *(("township", c) for c in units.loc[units["level"] == "township", "code"]),
        *(("community", c) for c in units.loc[units["level"] == "community", "code"]),
    ]:
        prefix = {"county": "", "township": code[:9], "community": code}[level]
        g = table[table["grid_code"].str.startswith(prefix)]
        fast = metrics._children(level, code, g, units, grids, sums)
        slow = metrics._children(level, code, g, units, grids)
        pd.testing.assert_frame_equal(fast, slow)
        checked += len(slow)
    assert checked > 8
    # and the page's view (which uses the sums) has the same children
    view = metrics.unit_view(store, analytics, "township", "420999001000", scope=COUNTY)
    g = table[table["grid_code"].str.startswith("420999001")]
    pd.testing.assert_frame_equal(
        view.children.drop(columns="geometry").reset_index(drop=True),
        metrics._children("township", "420999001000", g, units, grids)
        .drop(columns="geometry")
        .reset_index(drop=True),
    )


def test_a_new_cube_comes_with_the_views_inputs_computed(store, monkeypatch):
    from wangge.services import metrics

    analytics = AnalyticsService(store)
    cube = analytics.case_cube()  # computed with prime_views, as at start and on a refresh
    assert {(p, c) for p, c in cube.groups} == {
        (p, c)
        for p, f in cube.parts.items()
        for c in ("township_code", "community_code", "grid_code")
        if c in f
    }
    grouped = []
    monkeypatch.setattr(metrics, "child_sums", lambda t: grouped.append(1) or {})
    monkeypatch.setattr(metrics, "cube_grid_stats", lambda *a, **k: grouped.append(2))
    view = metrics.unit_view(store, analytics, "township", "420999001000", scope=COUNTY)
    assert grouped == [] and len(view.children) == 2  # nothing recomputed for the first visit
