"""The printed atlas (PDF) and the offline HTML map of a grid version, read from the store.

A thin adapter: it reads a version's grids, their buildings and grid workers, the streets and
the communities from the store and hands them to :mod:`geo.atlas`. ``wangge grids export
--format pdf|html`` calls it. Importing this module also registers the ``pdf`` and ``html``
exporters of :mod:`wangge.services.planner_export`, which the API's
``GET /api/v1/grid-versions/{id}/export`` serves (the API module imports this one for that).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from wangge.access import Scope
from wangge.services.planner_export import Export, register_exporter
from wangge.store import Store, StoreError

__all__ = ["ATLAS_FORMATS", "atlas_layers", "export_atlas", "export_html_map"]

log = logging.getLogger(__name__)

#: The formats of this module (the others are in :data:`wangge.services.grids.EXPORT_FORMATS`).
ATLAS_FORMATS = {"pdf": ".pdf", "html": ".html"}


def _version_meta(store: Store, version_id: int) -> dict:
    versions = store.grid_versions()
    row = versions[versions["version_id"] == version_id]
    if row.empty:
        raise StoreError(f"grid version {version_id} does not exist")
    v = row.iloc[0]
    county = store.admin_units("county", scope=Scope.county())
    return {
        "version": int(version_id),
        "date": str(v["published_at"] if pd.notna(v["published_at"]) else v["created_at"])[:10],
        "title": str(county["name"].iloc[0]) if len(county) else "",
        "status": str(v["status"]),
    }


def atlas_layers(
    store: Store, version_id: int, *, community: str | None = None, scope: Scope | None = None
) -> dict:
    """The layers of a version's atlas: ``grids`` (with ``worker``), ``buildings`` (with their
    ``grid_code``), ``streets``, ``communities`` and ``meta`` (version, date, county title).

    With ``community`` (a community code), only that community's grids and buildings; with
    ``scope``, only what it holds (default: the county)."""
    meta = _version_meta(store, version_id)
    scope = scope or Scope.county()
    grids = store.grids(version_id, scope=scope)
    communities = store.admin_units("community", scope=scope)
    if community:
        if not (communities["code"] == community).any():
            raise StoreError(f"community {community}: no such community")
        grids = grids[grids["community_code"] == community]
        communities = communities[communities["code"] == community]
    if grids.empty:
        where = f"community {community}" if community else "this scope"
        raise StoreError(f"{where}: no grids in version {version_id}")
    workers = store.workers(scope=scope)
    workers = workers[workers["active"].astype(int) == 1]
    names = workers.groupby("grid_code")["name"].agg(lambda s: "、".join(sorted(s)))
    worker = {str(k): str(v) for k, v in names.items()}
    grids = grids.assign(worker=grids["grid_code"].map(lambda c: worker.get(c, "")))
    buildings = store.buildings(scope=scope)
    if community:
        buildings = buildings[buildings["community_code"] == community]
    owner = store.building_grids(version_id, scope=scope).set_index("building_id")["grid_code"]
    buildings = buildings.assign(grid_code=buildings["building_id"].map(owner).fillna(""))
    bounds = tuple(float(b) for b in grids.total_bounds)
    streets = store.basemap_layer("roads", bbox=bounds)
    return {
        "grids": gpd.GeoDataFrame(grids.reset_index(drop=True), crs=grids.crs),
        "buildings": buildings.reset_index(drop=True),
        "streets": streets,
        "communities": communities.reset_index(drop=True),
        "meta": meta,
    }


def _out(out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def export_atlas(
    store: Store,
    version_id: int,
    out: str | Path,
    *,
    community: str | None = None,
    paper: str = "a4",
    language: str = "zh",
    progress: bool = False,
    scope: Scope | None = None,
) -> Path:
    """Write the printed atlas of ``version_id`` (one ``community`` or all, inside ``scope``)
    to ``out``."""
    from geo.atlas import atlas_pdf

    layers = atlas_layers(store, version_id, community=community, scope=scope)
    return atlas_pdf(
        layers["grids"],
        _out(out),
        meta=layers["meta"],
        buildings=layers["buildings"],
        streets=layers["streets"],
        communities=layers["communities"],
        paper=paper,
        language=language,
        progress=progress,
    )


def export_html_map(
    store: Store,
    version_id: int,
    out: str | Path,
    *,
    community: str | None = None,
    language: str = "zh",
    scope: Scope | None = None,
) -> Path:
    """Write the offline interactive map of ``version_id`` (one ``community`` or all, inside
    ``scope``) to ``out``."""
    from geo.atlas import write_html_map

    layers = atlas_layers(store, version_id, community=community, scope=scope)
    meta = layers["meta"]
    title = f"{meta['title']} · {'网格' if language == 'zh' else 'grids'} v{meta['version']}"
    return write_html_map(
        layers["grids"],
        _out(out),
        buildings=layers["buildings"],
        streets=layers["streets"],
        title=title,
        language=language,
    )


def _name(vid: int, community: str | None, suffix: str) -> str:
    return f"grids-v{vid}{'-' + community if community else ''}{suffix}"


def _options(options: dict) -> dict:
    paper = str(options.get("paper") or "a4").lower()
    language = str(options.get("lang") or options.get("language") or "zh")
    if paper not in ("a4", "a3"):
        raise StoreError(f"paper {paper!r}: expected a4 or a3")
    if language not in ("zh", "en"):
        raise StoreError(f"language {language!r}: expected zh or en")
    return {"paper": paper, "language": language}


@register_exporter("pdf")
def _pdf(store: Store, vid: int, scope: Scope, community: str | None, options: dict) -> Export:
    with tempfile.TemporaryDirectory() as tmp:
        path = export_atlas(
            store, vid, Path(tmp) / "atlas.pdf", community=community, scope=scope,
            **_options(options),
        )  # fmt: skip
        data = path.read_bytes()
    return Export(data, "application/pdf", _name(vid, community, "-atlas.pdf"))


@register_exporter("html")
def _html(store: Store, vid: int, scope: Scope, community: str | None, options: dict) -> Export:
    language = _options(options)["language"]
    with tempfile.TemporaryDirectory() as tmp:
        path = export_html_map(
            store, vid, Path(tmp) / "map.html", community=community, scope=scope,
            language=language,
        )  # fmt: skip
        data = path.read_bytes()
    return Export(data, "text/html; charset=utf-8", _name(vid, community, "-map.html"))
