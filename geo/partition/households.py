"""Households per building: taken from a column, or estimated with documented rules.

The estimate is gross floor area divided by a gross area per dwelling:

    households = round(footprint_m2 * floors * residential_share / m2_per_dwelling)

with ``floors`` from a floors/levels column, else ``height / metres_per_floor``, else a
default by building type. Non-residential types (schools, garages, churches, industry...) get
zero, detached houses one dwelling per floor up to ``house_max``, and any residential building
at least one. Every rule is a field of :class:`HouseholdRules`; the output says which values
were estimated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InputError

__all__ = ["HouseholdRules", "building_households"]

_TYPE_COLUMNS = ("building", "building_type", "type", "kind_detail", "kind", "use")
_FLOOR_COLUMNS = ("floors", "building:levels", "levels", "storeys", "num_floors")
_HEIGHT_COLUMNS = ("height_m", "height")


@dataclass(frozen=True)
class HouseholdRules:
    """Rules for estimating households when no household count is given."""

    m2_per_dwelling: float = 90.0
    """Gross floor area per dwelling (m2), common areas included."""
    metres_per_floor: float = 3.0
    residential_share: float = 1.0
    """Share of the gross floor area that is dwellings in residential buildings."""
    mixed_share: float = 0.5
    """Share for untyped buildings (OSM ``building=yes``) and mixed-use ones."""
    min_footprint_m2: float = 30.0
    """Untyped buildings smaller than this are sheds or garages: zero households."""
    house_max: int = 2
    """At most this many dwellings in a detached or semi-detached house."""
    default_floors: dict[str, float] = field(
        default_factory=lambda: {
            "house": 2,
            "detached": 2,
            "semidetached_house": 2,
            "terrace": 2,
            "farm": 2,
            "residential": 4,
            "apartments": 5,
            "dormitory": 5,
            "yes": 2,
            "building": 2,
            "": 2,
        }
    )
    residential_types: frozenset[str] = frozenset(
        {
            "residential",
            "apartments",
            "house",
            "detached",
            "semidetached_house",
            "terrace",
            "dormitory",
            "farm",
            "bungalow",
            "villa",
            "urban",
            "rural",
            "住宅",
            "居民",
        }
    )
    house_types: frozenset[str] = frozenset(
        {"house", "detached", "semidetached_house", "bungalow", "villa", "farm"}
    )
    mixed_types: frozenset[str] = frozenset(
        {"yes", "building", "", "mixed", "commercial;residential"}
    )
    """Types of unknown or mixed use: ``mixed_share`` of the floor area is dwellings."""


def _first_column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    for name in names:
        if name in frame.columns:
            return name
    return None


def _numeric(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.replace(",", ".", regex=False)
    text = text.str.extract(r"^([-+]?\d+(?:\.\d+)?)", expand=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def building_households(
    buildings: gpd.GeoDataFrame,
    *,
    households_column: str | None = None,
    rules: HouseholdRules | None = None,
    footprint_m2: np.ndarray | None = None,
    ids: pd.Series | None = None,
) -> pd.DataFrame:
    """Households per building and whether each was estimated.

    Parameters
    ----------
    buildings
        Building footprints. Columns used when present: a type (``building``, ``kind``...),
        floors (``floors``, ``building:levels``...), height in metres (``height_m``,
        ``height``) and ``special``.
    households_column
        Column with household counts. Empty cells are estimated; text that is not a number and
        negative values raise :class:`geo.errors.InputError` listing every bad row.
    rules
        Estimation rules (:class:`HouseholdRules`).
    footprint_m2
        Footprint areas in square metres (computed in a metric CRS when not given).
    ids
        Feature ids used in messages (default: the 0-based position).

    Returns
    -------
    pandas.DataFrame
        ``households`` (int) and ``households_estimated`` (bool), on the input's index.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> b = gpd.GeoDataFrame({"building": ["apartments", "school"], "floors": [6, 3]},
    ...                      geometry=[box(0, 0, 30, 15), box(50, 0, 90, 30)], crs=32650)
    >>> building_households(b).to_dict("list")
    {'households': [30, 0], 'households_estimated': [True, True]}
    """
    rules = rules or HouseholdRules()
    n = len(buildings)
    ids = pd.Series(np.arange(n), index=buildings.index) if ids is None else ids
    if footprint_m2 is None:
        from geo.crs import metric_crs

        footprint_m2 = buildings.geometry.to_crs(metric_crs(buildings)).area.to_numpy()
    given = pd.Series(np.nan, index=buildings.index)
    if households_column is not None:
        if households_column not in buildings.columns:
            raise InputError(
                f"buildings: no households column {households_column!r}; the columns are "
                f"{[c for c in buildings.columns if c != buildings.geometry.name]}"
            )
        raw = buildings[households_column]
        values = pd.to_numeric(raw, errors="coerce")
        blank = raw.isna() | raw.astype("string").str.strip().eq("")
        bad = values.isna() & ~blank
        negative = values < 0
        problems = []
        if bad.any():
            shown = [f"{i} ({v!r})" for i, v in zip(ids[bad], raw[bad], strict=True)][:20]
            problems.append(
                f"{int(bad.sum())} non-numeric value(s) in {households_column!r} at feature "
                f"id(s) {', '.join(shown)}; expected a whole number of households"
            )
        if negative.any():
            problems.append(
                f"{int(negative.sum())} negative value(s) in {households_column!r} at feature "
                f"id(s) {', '.join(map(str, ids[negative].tolist()[:20]))}"
            )
        if problems:
            raise InputError("buildings: " + "; ".join(problems))
        given = values.where(~blank)

    type_col = _first_column(buildings, _TYPE_COLUMNS)
    kind = (
        buildings[type_col].astype("string").fillna("").str.strip().str.lower()
        if type_col
        else pd.Series("", index=buildings.index, dtype="string")
    )
    floors = pd.Series(np.nan, index=buildings.index)
    floor_col = _first_column(buildings, _FLOOR_COLUMNS)
    if floor_col:
        floors = _numeric(buildings[floor_col])
    height_col = _first_column(buildings, _HEIGHT_COLUMNS)
    if height_col:
        height = _numeric(buildings[height_col])
        floors = floors.fillna((height / rules.metres_per_floor).round().clip(lower=1))
    default = kind.map(rules.default_floors).fillna(rules.default_floors.get("", 2))
    floors = floors.where(floors > 0).fillna(default.astype(float))
    area = pd.Series(np.asarray(footprint_m2, dtype=float), index=buildings.index)

    residential = kind.isin(rules.residential_types)
    mixed = kind.isin(rules.mixed_types)
    share = np.where(residential, rules.residential_share, np.where(mixed, rules.mixed_share, 0.0))
    estimate = (area * floors * share / rules.m2_per_dwelling).round()
    house = kind.isin(rules.house_types)
    estimate = estimate.where(~house, estimate.clip(upper=rules.house_max * 1.0))
    estimate = estimate.where(~(residential | mixed), estimate.clip(lower=1))
    estimate = estimate.where(~(mixed & (area < rules.min_footprint_m2)), 0)
    if "special" in buildings.columns:
        special = buildings["special"].astype("string").fillna("").str.strip().ne("")
        estimate = estimate.where(~special, 0)
    estimated = given.isna()
    households = given.fillna(estimate).round().astype(np.int64)
    return pd.DataFrame(
        {"households": households, "households_estimated": estimated.to_numpy(bool)},
        index=buildings.index,
    )
