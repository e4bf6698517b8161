"""The desk's case rules below the screen: address and urgency end to end (API, import, store),
conflicts between two operators, 督办 and "seen" notes, the desk's views and search."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import X0, Y0, load_tiny_county

from dashboard.app import create_app
from wangge import clock
from wangge.access import Scope
from wangge.casework import ConflictError, TransitionError, ValidationError, parse_assignee
from wangge.ingest.files import import_cases
from wangge.services.metrics import wall_data
from wangge.settings import Settings
from wangge.store import Store

IN_FIRST = {"lon": X0 + 0.005, "lat": Y0 + 0.005}  # community 420999001001
COUNTY = Scope.county()


@pytest.fixture
def env(tmp_path):
    settings = Settings(data_dir=tmp_path)
    store = Store(settings.db_path)
    load_tiny_county(store)
    app = create_app(settings)
    token = store.create_token("county-centre", "county")
    return app.server.test_client(), store, {"Authorization": f"Bearer {token}"}


def _create(client, headers, **extra) -> dict:
    body = {"category": "safety", **IN_FIRST, "title": "燃气泄漏", **extra}
    resp = client.post("/api/v1/cases", json=body, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_address_and_urgency_through_the_api(env):
    client, _, headers = env
    case = _create(client, headers, address="城关路12号", urgency="urgent")
    assert (case["address"], case["urgency"], case["version"]) == ("城关路12号", "urgent", 1)
    assert _create(client, headers)["urgency"] == "normal"
    bad = client.post(
        "/api/v1/cases", json={"category": "safety", **IN_FIRST, "urgency": "asap"}, headers=headers
    )
    assert bad.status_code == 422 and "urgency" in bad.get_json()["fields"]
    urgent = client.get("/api/v1/cases?urgency=urgent", headers=headers).get_json()
    assert [c["case_id"] for c in urgent["items"]] == [case["case_id"]]
    found = client.get("/api/v1/cases?q=城关路", headers=headers).get_json()
    assert found["total"] == 1 and found["items"][0]["address"] == "城关路12号"
    several = client.get("/api/v1/cases?status=reported,accepted", headers=headers).get_json()
    assert several["total"] == 2
    wrong = client.get("/api/v1/cases?status=reported,lost", headers=headers)
    assert wrong.status_code == 422 and "status" in wrong.get_json()["fields"]


def test_a_stale_version_is_a_conflict_that_names_who_changed_the_case(env):
    client, store, headers = env
    other = {"Authorization": f"Bearer {store.create_token('甲-desk', 'county')}"}
    case = _create(client, headers)
    url = f"/api/v1/cases/{case['case_id']}/transitions"
    # the actor recorded is the token's principal, not what the body says
    first = client.post(
        url, json={"to_status": "accepted", "actor": "乙", "version": 1}, headers=other
    )
    assert first.status_code == 200 and first.get_json()["version"] == 2
    second = client.post(url, json={"to_status": "returned", "version": 1}, headers=headers)
    body = second.get_json()
    assert second.status_code == 409 and body["error"] == "conflict"
    assert (body["changed_by"], body["status"], body["version"]) == ("甲-desk", "accepted", 2)
    stored = store.get_case(case["case_id"], scope=COUNTY)
    assert stored["status"] == "accepted" and len(stored["events"]) == 2  # nothing overwritten


def test_dispatch_records_the_assignee(env):
    client, store, headers = env
    case = _create(client, headers)
    url = f"/api/v1/cases/{case['case_id']}/transitions"
    client.post(url, json={"to_status": "accepted", "actor": "a"}, headers=headers)
    resp = client.post(
        url,
        json={"to_status": "dispatched", "actor": "a", "assignee": "dept:emergency"},
        headers=headers,
    )
    assert resp.status_code == 200 and resp.get_json()["assignee"] == "dept:emergency"
    assert resp.get_json()["events"][-1]["assignee"] == "dept:emergency"
    bad = client.post(
        url,
        json={"to_status": "in_progress", "assignee": "dept:nasa"},
        headers=headers,
    )
    assert bad.status_code == 422 and "assignee" in bad.get_json()["fields"]
    with pytest.raises(ValidationError, match="expected worker:<worker id> or dept:"):
        parse_assignee("someone")
    with pytest.raises(ValidationError, match="assignee: required"):
        parse_assignee("")


def test_urge_and_seen_are_notes_that_keep_the_status(env):
    client, store, headers = env
    case = _create(client, headers, urgency="urgent", client_id="sim:gas")
    assert [c["case_id"] for c in store.urgent_unseen(scope=COUNTY)] == [case["case_id"]]
    urged = store.note_case(case["case_id"], "urge", scope=COUNTY, actor="县领导", comment="速办")
    assert urged["status"] == "reported" and urged["version"] == 1
    assert urged["events"][-1]["action"] == "urge" and urged["events"][-1]["comment"] == "速办"
    store.note_case(case["case_id"], "seen", scope=COUNTY, actor="值班员")
    assert store.urgent_unseen(scope=COUNTY) == []
    with pytest.raises(KeyError):
        store.note_case(case["case_id"], "urge", scope=Scope.of_township("420999002000"), actor="x")
    with pytest.raises(TransitionError, match="unknown action"):
        store.note_case(case["case_id"], "delete", scope=COUNTY, actor="x")
    # the demo feed's view of open cases counts status changes only
    assert store.open_case_states(scope=COUNTY)[0]["events"] == 1


def test_urge_and_seen_through_the_api(env):
    client, store, headers = env
    case = _create(client, headers, urgency="urgent")
    url = f"/api/v1/cases/{case['case_id']}"
    urged = client.post(
        url + "/urge", json={"note": " 两小时内到场 ", "version": 1}, headers=headers
    )
    assert urged.status_code == 200, urged.get_json()
    last = urged.get_json()["events"][-1]
    assert (last["action"], last["actor"], last["comment"]) == (
        "urge",
        "county-centre",
        "两小时内到场",
    )
    assert (urged.get_json()["status"], urged.get_json()["version"]) == ("reported", 1)
    # a note is required, and nothing else than the declared fields
    for body in (
        {"version": 1},
        {"note": "  "},
        {"note": "x", "actor": "me"},
        {"note": "x", "version": 0},
    ):
        bad = client.post(url + "/urge", json=body, headers=headers)
        assert bad.status_code == 422 and bad.get_json()["error"] == "validation_error", body
    # seen: the body may be left out; the case stops flashing on the wall
    assert [c["case_id"] for c in store.urgent_unseen(scope=COUNTY)] == [case["case_id"]]
    seen = client.post(url + "/seen", headers=headers)
    assert seen.status_code == 200 and seen.get_json()["seen_at"]
    assert seen.get_json()["events"][-1]["action"] == "seen"
    assert store.urgent_unseen(scope=COUNTY) == []
    # another operator accepts the case: a note decided on version 1 is a conflict naming them
    store.transition_case(case["case_id"], "accepted", scope=COUNTY, actor="乙", version=1)
    for path, body in (("/urge", {"note": "速办", "version": 1}), ("/seen", {"version": 1})):
        stale = client.post(url + path, json=body, headers=headers)
        assert stale.status_code == 409, path
        assert (stale.get_json()["changed_by"], stale.get_json()["version"]) == ("乙", 2)
    assert len(store.get_case(case["case_id"], scope=COUNTY)["events"]) == 4  # nothing added
    # a closed case: nothing to urge
    for to in ("dispatched", "in_progress", "resolved", "verified", "closed"):
        store.transition_case(
            case["case_id"],
            to,
            scope=COUNTY,
            actor="乙",
            assignee="dept:emergency" if to == "dispatched" else "",
        )
    closed = client.post(url + "/urge", json={"note": "速办"}, headers=headers)
    assert closed.status_code == 409 and closed.get_json()["error"] == "invalid_transition"


def test_urge_and_seen_from_another_township_or_a_reader_are_refused(env):
    client, store, headers = env
    case = _create(client, headers, urgency="urgent")  # in township 420999001000
    url = f"/api/v1/cases/{case['case_id']}"
    tokens = {
        "other": store.create_token("b-desk", "township", scope="420999002000"),
        "planner": store.create_token("plan", "planner"),
        "wall": store.create_token("wall", "wall"),
    }
    for who, token in tokens.items():
        auth = {"Authorization": f"Bearer {token}"}
        for path, body in (("/urge", {"note": "速办"}), ("/seen", {})):
            resp = client.post(url + path, json=body, headers=auth)
            # as the rest of the API: another township's case does not exist, a reader may not
            assert resp.status_code == (404 if who == "other" else 403), (who, path)
            assert "燃气泄漏" not in resp.get_data(as_text=True)  # nothing of the case
    assert client.post(url + "/seen", json={}).status_code == 401
    own = store.create_token("a-desk", "township", scope="420999001000")
    ok = client.post(
        url + "/urge", json={"note": "速办"}, headers={"Authorization": f"Bearer {own}"}
    )
    assert ok.status_code == 200 and ok.get_json()["events"][-1]["actor"] == "a-desk"
    events = store.get_case(case["case_id"], scope=COUNTY)["events"]
    assert [e["actor"] for e in events] == ["county-centre", "a-desk"]


def test_a_conflict_in_the_store_raises_with_the_current_state(env):
    _, store, headers = env
    client = env[0]
    case = _create(client, headers)
    store.transition_case(case["case_id"], "accepted", scope=COUNTY, actor="甲", version=1)
    with pytest.raises(ConflictError, match="changed by 甲") as exc:
        store.transition_case(case["case_id"], "returned", scope=COUNTY, actor="乙", version=1)
    assert exc.value.version == 2 and exc.value.status == "accepted"


def test_open_overdue_view_is_the_walls_figure_and_never_a_case_closed_late(env):
    _, store, _ = env
    now = pd.Timestamp.now(tz="UTC").floor("s")
    long_ago = clock.stamp(now - pd.Timedelta(days=5))
    cases = []
    for n, (status, closed) in enumerate(
        [("reported", None), ("accepted", None), ("closed", clock.stamp(now))]
    ):
        cases.append(
            {
                "case_id": f"C20260101-{n:05d}",
                "client_id": f"t{n}",
                "category": "safety",
                "status": status,
                "level": "grid",
                **IN_FIRST,
                "township_code": "420999001000",
                "community_code": "420999001001",
                "grid_code": "420999001001001",
                "reported_at": long_ago,
                "deadline_at": clock.stamp(now - pd.Timedelta(days=4)),
                "closed_at": closed,
                "updated_at": long_ago,
                "urgency": "urgent" if n == 0 else "normal",
                **dict.fromkeys(("title", "description", "source"), ""),
                **dict.fromkeys(("reporter_name", "reporter_phone"), ""),
            }
        )
    assert store.insert_cases_bulk(cases, [], scope=COUNTY) == 3
    stamp = clock.stamp(now)
    overdue = store.list_cases(scope=COUNTY, filters={"view": "open_overdue"}, now=stamp)
    old = store.list_cases(scope=COUNTY, filters={"overdue": True}, now=stamp)
    assert overdue[1] == 2 and old[1] == 3  # the old filter listed the case closed late
    assert wall_data(store, scope=COUNTY, now=now).kpis["open_overdue"] == overdue[1]
    assert store.list_cases(scope=COUNTY, filters={"view": "urgent"}, now=stamp)[1] == 1
    assert store.list_cases(scope=COUNTY, filters={"view": "open"}, now=stamp)[1] == 2
    assert store.list_cases(scope=COUNTY, filters={"view": "today"}, now=stamp)[1] == 0
    assert store.list_cases(scope=COUNTY, filters={"q": "C20260101-00002"}, now=stamp)[1] == 1
    assert store.list_cases(scope=COUNTY, filters={"q": "420999001001"}, now=stamp)[1] == 3


def test_import_reads_address_and_urgency(tiny_store, tmp_path):
    path = tmp_path / "12345.csv"
    pd.DataFrame(
        {
            "工单编号": ["G1", "G2", "G3"],
            "受理时间": ["2026-11-20 08:30"] * 3,
            "诉求类型": ["安全隐患"] * 3,
            "经度": [IN_FIRST["lon"]] * 3,
            "纬度": [IN_FIRST["lat"]] * 3,
            "地址": ["城关路1号", "", "城关路3号"],
            "紧急程度": ["紧急", "", "很急"],
        }
    ).to_csv(path, index=False)
    report = import_cases(path, tiny_store, scope=COUNTY)
    assert (report.added, report.bad_rows) == (2, 1)
    assert "紧急程度" in report.errors[0][1] and "'很急'" in report.errors[0][1]
    rows = {c["client_id"]: c for c in tiny_store.list_cases(scope=COUNTY)[0]}
    assert (rows["G1"]["address"], rows["G1"]["urgency"]) == ("城关路1号", "urgent")
    assert (rows["G2"]["address"], rows["G2"]["urgency"]) == ("", "normal")
