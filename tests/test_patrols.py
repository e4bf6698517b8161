"""Tests for geo.analytics.patrols: street coverage, minutes, sessions and the daily norm."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from geo.analytics.patrols import patrol_coverage, patrol_sessions, sample_lines
from geo.errors import CRSError, InputError

CRS = "EPSG:32650"


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"grid_code": ["A", "B"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
        index=[5, 6],
        crs=CRS,
    )


@pytest.fixture
def streets() -> gpd.GeoDataFrame:
    # two streets across both grids: each grid has 200 m of street
    return gpd.GeoDataFrame(
        geometry=[LineString([(0, 20), (200, 20)]), LineString([(0, 80), (200, 80)])], crs=CRS
    )


def _walk(start: str, minutes: int, x0: float = 0.0, person: int = 1) -> gpd.GeoDataFrame:
    """One fix a minute walking east along y = 20 at 1 m a minute."""
    t = pd.date_range(start, periods=minutes + 1, freq="1min")
    pts = [Point(x0 + min(i, 100), 20) for i in range(minutes + 1)]
    return gpd.GeoDataFrame({"worker_id": person, "at": t, "own_grid": "A"}, geometry=pts, crs=CRS)


@pytest.fixture
def fixes() -> gpd.GeoDataFrame:
    # 08:00-09:40 (100 min), a 31-minute gap, then 10:11-11:31 (80 min)
    first = _walk("2026-05-01 08:00", 100)
    second = _walk("2026-05-01 10:11", 80)
    return pd.concat([first, second], ignore_index=True)


def test_sample_lines_adds_up_to_length(streets):
    samples = sample_lines(streets, spacing=10)
    assert len(samples) == 40
    assert samples.groupby("line")["length_m"].sum().tolist() == [200.0, 200.0]
    odd = sample_lines(gpd.GeoSeries([LineString([(0, 0), (25, 0)])], crs=CRS), spacing=10)
    assert len(odd) == 3 and odd["length_m"].sum() == pytest.approx(25)


def test_walking_half_the_streets_covers_half(grids, streets, fixes):
    out = patrol_coverage(grids, streets, fixes, assigned="own_grid")
    a = out.set_index("grid_code").loc["A"]
    assert a["street_m"] == pytest.approx(200)
    assert a["covered_m"] == pytest.approx(100)
    assert a["street_share"] == pytest.approx(0.5)
    assert a["sessions"] == 2
    assert a["minutes"] == pytest.approx(180)
    assert bool(a["compliant"])
    # B is not this patroller's grid
    b = out.set_index("grid_code").loc["B"]
    assert b["covered_m"] == 0 and b["sessions"] == 0 and not b["compliant"]
    assert list(out["date"]) == [pd.Timestamp("2026-05-01")] * 2


def test_without_assignment_fixes_count_for_nearby_grids(grids, streets, fixes):
    out = patrol_coverage(grids, streets, fixes).set_index("grid_code")
    # samples of B at x = 105, 115, 125 are within 30 m of the fix at (100, 20)
    assert out.loc["B", "covered_m"] == pytest.approx(30)
    assert out.loc["B", "street_share"] == pytest.approx(0.15)
    # the fixes at x = 70..100 are within the 30 m tolerance of B
    assert out.loc["B", "sessions"] == 2
    assert out.loc["A", "street_share"] == pytest.approx(0.5)


def test_a_30_minute_gap_does_not_split(grids, streets):
    fixes = pd.concat(
        [_walk("2026-05-01 08:00", 100), _walk("2026-05-01 10:10", 80)], ignore_index=True
    )
    out = patrol_coverage(grids, streets, fixes, assigned="own_grid").set_index("grid_code")
    assert out.loc["A", "sessions"] == 1
    assert out.loc["A", "minutes"] == pytest.approx(210)
    assert not out.loc["A", "compliant"]


def test_sessions_split_by_31_minute_gap(fixes):
    sessions = patrol_sessions(fixes)
    assert sessions["session"].tolist() == [0, 1]
    assert sessions["minutes"].tolist() == [100.0, 80.0]
    assert sessions["fixes"].tolist() == [101, 81]


def test_tolerance_counts_fixes_just_outside(grids, streets):
    fixes = _walk("2026-05-01 08:00", 100)
    fixes["geometry"] = fixes.geometry.translate(0, -40)  # 20 m south of A, on no street
    out = patrol_coverage(grids, streets, fixes, assigned="own_grid").set_index("grid_code")
    assert out.loc["A", "minutes"] == pytest.approx(100)
    assert out.loc["A", "covered_m"] == 0  # the street at y = 20 is 40 m away
    tight = patrol_coverage(grids, streets, fixes, assigned="own_grid", tolerance=10)
    assert tight.set_index("grid_code").loc["A", "minutes"] == 0


def test_gps_in_lonlat_and_days(grids, streets, fixes):
    lonlat = fixes.to_crs(4326)
    next_day = _walk("2026-05-02 09:00", 50, x0=100)
    both = pd.concat([lonlat, next_day.to_crs(4326)], ignore_index=True)
    out = patrol_coverage(grids, streets, both, assigned="own_grid")
    assert len(out) == 4
    day1 = out[out["date"] == pd.Timestamp("2026-05-01")].set_index("grid_code")
    assert day1.loc["A", "street_share"] == pytest.approx(0.5)
    assert day1.loc["A", "minutes"] == pytest.approx(180, abs=1e-6)
    day2 = out[out["date"] == pd.Timestamp("2026-05-02")].set_index("grid_code")
    # on day 2 the patroller stands at x = 100..150, y = 20 but only x <= 130 counts for A
    assert day2.loc["A", "sessions"] == 1
    assert day2.loc["A", "covered_m"] == pytest.approx(30)
    assert "geometry" in fixes.columns and len(fixes) == 182  # input untouched


def test_errors(grids, streets, fixes):
    with pytest.raises(CRSError, match=r"grids is in a geographic CRS .*metric_crs"):
        patrol_coverage(grids.to_crs(4326), streets, fixes)
    with pytest.raises(CRSError, match="grids has no CRS"):
        patrol_coverage(grids.set_crs(None, allow_override=True), streets, fixes)
    with pytest.raises(CRSError, match="fixes has no CRS; .*EPSG:4326"):
        patrol_coverage(grids, streets, fixes.set_crs(None, allow_override=True))
    with pytest.raises(CRSError, match="not metres"):
        patrol_coverage(grids.to_crs(2263), streets, fixes)  # US survey feet
    bad = fixes.rename(columns={"worker_id": "pid"}).assign(at="08:00")
    with pytest.raises(
        InputError,
        match=r"no column 'worker_id'.*; fixes: column 'at' must hold datetimes",
    ):
        patrol_coverage(grids, streets, bad)
    with pytest.raises(InputError, match=r"grids: no column 'code'"):
        patrol_coverage(grids, streets, fixes, grid="code")
    dup = grids.assign(grid_code=["A", "A"])
    with pytest.raises(InputError, match=r"must be unique; repeated codes \['A'\]"):
        patrol_coverage(dup, streets, fixes)
    with pytest.raises(InputError, match=r"streets: rows \[0\] have geometry \['Point'\]"):
        patrol_coverage(grids, gpd.GeoSeries([Point(0, 0)], crs=CRS), fixes)
    with pytest.raises(InputError, match=r"names grids not in grids\['grid_code'\]: \['Z'\]"):
        patrol_coverage(grids, streets, fixes.assign(own_grid="Z"), assigned="own_grid")
    with pytest.raises(InputError, match="no column 'beat'"):
        patrol_coverage(grids, streets, fixes, assigned="beat")
    with pytest.raises(InputError, match="radius must be a positive number of metres, got 0"):
        patrol_coverage(grids, streets, fixes, radius=0)
    with pytest.raises(InputError, match="spacing must be a positive number"):
        sample_lines(streets, spacing=-1)
    with pytest.raises(InputError, match="grids must be a GeoDataFrame, got DataFrame"):
        patrol_coverage(pd.DataFrame(grids), streets, fixes)
    empty = fixes.copy()
    empty.loc[3, "at"] = pd.NaT
    with pytest.raises(InputError, match=r"column 'at' is empty in rows \[3\]"):
        patrol_sessions(empty)


def test_no_fixes_gives_no_days(grids, streets, fixes):
    out = patrol_coverage(grids, streets, fixes.iloc[:0])
    assert out.empty and "street_share" in out.columns
