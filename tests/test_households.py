"""Households per building: given, estimated by rule, bad values."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from geo.errors import InputError
from geo.partition.households import HouseholdRules, building_households


def _b(**cols) -> gpd.GeoDataFrame:
    n = len(next(iter(cols.values())))
    return gpd.GeoDataFrame(
        cols, geometry=[box(i * 100, 0, i * 100 + 30, 30) for i in range(n)], crs="EPSG:32650"
    )


def test_floors_height_and_types():
    b = _b(
        building=["apartments", "apartments", "house", "school", "yes", "yes"],
        floors=[6, None, None, 3, None, None],
        height=[None, 30.0, None, None, None, None],
    )
    area = b.area.to_numpy().copy()
    area[5] = 20.0  # a shed
    out = building_households(b, footprint_m2=area)
    assert out["households"].tolist() == [60, 100, 2, 0, 10, 0]
    assert out["households_estimated"].all()


def test_rules_are_configurable():
    b = _b(building=["residential"], floors=[10])
    rules = HouseholdRules(m2_per_dwelling=150.0)
    assert building_households(b, rules=rules)["households"].tolist() == [60]


def test_given_column_with_blanks_estimated():
    b = _b(building=["apartments", "apartments"], floors=[6, 6], hh=[12, None])
    out = building_households(b, households_column="hh")
    assert out["households"].tolist() == [12, 60]
    assert out["households_estimated"].tolist() == [False, True]


def test_special_buildings_have_no_households():
    b = _b(building=["apartments"], floors=[6], special=["hospital"])
    assert building_households(b)["households"].tolist() == [0]


def test_bad_values_listed_with_ids():
    b = _b(building=["x"] * 3, hh=np.array(["3", "lots", "-2"], dtype=object))
    ids = b.index.to_series().map(lambda i: f"F{i}")
    with pytest.raises(
        InputError,
        match=r"non-numeric value\(s\) in 'hh' at feature id\(s\) F1 \('lots'\).*negative value\(s\) in 'hh' at feature id\(s\) F2",
    ):
        building_households(b, households_column="hh", ids=ids)
    with pytest.raises(InputError, match=r"no households column 'hh2'"):
        building_households(b, households_column="hh2")
