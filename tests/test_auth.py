"""Sign-in, roles and the township scope, enforced on the server."""

from __future__ import annotations

import json
import stat
import statistics
import time

import pytest
from conftest import find_component as _find
from conftest import load_tiny_county, signed_in

from dashboard.app import create_app
from dashboard.auth import SESSION_COOKIE, WALL_COOKIE
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


def test_the_wall_token_opens_only_the_wall_and_reads_its_aggregates_only(env):
    app, store = env
    token = store.create_token("大屏", "wall")
    client = app.server.test_client()
    resp = client.get(f"/wall?token={token}")
    assert resp.status_code == 302 and resp.headers["Location"] == "/wall"
    assert client.get("/wall").status_code == 200
    assert client.get("/cases").headers["Location"] == "/wall"
    assert client.get("/api/v1/layers/communities.geojson").status_code == 200
    # no record: no case list, no case, no camera, no building (the wall shows aggregates)
    for path in ("/api/v1/cases", "/api/v1/cases/X", "/api/v1/cameras", "/api/v1/buildings"):
        assert client.get(path).status_code == 403, path
        assert client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 403
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


def test_login_page_names_the_county(env):
    """A real county's sign-in page says whose command centre it is (issue #12)."""
    from wangge.access import Scope

    app, store = env
    county = store.admin_units("county", scope=Scope.county())
    assert len(county) == 1
    name = str(county["name"].iloc[0])
    page = app.server.test_client().get("/login").get_data(as_text=True)
    assert f"<h1>{name}" in page
    assert f"<h1>{name}" in app.server.test_client().get("/login?lang=en").get_data(as_text=True)


# -- sign-in: the lock, the answer time ------------------------------------------------------


def _locked_until(store, key: str) -> str | None:
    with store.connect() as con:
        row = con.execute(
            "SELECT locked_until FROM sign_in_failures WHERE key = ?", (key,)
        ).fetchone()
    return row[0] if row else None


def test_200_wrong_passwords_lock_the_user_and_the_right_one_waits(env, caplog):
    app, store = env
    client = app.server.test_client()
    codes = [login(client, "county", f"guess {i:03d}").status_code for i in range(200)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    right = login(client, "county")
    assert right.status_code == 429 and int(right.headers["Retry-After"]) >= 1
    assert "登录失败次数过多" in right.get_data(as_text=True)
    english = client.post("/login", data={"username": "county", "password": PASSWORD, "lang": "en"})
    assert "Too many failed sign-ins" in english.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not signed in
    # logged with the name, never with a password
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "'county'" in logged and "guess" not in logged and PASSWORD not in logged
    # the lock ends: then the right password works, and the count starts again
    with store.transaction() as con:
        con.execute("UPDATE sign_in_failures SET locked_until = '2000-01-01T00:00:00Z'")
    assert login(client, "county").status_code == 302
    assert _locked_until(store, "user:county") is None


def test_the_lock_grows_with_each_failure(store):
    from datetime import UTC, datetime, timedelta

    from wangge.store.users import FIRST_LOCK, FREE_FAILURES, LONGEST_LOCK

    now = datetime(2026, 12, 6, 8, tzinfo=UTC)
    key = {"user:x": FREE_FAILURES}
    for _ in range(FREE_FAILURES - 1):
        store.record_sign_in_failure(key, now=now)
    assert store.sign_in_lock(["user:x"], now=now) == 0
    waits = []
    for _ in range(8):
        store.record_sign_in_failure(key, now=now)
        waits.append(store.sign_in_lock(["user:x", "addr:1"], now=now))
    assert waits[:3] == [FIRST_LOCK + 1, 2 * FIRST_LOCK + 1, 4 * FIRST_LOCK + 1]
    assert waits[-1] == LONGEST_LOCK + 1
    assert store.sign_in_lock(["user:x"], now=now + timedelta(seconds=LONGEST_LOCK + 1)) == 0
    # an hour without failures: the count starts again
    later = now + timedelta(hours=2)
    store.record_sign_in_failure(key, now=later)
    assert store.sign_in_lock(["user:x"], now=later) == 0


def test_many_names_from_one_address_lock_the_address(env):
    app, store = env
    client = app.server.test_client()
    here = {"REMOTE_ADDR": "10.1.2.3"}
    codes = [
        client.post(
            "/login", data={"username": f"name{i}", "password": "x" * 8}, environ_base=here
        ).status_code
        for i in range(25)
    ]
    assert 401 in codes and codes[-1] == 429
    refused = client.post(
        "/login", data={"username": "county", "password": PASSWORD}, environ_base=here
    )
    assert refused.status_code == 429
    elsewhere = app.server.test_client().post(
        "/login",
        data={"username": "county", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert elsewhere.status_code == 302


def test_an_unknown_name_takes_as_long_as_a_known_one(env):
    _, store = env

    def median_seconds(name: str) -> float:
        times = []
        for _ in range(7):
            start = time.perf_counter()
            assert store.check_password(name, "wrong password") is None
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    known, unknown = median_seconds("county"), median_seconds("nobody-here")
    assert 0.25 < unknown / known < 4, (known, unknown)


# -- sessions on the server ------------------------------------------------------------------


def _session_cookie(client) -> str | None:
    cookie = client.get_cookie(SESSION_COOKIE)
    return cookie.value if cookie else None


def _client_with(app, name: str, value: str):
    other = app.server.test_client()
    other.set_cookie(name, value)
    return other


def test_the_cookie_carries_a_random_id_only_and_a_new_one_at_sign_in(env):
    app, store = env
    client = app.server.test_client()
    with client.session_transaction() as sess:
        sess["planted"] = "by someone else"
    planted = _session_cookie(client)
    assert login(client, "qingshi").status_code == 302
    sid = _session_cookie(client)
    assert sid and sid != planted and "qingshi" not in sid and len(sid) >= 40
    with store.connect() as con:
        rows = con.execute("SELECT session_sha256, username, kind FROM sessions").fetchall()
    assert [tuple(r)[1:] for r in rows] == [("qingshi", "user")]
    assert sid not in rows[0][0]  # only the id's hash is stored
    assert _client_with(app, SESSION_COOKIE, planted).get("/").status_code == 302


def test_a_cookie_is_worthless_after_logout(env):
    app, _ = env
    client = app.server.test_client()
    login(client, "county")
    sid = _session_cookie(client)
    assert _client_with(app, SESSION_COOKIE, sid).get("/").status_code == 200
    client.get("/logout")
    stolen = _client_with(app, SESSION_COOKIE, sid)
    assert stolen.get("/").status_code == 302
    assert stolen.get("/api/v1/layers/grids.geojson").status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        lambda store: store.set_role("qingshi", "township", scope="420999001000"),
        lambda store: store.set_role("qingshi", "county"),
        lambda store: store.set_password("qingshi", "another horse"),
        lambda store: store.create_user("qingshi", PASSWORD, "township", scope="420999001000"),
        lambda store: store.disable_user("qingshi"),
        lambda store: store.end_sessions("qingshi"),
    ],
    ids=["scope", "role", "password", "replaced", "disabled", "logout-all"],
)
def test_a_cookie_is_worthless_after_the_users_role_scope_or_password_changed(env, change):
    app, store = env
    client, bystander = app.server.test_client(), app.server.test_client()
    login(client, "qingshi")
    login(bystander, "county")
    assert client.get("/api/v1/layers/communities.geojson").status_code == 200
    change(store)
    assert client.get("/api/v1/layers/communities.geojson").status_code == 401
    assert client.get("/cases").status_code == 302
    assert bystander.get("/cases").status_code == 200  # another user's session goes on


def test_the_user_commands_end_sessions(env, monkeypatch, capsys):
    from wangge.cli import main

    app, store = env
    monkeypatch.setenv("WANGGE_DATA_DIR", str(app.server.config["WANGGE_SETTINGS"].data_dir))
    client = app.server.test_client()
    login(client, "qingshi")
    assert main(["user", "set", "qingshi", "--role", "township", "--scope", "420999001000"]) == 0
    assert client.get("/cases").status_code == 302
    assert store.users().set_index("username").loc["qingshi", "scope"] == "420999001000"
    assert main(["user", "passwd", "ghost", "--password", "long enough"]) == 2
    assert "user 'ghost' does not exist" in capsys.readouterr().err


# -- the wall's link -------------------------------------------------------------------------


def test_the_wall_link_signs_the_wall_in_beside_the_operator(env):
    app, store = env
    token = store.create_token("大屏", "wall")
    client = app.server.test_client()
    login(client, "qingshi")
    operator = _session_cookie(client)
    resp = client.get(f"/wall?token={token}&lang=en")
    assert resp.status_code == 302 and resp.headers["Location"] == "/wall?lang=en"
    assert _session_cookie(client) == operator  # the operator's session untouched
    assert client.get_cookie(WALL_COOKIE) is not None
    # the operator's pages and reads go on as the operator (their township only) ...
    assert client.get("/cases").status_code == 200
    cases = client.get("/api/v1/cases")
    assert cases.status_code == 200
    assert all(c["township_code"] == "420999002000" for c in cases.get_json()["items"])
    # ... and the wall page's requests are answered as the wall screen (county, aggregates)
    from_wall = {"Referer": "http://localhost/wall?lang=en"}
    assert client.get("/api/v1/cases", headers=from_wall).status_code == 403
    grids = client.get("/api/v1/layers/communities.geojson", headers=from_wall).get_json()
    assert len(grids["features"]) == 4  # the county's, not the leader's two
    # signing the operator out leaves the wall screen signed in
    client.get("/logout")
    assert client.get("/cases").headers["Location"] == "/wall"
    assert client.get("/wall").status_code == 200
    # a revoked token signs its screens out
    store.revoke_token(token)
    assert client.get("/wall").headers["Location"].startswith("/login")


def test_the_language_is_kept_through_sign_in(env):
    app, _ = env
    client = app.server.test_client()
    to_login = client.get("/cases?lang=en")
    assert to_login.headers["Location"] == "/login?next=%2Fcases%3Flang%3Den"
    page = client.get(to_login.headers["Location"]).get_data(as_text=True)
    assert "Sign in" in page and 'lang="en"' in page
    signed = client.post(
        "/login", data={"username": "county", "password": PASSWORD, "next": "/cases?lang=en"}
    )
    assert signed.headers["Location"] == "/cases?lang=en"
    # chosen on the sign-in page itself
    other = app.server.test_client()
    chosen = other.post(
        "/login",
        data={"username": "county", "password": PASSWORD, "next": "/cases", "lang": "en"},
    )
    assert chosen.headers["Location"] == "/cases?lang=en"
    wrong = other.post("/login", data={"username": "county", "password": "x", "lang": "en"})
    assert "Wrong user name or password" in wrong.get_data(as_text=True)
    assert other.get("/logout?lang=en").headers["Location"] == "/login?lang=en"


# -- headers, cookies, the secret key --------------------------------------------------------


def test_every_answer_has_the_security_headers(env):
    app, _ = env
    client = app.server.test_client()
    login(client, "county")
    for path in ("/login", "/", "/cases", "/api/v1/health", "/assets/wangge.css", "/nowhere"):
        resp = client.get(path)
        csp = resp.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
        script = next(d for d in csp.split("; ") if d.startswith("script-src"))
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
        assert "'sha256-" in script  # Dash's own inline script, by its hash
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "same-origin"


def _set_cookies(resp) -> list[str]:
    return resp.headers.getlist("Set-Cookie")


@pytest.mark.parametrize("secure", ["0", "1"])
def test_cookies_are_httponly_lax_and_secure_when_asked(tmp_path, monkeypatch, secure):
    monkeypatch.setenv("WANGGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WANGGE_SECURE_COOKIES", secure)
    settings = Settings.from_env()
    store = Store(settings.db_path)
    load_tiny_county(store)
    store.create_user("county", PASSWORD, "county")
    token = store.create_token("大屏", "wall")
    app = create_app(settings)
    client = app.server.test_client()
    cookies = _set_cookies(login(client, "county")) + _set_cookies(
        client.get(f"/wall?token={token}")
    )
    assert len(cookies) == 2
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) == (secure == "1"), cookie


def test_the_secret_key_file_is_readable_by_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("WANGGE_SECRET_KEY", raising=False)
    create_app(Settings(data_dir=tmp_path))
    key = tmp_path / "secret_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    key.chmod(0o644)
    create_app(Settings(data_dir=tmp_path))
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("tiles", "allowed"),
    [
        ("", None),
        ("http://10.0.0.5:8080/tiles/{z}/{x}/{y}.png", "http://10.0.0.5:8080"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("javascript:alert(1)", None),
    ],
)
def test_the_policy_lets_in_the_configured_tile_server_only(tmp_path, tiles, allowed):
    from dashboard.headers import content_security_policy

    app = create_app(Settings(data_dir=tmp_path, tile_url=tiles))
    policy = content_security_policy(app, app.server.config["WANGGE_SETTINGS"])
    images = next(d for d in policy.split("; ") if d.startswith("img-src")).split()[1:]
    assert images == ["'self'", "data:", "blob:", *([allowed] if allowed else [])]


def test_only_a_wall_token_signs_a_browser_in_by_its_link(env):
    app, store = env
    for role, scope in (("county", ""), ("township", "420999002000"), ("writer", "")):
        token = store.create_token(role, role, scope=scope)
        client = app.server.test_client()
        resp = client.get(f"/?token={token}")
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/login"), role
        assert client.get("/cases").status_code == 302 and client.get_cookie(WALL_COOKIE) is None


def test_an_idle_session_ends_and_its_row_goes(store):
    from datetime import UTC, datetime, timedelta

    from wangge.store.users import SESSION_IDLE

    then = datetime(2026, 12, 1, 8, tzinfo=UTC)
    sid = store.create_session({"user": {"username": "u"}}, now=then)
    idle = SESSION_IDLE["user"]
    assert store.session(sid, now=then + idle - timedelta(minutes=1)) is not None
    # used just before it ended: it goes on for another idle period from then
    assert store.session(sid, now=then + 2 * idle - timedelta(minutes=3)) is not None
    assert store.session(sid, now=then + 3 * idle) is None
    assert store.session(sid, kind="wall", now=then) is None  # a user's id is no wall's
    store.create_session({"user": {"username": "v"}}, now=then + 3 * idle)
    assert store.count("sessions") == 1
