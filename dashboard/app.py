"""Build the Dash app: :func:`create_app` (no I/O) and :func:`main` (set up data, serve)."""

from __future__ import annotations

import logging
from pathlib import Path

import dash
from dash import dcc, html

from dashboard import api_planner, ids
from dashboard.api import blueprint
from dashboard.auth import init_auth
from dashboard.guard import guard_callbacks
from dashboard.headers import init_headers
from dashboard.i18n import t
from dashboard.notfound import init_not_found
from wangge.paths import REPO_ROOT
from wangge.services.analytics import AnalyticsService
from wangge.services.layers import LayerService
from wangge.services.locate import Locator
from wangge.settings import Settings
from wangge.store import Store

__all__ = ["create_app", "main"]

log = logging.getLogger(__name__)

PAGES_DIR = Path(__file__).resolve().parent / "pages"


def create_app(settings: Settings | None = None) -> dash.Dash:
    """The Dash app with its pages, API, sign-in and settings. Opens no database connection;
    creates the session signing key file on first use."""
    settings = settings or Settings.from_env()
    app = dash.Dash(
        "dashboard",  # so that pages import as dashboard.pages.*
        use_pages=True,
        pages_folder=str(PAGES_DIR),
        assets_folder=str(REPO_ROOT / "assets"),
        # served, not linked: wangge.css imports the font's CSS (the sign-in page links only it)
        assets_path_ignore=["fonts"],
        serve_locally=True,
        title=t("app.title", settings.lang),
        update_title=None,
        suppress_callback_exceptions=True,
    )
    store = Store(settings.db_path)
    app.server.config["WANGGE_SETTINGS"] = settings
    app.server.config["WANGGE_STORE"] = store
    app.server.config["WANGGE_LAYERS"] = LayerService(store)
    app.server.config["WANGGE_LOCATOR"] = Locator(store)
    app.server.config["WANGGE_ANALYTICS"] = AnalyticsService(store)
    app.server.config["MAX_CONTENT_LENGTH"] = 8 * 1024 * 1024
    assert api_planner.blueprint is blueprint  # the planner's routes are on the blueprint
    app.server.register_blueprint(blueprint)
    init_auth(app.server, store, settings.data_dir)
    init_not_found(app)  # after the sign-in guard: an unknown path asks for a session first
    guard_callbacks(app)  # a malformed callback request is a 400, not Dash's 500
    init_headers(app, settings)
    app.layout = html.Div(
        [dcc.Location(id=ids.URL, refresh="callback-nav"), dash.page_container],
        className="app-root",
    )
    return app


def main(app: dash.Dash | None = None) -> None:
    """Migrate the store, make sure the demo county is there (unless a county was imported with
    ``wangge county import``), start the demo feed (unless
    ``WANGGE_DEMO_FEED=0``; :mod:`wangge.demo.feed`) and serve on HOST:PORT."""
    from dashboard.memory import bound_native_heap
    from wangge.demo.feed import log as feed_log
    from wangge.demo.feed import start_feed
    from wangge.demo.setup import ensure_demo
    from wangge.privacy import private_log_handler
    from wangge.services.health import FeedWatch

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # warnings (geo's GeoWarning on repaired geometries) go to the log with a time and a level
    logging.captureWarnings(True)
    bound_native_heap()  # before the server's threads allocate (dashboard/memory.py says why)
    app = app or create_app()
    settings: Settings = app.server.config["WANGGE_SETTINGS"]
    # the log names users and tokens: also kept in a file only the server's user may read
    logging.getLogger().addHandler(private_log_handler(settings.data_dir / "wangge.log"))
    store = app.server.config["WANGGE_STORE"]
    store.migrate()
    if not store.get_meta("county_code"):  # a county from `wangge county import` is served as is
        ensure_demo(store, settings.boundaries_dir, seed=settings.demo_seed)
    import threading

    from waitress import serve

    # compute the per-grid analytics once in the background, so that the first drill-down and
    # the first map restyle do not wait for camera views, patrol coverage and hot spots
    analytics = app.server.config["WANGGE_ANALYTICS"]
    threading.Thread(target=analytics.warm_up, name="wangge-warm", daemon=True).start()
    # keep the demo county moving: catch up since the last run, then a feed every 30 s; the
    # health check watches it while it runs
    watch = FeedWatch(app.server.config["WANGGE_STORE"], logger=feed_log.name)
    handle = start_feed(
        app.server.config["WANGGE_STORE"],
        enabled=settings.demo_feed,
        locator=app.server.config["WANGGE_LOCATOR"],
    )
    if handle is None:
        watch.close()
    else:
        watch.thread = handle[0]
        app.server.config["WANGGE_FEED_WATCH"] = watch
    app.server.config["WANGGE_FEED"] = handle

    log.info("serving on http://%s:%d/", settings.host, settings.port)
    try:
        # a production WSGI server; enough threads that concurrent writes share group commits
        serve(app.server, host=settings.host, port=settings.port, threads=24, ident="wangge")
    finally:
        watch.close()
        logging.captureWarnings(False)
