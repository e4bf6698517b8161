"""``wangge county import``: a real county's hierarchy, buildings and reference layers, read
from its own GIS files, validated as a whole, and stored in one transaction.

The hierarchy is county -> townships (乡镇/街道) -> communities or administrative villages
(社区/行政村), with 12-digit statistical area codes: a township's code starts with the county's
6 digits, a community's with its township's first 9 (which is how each community finds its
township). Files are GeoPackage, GeoJSON or Shapefile (DBF in GBK/GB18030 or UTF-8), in any
CRS; ``gcj02`` converts coordinates digitised on Gaode/Tencent maps to WGS84.

Before anything is stored, everything is checked and every problem goes into one report
(:class:`wangge.ingest.problems.ImportReport`), naming the file, the feature and the field:

- codes: missing, not 12 digits, duplicate, not nesting (county -> township -> community);
- names missing; a community kind that is neither urban nor rural;
- geometries: empty, invalid, not polygons;
- communities outside or across their township; overlaps between townships or between
  communities, gaps between townships and between the communities of a township, each above
  ``tolerance_m2`` (square metres, measured in a metric CRS: :func:`geo.crs.metric_crs`);
- buildings outside every community, duplicate building ids, bad household counts.

Any problem refuses the whole import (:class:`wangge.ingest.problems.ImportRefused`) and the
store is not touched. Households come from ``households_column`` when given (blank cells
estimated), else from the grid engine's documented rules
(:class:`geo.partition.households.HouseholdRules`). A second import replaces the county
atomically (:meth:`wangge.store.Store.replace_county`); cases, grid versions and users stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_crs
from geo.errors import InputError
from geo.partition.contract import owner_communities
from geo.partition.households import building_households
from wangge import clock
from wangge.ingest import topology
from wangge.ingest.layers import (
    WGS84,
    LayerOptions,
    check_columns,
    check_geometries,
    clean_codes,
    code_problem,
    describe,
    read_layer,
)
from wangge.ingest.problems import ImportRefused, ImportReport
from wangge.store import Store

__all__ = [
    "COMMUNITY_KINDS",
    "DEFAULT_TOLERANCE_M2",
    "REFERENCE_LAYERS",
    "County",
    "CountyFiles",
    "import_county",
    "read_county",
]

#: Overlaps and gaps up to this area (m2) are digitising noise, not problems.
DEFAULT_TOLERANCE_M2 = 100.0

#: Values accepted in the community kind column -> the stored kind.
COMMUNITY_KINDS = {
    "urban": "urban",
    "rural": "rural",
    "社区": "urban",
    "居委会": "urban",
    "社区居委会": "urban",
    "村": "rural",
    "行政村": "rural",
    "村委会": "rural",
    "村民委员会": "rural",
}

#: Reference layers a county may bring: layer -> class columns looked for, in order.
REFERENCE_LAYERS = {
    "roads": ("highway", "road_class", "fclass", "kind", "type"),
    "water": ("waterway", "natural", "water", "fclass", "kind", "type"),
    "railways": ("railway", "fclass", "kind", "type"),
}

_BUILDING_IDS = ("building_id", "id", "osm_id", "fid")
_FLOORS = ("floors", "building:levels", "levels", "storeys")
_KINDS = ("kind", "building", "building_type", "type")


@dataclass(frozen=True)
class CountyFiles:
    """The files of a county and the columns to read (the options of ``wangge county import``).

    ``townships``, ``communities``, ``buildings``, ``roads``, ``water`` and ``railways`` are
    ``FILE[:LAYER]``; ``county_code`` has 6 digits.
    """

    county_code: str
    county_name: str
    townships: str
    communities: str
    township_code: str = "code"
    township_name: str = "name"
    community_code: str = "code"
    community_name: str = "name"
    community_kind: str | None = None
    buildings: str | None = None
    households_column: str | None = None
    building_id: str | None = None
    references: dict[str, str] = field(default_factory=dict)
    options: LayerOptions = field(default_factory=LayerOptions)
    tolerance_m2: float = DEFAULT_TOLERANCE_M2


@dataclass
class County:
    """A validated county, ready for :meth:`wangge.store.Store.replace_county` (all in WGS84)."""

    units: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    layers: dict[str, gpd.GeoDataFrame]
    meta: dict[str, str]
    report: ImportReport


def _labels(codes: pd.Series) -> pd.Series:
    """How features are named in messages: ``code X`` when the code is unique, else
    ``feature N`` (1-based, in file order)."""
    unique = codes.ne("") & ~codes.duplicated(keep=False)
    numbers = pd.Series(np.arange(1, len(codes) + 1), index=codes.index).astype(str)
    return ("code " + codes).where(unique, "feature " + numbers)


def _kinds(frame: pd.DataFrame, column: str | None, level: str, label: str, report) -> pd.Series:
    """Stored kinds: communities from ``column`` (urban/rural, 社区/行政村...; urban when no
    column), townships from their names (街道 subdistrict, 镇 town, 乡 township)."""
    if level == "township":
        names = frame["name"]
        return pd.Series(
            np.select(
                [names.str.endswith("街道"), names.str.endswith("镇"), names.str.endswith("乡")],
                ["subdistrict", "town", "township"],
                "",
            ),
            index=frame.index,
        )
    if column is None:
        return pd.Series("urban", index=frame.index)
    raw = frame["kind_raw"]
    kinds = raw.str.lower().map(COMMUNITY_KINDS)
    for i in np.flatnonzero(kinds.isna().to_numpy()):
        report.add(
            label,
            frame["feature"].iloc[i],
            column,
            f"kind {raw.iloc[i]!r} is neither urban nor rural "
            f"(accepted: {', '.join(COMMUNITY_KINDS)})",
        )
    return kinds.fillna("")


def _read_units(
    spec: str, columns: tuple[str, str, str | None], level: str, files: CountyFiles, report
) -> gpd.GeoDataFrame | None:
    """Townships or communities as code, name, kind, feature (its label), ok (usable geometry)."""
    code_col, name_col, kind_col = columns
    frame = read_layer(spec, files.options, report)
    label = describe(spec)
    if frame is None or not check_columns(frame, label, [code_col, name_col, kind_col], report):
        return None
    codes = clean_codes(frame[code_col])
    units = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": frame[name_col].fillna("").astype(str).str.strip(),
            "feature": _labels(codes),
            "kind_raw": frame[kind_col].fillna("").astype(str).str.strip() if kind_col else "",
        },
        geometry=frame.geometry,
        crs=WGS84,
    )
    for unit in units.itertuples():
        problem = code_problem(unit.code, 12)
        if problem:
            report.add(label, unit.feature, code_col, problem)
        elif level == "township" and not unit.code.startswith(files.county_code):
            report.add(
                label,
                unit.feature,
                code_col,
                f"code {unit.code} does not start with the county code {files.county_code}",
            )
        if not unit.name:
            report.add(label, unit.feature, name_col, "the name is missing")
    for code, rows in units[units["code"].ne("")].groupby("code").groups.items():
        if len(rows) > 1:
            where = " and ".join(str(i + 1) for i in rows)
            report.add(label, f"code {code}", code_col, f"duplicate code: features {where}")
    units["kind"] = _kinds(units, kind_col, level, label, report)
    units["ok"] = check_geometries(units, label, units["feature"], report)
    return units.drop(columns="kind_raw")


def _nest(townships: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, files, report) -> None:
    """Each community's township by its code's first 9 digits (``parent_code``); a code that
    nests in no township, or that is a township's, is a problem."""
    label = describe(files.communities)
    by_prefix = {c[:9]: c for c in townships["code"] if len(c) == 12}
    township_codes = set(townships["code"])
    parents = []
    for unit in communities.itertuples():
        parent = by_prefix.get(unit.code[:9], "") if len(unit.code) == 12 else ""
        if len(unit.code) == 12 and unit.code.isdigit():
            if unit.code in township_codes:
                report.add(
                    label, unit.feature, files.community_code, "the code is also a township's code"
                )
            elif not parent:
                report.add(
                    label,
                    unit.feature,
                    files.community_code,
                    f"code {unit.code} does not nest: its first 9 digits {unit.code[:9]} are no "
                    f"township's (townships: {', '.join(sorted(by_prefix.values())) or 'none'})",
                )
        parents.append(parent)
    communities["parent_code"] = parents


def _households(frame, files, footprint, ids, report) -> pd.Series:
    label = describe(files.buildings)
    try:
        hh = building_households(
            frame, households_column=files.households_column, footprint_m2=footprint, ids=ids
        )
    except InputError as exc:
        report.add(label, "", files.households_column or "", str(exc).removeprefix("buildings: "))
        return pd.Series(0, index=frame.index)
    estimated = int(hh["households_estimated"].sum())
    if estimated:
        how = (
            f"blank cells of {files.households_column!r}"
            if files.households_column
            else "no households column"
        )
        report.note(
            f"{label}: households estimated for {estimated:,} building(s) ({how}) by the grid "
            "engine's rules (geo.partition.households.HouseholdRules)"
        )
    return hh["households"]


def _building_ids(frame: gpd.GeoDataFrame, files: CountyFiles, report) -> pd.Series:
    label = describe(files.buildings)
    column = files.building_id or next((c for c in _BUILDING_IDS if c in frame.columns), None)
    if column is None:
        report.note(f"{label}: no id column; buildings numbered B0000001, B0000002, ...")
        return pd.Series([f"B{i + 1:07d}" for i in range(len(frame))], index=frame.index)
    ids = clean_codes(frame[column])
    for i in np.flatnonzero(ids.eq("").to_numpy()):
        report.add(label, f"feature {i + 1}", column, "the building id is missing")
    dup = ids.ne("") & ids.duplicated(keep=False)
    for value in sorted(set(ids[dup])):
        report.add(label, f"{column} {value}", column, "duplicate building id")
    return ids


def _first(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    return next((c for c in names if c in frame.columns), None)


def _read_buildings(files: CountyFiles, communities, report) -> gpd.GeoDataFrame | None:
    """Buildings with building_id, community_code, kind, floors, households and name."""
    label = describe(files.buildings)
    frame = read_layer(files.buildings, files.options, report)
    if frame is None or not check_columns(
        frame, label, [files.households_column, files.building_id], report
    ):
        return None
    ids = _building_ids(frame, files, report)
    ok = check_geometries(frame, label, "building " + ids, report)
    geoms = np.where(ok, frame.geometry.to_numpy(), None)
    metric = gpd.GeoSeries(geoms, crs=WGS84).to_crs(metric_crs(frame[ok] if ok.any() else frame))
    community = np.full(len(frame), "", dtype=object)
    if communities is not None and ok.any():
        usable = communities[communities["ok"]]
        points = shapely.point_on_surface(geoms[ok])
        hit, unit = shapely.STRtree(usable.geometry.to_numpy()).query(points, "intersects")
        found = np.full(int(ok.sum()), "", dtype=object)
        found[hit[::-1]] = usable["code"].to_numpy()[unit[::-1]]
        community[ok] = found
        for i in np.flatnonzero(ok & (community == "")):
            report.add(label, f"building {ids.iloc[i]}", "geometry", "outside every community")
        _straddling(metric, usable, community, ids, report)
    floors_col, kind_col = _first(frame, _FLOORS), _first(frame, _KINDS)
    floors = pd.to_numeric(frame[floors_col], errors="coerce") if floors_col else 0
    return gpd.GeoDataFrame(
        {
            "building_id": ids,
            "community_code": community,
            "kind": frame[kind_col].fillna("").astype(str) if kind_col else "",
            "floors": pd.Series(floors, index=frame.index).fillna(0).round().astype(int),
            "households": _households(frame, files, metric.area.fillna(0).to_numpy(), ids, report),
            "name": frame["name"].fillna("").astype(str) if "name" in frame else "",
        },
        geometry=frame.geometry,
        crs=WGS84,
    )


def _straddling(
    footprints: gpd.GeoSeries, communities: gpd.GeoDataFrame, community: np.ndarray, ids, report
) -> None:
    """Note the buildings across a community line (count and ids) and give each to the
    community holding most of it, as the grid engine does (:mod:`geo.partition.contract`)."""
    owner, straddling = owner_communities(
        footprints.to_numpy(), communities.geometry.to_crs(footprints.crs).to_numpy()
    )
    take = straddling & (owner >= 0)
    community[take] = communities["code"].to_numpy()[owner[take]]
    if straddling.any():
        shown = [str(i) for i in np.asarray(ids)[straddling]]
        report.note(
            f"{int(straddling.sum())} building(s) straddle a community line; each belongs "
            "wholly to the community holding most of it, and its grid will take the whole "
            f"footprint: {', '.join(shown[:50])}{' ...' if len(shown) > 50 else ''}"
        )


def _read_reference(name: str, spec: str, files: CountyFiles, report) -> gpd.GeoDataFrame | None:
    """A reference layer as name, kind (its class column, e.g. ``highway``), geometry."""
    frame = read_layer(spec, files.options, report)
    if frame is None:
        return None
    label = describe(spec)
    features = pd.Series([f"feature {i + 1}" for i in range(len(frame))])
    check_geometries(frame, label, features, report, polygons=False)
    kind_col = _first(frame, REFERENCE_LAYERS[name])
    return gpd.GeoDataFrame(
        {
            "name": frame["name"].fillna("").astype(str) if "name" in frame else "",
            "kind": frame[kind_col].fillna("").astype(str) if kind_col else "",
        },
        geometry=frame.geometry,
        crs=WGS84,
    )


def _units(files: CountyFiles, townships, communities) -> gpd.GeoDataFrame:
    """The hierarchy as :meth:`wangge.store.Store.replace_admin_units` takes it."""
    county = gpd.GeoDataFrame(
        {
            "code": [files.county_code + "000000"],
            "name": [files.county_name],
            "kind": ["county"],
            "parent_code": [None],
        },
        geometry=[shapely.union_all(townships.geometry.to_numpy())],
        crs=WGS84,
    ).assign(level="county")
    townships = townships.assign(level="township", parent_code=county["code"].iloc[0])
    communities = communities.assign(level="community")
    cols = ["code", "name", "level", "kind", "parent_code", "geometry"]
    return gpd.GeoDataFrame(
        pd.concat([county[cols], townships[cols], communities[cols]], ignore_index=True),
        crs=WGS84,
    )


def _check_county(files: CountyFiles, report: ImportReport) -> None:
    problem = code_problem(files.county_code, 6)
    if problem:
        report.add("--county-code", "", "", problem)
    if not files.county_name.strip():
        report.add("--county-name", "", "", "the county name is missing")
    unknown = sorted(set(files.references) - set(REFERENCE_LAYERS))
    if unknown:
        report.add(
            "", "", "", f"unknown reference layer(s) {unknown}; expected {list(REFERENCE_LAYERS)}"
        )


def read_county(files: CountyFiles) -> County:
    """Read and validate a county; :class:`ImportRefused` with every problem when any.

    Examples
    --------
    See ``tests/test_ingest_county.py`` and the README's "Bring your own county".
    """
    report = ImportReport("county import")
    _check_county(files, report)
    townships = _read_units(
        files.townships, (files.township_code, files.township_name, None), "township", files, report
    )
    communities = _read_units(
        files.communities,
        (files.community_code, files.community_name, files.community_kind),
        "community",
        files,
        report,
    )
    if townships is not None and communities is not None:
        _nest(townships, communities, files, report)
        topology.check(townships, communities, files, report)
    buildings = None
    if files.buildings:
        buildings = _read_buildings(files, communities, report)
    layers = {
        name: _read_reference(name, spec, files, report) for name, spec in files.references.items()
    }
    if not report.ok or townships is None or communities is None:
        raise ImportRefused(report)
    report.note(f"overlaps and gaps up to {files.tolerance_m2:g} m2 are tolerated")
    if buildings is None:
        buildings = gpd.GeoDataFrame(
            {"building_id": [], "households": []}, geometry=gpd.GeoSeries([], crs=WGS84)
        )
    meta = {
        "county_code": files.county_code,
        "county_name": files.county_name,
        "county_imported_at": clock.utc_now(),
    }
    units = _units(files, townships, communities)
    return County(
        units, buildings, {k: v for k, v in layers.items() if v is not None}, meta, report
    )


def import_county(store: Store, files: CountyFiles) -> ImportReport:
    """Validate the county in ``files`` and store it in one transaction; return the report.

    Raises :class:`ImportRefused` (nothing stored) when any problem is found.
    """
    county = read_county(files)
    store.migrate()
    counts = store.replace_county(county.units, county.buildings, county.layers, meta=county.meta)
    report = county.report
    report.counts = {
        "townships": int((county.units["level"] == "township").sum()),
        "communities": int((county.units["level"] == "community").sum()),
        "buildings": counts["buildings"],
        "households": int(county.buildings["households"].sum()),
        **{name: counts[name] for name in county.layers},
    }
    published = store.published_grid_version()
    if published is not None:
        report.note(
            f"grid version {published} stays published (cases keep their grids); divide the "
            "new county with `wangge grids partition` and publish the new version"
        )
    return report
