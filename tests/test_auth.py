"""Sign-in, roles and the township scope, enforced on the server."""

from __future__ import annotations

import json

import pytest
from conftest import find_component as _find
from conftest import load_tiny_county, signed_in

from dashboard.app import create_app
from wangge.access import Scope
from wangge.settings import Settings
from wangge.store import Store, StoreError

PASSWORD = "correct horse"
QINGSHI = Scope.of_township("420999002000")


@pytest.fixture
def env(tmp_path):
    settings = Settings(data_dir=tmp_path)
    store = Store(settings.db_path)
    load_tiny_county(store)
    store.create_user("county", PASSWORD, "county", display_name="县指挥中心")
    store.create_user("qingshi", PASSWORD, "township", scope="420999002000", display_name="青石镇")
    app = create_app(settings)
    return app, store


def login(client, username, password=PASSWORD, next_url="/"):
    return client.post(
        "/login", data={"username": username, "password": password, "next": next_url}
    )


def test_pages_and_callbacks_need_a_session(env):
    app, _ = env
    client = app.server.test_client()
    resp = client.get("/cases?status=closed")
    assert resp.status_code == 302 and resp.headers["Location"].startswith(
        "/login?next=%2Fcases%3Fstatus%3Dclosed"
    )
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/api/v1/layers/grids.geojson").status_code == 401
    assert client.get("/login").status_code == 200 and "登录" in client.get("/login").get_data(
        as_text=True
    )
    assert client.get("/assets/wangge.css").status_code == 200


def test_sign_in_out_and_wrong_passwords(env):
    app, _ = env
    client = app.server.test_client()
    bad = login(client, "county", "wrong password")
    assert bad.status_code == 401 and "用户名或密码错误" in bad.get_data(as_text=True)
    ok = login(client, "county", next_url="/wall")
    assert ok.status_code == 302 and ok.headers["Location"] == "/wall"
    assert client.get("/").status_code == 200
    client.get("/logout")
    assert client.get("/").status_code == 302


def test_login_never_redirects_off_the_server(env):
    app, _ = env
    client = app.server.test_client()
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        assert login(client, "county", next_url=target).headers["Location"] == "/"


def test_a_township_leader_gets_only_their_township_from_the_layers_api(env):
    app, _ = env
    client = app.server.test_client()
    login(client, "qingshi")
    communities = json.loads(client.get("/api/v1/layers/communities.geojson").data)
    assert {f["id"] for f in communities["features"]} == {"420999002001", "420999002002"}
    grids = json.loads(client.get("/api/v1/layers/grids.geojson").data)
    assert all(f["id"].startswith("420999002") for f in grids["features"]) and grids["features"]
    body = json.loads(client.get("/api/v1/buildings?bbox=113,29,115,31").data)
    assert body["features"] and all(f["properties"]["building_id"] for f in body["features"])
    assert len(body["features"]) == 16  # the 2 communities of 青石镇, 8 buildings each
    # the session is good for reads only: writes need a token
    assert (
        client.post(
            "/api/v1/cases", json={"category": "safety", "lon": 114.03, "lat": 30.005}
        ).status_code
        == 401
    )


def test_a_township_leader_sees_only_their_township_on_every_page(env):
    app, _ = env
    from dashboard.pages import map as map_page
    from wangge.services.metrics import unit_view

    cfg = app.server.config
    with signed_in(app, "township", "420999002000"):
        view = unit_view(
            cfg["WANGGE_STORE"],
            cfg["WANGGE_ANALYTICS"],
            "county",
            None,
            scope=Scope.of_township("420999002000"),
        )
        assert (view.level, view.code) == ("township", "420999002000")
        other = unit_view(
            cfg["WANGGE_STORE"],
            cfg["WANGGE_ANALYTICS"],
            "community",
            "420999001001",
            scope=QINGSHI,
        )
        assert other.code == "420999002000"
        summary = cfg["WANGGE_LAYERS"].summary(scope=QINGSHI)
        assert (summary["communities"], summary["buildings"]) == (2, 16)
        layout = map_page.layout()
        lat, lon = _find(layout, "situation-map").center
        # on where 青石镇's people live (X0 + 0.02 .. + 0.04, its buildings' rows at Y0 + 0.002
        # and Y0 + 0.012), not on the county
        x0, y0, x1, y1 = cfg["WANGGE_LAYERS"].home_bounds(scope=QINGSHI)
        assert (lon, lat) == pytest.approx(((x0 + x1) / 2, (y0 + y1) / 2))
        assert 114.02 <= x0 < x1 <= 114.04 and 30.0 <= y0 < y1 <= 30.02
        assert (lon, lat) == pytest.approx((114.0293, 30.0072), abs=5e-4)
        data, status = map_page.show_buildings(16, [[29, 113], [31, 115]], "zh")
        assert len(data["features"]) == 16


def test_the_wall_token_opens_only_the_wall(env):
    app, store = env
    token = store.create_token("大屏", "wall")
    client = app.server.test_client()
    resp = client.get(f"/wall?token={token}")
    assert resp.status_code == 302 and resp.headers["Location"] == "/wall"
    assert client.get("/wall").status_code == 200
    assert client.get("/cases").headers["Location"] == "/wall"
    assert client.get("/api/v1/layers/communities.geojson").status_code == 200
    assert client.get("/api/v1/cases").status_code == 200  # the wall reads, county-wide
    assert client.post("/api/v1/cases", json={}).status_code == 401  # and never writes
    other = app.server.test_client()
    assert other.get("/wall?token=not-a-token").status_code == 302
    assert other.get("/wall").headers["Location"].startswith("/login")


def test_users_need_a_real_role_a_scope_and_a_long_password(env):
    _, store = env
    with pytest.raises(StoreError, match="role 'mayor'"):
        store.create_user("x", PASSWORD, "mayor")
    with pytest.raises(StoreError, match="township user needs the township code"):
        store.create_user("x", PASSWORD, "township")
    with pytest.raises(StoreError, match="at least 8 characters"):
        store.create_user("x", "short", "county")
    assert store.check_password("county", PASSWORD)["role"] == "county"
    assert store.check_password("county", "nope") is None
    assert store.check_password("ghost", PASSWORD) is None


def test_login_page_shows_the_demo_badge_only_on_the_demo_county(env):
    app, store = env
    client = app.server.test_client()
    assert "demo-badge" not in client.get("/login").get_data(as_text=True)
    store.set_meta("demo_county", "20261122")
    assert "虚构示范数据" in client.get("/login").get_data(as_text=True)
