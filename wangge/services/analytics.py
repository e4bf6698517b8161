"""Per-grid analytics for the drill-down pages, computed with :mod:`geo` and cached.

Camera coverage (occluded fields of view over streets and open ground), yesterday's patrol
coverage and compliance, and Getis-Ord Gi* hot spots of the last 30 days' cases are costly
(seconds for a county), so one :class:`AnalyticsService` per app keeps the latest result per
input fingerprint and recomputes only when the data or the day changes.

With a live feed the data change every few seconds, so the pages would otherwise recompute on
almost every visit (a county drill-down took 0.4-0.7 s cold on 190,000 cases). Hot spots,
yesterday's patrols and the case cube behind the drill-down's figures are therefore served
stale-while-revalidate: once computed, a change of the data returns the last result at once
and recomputes it in the background, so pages lag the data by at most one computation. Each
result is keyed on what it depends on (yesterday's patrols on yesterday's fixes, camera views on
camera placement), and those keys and the activity fingerprint are read from the store at most
every :data:`FINGERPRINT_TTL` seconds.

Each computation behind the start-up warm-up (:data:`COMPONENTS`: camera coverage, patrol
coverage, hot spots, the case cube) keeps its state for the health check (``/api/v1/health``):
``starting`` until first computed, then ``ok`` or ``failed`` with the last error and when
(:meth:`AnalyticsService.health`). A failure of one never stops the warm-up of the others.

The analyses are computed county-wide (``Scope.county()``: camera views need the buildings
across a township border); what a principal is shown of them is selected by the units, grids
and cameras the store returns for the principal's scope (:meth:`AnalyticsService.sectors`,
:meth:`AnalyticsService.uncovered` take it). Hot spots are the exception:
:meth:`AnalyticsService.hotspots` computes Gi* over the grids of the principal's scope, so a
township leader sees the hot and cold spots of their own township, not its place in the county.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analytics.cameras import camera_coverage, camera_sectors, uncovered_streets
from geo.analytics.hotspots import gi_star
from geo.analytics.patrols import patrol_coverage
from wangge import clock
from wangge.access import Scope
from wangge.clock import utc_now
from wangge.services.metrics import CaseCube, case_cube, prime_views
from wangge.store import Store

__all__ = ["COMPONENTS", "HOTSPOT_COLUMNS", "AnalyticsService", "ComponentState", "grid_hotspots"]

log = logging.getLogger(__name__)

#: The analytics' own scope: they are computed for the whole county.
COUNTY = Scope.county()

#: Seconds an activity fingerprint is reused before the store is asked again.
FINGERPRINT_TTL = 2.0

#: How many answers :meth:`AnalyticsService.recent` keeps.
RECENT_SIZE = 48

#: The warmed-up computations the health check reports: cache name -> component name.
COMPONENTS = {
    "cameras": "camera_coverage",
    "patrols": "patrol_coverage",
    "hotspots": "hot_spots",
    "cube|30": "case_cube",
}


@dataclass(frozen=True)
class ComponentState:
    """What the health check says of one component.

    ``status`` is ``starting`` (not computed yet), ``ok`` (the last computation succeeded) or
    ``failed`` (it raised; ``last_error`` says what). ``last_error`` and ``last_error_at`` stay
    after a later success, so that a flapping component can be seen; times are UTC stamps.
    """

    status: str = "starting"
    last_ok_at: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None

    def succeeded(self) -> ComponentState:
        return ComponentState("ok", utc_now(), self.last_error, self.last_error_at)

    def failed(self, error: BaseException) -> ComponentState:
        text = f"{type(error).__name__}: {error}"[:500]
        return ComponentState("failed", self.last_ok_at, text, utc_now())

    def as_dict(self) -> dict:
        return asdict(self)


class AnalyticsService:
    """Cached per-grid figures (one instance per app; thread-safe)."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str, object]] = {}
        self._refreshing: set[str] = set()
        self._recent: OrderedDict[str, object] = OrderedDict()
        self._fingerprint: tuple[float, str] | None = None
        self._keys: dict[str, tuple[float, str]] = {}
        #: True once :meth:`warm_up` has run (the health endpoint reports it).
        self.warm = False
        self._states = {component: ComponentState() for component in COMPONENTS.values()}

    def health(self) -> dict[str, dict]:
        """The state of each component of :data:`COMPONENTS` (a new dict; see
        :class:`ComponentState`)."""
        with self._lock:
            return {name: state.as_dict() for name, state in self._states.items()}

    def _record(self, name: str, error: BaseException | None = None) -> None:
        """Record the outcome of computing the cache entry ``name`` (when it is a component)."""
        component = COMPONENTS.get(name)
        if component is None:
            return
        with self._lock:
            state = self._states[component]
            self._states[component] = state.failed(error) if error else state.succeeded()

    def _compute(self, name: str, compute: Callable[[], object]) -> object:
        try:
            value = compute()
        except Exception as exc:
            self._record(name, exc)
            raise
        self._record(name)
        return value

    def _cached(
        self,
        name: str,
        key: str,
        compute: Callable[[], object],
        *,
        stale_ok: bool | Callable[[str], bool] = False,
    ):
        """The result of ``compute`` for ``key``. With ``stale_ok`` (or when it says yes to the
        cached result's key), a result for an older key is returned at once while a background
        thread computes the new one."""
        with self._lock:
            hit = self._cache.get(name)
            if hit and hit[0] == key:
                return hit[1]
            if hit and (stale_ok(hit[0]) if callable(stale_ok) else stale_ok):
                if name not in self._refreshing:
                    self._refreshing.add(name)
                    threading.Thread(
                        target=self._refresh,
                        args=(name, key, compute),
                        name=f"wangge-refresh-{name}",
                        daemon=True,
                    ).start()
                return hit[1]
        value = self._compute(name, compute)
        with self._lock:
            self._cache[name] = (key, value)
        return value

    def _refresh(self, name: str, key: str, compute: Callable[[], object]) -> None:
        try:
            value = self._compute(name, compute)
            with self._lock:
                self._cache[name] = (key, value)
        except Exception:  # the stale result stays; the next request tries again
            log.exception("refreshing %s failed", name)
        finally:
            with self._lock:
                self._refreshing.discard(name)

    def warm_up(self) -> None:
        """Compute the costly analytics once (at start, in a background thread), so that the
        first drill-down and the first map restyle do not wait for them. Each is computed even
        when another fails; a failure is logged and kept for :meth:`health`."""
        steps = {
            "camera_coverage": self.camera_coverage,
            "patrol_coverage": self.patrol_yesterday,
            "hot_spots": self.hotspots,
            "case_cube": self.case_cube,
        }
        try:
            for component, step in steps.items():
                try:
                    step()
                except Exception:  # the first page that needs it computes it again
                    log.exception("warming up %s failed", component)
        finally:
            self.warm = True

    def memo(self, name: str, key: str, compute: Callable[[], object]):
        """The last result of ``compute`` under ``name`` while ``key`` is unchanged."""
        return self._cached(name, key, compute)

    def recent(self, key: str, compute: Callable[[], object], *, size: int = RECENT_SIZE):
        """The result of ``compute`` for ``key`` if it is among the ``size`` keys asked for
        most recently, else computed (and the least recently asked key forgotten): for answers
        with many possible keys, such as the map's case filters."""
        with self._lock:
            if key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key]
        value = compute()
        with self._lock:
            self._recent[key] = value
            while len(self._recent) > size:
                self._recent.popitem(last=False)
        return value

    def fingerprint(self) -> str:
        """:meth:`Store.activity_fingerprint`, reused for :data:`FINGERPRINT_TTL` seconds."""
        with self._lock:
            if self._fingerprint and time.monotonic() - self._fingerprint[0] < FINGERPRINT_TTL:
                return self._fingerprint[1]
        value = self.store.activity_fingerprint(scope=COUNTY)
        with self._lock:
            self._fingerprint = (time.monotonic(), value)
        return value

    def _throttled(self, name: str, read: Callable[[], str]) -> str:
        """A cache key read from the store at most every :data:`FINGERPRINT_TTL` seconds, or
        at once after :meth:`fingerprint` was reset. Once read, an expired key is returned as
        it is while a background thread reads it again: reading it (all cameras hashed,
        yesterday's newest patrol fix) took 0.1-0.3 s of a drill-down on a loaded machine, for
        keys that change once a day or when a camera moves."""
        with self._lock:
            hit = self._keys.get(name)
            fresh = self._fingerprint is not None
            if fresh and hit and time.monotonic() - hit[0] < FINGERPRINT_TTL:
                return hit[1]
            if fresh and hit:
                if f"key|{name}" not in self._refreshing:
                    self._refreshing.add(f"key|{name}")
                    threading.Thread(
                        target=self._reread,
                        args=(name, read),
                        name=f"wangge-key-{name}",
                        daemon=True,
                    ).start()
                return hit[1]
        return self._store_key(name, read())

    def _store_key(self, name: str, value: str) -> str:
        with self._lock:
            kind = name.split("|", 1)[0]  # one key per kind: yesterday's, not every day's
            for old in [k for k in self._keys if k.split("|", 1)[0] == kind]:
                del self._keys[old]
            self._keys[name] = (time.monotonic(), value)
        return value

    def _reread(self, name: str, read: Callable[[], str]) -> None:
        try:
            self._store_key(name, read())
        except Exception:  # the old key stays; the next request tries again
            log.exception("reading the key %s failed", name)
        finally:
            with self._lock:
                self._refreshing.discard(f"key|{name}")

    def case_cube(self, *, days: int = 30, now: pd.Timestamp | None = None) -> CaseCube:
        """Case counts by unit, day and category for the drill-down (as of ``now``, computed
        afresh, or the latest, stale-while-revalidate, as of the current minute)."""
        if now is not None:
            return case_cube(self.store, scope=COUNTY, now=now, days=days)
        minute = pd.Timestamp.now(tz="UTC").floor("min")
        key = f"{self.store.data_version()}|{self.fingerprint()}|{minute}|{days}"
        return self._cached(f"cube|{days}", key, lambda: self._primed_cube(days), stale_ok=True)

    def _primed_cube(self, days: int) -> CaseCube:
        """A new case cube with what the drill-down reads of it computed
        (:func:`wangge.services.metrics.prime_views`), in the thread that computes the cube."""
        cube = case_cube(self.store, scope=COUNTY, now=pd.Timestamp.now(tz="UTC"), days=days)
        try:
            prime_views(self.store, self, cube)
        except Exception:  # the first drill-down computes them again
            log.exception("preparing the drill-down's views of a new case cube failed")
        return cube

    def _metric_grids(self) -> gpd.GeoDataFrame:
        grids = self.store.grids(scope=COUNTY)
        return grids.to_crs(grids.estimate_utm_crs()) if len(grids) else grids

    def camera_coverage(self) -> pd.DataFrame:
        """grid_code, camera_street_share, camera_open_share (cameras online or not)."""
        key = self._throttled("cameras", lambda: self._camera_key(self.store.cameras(scope=COUNTY)))
        return self._cached("cameras", key, self._camera_coverage)

    def sectors(self, *, scope: Scope) -> gpd.GeoDataFrame:
        """Occluded field-of-view polygons (metric CRS), with camera_id and status, of the
        cameras inside ``scope``."""
        cams = self.store.cameras(scope=COUNTY)
        shapes = self._cached("sector-shapes", self._camera_key(cams), self._sectors)
        # online/offline changes with every heartbeat round; the shapes only when cameras move
        status = dict(zip(cams["camera_id"], cams["status"], strict=True))
        out = shapes.copy()
        out["status"] = out["camera_id"].map(status).fillna(out["status"])
        if not scope.county_wide:
            out = out[out["camera_id"].isin(self.store.cameras(scope=scope)["camera_id"])]
        return out

    def _camera_key(self, cams: pd.DataFrame) -> str:
        placed = cams.drop(columns=[c for c in ("status", "last_heartbeat") if c in cams])
        digest = pd.util.hash_pandas_object(placed.astype(str), index=False).sum()
        return f"{self.store.data_version()}|{len(cams)}|{digest}"

    def _sectors(self) -> gpd.GeoDataFrame:
        grids = self._metric_grids()
        cams = self.store.cameras(scope=COUNTY)
        if grids.empty or cams.empty:
            return gpd.GeoDataFrame(
                columns=["camera_id", "status", "geometry"], geometry="geometry", crs=grids.crs
            )
        points = gpd.GeoDataFrame(
            cams.rename(columns={"bearing": "direction"}),
            geometry=gpd.points_from_xy(cams["lon"], cams["lat"]),
            crs="EPSG:4326",
        ).to_crs(grids.crs)
        sectors = camera_sectors(points, buildings=self.store.buildings(scope=COUNTY), step=2.0)
        # sectors keep their camera's index label
        ident = points.loc[sectors.index, ["camera_id", "status"]].to_numpy()
        return gpd.GeoDataFrame(
            {"camera_id": ident[:, 0], "status": ident[:, 1]},
            geometry=sectors.geometry.to_numpy(),
            crs=sectors.crs,
        )

    def uncovered(self, limit: int = 60, *, scope: Scope) -> gpd.GeoDataFrame:
        """The street pieces most in need of a camera (most cases within 50 m in 30 days), those
        meeting ``scope``'s townships only."""
        key = f"{self.store.data_version()}|{self.fingerprint()}|{limit}"
        frame = self._cached("uncovered", key, lambda: self._uncovered(limit), stale_ok=True)
        if scope.county_wide:
            return frame
        area = self.store.admin_units("township", scope=scope)
        return frame[frame.intersects(area.union_all())] if len(area) else frame.iloc[0:0]

    def _uncovered(self, limit: int) -> gpd.GeoDataFrame:
        sectors = self.sectors(scope=COUNTY)
        roads = self.store.basemap_layer("roads")
        if roads.empty or sectors.empty:
            return gpd.GeoDataFrame(
                columns=["rank", "length_m", "cases", "geometry"],
                geometry="geometry",
                crs="EPSG:4326",
            )
        roads = roads.to_crs(sectors.crs)
        since = clock.stamp(pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=30))
        cases = self.store.cases_frame(scope=COUNTY, filters={"since": since})
        points = gpd.GeoDataFrame(
            geometry=gpd.points_from_xy(cases["lon"], cases["lat"]), crs="EPSG:4326"
        ).to_crs(sectors.crs)
        pieces = uncovered_streets(roads, sectors, cases=points, min_length=20.0)
        return pieces.head(limit)[["rank", "length_m", "cases", "geometry"]].to_crs("EPSG:4326")

    def _camera_coverage(self) -> pd.DataFrame:
        grids = self._metric_grids()
        sectors = self.sectors(scope=COUNTY)
        if grids.empty or sectors.empty:
            return pd.DataFrame(columns=["grid_code", "camera_street_share", "camera_open_share"])
        buildings = self.store.buildings(scope=COUNTY)
        roads = self.store.basemap_layer("roads")
        cov = camera_coverage(grids, sectors, streets=roads, buildings=buildings)
        return pd.DataFrame(
            {
                "grid_code": cov["grid_code"].to_numpy(),
                "camera_street_share": cov["street_share"].to_numpy(),
                "camera_open_share": cov["open_share"].to_numpy(),
            }
        )

    def patrol_yesterday(self, now: pd.Timestamp | None = None) -> pd.DataFrame:
        """grid_code, patrol_street_share, patrol_minutes, patrol_sessions, patrol_compliant for
        yesterday (China time): the last complete day."""
        now = now or pd.Timestamp.now(tz="UTC")
        day = now.tz_convert(clock.COUNTY_TZ).normalize() - pd.Timedelta(days=1)
        fixes = self._throttled(
            f"fixes|{day.date()}",
            lambda: self.store.patrol_fix_stamp(
                scope=COUNTY,
                since=clock.stamp(day),
                until=clock.stamp(day + pd.Timedelta(days=1)),
            ),
        )
        # only yesterday's fixes matter: today's patrols and new cases change nothing here
        key = f"{self.store.data_version()}|{day.date()}|{fixes}|{self.store.count('workers')}"
        same_day = f"{self.store.data_version()}|{day.date()}|"
        return self._cached(
            "patrols", key, lambda: self._patrol(day), stale_ok=lambda old: old.startswith(same_day)
        )

    def _patrol(self, day: pd.Timestamp) -> pd.DataFrame:
        grids = self._metric_grids()
        empty = pd.DataFrame(
            columns=[
                "grid_code",
                "patrol_street_share",
                "patrol_minutes",
                "patrol_sessions",
                "patrol_compliant",
            ]
        )
        if grids.empty:
            return empty
        fixes = self.store.patrol_points(
            scope=COUNTY,
            since=clock.stamp(day),
            until=clock.stamp(day + pd.Timedelta(days=1)),
        )
        if fixes.empty:
            return empty
        workers = self.store.workers(scope=COUNTY)
        fixes = fixes.merge(workers[["worker_id", "grid_code"]], on="worker_id", how="inner")
        fixes["at"] = fixes["at"].dt.tz_convert(clock.COUNTY_TZ)
        points = gpd.GeoDataFrame(
            fixes, geometry=gpd.points_from_xy(fixes["lon"], fixes["lat"]), crs="EPSG:4326"
        )
        roads = self.store.basemap_layer("roads")
        cov = patrol_coverage(grids, roads, points, assigned="grid_code")
        cov = cov[pd.to_datetime(cov["date"]).dt.date == day.date()]
        return pd.DataFrame(
            {
                "grid_code": cov["grid_code"].to_numpy(),
                "patrol_street_share": cov["street_share"].to_numpy(),
                "patrol_minutes": cov["minutes"].to_numpy(),
                "patrol_sessions": cov["sessions"].to_numpy(),
                "patrol_compliant": cov["compliant"].to_numpy(),
            }
        )

    def hotspots(
        self,
        *,
        days: int = 30,
        now: pd.Timestamp | None = None,
        scope: Scope = COUNTY,
        category: str | None = None,
    ) -> pd.DataFrame:
        """grid_code, cases (last ``days`` days, of ``category`` or all), gi_z, gi_bin over the
        grids of ``scope``: the county's grids for the county, a township's own grids for a
        township principal. Gi* compares each grid's neighbourhood with the mean of the grids it
        is computed over, so computed county-wide a rural township next to the town shows only
        cold spots; computed over its own grids it shows its own hot and cold spots."""
        now = now or pd.Timestamp.now(tz="UTC")
        if scope.empty:
            return pd.DataFrame(columns=HOTSPOT_COLUMNS)
        where = "county" if scope.county_wide else str(scope.township)
        # the county's 30-day hot spots are the warmed-up component the health check reports
        name = (
            "hotspots"
            if (where, days, category) == ("county", 30, None)
            else f"hotspots|{where}|{days}|{category or ''}"
        )
        key = f"{self.store.data_version()}|{self.fingerprint()}|{now.floor('h')}"
        return self._cached(
            name, key, lambda: self._hotspots(days, now, scope, category), stale_ok=True
        )

    def _hotspots(
        self, days: int, now: pd.Timestamp, scope: Scope, category: str | None
    ) -> pd.DataFrame:
        grids = self.store.grids(scope=scope)
        since = clock.stamp(now - pd.Timedelta(days=days))
        filters = {"since": since, **({"category": category} if category else {})}
        counts = self.store.case_counts(scope=scope, by="grid_code", filters=filters)
        return grid_hotspots(grids, counts)


#: The columns of :meth:`AnalyticsService.hotspots`.
HOTSPOT_COLUMNS = ["grid_code", "cases", "gi_z", "gi_bin"]


def grid_hotspots(grids: gpd.GeoDataFrame, counts: dict[str, int]) -> pd.DataFrame:
    """Gi* (queen contiguity, FDR-corrected bins; :func:`geo.analytics.hotspots.gi_star`) of
    the case ``counts`` per grid code over ``grids`` (WGS84, projected to their UTM zone for
    the contiguity): grid_code, cases, gi_z, gi_bin. Fewer than 3 grids: no rows."""
    if len(grids) < 3:
        return pd.DataFrame(columns=HOTSPOT_COLUMNS)
    frame = grids[["grid_code", "geometry"]].copy()
    frame["cases"] = frame["grid_code"].map(counts).fillna(0).astype(float)
    frame = frame.to_crs(frame.estimate_utm_crs())
    out = gi_star(frame, column="cases", weights="queen")
    return pd.DataFrame(
        {
            "grid_code": out["grid_code"].to_numpy(),
            "cases": out["cases"].to_numpy().astype(int),
            "gi_z": np.round(out["gi_z"].to_numpy(), 3),
            "gi_bin": out["gi_bin"].to_numpy().astype(int),
        }
    )
