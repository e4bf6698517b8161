"""Grid versions: divide the store's county into a new draft version with the grid engine, list,
publish and export versions. ``wangge grids`` and the planner's page call these functions; an
existing grid layer is adopted by :func:`wangge.ingest.grids.import_grids`.

The dashboard's map, its figures and the locating of new cases read the published version
(:meth:`wangge.store.Store.grids` with no version), so publishing is what puts a version in use.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from wangge.access import Scope
from wangge.store import Store, StoreError

__all__ = [
    "EXPORT_FORMATS",
    "export_grid_version",
    "grid_version_rows",
    "partition_store",
    "publish_grid_version",
]

log = logging.getLogger(__name__)

#: Export formats: name -> (GDAL driver, file suffix).
EXPORT_FORMATS = {
    "gpkg": ("GPKG", ".gpkg"),
    "geojson": ("GeoJSON", ".geojson"),
    "shp": ("ESRI Shapefile", ".shp"),
}

#: Shapefile field names are at most 10 characters.
_SHP_NAMES = {"community_code": "comm_code", "households": "households", "buildings": "buildings"}

_BARRIERS = ("roads", "water", "railways")


def _partition_inputs(store: Store, township: str | None):
    """Buildings, communities and barriers of the store (of one township with ``township``)."""
    communities = store.admin_units("community", scope=Scope.county())
    if township:
        communities = communities[communities["parent_code"] == township]
        if communities.empty:
            known = ", ".join(store.admin_units("township", scope=Scope.county())["code"]) or "none"
            raise StoreError(f"township {township}: no such township (townships: {known})")
    buildings = store.buildings(scope=Scope.county())
    buildings = buildings[buildings["community_code"].isin(communities["code"])]
    for column in ("special", "hamlet_id"):
        values = buildings[column].replace("", None)
        buildings = buildings.assign(**{column: values})
        if values.isna().all():
            buildings = buildings.drop(columns=column)
    # the stored ``kind`` is the class the engine weighs (highway, waterway, railway values)
    barriers = [b for b in (store.basemap_layer(name) for name in _BARRIERS) if len(b)]
    return buildings.reset_index(drop=True), communities.reset_index(drop=True), barriers


def partition_store(
    store: Store,
    *,
    township: str | None = None,
    min_households: int = 300,
    max_households: int = 500,
    author: str = "",
    comment: str = "",
    progress: bool = False,
) -> tuple[int, dict]:
    """Divide the store's county (or one ``township``) with the grid engine into a new draft
    version; return its id and the engine's report.

    With ``township``, the other townships' grids are copied from the published version, so
    that the draft is a whole county again.
    """
    from geo.partition import partition

    buildings, communities, barriers = _partition_inputs(store, township)
    if buildings.empty:
        raise StoreError("no buildings in the store; load a county with `wangge county import`")
    result = partition(
        buildings,
        households_column="households",
        communities=communities,
        community_id="code",
        barriers=barriers or None,
        min_households=min_households,
        max_households=max_households,
        progress=progress,
    )
    grids = result.grids.rename(columns={"community_id": "community_code"})
    ids = buildings["building_id"].to_numpy()[result.buildings["source_index"].to_numpy()]
    assignments = pd.DataFrame({"building_id": ids, "grid_code": result.buildings["grid_code"]})
    assignments = assignments[assignments["grid_code"].fillna("").ne("")]
    published = store.published_grid_version()
    if township and published is not None:
        prefix = township[:9]
        old = store.grids(published, scope=Scope.county())
        old = old[~old["community_code"].str.startswith(prefix)]
        grids = pd.concat([old.to_crs(grids.crs), grids], ignore_index=True)
        kept = store.building_grids(published, scope=Scope.county())
        kept = kept[~kept["grid_code"].str.startswith(prefix)]
        assignments = pd.concat([kept, assignments], ignore_index=True)
    vid = store.add_grid_version(
        gpd.GeoDataFrame(grids, crs=result.grids.crs),
        assignments,
        note=comment or f"grid engine{' on township ' + township if township else ''}",
        params={"min_households": min_households, "max_households": max_households},
        author=author,
    )
    return vid, result.report


def grid_version_rows(store: Store) -> list[dict]:
    """Every grid version as plain data: id, status, created_at, author, comment,
    published_at, grids."""
    versions = store.grid_versions()
    return [
        {
            "id": int(v.version_id),
            "status": v.status,
            "created_at": v.created_at,
            "author": v.author,
            "comment": v.note,
            "published_at": v.published_at,
            "grids": int(v.grids),
        }
        for v in versions.itertuples()
    ]


def publish_grid_version(store: Store, version_id: int) -> None:
    """Publish ``version_id``: the dashboard and new cases use it from now on; the previous
    published version is archived. StoreError when there is no such version."""
    store.publish_grid_version(version_id)


def export_grid_version(
    store: Store, version_id: int, fmt: str, out: str | Path, *, encoding: str | None = None
) -> Path:
    """Write the grids of ``version_id`` to ``out`` as ``fmt`` (gpkg, geojson or shp; the
    Shapefile's DBF in ``encoding``, e.g. GBK, with a .cpg saying so). Returns the path."""
    if fmt not in EXPORT_FORMATS:
        raise StoreError(f"format {fmt!r}: expected one of {sorted(EXPORT_FORMATS)}")
    if not store.has_grid_version(version_id):
        raise StoreError(f"grid version {version_id} does not exist")
    driver, _suffix = EXPORT_FORMATS[fmt]
    grids = store.grids(version_id, scope=Scope.county())
    kwargs: dict = {}
    if fmt == "shp":
        grids = grids.rename(columns=_SHP_NAMES)
        kwargs["encoding"] = encoding or "UTF-8"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    pyogrio.write_dataframe(
        grids, out, driver=driver, layer="grids" if fmt == "gpkg" else None, **kwargs
    )
    return out
