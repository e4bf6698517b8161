"""Tests for geo.analytics.kpis: case KPIs per unit and period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.analytics.kpis import case_kpis
from geo.errors import InputError

T = pd.Timestamp
NOW = T("2026-06-15 12:00")


@pytest.fixture
def cases() -> pd.DataFrame:
    rows = [
        # id, grid, community, reported, closed, deadline, escalated, status
        (1, "G1", "C1", "2026-05-03 08:00", "2026-05-04 08:00", "2026-05-05", False, "closed"),
        (2, "G1", "C1", "2026-05-10 08:00", "2026-06-02 08:00", "2026-05-12", False, "closed"),
        (3, "G1", "C1", "2026-05-20 08:00", None, "2026-05-25", False, "handling"),
        (4, "G2", "C1", "2026-06-01 08:00", None, "2026-06-30", False, "handling"),
        (5, "G1", "C1", "2026-06-05 08:00", "2026-06-06 08:00", "2026-06-10", True, "closed"),
        (6, "G2", "C1", "2026-05-15 08:00", None, "2026-05-16", False, "void"),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "case_id",
            "grid_code",
            "community_code",
            "reported_at",
            "closed_at",
            "deadline_at",
            "escalated",
            "status",
        ],
    )
    for col in ("reported_at", "closed_at", "deadline_at"):
        frame[col] = pd.to_datetime(frame[col])
    frame["township_code"] = "T1"
    frame["category"] = "环境卫生"
    return frame


def test_grid_month_kpis_by_hand(cases):
    out = case_kpis(cases, level="grid", freq="M", now=NOW, exclude_status=["void"])
    assert len(out) == 4
    k = out.set_index(["grid_code", out["period"].astype(str)])
    may = k.loc[("G1", "2026-05")]
    assert may["reported"] == 3
    assert may["closed"] == 1 and may["closed_on_time"] == 1 and may["on_time_rate"] == 1.0
    assert may["closure_rate"] == pytest.approx(1 / 3)
    assert may["open"] == 2 and may["open_overdue"] == 2
    assert may["mean_handling_hours"] == 24.0
    assert may["escalated"] == 0
    june = k.loc[("G1", "2026-06")]  # as of now, 15 June
    assert june["reported"] == 1
    assert june["closed"] == 2 and june["closed_on_time"] == 1 and june["on_time_rate"] == 0.5
    assert june["closure_rate"] == 1.0
    assert june["open"] == 1 and june["open_overdue"] == 1
    assert june["mean_handling_hours"] == pytest.approx((23 * 24 + 24) / 2)
    assert june["escalated"] == 1
    g2 = k.loc[("G2", "2026-06")]
    assert g2["reported"] == 1 and g2["open"] == 1 and g2["open_overdue"] == 0
    assert np.isnan(g2["on_time_rate"]) and np.isnan(g2["mean_handling_hours"])
    assert np.isnan(k.loc[("G2", "2026-05"), "closure_rate"])
    assert out["period_start"].iloc[0] == T("2026-05-01")
    assert out["period_end"].iloc[0] == T("2026-06-01")


def test_void_cases_count_unless_excluded(cases):
    out = case_kpis(cases, level="grid", freq="M", now=NOW)
    may = out[(out["grid_code"] == "G2") & (out["period"].astype(str) == "2026-05")].iloc[0]
    assert may["reported"] == 1 and may["open_overdue"] == 1


def test_levels_add_up(cases):
    grid = case_kpis(cases, level="grid", freq="M", now=NOW)
    county = case_kpis(cases, level="county", freq="M", now=NOW)
    community = case_kpis(cases, level="community", freq="M", now=NOW)
    township = case_kpis(cases, level="township", freq="M", now=NOW)
    assert list(county["county"]) == ["county", "county"]
    for col in ("reported", "closed", "open_overdue", "escalated"):
        assert county[col].sum() == grid[col].sum() == community[col].sum()
        assert township[col].sum() == county[col].sum()


def test_weekly_and_tz_aware(cases):
    aware = cases.copy()
    for col in ("reported_at", "closed_at", "deadline_at"):
        aware[col] = aware[col].dt.tz_localize("Asia/Shanghai")
    naive = case_kpis(cases, level="county", freq="W", now=NOW)
    zoned = case_kpis(aware, level="county", freq="W", now=NOW.tz_localize("Asia/Shanghai"))
    cols = ["reported", "closed", "open", "open_overdue", "mean_handling_hours"]
    pd.testing.assert_frame_equal(naive[cols], zoned[cols])
    assert naive["period_start"].dt.day_of_week.eq(0).all()  # weeks start on Monday


def test_errors(cases):
    with pytest.raises(InputError, match="level must be one of"):
        case_kpis(cases, level="street")
    with pytest.raises(InputError, match=r"missing columns \['escalated', 'grid_code'\]"):
        case_kpis(cases.drop(columns=["escalated", "grid_code"]))
    with pytest.raises(InputError, match=r"missing columns \['status'\]"):
        case_kpis(cases.drop(columns=["status"]), exclude_status=["void"], now=NOW)
    bad = cases.copy()
    bad.loc[1, "closed_at"] = T("2026-05-01")
    bad.loc[2, "case_id"] = 1
    with pytest.raises(
        InputError,
        match=r"case_id repeated: \[1\] \(1 cases\); cases: closed_at before reported_at "
        r"for case_id \[2\]",
    ):
        case_kpis(bad, now=NOW)
    bad = cases.assign(reported_at=cases["reported_at"].astype(str))
    with pytest.raises(InputError, match="column 'reported_at' must hold datetimes, found"):
        case_kpis(bad, now=NOW)
    bad = cases.assign(deadline_at=cases["deadline_at"].dt.tz_localize("UTC"))
    with pytest.raises(InputError, match="mix time zones"):
        case_kpis(bad, now=NOW)
    bad = cases.copy()
    bad.loc[0, "deadline_at"] = pd.NaT
    with pytest.raises(InputError, match=r"deadline_at is empty for case_id \[1\]"):
        case_kpis(bad, now=NOW)
    with pytest.raises(InputError, match="column 'escalated' must be boolean"):
        case_kpis(cases.assign(escalated=1), now=NOW)
    bad = cases.copy()
    bad.loc[0, "grid_code"] = None
    with pytest.raises(InputError, match=r"grid_code is empty for case_id \[1\]"):
        case_kpis(bad, now=NOW)
    with pytest.raises(InputError, match="freq 'fortnight' is not a pandas period alias"):
        case_kpis(cases, freq="fortnight", now=NOW)
    with pytest.raises(InputError, match="must both have a time zone or both not"):
        case_kpis(cases, now=NOW.tz_localize("UTC"))
    with pytest.raises(InputError, match="no period between"):
        case_kpis(cases, start="2027-01-01", now=NOW)
    with pytest.raises(InputError, match="cases is empty and no start was given"):
        case_kpis(cases.iloc[:0], now=NOW)
