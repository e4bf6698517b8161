"""Reference data: meta settings, the administrative hierarchy, basemap layers, buildings and
their totals.

Reference data changes only when it is loaded again (a county imported, the demo set up, a grid
version stored); every load bumps the ``data_version`` counter in ``meta``, and the frames every
page asks for (the hierarchy, the published grids) are cached on that counter.

Admin units, buildings and totals are township data: their reads take a ``scope``
(:mod:`wangge.store.scoping`); a township scope keeps the township and what lies in it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable

import geopandas as gpd
import pandas as pd

from wangge.access import Scope
from wangge.store.db import WGS84, Database, geo_frame, to_wkb
from wangge.store.errors import StoreError
from wangge.store.schema import TABLES
from wangge.store.scoping import scope_sql, scoped

__all__ = ["DEMO_META_KEYS", "ReferenceStore", "bump_data_version"]


def bump_data_version(con: sqlite3.Connection) -> None:
    """Bump the ``data_version`` counter inside the caller's transaction (every load of
    reference data does, so that caches keyed on :meth:`ReferenceStore.data_version` refresh)."""
    con.execute(
        "INSERT INTO meta VALUES ('data_version', '1') ON CONFLICT(key) "
        "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


class ReferenceStore(Database):
    """Meta settings, admin units, basemap layers and buildings (see :class:`wangge.store.Store`)."""

    def __init__(self, path: str | os.PathLike[str]):
        super().__init__(path)
        # reference frames (hierarchy, published grids) keyed on data_version: every page asks
        # for them, and decoding their geometries costs 5-25 ms a time
        self._reference: dict[tuple, tuple[int, gpd.GeoDataFrame]] = {}
        self._reference_lock = threading.Lock()
        self._townships: tuple[int, frozenset[str]] | None = None

    def _cached_reference(
        self, key: tuple, load: Callable[[], gpd.GeoDataFrame]
    ) -> gpd.GeoDataFrame:
        """A copy of ``load()``, read again only when :meth:`data_version` changed (any process
        loading reference data bumps it)."""
        version = self.data_version()
        with self._reference_lock:
            hit = self._reference.get(key)
        if hit is None or hit[0] != version:
            hit = (version, load())
            with self._reference_lock:
                if len(self._reference) > 64:  # a bound on distinct (level, parent) queries
                    self._reference.clear()
                self._reference[key] = hit
        return hit[1].copy()

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self.connect() as con:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as con:
            con.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def data_version(self) -> int:
        """A counter bumped by every load of reference data (hierarchy, layers, buildings, grid
        versions, workers); caches of map layers and of the point locator key on it. Operational
        writes (cases, cameras, patrol points) do not bump it."""
        return int(self.get_meta("data_version", "0") or 0)

    def township_codes(self) -> frozenset[str]:
        """The codes of the townships stored (read again only when :meth:`data_version`
        changed): what a township principal's code is checked against on every request."""
        version = self.data_version()
        hit = self._townships
        if hit is None or hit[0] != version:
            with self.connect() as con:
                codes = con.execute("SELECT code FROM admin_units WHERE level = 'township'")
                hit = (version, frozenset(r[0] for r in codes))
            self._townships = hit
        return hit[1]

    def replace_admin_units(self, units: gpd.GeoDataFrame) -> int:
        """Replace the hierarchy with ``units`` (columns code, name, level, kind, parent_code).

        Parents must come before children or be in the same call; geometries in any CRS
        (converted to EPSG:4326). Returns the number of units stored.
        """
        rows = _admin_rows(units)
        with self.transaction() as con:
            _write_admin_units(con, rows)
            bump_data_version(con)
        return len(rows)

    def replace_county(
        self,
        units: gpd.GeoDataFrame,
        buildings: gpd.GeoDataFrame,
        layers: dict[str, gpd.GeoDataFrame],
        *,
        meta: dict[str, str] | None = None,
    ) -> dict[str, int]:
        """Replace the whole county in ONE transaction: all or nothing.

        The hierarchy (``units``, as :meth:`replace_admin_units` takes it), the buildings (as
        :meth:`replace_buildings`), every reference layer (``layers``: layer name -> features
        with ``name`` and ``kind`` columns; layers not given are emptied) and the ``meta``
        keys given. The demo county's marks are removed: the store now holds a real county.
        Cases, cameras, patrols, users and grid versions are kept: a case keeps the grid
        version and grid it was located in. Returns the rows stored per table or layer.
        """
        unit_rows = _admin_rows(units)
        building_rows, building_bounds = _building_rows(buildings)
        layer_rows = {
            name: _basemap_rows(frame, name_column="name", kind_column="kind")
            for name, frame in layers.items()
        }
        with self.transaction() as con:
            _write_admin_units(con, unit_rows)
            _write_buildings(con, building_rows, building_bounds)
            con.execute("DELETE FROM basemap_rtree")
            con.execute("DELETE FROM basemap_features")
            for name, (rows, bounds) in layer_rows.items():
                _write_basemap_layer(con, name, rows, bounds)
            con.executemany("DELETE FROM meta WHERE key = ?", [(k,) for k in DEMO_META_KEYS])
            con.executemany(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                sorted((meta or {}).items()),
            )
            bump_data_version(con)
        counts = {"admin_units": len(unit_rows), "buildings": len(building_rows)}
        counts.update({name: len(rows) for name, (rows, _) in layer_rows.items()})
        return counts

    def admin_units(
        self, level: str | None = None, parent_code: str | None = None, *, scope: Scope
    ) -> gpd.GeoDataFrame:
        """Admin units inside ``scope`` (a township's scope holds the township and its
        communities, not the county), optionally of one level and/or under one parent, ordered
        by code."""
        frame = self._cached_reference(
            ("admin_units", level, parent_code), lambda: self._admin_units(level, parent_code)
        )
        return scoped(frame, scope, "code")

    def _admin_units(self, level: str | None, parent_code: str | None) -> gpd.GeoDataFrame:
        sql = "SELECT code, name, level, kind, parent_code, geometry FROM admin_units"
        where, args = [], []
        if level:
            where.append("level = ?")
            args.append(level)
        if parent_code:
            where.append("parent_code = ?")
            args.append(parent_code)
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self.connect() as con:
            rows = con.execute(sql + " ORDER BY code", args).fetchall()
        return geo_frame(rows, ["code", "name", "level", "kind", "parent_code"])

    def replace_basemap_layer(
        self,
        layer: str,
        features: gpd.GeoDataFrame,
        *,
        name_column: str = "name",
        kind_column: str | None = None,
    ) -> int:
        """Replace one reference layer (roads, water, railways, hamlets, pois)."""
        rows, bounds = _basemap_rows(features, name_column=name_column, kind_column=kind_column)
        with self.transaction() as con:
            old = [
                r[0]
                for r in con.execute("SELECT fid FROM basemap_features WHERE layer = ?", (layer,))
            ]
            con.executemany("DELETE FROM basemap_rtree WHERE fid = ?", [(f,) for f in old])
            con.execute("DELETE FROM basemap_features WHERE layer = ?", (layer,))
            _write_basemap_layer(con, layer, rows, bounds)
            bump_data_version(con)
        return len(rows)

    def basemap_layer(
        self, layer: str, bbox: tuple[float, float, float, float] | None = None
    ) -> gpd.GeoDataFrame:
        """One reference layer, optionally only the features whose boxes meet ``bbox``."""
        sql = "SELECT f.fid, f.name, f.kind, f.geometry FROM basemap_features f"
        args: list = []
        if bbox is not None:
            sql += (
                " JOIN basemap_rtree r ON r.fid = f.fid WHERE f.layer = ? AND r.maxx >= ? "
                "AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?"
            )
            args = [layer, bbox[0], bbox[2], bbox[1], bbox[3]]
        else:
            sql += " WHERE f.layer = ?"
            args = [layer]
        with self.connect() as con:
            rows = con.execute(sql + " ORDER BY f.fid", args).fetchall()
        return geo_frame(rows, ["fid", "name", "kind"])

    def replace_buildings(self, buildings: gpd.GeoDataFrame) -> int:
        """Replace all buildings. Needs ``building_id`` and ``households``; other columns optional."""
        rows, bounds = _building_rows(buildings)
        with self.transaction() as con:
            _write_buildings(con, rows, bounds)
            bump_data_version(con)
        return len(rows)

    def buildings(
        self,
        bbox: tuple[float, float, float, float] | None = None,
        *,
        scope: Scope,
        limit: int | None = None,
    ) -> gpd.GeoDataFrame:
        """Buildings inside ``scope`` (by their community), optionally those whose boxes meet
        ``bbox`` (minx, miny, maxx, maxy), at most ``limit``."""
        cols = (
            "b.building_id, b.community_code, b.kind, b.floors, b.households, b.special, b.name, "
            "b.compound_id, b.hamlet_id, b.geometry"
        )
        cond, sargs = scope_sql(scope, "b.community_code")
        if bbox is None:
            sql = f"SELECT {cols} FROM buildings b WHERE {cond} ORDER BY b.rid"
            args = [*sargs]
        else:
            sql = (
                f"SELECT {cols} FROM buildings_rtree r JOIN buildings b ON b.rid = r.rid "
                "WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ? "
                f"AND {cond} ORDER BY b.rid"
            )
            args = [bbox[0], bbox[2], bbox[1], bbox[3], *sargs]
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self.connect() as con:
            rows = con.execute(sql, args).fetchall()
        return geo_frame(
            rows,
            [
                "building_id",
                "community_code",
                "kind",
                "floors",
                "households",
                "special",
                "name",
                "compound_id",
                "hamlet_id",
            ],
        )

    def totals(self, *, scope: Scope) -> dict[str, int]:
        """Numbers of townships, communities, buildings and households stored inside ``scope``."""
        units, uargs = scope_sql(scope, "code")
        built, bargs = scope_sql(scope, "community_code")
        with self.connect() as con:
            levels = dict(
                con.execute(
                    f"SELECT level, COUNT(*) FROM admin_units WHERE {units} GROUP BY level",
                    uargs,
                ).fetchall()
            )
            n, hh = con.execute(
                f"SELECT COUNT(*), COALESCE(SUM(households), 0) FROM buildings WHERE {built}",
                bargs,
            ).fetchone()
        return {
            "townships": int(levels.get("township", 0)),
            "communities": int(levels.get("community", 0)),
            "buildings": int(n),
            "households": int(hh),
        }

    def count(self, table: str) -> int:
        """Rows in one of the store's tables."""
        if table not in TABLES:
            raise StoreError(f"unknown table {table!r}; expected one of {sorted(TABLES)}")
        with self.connect() as con:
            return int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


#: Meta keys of the demo county, removed when a real county is loaded over it.
DEMO_META_KEYS = (
    "demo_county",
    "demo_seed",
    "demo_simulated",
    "demo_simulated_until",
    "demo_fed_until",
)


def _admin_rows(units: gpd.GeoDataFrame) -> list[tuple]:
    """Rows of ``admin_units``, parents first; StoreError for missing columns or levels."""
    units = units.to_crs(WGS84)
    missing = {"code", "name", "level", "geometry"} - set(units.columns)
    if missing:
        raise StoreError(f"admin units lack the columns {sorted(missing)}")
    order = units["level"].map({"county": 0, "township": 1, "community": 2})
    if order.isna().any():
        bad = sorted(set(units.loc[order.isna(), "level"]))
        raise StoreError(f"admin units: unknown level(s) {bad}; expected county/township/community")
    units = units.assign(_o=order).sort_values(["_o", "code"], kind="stable")
    rows = zip(
        units["code"].astype(str),
        units["name"].astype(str),
        units["level"].astype(str),
        units.get("kind", pd.Series("", index=units.index)).fillna("").astype(str),
        units.get("parent_code", pd.Series(None, index=units.index)),
        to_wkb(units.geometry),
        strict=True,
    )
    return [
        (c, n, lv, k, (p if isinstance(p, str) and p else None), g) for c, n, lv, k, p, g in rows
    ]


def _write_admin_units(con: sqlite3.Connection, rows: list[tuple]) -> None:
    con.execute("DELETE FROM admin_units")
    con.executemany("INSERT INTO admin_units VALUES (?, ?, ?, ?, ?, ?)", rows)
    # a new hierarchy is no longer the demo county until ensure_demo says so again
    con.execute("DELETE FROM meta WHERE key = 'demo_county'")


def _basemap_rows(
    features: gpd.GeoDataFrame, *, name_column: str, kind_column: str | None
) -> tuple[list[tuple], list]:
    """(name, kind, wkb) rows of a reference layer and their bounding boxes."""
    features = features.to_crs(WGS84)
    blank = pd.Series("", index=features.index)
    names = features[name_column].fillna("").astype(str) if name_column in features else blank
    kinds = (
        features[kind_column].fillna("").astype(str)
        if kind_column and kind_column in features
        else blank
    )
    rows = list(zip(names, kinds, to_wkb(features.geometry), strict=True))
    return rows, features.geometry.bounds.to_numpy().tolist()


def _write_basemap_layer(
    con: sqlite3.Connection, layer: str, rows: list[tuple], bounds: list
) -> None:
    for (name, kind, geom), (minx, miny, maxx, maxy) in zip(rows, bounds, strict=True):
        cur = con.execute(
            "INSERT INTO basemap_features (layer, name, kind, geometry) VALUES (?, ?, ?, ?)",
            (layer, name, kind, geom),
        )
        con.execute(
            "INSERT INTO basemap_rtree VALUES (?, ?, ?, ?, ?)",
            (cur.lastrowid, minx, maxx, miny, maxy),
        )


def _building_rows(buildings: gpd.GeoDataFrame) -> tuple[list[tuple], list]:
    """Rows of ``buildings`` (rid from 1) and their bounding boxes."""
    buildings = buildings.to_crs(WGS84)
    missing = {"building_id", "households"} - set(buildings.columns)
    if missing:
        raise StoreError(f"buildings lack the columns {sorted(missing)}")

    def col(name: str, default):
        return (
            buildings[name].fillna(default)
            if name in buildings
            else pd.Series(default, index=buildings.index)
        )

    values = zip(
        buildings["building_id"].astype(str),
        col("community_code", "").astype(str),
        col("kind", "").astype(str),
        col("floors", 0).astype(int),
        buildings["households"].astype(int),
        col("special", "").astype(str),
        col("name", "").astype(str),
        col("compound_id", "").astype(str),
        col("hamlet_id", "").astype(str),
        to_wkb(buildings.geometry),
        strict=True,
    )
    rows = [(i + 1, *vals) for i, vals in enumerate(values)]
    return rows, buildings.geometry.bounds.to_numpy().tolist()


def _write_buildings(con: sqlite3.Connection, rows: list[tuple], bounds: list) -> None:
    con.execute("DELETE FROM buildings_rtree")
    con.execute("DELETE FROM buildings")
    con.executemany("INSERT INTO buildings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.executemany(
        "INSERT INTO buildings_rtree VALUES (?, ?, ?, ?, ?)",
        [(i + 1, b[0], b[2], b[1], b[3]) for i, b in enumerate(bounds)],
    )
