"""Exports of a grid version: a registry of exporters by format name.

``gpkg``, ``geojson``, ``shp`` (a zip of the Shapefile's parts; DBF in UTF-8 or GBK with a
.cpg saying so) and ``csv`` (buildings -> grid) are here. Another format (the printed PDF
atlas, an interactive HTML map) plugs in with :func:`register_exporter`: an exporter takes the
store, the version, the scope and an optional community and returns an :class:`Export`.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyogrio

from wangge.access import Scope
from wangge.store import Store, StoreError

__all__ = ["EXPORTERS", "Export", "export_version", "register_exporter"]


@dataclass(frozen=True)
class Export:
    """An exported file: its bytes, media type and suggested file name."""

    content: bytes
    media_type: str
    filename: str


#: An exporter: (store, version id, scope, community code or None, options) -> Export.
Exporter = Callable[[Store, int, Scope, "str | None", dict], Export]

#: Format name -> exporter. :func:`register_exporter` adds one.
EXPORTERS: dict[str, Exporter] = {}

_SHP_NAMES = {"community_code": "comm_code", "households": "households", "buildings": "buildings"}


def register_exporter(name: str) -> Callable[[Exporter], Exporter]:
    """Decorator: make ``fn`` the exporter of format ``name``."""

    def add(fn: Exporter) -> Exporter:
        EXPORTERS[name] = fn
        return fn

    return add


def _grids(store: Store, vid: int, scope: Scope, community: str | None) -> gpd.GeoDataFrame:
    grids = store.grids(vid, scope=scope)
    if community is not None:
        grids = grids[grids["community_code"] == community]
        if grids.empty:
            raise StoreError(f"community {community}: no grids of version {vid} there")
    return grids.reset_index(drop=True)


def _name(vid: int, community: str | None, suffix: str) -> str:
    return f"grids-v{vid}{'-' + community if community else ''}{suffix}"


def _written(grids: gpd.GeoDataFrame, driver: str, suffix: str, **kwargs) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"grids{suffix}"
        pyogrio.write_dataframe(grids, path, driver=driver, **kwargs)
        if driver != "ESRI Shapefile":
            return path.read_bytes()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(tmp).iterdir()):
                zf.write(part, part.name)
        return out.getvalue()


@register_exporter("gpkg")
def _gpkg(store, vid, scope, community, options) -> Export:
    data = _written(_grids(store, vid, scope, community), "GPKG", ".gpkg", layer="grids")
    return Export(data, "application/geopackage+sqlite3", _name(vid, community, ".gpkg"))


@register_exporter("geojson")
def _geojson(store, vid, scope, community, options) -> Export:
    data = _written(_grids(store, vid, scope, community), "GeoJSON", ".geojson")
    return Export(data, "application/geo+json", _name(vid, community, ".geojson"))


@register_exporter("shp")
def _shp(store, vid, scope, community, options) -> Export:
    encoding = options.get("encoding") or "UTF-8"
    if encoding.upper() not in ("UTF-8", "GBK"):
        raise StoreError(f"encoding {encoding!r}: expected UTF-8 or GBK")
    grids = _grids(store, vid, scope, community).rename(columns=_SHP_NAMES)
    data = _written(grids, "ESRI Shapefile", ".shp", encoding=encoding.upper())
    return Export(data, "application/zip", _name(vid, community, "-shp.zip"))


@register_exporter("csv")
def _csv(store, vid, scope, community, options) -> Export:
    rows = store.building_grids(vid, scope=scope)
    if community is not None:
        rows = rows[rows["grid_code"].str[:12] == community]
    data = rows.to_csv(index=False).encode("utf-8")
    return Export(data, "text/csv; charset=utf-8", _name(vid, community, "-buildings.csv"))


def export_version(
    store: Store,
    version_id: int,
    fmt: str,
    *,
    scope: Scope,
    community: str | None = None,
    options: dict | None = None,
) -> Export:
    """Export ``version_id`` (inside ``scope``, of one ``community``) as ``fmt``; StoreError
    naming the formats when ``fmt`` has no exporter, or when the version does not exist."""
    if fmt not in EXPORTERS:
        raise StoreError(f"format {fmt!r}: expected one of {sorted(EXPORTERS)}")
    if not store.has_grid_version(version_id):
        raise StoreError(f"grid version {version_id} does not exist")
    return EXPORTERS[fmt](store, version_id, scope, community, options or {})
