"""Data of the operational map layers, ready for the browser (GeoJSON-like dicts).

The pages' callbacks parse their inputs, apply the user's scope and call these; what is drawn
(case points or bins, H3 hexagons, the grids' metric values, a worker's track, the wall's
recent cases) is computed here, from the store and the analytics service.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from wangge.access import Scope
from wangge.clock import COUNTY_TZ, stamp
from wangge.privacy import mask_phone
from wangge.services.analytics import AnalyticsService
from wangge.services.layers import feature_collection
from wangge.services.metrics import cube_grid_stats
from wangge.store import Store

__all__ = [
    "MAX_POINTS",
    "cached_case_layers",
    "case_layers",
    "grid_card",
    "grid_metric_values",
    "hex_layer",
    "recent_multipoints",
    "worker_track",
]

log = logging.getLogger(__name__)

#: Past this many cases in the view, the server sends one bubble per H3 cell instead of points.
#: The browser's drawing of clustered points grows with their number (about 0.1 ms a point on
#: the 2-core test machine): at 6,000 a filter change showing 1,500-4,000 points took 200-300 ms
#: to draw against 60-100 ms for the bubbles (benchmarks/browser.py at 200,000 cases). At the
#: town's first view (zoom 15) a thousand dots are clusters anyway; zoomed in, they are dots.
MAX_POINTS = 1000

Box = tuple[float, float, float, float]


def _collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def case_layers(
    store: Store,
    filters: dict,
    *,
    scope: Scope,
    resolution: int,
    bbox: Box | None = None,
    max_points: int = MAX_POINTS,
) -> tuple[dict | None, dict | None, int]:
    """The cases inside ``scope`` matching ``filters`` for the map: (points, bins, total).

    Up to ``max_points`` cases in ``bbox`` (everywhere without one) travel as points (clustered
    in the browser); past that one bubble per H3 cell of ``resolution`` (count and overdue
    count), so a 60,000-case month does not ship 60,000 features. ``total`` counts every
    matching case; with none, both layers are None.
    """
    # H3 cells stored with the cases
    cells = store.case_bins(scope=scope, resolution=resolution, filters=filters)
    total = sum(c[3] for c in cells)
    if not total:
        return None, None, 0
    in_view = (
        cells
        if bbox is None
        else store.case_bins(scope=scope, resolution=resolution, filters=filters, bbox=bbox)
    )
    if sum(c[3] for c in in_view) <= max_points:
        points = [
            {
                "type": "Feature",
                "id": cid,
                # about a metre: a third fewer bytes than the stored 15 digits
                "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
                "properties": {"c": cat, "s": st, "o": od},
            }
            for cid, lon, lat, cat, st, od in store.case_points(
                scope=scope, filters=filters, bbox=bbox
            )
        ]
        return _collection(points), None, total
    bins = [
        {
            "type": "Feature",
            "id": cell,
            "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "properties": {"n": n, "o": od},
        }
        for cell, lon, lat, n, od in in_view
    ]
    return None, _collection(bins), total


def cached_case_layers(
    store: Store,
    analytics: AnalyticsService,
    filters: dict,
    *,
    scope: Scope,
    resolution: int,
    bbox: Box | None = None,
    max_points: int = MAX_POINTS,
) -> tuple[dict | None, dict | None, int]:
    """:func:`case_layers`, kept among the answers asked for most recently
    (:meth:`AnalyticsService.recent`: back to a window or category seen a moment ago costs a
    look-up) while no case was written and within the minute (cases turn overdue as time
    passes). The key holds :meth:`Store.case_version`, read afresh on every call (0.1 ms), so
    an answer cached before a write is never served after it."""
    minute = pd.Timestamp.now(tz="UTC").floor("min").isoformat()
    key = (
        f"cases|{scope!r}|{sorted(filters.items())}|{resolution}|{bbox}|{max_points}|{minute}"
        f"|{store.case_version()}"
    )
    return analytics.recent(
        key,
        lambda: case_layers(
            store, filters, scope=scope, resolution=resolution, bbox=bbox, max_points=max_points
        ),
    )


def hex_layer(cells: Sequence[tuple]) -> dict | None:
    """H3 cells (``store.case_bins`` rows) with their counts and share of the busiest cell, as
    GeoJSON polygons; None without cells."""
    from geo.analytics.hexes import h3_cell_polygons

    if not cells:
        return None
    uniq = np.array([c[0] for c in cells])
    counts = np.array([c[3] for c in cells])
    frame = gpd.GeoDataFrame(
        {"h3_cell": uniq, "count": counts, "share": counts / counts.max()},
        geometry=h3_cell_polygons(uniq).to_numpy(),
        crs="EPSG:4326",
    )
    return json.loads(feature_collection(frame, ["h3_cell", "count", "share"], id_column="h3_cell"))


def _raw_metrics(analytics: AnalyticsService, grids: pd.DataFrame, scope: Scope) -> dict[str, dict]:
    """Every grid metric's raw values per grid code (Gi* over the grids of ``scope``)."""
    codes = list(grids["grid_code"])
    # the last 30 local days' reports and the open overdue cases per grid, from the drill-down's
    # case cube (cached; the same figures as the 态势 page)
    stats = cube_grid_stats(analytics.case_cube())
    raw = {
        # undefined for grids without households (schools, industrial parks: 专属网格)
        "per100": {
            g: 100 * stats.get(g, (0, 0, 0))[0] / h if h > 0 else None
            for g, h in zip(codes, grids["households"], strict=True)
        },
        "overdue": {g: stats.get(g, (0, 0, 0))[2] for g in codes},
    }
    for metric, compute, column in (
        ("patrol", analytics.patrol_yesterday, "patrol_street_share"),
        ("camera", analytics.camera_coverage, "camera_street_share"),
        ("gi", lambda: analytics.hotspots(scope=scope), "gi_bin"),
    ):
        try:
            frame = compute()
        except Exception:  # one failed analysis leaves its metric grey, not the map broken
            log.exception("grid metric %s failed; shown as missing", metric)
            frame = pd.DataFrame(columns=["grid_code", column])
        raw[metric] = dict(zip(frame["grid_code"], frame[column], strict=True))
    return raw


def _scaled(metric: str, values: dict, codes: list[str]) -> dict:
    """One metric's values (rounded, None when missing) with the ends of its colour ramp."""
    clean = {
        g: (
            None
            if values.get(g) is None or (isinstance(values.get(g), float) and math.isnan(values[g]))
            else round(float(values[g]), 4)
        )
        for g in codes
    }
    finite = [v for v in clean.values() if v is not None]
    top = max(finite, default=1)
    if metric in ("per100", "overdue") and len(finite) >= 20:
        # the colour ramp ends at the 95th percentile, so one outlier does not wash out the
        # rest; the legend then reads "≥ vmax"
        top = float(np.percentile(finite, 95)) or top
    return {
        "values": clean,
        "vmin": min(finite, default=0),
        "vmax": top,
        "clipped": top < max(finite, default=top),
    }


def grid_metric_values(analytics: AnalyticsService, grids: pd.DataFrame, *, scope: Scope) -> dict:
    """Per metric (per100, overdue, patrol, camera, gi): the values of the ``grids`` (a frame
    with grid_code and households; those of ``scope``) and the ends of the colour ramp (vmin,
    vmax, clipped). Gi* is computed over the grids of ``scope``: a township leader's own."""
    codes = list(grids["grid_code"])
    return {
        metric: _scaled(metric, values, codes)
        for metric, values in _raw_metrics(analytics, grids, scope).items()
    }


def grid_card(
    store: Store, analytics: AnalyticsService, grid_code: object, *, scope: Scope
) -> dict | None:
    """What the map's card of a clicked grid shows: grid_code, households, worker (name, phone
    masked), open and open overdue cases, and the last 30 local days' cases (the drill-down's
    case cube, so the figures agree with it). None for a grid not inside ``scope``."""
    if not isinstance(grid_code, str):
        return None
    grids = store.grids(scope=scope)
    row = grids[grids["grid_code"] == grid_code]
    if row.empty:
        return None
    workers = store.workers(scope=scope)
    worker = workers[workers["grid_code"] == grid_code]
    cases, open_, overdue = cube_grid_stats(analytics.case_cube(), grid_code).get(
        grid_code, (0, 0, 0)
    )
    return {
        "grid_code": grid_code,
        "households": int(row["households"].iloc[0]),
        "worker": str(worker["name"].iloc[0]) if len(worker) else "",
        "worker_phone": mask_phone(worker["phone"].iloc[0]) if len(worker) else "",
        "open": open_,
        "overdue": overdue,
        "cases": cases,
    }


def worker_track(
    store: Store, worker_id: str, day: str, *, scope: Scope
) -> tuple[dict | None, dict]:
    """One grid worker's GPS track on one local ``day`` (YYYY-MM-DD): its sessions as lines with
    a start point each, and the counts (sessions, minutes, fixes); None without fixes (also for
    a worker outside ``scope``)."""
    from geo.analytics.patrols import patrol_sessions

    start = pd.Timestamp(day).tz_localize(COUNTY_TZ)
    fixes = store.patrol_points(
        scope=scope,
        worker_id=worker_id,
        since=stamp(start),
        until=stamp(start + pd.Timedelta(days=1)),
    )
    if fixes.empty:
        return None, {"sessions": 0, "minutes": 0.0, "fixes": 0}
    sessions = patrol_sessions(fixes, person="worker_id", time="at")
    features = []
    for s in sessions.itertuples():
        part = fixes[(fixes["at"] >= s.start) & (fixes["at"] <= s.end)]
        coords = part[["lon", "lat"]].to_numpy().tolist()
        if len(coords) >= 2:
            line = {"type": "LineString", "coordinates": coords}
            features.append(
                {"type": "Feature", "geometry": line, "properties": {"session": int(s.session)}}
            )
        begin = s.start.tz_convert(COUNTY_TZ).strftime("%H:%M")
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": coords[0]},
                "properties": {"start": begin},
            }
        )
    counts = {
        "sessions": len(sessions),
        "minutes": float(sessions["minutes"].sum()),
        "fixes": len(fixes),
    }
    return _collection(features), counts


def recent_multipoints(recent: pd.DataFrame) -> dict:
    """Recent cases (lon, lat, overdue) as two MultiPoints (overdue or not), rounded to about a
    metre: a fifth of the bytes of one feature per case (2,000 cases a day at 200,000 cases)."""
    late = recent["overdue"].astype(bool)
    return _collection(
        [
            {
                "type": "Feature",
                "geometry": {
                    "type": "MultiPoint",
                    "coordinates": [
                        [round(lon, 5), round(lat, 5)]
                        for lon, lat in zip(part["lon"], part["lat"], strict=True)
                    ],
                },
                "properties": {"overdue": overdue},
            }
            for overdue, part in ((0, recent[~late]), (1, recent[late]))
            if len(part)
        ]
    )
