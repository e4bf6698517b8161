"""The case list page: server-side rows for AG Grid, filters, masking, the case card."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import load_tiny_county, signed_in

from dashboard.app import create_app
from wangge.access import Scope
from wangge.demo.simulate import simulate
from wangge.settings import Settings
from wangge.store import Store


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("cases"))
    store = Store(settings.db_path)
    load_tiny_county(store)
    simulate(
        store,
        days=20,
        per_day=30,
        gps_days=1,
        seed=5,
        end=pd.Timestamp.now(tz="UTC").floor("h").to_pydatetime(),
    )
    return create_app(settings)


def test_rows_come_a_block_at_a_time_newest_first_with_personal_data_masked(app):
    from dashboard.pages import cases

    with signed_in(app):
        block = cases.rows_for({"startRow": 0, "endRow": 50}, {"window": "all"}, "zh")
        store = app.server.config["WANGGE_STORE"]
        assert block["rowCount"] == store.count("cases")
        rows = block["rowData"]
        assert len(rows) == 50
        assert [r["reported_at"] for r in rows] == sorted(
            (r["reported_at"] for r in rows), reverse=True
        )
        with_phone = [r for r in rows if r["reporter_phone"]]
        assert with_phone and all("****" in r["reporter_phone"] for r in with_phone)
        assert all(
            len(r["reporter_name"]) == 0 or r["reporter_name"][1:].strip("*") == "" for r in rows
        )
        nxt = cases.rows_for({"startRow": 50, "endRow": 100}, {"window": "all"}, "zh")["rowData"]
        assert not {r["case_id"] for r in rows} & {r["case_id"] for r in nxt}


def test_filters_and_sorting(app):
    from dashboard.pages import cases

    with signed_in(app):
        overdue = cases.rows_for({"startRow": 0, "endRow": 500}, {"view": "open_overdue"}, "en")
        assert overdue["rowCount"] > 0 and all(r["overdue"] for r in overdue["rowData"])
        assert all(r["closed_at"] is None for r in overdue["rowData"])
        assert all(r["overdue_label"] == "overdue" for r in overdue["rowData"])
        safety = cases.rows_for(
            {"startRow": 0, "endRow": 500},
            {"category": "safety", "township": "420999002000", "window": "all"},
            "en",
        )
        assert all(
            r["category"] == "safety" and r["township_code"] == "420999002000"
            for r in safety["rowData"]
        )
        asc = cases.rows_for(
            {"startRow": 0, "endRow": 20, "sortModel": [{"colId": "deadline_at", "sort": "asc"}]},
            {"window": "all"},
            "en",
        )["rowData"]
        assert [r["deadline_at"] for r in asc] == sorted(r["deadline_at"] for r in asc)
        today = cases.rows_for({"startRow": 0, "endRow": 500}, {"window": "1d"}, "en")
        assert today["rowCount"] < overdue["rowCount"] + 500
        grid, count, window_off = cases.refilter({"category": "safety", "window": "all"}, "en")
    assert count.endswith(" cases") and grid.id == "cases-grid" and window_off is False


def test_case_card_shows_the_history_and_flies_the_map(app):
    from dashboard.pages import cases

    store = app.server.config["WANGGE_STORE"]
    closed = store.list_cases(filters={"status": "closed"}, limit=1, scope=Scope.county())[0][0]
    with signed_in(app):
        detail, markers, viewport = cases.show_case([{"case_id": closed["case_id"]}], "zh")
    text = str(detail)
    assert closed["case_id"] in text and "已结案" in text and "已受理" in text
    assert (
        viewport["center"] == [closed["lat"], closed["lon"]] and viewport["transition"] == "flyTo"
    )
    assert len(markers) == 1


def _reported(store) -> dict:
    """A new case, just reported (in township 420999001000)."""
    from conftest import X0, Y0

    from wangge.casework import validate_new_case
    from wangge.clock import utc_now
    from wangge.services.locate import Locator

    case = validate_new_case(
        {"category": "order", "lon": X0 + 0.005, "lat": Y0 + 0.005, "title": "噪音"}, now=utc_now()
    )
    location = Locator(store).locate(case["lon"], case["lat"])
    return store.create_case(case, location, scope=Scope.county(), actor="hotline")[0]


def _buttons(card) -> list[str]:
    text = str(card)
    return [a for a in ("accepted", "returned", "urge", "dispatched") if f"'action': '{a}'" in text]


def test_the_card_offers_what_the_role_may_do(app):
    from dashboard.pages import cases

    case = _reported(app.server.config["WANGGE_STORE"])
    with signed_in(app):
        assert _buttons(cases.desk_card(case["case_id"], "zh", where="cases")) == [
            "accepted",
            "returned",
            "urge",
        ]
    with signed_in(app, "planner"):  # reads everything, changes nothing
        assert _buttons(cases.desk_card(case["case_id"], "zh", where="cases")) == []
        _, message = cases.perform_action(
            "accepted", {"case_id": case["case_id"], "version": case["version"]}, "", None
        )
        assert "只能查看" in str(message)
    other = "420999002000" if case["township_code"] != "420999002000" else "420999001000"
    with signed_in(app, "township", other):
        assert cases.desk_card(case["case_id"], "zh", where="map") is None
    stored = app.server.config["WANGGE_STORE"].get_case(case["case_id"], scope=Scope.county())
    assert stored["status"] == "reported" and stored["version"] == case["version"]


def test_actions_need_their_fields_and_go_under_the_users_name(app):
    from dashboard.pages import cases

    store = app.server.config["WANGGE_STORE"]
    case = _reported(store)
    state = {"case_id": case["case_id"], "version": case["version"], "lang": "zh"}
    with signed_in(app):
        _, message = cases.perform_action("urge", state, "  ", None)
        assert "督办须填写督办意见" in str(message)
        done, message = cases.perform_action("accepted", state, "收到", None)
        assert done["status"] == "accepted" and "act-ok" in str(message)
        state["version"] += 1
        _, message = cases.perform_action("dispatched", state, "", None)
        assert "派遣须选择处置对象" in str(message)
        done, _ = cases.perform_action("dispatched", state, "", "dept:water")
    assert done["assignee"] == "dept:water"
    assert [e["actor"] for e in done["events"][-2:]] == ["test-county", "test-county"]


def test_export_is_the_filtered_list_masked(app):
    from dashboard.pages import cases

    with signed_in(app):
        frame = cases.export_frame({"category": "safety", "window": "all"}, "en")
        shown = cases.rows_for(
            {"startRow": 0, "endRow": 1}, {"category": "safety", "window": "all"}, "en"
        )
    assert len(frame) == shown["rowCount"] > 0
    assert set(frame["Category"]) == {"Safety hazard"}
    phones = [p for p in frame["Phone"] if p]
    assert phones and all("****" in p for p in phones)
