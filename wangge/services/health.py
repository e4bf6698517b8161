"""The health of the served app, component by component (``GET /api/v1/health``).

Components: the store (it answers a query), the analytics computed at start and kept warm
(:data:`wangge.services.analytics.COMPONENTS`: camera coverage, patrol coverage, hot spots, the
case cube) and, when it runs, the demo feed. Each says ``starting``, ``ok`` or ``failed`` with
its last error and when (:class:`~wangge.services.analytics.ComponentState`).

The report says ``ok`` when no component has failed and ``degraded`` otherwise, with one reason
per failed component. It is served with HTTP 200 either way (the dashboard still serves its
pages when an analytic fails, so a load balancer should keep it), and with 503 only when the
store does not answer: then nothing can be served.

The demo feed runs in its own thread and logs each failure before retrying
(:meth:`wangge.demo.feed.DemoFeed.run`); :class:`FeedWatch` keeps the last such error and
compares it with how far the feed has written (meta ``demo_fed_until``).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from wangge.clock import STAMP_FORMAT, parse_stamp, utc_now
from wangge.services.analytics import AnalyticsService, ComponentState
from wangge.store import SCHEMA_VERSION, Store

__all__ = ["FeedWatch", "health_report"]


class FeedWatch(logging.Handler):
    """The state of the demo feed, from its thread and the errors its logger reports.

    Parameters
    ----------
    store
        The store the feed writes (its meta ``demo_fed_until`` says how far it got).
    logger
        Name of the feed's logger (``wangge.demo.feed``); the watch adds itself to it.
    """

    def __init__(self, store: Store, logger: str):
        super().__init__(level=logging.ERROR)
        self.store = store
        self.logger = logging.getLogger(logger)
        self.thread: threading.Thread | None = None
        self._error: tuple[datetime, str] | None = None
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message = f"{message}: {type(error).__name__}: {error}"
        self._error = (datetime.fromtimestamp(record.created, UTC), message[:500])

    def close(self) -> None:
        """Stop watching (the feed did not start, or the app stops)."""
        self.logger.removeHandler(self)
        super().close()

    def state(self) -> ComponentState:
        """``failed`` when the thread has ended or the last feed failed, else ``ok`` (or
        ``starting`` before the first feed)."""
        try:
            value = self.store.get_meta("demo_fed_until")
        except Exception:  # the store's own component says why
            value = None
        fed = parse_stamp(value) if value else None
        error = self._error
        last_error = error[1] if error else None
        error_at = error[0].strftime(STAMP_FORMAT) if error else None
        if self.thread is not None and not self.thread.is_alive():
            return ComponentState("failed", value, "the feed thread has stopped", utc_now())
        if error and (fed is None or fed <= error[0].replace(microsecond=0)):
            return ComponentState("failed", value, last_error, error_at)
        return ComponentState("ok" if fed else "starting", value, last_error, error_at)


def _store_state(store: Store) -> tuple[ComponentState, int | None]:
    try:
        version = store.data_version()
    except Exception as exc:  # the report says what failed instead of failing itself
        return ComponentState().failed(exc), None
    return ComponentState().succeeded(), version


def health_report(
    store: Store, analytics: AnalyticsService, feed: FeedWatch | None = None
) -> tuple[dict, int]:
    """The health report (a JSON-ready dict) and its HTTP status (200, or 503 when the store
    does not answer)."""
    store_state, version = _store_state(store)
    components = {"store": store_state.as_dict(), **analytics.health()}
    if feed is not None:
        components["demo_feed"] = feed.state().as_dict()
    reasons = [
        f"{name}: {state['last_error']}"
        for name, state in components.items()
        if state["status"] == "failed"
    ]
    report = {
        "status": "degraded" if reasons else "ok",
        "reasons": reasons,
        "schema_version": SCHEMA_VERSION,
        "data_version": version,
        # the analytics computed once at start (camera views, patrols, hot spots) have run
        "warm": analytics.warm,
        "components": components,
    }
    return report, 503 if store_state.status == "failed" else 200
