"""Operational layers of the situation map as plain callbacks: cases, hexagons, grid metrics,
camera views, uncovered streets and a worker's track."""

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
        points, bins, count = page.show_cases("7d", None, None, 13, None, "en")
        hexes = page.show_hexes("7d", None, None, 13, ["Case density (H3 hexagons)"], "en")
        hidden = page.show_hexes("7d", None, None, 13, ["Cases"], "en")
        safety, _, _ = page.show_cases("7d", "safety", "open", 13, None, "en")
        # past MAX_POINTS the server sends one bubble per H3 cell with its counts
        monkeypatch.setattr(page, "MAX_POINTS", 10)
        none, binned, same = page.show_cases("7d", None, None, 13, None, "en")
    n = len(points["features"])
    assert count == f"{n:,} cases" and n > 50 and bins is None
    assert sum(f["properties"]["count"] for f in hexes["features"]) == n
    assert hidden is None  # nothing computed or sent while the hexagon layer is off
    assert all(f["properties"]["c"] == "safety" for f in safety["features"])
    open_ids = set(
        store.cases_frame(filters={"category": "safety"}, scope=Scope.county()).query(
            "closed_at.isna()"
        )["case_id"]
    )
    assert {f["id"] for f in safety["features"]} <= open_ids
    assert none is None and same == count
    assert sum(f["properties"]["n"] for f in binned["features"]) == n
    overdue = sum(f["properties"]["o"] for f in points["features"])
    assert sum(f["properties"]["o"] for f in binned["features"]) == overdue
    assert page._h3_resolution(11) == 7 and page._h3_resolution(16) == 10


def test_every_grid_metric_is_sent_once_for_restyling_in_the_browser(app):
    from dashboard.pages import map as page

    store = app.server.config["WANGGE_STORE"]
    with signed_in(app):
        values = page.grid_values(0)
    codes = set(store.grids(scope=Scope.county())["grid_code"])
    assert set(values) == {"per100", "overdue", "patrol", "camera", "gi"}
    for metric, entry in values.items():
        assert set(entry["values"]) == codes, metric
        finite = [v for v in entry["values"].values() if v is not None]
        assert entry["vmin"] == min(finite, default=0)
        assert entry["vmin"] <= entry["vmax"] <= max(finite, default=1)
        assert entry["clipped"] == (entry["vmax"] < max(finite, default=1))
    assert set(values["gi"]["values"].values()) <= {-3, -2, -1, 0, 1, 2, 3, None}
    # cases per 100 households agree with the store's 30-day counts
    grids = store.grids(scope=Scope.county()).set_index("grid_code")
    busiest = max(values["per100"]["values"], key=lambda g: values["per100"]["values"][g] or 0)
    now = page.pd.Timestamp.now(tz="UTC")
    since = now.tz_convert("Asia/Shanghai").normalize() - page.pd.Timedelta(days=29)
    stats = store.grid_case_stats(
        now=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        since=since.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        scope=Scope.county(),
    )
    n = stats[busiest][0]  # the last 30 local days' reports
    assert values["overdue"]["values"] == {g: stats.get(g, (0, 0, 0))[2] for g in codes}
    assert n > 0
    assert values["per100"]["values"][busiest] == round(
        100 * n / grids.loc[busiest, "households"], 4
    )
    # grids without households have no rate (not a division by one)
    empty = grids.index[grids["households"] == 0]
    assert all(values["per100"]["values"][g] is None for g in empty)


def test_a_township_leader_gets_only_their_grids_metrics(app):
    from dashboard.pages import map as page

    store = app.server.config["WANGGE_STORE"]
    township = store.admin_units("township", scope=Scope.county())["code"].iloc[0]
    with signed_in(app, "township", scope=township):
        values = page.grid_values(0)
    assert values["per100"]["values"]
    assert all(g.startswith(township[:9]) for g in values["per100"]["values"])


def test_camera_views_and_blind_streets_load_when_switched_on(app):
    from dashboard.i18n import t
    from dashboard.pages import map as page

    with signed_in(app):
        nothing = page.load_camera_layers([], None, None, "zh")
        sectors, uncovered = page.load_camera_layers(
            [t("layer.cameras"), t("layer.uncovered")], None, None, "zh"
        )
    assert nothing == (page.dash.no_update, page.dash.no_update)
    cams = app.server.config["WANGGE_STORE"].cameras(scope=Scope.county())
    assert {f["properties"]["camera_id"] for f in sectors["features"]} <= set(cams["camera_id"])
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in sectors["features"])
    assert uncovered["type"] == "FeatureCollection"


def test_a_workers_track_for_a_day(app):
    from dashboard.pages import map as page

    store = app.server.config["WANGGE_STORE"]
    points = store.patrol_points(scope=Scope.county())
    worker = points["worker_id"].iloc[0]
    day = points["at"].iloc[0].tz_convert("Asia/Shanghai").date().isoformat()
    with signed_in(app):
        track, status = page.show_track(worker, day, "en")
        none, empty = page.show_track(worker, "2001-01-01", "en")
    lines = [f for f in track["features"] if f["geometry"]["type"] == "LineString"]
    assert lines and "patrols" in status and "fixes" in status
    assert none is None and empty == "No track that day"
