"""Probes of the one access door, as a hostile township leader would try them.

A principal of township A (城关街道, 420999001000) asks every route of the API and every Dash
callback that returns data for township B's (青石镇, 420999002000) cases, cameras, workers,
grids and buildings: the answer is 403/404, or nothing of B's. A township principal whose
township is malformed or not in the store sees nothing at all. The lists of probed routes and
callbacks are checked against the app's own registries, so a new route or callback without a
probe fails here.
"""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from conftest import X0, Y0, load_tiny_county, signed_in
from dash._callback import GLOBAL_CALLBACK_MAP
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.exceptions import PreventUpdate

from dashboard import ids
from dashboard.app import create_app
from dashboard.i18n import t
from wangge.access import Principal, Scope
from wangge.demo.simulate import simulate
from wangge.services.metrics import unit_view
from wangge.settings import Settings
from wangge.store import Store

A, B = "420999001000", "420999002000"
A_NAME, B_NAME = "城关街道", "青石镇"
IN_A = (X0 + 0.005, Y0 + 0.005)  # community 420999001001
IN_B = (X0 + 0.025, Y0 + 0.005)  # community 420999002001
COUNTY = Scope.county()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("probe"))
    store = Store(settings.db_path)
    load_tiny_county(store)
    simulate(
        store,
        days=10,
        per_day=40,
        gps_days=2,
        seed=5,
        end=pd.Timestamp.now(tz="UTC").floor("h").to_pydatetime(),
    )
    cameras = pd.DataFrame(
        {
            "camera_id": ["CAM-A", "CAM-B"],
            "name": ["城关路口", "青石桥头"],
            "lon": [IN_A[0], IN_B[0]],
            "lat": [IN_A[1], IN_B[1]],
            "grid_code": ["420999001001001", "420999002001001"],
        }
    )
    store.upsert_cameras(cameras, scope=COUNTY)
    app = create_app(settings)
    tokens = {
        "a": store.create_token("chengguan", "township", scope=A),
        "missing": store.create_token("nowhere", "township", scope="420999009000"),
        "malformed": store.create_token("broken", "township", scope="4209990010"),
    }
    cases = store.cases_frame(scope=COUNTY)
    cams = store.cameras(scope=COUNTY)
    workers = store.workers(scope=COUNTY)
    b = {
        "case": cases.loc[cases["township_code"] == B, "case_id"].iloc[0],
        "client_id": cases.loc[cases["township_code"] == B, "client_id"].iloc[0],
        "camera": cams.loc[cams["grid_code"].str.startswith(B[:9]), "camera_id"].iloc[0],
        "worker": workers.loc[workers["grid_code"].str.startswith(B[:9]), "worker_id"].iloc[0],
    }
    return app, store, tokens, b


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def b_marks(b: dict) -> list[str]:
    """Strings that appear in an answer only if it carries township B's data."""
    return [B[:9], B_NAME, "青石桥头", b["case"], b["camera"], b["worker"]]


def _upload(text: str, name: str) -> dict:
    return {"file": (io.BytesIO(text.encode()), name)}


# -- the API ---------------------------------------------------------------------------------

#: (method, rule, path, body builder): every route of /api/v1 that reads or writes data, asked
#: by township A's token for township B's data.
API_PROBES = {
    ("GET", "/api/v1/layers/<name>.geojson"): [
        ("GET", "/api/v1/layers/townships.geojson", None),
        ("GET", "/api/v1/layers/communities.geojson", None),
        ("GET", "/api/v1/layers/grids.geojson", None),
    ],
    ("GET", "/api/v1/buildings"): [("GET", "/api/v1/buildings?bbox=113,29,115,31", None)],
    ("GET", "/api/v1/cases"): [
        ("GET", "/api/v1/cases?limit=500", None),
        ("GET", f"/api/v1/cases?township_code={B}", None),
        ("GET", f"/api/v1/cases?community_code={B[:9]}001", None),
        # the desk's search and views: B's case number finds nothing from A
        ("GET", "/api/v1/cases?q={case}&view=open", None),
        ("GET", f"/api/v1/cases?q={B[:9]}&urgency=normal", None),
    ],
    ("GET", "/api/v1/cases/<case_id>"): [("GET", "/api/v1/cases/{case}", None)],
    ("POST", "/api/v1/cases/<case_id>/transitions"): [
        (
            "POST",
            "/api/v1/cases/{case}/transitions",
            lambda b: {"to_status": "accepted", "actor": "x"},
        )
    ],
    ("POST", "/api/v1/cases/<case_id>/urge"): [
        ("POST", "/api/v1/cases/{case}/urge", lambda b: {"note": "x"})
    ],
    ("POST", "/api/v1/cases/<case_id>/seen"): [("POST", "/api/v1/cases/{case}/seen", None)],
    ("POST", "/api/v1/cases"): [
        ("POST", "/api/v1/cases", lambda b: {"category": "safety", "lon": IN_B[0], "lat": IN_B[1]}),
        # another township's client id, from inside A: never B's case back
        (
            "POST",
            "/api/v1/cases",
            lambda b: {
                "category": "safety",
                "lon": IN_A[0],
                "lat": IN_A[1],
                "client_id": b["client_id"],
            },
        ),
    ],
    ("PUT", "/api/v1/cameras"): [
        # rename and move B's camera into A
        (
            "PUT",
            "/api/v1/cameras",
            lambda b: {"cameras": [{"camera_id": b["camera"], "lon": IN_A[0], "lat": IN_A[1]}]},
        ),
        # a new camera placed in B
        (
            "PUT",
            "/api/v1/cameras",
            lambda b: {"cameras": [{"camera_id": "probe-cam", "lon": IN_B[0], "lat": IN_B[1]}]},
        ),
    ],
    ("GET", "/api/v1/cameras"): [("GET", "/api/v1/cameras", None)],
    ("POST", "/api/v1/cameras/heartbeats"): [
        (
            "POST",
            "/api/v1/cameras/heartbeats",
            lambda b: {
                "heartbeats": [
                    {"camera_id": b["camera"], "at": "2026-11-22T00:00:00Z", "online": False}
                ]
            },
        )
    ],
    ("POST", "/api/v1/patrols/points"): [
        (
            "POST",
            "/api/v1/patrols/points",
            lambda b: {
                "points": [
                    {"worker_id": b["worker"], "at": "2026-11-22T00:00:00Z", "lon": IN_B[0]}
                    | {"lat": IN_B[1]}
                ]
            },
        )
    ],
    ("POST", "/api/v1/imports/<kind>"): [
        (
            "UPLOAD",
            "/api/v1/imports/cases",
            lambda b: _upload(
                f"category,lon,lat,reported_at\nsafety,{IN_B[0]},{IN_B[1]},2026-11-20 08:00\n",
                "b.csv",
            ),
        ),
        (
            "UPLOAD",
            "/api/v1/imports/gps",
            lambda b: _upload(
                f"worker_id,at,lon,lat\n{b['worker']},2026-11-20 08:00,{IN_B[0]},{IN_B[1]}\n",
                "b.csv",
            ),
        ),
        (
            "UPLOAD",
            "/api/v1/imports/cameras",
            lambda b: _upload(f"camera_id,lon,lat\n{b['camera']},{IN_A[0]},{IN_A[1]}\n", "b.csv"),
        ),
    ],
    # the planner's routes (dashboard/api_planner.py): a township reads its own, writes nothing
    ("GET", "/api/v1/grid-versions"): [
        ("GET", "/api/v1/grid-versions", None),
        ("GET", f"/api/v1/grid-versions?community={B[:9]}001", None),
    ],
    ("POST", "/api/v1/grid-versions"): [
        (
            "POST",
            "/api/v1/grid-versions",
            lambda b: {"parent": 1, "moves": [{"building": "B00016", "to": "new"}]},
        )
    ],
    ("GET", "/api/v1/grid-versions/<version_id>/diff"): [
        ("GET", "/api/v1/grid-versions/1/diff?against=1", None)
    ],
    ("GET", "/api/v1/grid-versions/<version_id>/export"): [
        ("GET", "/api/v1/grid-versions/1/export?format=geojson", None),
        ("GET", "/api/v1/grid-versions/1/export?format=csv", None),
        ("GET", f"/api/v1/grid-versions/1/export?format=gpkg&community={B[:9]}001", None),
    ],
    ("POST", "/api/v1/grid-versions/<version_id>/publish"): [
        ("POST", "/api/v1/grid-versions/1/publish", lambda b: {"reason": "x"})
    ],
    ("POST", "/api/v1/grid-versions/<version_id>/restore"): [
        ("POST", "/api/v1/grid-versions/1/restore", lambda b: {})
    ],
    ("POST", "/api/v1/grid-versions/relocate-open-cases"): [
        ("POST", "/api/v1/grid-versions/relocate-open-cases", lambda b: {})
    ],
    ("GET", "/api/v1/audit"): [("GET", "/api/v1/audit", None)],
}
#: Routes without township data.
API_PUBLIC = {("GET", "/api/v1/health"), ("GET", "/api/v1/openapi.json")}

PROBES = [p for probes in API_PROBES.values() for p in probes]


def _ask(client, method: str, path: str, body, token: str | None):
    headers = auth(token) if token else {}
    if method == "GET":
        return client.get(path, headers=headers)
    if method == "UPLOAD":
        return client.post(path, data=body, headers=headers, content_type="multipart/form-data")
    return client.open(path, method=method, json=body, headers=headers)


def test_every_api_route_has_a_probe(env):
    app, *_ = env
    rules = {
        (method, rule.rule)
        for rule in app.server.url_map.iter_rules()
        if rule.endpoint.startswith("api_v1.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert rules == set(API_PROBES) | API_PUBLIC


@pytest.mark.parametrize(("method", "path", "body"), PROBES, ids=[f"{m} {p}" for m, p, _ in PROBES])
def test_a_township_token_gets_nothing_of_another_township(env, method, path, body):
    app, store, tokens, b = env
    before = (
        store.cases_frame(scope=COUNTY).to_json(date_format="iso"),
        store.cameras(scope=COUNTY).to_json(date_format="iso"),
        len(store.patrol_points(scope=COUNTY)),
    )
    sent = body and body(b)
    asked = path.format(**b) + (
        sent["file"][0].getvalue().decode() if method == "UPLOAD" else json.dumps(sent)
    )
    resp = _ask(app.server.test_client(), method, path.format(**b), sent, tokens["a"])
    text = resp.get_data(as_text=True)
    assert resp.status_code in (200, 201, 403, 404), text
    if resp.status_code in (200, 201):
        for mark in b_marks(b):
            if mark not in asked:  # an id the caller sent may come back, nothing else of B's
                assert mark not in text, (mark, text[:300])
    if method == "UPLOAD":
        report = resp.get_json()
        assert report["added"] == 0 and report["bad_rows"] == 1, report
        assert "township 420999001000" in report["errors"][0]["reason"], text
        assert "row" in report["errors"][0] and report["errors"][0]["row"] == 2
    if method != "GET":  # nothing of B's changed, nothing new stored
        after = (
            store.cases_frame(scope=COUNTY).to_json(date_format="iso"),
            store.cameras(scope=COUNTY).to_json(date_format="iso"),
            len(store.patrol_points(scope=COUNTY)),
        )
        assert after == before


def test_township_reads_keep_their_own_data(env):
    """The probes above must not pass by returning nothing to everyone: A reads its own."""
    app, _, tokens, _ = env
    client = app.server.test_client()
    cases = client.get("/api/v1/cases?limit=500", headers=auth(tokens["a"])).get_json()
    assert cases["total"] > 0 and {c["township_code"] for c in cases["items"]} == {A}
    cams = client.get("/api/v1/cameras", headers=auth(tokens["a"])).get_json()["items"]
    assert cams and all(c["grid_code"].startswith(A[:9]) for c in cams)
    units = client.get("/api/v1/layers/communities.geojson", headers=auth(tokens["a"])).get_json()
    assert {f["id"] for f in units["features"]} == {"420999001001", "420999001002"}


@pytest.mark.parametrize("who", ["missing", "malformed"])
@pytest.mark.parametrize(("method", "path", "body"), PROBES, ids=[f"{m} {p}" for m, p, _ in PROBES])
def test_a_township_that_does_not_exist_gets_nothing(env, who, method, path, body):
    app, _, tokens, b = env
    resp = _ask(app.server.test_client(), method, path.format(**b), body and body(b), tokens[who])
    assert resp.status_code == 403, resp.get_data(as_text=True)[:300]


@pytest.mark.parametrize("scope", ["420999009000", "4209990010", "", "420999001000' OR 1=1 --"])
def test_a_signed_in_leader_of_no_real_township_sees_nothing(env, scope):
    app, *_ = env
    client = app.server.test_client()
    with client.session_transaction() as sess:
        sess["user"] = {"username": "x", "display_name": "x", "role": "township", "scope": scope}
    for path in ("/api/v1/cases", "/api/v1/cameras", "/api/v1/layers/grids.geojson"):
        assert client.get(path).status_code == 403, path


# -- the Dash callbacks ----------------------------------------------------------------------

CAMERA_LAYERS = [t("layer.cameras", "zh"), t("layer.uncovered", "zh")]


def _situation(state: dict, link: dict):
    from dashboard.pages import situation

    context_value.set(
        AttributeDict(triggered_inputs=[{"prop_id": f"{ids.SIT_TARGET}.data", "value": link}])
    )
    return situation.navigate(link, None, "per100", state)


def _triggered(component_id, prop: str) -> None:
    """Call the next callback as if ``component_id``'s ``prop`` had changed."""
    if isinstance(component_id, dict):
        component_id = json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    context_value.set(
        AttributeDict(triggered_inputs=[{"prop_id": f"{component_id}.{prop}", "value": 1}])
    )


def _act(b: dict):
    from dashboard.pages import cases

    _triggered({"action": "accepted", "type": ids.CASE_ACT, "where": "cases"}, "n_clicks")
    return cases.act([1], "probe", None, {"case_id": b["case"], "version": 1, "lang": "zh"})


def _export(b: dict):
    from dashboard.pages import cases

    _triggered(ids.CASES_EXPORT_CSV, "n_clicks")
    return cases.export_cases(1, 0, {"township": B, "window": "all"}, "zh")


def _map_card(layer: str, click: dict):
    """The map's card of a clicked grid (``layer`` ids.GRIDS) or case (ids.CASES)."""
    from dashboard.pages import map  # noqa: A004

    context_value.set(
        AttributeDict(triggered_inputs=[{"prop_id": f"{layer}.n_clicks", "value": 1}])
    )
    grid, case = (click, None) if layer == ids.GRIDS else (None, click)
    return map.open_card(1, 1, None, grid, case, "zh")


def callback_calls(b: dict) -> dict:
    """Every server-side Dash callback, called as township B's data would be asked for."""
    from dashboard.pages import cases, map, planner, situation, wall  # noqa: A004

    rows = {"startRow": 0, "endRow": 500}
    state = {"level": "township", "code": A, "metric": "per100", "lang": "zh"}
    day = str(pd.Timestamp.now(tz="Asia/Shanghai").date() - pd.Timedelta(days=1))
    return {
        (map.__name__, "show_buildings"): lambda: map.show_buildings(
            16, [[29, 113], [31, 115]], "zh"
        ),
        (map.__name__, "show_cases"): lambda: map.show_cases("90d", None, None, 10, None, "zh"),
        (map.__name__, "show_hexes"): lambda: map.show_hexes(
            "90d", None, None, 10, [t("layer.hexes", "zh")], "zh"
        ),
        (map.__name__, "grid_values"): lambda: map.grid_values(0),
        (map.__name__, "load_camera_layers"): lambda: map.load_camera_layers(
            CAMERA_LAYERS, None, None, "zh"
        ),
        (map.__name__, "show_track"): lambda: map.show_track(b["worker"], day, "zh"),
        (map.__name__, "open_card"): lambda: [
            _map_card(ids.GRIDS, {"properties": {"grid_code": f"{B[:9]}001001"}}),
            _map_card(ids.CASES, {"id": b["case"], "properties": {"c": "order"}}),
        ],
        (cases.__name__, "get_rows"): lambda: (
            cases.get_rows(rows, {"window": "all"}, "zh"),
            cases.get_rows(rows, {"township": B, "window": "all"}, "zh"),
        ),
        (cases.__name__, "refilter"): lambda: cases.refilter(
            {"township": B, "window": "all"}, "zh"
        )[1],
        (cases.__name__, "export_cases"): lambda: _export(b),
        # an action on B's case, by its id: refused, B's case unchanged (checked below)
        (cases.__name__, "act"): lambda: _act(b),
        (cases.__name__, "show_case"): lambda: cases.show_case([{"case_id": b["case"]}], "zh"),
        (situation.__name__, "navigate"): lambda: [
            _situation(state, {"level": level, "code": code})
            for level, code in (
                ("township", B),
                ("community", f"{B[:9]}001"),
                ("grid", f"{B[:9]}001001"),
                ("county", "420999000000"),
                ("township", f"{B[:9]}001"),  # a community's code at the township level
                ("grid", f"{B[:9]}001"),
                ("community", "' OR 1=1"),
            )
        ],
        (wall.__name__, "refresh_wall"): lambda: wall.refresh_wall(0, 1.0, None, {"lang": "zh"}),
        (planner.__name__, "pick_township"): lambda: planner.pick_township(
            B, {"lang": "zh", "community": f"{B[:9]}001"}
        ),
        (planner.__name__, "load_community"): lambda: planner.load_community(
            f"{B[:9]}001", 1, {"lang": "zh"}
        ),
        (planner.__name__, "act"): lambda: (
            [
                planner.act(
                    {"op": op, "community": f"{B[:9]}001", "version": 1, "picked": 1, "moves": []},
                    {"lang": "zh"},
                )
                for op in ("diff", "save", "publish")
            ]
            + [  # a leader in their own community may diff but not write
                planner.act(
                    {
                        "op": "save",
                        "community": f"{A[:9]}001",
                        "version": 1,
                        "moves": [],
                        "picked": 1,
                    },
                    {"lang": "zh"},
                )
            ]
        ),
        (planner.__name__, "autosave"): lambda: planner.autosave(
            {"community": f"{B[:9]}001", "version": 1, "moves": [[f"{B}-b1", f"{B[:9]}001001"]]}
        ),
    }


def test_every_dash_callback_has_a_probe(env):
    app, _, _, b = env
    registered = set()
    # Dash moves the global registry into the app's own on its first request
    for entry in [*GLOBAL_CALLBACK_MAP.values(), *app.callback_map.values()]:
        fn = getattr(entry.get("callback"), "__wrapped__", None)
        if fn is not None and fn.__module__.startswith("dashboard."):  # not Dash's own
            registered.add((fn.__module__, fn.__name__))
    with signed_in(app, "township", A):
        assert registered == set(callback_calls(b))


def _text(value) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def test_dash_callbacks_give_a_township_leader_nothing_of_another_township(env):
    app, store, _, b = env
    with signed_in(app, "township", A):
        calls = callback_calls(b)
        for key, call in calls.items():
            text = _text(call())
            for mark in b_marks(b):
                assert mark not in text, (key, mark)
        # and they still answer with A's own data
        rows = calls[("dashboard.pages.cases", "get_rows")]()
        assert rows[0]["rowCount"] > 0 and rows[1]["rowCount"] == 0
        assert {r["township_code"] for r in rows[0]["rowData"]} == {A}
        values = calls[("dashboard.pages.map", "grid_values")]()
        assert set(values["per100"]["values"]) == {"420999001001001", "420999001002001"}
        for out in calls[("dashboard.pages.situation", "navigate")]():
            assert out[0]["code"] == A and out[0]["level"] == "township"
        # nothing kept for a leader in another township's community
        assert calls[("dashboard.pages.planner", "autosave")]() is None
        assert store.autosave("test-township", f"{B[:9]}001") is None
        # a township's wall ranks its own communities
        wall_text = _text(calls[("dashboard.pages.wall", "refresh_wall")]())
        mine = store.admin_units("community", scope=Scope.of_township(A))["name"]
        assert len(mine) and all(name in wall_text for name in mine)


def test_page_layouts_give_a_township_leader_nothing_of_another_township(env):
    from dashboard.pages import cases, map, planner, situation, wall  # noqa: A004

    app, _, _, b = env
    with signed_in(app, "township", A):
        for layout in (
            map.layout(),
            cases.layout(township=B),
            situation.layout(level="township", code=B),
            situation.layout(level="grid", code=f"{B[:9]}001001"),
            situation.layout(level="county"),
            wall.layout(),
            planner.layout(community=f"{B[:9]}001"),
        ):
            text = str(layout)
            for mark in b_marks(b):
                assert mark not in text, mark


@pytest.mark.parametrize("scope", ["420999009000", "4209990010"])
def test_pages_and_callbacks_give_a_leader_of_no_real_township_nothing(env, scope):
    from dashboard.pages import cases, map, planner, situation, wall  # noqa: A004

    app, _, _, b = env
    with signed_in(app, "township", scope):
        layouts = (
            map.layout(),
            cases.layout(),
            situation.layout(),
            wall.layout(),
            planner.layout(),
        )
        for layout in layouts:
            assert t("error.forbidden", "zh") in str(layout), str(layout)[:200]
        for key, call in callback_calls(b).items():
            with pytest.raises(PreventUpdate):
                call()
                pytest.fail(f"{key} answered")


def test_a_wall_screen_gets_no_answer_from_other_pages_callbacks(env):
    app, _, _, b = env
    with signed_in(app, "wall"):
        for (module, name), call in callback_calls(b).items():
            if name == "refresh_wall":
                continue
            with pytest.raises(PreventUpdate):
                call()
                pytest.fail(f"{module}.{name} answered the wall")


# -- the drill-down's unit check --------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "code"),
    [
        ("county", "420999000000"),  # the county
        ("county", None),
        ("township", B),  # another township
        ("community", "420999002001"),
        ("grid", "420999002001001"),
        ("township", "420999001001"),  # a valid code at the wrong level
        ("community", A),
        ("grid", "420999001001"),
        ("community", "4209990010"),  # malformed
        ("grid", "420999001001001' OR '1'='1"),
        ("township", ["420999002000"]),
        ("province", A),
        (None, None),
        ("community", "420999001009"),  # unknown
    ],
)
def test_the_drill_down_falls_back_to_the_leaders_township(env, level, code):
    app, store, _, _ = env
    analytics = app.server.config["WANGGE_ANALYTICS"]
    leader = Principal.from_identity({"name": "a", "role": "township", "scope": A})
    view = unit_view(store, analytics, level, code, scope=leader.scope)
    assert (view.level, view.code) == ("township", A)
    assert set(view.children["code"]) == {"420999001001", "420999001002"}
    county = unit_view(store, analytics, "township", A, scope=COUNTY)
    assert view.figures.kpis == county.figures.kpis  # the township's figures, not the county's


def test_the_drill_down_lets_a_leader_into_their_own_units(env):
    app, store, _, _ = env
    analytics = app.server.config["WANGGE_ANALYTICS"]
    scope = Scope.of_township(A)
    assert unit_view(store, analytics, "community", "420999001002", scope=scope).code == (
        "420999001002"
    )
    grid = unit_view(store, analytics, "grid", "420999001001001", scope=scope)
    assert (grid.level, grid.code) == ("grid", "420999001001001") and grid.grid is not None


def test_a_county_user_falls_back_to_the_county(env):
    app, store, _, _ = env
    analytics = app.server.config["WANGGE_ANALYTICS"]
    for level, code in (("grid", "420999001001"), ("community", "x"), ("township", None)):
        view = unit_view(store, analytics, level, code, scope=COUNTY)
        assert (view.level, view.code) == ("county", "420999000000")


def test_scope_must_be_given_as_a_scope(env):
    _, store, _, _ = env
    with pytest.raises(TypeError, match="scope must be a wangge.access.Scope"):
        store.list_cases(scope=A)
    with pytest.raises(TypeError, match="scope must be a wangge.access.Scope"):
        store.grids(scope=None)


def test_scope_filters_search_the_indexes(env):
    """A township's filter is a range over the indexed code column (no scan of the table)."""
    from wangge.store.cases import case_filters
    from wangge.store.scoping import scope_sql

    _, store, _, _ = env
    scope = Scope.of_township(A)
    match = case_filters({}, "2026-11-22T00:00:00Z", scope=scope)
    queries = {
        "cases_township": ("SELECT COUNT(*) FROM cases" + match.where, match.args),
        "buildings_community": (
            "SELECT COUNT(*) FROM buildings WHERE {}".format(*scope_sql(scope, "community_code")),
            scope_sql(scope, "community_code")[1],
        ),
        "sqlite_autoindex_admin_units_1": (
            "SELECT COUNT(*) FROM admin_units WHERE {}".format(*scope_sql(scope, "code")),
            scope_sql(scope, "code")[1],
        ),
    }
    with store.connect() as con:
        for index, (sql, args) in queries.items():
            plan = " ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN " + sql, args))
            assert "SEARCH" in plan and index in plan, plan


def test_the_store_knows_its_townships(env):
    _, store, _, _ = env
    assert store.township_codes() == {A, B}
    known = Principal.from_identity(
        {"name": "a", "role": "township", "scope": A}, known_townships=store.township_codes()
    )
    unknown = Principal.from_identity(
        {"name": "z", "role": "township", "scope": "420999009000"},
        known_townships=store.township_codes(),
    )
    assert known.scope == Scope.of_township(A) and unknown.scope.empty
