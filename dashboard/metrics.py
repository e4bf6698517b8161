"""Figures the command-centre pages show, computed from the store with :mod:`geo`'s analytics.

Pages call these functions and only serialise what they return. Times shown to users are
China time (Asia/Shanghai); "today" starts at local midnight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.casework import CATEGORIES, LOCAL_TZ
from dashboard.store import Store
from geo.patrols import patrol_sessions

__all__ = ["LOCAL_TZ", "WallData", "scope_filters", "wall_data", "wall_fingerprint"]

OPEN = (
    "reported",
    "accepted",
    "dispatched",
    "in_progress",
    "resolved",
    "verified",
    "returned",
    "escalated",
)


def scope_filters(township_code: str | None) -> dict:
    """Case filters of a role's scope: one township, or everything."""
    return {"township_codes": [township_code]} if township_code else {}


def wall_fingerprint(
    store: Store, township_code: str | None = None, *, now: pd.Timestamp | None = None
) -> str:
    """Changes whenever anything the wall shows changes: cases, their events, cameras, patrol
    fixes, and every 5 minutes of the clock (cases become overdue as time passes)."""
    now = now or pd.Timestamp.now(tz="UTC")
    return f"{store.activity_fingerprint(scope_filters(township_code))}|{now.floor('5min').isoformat()}"


@dataclass(frozen=True)
class WallData:
    kpis: dict
    townships: pd.DataFrame
    categories: pd.DataFrame
    trend: pd.DataFrame
    newest: pd.DataFrame
    overdue: pd.DataFrame
    recent_points: pd.DataFrame


def _local(ts: pd.Series) -> pd.Series:
    return ts.dt.tz_convert(LOCAL_TZ)


def wall_data(
    store: Store,
    *,
    now: pd.Timestamp | None = None,
    township_code: str | None = None,
    days: int = 30,
) -> WallData:
    """Everything the wall display shows, as of ``now`` (default: the current time)."""
    now = (now or pd.Timestamp.now(tz="UTC")).tz_convert("UTC")
    local_now = now.tz_convert(LOCAL_TZ)
    today = local_now.normalize()
    window = today - pd.Timedelta(days=days - 1)
    filters = scope_filters(township_code)
    cases = store.cases_frame(filters=filters)
    cases = cases[cases["reported_at"] <= now]
    cases["escalated"] = cases["level"] != "grid"
    units = store.admin_units("township")
    names = dict(zip(units["code"], units["name"], strict=True))

    is_open = cases["closed_at"].isna()
    overdue_mask = is_open & (cases["deadline_at"] < now)
    recent = cases[cases["reported_at"] >= window.tz_convert("UTC")]
    closed_recent = cases[
        (cases["closed_at"] >= window.tz_convert("UTC")) & (cases["closed_at"] <= now)
    ]
    handled_h = (
        closed_recent["closed_at"] - closed_recent["reported_at"]
    ).dt.total_seconds() / 3600
    today_utc = today.tz_convert("UTC")
    cams = store.cameras()
    if township_code and len(cams):
        cams = cams[cams["grid_code"].str.startswith(township_code[:9])]
    on_duty, compliance = _patrol_figures(store, now=now, township_code=township_code)
    kpis = {
        "reported_today": int((cases["reported_at"] >= today_utc).sum()),
        "closed_today": int(
            ((cases["closed_at"] >= today_utc) & (cases["closed_at"] <= now)).sum()
        ),
        "closure_rate": float(recent["closed_at"].notna().mean()) if len(recent) else float("nan"),
        "on_time_rate": float((closed_recent["closed_at"] <= closed_recent["deadline_at"]).mean())
        if len(closed_recent)
        else float("nan"),
        "open_overdue": int(overdue_mask.sum()),
        "mean_handling_hours": float(handled_h.mean()) if len(handled_h) else float("nan"),
        "cameras_online": int((cams["status"] == "online").sum()) if len(cams) else 0,
        "cameras_total": len(cams),
        "patrol_compliance": compliance,
        "workers_on_duty": on_duty,
    }
    # townships ranked by open overdue, then open cases
    by_town = cases.assign(
        open=is_open, overdue=overdue_mask, recent=cases["reported_at"] >= window.tz_convert("UTC")
    )
    ranking = (
        by_town.groupby("township_code")
        .agg(reported=("recent", "sum"), open=("open", "sum"), overdue=("overdue", "sum"))
        .reset_index()
    )
    ranking = ranking[ranking["township_code"] != ""]
    ranking["name"] = ranking["township_code"].map(names).fillna(ranking["township_code"])
    ranking = ranking.sort_values(
        ["overdue", "open", "township_code"], ascending=[False, False, True]
    )
    categories = (
        recent["category"]
        .value_counts()
        .reindex(list(CATEGORIES), fill_value=0)
        .rename_axis("category")
        .reset_index(name="cases")
    )
    days_index = pd.date_range(window, today, freq="D", tz=LOCAL_TZ)
    rep_days = _local(recent["reported_at"]).dt.normalize().value_counts()
    clo_days = _local(closed_recent["closed_at"]).dt.normalize().value_counts()
    trend = pd.DataFrame(
        {
            "day": days_index,
            "reported": rep_days.reindex(days_index, fill_value=0).to_numpy(),
            "closed": clo_days.reindex(days_index, fill_value=0).to_numpy(),
        }
    )
    cols = [
        "case_id",
        "category",
        "status",
        "level",
        "township_code",
        "community_code",
        "grid_code",
        "reported_at",
        "deadline_at",
        "lon",
        "lat",
    ]
    newest = cases.sort_values(["reported_at", "case_id"], ascending=False).head(12)[cols]
    overdue = cases[overdue_mask].sort_values("deadline_at").head(12)[cols]
    recent_points = cases[(cases["reported_at"] >= now - pd.Timedelta(hours=24)) | overdue_mask][
        ["case_id", "category", "status", "lon", "lat", "reported_at", "deadline_at"]
    ].assign(overdue=lambda f: f["case_id"].isin(set(cases.loc[overdue_mask, "case_id"])))
    return WallData(kpis, ranking, categories, trend, newest, overdue, recent_points)


def _patrol_figures(
    store: Store, *, now: pd.Timestamp, township_code: str | None
) -> tuple[int, float]:
    """Workers with a GPS fix in the last 30 minutes, and yesterday's share of workers meeting
    the norm (2 sessions, 180 minutes)."""
    workers = store.workers()
    if township_code:
        workers = workers[workers["grid_code"].str.startswith(township_code[:9])]
    if workers.empty:
        return 0, float("nan")
    local_today = now.tz_convert(LOCAL_TZ).normalize()
    since = (local_today - pd.Timedelta(days=1)).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    fixes = store.patrol_points(since=since, until=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    fixes = fixes[fixes["worker_id"].isin(set(workers["worker_id"]))]
    on_duty = int(fixes.loc[fixes["at"] >= now - pd.Timedelta(minutes=30), "worker_id"].nunique())
    yesterday = fixes[fixes["at"] < local_today.tz_convert("UTC")]
    if yesterday.empty:
        return on_duty, 0.0
    sessions = patrol_sessions(yesterday, person="worker_id", time="at")
    per = sessions.groupby("worker_id").agg(n=("session", "size"), minutes=("minutes", "sum"))
    compliant = per[(per["n"] >= 2) & (per["minutes"] >= 180)].index
    return on_duty, float(np.isin(workers["worker_id"], compliant).mean())
