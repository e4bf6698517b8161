"""The planner's page callbacks as plain functions: who may edit, what a save stores."""

from __future__ import annotations

import pytest
from conftest import find_component, load_tiny_county, signed_in

from dashboard import ids
from dashboard.app import create_app
from dashboard.i18n import t
from wangge.settings import Settings
from wangge.store import Store

A = "420999001000"
C1 = "420999001001"
TEXT = {"lang": "zh"}


@pytest.fixture
def env(tmp_path):
    settings = Settings(data_dir=tmp_path)
    store = Store(settings.db_path)
    load_tiny_county(store)
    return create_app(settings), store


@pytest.fixture
def page(env):
    from dashboard.pages import planner

    return planner


def test_the_planner_edits_and_a_leader_only_reads(env, page):
    app, store = env
    with signed_in(app, "planner"):
        layout = page.layout()
        assert find_component(layout, ids.PLANNER_EDITABLE).data is True
        options, value, _, published = page.pick_township(A, TEXT)
        assert value == C1 and published == 1 and len(options) == 2
        state, buildings, grids, head, bounds, _ = page.load_community(C1, 1, TEXT)
        assert state["buildings"] == [f"B{i:05d}" for i in range(8)]
        assert state["grid"] == [C1 + "001"] * 8 and state["band"] == [300, 500]
        assert len(buildings["features"]) == 8 and len(grids["features"]) == 1
        assert "v1" in head
    with signed_in(app, "township", A):
        assert find_component(page.layout(), ids.PLANNER_EDITABLE).data is False
        req = {"op": "save", "community": C1, "version": 1, "moves": [], "violations": 0}
        answer, message, _ = page.act(req, TEXT)
        assert answer == {"message": t("error.forbidden", "zh")}
        assert len(store.grid_versions()) == 1


def test_a_save_with_violations_needs_a_reason_and_then_loads_the_draft(env, page):
    app, store = env
    moves = [{"building": "B00000", "to": "new"}]
    req = {"op": "save", "community": C1, "version": 1, "moves": moves, "violations": 2}
    with signed_in(app, "planner"):
        answer, message, _ = page.act(req, TEXT)
        assert message == t("planner.need_reason", "zh", n=2)
        assert len(store.grid_versions()) == 1
        answer, message, options = page.act(req | {"reason": "新建小区", "comment": "c"}, TEXT)
        assert answer["load"] == 2 and answer["saved"] is True
        assert [o["value"] for o in options] == [2, 1]
        assert store.grid_version_info(2)["summary"]["reason"] == "新建小区"
        diff = {"op": "diff", "community": C1, "version": 2, "picked": 1}
        answer, message, _ = page.act(diff, TEXT)
        assert answer["highlight"] == ["B00000"]
        assert t("planner.overlap", "zh", n=0) in str(message)  # v2's grids against v1's
        split = {"op": "split", "community": C1, "version": 1, "moves": [], "grid": C1 + "001"}
        answer, _, _ = page.act(split | {"parts": 2}, TEXT)
        assert answer["moves"] and {m["to"] for m in answer["moves"]} == {"new:split-001-1"}
