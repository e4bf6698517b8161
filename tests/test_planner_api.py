"""The planner's API (dashboard/api_planner.py): who may do what, drafts, diff, publish,
exports and the audit log, through the real Flask app."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from conftest import load_tiny_county

from dashboard.app import create_app
from wangge.settings import Settings
from wangge.store import Store

A, B = "420999001000", "420999002000"
C1 = "420999001001"


@pytest.fixture
def env(tmp_path):
    settings = Settings(data_dir=tmp_path)
    store = Store(settings.db_path)
    load_tiny_county(store)
    app = create_app(settings)
    tokens = {
        role: store.create_token(role, role, scope=A if role == "township" else "")
        for role in ("county", "planner", "township", "writer", "wall")
    }
    return app.server.test_client(), store, tokens


def ask(client, method, path, token=None, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.open(path, method=method, json=body, headers=headers)


def test_only_planner_and_county_write_and_others_get_403(env):
    client, store, tokens = env
    body = {"parent": 1, "moves": [{"building": "B00000", "to": "new"}], "comment": "新楼"}
    for role in ("township", "writer", "wall"):
        assert ask(client, "POST", "/api/v1/grid-versions", tokens[role], body).status_code == 403
        assert (
            ask(client, "POST", "/api/v1/grid-versions/1/publish", tokens[role]).status_code == 403
        )
        assert ask(client, "GET", "/api/v1/audit", tokens[role]).status_code == 403
    assert ask(client, "POST", "/api/v1/grid-versions", None, body).status_code == 401
    for role in ("writer", "wall"):
        assert ask(client, "GET", "/api/v1/grid-versions", tokens[role]).status_code == 403
    assert [v["id"] for v in store.audit_log()] == []  # nothing was written
    resp = ask(client, "POST", "/api/v1/grid-versions", tokens["planner"], body)
    assert resp.status_code == 201, resp.get_json()
    draft = resp.get_json()
    assert draft["parent"] == 1 and draft["moved"] == 1
    tallies = {t["grid"]: t["households"] for t in draft["tallies"]}
    assert tallies == {C1 + "001": sum(range(25, 32)), C1 + "002": 24}
    assert ask(client, "POST", "/api/v1/grid-versions", tokens["county"], body).status_code == 201


def test_township_leaders_read_their_own_township(env):
    client, store, tokens = env
    body = {"parent": 1, "moves": [{"building": "B00000", "to": "new"}]}
    vid = ask(client, "POST", "/api/v1/grid-versions", tokens["planner"], body).get_json()["id"]
    items = ask(client, "GET", "/api/v1/grid-versions", tokens["township"]).get_json()["items"]
    assert [v["id"] for v in items] == [vid, 1]
    diff = ask(client, "GET", f"/api/v1/grid-versions/{vid}/diff?against=1", tokens["township"])
    assert diff.get_json()["moved"] == [
        {"building": "B00000", "from": C1 + "001", "to": C1 + "002", "households": 24}
    ]
    csv = ask(client, "GET", f"/api/v1/grid-versions/{vid}/export?format=csv", tokens["township"])
    frame = pd.read_csv(io.BytesIO(csv.data), dtype=str)
    assert len(frame) == 16 and frame["grid_code"].str.startswith(A[:9]).all()
    other = f"/api/v1/grid-versions/{vid}/export?format=geojson&community={B[:9]}001"
    assert ask(client, "GET", other, tokens["township"]).status_code == 404
    assert ask(client, "GET", other, tokens["county"]).status_code == 200


def test_bad_requests_are_named(env):
    client, _, tokens = env
    p = tokens["planner"]
    resp = ask(client, "POST", "/api/v1/grid-versions", p, {"parent": "x"})
    assert resp.status_code == 422 and "parent" in resp.get_json()["fields"]
    resp = ask(
        client,
        "POST",
        "/api/v1/grid-versions",
        p,
        {"parent": 1, "moves": [{"building": "NO", "to": "new"}]},
    )
    assert resp.status_code == 422
    assert resp.get_json()["fields"] == {
        "moves[0].building": "'NO' is in no grid of the parent version"
    }
    assert ask(client, "POST", "/api/v1/grid-versions", p, {"parent": 77}).status_code == 404
    assert ask(client, "GET", "/api/v1/grid-versions/1/diff", p).status_code == 422
    assert ask(client, "GET", "/api/v1/grid-versions/9/diff?against=1", p).status_code == 404
    resp = ask(client, "GET", "/api/v1/grid-versions/1/export?format=pdf", p)
    assert resp.status_code == 422 and "format 'pdf'" in resp.get_json()["detail"]
    assert ask(client, "GET", "/api/v1/audit?limit=0", p).status_code == 422


def test_publish_needs_a_reason_with_violations_and_is_audited(env):
    client, store, tokens = env
    p = tokens["planner"]
    body = {"parent": 1, "moves": [{"building": "B00000", "to": "new"}], "comment": "c"}
    vid = ask(client, "POST", "/api/v1/grid-versions", p, body).get_json()["id"]
    resp = ask(client, "POST", f"/api/v1/grid-versions/{vid}/publish", p, {})
    assert resp.status_code == 422 and "reason" in resp.get_json()["fields"]
    assert store.published_grid_version() == 1
    resp = ask(client, "POST", f"/api/v1/grid-versions/{vid}/publish", p, {"reason": "新小区"})
    assert resp.status_code == 200 and store.published_grid_version() == vid
    restored = ask(client, "POST", "/api/v1/grid-versions/1/restore", p).get_json()["id"]
    assert ask(client, "POST", "/api/v1/grid-versions/relocate-open-cases", p).status_code == 200
    log = ask(client, "GET", "/api/v1/audit", p).get_json()["items"]
    assert [(e["action"], e["version_id"], e["actor"]) for e in log] == [
        ("relocate", vid, "planner"),
        ("restore", restored, "planner"),
        ("publish", vid, "planner"),
        ("save", vid, "planner"),
    ]
