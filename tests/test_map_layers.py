"""Operational layers of the situation map as plain callbacks: cases, hexagons, grid metrics,
camera views, uncovered streets and a worker's track."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import load_tiny_county, signed_in

from dashboard.app import create_app
from dashboard.settings import Settings
from dashboard.simulate import simulate
from dashboard.store import Store


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("layers"))
    store = Store(settings.db_path)
    load_tiny_county(store)
    simulate(
        store,
        days=10,
        per_day=50,
        gps_days=2,
        seed=11,
        end=pd.Timestamp.now(tz="UTC").floor("h").to_pydatetime(),
    )
    return create_app(settings)


def test_cases_filtered_and_binned_into_hexagons(app, monkeypatch):
    from dashboard.pages import map as page

    store = app.server.config["WANGGE_STORE"]
    with signed_in(app):
        points, bins, hexes, count = page.show_cases("7d", None, None, 13, None, "en")
        safety, _, _, _ = page.show_cases("7d", "safety", "open", 13, None, "en")
        # past MAX_POINTS the server sends one bubble per H3 cell with its counts
        monkeypatch.setattr(page, "MAX_POINTS", 10)
        none, binned, _, same = page.show_cases("7d", None, None, 13, None, "en")
    n = len(points["features"])
    assert count == f"{n:,} cases" and n > 50 and bins is None
    assert sum(f["properties"]["count"] for f in hexes["features"]) == n
    assert all(f["properties"]["c"] == "safety" for f in safety["features"])
    open_ids = set(
        store.cases_frame(filters={"category": "safety"}).query("closed_at.isna()")["case_id"]
    )
    assert {f["id"] for f in safety["features"]} <= open_ids
    assert none is None and same == count
    assert sum(f["properties"]["n"] for f in binned["features"]) == n
    overdue = sum(f["properties"]["o"] for f in points["features"])
    assert sum(f["properties"]["o"] for f in binned["features"]) == overdue
    assert page._h3_resolution(11) == 7 and page._h3_resolution(16) == 10


def test_grids_restyled_by_metric_through_hideout(app):
    from dashboard.pages import map as page

    with signed_in(app):
        band = page.colour_grids("households", {"min": 300, "max": 500})
        per100 = page.colour_grids("per100", {"min": 300, "max": 500})
        gi = page.colour_grids("gi", {"min": 300, "max": 500})
    assert band["metric"] == "households" and band["values"] == {}
    assert set(per100["values"]) == set(app.server.config["WANGGE_STORE"].grids()["grid_code"])
    assert per100["vmax"] >= per100["vmin"] >= 0
    assert set(gi["values"].values()) <= {-3, -2, -1, 0, 1, 2, 3}


def test_camera_views_and_blind_streets_load_when_switched_on(app):
    from dashboard.i18n import t
    from dashboard.pages import map as page

    with signed_in(app):
        nothing = page.load_camera_layers([], None, None, "zh")
        sectors, uncovered = page.load_camera_layers(
            [t("layer.cameras"), t("layer.uncovered")], None, None, "zh"
        )
    assert nothing == (page.dash.no_update, page.dash.no_update)
    cams = app.server.config["WANGGE_STORE"].cameras()
    assert {f["properties"]["camera_id"] for f in sectors["features"]} <= set(cams["camera_id"])
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in sectors["features"])
    assert uncovered["type"] == "FeatureCollection"


def test_a_workers_track_for_a_day(app):
    from dashboard.pages import map as page

    store = app.server.config["WANGGE_STORE"]
    points = store.patrol_points()
    worker = points["worker_id"].iloc[0]
    day = points["at"].iloc[0].tz_convert("Asia/Shanghai").date().isoformat()
    with signed_in(app):
        track, status = page.show_track(worker, day, "en")
        none, empty = page.show_track(worker, "2001-01-01", "en")
    lines = [f for f in track["features"] if f["geometry"]["type"] == "LineString"]
    assert lines and "patrols" in status and "fixes" in status
    assert none is None and empty == "No track that day"
