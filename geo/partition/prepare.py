"""Preparation of the engine's inputs: repaired buildings, households, communities, barriers.

The first stage of :func:`geo.partition.partition`, after validation: footprints repaired and
projected to a metric CRS, households per building (estimated duplicates count zero),
community polygons (or one area around all buildings), each building's community and the
barrier lines. The result is one :class:`Prepared` that the per-community jobs
(:mod:`geo.partition.community`) and the assembly of the result (:mod:`geo.partition.quality`)
read.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.crs import metric_crs
from geo.errors import GeoWarning
from geo.partition.contract import owner_communities
from geo.partition.households import HouseholdRules, building_households
from geo.partition.inputs import (
    building_id_column,
    feature_ids,
    geom_keys,
    previous_assignment,
    repair_geometries,
)
from geo.partition.tessellation import barrier_lines

__all__ = [
    "WHOLE_AREA_ID",
    "Prepared",
    "prepare_barriers",
    "prepare_buildings",
    "prepare_communities",
    "prepare_previous",
]

#: The community id of the single area used when no communities are given.
WHOLE_AREA_ID = "000000000000"

# warnings point at the caller of partition(): prepare_* <- partition <- caller
_STACKLEVEL = 3


@dataclass
class Prepared:
    """The inputs of one partition run, validated, repaired and in a metric CRS."""

    buildings: gpd.GeoDataFrame
    """The buildings as given (input CRS)."""
    mcrs: CRS
    """The metric CRS of the work."""
    present: np.ndarray
    """Buildings with a usable footprint."""
    footprints: gpd.GeoSeries
    """Footprints in the metric CRS (None where not present)."""
    households: np.ndarray
    """Households per building (0 for duplicates whose households were estimated)."""
    estimated: np.ndarray
    """Whether a building's households were estimated."""
    lo: int
    hi: int
    out_crs: Any = None
    comm_ids: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    comm_geo: gpd.GeoSeries | None = None
    kinds: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    bcomm: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    """Position of each building's community (-1: none)."""
    straddling: np.ndarray = field(default_factory=lambda: np.array([], dtype=bool))
    """Buildings whose footprint crosses a community line (they belong wholly to one)."""
    lines: gpd.GeoDataFrame | None = None
    previous: Any = None
    prev_code: np.ndarray | None = None
    problems: dict = field(default_factory=dict)
    """Features left out or repaired, for the report."""


def prepare_buildings(
    buildings: gpd.GeoDataFrame,
    *,
    households_column: str | None,
    rules: HouseholdRules | None,
    lo: int,
    hi: int,
    output_crs: Any = None,
) -> Prepared:
    """Repair and project the footprints, drop duplicates and count households."""
    bid_col = building_id_column(buildings)
    geoms, brep = repair_geometries(buildings, "buildings", bid_col, stacklevel=_STACKLEVEL + 1)
    present = np.array([g is not None for g in geoms])
    # duplicates: the same footprint twice
    dup = _duplicates(np.where(present, geoms, shapely.Polygon()), buildings.crs.is_geographic)
    dup &= present
    problems: dict = {"buildings": {k: v for k, v in brep.items()}}
    mcrs = metric_crs(buildings)
    bgeo = gpd.GeoSeries(geoms, crs=buildings.crs).to_crs(mcrs)  # None where not present
    hh = building_households(
        buildings,
        households_column=households_column,
        rules=rules,
        footprint_m2=bgeo.area.fillna(0).to_numpy(),
        ids=buildings[bid_col] if bid_col else None,
    )
    households = hh["households"].to_numpy().copy()
    estimated = hh["households_estimated"].to_numpy()
    # households out = households in: a duplicate keeps its given households (it shares the
    # first one's cell and grid); an estimate would count the same dwellings twice
    households[dup & estimated] = 0
    if dup.any():
        warnings.warn(
            f"buildings: {int(dup.sum())} duplicate footprint(s) (same geometry as an earlier "
            "feature) share the first one's grid; given households are kept, estimated ones "
            f"count zero (id(s) {feature_ids(buildings, dup, bid_col, 50)})",
            GeoWarning,
            stacklevel=_STACKLEVEL,
        )
        problems["buildings"]["duplicates"] = np.flatnonzero(dup).tolist()
    return Prepared(
        buildings=buildings,
        mcrs=mcrs,
        present=present,
        footprints=bgeo,
        households=households,
        estimated=estimated,
        lo=lo,
        hi=hi,
        out_crs=output_crs if output_crs is not None else buildings.crs,
        problems=problems,
    )


def _duplicates(geoms: np.ndarray, geographic: bool) -> np.ndarray:
    """Footprints with the same key (:func:`geom_keys`) as an earlier one.

    Equal keys need equal rounded bounds, so keys are made only where those repeat (every
    key: 0.45 s at 100,000 buildings).
    """
    bounds = np.round(shapely.bounds(geoms), 7 if geographic else 2)
    maybe = np.flatnonzero(pd.DataFrame(bounds).duplicated(keep=False).to_numpy())
    dup = np.zeros(len(geoms), bool)
    if len(maybe):
        keys = geom_keys(geoms[maybe], bool(geographic))
        dup[maybe] = pd.Series(keys).duplicated(keep="first").to_numpy()
    return dup


def prepare_communities(
    prep: Prepared,
    communities: gpd.GeoDataFrame | None,
    *,
    community_id: str | None,
    community_kind: str,
) -> None:
    """Set the metric community polygons, ids and kinds of ``prep``, and each building's one.

    Without communities the convex hull of the buildings (plus 30 m) is one urban area.
    """
    mcrs, bgeo = prep.mcrs, prep.footprints
    if communities is not None:
        cgeoms, crep = repair_geometries(
            communities, "communities", community_id, stacklevel=_STACKLEVEL + 1
        )
        if crep:
            prep.problems["communities"] = crep
        cm = gpd.GeoSeries(cgeoms, crs=communities.crs).to_crs(mcrs)
        keepc = ~cm.isna().to_numpy()
        prep.comm_ids = communities[community_id].astype(str).to_numpy()[keepc]
        prep.comm_geo = gpd.GeoSeries(cm.to_numpy()[keepc], crs=mcrs)
        if community_kind in communities.columns:
            prep.kinds = (
                communities[community_kind].astype("string").fillna("urban").str.lower()
            ).to_numpy()[keepc]
        else:
            prep.kinds = np.full(len(prep.comm_ids), "urban", dtype=object)
    else:
        # the hull of the footprints' vertices: a union of 100k footprints took seconds
        coords = shapely.get_coordinates(bgeo.dropna().to_numpy())
        # one line through them has the same hull without a point object per vertex (a
        # multipoint of 500,000 vertices took 0.4 s)
        along = shapely.linestrings(coords) if len(coords) >= 2 else shapely.multipoints(coords)
        hull = shapely.convex_hull(along).buffer(30)
        prep.comm_ids = np.array([WHOLE_AREA_ID], dtype=object)
        prep.comm_geo = gpd.GeoSeries([hull], crs=mcrs)
        prep.kinds = np.array(["urban"], dtype=object)
    prep.bcomm = _building_communities(prep)


def _building_communities(prep: Prepared) -> np.ndarray:
    """The community holding most of each building (-1: none, with a warning).

    See :func:`geo.partition.contract.owner_communities`; the buildings across a community
    line are kept in ``prep.straddling``.
    """
    buildings, present = prep.buildings, prep.present
    assert prep.comm_geo is not None
    fp = prep.footprints.to_numpy()  # None where not present
    bcomm, prep.straddling = owner_communities(fp, prep.comm_geo.to_numpy())
    outside = present & (bcomm < 0)
    if outside.any():
        bid_col = building_id_column(buildings)
        warnings.warn(
            f"buildings: {int(outside.sum())} building(s) lie outside every community and get "
            f"no grid (id(s) {feature_ids(buildings, outside, bid_col, 50)})",
            GeoWarning,
            stacklevel=_STACKLEVEL + 1,
        )
        prep.problems["buildings"]["outside_communities"] = np.flatnonzero(outside).tolist()
    return bcomm


def prepare_barriers(prep: Prepared, barrier_frames: Iterable[gpd.GeoDataFrame]) -> None:
    """Set the barrier lines of ``prep``: all layers in the metric CRS, invalid ones repaired."""
    mcrs = prep.mcrs
    bar = [b.to_crs(mcrs) for b in barrier_frames]
    bar_all = (
        gpd.GeoDataFrame(pd.concat(bar, ignore_index=True), geometry="geometry", crs=mcrs)
        if bar
        else None
    )
    if bar_all is not None:
        bar_all = bar_all[~bar_all.geometry.isna() & ~bar_all.geometry.is_empty]
        bad_bar = ~bar_all.geometry.is_valid
        if bad_bar.any():
            bar_all = bar_all.copy()
            bar_all.loc[bad_bar, "geometry"] = shapely.make_valid(
                bar_all.geometry[bad_bar].to_numpy()
            )
    lines = barrier_lines(bar_all) if bar_all is not None else barrier_lines(None)
    if lines.crs is None:
        lines = lines.set_crs(mcrs)
    prep.lines = lines


def prepare_previous(prep: Prepared, previous: Any) -> None:
    """Set the previous run of ``prep`` and each building's previous grid code."""
    prep.previous = previous
    if previous is not None:
        prep.prev_code, _ = previous_assignment(
            previous, prep.buildings, prep.present, prep.buildings.crs
        )
