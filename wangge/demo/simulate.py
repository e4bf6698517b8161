"""Operational data for the demo county: grid workers, cameras, cases and patrol tracks.

``wangge demo simulate --days 90`` writes through the same store functions as the API and the
importers, deterministically from a seed and an end time. All of it is synthetic (虚构示范数据).

Cases
    A spatio-temporal Poisson-like process: each building draws cases in proportion to its
    households, with extra weight within 300 m of markets, schools, hospitals and the bus station
    and in the old town (1-3-storey houses and shop-houses); rural villages draw fewer per
    household. The category mix depends on the place (markets: sanitation and public order;
    schools: safety; old town: disputes and facilities; villages: disputes and livelihood
    services). Hours follow a daily rhythm (peaks 9-11 h and 14-17 h, quiet at night), and
    weekends bring more disputes and fewer facility reports. Handling follows the lifecycle with
    realistic delays: most cases close within their deadline, about 9 % run over, 5 % are
    returned once and 4 % are escalated; cases reported shortly before the end are still open.
    About 1.5 % are urgent situations (a gas leak, smoke, a fall, a fight: :data:`URGENT`),
    reported as urgent; an operator marks them seen when accepting them, so only those not yet
    accepted flash on the wall.
Cameras
    Two heads at every arterial/collector intersection (looking along the street), one at each
    compound (小区) entrance looking in, one at every school, market, hospital and government
    office; 40-100 degree fields of view, 30-60 m range; about 7 % offline.
Patrols
    Each grid's worker walks the streets of their grid twice a day (morning and afternoon, about
    90 minutes each) for the last ``gps_days`` days, a fix every 30 s with 6 m GPS noise; some
    worker-days are skipped (8 %) or cut short (12 %).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from tqdm import tqdm

from wangge.access import Scope
from wangge.casework import CATEGORIES, LEVELS, deadline_for
from wangge.clock import COUNTY_TZ, STAMP_FORMAT, local_day, stamp
from wangge.services.locate import Locator
from wangge.store import Store

#: The simulation fills the whole demo county.
WHOLE_COUNTY = Scope.county()

__all__ = [
    "DAYS",
    "GPS_DAYS",
    "PER_DAY",
    "CaseModel",
    "URGENT",
    "case_text",
    "hour_weights",
    "lifecycle_step",
    "patrol_day",
    "patrol_columns",
    "patrol_rows",
    "patrol_routes",
    "simulate",
    "urgent_text",
]

log = logging.getLogger(__name__)

#: The county's time zone (China time): the daily rhythm, case-id days and patrol days.
COUNTY = ZoneInfo(COUNTY_TZ)
#: The simulation's window and rate (``wangge demo setup``); the live feed keeps the same rate.
DAYS = 90
PER_DAY = 120.0
GPS_DAYS = 14
CATS = list(CATEGORIES)  # dispute, safety, sanitation, facilities, order, services
#: Category mix by place type (same order as CATS).
MIX = {
    "urban": [0.16, 0.15, 0.25, 0.2, 0.1, 0.14],
    "market": [0.12, 0.1, 0.38, 0.1, 0.22, 0.08],
    "school": [0.1, 0.38, 0.12, 0.14, 0.18, 0.08],
    "old_town": [0.28, 0.16, 0.18, 0.22, 0.08, 0.08],
    "rural": [0.3, 0.14, 0.16, 0.12, 0.06, 0.22],
}
#: Relative case intensity by hour of day (China time).
HOURLY = np.array([0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.6, 2.6, 3.2, 3.1, 2.4, 1.6, 1.9, 2.8, 3.0, 2.8, 2.2,
                   1.7, 1.5, 1.3, 1.0, 0.6, 0.4])  # fmt: skip
SOURCES = ["grid_worker", "hotline_12345", "citizen", "camera_ai", "inspection"]
SOURCE_P = [0.55, 0.25, 0.1, 0.07, 0.03]
SURNAMES = list(
    "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
)
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅建国志文斌鹏辉")
TITLES = {
    "dispute": ["邻里噪音纠纷", "物业费纠纷", "宅基地界址纠纷", "家庭矛盾调解", "租赁合同纠纷"],
    "safety": ["电动车楼道充电", "消防通道堵塞", "燃气管道老化", "高空坠物隐患", "危房隐患"],
    "sanitation": ["垃圾堆放未清运", "污水外溢", "占道经营卫生差", "小广告乱张贴", "绿化带垃圾"],
    "facilities": ["路灯不亮", "井盖缺失", "人行道破损", "排水不畅", "公交站牌损坏"],
    "order": ["夜间聚众喧哗", "可疑人员徘徊", "非法营运", "醉酒滋事", "乱停乱放"],
    "services": ["低保政策咨询", "独居老人帮扶", "医保办理咨询", "就业信息咨询", "停水停电反映"],
}


def _name(rng: np.random.Generator) -> str:
    return str(rng.choice(SURNAMES)) + "".join(rng.choice(GIVEN, size=int(rng.integers(1, 3))))


def _phone(rng: np.random.Generator) -> str:
    return (
        "1" + str(rng.choice(["38", "39", "58", "86", "36"])) + f"{int(rng.integers(0, 10**8)):08d}"
    )


def _workers(grids: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "worker_id": [f"W{i + 1:04d}" for i in range(len(grids))],
            "name": [_name(rng) for _ in range(len(grids))],
            "phone": [_phone(rng) for _ in range(len(grids))],
            "grid_code": grids["grid_code"].to_numpy(),
            "active": 1,
        }
    )


def _place_weights(
    buildings: gpd.GeoDataFrame, pois: gpd.GeoDataFrame, rural_codes: set[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Per building: case intensity and place type index into MIX."""
    hh = buildings["households"].to_numpy(dtype=float)
    kind = buildings["kind"].to_numpy()
    weight = np.where(hh > 0, hh, 0.0) + np.where(
        np.isin(kind, ["school", "market", "hospital", "commercial"]), 25.0, 0.0
    )
    place = np.full(len(buildings), "urban", dtype=object)
    rural = buildings["community_code"].isin(rural_codes).to_numpy()
    place[rural] = "rural"
    weight[rural] *= 0.6
    old = np.isin(kind, ["house", "shophouse"]) & ~rural
    place[old] = "old_town"
    weight[old] *= 1.8
    centroids = buildings.geometry.centroid
    for poi_kind, label, boost in (
        ("market", "market", 2.5),
        ("school", "school", 1.8),
        ("hospital", "market", 1.6),
        ("bus_station", "market", 1.6),
    ):
        sites = pois[pois["kind"] == poi_kind]
        if len(sites) == 0:
            continue
        tree = shapely.STRtree(sites.geometry.to_numpy())
        idx, dist = tree.query_nearest(
            centroids.to_numpy(), return_distance=True, all_matches=False
        )
        near = np.zeros(len(buildings), dtype=bool)
        near[idx[0]] = dist < 300
        weight[near] *= boost
        place[near & ~rural] = label
    return weight, np.array([list(MIX).index(p) for p in place])


@dataclass(frozen=True)
class CaseModel:
    """Where cases happen: per building its centroid (in ``crs_metric``), the probability that a
    case falls there and its place type (index into :data:`MIX`)."""

    x: np.ndarray
    y: np.ndarray
    p: np.ndarray
    place: np.ndarray
    crs_metric: object

    @classmethod
    def from_store(cls, store: Store) -> CaseModel:
        """The model of the county in ``store`` (buildings, points of interest, rural villages)."""
        grids = store.grids(scope=WHOLE_COUNTY)
        crs_metric = grids.estimate_utm_crs()
        communities = store.admin_units("community", scope=WHOLE_COUNTY)
        rural = set(communities.loc[communities["kind"] == "rural", "code"])
        buildings_m = store.buildings(scope=WHOLE_COUNTY).to_crs(crs_metric)
        pois_m = store.basemap_layer("pois").to_crs(crs_metric)
        return cls.build(buildings_m, pois_m, rural, crs_metric)

    @classmethod
    def build(cls, buildings_m, pois_m, rural: set[str], crs_metric) -> CaseModel:
        weight, place = _place_weights(buildings_m, pois_m, rural)
        centroids = buildings_m.geometry.centroid
        return cls(
            x=centroids.x.to_numpy(),
            y=centroids.y.to_numpy(),
            p=weight / weight.sum(),
            place=place,
            crs_metric=crs_metric,
        )

    def draw(self, n: int, rng: np.random.Generator) -> dict[str, list]:
        """``n`` cases: lon, lat (WGS84, 6 decimals), category and source of each."""
        which = rng.choice(len(self.p), size=n, p=self.p)
        jitter = rng.normal(0, 12, size=(n, 2))
        lons, lats = Transformer.from_crs(self.crs_metric, "EPSG:4326", always_xy=True).transform(
            self.x[which] + jitter[:, 0], self.y[which] + jitter[:, 1]
        )
        mix_cum = np.cumsum(np.array(list(MIX.values())), axis=1)
        draws = rng.random(n)
        cat_idx = np.minimum(
            (draws[:, None] > mix_cum[self.place[which]]).sum(axis=1), len(CATS) - 1
        )
        sources = rng.choice(SOURCES, size=n, p=SOURCE_P)
        return {
            "lon": [round(float(v), 6) for v in np.atleast_1d(lons)],
            "lat": [round(float(v), 6) for v in np.atleast_1d(lats)],
            "category": [CATS[i] for i in cat_idx],
            "source": [str(v) for v in sources],
        }


def hour_weights(start: datetime, hours: int, *, phase: int = 0) -> np.ndarray:
    """Relative case intensity of each of ``hours`` hours from ``start`` (UTC): the daily rhythm
    in China time, 10 % more on weekends and a gentle monthly swell (``phase``: hours into it)."""
    hour_idx = np.arange(hours)
    local = [(start + timedelta(hours=int(h))).astimezone(COUNTY) for h in hour_idx]
    hour_w = np.array([HOURLY[t.hour] * (1.1 if t.weekday() >= 5 else 1.0) for t in local])
    trend = 1.0 + 0.15 * np.sin((phase + hour_idx) / (24 * 30) * 2 * np.pi)
    return hour_w * trend


#: Mean of :func:`hour_weights` over a week (the swell averages out): turns weights into rates.
MEAN_HOUR_WEIGHT = float(HOURLY.sum() * (5 + 2 * 1.1) / 7 / 24)


#: Urgent situations by category: the share of the category's reports that are one, and their
#: titles. Over the demo's place mix about 1.5 % of all reports (2 a day at :data:`PER_DAY`).
URGENT = {
    "safety": (0.06, ["燃气泄漏", "电动车起火冒烟", "楼道着火"]),
    "services": (0.03, ["独居老人摔倒", "老人走失"]),
    "order": (0.03, ["打架斗殴", "持刀滋事"]),
    "facilities": (0.015, ["燃气管道破损", "井盖缺失有人跌落"]),
}


def urgent_text(key: str, category: str) -> dict[str, str]:
    """``{"urgency": "urgent", "title": ...}`` when the case keyed ``key`` is an urgent
    situation of its ``category`` (:data:`URGENT`), else ``{}``. Drawn from a hash of ``key``
    (its id and place, which follow from the seed), not from the simulation's random stream:
    the rest of a seed's cases stay as they were."""
    share, titles = URGENT.get(category, (0.0, []))
    h = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
    if not share or (h >> 11) / 2**53 >= share:
        return {}
    return {"urgency": "urgent", "title": titles[h % len(titles)]}


def case_text(rng: np.random.Generator, category: str, source: str) -> dict[str, str]:
    """Title, and a reporter's name and phone for hotline and citizen reports (fictitious)."""
    personal = source in ("hotline_12345", "citizen")
    title = str(rng.choice(TITLES[category]))
    name = _name(rng) if personal else ""
    phone = _phone(rng) if personal else ""
    return {"title": title, "reporter_name": name, "reporter_phone": phone}


def _cases(
    model: CaseModel,
    *,
    start: datetime,
    end: datetime,
    per_day: float,
    rng: np.random.Generator,
    first_sequence: int = 0,
) -> tuple[list[dict], list[tuple]]:
    days = (end - start).days
    total_hours = int((end - start).total_seconds() // 3600)
    lam = hour_weights(start, total_hours)
    lam = lam / lam.sum() * per_day * days
    counts = rng.poisson(lam)
    n = int(counts.sum())
    hours = np.repeat(np.arange(total_hours), counts)
    seconds = rng.integers(0, 3600, size=n)
    reported = [
        start + timedelta(hours=int(h), seconds=int(s)) for h, s in zip(hours, seconds, strict=True)
    ]
    drawn = model.draw(n, rng)
    order = np.argsort(np.array([r.timestamp() for r in reported]), kind="stable")
    cases, events = [], []
    seq: dict[str, int] = {}
    now = stamp(end)
    for k in order:
        rep = reported[k]
        cat, src = drawn["category"][k], drawn["source"][k]
        rep_s = stamp(rep)
        day = local_day(rep_s)
        seq[day] = seq.get(day, first_sequence) + 1
        cid = f"C{day}-{seq[day]:05d}"
        chain, level = _lifecycle(rng, rep, CATEGORIES[cat].deadline_hours, end)
        closed = seen = None
        prev = None
        for at, to_status, actor in chain:
            events.append((cid, stamp(at), prev, to_status, actor, ""))
            prev = to_status
            if to_status == "closed":
                closed = stamp(at)
            if to_status == "accepted" and seen is None:
                seen = stamp(at)  # the operator accepting an urgent case has seen it
        lon, lat = drawn["lon"][k], drawn["lat"][k]
        urgent = urgent_text(f"{cid}:{lon:.6f}:{lat:.6f}", cat)
        cases.append(
            {
                "case_id": cid,
                "client_id": f"sim:{cid}",
                "category": cat,
                "description": "",
                "source": src,
                "status": chain[-1][1],
                "level": LEVELS[min(level, 3)],
                "lon": drawn["lon"][k],
                "lat": drawn["lat"][k],
                **case_text(rng, cat, src),
                **urgent,
                "seen_at": seen if urgent else None,
                "reported_at": rep_s,
                "deadline_at": deadline_for(cat, rep_s),
                "closed_at": closed,
                "updated_at": now,
            }
        )
    return cases, events


#: Share of cases handled late (resolved past their deadline).
LATE_SHARE = 0.09


def lifecycle_step(
    rng: np.random.Generator,
    status: str,
    *,
    late: bool,
    limit_h: float,
    elapsed_min: float,
    escalated: bool,
    returned: bool,
) -> tuple[float, str, str] | None:
    """The next move of a case in the handling model, or None once it is closed.

    Returns (minutes after the case's last event, new status, actor). ``late`` cases resolve
    past their deadline; ``elapsed_min`` is the time from the report to the last event; a case
    is escalated (4 %) only on its first acceptance and returned (5 %) only once.
    """
    if status == "reported":
        return float(rng.uniform(3, 45)), "accepted", "command_centre"
    if status == "accepted":
        if not escalated and not returned and rng.random() < 0.04:
            return float(rng.uniform(30, 240)), "escalated", "grid_leader"
        return float(rng.uniform(5, 90)), "dispatched", "command_centre"
    if status == "escalated":
        return float(rng.uniform(10, 120)), "accepted", "upper_command_centre"
    if status == "dispatched":
        return float(rng.uniform(20, 240)), "in_progress", "handling_unit"
    if status == "in_progress":
        if returned:
            return float(rng.uniform(120, 1440)), "resolved", "handling_unit"
        share = rng.uniform(1.05, 2.2) if late else rng.beta(2, 4) * 0.85
        return max(30.0, float(share) * limit_h * 60 - elapsed_min), "resolved", "handling_unit"
    if status == "resolved":
        if not returned and rng.random() < 0.05:
            return float(rng.uniform(60, 600)), "returned", "grid_worker_check"
        return float(rng.uniform(30, 720)), "verified", "grid_worker_check"
    if status == "returned":
        return float(rng.uniform(10, 120)), "dispatched", "command_centre"
    if status == "verified":
        return float(rng.uniform(10, 360)), "closed", "command_centre"
    return None


def _lifecycle(
    rng: np.random.Generator, rep: datetime, limit_h: int, end: datetime
) -> tuple[list, int]:
    """Status events (time, status, actor) up to ``end``, and the number of escalations."""
    chain = [(rep, "reported", "reporter")]
    late = rng.random() < LATE_SHARE
    t, status = rep, "reported"
    escalated = returned = False
    while True:
        step = lifecycle_step(
            rng,
            status,
            late=late,
            limit_h=limit_h,
            elapsed_min=(t - rep).total_seconds() / 60,
            escalated=escalated,
            returned=returned,
        )
        if step is None:
            break
        minutes, status, actor = step
        t = t + timedelta(minutes=minutes)
        if t > end:
            break
        chain.append((t, status, actor))
        escalated |= status == "escalated"
        returned |= status == "returned"
    return chain, int(escalated)


def _cameras(
    roads: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    rng: np.random.Generator,
    crs_metric,
) -> pd.DataFrame:
    roads_m = roads.to_crs(crs_metric)
    major = roads_m[roads_m["kind"].isin(["arterial", "collector"])]
    rows = []
    # junctions of major streets: roads are one line per street, so node them first and keep
    # the points where three or more pieces meet
    noded = shapely.get_parts(shapely.node(shapely.union_all(major.geometry.to_numpy())))
    ends = shapely.get_coordinates(shapely.boundary(noded))
    uniq, counts = np.unique(np.round(ends, 0), axis=0, return_counts=True)
    nodes = uniq[counts >= 3]
    tree = shapely.STRtree(major.geometry.to_numpy())
    for x, y in nodes:
        pt = shapely.Point(x, y)
        j = tree.query_nearest(pt)[0]
        line = major.geometry.iloc[j]
        d = line.project(pt)
        a, b = line.interpolate(max(0.0, d - 5)), line.interpolate(min(line.length, d + 5))
        bearing = (np.degrees(np.arctan2(b.x - a.x, b.y - a.y)) + 360) % 360
        for head in (bearing, (bearing + 180) % 360):
            rows.append(("路口", x, y, head, rng.uniform(55, 95), rng.uniform(40, 60), "fixed"))
    # compound entrances and key places: the nearest street point, looking in
    targets = []
    comp = (
        buildings[buildings["compound_id"] != ""]
        if "compound_id" in buildings
        else buildings.iloc[:0]
    )
    if len(comp):
        hulls = comp.to_crs(crs_metric).dissolve("compound_id").convex_hull
        targets += [("小区出入口", g.centroid) for g in hulls.geometry]
    for kind, label in (
        ("school", "学校"),
        ("market", "市场"),
        ("hospital", "医院"),
        ("government", "政府"),
    ):
        for g in pois[pois["kind"] == kind].to_crs(crs_metric).geometry:
            targets.append((label, g))
    all_tree = shapely.STRtree(roads_m.geometry.to_numpy())
    for label, centre in targets:
        j = all_tree.query_nearest(centre)[0]
        line = roads_m.geometry.iloc[j]
        p = line.interpolate(line.project(centre))
        bearing = (np.degrees(np.arctan2(centre.x - p.x, centre.y - p.y)) + 360) % 360
        rows.append((label, p.x, p.y, bearing, rng.uniform(40, 100), rng.uniform(30, 50), "fixed"))
    frame = pd.DataFrame(
        rows, columns=["name", "x", "y", "bearing", "fov", "range_m", "camera_type"]
    ).astype({c: float for c in ("x", "y", "bearing", "fov", "range_m")})
    lonlat = gpd.GeoSeries(shapely.points(frame["x"], frame["y"]), crs=crs_metric).to_crs(
        "EPSG:4326"
    )
    frame["lon"], frame["lat"] = lonlat.x.round(7), lonlat.y.round(7)
    frame["camera_id"] = [f"CAM{i + 1:05d}" for i in range(len(frame))]
    frame["mount_height"] = rng.uniform(3.5, 6.5, size=len(frame)).round(1)
    for c in ("bearing", "fov", "range_m"):
        frame[c] = frame[c].round(1)
    frame["name"] = [f"{n}{i + 1:04d}" for i, n in enumerate(frame["name"])]
    return frame.drop(columns=["x", "y"])


#: Patrol sessions of a grid worker's day: (start, local hours; minutes).
SESSIONS = ((8.5, 95.0), (14.5, 90.0))


def patrol_routes(
    grids_m: gpd.GeoDataFrame, roads_m: gpd.GeoDataFrame, *, progress: bool = False
) -> list[tuple[list, np.ndarray]]:
    """Per grid (metric CRS): the street pieces its worker walks and their lengths."""
    tree = shapely.STRtree(roads_m.geometry.to_numpy())
    routes = []
    for grid in tqdm(
        grids_m.geometry,
        desc="patrol routes",
        leave=False,
        disable=not progress,
    ):
        idx = tree.query(grid, predicate="intersects")
        pieces = [
            p
            for p in shapely.intersection(roads_m.geometry.to_numpy()[idx], grid.buffer(15))
            if not p.is_empty
        ]
        lines = []
        for p in pieces:
            lines.extend(getattr(p, "geoms", [p]))
        lines = [ln for ln in lines if ln.geom_type == "LineString" and ln.length > 10]
        if not lines:
            ring = (
                grid.exterior
                if grid.geom_type == "Polygon"
                else max(grid.geoms, key=lambda g: g.area).exterior
            )
            lines = [shapely.LineString(ring.coords)]
        routes.append((lines, np.array([ln.length for ln in lines])))
    return routes


def patrol_day(
    route: tuple[list, np.ndarray], day: datetime, rng: np.random.Generator
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """One worker's walks on the local day ``day`` (its midnight in the county's time zone, an
    aware datetime): per session the metric x, y and the Unix time of each fix. Some days are skipped
    (8 %) or cut to one short walk (12 %)."""
    lines, lengths = route
    u = rng.random()
    if u < 0.08:
        return []  # skipped day
    sessions = list(SESSIONS)
    if u < 0.20:
        sessions = [sessions[int(rng.integers(0, 2))]]
        sessions = [(sessions[0][0], float(rng.uniform(30, 70)))]
    out = []
    for start_h, minutes in sessions:
        t0 = day + timedelta(hours=start_h + float(rng.normal(0, 0.4)))
        n_fix = int(minutes * 2)
        dist = np.arange(n_fix) * 30 * rng.uniform(1.0, 1.3)  # metres walked at each fix
        xs, ys = _walk(lines, lengths, dist, rng)
        xs += rng.normal(0, 6, n_fix)
        ys += rng.normal(0, 6, n_fix)
        start_s = t0.timestamp()
        out.append((xs, ys, start_s + 30.0 * np.arange(n_fix)))
    return out


def patrol_columns(
    who: list[str],
    xs: list[np.ndarray],
    ys: list[np.ndarray],
    secs: list[np.ndarray],
    rng: np.random.Generator,
    crs_metric,
) -> dict[str, np.ndarray]:
    """Fixes given per walk in metric coordinates -> columns worker_id, secs (Unix time), lon,
    lat (WGS84) and accuracy (m) of every fix."""
    if not who:
        return {k: np.zeros(0) for k in ("worker_id", "secs", "lon", "lat", "accuracy")}
    x, y = np.concatenate(xs), np.concatenate(ys)
    lon, lat = Transformer.from_crs(crs_metric, "EPSG:4326", always_xy=True).transform(x, y)
    return {
        "worker_id": np.repeat(who, [len(v) for v in xs]),
        "secs": np.concatenate(secs),
        "lon": np.round(lon, 7),
        "lat": np.round(lat, 7),
        "accuracy": rng.uniform(3, 12, len(x)).round(1),
    }


def patrol_rows(columns: dict[str, np.ndarray]) -> list[tuple]:
    """(worker_id, at, lon, lat, accuracy) rows for :meth:`Store.add_patrol_points`."""
    if not len(columns["secs"]):
        return []
    stamps = pd.to_datetime(columns["secs"], unit="s", utc=True).strftime(STAMP_FORMAT)
    return list(
        zip(
            columns["worker_id"].tolist(),
            stamps,
            columns["lon"].tolist(),
            columns["lat"].tolist(),
            columns["accuracy"].tolist(),
            strict=True,
        )
    )


def _patrols(
    grids: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    workers: pd.DataFrame,
    *,
    end: datetime,
    gps_days: int,
    rng: np.random.Generator,
    crs_metric,
) -> list[tuple]:
    routes = patrol_routes(
        grids.to_crs(crs_metric),
        roads.to_crs(crs_metric),
        progress=log.isEnabledFor(logging.INFO),
    )
    who, xs_all, ys_all, secs_all = [], [], [], []
    midnight = end.astimezone(COUNTY).replace(hour=0, minute=0, second=0, microsecond=0)
    first_day = midnight - timedelta(days=gps_days)
    for w, route in zip(workers.itertuples(), routes, strict=True):
        for d in range(gps_days):
            for xs, ys, secs in patrol_day(route, first_day + timedelta(days=d), rng):
                keep = secs <= end.timestamp()
                if not keep.any():
                    continue
                who.append(w.worker_id)
                xs_all.append(xs[keep])
                ys_all.append(ys[keep])
                secs_all.append(secs[keep])
    return patrol_rows(patrol_columns(who, xs_all, ys_all, secs_all, rng, crs_metric))


def _walk(
    lines: list, lengths: np.ndarray, dist: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Positions along a random sequence of street pieces at the walked distances ``dist``."""
    order = []
    total = 0.0
    while total < dist[-1] + 1:
        j = int(rng.integers(0, len(lines)))
        order.append(j)
        total += lengths[j]
    starts = np.concatenate([[0.0], np.cumsum(lengths[order])])
    which = np.searchsorted(starts, dist, side="right") - 1
    pieces = np.asarray(lines, dtype=object)[np.asarray(order)[which]]
    coords = shapely.get_coordinates(shapely.line_interpolate_point(pieces, dist - starts[which]))
    xs, ys = coords[:, 0].copy(), coords[:, 1].copy()
    return xs, ys


def simulate(
    store: Store,
    *,
    days: int = DAYS,
    seed: int = 20261122,
    end: datetime | None = None,
    per_day: float = PER_DAY,
    gps_days: int = GPS_DAYS,
    first_sequence: int = 0,
) -> dict[str, int]:
    """Fill ``store`` (holding the demo county and a published grid version) with operational data.

    Parameters
    ----------
    days
        Days of cases before ``end``.
    end
        The simulated "now" (UTC); default: the current minute, so the demo is up to date when
        set up. Same seed and end, same data. Recorded in the store's meta table as
        ``demo_simulated_until`` (and ``demo_fed_until``, where the live feed,
        :mod:`wangge.demo.feed`, carries on), unless a later time is recorded already.
    per_day
        Mean cases per day in the county.
    gps_days
        Days of patrol GPS tracks before ``end``.
    first_sequence
        Case numbers of each day start after this one (``C<yyyymmdd>-<n>``), so that a second
        simulation into the same store (a benchmark topping up its cases) adds cases instead of
        meeting the first one's ids.

    Returns
    -------
    dict
        Rows written per table.
    """
    if store.published_grid_version() is None:
        raise RuntimeError(
            f"{store.path}: no published grid version; run `wangge demo setup` first"
        )
    end = (end or datetime.now(UTC).replace(second=0, microsecond=0)).astimezone(UTC)
    start = end - timedelta(days=days)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    grids = store.grids(scope=WHOLE_COUNTY)
    buildings = store.buildings(scope=WHOLE_COUNTY)
    pois = store.basemap_layer("pois")
    roads = store.basemap_layer("roads")
    communities = store.admin_units("community", scope=WHOLE_COUNTY)
    crs_metric = grids.estimate_utm_crs()
    rural = set(communities.loc[communities["kind"] == "rural", "code"])

    workers = _workers(grids, rng)
    store.replace_workers(workers)

    model = CaseModel.build(
        buildings.to_crs(crs_metric), pois.to_crs(crs_metric), rural, crs_metric
    )
    cases, events = _cases(
        model, start=start, end=end, per_day=per_day, rng=rng, first_sequence=first_sequence
    )
    located = Locator(store).locate_many(
        np.array([c["lon"] for c in cases]), np.array([c["lat"] for c in cases])
    )
    for c, loc in zip(cases, located, strict=True):
        c.update(loc)
    n_cases = store.insert_cases_bulk(cases, events, scope=WHOLE_COUNTY)
    log.info("simulated %d cases in %.1f s", n_cases, time.perf_counter() - t0)

    cams = _cameras(roads, buildings, pois, rng, crs_metric)
    located = Locator(store).locate_many(cams["lon"].to_numpy(), cams["lat"].to_numpy())
    cams["grid_code"] = [loc["grid_code"] for loc in located]
    offline = rng.random(len(cams)) < 0.07
    cams["status"] = np.where(offline, "offline", "online")
    store.upsert_cameras(cams, scope=WHOLE_COUNTY)
    beats = []
    for cid, off in zip(cams["camera_id"], offline, strict=True):
        last = (
            end - timedelta(minutes=float(rng.uniform(0.5, 4)))
            if not off
            else end - timedelta(hours=float(rng.uniform(2, 72)))
        )
        beats.append((cid, stamp(last), not off))
    store.record_heartbeats(beats, scope=WHOLE_COUNTY)

    points = _patrols(
        grids, roads, workers, end=end, gps_days=gps_days, rng=rng, crs_metric=crs_metric
    )
    n_points = store.add_patrol_points(points, scope=WHOLE_COUNTY)
    for key in ("demo_simulated_until", "demo_fed_until"):
        if (store.get_meta(key) or "") < stamp(end):
            store.set_meta(key, stamp(end))
    log.info("simulation done in %.1f s", time.perf_counter() - t0)
    return {
        "workers": len(workers),
        "cases": n_cases,
        "case_events": len(events),
        "cameras": len(cams),
        "patrol_points": n_points,
    }
