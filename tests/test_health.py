"""The health check (``/api/v1/health``) component by component, and what a real county sees:
its name in the title, no demo badge, the map opened where people live."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import X0, Y0, load_tiny_county, signed_in
from shapely.geometry import box

from dashboard.app import create_app
from wangge.access import Scope
from wangge.clock import STAMP_FORMAT
from wangge.demo.marker import mark_demo_store
from wangge.services.analytics import AnalyticsService
from wangge.services.health import FeedWatch
from wangge.services.layers import dense_bounds
from wangge.settings import Settings
from wangge.store import Store

COMPONENTS = {"store", "camera_coverage", "patrol_coverage", "hot_spots", "case_cube"}


@pytest.fixture
def app(tmp_path):
    settings = Settings(data_dir=tmp_path)
    load_tiny_county(Store(settings.db_path))
    return create_app(settings)


def _health(app) -> tuple[int, dict]:
    resp = app.server.test_client().get("/api/v1/health")
    return resp.status_code, resp.get_json()


def test_every_component_is_listed_and_ok_after_the_warm_up(app):
    status, body = _health(app)
    assert status == 200 and body["status"] == "ok" and body["reasons"] == []
    assert set(body["components"]) == COMPONENTS  # no feed: it does not run here
    assert body["components"]["store"]["status"] == "ok"
    assert {body["components"][c]["status"] for c in COMPONENTS - {"store"}} == {"starting"}
    assert body["warm"] is False
    app.server.config["WANGGE_ANALYTICS"].warm_up()
    status, body = _health(app)
    assert status == 200 and body["status"] == "ok" and body["warm"] is True
    for name, state in body["components"].items():
        assert state["status"] == "ok", name
        assert state["last_ok_at"] and state["last_error"] is None, name


def test_a_failed_warm_up_says_degraded_with_the_reason_and_the_others_still_warm(
    app, monkeypatch, caplog
):
    def broken(self):
        raise RuntimeError("TopologyException: side location conflict at 1 2")

    monkeypatch.setattr(AnalyticsService, "_camera_coverage", broken)
    analytics = app.server.config["WANGGE_ANALYTICS"]
    with caplog.at_level(logging.ERROR, logger="wangge.services.analytics"):
        analytics.warm_up()
    assert "warming up camera_coverage failed" in caplog.text
    status, body = _health(app)
    assert status == 200  # the pages still work: a load balancer keeps the server
    assert body["status"] == "degraded"
    assert body["reasons"] == [
        "camera_coverage: RuntimeError: TopologyException: side location conflict at 1 2"
    ]
    cams = body["components"]["camera_coverage"]
    assert cams["status"] == "failed" and cams["last_ok_at"] is None and cams["last_error_at"]
    # one failure no longer stops the rest of the warm-up
    for name in ("patrol_coverage", "hot_spots", "case_cube"):
        assert body["components"][name]["status"] == "ok", name
    # fixed: the next computation (here a page asking for it) makes it ok, the error stays
    monkeypatch.undo()
    analytics.camera_coverage()
    _, body = _health(app)
    assert body["status"] == "ok"
    cams = body["components"]["camera_coverage"]
    assert cams["status"] == "ok" and cams["last_error"].startswith("RuntimeError")


def test_a_store_that_does_not_answer_is_503(app, monkeypatch):
    store = app.server.config["WANGGE_STORE"]

    def gone():
        raise OSError("disk I/O error")

    monkeypatch.setattr(store, "data_version", gone)
    status, body = _health(app)
    assert status == 503 and body["status"] == "degraded"
    assert body["reasons"] == ["store: OSError: disk I/O error"]
    assert body["data_version"] is None


def test_the_demo_feed_is_listed_while_it_runs_with_its_last_error(app):
    store = app.server.config["WANGGE_STORE"]
    logger = "tests.fake_feed"
    watch = FeedWatch(store, logger=logger)
    app.server.config["WANGGE_FEED_WATCH"] = watch
    stop = threading.Event()
    watch.thread = threading.Thread(target=stop.wait, daemon=True)
    watch.thread.start()
    try:
        assert _health(app)[1]["components"]["demo_feed"]["status"] == "starting"
        fed = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
        store.set_meta("demo_fed_until", fed.strftime(STAMP_FORMAT))
        _, body = _health(app)
        assert body["status"] == "ok" and body["components"]["demo_feed"]["status"] == "ok"
        # the feed logs a failure and retries later
        try:
            raise ValueError("database is locked")
        except ValueError:
            logging.getLogger(logger).exception("demo feed: feeding failed (1 in a row)")
        _, body = _health(app)
        assert body["status"] == "degraded"
        assert body["reasons"] == [
            "demo_feed: demo feed: feeding failed (1 in a row): ValueError: database is locked"
        ]
        # the retry went through: the feed has written past the error
        later = datetime.now(UTC) + timedelta(seconds=2)
        store.set_meta("demo_fed_until", later.strftime(STAMP_FORMAT))
        _, body = _health(app)
        assert (
            body["status"] == "ok"
            and "database is locked" in (body["components"]["demo_feed"]["last_error"])
        )
    finally:
        stop.set()
        watch.thread.join(timeout=5)
    _, body = _health(app)
    assert body["status"] == "degraded"
    assert body["reasons"] == ["demo_feed: the feed thread has stopped"]
    watch.close()
    assert watch not in logging.getLogger(logger).handlers


def test_a_real_county_has_its_name_in_the_title_and_no_demo_badge(app):
    from dash import html

    from dashboard.components.header import county_page_title, header

    def rendered(lang: str) -> str:
        with signed_in(app):
            brand = header(lang, "/").children[0].children
        return " | ".join(str(c.children) for c in brand if isinstance(c, html.Span))

    assert rendered("zh") == "测试县网格化管理指挥中心"  # no badge
    with signed_in(app):
        assert county_page_title() == "测试县网格化管理指挥中心"  # the browser tab's title
    assert rendered("en") == "测试县 Grid Management Command Centre"
    mark_demo_store(app.server.config["WANGGE_STORE"], 7)
    assert rendered("zh") == "测试县网格化管理指挥中心 | 虚构示范数据"


def test_the_map_opens_on_the_town_not_on_the_empty_hills(tmp_path):
    """A county of 10 x 6 km whose people live in a 1 km town in its south-west corner."""
    store = Store(tmp_path / "wangge.sqlite")
    load_tiny_county(store)
    county = store.admin_units("county", scope=Scope.county())
    county["geometry"] = [box(X0, Y0, X0 + 0.1, Y0 + 0.06)]
    store.replace_admin_units(
        gpd.GeoDataFrame(
            pd.concat(
                [
                    county,
                    store.admin_units("township", scope=Scope.county()),
                    store.admin_units("community", scope=Scope.county()),
                ]
            ),
            crs="EPSG:4326",
        )
    )
    app = create_app(Settings(data_dir=tmp_path))
    layers = app.server.config["WANGGE_LAYERS"]
    x0, y0, x1, y1 = layers.home_bounds(scope=Scope.county())
    # the tiny county's buildings lie in X0..X0+0.04, Y0..Y0+0.0125
    assert x0 >= X0 and x1 <= X0 + 0.041 and y0 >= Y0 and y1 <= Y0 + 0.014
    assert (x1 - x0) * (y1 - y0) < 0.1 * 0.1 * 0.06
    # a township leader's map opens on their township's people
    tx0, _, tx1, _ = layers.home_bounds(scope=Scope.of_township("420999002000"))
    assert tx0 >= X0 + 0.019 and tx1 <= X0 + 0.041


def test_dense_bounds_leave_out_the_far_few_and_weigh_households():
    rng = np.random.default_rng(1)
    lon = np.r_[rng.uniform(114.0, 114.02, 500), 114.5]
    lat = np.r_[rng.uniform(30.0, 30.02, 500), 30.5]
    x0, y0, x1, y1 = dense_bounds(lon, lat, margin=0.0)
    assert 114.0 <= x0 < 114.001 and 114.019 < x1 <= 114.02 and y1 <= 30.02
    # a far building with most of the households pulls the view there
    w = np.r_[np.ones(500), 5000.0]
    assert dense_bounds(lon, lat, w, margin=0.0)[2] == pytest.approx(114.5)
    assert dense_bounds(lon, lat, np.zeros(501)) is None
