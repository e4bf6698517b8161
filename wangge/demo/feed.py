"""The live feed of the demo county: keeps the command centre moving after set-up.

``wangge demo setup`` simulates 90 days up to the set-up minute (:mod:`wangge.demo.simulate`);
the feed carries on from there with the same model, through the same store functions the API
uses, so that the wall keeps showing new cases, cases being handled, cameras dropping out and
coming back and grid workers on patrol. It runs in a background thread of the served app
(:func:`start_feed`, from :func:`dashboard.app.main`) or in the foreground as ``wangge demo
feed``.

What it writes, for each period from the time recorded in the store (meta ``demo_fed_until``)
to now:

Cases
    The simulation's rate (120 a day), hourly rhythm (China time), weekend and monthly swell,
    and place and category mix (:class:`wangge.demo.simulate.CaseModel`), validated like API
    cases and stored with :meth:`Store.create_cases_bulk`; client ids ``feed:YYYYMMDDHH-NNN``
    (UTC hour and number) make every write idempotent.
Case handling
    Every open case of the simulation or the feed takes its next step of the simulation's
    lifecycle (:func:`wangge.demo.simulate.lifecycle_step`: accepted, dispatched, in progress,
    resolved, verified, closed; some escalated, returned or late) once its time has come,
    through :meth:`Store.transition_cases`, the API's rules. Cases reported by people (API,
    imports) are left to people.
Cameras
    A status report (heartbeat) from every camera every 5 minutes; a camera goes offline about
    once in 8 days (70 % of outages last 0.2-3 hours, the rest 6-72 hours), so about 7 % are
    offline at any time, as in the simulation.
Patrols
    Each grid worker's two walks a day (from about 08:30 and 14:30 China time, 90 minutes each;
    some days skipped or cut short), a fix every 30 s, as the simulation walks them.

Determinism: every random draw is keyed by the seed and by what it is about (the UTC hour of
cases, the case and its number of events, the local day of patrols, the camera and hour of an
outage), never by when the feed runs; so the same seed and period give the same rows whether
fed in one catch-up or in 30-second ticks (heartbeats aside: a catch-up reports only the last
hour of them). Everything is idempotent: a period fed twice writes nothing the second time.

Bounds: a gap longer than the simulation's 90 days is fed for its last 90 days only, patrol
fixes for the last 14 days, heartbeats for the last hour. A catch-up proceeds a day at a time
and records its progress after each day.

Safety: it runs only on a store that holds the demo county
(:func:`wangge.demo.marker.is_demo_store`: meta ``demo_county``, set by
:func:`wangge.demo.setup.ensure_demo`, removed when a hierarchy is loaded over it), and not
at all with ``WANGGE_DEMO_FEED=0``. Writes are small transactions (at most 50 cases, 200 status
changes, 1,000 fixes or one round of heartbeats each) with a pause between them while catching up, so the API's writes
wait milliseconds at most. It logs counts, never a reporter's name or phone. A failing period
is logged and retried (backing off up to 5 minutes); the server carries on.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from wangge.access import Scope
from wangge.casework import CATEGORIES, validate_new_case
from wangge.clock import COUNTY_TZ, parse_stamp, stamp
from wangge.demo import marker
from wangge.demo.simulate import (
    DAYS,
    GPS_DAYS,
    LATE_SHARE,
    MEAN_HOUR_WEIGHT,
    PER_DAY,
    CaseModel,
    case_text,
    hour_weights,
    lifecycle_step,
    patrol_columns,
    patrol_day,
    patrol_routes,
    patrol_rows,
    urgent_text,
)
from wangge.services.locate import Locator
from wangge.store import Store

#: The feed plays the whole demo county.
WHOLE_COUNTY = Scope.county()

__all__ = ["DemoFeed", "FeedRefused", "FeedReport", "start_feed"]

log = logging.getLogger(__name__)

#: Seconds between two feeds of the running app.
INTERVAL = 30.0
#: Seconds between two camera status reports.
HEARTBEAT_EVERY = 300
#: How far back a catch-up goes, per kind of data.
CASE_WINDOW = timedelta(days=DAYS)
PATROL_WINDOW = timedelta(days=GPS_DAYS)
HEARTBEAT_WINDOW = timedelta(hours=1)
#: A catch-up proceeds (and records its progress) a day at a time.
CHUNK = timedelta(days=1)
#: Rows per write transaction.
CASE_BATCH, MOVE_BATCH, FIX_BATCH = 50, 200, 1000
#: Seconds between two write transactions while catching up (lets the API's writers in).
PAUSE = 0.02
#: Camera outages: chance per camera and hour that one starts; share of short ones.
OUTAGE_PER_HOUR, SHORT_OUTAGE = 0.0055, 0.7
#: Stream tags of the random draws (so that cases and patrols of one hour never share draws).
_CASES, _STEPS, _LATE, _PATROLS = 1, 2, 3, 4

_LOCAL = ZoneInfo(COUNTY_TZ)


class FeedRefused(RuntimeError):
    """The store is not one the demo feed may write into."""


@dataclass
class FeedReport:
    """What one feed wrote: the period, rows per kind, and its longest write transaction."""

    start: str
    end: str
    cases: int = 0
    moves: int = 0
    fixes: int = 0
    beats: int = 0
    cameras_offline: int | None = None
    workers_walking: int = 0
    writes: int = 0
    longest_write_ms: float = 0.0
    seconds: float = 0.0
    #: (case id, category) of the new cases, for the command line (no personal data).
    new_cases: list[tuple[str, str]] = field(default_factory=list)

    def add(self, other: FeedReport) -> None:
        for name in ("cases", "moves", "fixes", "beats", "writes", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.longest_write_ms = max(self.longest_write_ms, other.longest_write_ms)
        self.workers_walking = max(self.workers_walking, other.workers_walking)
        if other.cameras_offline is not None:
            self.cameras_offline = other.cameras_offline
        self.new_cases += other.new_cases
        self.end = other.end

    def __str__(self) -> str:
        offline = "" if self.cameras_offline is None else f" ({self.cameras_offline} offline)"
        return (
            f"{self.start} .. {self.end}: {self.cases} cases, {self.moves} status changes, "
            f"{self.fixes} GPS fixes ({self.workers_walking} workers walking), "
            f"{self.beats} heartbeats{offline}; {self.writes} writes, longest "
            f"{self.longest_write_ms:.1f} ms, {self.seconds:.2f} s"
        )


def _key(text: str) -> int:
    """A stable 64-bit number for ``text`` (seeds per case; Python's hash() is salted)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def demo_seed(store: Store) -> int:
    """The demo county's seed recorded in ``store``; FeedRefused when it is not the demo."""
    seed = marker.demo_seed(store)
    if seed is None:
        raise FeedRefused(
            f"{store.path} is not the demo county (no meta '{marker.DEMO_MARK}', which `wangge "
            "demo setup` records): the demo feed writes synthetic cases and never runs on a real "
            "county"
        )
    return seed


class DemoFeed:
    """The demo county's live feed over ``store``; see the module's description.

    Parameters
    ----------
    store
        A store set up as the demo county (FeedRefused otherwise).
    per_day
        Mean new cases a day.
    clock
        Returns the current time (UTC); default: the system clock.
    pause
        Seconds between write transactions while catching up.
    """

    def __init__(
        self,
        store: Store,
        *,
        per_day: float = PER_DAY,
        clock: Callable[[], datetime] | None = None,
        pause: float = PAUSE,
        locator: Locator | None = None,
    ):
        self.store = store
        self.seed = demo_seed(store)
        self.per_day = per_day
        self.clock = clock or (lambda: _now())  # looked up when called
        self.pause = pause
        self.locator = locator or Locator(store)
        self._version: int | None = None
        self._case_model: CaseModel | None = None
        self._routes: tuple | None = None
        self._days: dict[date, dict[str, np.ndarray]] = {}
        self._outages: dict[int, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]] = {}
        self._steps: dict[tuple[str, int], tuple | None] = {}
        self._report: FeedReport | None = None
        self._catching_up = False
        #: How far back a catch-up goes for cases (and case handling), patrols and heartbeats.
        self.windows = {
            "cases": CASE_WINDOW,
            "patrols": PATROL_WINDOW,
            "heartbeats": HEARTBEAT_WINDOW,
        }

    # -- bookkeeping -----------------------------------------------------------------------------
    def fed_until(self) -> datetime | None:
        """How far the feed (or the set-up simulation) has written."""
        value = self.store.get_meta("demo_fed_until")
        return parse_stamp(value) if value else None

    def _origin(self) -> datetime | None:
        value = self.store.get_meta("demo_simulated_until")
        return parse_stamp(value) if value else None

    def _write(self, fn: Callable, *args, **kwargs) -> int:
        """One write transaction, timed (lock wait, work and fsync)."""
        t = time.perf_counter()
        result = fn(*args, **kwargs)
        ms = (time.perf_counter() - t) * 1000
        report = self._report
        if report is not None:
            report.writes += 1
            report.longest_write_ms = max(report.longest_write_ms, ms)
        if self.pause and self._catching_up:
            time.sleep(self.pause)
        return result

    def _refresh_models(self) -> None:
        version = self.store.data_version()
        if version != self._version:
            self._version = version
            self._case_model = None
            self._routes = None
            self._days.clear()
            self._outages.clear()

    # -- the feed ----------------------------------------------------------------------------------
    def advance(self, until: datetime | None = None) -> FeedReport:
        """Feed the period from the recorded time to ``until`` (default: now); record progress."""
        t_start = time.perf_counter()
        until = (until or self.clock()).astimezone(UTC).replace(microsecond=0)
        fed = self.fed_until()
        total = FeedReport(stamp(fed or until), stamp(until))
        if fed is None:
            log.info("demo feed: nothing recorded yet; feeding from %s on", stamp(until))
            self.store.set_meta("demo_fed_until", stamp(until))
            return total
        if until <= fed:
            return total
        window = self.windows["cases"]
        start = max(fed, until - window)
        if start > fed:
            log.info(
                "demo feed: the gap since %s is longer than %s; feeding the last %s only",
                stamp(fed),
                window,
                window,
            )
        self._refresh_models()
        self._catching_up = until - start > timedelta(minutes=10)
        if self._catching_up:
            log.info("demo feed: catching up from %s to %s", stamp(start), stamp(until))
        t = start
        while t < until:
            t1 = min(until, t + CHUNK)
            self._report = FeedReport(stamp(t), stamp(t1))
            try:
                self._period(t, t1, until)
                self.store.set_meta("demo_fed_until", stamp(t1))
                total.add(self._report)
            finally:
                self._report = None
            t = t1
        total.start = stamp(fed)
        total.seconds = time.perf_counter() - t_start
        if self._catching_up:
            log.info("demo feed: caught up: %s", total)
        else:
            log.debug("demo feed: %s", total)
        return total

    def _period(self, t0: datetime, t1: datetime, until: datetime) -> None:
        self._feed_cases(t0, t1)
        self._progress(t1)
        self._feed_patrols(max(t0, until - self.windows["patrols"]), t1)
        self._feed_heartbeats(max(t0, until - self.windows["heartbeats"]), t1)

    # -- cases ---------------------------------------------------------------------------------------
    def _model(self) -> CaseModel:
        if self._case_model is None:
            self._case_model = CaseModel.from_store(self.store)
        return self._case_model

    def hour_cases(self, hour: datetime) -> list[dict]:
        """The new cases of the UTC hour starting at ``hour``, as API request bodies."""
        h = int(hour.timestamp() // 3600)
        rate = self.per_day / 24 * hour_weights(hour, 1, phase=h)[0] / MEAN_HOUR_WEIGHT
        rng = np.random.default_rng([self.seed, _CASES, h])
        n = int(rng.poisson(rate))
        if n == 0:
            return []
        seconds = np.sort(rng.integers(0, 3600, size=n))
        drawn = self._model().draw(n, rng)
        bodies = []
        for k in range(n):
            cat, src = drawn["category"][k], drawn["source"][k]
            client_id = f"feed:{hour:%Y%m%d%H}-{k + 1:03d}"
            bodies.append(
                {
                    "client_id": client_id,
                    "category": cat,
                    "source": src,
                    "lon": drawn["lon"][k],
                    "lat": drawn["lat"][k],
                    "description": "",
                    **case_text(rng, cat, src),
                    # a gas leak, a fall...: urgent, it flashes on the wall until marked seen
                    **urgent_text(f"{self.seed}:{client_id}", cat),
                    "reported_at": stamp(hour + timedelta(seconds=int(seconds[k]))),
                }
            )
        return bodies

    def _feed_cases(self, t0: datetime, t1: datetime) -> None:
        lo, hi = stamp(t0), stamp(t1)
        hour = t0.replace(minute=0, second=0)
        bodies = []
        while hour < t1:
            bodies += [b for b in self.hour_cases(hour) if lo <= b["reported_at"] < hi]
            hour += timedelta(hours=1)
        for i in range(0, len(bodies), CASE_BATCH):
            batch = bodies[i : i + CASE_BATCH]
            cases = [validate_new_case(b, now=b["reported_at"]) for b in batch]
            located = self.locator.locate_many(
                np.array([c["lon"] for c in cases]), np.array([c["lat"] for c in cases])
            )
            ids = self._write(
                lambda c=cases, loc=located: self.store.create_cases_bulk(
                    c, loc, scope=WHOLE_COUNTY, actor="reporter", comment=""
                )
            )
            assert self._report is not None
            for case, case_id in zip(cases, ids, strict=True):
                if case_id is not None:
                    self._report.cases += 1
                    self._report.new_cases.append((case_id, case["category"]))

    def next_move(self, state: dict, origin: datetime | None) -> tuple[str, str, str] | None:
        """The next status change (at, to_status, actor) of an open case, from its state
        (:meth:`Store.open_case_states`); the same state always gives the same move."""
        cache_key = (state["case_id"], int(state["events"]))
        if cache_key in self._steps:
            return self._steps[cache_key]
        key = _key(state["client_id"])
        late = np.random.default_rng([self.seed, _LATE, key]).random() < LATE_SHARE
        rng = np.random.default_rng([self.seed, _STEPS, key, int(state["events"])])
        last, reported = parse_stamp(state["last_at"]), parse_stamp(state["reported_at"])
        step = lifecycle_step(
            rng,
            state["status"],
            late=late,
            limit_h=CATEGORIES[state["category"]].deadline_hours,
            elapsed_min=(last - reported).total_seconds() / 60,
            escalated=bool(state["escalated"]),
            returned=bool(state["returned"]),
        )
        if step is not None and step[1] == "escalated" and state["level"] == "county":
            step = (step[0], "dispatched", "command_centre")  # nowhere further up
        move = None
        if step is not None:
            minutes, to_status, actor = step
            at = last + timedelta(minutes=minutes)
            if origin is not None and at <= origin:
                # the simulation ended with this step still pending: it falls after the end
                at = origin + timedelta(minutes=minutes * float(rng.uniform(0.02, 1)))
            move = (stamp(at), to_status, actor)
        self._steps[cache_key] = move
        return move

    def _progress(self, until: datetime) -> None:
        """Apply every status change due before ``until``, a round of one step per case at a
        time, oldest first."""
        origin = self._origin()
        hi = stamp(until)
        assert self._report is not None
        for _ in range(40):  # a case has at most 11 steps
            states = self.store.open_case_states(scope=WHOLE_COUNTY)
            live = {(s["case_id"], int(s["events"])) for s in states}
            self._steps = {k: v for k, v in self._steps.items() if k in live}
            due = []
            for s in states:
                move = self.next_move(s, origin)
                if move is not None and move[0] < hi:
                    due.append((s["case_id"], s["status"], move[1], move[2], move[0]))
            if not due:
                return
            due.sort(key=lambda m: (m[4], m[0]))
            applied = 0
            for i in range(0, len(due), MOVE_BATCH):
                applied += self._write(
                    self.store.transition_cases, due[i : i + MOVE_BATCH], scope=WHOLE_COUNTY
                )
            self._report.moves += applied
            if applied == 0:
                return

    # -- patrols ---------------------------------------------------------------------------------------
    def _patrol_setup(self) -> tuple:
        if self._routes is None:
            grids = self.store.grids(scope=WHOLE_COUNTY)
            crs = grids.estimate_utm_crs()
            roads = self.store.basemap_layer("roads")
            routes = dict(
                zip(
                    grids["grid_code"],
                    patrol_routes(grids.to_crs(crs), roads.to_crs(crs)),
                    strict=True,
                )
            )
            workers = self.store.workers(scope=WHOLE_COUNTY)
            workers = workers[(workers["active"] == 1) & workers["grid_code"].isin(routes)]
            self._routes = (
                crs,
                routes,
                list(zip(workers["worker_id"], workers["grid_code"], strict=True)),
            )
        return self._routes

    def day_fixes(self, day: date) -> dict[str, np.ndarray]:
        """All grid workers' fixes of the local day ``day`` (:func:`patrol_columns`)."""
        if day not in self._days:
            crs, routes, workers = self._patrol_setup()
            rng = np.random.default_rng([self.seed, _PATROLS, day.toordinal()])
            midnight = datetime(day.year, day.month, day.day, tzinfo=_LOCAL)
            who, xs, ys, secs = [], [], [], []
            for worker_id, grid_code in workers:
                for x, y, s in patrol_day(routes[grid_code], midnight, rng):
                    who.append(worker_id)
                    xs.append(x)
                    ys.append(y)
                    secs.append(s)
            while len(self._days) >= 2:
                self._days.pop(min(self._days))
            self._days[day] = patrol_columns(who, xs, ys, secs, rng, crs)
        return self._days[day]

    def _feed_patrols(self, t0: datetime, t1: datetime) -> None:
        if t0 >= t1:
            return
        assert self._report is not None
        day, last = t0.astimezone(_LOCAL).date(), (t1 - timedelta(seconds=1)).astimezone(_LOCAL)
        walking = set()
        while day <= last.date():
            columns = self.day_fixes(day)
            times = columns["secs"]
            pick = (times >= t0.timestamp()) & (times < t1.timestamp())
            rows = patrol_rows({k: v[pick] for k, v in columns.items()})
            walking |= {r[0] for r in rows}
            for i in range(0, len(rows), FIX_BATCH):
                self._report.fixes += self._write(
                    self.store.add_patrol_points, rows[i : i + FIX_BATCH], scope=WHOLE_COUNTY
                )
            day += timedelta(days=1)
        self._report.workers_walking = len(walking)

    # -- cameras -------------------------------------------------------------------------------------
    def _hour_outages(self, hour: int, cameras: list[str]) -> tuple:
        """Per camera: whether an outage starts in this UTC hour, its start and end (Unix s)."""
        cached = self._outages.get(hour)
        if cached is None or cached[0] != cameras:
            u = (
                np.array(
                    [
                        np.frombuffer(
                            hashlib.blake2b(
                                f"{self.seed}:{hour}:{c}".encode(), digest_size=16
                            ).digest(),
                            dtype=">u4",
                        )
                        for c in cameras
                    ],
                    dtype=float,
                ).reshape(len(cameras), 4)
                / 2.0**32
            )
            starts = u[:, 0] < OUTAGE_PER_HOUR
            begin = hour * 3600 + u[:, 1] * 3600
            hours = np.where(u[:, 2] < SHORT_OUTAGE, 0.2 + u[:, 3] * 2.8, 6 + u[:, 3] * 66)
            cached = (cameras, starts, begin, begin + hours * 3600)
            self._outages[hour] = cached
        return cached

    def camera_offline(self, cameras: list[str], at: datetime) -> np.ndarray:
        """Which of ``cameras`` are offline at ``at``."""
        t = at.timestamp()
        h = int(t // 3600)
        offline = np.zeros(len(cameras), dtype=bool)
        for hour in range(h - 72, h + 1):
            _, starts, begin, end = self._hour_outages(hour, cameras)
            offline |= starts & (begin <= t) & (t < end)
        for old in [k for k in self._outages if k < h - 72]:
            del self._outages[old]
        return offline

    def _feed_heartbeats(self, t0: datetime, t1: datetime) -> None:
        if t0 >= t1:
            return
        cameras = self.store.cameras(scope=WHOLE_COUNTY)["camera_id"].tolist()
        if not cameras:
            return
        assert self._report is not None
        first = -(-int(t0.timestamp()) // HEARTBEAT_EVERY) * HEARTBEAT_EVERY
        for slot in range(first, int(t1.timestamp()), HEARTBEAT_EVERY):
            at = datetime.fromtimestamp(slot, UTC)
            offline = self.camera_offline(cameras, at)
            beats = [(c, stamp(at), not off) for c, off in zip(cameras, offline, strict=True)]
            stored, _ = self._write(self.store.record_heartbeats, beats, scope=WHOLE_COUNTY)
            self._report.beats += stored
            self._report.cameras_offline = int(offline.sum())

    # -- running -------------------------------------------------------------------------------------
    def run(
        self,
        stop: threading.Event,
        *,
        interval: float = INTERVAL,
        on_report: Callable[[FeedReport], None] | None = None,
    ) -> None:
        """Feed until ``stop`` is set: first the gap since the recorded time, then every
        ``interval`` seconds. A failure is logged and retried later (backing off up to 5
        minutes); it never ends the loop."""
        failures = 0
        while not stop.is_set():
            try:
                report = self.advance()
            except Exception:
                failures += 1
                wait = min(300.0, interval * 2 ** min(failures, 4))
                log.exception(
                    "demo feed: feeding failed (%d in a row); retrying in %.0f s", failures, wait
                )
            else:
                failures = 0
                wait = interval
                if on_report is not None:
                    on_report(report)
            stop.wait(wait)


def start_feed(
    store: Store,
    *,
    enabled: bool = True,
    interval: float = INTERVAL,
    locator: Locator | None = None,
) -> tuple[threading.Thread, threading.Event] | None:
    """Start the feed in a daemon thread when ``enabled`` and ``store`` is the demo county.

    Returns (thread, stop event), or None (with the reason logged) when it does not run.
    """
    if not enabled:
        log.info("demo feed off (WANGGE_DEMO_FEED=0)")
        return None
    if not marker.is_demo_store(store):
        log.info("demo feed not started: %s is not the demo county", store.path)
        return None
    try:
        feed = DemoFeed(store, locator=locator)
    except FeedRefused as exc:
        log.info("demo feed not started: %s", exc)
        return None
    stop = threading.Event()
    thread = threading.Thread(
        target=feed.run,
        args=(stop,),
        kwargs={"interval": interval},
        name="wangge-demo-feed",
        daemon=True,
    )
    thread.start()
    log.info("demo feed started (seed %d, a feed every %.0f s)", feed.seed, interval)
    return thread, stop
