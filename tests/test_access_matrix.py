"""The access matrix: every route, Dash callback and page of the app x every role.

The rows come from the app's own registries (``app.server.url_map``, the Dash callback map,
``dash.page_registry``); each must have an entry here with the expected outcome per role, so
a new route, callback or page without one fails (:func:`missing_entries`, and
:func:`test_a_new_route_or_callback_without_an_entry_fails` shows that it does).

Roles (columns, in this order):

``county``      the county command centre
``township``    township A's leader (its token, its session), asking for A's own data
``other``       township A's leader asking for township B's data (B's case, camera, worker,
                B's place)
``planner``     the grid planner
``wall``        the wall display (its token; its session from the wall's link)
``writer``      a writer token (a system that reports cases; no session, no page)
``anonymous``   nobody

Outcomes:

``allow``   the door lets it through: 200 for a read; 2xx for a write, or 409 when a case rule
            refuses a repeated transition (the door had let it in)
``hide``    403 or 404, or an answer that carries nothing of township B
``deny``    403
``auth``    401 (no valid token or session)
``public``  200 for everybody (health, OpenAPI, static files, the sign-in page)
``login``   a redirect to the sign-in page; ``wall``: a redirect to the wall
``none``    (Dash) no answer: the callback raises PreventUpdate, HTTP 204
``forbidden``  (page layouts) the "may not see this page" message

The API is asked with each role's bearer token, and for reads also with its session (the
dashboard's own reads), which must answer the same; a session never writes (401). Pages and
Dash routes are asked with each role's session. The callbacks and page layouts are called as
functions in each role's request context; the probes that ask them for township B's data are
those of ``tests/test_scope_probe.py``, reused here.
"""

from __future__ import annotations

import io
import json

import dash
import pytest
import test_scope_probe as probe
from conftest import signed_in
from dash._callback import GLOBAL_CALLBACK_MAP
from dash.exceptions import PreventUpdate

from dashboard.i18n import t
from wangge.access import Scope
from wangge.services import planner

A, B, IN_A, IN_B = probe.A, probe.B, probe.IN_A, probe.IN_B
callback_calls, b_marks = probe.callback_calls, probe.b_marks
#: The probes' store and app (tests/test_scope_probe.py), set up once for this module.
env = probe.env

ROLES = ("county", "township", "other", "planner", "wall", "writer", "anonymous")

# -- the HTTP routes ---------------------------------------------------------------------------


def _csv(text: str) -> dict:
    return {"file": (io.BytesIO(text.encode()), "x.csv")}


#: (method, rule) -> [(path, body builder or None, expected outcome per role)]. Paths and
#: bodies are formatted with the asking role's target: township A's things, or B's for
#: ``other``.
HTTP = {
    ("GET", "/api/v1/health"): [("/api/v1/health", None, "public")],
    ("GET", "/api/v1/openapi.json"): [("/api/v1/openapi.json", None, "public")],
    ("GET", "/api/v1/layers/<name>.geojson"): [
        ("/api/v1/layers/communities.geojson", None, "allow allow hide allow allow allow auth")
    ],
    ("GET", "/api/v1/buildings"): [
        ("/api/v1/buildings?bbox={bbox}", None, "allow allow hide allow deny allow auth")
    ],
    ("GET", "/api/v1/cases"): [
        ("/api/v1/cases?township_code={township}", None, "allow allow hide allow deny allow auth")
    ],
    ("GET", "/api/v1/cases/<case_id>"): [
        ("/api/v1/cases/{case}", None, "allow allow hide allow deny allow auth")
    ],
    ("POST", "/api/v1/cases/<case_id>/transitions"): [
        (
            "/api/v1/cases/{case}/transitions",
            lambda x: {"to_status": "accepted", "actor": "matrix"},
            "allow allow hide deny deny allow auth",
        )
    ],
    ("POST", "/api/v1/cases/<case_id>/urge"): [
        (
            "/api/v1/cases/{case}/urge",
            lambda x: {"note": "matrix"},
            "allow allow hide deny deny allow auth",
        )
    ],
    ("POST", "/api/v1/cases/<case_id>/seen"): [
        ("/api/v1/cases/{case}/seen", lambda x: {}, "allow allow hide deny deny allow auth")
    ],
    ("POST", "/api/v1/cases"): [
        (
            "/api/v1/cases",
            lambda x: (
                {"category": "safety", "lon": x["lon"], "lat": x["lat"]}
                | {"client_id": x["client_id"]}
            ),
            "allow allow hide deny deny allow auth",
        )
    ],
    ("PUT", "/api/v1/cameras"): [
        (
            "/api/v1/cameras",
            lambda x: {"cameras": [{"camera_id": x["camera"], "lon": x["lon"], "lat": x["lat"]}]},
            "allow allow hide deny deny allow auth",
        )
    ],
    ("GET", "/api/v1/cameras"): [
        ("/api/v1/cameras", None, "allow allow hide allow deny allow auth")
    ],
    ("POST", "/api/v1/cameras/heartbeats"): [
        (
            "/api/v1/cameras/heartbeats",
            lambda x: {"heartbeats": [{"camera_id": x["camera"], "at": x["at"], "online": True}]},
            "allow allow hide deny deny allow auth",
        )
    ],
    ("POST", "/api/v1/patrols/points"): [
        (
            "/api/v1/patrols/points",
            lambda x: {
                "points": [
                    {"worker_id": x["worker"], "at": x["at"], "lon": x["lon"], "lat": x["lat"]}
                ]
            },
            "allow allow hide deny deny allow auth",
        )
    ],
    ("POST", "/api/v1/imports/<kind>"): [
        (
            "/api/v1/imports/gps",
            lambda x: _csv(
                f"worker_id,at,lon,lat\n{x['worker']},{x['at']},{x['lon']},{x['lat']}\n"
            ),
            "allow allow hide deny deny allow auth",
        )
    ],
    # the planner's routes (dashboard/api_planner.py): the county and the planner write;
    # a township leader reads its own township's versions, diffs and exports, nothing of B's
    ("GET", "/api/v1/grid-versions"): [
        (
            "/api/v1/grid-versions?community={community}",
            None,
            "allow allow hide allow deny deny auth",
        ),
        ("/api/v1/grid-versions", None, "allow allow hide allow deny deny auth"),
    ],
    ("POST", "/api/v1/grid-versions"): [
        (
            "/api/v1/grid-versions",
            lambda x: {"parent": 1, "moves": [], "comment": "matrix"},
            "allow deny deny allow deny deny auth",
        )
    ],
    ("GET", "/api/v1/grid-versions/<version_id>/diff"): [
        (
            "/api/v1/grid-versions/{draft}/diff?against=1",
            None,
            "allow allow hide allow deny deny auth",
        )
    ],
    ("GET", "/api/v1/grid-versions/<version_id>/export"): [
        (
            "/api/v1/grid-versions/1/export?format=geojson&community={community}",
            None,
            "allow allow hide allow deny deny auth",
        ),
        (
            "/api/v1/grid-versions/1/export?format=csv",
            None,
            "allow allow hide allow deny deny auth",
        ),
    ],
    ("POST", "/api/v1/grid-versions/<version_id>/publish"): [
        (
            "/api/v1/grid-versions/{draft}/publish",
            lambda x: {"reason": "matrix"},
            "allow deny deny allow deny deny auth",
        )
    ],
    ("POST", "/api/v1/grid-versions/<version_id>/restore"): [
        ("/api/v1/grid-versions/1/restore", lambda x: {}, "allow deny deny allow deny deny auth")
    ],
    ("POST", "/api/v1/grid-versions/relocate-open-cases"): [
        (
            "/api/v1/grid-versions/relocate-open-cases",
            lambda x: {},
            "allow deny deny allow deny deny auth",
        )
    ],
    ("GET", "/api/v1/audit"): [("/api/v1/audit", None, "allow deny deny allow deny deny auth")],
    ("GET", "/"): [("/", None, "allow allow allow allow wall login login")],
    ("GET", "/<path:path>"): [
        ("/cases", None, "allow allow allow allow wall login login"),
        ("/situation", None, "allow allow allow allow wall login login"),
        ("/wall", None, "allow allow allow allow allow login login"),
        ("/planner", None, "allow allow allow allow wall login login"),
    ],
    ("GET", "/_dash-layout"): [("/_dash-layout", None, "allow allow allow allow allow auth auth")],
    ("GET", "/_dash-dependencies"): [
        ("/_dash-dependencies", None, "allow allow allow allow allow auth auth")
    ],
    # one callback through HTTP (the map's grid values): the wall gets no answer (204)
    ("POST", "/_dash-update-component"): [
        ("/_dash-update-component", "grid-values", "allow allow allow allow none auth auth")
    ],
    ("GET", "/_reload-hash"): [("/_reload-hash", None, "allow allow allow allow wall login login")],
    ("GET", "/_favicon.ico"): [("/_favicon.ico", None, "public")],
    ("GET", "/assets/<path:filename>"): [("/assets/wangge.css", None, "public")],
    ("GET", "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>"): [
        ("/_dash-component-suites/dash/deps/react@18.3.1.min.js", None, "public")
    ],
    # Flask's static folder (there is none: 404 once past the door)
    ("GET", "/static/<path:filename>"): [
        ("/static/x.css", None, "missing missing missing missing wall login login")
    ],
    ("GET", "/login"): [("/login", None, "public")],
    ("POST", "/login"): [("/login", lambda x: {"username": "nobody", "password": "x"}, "failed")],
    ("GET", "/logout"): [("/logout", None, "login")],
}

# -- the Dash callbacks and pages --------------------------------------------------------------

#: (module, callback) -> outcome per role (without ``other``: the calls of test_scope_probe ask
#: for township B's data, so the township column is the ``other`` one).
CALLBACKS = {
    ("dashboard.pages.map", "show_buildings"): "allow hide allow none none none",
    ("dashboard.pages.map", "show_cases"): "allow hide allow none none none",
    ("dashboard.pages.map", "show_hexes"): "allow hide allow none none none",
    ("dashboard.pages.map", "grid_values"): "allow hide allow none none none",
    ("dashboard.pages.map", "load_camera_layers"): "allow hide allow none none none",
    ("dashboard.pages.map", "show_track"): "allow hide allow none none none",
    ("dashboard.pages.map", "open_card"): "allow hide allow none none none",
    ("dashboard.pages.cases", "get_rows"): "allow hide allow none none none",
    ("dashboard.pages.cases", "refilter"): "allow hide allow none none none",
    ("dashboard.pages.cases", "show_case"): "allow hide allow none none none",
    ("dashboard.pages.cases", "export_cases"): "allow hide allow none none none",
    ("dashboard.pages.cases", "act"): "allow hide allow none none none",
    ("dashboard.pages.situation", "navigate"): "allow hide allow none none none",
    ("dashboard.pages.wall", "refresh_wall"): "allow hide allow allow none none",
    ("dashboard.pages.planner", "pick_township"): "allow hide allow none none none",
    ("dashboard.pages.planner", "load_community"): "allow hide allow none none none",
    ("dashboard.pages.planner", "act"): "allow hide allow none none none",
    ("dashboard.pages.planner", "autosave"): "allow hide allow none none none",
}
CALLBACK_ROLES = ("county", "other", "planner", "wall", "writer", "anonymous")

#: page path -> outcome of its layout per role (the township column asks for B's units).
PAGES = {
    "/": "allow hide allow forbidden forbidden forbidden",
    "/cases": "allow hide allow forbidden forbidden forbidden",
    "/situation": "allow hide allow forbidden forbidden forbidden",
    "/wall": "allow hide allow allow forbidden forbidden",
    "/planner": "allow hide allow forbidden forbidden forbidden",
    "/404": "allow",  # no data: the header and a way back, for whoever reaches it
}


def _expected(text: str, roles: tuple[str, ...] = ROLES) -> dict[str, str]:
    words = text.split()
    if len(words) == 1:
        words = words * len(roles)
    assert len(words) == len(roles), text
    return dict(zip(roles, words, strict=True))


def _callback_keys(app) -> set[tuple[str, str]]:
    keys = set()
    for entry in [*GLOBAL_CALLBACK_MAP.values(), *app.callback_map.values()]:
        fn = getattr(entry.get("callback"), "__wrapped__", None)
        if fn is not None and not fn.__module__.startswith("dash."):  # not Dash's own
            keys.add((fn.__module__, fn.__name__))
    return keys


def missing_entries(app) -> set:
    """Routes, callbacks and pages of ``app`` that have no entry in the matrix."""
    rules = {
        (method, rule.rule)
        for rule in app.server.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    pages = {("page", p["path"]) for p in dash.page_registry.values()}
    return (
        (rules - set(HTTP))
        | {("callback", *k) for k in _callback_keys(app) - set(CALLBACKS)}
        | (pages - {("page", p) for p in PAGES})
    )


def test_every_route_callback_and_page_has_an_entry(env):
    app, *_ = env
    app.server.test_client().get("/login")  # Dash moves its callbacks into the app's map
    assert missing_entries(app) == set()


def test_a_new_route_or_callback_without_an_entry_fails(tmp_path):
    from dashboard.app import create_app
    from wangge.settings import Settings

    app = create_app(Settings(data_dir=tmp_path))
    app.server.add_url_rule("/api/v1/dummy", "dummy", lambda: "{}")

    @app.callback(dash.Output("dummy-out", "children"), dash.Input("dummy-in", "value"))
    def dummy_callback(value):
        return value

    assert missing_entries(app) == {
        ("GET", "/api/v1/dummy"),
        ("callback", __name__, "dummy_callback"),
    }


# -- asking ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix(env):
    """Each role's client (its session cookie) and token, and the targets it asks for."""
    app, store, tokens, b = env
    cases = store.cases_frame(scope=Scope.of_township(A))
    cams = store.cameras(scope=Scope.of_township(A))
    workers = store.workers(scope=Scope.of_township(A))
    at = "2026-12-01T08:00:00Z"
    own = {
        "case": cases["case_id"].iloc[0],
        "client_id": "matrix-new",
        "camera": cams["camera_id"].iloc[0],
        "worker": workers["worker_id"].iloc[0],
        "lon": IN_A[0],
        "lat": IN_A[1],
        "township": A,
        "bbox": f"{IN_A[0] - 0.004},{IN_A[1] - 0.004},{IN_A[0] + 0.004},{IN_A[1] + 0.004}",
        "at": at,
        "community": f"{A[:9]}001",
    }
    other = dict(b) | {
        "lon": IN_B[0],
        "lat": IN_B[1],
        "township": B,
        "bbox": f"{IN_B[0] - 0.004},{IN_B[1] - 0.004},{IN_B[0] + 0.004},{IN_B[1] + 0.004}",
        "at": at,
        "community": f"{B[:9]}001",
    }
    roles_tokens = {
        "county": store.create_token("m-county", "county"),
        "township": tokens["a"],
        "other": tokens["a"],
        "planner": store.create_token("m-planner", "planner"),
        "wall": store.create_token("m-wall", "wall"),
        "writer": store.create_token("m-writer", "writer"),
        "anonymous": None,
    }
    clients = {}
    for role in ROLES:
        client = app.server.test_client()
        if role == "wall":
            assert client.get(f"/wall?token={roles_tokens['wall']}").status_code == 302
        elif role in ("county", "township", "other", "planner"):
            with client.session_transaction() as sess:
                sess["user"] = {
                    "username": f"m-{role}",
                    "display_name": role,
                    "role": "township" if role == "other" else role,
                    "scope": A if role in ("township", "other") else "",
                }
        clients[role] = client
    assert clients["county"].get("/").status_code == 200  # Dash registers its scripts' paths
    # a draft that moves one of township B's buildings: its diff is B's, the list names it
    moved = store.building_grids(1, scope=Scope.of_township(B))["building_id"].iloc[0]
    other["draft"] = planner.save_draft(
        store,
        1,
        [{"building": moved, "to": "new"}],
        comment=f"matrix {probe.B_NAME}",
        author="county",
    )["id"]
    targets = {r: other if r == "other" else own | {"draft": 1} for r in ROLES}
    for role in ("county", "planner"):  # a draft of their own to publish
        draft = planner.save_draft(store, 1, [], comment=f"matrix {role}", author=role)
        targets[role] = own | {"draft": draft["id"]}
    return app, roles_tokens, clients, targets, b


def _dash_request(app, output: str) -> dict:
    spec = app.callback_map[f"{output}.data"]
    return {
        "output": f"{output}.data",
        "outputs": {"id": output, "property": "data"},
        "inputs": [{"id": i["id"], "property": i["property"], "value": 0} for i in spec["inputs"]],
        "changedPropIds": [],
        "state": [],
    }


def _ask(app, client, method, path, body, token, *, referer=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if referer:
        headers["Referer"] = referer
    if path == "/_dash-update-component":
        return client.post(path, json=_dash_request(app, body), headers=headers)
    if method == "GET":
        return client.get(path, headers=headers)
    if isinstance(body, dict) and "file" in body:
        return client.post(path, data=body, headers=headers, content_type="multipart/form-data")
    if path == "/login":
        return client.post(path, data=body, headers=headers)
    return client.open(path, method=method, json=body, headers=headers)


def _sent_text(sent) -> str:
    """What a request sent, as text: an id the caller sent may come back, nothing else of B's."""
    if isinstance(sent, dict) and "file" in sent:
        return sent["file"][0].getvalue().decode()
    return json.dumps(sent, default=str, ensure_ascii=False)


def _judge(outcome: str, resp, method: str, marks: list[str]) -> bool:
    status, text = resp.status_code, resp.get_data().decode("utf-8", "replace")
    if resp.is_json:  # JSON escapes Chinese names: look for them in the decoded answer
        text = json.dumps(resp.get_json(silent=True), ensure_ascii=False)
    location = resp.headers.get("Location", "")
    if outcome == "allow":
        return status == 200 or (method != "GET" and status in (201, 409))
    if outcome == "hide":
        return status in (403, 404) or (status in (200, 201) and not any(m in text for m in marks))
    return {
        "deny": status == 403,
        "auth": status == 401,
        "public": status == 200,
        "login": status == 302 and location.startswith("/login"),
        "wall": status == 302 and location.startswith("/wall"),
        "none": status == 204,
        "missing": status == 404,
        "failed": status in (401, 429),  # wrong, or locked after a few tries
    }[outcome]


HTTP_CASES = [
    (method, rule, path, body, role, outcome)
    for (method, rule), probes in HTTP.items()
    for path, body, text in probes
    for role, outcome in _expected(text).items()
]


@pytest.mark.parametrize(
    ("method", "rule", "path", "body", "role", "outcome"),
    HTTP_CASES,
    ids=[f"{c[0]} {c[2]} {c[4]}" for c in HTTP_CASES],
)
def test_http_matrix(matrix, method, rule, path, body, role, outcome):
    app, tokens, clients, targets, b = matrix
    target = targets[role]
    sent = body(target) if callable(body) else body
    url = path.format(**target)
    is_api = url.startswith("/api/v1/")
    token = tokens[role] if is_api or role == "writer" else None
    client = clients[role] if not is_api or role == "anonymous" else app.server.test_client()
    marks = [m for m in b_marks(b) if m not in _sent_text(sent) + url]
    resp = _ask(app, client, method, url, sent, token)
    assert _judge(outcome, resp, method, marks), (resp.status_code, resp.get_data()[:300])
    if is_api and role not in ("writer", "anonymous"):
        # the same request from the role's session: the same answer for a read, 401 for a write
        wall_page = "http://localhost/wall" if role == "wall" else None
        sent = body(target) if callable(body) else body  # (an upload's file is read once)
        again = _ask(app, clients[role], method, url, sent, None, referer=wall_page)
        expected = outcome if method == "GET" or outcome == "public" else "auth"
        assert _judge(expected, again, method, marks), (again.status_code, again.get_data()[:300])


# -- callbacks and pages -----------------------------------------------------------------------


def _context(app, role: str):
    if role == "anonymous":
        return app.server.test_request_context("/")
    return signed_in(app, "township" if role == "other" else role, A if role == "other" else "")


CALLBACK_CASES = [
    (key, role, outcome)
    for key, text in CALLBACKS.items()
    for role, outcome in _expected(text, CALLBACK_ROLES).items()
]


@pytest.mark.parametrize(
    ("key", "role", "outcome"), CALLBACK_CASES, ids=[f"{k[1]} {r}" for k, r, _ in CALLBACK_CASES]
)
def test_callback_matrix(env, key, role, outcome):
    app, _, _, b = env
    with _context(app, role):
        call = callback_calls(b)[key]
        if outcome == "none":
            with pytest.raises(PreventUpdate):
                call()
            return
        text = json.dumps(call(), default=str, ensure_ascii=False)
    if outcome == "hide":
        assert not [m for m in b_marks(b) if m in text]


PAGE_CASES = [
    (path, role, outcome)
    for path, text in PAGES.items()
    for role, outcome in _expected(text, CALLBACK_ROLES).items()
]


@pytest.mark.parametrize(
    ("path", "role", "outcome"), PAGE_CASES, ids=[f"{p} {r}" for p, r, _ in PAGE_CASES]
)
def test_page_matrix(env, path, role, outcome):
    app, _, _, b = env
    page = next(p for p in dash.page_registry.values() if p["path"] == path)
    asks = {
        "/cases": {"township": B},
        "/situation": {"level": "township", "code": B},
        "/planner": {"community": f"{B[:9]}001"},
    }
    with _context(app, role):
        text = str(page["layout"](**asks.get(path, {})))
    forbidden = t("error.forbidden", "zh") in text
    assert forbidden == (outcome == "forbidden"), text[:300]
    if outcome == "hide":
        assert not [m for m in b_marks(b) if m in text]


def test_the_security_docs_table_is_the_matrix():
    """docs/security.md shows the matrix's first probe of each route, as it is."""
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[1] / "docs" / "security.md").read_text()
    shown = {}
    for line in docs.splitlines():
        if line.startswith(("| `GET ", "| `POST ", "| `PUT ", "| `DELETE ", "| `PATCH ")):
            cells = [c.strip() for c in line.strip("|").split("|")]
            method, rule = cells[0].strip("`").split(" ", 1)
            shown[(method, rule)] = dict(zip(ROLES, cells[1:], strict=True))
    assert shown == {key: _expected(probes[0][2]) for key, probes in HTTP.items()}
