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
