"""Map layers as GeoJSON, built from the store and cached per data version.

The static layers (boundaries, grids, streets, water, railways) are sent once per data version
as compact GeoJSON (coordinates rounded to 1e-6 degree, about 0.1 m), served by the HTTP API so
the browser can cache them; buildings are sent per viewport and only when zoomed in (level of
detail), because 30,000 polygons at once is far past what Leaflet draws smoothly.

The map opens on :meth:`LayerService.home_bounds`: where the cases of the last
:data:`HOME_CASE_DAYS` days are (the central 90 % of them, :func:`dense_bounds`), or without
cases the dense part of where people live (the buildings' households); not the whole county
polygon, which in a real county is mostly hills, fields and water. The page fits that box to
the map's real size in the browser (``bounds``), so a 4K screen does not show it small.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wangge.access import Scope
from wangge.clock import STAMP_FORMAT
from wangge.store import Store

__all__ = [
    "BUILDINGS_LIMIT",
    "BUILDINGS_MIN_ZOOM",
    "HOME_CASE_DAYS",
    "HOME_CASE_SHARE",
    "HOME_MIN_CASES",
    "LAYERS",
    "LayerService",
    "dense_bounds",
    "feature_collection",
    "fit_zoom",
    "household_band",
    "packed_collection",
]

#: Buildings are drawn from this zoom level on.
BUILDINGS_MIN_ZOOM = 15
#: At most this many buildings are sent for one viewport.
BUILDINGS_LIMIT = 4000
#: Cases of this many last days count for the map's first view.
HOME_CASE_DAYS = 90
#: The first view fits the central ``HOME_CASE_SHARE`` of those cases on each axis ...
HOME_CASE_SHARE = 0.9
#: ... when there are at least this many; otherwise the buildings' households.
HOME_MIN_CASES = 30
#: The layers served whole, by name.
LAYERS = ("townships", "communities", "grids", "roads", "water", "railways", "hamlets", "pois")


def feature_collection(
    frame: gpd.GeoDataFrame,
    properties: Sequence[str],
    *,
    id_column: str | None = None,
    precision: float = 1e-6,
) -> str:
    """``frame`` (EPSG:4326) as a GeoJSON FeatureCollection string with the given properties."""
    if len(frame) == 0:
        return '{"type":"FeatureCollection","features":[]}'
    geoms = shapely.set_precision(frame.geometry.to_numpy(), precision)
    geojson = shapely.to_geojson(geoms)
    records = frame[list(properties)].to_dict("records")
    ids = (
        frame[id_column].astype(str).tolist() if id_column else [str(i) for i in range(len(frame))]
    )
    parts = [
        f'{{"type":"Feature","id":{json.dumps(fid)},'
        f'"properties":{json.dumps(_plain(props), ensure_ascii=False)},"geometry":{g}}}'
        for fid, props, g in zip(ids, records, geojson, strict=True)
        if g is not None
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def packed_collection(text: str) -> dict:
    """A GeoJSON FeatureCollection string (:func:`feature_collection`) as a dict whose
    coordinate arrays are numpy float arrays (one per ring, line or point), for a Dash answer.

    Dash serialises a callback's answer with orjson; an answer that also holds components (a
    drill-down's ranking, KPIs and charts beside its map layers) is first walked value by value
    in Python (``plotly.io.json.clean_to_json_compatible``), every coordinate included: 28 ms
    per drill-down on the demo county (cProfile of ``benchmarks/callbacks.py``: 1.7 s of 60
    answers). Numpy arrays are handed to orjson whole, so the walk stops at each ring. The
    JSON sent is the same."""
    collection = json.loads(text)
    for feature in collection["features"]:
        geometry = feature.get("geometry") or {}
        kind, coords = geometry.get("type"), geometry.get("coordinates")
        if kind in ("Point", "LineString", "MultiPoint"):
            geometry["coordinates"] = np.asarray(coords, dtype=float)
        elif kind in ("Polygon", "MultiLineString"):
            geometry["coordinates"] = [np.asarray(r, dtype=float) for r in coords]
        elif kind == "MultiPolygon":
            geometry["coordinates"] = [[np.asarray(r, dtype=float) for r in p] for p in coords]
    return collection


def household_band(store: Store) -> tuple[int, int]:
    """The (min, max) households per urban grid of the published grid version.

    Read from the parameters the version was made with (``min_households`` and
    ``max_households``, stored by :meth:`wangge.store.Store.add_grid_version`); a version that
    did not record them was made with the partition engine's defaults.
    """
    params = store.grid_version_params()
    lo, hi = params.get("min_households"), params.get("max_households")
    if lo is None or hi is None:
        import inspect

        from geo.partition import partition

        defaults = inspect.signature(partition).parameters
        lo = defaults["min_households"].default if lo is None else lo
        hi = defaults["max_households"].default if hi is None else hi
    return int(lo), int(hi)


def dense_bounds(
    lon: np.ndarray,
    lat: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    share: float = 0.98,
    margin: float = 0.05,
) -> tuple[float, float, float, float] | None:
    """The box (minx, miny, maxx, maxy) of the dense part of weighted points: from the
    ``(1 - share) / 2`` to the ``(1 + share) / 2`` weighted quantile on each axis, widened by
    ``margin`` of its size on each side. None when no point has weight.

    Examples
    --------
    >>> lon = np.r_[np.linspace(114.0, 114.1, 99), 115.0]  # a town and one far farmstead
    >>> lat = np.r_[np.linspace(30.0, 30.1, 99), 31.0]
    >>> [round(v, 3) for v in dense_bounds(lon, lat, margin=0.0)]
    [114.001, 30.001, 114.1, 30.1]
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    w = np.ones(len(lon)) if weights is None else np.asarray(weights, dtype=float)
    keep = np.isfinite(lon) & np.isfinite(lat) & np.isfinite(w) & (w > 0)
    if not keep.any():
        return None
    lo, hi = (1 - share) / 2, (1 + share) / 2

    def quantiles(values: np.ndarray) -> tuple[float, float]:
        order = np.argsort(values[keep], kind="stable")
        v, cum = values[keep][order], np.cumsum(w[keep][order])
        cum = cum / cum[-1]
        return float(v[np.searchsorted(cum, lo)]), float(
            v[min(np.searchsorted(cum, hi), len(v) - 1)]
        )

    (minx, maxx), (miny, maxy) = quantiles(lon), quantiles(lat)
    dx, dy = (maxx - minx) * margin, (maxy - miny) * margin
    return minx - dx, miny - dy, maxx + dx, maxy + dy


def _plain(props: dict) -> dict:
    """Numpy scalars -> Python scalars for json."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in props.items()}


class LayerService:
    """GeoJSON of the map layers, cached per store data version (one instance per app)."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._cache: dict[tuple[int, str, Scope], str] = {}
        self._home: dict[tuple, tuple[float, float, float, float]] = {}

    def geojson(self, name: str, *, scope: Scope) -> str:
        """One of :data:`LAYERS` as a GeoJSON string: the units and grids inside ``scope``
        (reference layers such as streets stay whole)."""
        if name not in LAYERS:
            raise KeyError(name)
        version = self.store.data_version()
        key = (version, name, scope)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        text = self._build(name, scope)
        with self._lock:
            # keep only the current version's layers
            self._cache = {k: v for k, v in self._cache.items() if k[0] == version}
            self._cache[key] = text
        return text

    def _build(self, name: str, scope: Scope) -> str:
        store = self.store
        if name in ("townships", "communities"):
            level = "township" if name == "townships" else "community"
            units = store.admin_units(level, scope=scope)
            # boundaries are drawn as outlines; polygons keep them clickable
            return feature_collection(
                units, ["code", "name", "kind", "parent_code"], id_column="code"
            )
        if name == "grids":
            grids = store.grids(scope=scope)
            return feature_collection(
                grids,
                ["grid_code", "community_code", "households", "buildings", "kind", "flags"],
                id_column="grid_code",
            )
        layer = store.basemap_layer(name)
        return feature_collection(layer, ["name", "kind"], id_column="fid")

    def buildings(
        self,
        bbox: tuple[float, float, float, float],
        *,
        limit: int = BUILDINGS_LIMIT,
        scope: Scope,
    ) -> tuple[str, int, bool]:
        """Buildings inside ``scope`` meeting ``bbox`` as GeoJSON, their count, and whether
        ``limit`` cut them."""
        frame = self.store.buildings(bbox, scope=scope, limit=limit + 1)
        capped = len(frame) > limit
        frame = frame.iloc[:limit]
        text = feature_collection(
            frame, ["building_id", "kind", "floors", "households", "name"], id_column="building_id"
        )
        return text, len(frame), capped

    def summary(self, *, scope: Scope) -> dict:
        """Counts for the overview panel (of what lies inside ``scope``), with the household
        band of the published grid version (``band_min``, ``band_max``) and how many urban
        grids are in it (``in_band``)."""
        store = self.store
        lo, hi = household_band(store)
        grids = store.grids(scope=scope)
        flagged = int((grids["flags"].astype(str) != "").sum()) if len(grids) else 0
        # the household band applies to urban grids; rural grids follow hamlets, dedicated grids
        # their institution
        urban = grids[grids["kind"] == "urban"] if len(grids) else grids
        in_band = int(urban["households"].between(lo, hi).sum()) if len(urban) else 0
        return {
            **store.totals(scope=scope),
            "grids": len(grids),
            "urban_grids": len(urban),
            "in_band": in_band,
            "band_min": lo,
            "band_max": hi,
            "flagged": flagged,
        }

    def home_bounds(self, *, scope: Scope) -> tuple[float, float, float, float]:
        """The map's first view (WGS84 minx, miny, maxx, maxy) inside the polygon of ``scope``
        (:meth:`county`): the central :data:`HOME_CASE_SHARE` of the last
        :data:`HOME_CASE_DAYS` days' cases when there are :data:`HOME_MIN_CASES` or more, else
        the dense part of the buildings' households (:func:`dense_bounds`); that polygon's box
        when it holds neither."""
        key = (self.store.data_version(), "home", scope)
        with self._lock:
            hit = self._home.get(key)
        if hit is None:
            hit = self._home_bounds(self.county(scope=scope), scope)
            with self._lock:
                self._home = {k: v for k, v in self._home.items() if k[0] == key[0]}
                self._home[key] = hit
        return hit

    def _home_bounds(
        self, area: gpd.GeoDataFrame, scope: Scope
    ) -> tuple[float, float, float, float]:
        if len(area) == 0:
            return (-180.0, -85.0, 180.0, 85.0)
        shape = shapely.union_all(area.geometry.to_numpy())
        shapely.prepare(shape)
        ax0, ay0, ax1, ay1 = (float(v) for v in shape.bounds)
        buildings = self.store.buildings((ax0, ay0, ax1, ay1), scope=scope)
        homes = shapely.centroid(buildings.geometry.to_numpy())
        hx, hy = shapely.get_x(homes), shapely.get_y(homes)
        since = pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=HOME_CASE_DAYS)
        rows = self.store.case_points(
            scope=scope, filters={"since": since.strftime(STAMP_FORMAT)}, bbox=(ax0, ay0, ax1, ay1)
        )
        cases = np.array([row[1:3] for row in rows], dtype=float).reshape(-1, 2)
        box = None
        if len(cases) >= HOME_MIN_CASES:
            # where the cases are: the command centre's work (in the demo county the town, while
            # farmsteads' households spread the 1-99 % box over most of the county)
            inside = shapely.contains_xy(shape, cases[:, 0], cases[:, 1])
            box = dense_bounds(cases[inside, 0], cases[inside, 1], share=HOME_CASE_SHARE)
        if box is None:
            inside = shapely.contains_xy(shape, hx, hy) if len(hx) else np.zeros(0, bool)
            weight = buildings["households"].fillna(0).to_numpy(float)
            box = dense_bounds(hx[inside], hy[inside], weight[inside])
        if box is None:
            return ax0, ay0, ax1, ay1
        # inside the area, and never a box too small to see a place in (0.005 deg ~ 500 m)
        x0, y0, x1, y1 = max(box[0], ax0), max(box[1], ay0), min(box[2], ax1), min(box[3], ay1)
        half_w, half_h = max(0.0025, (x1 - x0) / 2), max(0.0025, (y1 - y0) / 2)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        return cx - half_w, cy - half_h, cx + half_w, cy + half_h

    def county(self, *, scope: Scope) -> gpd.GeoDataFrame:
        """The polygon of ``scope`` (what the map is fitted to): the county's, a township's, or
        none for an empty scope."""
        if scope.county_wide:
            return self.store.admin_units("county", scope=scope)
        return self.store.admin_units("township", scope=scope)


def fit_zoom(
    minx: float, miny: float, maxx: float, maxy: float, *, width: int = 1300, height: int = 760
) -> float:
    """The largest zoom (in half levels) at which the box fits a map of about width x height px."""
    lon_span = max(maxx - minx, 1e-9)
    y0, y1 = (math.log(math.tan(math.pi / 4 + math.radians(v) / 2)) for v in (miny, maxy))
    lat_span = max((y1 - y0) / (2 * math.pi) * 360, 1e-9)  # in "mercator degrees"
    z = min(math.log2(width * 360 / (256 * lon_span)), math.log2(height * 360 / (256 * lat_span)))
    return max(8.0, min(18.0, math.floor(z * 2) / 2))
