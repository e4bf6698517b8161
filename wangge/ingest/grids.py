"""``wangge grids import``: adopt an existing grid layer (多网合一: the grids another department
already drew) as a new draft grid version.

Each grid needs a code (``code_column``) and a polygon; its community is ``community_column``
when given, else the community whose 12-digit code starts the grid code, else the community it
overlaps most. Every building of the store is assigned to the grid it overlaps most.

Refused (nothing stored, every problem in one report): the file unreadable or without the
columns, codes missing or duplicate, geometries empty, invalid or not polygons, grids outside
every community, unknown community codes. Stored as a draft with warnings in the report:
buildings in no grid, grids overlapping each other or crossing their community's boundary
above the tolerance, grids without buildings, urban grids outside the household band.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_crs
from wangge.access import Scope
from wangge.ingest import topology
from wangge.ingest.layers import (
    WGS84,
    LayerOptions,
    check_columns,
    check_geometries,
    clean_codes,
    describe,
    read_layer,
)
from wangge.ingest.problems import ImportRefused, ImportReport
from wangge.store import Store

__all__ = ["GridFiles", "import_grids"]


@dataclass(frozen=True)
class GridFiles:
    """A grid layer to adopt (``FILE[:LAYER]``) and how to read it."""

    source: str
    code_column: str
    community_column: str | None = None
    options: LayerOptions = LayerOptions()
    tolerance_m2: float = 100.0
    min_households: int = 300
    max_households: int = 500


def _communities_of(grids, communities, files: GridFiles, label: str, report) -> np.ndarray:
    """The community code of each grid (see the module's rules); problems for the others."""
    known = set(communities["code"])
    out = np.full(len(grids), "", dtype=object)
    if files.community_column:
        given = clean_codes(grids["community_given"])
        for i, code in enumerate(given):
            if code in known:
                out[i] = code
            else:
                report.add(
                    label,
                    grids["feature"].iloc[i],
                    files.community_column,
                    f"no community {code!r}",
                )
        return out
    prefix = grids["code"].str[:12]
    out[prefix.isin(known).to_numpy()] = prefix[prefix.isin(known)].to_numpy()
    todo = np.flatnonzero(out == "")
    cgeoms = communities.geometry.to_numpy()
    g, c = shapely.STRtree(cgeoms).query(grids.geometry.to_numpy()[todo], "intersects")
    areas = shapely.area(shapely.intersection(grids.geometry.to_numpy()[todo[g]], cgeoms[c]))
    best = (
        pd.DataFrame({"g": g, "c": c, "a": areas})
        .sort_values("a")
        .drop_duplicates("g", keep="last")
    )
    best = best[best["a"] > 0]
    out[todo[best["g"].to_numpy()]] = communities["code"].to_numpy()[best["c"].to_numpy()]
    for i in np.flatnonzero(out == ""):
        report.add(label, grids["feature"].iloc[i], "geometry", "outside every community")
    return out


def _read(files: GridFiles, store: Store, report: ImportReport):
    label = describe(files.source)
    frame = read_layer(files.source, files.options, report)
    if frame is None or not check_columns(
        frame, label, [files.code_column, files.community_column], report
    ):
        raise ImportRefused(report)
    codes = clean_codes(frame[files.code_column])
    grids = gpd.GeoDataFrame(
        {"code": codes, "feature": "grid " + codes},
        geometry=frame.geometry,
        crs=WGS84,
    )
    if files.community_column:
        grids["community_given"] = frame[files.community_column]
    for i in np.flatnonzero(codes.eq("").to_numpy()):
        grids.loc[i, "feature"] = f"feature {i + 1}"
        report.add(label, f"feature {i + 1}", files.code_column, "the grid code is missing")
    for code in sorted(set(codes[codes.ne("") & codes.duplicated(keep=False)])):
        report.add(label, f"grid {code}", files.code_column, "duplicate grid code")
    check_geometries(grids, label, grids["feature"], report)
    communities = store.admin_units("community", scope=Scope.county())
    if communities.empty:
        report.add("", "", "", "the store holds no county; run `wangge county import` first")
    if not report.ok:
        raise ImportRefused(report)
    grids["community_code"] = _communities_of(grids, communities, files, label, report)
    if not report.ok:
        raise ImportRefused(report)
    return grids, communities


def _assign(grids_m: gpd.GeoDataFrame, buildings_m: gpd.GeoDataFrame) -> np.ndarray:
    """Index of the grid each building overlaps most (-1: none)."""
    bgeoms, ggeoms = buildings_m.geometry.to_numpy(), grids_m.geometry.to_numpy()
    b, g = shapely.STRtree(ggeoms).query(bgeoms, "intersects")
    areas = shapely.area(shapely.intersection(bgeoms[b], ggeoms[g]))
    best = pd.DataFrame({"b": b, "g": g, "a": areas}).sort_values("a", kind="stable")
    best = best.drop_duplicates("b", keep="last")
    out = np.full(len(bgeoms), -1, dtype=np.int64)
    out[best["b"].to_numpy()] = best["g"].to_numpy()
    return out


def _warnings(grids_m, communities_m, unassigned, label: str, files: GridFiles, report) -> None:
    tol = files.tolerance_m2
    warn = ImportReport("warnings")
    topology.overlaps(grids_m, label, tol, warn, "grids")
    by_code = dict(zip(communities_m["code"], communities_m.geometry, strict=True))
    for grid in grids_m.itertuples():
        outside = (
            grid.geometry.area
            - shapely.intersection(grid.geometry, by_code[grid.community_code]).area
        )
        if outside > tol:
            warn.add(
                label,
                grid.feature,
                "geometry",
                f"crosses the boundary of community {grid.community_code}: {outside:,.0f} m2 "
                f"outside it (tolerance {tol:g} m2)",
            )
    if len(unassigned):
        shown = ", ".join(map(str, unassigned[:20])) + (" ..." if len(unassigned) > 20 else "")
        warn.add("", "", "", f"{len(unassigned):,} building(s) lie in no grid: {shown}")
    for p in warn.problems:
        report.note(f"warning: {p}")


def import_grids(
    store: Store, files: GridFiles, *, author: str = "", comment: str = ""
) -> tuple[int, ImportReport]:
    """Adopt the grid layer in ``files`` as a new draft version; return its id and the report.

    Raises :class:`ImportRefused` (nothing stored) when a problem is found.
    """
    report = ImportReport("grid import")
    label = describe(files.source)
    grids, communities = _read(files, store, report)
    crs = metric_crs(grids)
    grids_m, communities_m = grids.to_crs(crs), communities.to_crs(crs)
    buildings = store.buildings(scope=Scope.county())
    owner = _assign(grids_m, buildings.to_crs(crs))
    assigned = owner >= 0
    households = np.bincount(
        owner[assigned], buildings["households"].to_numpy()[assigned], len(grids)
    )
    counts = np.bincount(owner[assigned], minlength=len(grids))
    kinds = dict(zip(communities["code"], communities["kind"], strict=True))
    kind = grids["community_code"].map(kinds).fillna("urban").replace("", "urban")
    band = (households >= files.min_households) & (households <= files.max_households)
    flags = np.where(counts == 0, "empty", np.where((kind == "urban") & ~band, "out-of-band", ""))
    _warnings(
        grids_m, communities_m, buildings["building_id"].to_numpy()[~assigned], label, files, report
    )
    table = gpd.GeoDataFrame(
        {
            "grid_code": grids["code"],
            "community_code": grids["community_code"],
            "households": households.astype(int),
            "buildings": counts.astype(int),
            "kind": kind,
            "flags": flags,
        },
        geometry=grids.geometry,
        crs=WGS84,
    )
    assignments = pd.DataFrame(
        {
            "building_id": buildings["building_id"].to_numpy()[assigned],
            "grid_code": grids["code"].to_numpy()[owner[assigned]],
        }
    )
    vid = store.add_grid_version(
        table,
        assignments,
        note=comment or f"adopted from {label}",
        params={"min_households": files.min_households, "max_households": files.max_households},
        author=author,
    )
    report.counts = {"grids": len(table), "buildings assigned": int(assigned.sum())}
    return vid, report
