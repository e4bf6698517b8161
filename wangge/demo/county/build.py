"""The built-in synthetic demo county, 示范县 (虚构示范数据: fictional, synthetic data).

:func:`build_demo_county` generates a small, realistic-looking Chinese county from a random
seed and writes it to one GeoPackage. Nothing in it is real: the place, its names, its streets
and its households are invented (a fictional county code 420999 placed in the Jianghan plain of
central China). It is the test bed for grid division, cases, cameras, patrols and the dashboard,
so it deliberately contains the awkward cases those features must handle.

What is in it
-------------
- A county seat (县城) inside a ring road, split by a river into two sub-districts (城关街道 to the
  west with the old town, 东城街道 to the east with the new town and an industrial park north of
  the railway), each with 8 to 12 urban communities (社区) whose boundaries follow streets, the
  river and the railway. Among them: an industrial-park community and an old-town community under
  300 households, and one between 500 and 600 households (no split into 300-500 grids exists).
- Three rural townships (青石镇, 双桥镇, 柳河乡) of administrative villages (行政村), each with several
  natural villages (自然村, ``hamlets``) of 20 to 150 houses strung along roads; each township seat
  has a government office, a school, a health centre and a market.
- Streets classed arterial / collector / local / lane on a rotated, gently curved grid with a
  diagonal old main street (老街), riverside roads, a provincial highway, county and village roads;
  a meandering river (柳河, 60 m wide) with ponds, a park lake, and a railway with a station.
- Residential compounds (小区) as real ones are laid out: blocks of compounds are separated by
  estate roads, and every compound over 1.5 ha has a grid of estate roads (小区路/组团路) from
  gate to gate on the surrounding streets, splitting it into courts (组团) of about two towers or
  eight to ten walk-ups (roughly 150 to 400 households); large old-town and urban-village blocks
  have lanes (巷) every 60 to 95 m.
- The countryside has a plain's field system: per township a grid of farm tracks (机耕路) every
  280 to 380 m both ways, ending at the edge of each hamlet and joining the village roads, so
  that neighbouring hamlets are separated by tracks as well as fields.

Household rules (the ``households`` column is explicit, never estimated)
-------------------------------------------------------------------------
- ``walkup``: 5 to 7 floors (mostly 6), 2 to 4 stairwells, 2 units per floor per stairwell:
  households = floors x 2 x stairwells.
- ``tower``: 18 to 33 floors, 4, 6 or 8 units per floor: households = floors x units; a few
  super-towers have 33 floors x 16 units = 528 households.
- ``house`` (old-town and urban-village houses, 1 to 3 floors) and ``shophouse`` (a shop below,
  2 to 3 floors, on arterials, collectors and 老街): 1 household, 2 for some multi-storey ones.
- ``rural_house``: 1 household; ``outbuilding`` (sheds beside rural houses): 0.
- Every other kind (school, hospital, market, government, commercial, industrial, warehouse,
  station, pavilion): 0 households.

Layers (EPSG:4326; ``code`` values are 12-digit statistical area codes)
------------------------------------------------------------------------
- ``county``: code, name, source, geometry.
- ``townships``: code (county 6 + township 3 + "000"), name, kind ("subdistrict", "town",
  "township"), county_code, geometry.
- ``communities``: code (township's first 9 digits + 3; 001-199 urban, 201-399 villages), name,
  township_code, kind ("urban" or "rural"), geometry (Polygon). They tile their township; the
  townships tile the county.
- ``hamlets``: hamlet_id, name, community_code, geometry (hull around its houses).
- ``buildings``: building_id ("B000001"...), community_code, kind, floors, height_m, households,
  special ("" or school / hospital / market / industrial / government / park: places that get a
  dedicated grid), compound_id ("" or the 小区's id), hamlet_id ("" or the hamlet's id), name,
  geometry (Polygon). Buildings never overlap, never touch a carriageway, the river or a pond,
  and each lies inside exactly one community.
- ``roads``: road_id, name, road_class ("arterial", "collector", "local", "lane", and in
  OpenStreetMap's vocabulary "service" for estate roads inside compounds and "track" for farm
  tracks), geometry (LineString, noded: roads that meet share the meeting vertex, and a
  community edge along a road has the road's vertices). ``name`` is empty for estate roads,
  farm tracks and the lanes laid through large blocks (unnamed, as they mostly are).
  Carriageway widths are in :data:`ROAD_WIDTHS_M`.
- ``water``: name, kind ("river", "pond", "lake"), geometry (Polygon).
- ``railways``: name, geometry (LineString).
- ``pois``: name, kind, community_code, geometry (Point): markets, schools, hospitals, government
  offices, stations, shops, restaurants, internet cafes, community service centres and village
  committees.

The same seed gives byte-identical files.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from tqdm.auto import tqdm

from wangge.demo.county import fill, rural
from wangge.demo.county import layout as lay_mod
from wangge.demo.county.layout import ROAD_CLEARANCE_M, ROAD_WIDTHS_M, Zone
from wangge.demo.county.names import SURNAMES, NamePool

__all__ = ["COUNTY_CODE", "DEMO_CRS", "ROAD_WIDTHS_M", "SOURCE", "build_demo_county"]

log = logging.getLogger(__name__)

COUNTY_CODE = "420999"
"""Fictional county code (the 99x range is unused in Hubei)."""

DEMO_CRS = "EPSG:4547"
"""CGCS2000 / 3-degree Gauss-Kruger CM 114E: the metric CRS the county is generated in."""

SOURCE = "synthetic: 虚构示范数据 (fictional demo county generated by wangge.demo.county)"
ORIGIN_LONLAT = (113.62, 30.88)
FIXED_DATE = "2026-01-01T00:00:00.000Z"
MAX_HOUSEHOLDS = 80_000

ENTERPRISES = [
    "楚源食品有限公司",
    "恒通机械有限公司",
    "华鑫建材有限公司",
    "绿源农产品加工有限公司",
    "鑫达电子有限公司",
    "宏发包装有限公司",
    "长兴汽配有限公司",
    "青石纺织有限公司",
]
FACILITIES = [  # name, use, side (east?), offset from centre (civic east / old town west), area
    ("县人民政府", "government", True, (0, 0), (25e3, 90e3)),
    ("人民公园", "park", True, (-500, -350), (30e3, 150e3)),
    ("购物中心", "commercial", True, (300, -300), (8e3, 40e3)),
    ("县第二中学", "school", True, (600, 600), (35e3, 100e3)),
    ("职业技术学校", "school", True, (900, -700), (30e3, 100e3)),
    ("东城小学", "school", True, (-200, -800), (10e3, 35e3)),
    ("县中医院", "hospital", True, (200, 700), (12e3, 50e3)),
    ("东城农贸市场", "market", True, (500, -200), (5e3, 25e3)),
    ("东城街道办事处", "government_small", True, (-300, 400), (4e3, 25e3)),
    ("汽车客运站", "bus_station", True, (1100, 250), (8e3, 40e3)),
    ("县第一中学", "school", False, (-500, 700), (35e3, 100e3)),
    ("县人民医院", "hospital", False, (650, 450), (15e3, 60e3)),
    ("实验小学", "school", False, (0, -550), (8e3, 35e3)),
    ("城关小学", "school", False, (-950, -300), (8e3, 35e3)),
    ("城关农贸市场", "market", False, (200, 100), (3e3, 20e3)),
    ("百货大楼", "commercial", False, (350, 220), (3e3, 20e3)),
    ("城关街道办事处", "government_small", False, (-250, 300), (3e3, 20e3)),
]
POI_KIND = {
    "school": "school",
    "hospital": "hospital",
    "market": "market",
    "park": "park",
    "government": "government",
    "commercial": "shopping_mall",
    "industrial": "factory",
}
SHOP_POIS = [
    ("restaurant", "饭店", 60),
    ("supermarket", "超市", 30),
    ("internet_cafe", "网吧", 20),
    ("ktv", "KTV", 12),
    ("pharmacy", "药店", 20),
    ("bank", "银行", 10),
]
HEIGHT_PER_FLOOR = {
    "house": 3.2,
    "shophouse": 3.4,
    "rural_house": 3.2,
    "walkup": 2.9,
    "tower": 3.0,
    "school": 3.8,
    "hospital": 4.0,
    "government": 3.9,
    "commercial": 4.5,
    "market": 5.0,
    "industrial": 9.0,
    "warehouse": 8.0,
    "station": 6.0,
    "pavilion": 4.0,
    "outbuilding": 2.6,
}


# --------------------------------------------------------------------------- county seat


def _plan_town(rng, lay, faces, buildable):
    """Choose each town face's use: facilities first, then by zone."""
    rep = shapely.get_coordinates(shapely.point_on_surface(faces))
    zone = lay.zone_of(rep[:, 0], rep[:, 1])
    east = rep[:, 0] > lay.river_x(rep[:, 1])
    area = shapely.area(buildable)
    use = np.array(["compound"] * len(faces), dtype=object)
    use[zone == Zone.OLD_TOWN] = "oldtown"
    use[zone == Zone.URBAN_VILLAGE] = "uvillage"
    use[zone == Zone.WAREHOUSE] = "warehouse"
    use[zone == Zone.INDUSTRY] = "industry"
    small = (use == "compound") & (area < 9000)
    use[small] = np.where(rng.random(small.sum()) < 0.7, "uvillage", "vacant")
    roll = rng.random(len(use))
    use[(use == "compound") & (roll < 0.1)] = "vacant"
    use[(use == "compound") & ~east & (roll > 0.85)] = "uvillage"
    names = np.array([""] * len(faces), dtype=object)
    taken = np.zeros(len(faces), bool)
    for name, kind, side_east, (dx, dy), (lo, hi) in FACILITIES:
        cx, cy = lay.civic_centre if side_east else lay.old_centre
        ok = (east == side_east) & ~taken & (zone != Zone.INDUSTRY) & (zone != Zone.WAREHOUSE)
        d = np.hypot(rep[:, 0] - cx - dx, rep[:, 1] - cy - dy)
        for scale in (1.0, 0.6, 0.3):
            cand = np.flatnonzero(ok & (area >= lo * scale) & (area <= hi / scale))
            if len(cand):
                k = cand[np.argmin(d[cand])]
                use[k], names[k], taken[k] = kind, name, True
                break
    rx = 0.0
    north = np.flatnonzero((zone == Zone.WAREHOUSE) | (zone == Zone.INDUSTRY))
    north = north[area[north] > 8000]
    if len(north):
        k = north[np.argmin(np.hypot(rep[north, 0] - rx, rep[north, 1] - lay.rail_y(rx) - 150))]
        use[k], names[k], taken[k] = "train_station", "火车站", True
    ind = np.flatnonzero(use == "industry")
    for n, k in enumerate(ind):
        names[k] = ENTERPRISES[n % len(ENTERPRISES)]
    return use, names, zone, east, rep


def _group_town(rng, lay, faces, east, zone, rep, hh):
    """Group town faces into communities; returns labels and {label: (min, max) households}."""
    adj = [
        {nb: s for nb, s in nbs.items() if east[nb] == east[i]}
        for i, nbs in enumerate(rural.adjacency(faces))
    ]
    label = np.full(len(faces), -1)
    targets: dict[int, tuple[int, int]] = {}
    ind = [i for i in np.flatnonzero(zone == Zone.INDUSTRY)]
    if ind:
        comp = rural.components(ind, adj)[0]
        label[comp] = 0
        targets[0] = (1, 290)
    old = (zone == Zone.OLD_TOWN) & ~east

    def grow(lab, anchor, lo, hi):
        cand = np.flatnonzero(old & (label < 0) & (hh > 0))
        if not len(cand):
            return
        seed = cand[np.argmin(np.hypot(*(rep[cand] - anchor).T))]
        members, total = [seed], hh[seed]
        while total < lo:
            nbs = {nb for m in members for nb in adj[m] if label[nb] < 0 and old[nb]}
            nbs = [nb for nb in sorted(nbs - set(members)) if total + hh[nb] <= hi]
            if not nbs:
                break
            pick = min(nbs, key=lambda nb: np.hypot(*(rep[nb] - rep[seed])))
            members.append(pick)
            total += hh[pick]
        label[members] = lab
        targets[lab] = (lo, hi)

    ox, oy = lay.old_centre
    grow(1, (ox + 450, oy - 350), 200, 290)
    grow(2, (ox - 350, oy + 250), 525, 590)
    nxt = 3
    for side in (False, True):
        free = np.flatnonzero((label < 0) & (east == side))
        n_fixed = sum(1 for lab in targets if (east[label == lab].mean() > 0.5) == side)
        w = hh[free] + shapely.area(faces[free]) / 2000
        k = int(np.clip(round(hh[free].sum() / 2600), 8 - n_fixed, 12 - n_fixed))
        assign = np.empty(len(free), int)
        for n, part in enumerate(_bisect(rep[free], w, np.arange(len(free)), k)):
            assign[part] = n
        label[free] = nxt + assign
        nxt += k
    label = rural.make_contiguous(label, adj, frozen=frozenset(targets), weight=hh + 1.0)
    return _merge_empty(label, adj, hh, targets), targets


def _bisect(pts, w, idx, k) -> list[np.ndarray]:
    """Split points into ``k`` groups of similar weight by recursive bisection along the town's
    street axes (the longer extent first)."""
    if k == 1 or len(idx) <= 1:
        return [idx]
    c, s = np.cos(lay_mod.TOWN_ANGLE), np.sin(lay_mod.TOWN_ANGLE)
    u = pts[idx] @ np.array([[c, -s], [s, c]])
    axis = int(np.ptp(u[:, 1]) > np.ptp(u[:, 0]))
    order = np.argsort(u[:, axis], kind="stable")
    k1 = k // 2
    cum = np.cumsum(w[idx][order])
    cut = int(np.clip(np.searchsorted(cum, cum[-1] * k1 / k) + 1, 1, len(idx) - 1))
    left, right = idx[order[:cut]], idx[order[cut:]]
    return _bisect(pts, w, left, k1) + _bisect(pts, w, right, k - k1)


def _merge_empty(label, adj, hh, targets, min_households=150):
    """Merge communities with (almost) no households into the neighbour sharing most edge."""
    label = label.copy()
    while True:
        totals = {c: hh[label == c].sum() for c in np.unique(label) if c not in targets}
        small = sorted((t, c) for c, t in totals.items() if t < min_households)
        if not small:
            return label
        c = small[0][1]
        border: dict[int, float] = {}
        for m in np.flatnonzero(label == c):
            for nb, s in adj[m].items():
                if label[nb] != c and label[nb] not in targets:
                    border[label[nb]] = border.get(label[nb], 0) + s
        if not border:
            return label
        label[label == c] = max(sorted(border), key=lambda k: border[k])


def _cap_households(b, rng, cap):
    """Leave whole compounds unbuilt (land under development) until households <= ``cap``."""
    total = b["households"].sum()
    if total <= cap:
        return b
    cid = b["compound_id"]
    keep_ids = set(cid[(b["kind"] == "tower") & (b["households"] > 500)])
    drop = np.zeros(len(cid), bool)
    for c in rng.permutation(np.unique(cid[cid != ""])):
        m = cid == c
        if c in keep_ids or b["households"][m].sum() < 100:
            continue
        drop |= m
        total -= b["households"][m].sum()
        if total <= cap:
            break
    log.debug("left %d buildings unbuilt to keep households under %d", drop.sum(), cap)
    return {k: v[~drop] for k, v in b.items()}


def _shophouses(b, roads, rng) -> None:
    """Town houses fronting arterials, collectors and 老街 become shop-houses (in place)."""
    front = [
        shapely.buffer(g, ROAD_CLEARANCE_M[c] + 9)
        for g, c, _ in roads
        if c in ("arterial", "collector")
    ]
    tree = shapely.STRtree(front)
    idx = np.flatnonzero((b["kind"] == "house") & (b["unit"] < 100000))
    hit = np.unique(tree.query(b["geometry"][idx], predicate="intersects")[0])
    k = idx[hit]
    b["kind"][k] = "shophouse"
    b["floors"][k] = np.maximum(b["floors"][k], rng.choice([2, 3], size=len(k), p=[0.6, 0.4]))
    b["households"][k] = np.where(rng.random(len(k)) < 0.85, 1, 2)


def _trim(b, label, targets):
    """Remove outlying homes from communities built to a household range until they fit."""
    town = b["unit"] < 100000
    lab = np.where(town, label[np.minimum(b["unit"], len(label) - 1)], -1)
    drop = np.zeros(len(lab), bool)
    for c, (_, hi) in targets.items():
        idx = np.flatnonzero((lab == c) & (b["households"] > 0))
        total = b["households"][idx].sum()
        if total <= hi:
            continue
        xy = shapely.get_coordinates(shapely.centroid(b["geometry"][idx]))
        far = np.argsort(-np.hypot(*(xy - xy.mean(axis=0)).T), kind="stable")
        cum = np.cumsum(b["households"][idx][far])
        n = int(np.searchsorted(cum, total - hi)) + 1
        drop[idx[far[:n]]] = True
    return {k: v[~drop] for k, v in b.items()}


def _share_vertices(geoms: np.ndarray, refs: np.ndarray, tol: float = 1e-4) -> np.ndarray:
    """``geoms`` with the vertices of ``refs`` lying on them (within ``tol``) inserted.

    A street and the community edge along it are the same line, but each carries its own
    junction vertices (estate roads and tracks meet the street; village boundaries cross it).
    Off by rounding once converted to longitude/latitude, they would leave zero-width slivers
    between them; sharing the vertices keeps them identical.
    """
    pts = shapely.points(np.unique(shapely.get_coordinates(refs), axis=0))
    edges = np.where(shapely.get_dimensions(geoms) == 2, shapely.boundary(geoms), geoms)
    gi, pi = shapely.STRtree(pts).query(edges, predicate="dwithin", distance=tol)
    xy = shapely.get_coordinates(pts)
    key = xy[:, 0] + 1j * xy[:, 1]
    out = geoms.copy()
    starts = np.searchsorted(gi, np.arange(len(geoms) + 1))  # gi comes sorted
    for g in np.unique(gi):
        cand = pi[starts[g] : starts[g + 1]]
        own = shapely.get_coordinates(geoms[g])
        new = cand[~np.isin(key[cand], own[:, 0] + 1j * own[:, 1])]
        if len(new):
            out[g] = shapely.snap(geoms[g], shapely.multipoints(pts[new]), tol)
    return out


def _junctions(lines: np.ndarray) -> np.ndarray:
    """Vertices shared by two or more of ``lines`` (where roads meet or cross), as points."""
    xy, idx = shapely.get_coordinates(lines, return_index=True)
    key = xy[:, 0] + 1j * xy[:, 1]
    pairs = np.unique(np.c_[key, idx.astype(complex)], axis=0)  # each line's vertex once
    keys, counts = np.unique(pairs[:, 0], return_counts=True)
    shared = keys[counts > 1]
    return shapely.points(np.c_[shared.real, shared.imag])


def _inner_lines(block, road_geoms, road_tree, min_area=20000.0):
    """A polygon 4 m around the roads inside a large block (dead-end lanes), else None."""
    if block.area < min_area:
        return None
    inner = shapely.intersection(road_geoms[road_tree.query(block)], block.buffer(-3))
    inner = inner[~shapely.is_empty(inner)]
    return shapely.union_all(shapely.buffer(inner, 4.0, quad_segs=2)) if len(inner) else None


# --------------------------------------------------------------------------- output


def _reading_order(poly, band: float):
    """Sort key: north to south in bands of ``band`` metres, then west to east."""
    p = poly.point_on_surface()
    return (-round(p.y / band), p.x)


def _assemble(
    lay,
    names,
    b,
    tfaces,
    label,
    targets,
    vpolys,
    vtown,
    twp_names,
    hamlet_rows,
    roads,
    ponds,
    lakes,
    rng,
) -> dict[str, gpd.GeoDataFrame]:
    """Codes, names and attribute tables for every layer, converted to EPSG:4326."""
    rep = shapely.get_coordinates(shapely.point_on_surface(tfaces))
    east = rep[:, 0] > lay.river_x(rep[:, 1])
    fixed = {0: "工业园社区", 1: "鼓楼社区", 2: "文庙社区"}
    for n in fixed.values():
        names.claim(n)
    twp, com, unit_code = [], [], {}
    for sd, (sd_name, side) in enumerate((("城关街道", False), ("东城街道", True)), 1):
        sd_code = f"{COUNTY_CODE}{sd:03d}000"
        mine = [c for c in np.unique(label) if (east[label == c].mean() > 0.5) == side]
        polys = {c: rural.union(tfaces[label == c]) for c in mine}
        for n, c in enumerate(sorted(mine, key=lambda c: _reading_order(polys[c], 800)), 1):
            code = f"{sd_code[:9]}{n:03d}"
            com.append((code, fixed.get(int(c)) or names.community(), sd_code, "urban", polys[c]))
            unit_code.update({int(f): code for f in np.flatnonzero(label == c)})
        twp.append((sd_code, sd_name, "subdistrict", rural.union(list(polys.values()))))
    village_names = {}
    for t in sorted(range(len(twp_names)), key=lambda t: twp_names[t][2]):
        tname, tkind, t3 = twp_names[t]
        t_code = f"{COUNTY_CODE}{t3}000"
        mine = np.flatnonzero(vtown == t)
        for n, v in enumerate(sorted(mine, key=lambda v: _reading_order(vpolys[v], 3000)), 1):
            code = f"{t_code[:9]}{200 + n:03d}"
            village_names[code] = names.village()
            com.append((code, village_names[code], t_code, "rural", vpolys[v]))
            unit_code[100000 + int(v)] = code
        twp.append((t_code, tname, tkind, rural.union(vpolys[mine])))
    road_lines = np.array([g for g, *_ in roads], dtype=object)
    road_ends = _junctions(road_lines)
    com_polys = _share_vertices(np.array([r[4] for r in com], dtype=object), road_ends)
    com = [(*r[:4], g) for r, g in zip(com, com_polys, strict=True)]
    twp_polys = _share_vertices(np.array([r[3] for r in twp], dtype=object), road_ends)
    twp = [(*r[:3], g) for r, g in zip(twp, twp_polys, strict=True)]
    road_lines = _share_vertices(road_lines, np.r_[road_ends, com_polys])
    roads = [(g, c, n) for g, (_, c, n) in zip(road_lines, roads, strict=True)]
    county_code = f"{COUNTY_CODE}000000"
    county = gpd.GeoDataFrame(
        {"code": [county_code], "name": ["示范县"], "source": [SOURCE]},
        geometry=[rural.union([g for *_, g in twp])],
        crs=DEMO_CRS,
    )
    townships = gpd.GeoDataFrame(
        pd.DataFrame([r[:3] for r in twp], columns=["code", "name", "kind"]).assign(
            county_code=county_code
        ),
        geometry=[r[3] for r in twp],
        crs=DEMO_CRS,
    )
    communities = gpd.GeoDataFrame(
        pd.DataFrame([r[:4] for r in com], columns=["code", "name", "township_code", "kind"]),
        geometry=[r[4] for r in com],
        crs=DEMO_CRS,
    )

    ccode = np.array([unit_code[int(u)] for u in b["unit"]], dtype=object)
    xy = shapely.get_coordinates(shapely.centroid(b["geometry"]))
    order = np.lexsort((xy[:, 0], -np.round(xy[:, 1] / 50), ccode))
    per_floor = np.array([HEIGHT_PER_FLOOR.get(k, 3.5) for k in b["kind"]])
    floors = b["floors"].astype(np.int64)
    height = np.round(floors * per_floor + rng.uniform(0.3, 1.5, len(floors)), 1)
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [f"B{i:06d}" for i in range(1, len(order) + 1)],
            "community_code": ccode[order],
            "kind": b["kind"][order].astype(object),
            "floors": floors[order],
            "height_m": height[order],
            "households": b["households"][order].astype(np.int64),
            "special": b["special"][order].astype(object),
            "compound_id": b["compound_id"][order].astype(object),
            "hamlet_id": b["hamlet_id"][order].astype(object),
            "name": b["name"][order].astype(object),
        },
        geometry=b["geometry"][order],
        crs=DEMO_CRS,
    )

    hamlets = gpd.GeoDataFrame(
        {
            "hamlet_id": [h for h, *_ in hamlet_rows],
            "name": [n for _, n, *_ in hamlet_rows],
            "community_code": [unit_code[100000 + int(v)] for *_, v, _ in hamlet_rows],
        },
        geometry=[g for *_, g in hamlet_rows],
        crs=DEMO_CRS,
    )
    road_df = gpd.GeoDataFrame(
        {
            "road_id": [f"R{i:05d}" for i in range(1, len(roads) + 1)],
            "name": [n for *_, n in roads],
            "road_class": [c for _, c, _ in roads],
        },
        geometry=[g for g, *_ in roads],
        crs=DEMO_CRS,
    )
    water_rows = [("柳河", "river", g) for g in shapely.get_parts(lay.river)]
    surnames = rng.permutation(SURNAMES)
    water_rows += [(f"{surnames[i % len(surnames)]}家塘", "pond", g) for i, g in enumerate(ponds)]
    water_rows += [(n, k, g) for g, k, n in lakes]
    water = gpd.GeoDataFrame(
        pd.DataFrame([r[:2] for r in water_rows], columns=["name", "kind"]),
        geometry=[r[2] for r in water_rows],
        crs=DEMO_CRS,
    )
    rail = [g for g in shapely.get_parts(lay.railway.intersection(county.geometry[0]))]
    railways = gpd.GeoDataFrame({"name": ["楚北铁路"] * len(rail)}, geometry=rail, crs=DEMO_CRS)
    pois = _pois(buildings, communities, rng)
    shift = np.array(
        Transformer.from_crs("EPSG:4326", DEMO_CRS, always_xy=True).transform(*ORIGIN_LONLAT)
    )
    layers = {
        "county": county,
        "townships": townships,
        "communities": communities,
        "hamlets": hamlets,
        "buildings": buildings,
        "roads": road_df,
        "water": water,
        "railways": railways,
        "pois": pois,
    }
    return {k: _to_lonlat(v, shift) for k, v in layers.items()}


def _pois(buildings: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, rng) -> gpd.GeoDataFrame:
    """Places that attract cases: facilities, service centres, shops and entertainment."""
    rows = []
    named = buildings[buildings["name"] != ""].drop_duplicates("name")
    for _, r in named.iterrows():
        kind = POI_KIND.get(r["special"] or r["kind"], r["kind"])
        if r["kind"] == "station":
            kind = "train_station" if r["name"] == "火车站" else "bus_station"
        rows.append((r["name"], kind, r["community_code"], r.geometry.centroid))
    homes = buildings[buildings["households"] > 0]
    for _, c in communities.iterrows():
        mine = homes[homes["community_code"] == c["code"]]
        if mine.empty:
            mine = buildings[buildings["community_code"] == c["code"]]
        if mine.empty:
            continue
        p = c.geometry.point_on_surface()
        near = mine.geometry.values[np.argmin(shapely.distance(mine.geometry.values, p))]
        kind, suffix = (
            ("community_centre", "服务中心")
            if c["kind"] == "urban"
            else ("village_committee", "村委会")
        )
        rows.append((f"{c['name']}{suffix}", kind, c["code"], near.centroid))
    shops = buildings[buildings["kind"] == "shophouse"]
    picks = rng.permutation(len(shops))
    at = 0
    for kind, word, count in SHOP_POIS:
        for i in picks[at : at + count]:
            r = shops.iloc[i]
            rows.append(
                (f"{rng.choice(SURNAMES)}记{word}", kind, r["community_code"], r.geometry.centroid)
            )
        at += count
    return gpd.GeoDataFrame(
        pd.DataFrame([r[:3] for r in rows], columns=["name", "kind", "community_code"]),
        geometry=[r[3] for r in rows],
        crs=DEMO_CRS,
    )


def _to_lonlat(gdf: gpd.GeoDataFrame, shift) -> gpd.GeoDataFrame:
    gdf = gdf.copy()
    gdf["geometry"] = shapely.transform(gdf.geometry.values, lambda xy: xy + shift)
    gdf = gdf.set_crs(DEMO_CRS, allow_override=True).to_crs("EPSG:4326")
    return gdf


def _write(layers: dict[str, gpd.GeoDataFrame], path: Path, seed: int) -> None:
    """Write all layers into one GeoPackage, byte-identical for identical input."""
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    tmp.unlink(missing_ok=True)
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
    try:
        for name, gdf in layers.items():
            pyogrio.write_dataframe(
                gdf,
                tmp,
                layer=name,
                driver="GPKG",
                promote_to_multi=False,
                layer_options={"DESCRIPTION": f"示范县 {name} ({SOURCE}, seed {seed})"},
                layer_metadata={"source": SOURCE, "seed": str(seed)},
            )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    os.replace(tmp, path)


# --------------------------------------------------------------------------- the build


def build_demo_county(
    out_dir: Path, *, seed: int = 20261122, progress: bool = True
) -> dict[str, Path]:
    """Generate the synthetic demo county and write ``out_dir/demo_county.gpkg``.

    Parameters
    ----------
    out_dir
        Folder to write into; created when missing. An existing file is replaced.
    seed
        Random seed. The same seed gives a byte-identical file.
    progress
        Show a progress bar (tqdm) on stderr.

    Returns
    -------
    dict of str to pathlib.Path
        ``{"gpkg": path}``.

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> out = build_demo_county(Path(tempfile.mkdtemp()), progress=False)  # doctest: +SKIP
    >>> gpd.read_file(out["gpkg"], layer="county").loc[0, "name"]  # doctest: +SKIP
    '示范县'
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    r_lay, r_names, r_town, r_rural, r_misc, r_group = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)
    )
    names = NamePool(r_names)
    bar = tqdm(total=6, desc="demo county", unit="step", disable=not progress)

    bar.set_postfix_str("layout")
    lay = lay_mod.make_layout(r_lay, names)
    seeds, township, vlines, cells = lay_mod.village_cells(r_lay, lay, n_townships=3)
    faces, in_town = lay_mod.admin_faces(lay, vlines)
    tfaces, rfaces = faces[in_town], faces[~in_town]
    vpolys, vtown, vseed = rural.villages(r_rural, lay, rfaces, seeds, township, cells)
    bar.update()

    bar.set_postfix_str("roads")
    rural_rd = lay_mod.rural_roads(r_lay, lay, seeds, township, 3, names)
    sites = rural.hamlet_sites(r_rural, lay, vpolys, vseed, seeds, 3, rural_rd)
    hamlet_names = [names.hamlet() for _ in sites]
    candidates, lanes = [], []
    for (_, ridx, s, n), hname in zip(sites, hamlet_names, strict=True):
        houses, sheds, owner, hl = fill.hamlet(r_rural, rural_rd[ridx][0], s, n)
        candidates.append((houses, sheds, owner))
        lanes += [(ln, "lane", f"{hname}巷") for ln in hl]
    ring_line = shapely.LineString(lay.ring.exterior.coords)
    sources = lay.town_lines + [(ring_line, "arterial", "环城路")] + rural_rd + lanes
    band = lay.ring.buffer(35).difference(lay.ring)  # where town streets overshoot the ring
    roads = lay_mod.road_network(sources, lay.county, stub_zone=band)
    site_xy = [
        tuple(shapely.get_coordinates(rural_rd[r][0].interpolate(s))[0]) for _, r, s, _ in sites
    ]
    ponds = rural.ponds(r_rural, lay, roads, site_xy)
    barrier = rural.barriers(
        roads,
        [
            lay.river_line.buffer(lay_mod.RIVER_HALF_WIDTH + 12),
            lay.railway.buffer(lay_mod.RAIL_CLEARANCE),
        ]
        + [p.buffer(4) for p in ponds],
    )
    btree = shapely.STRtree(barrier)
    bar.update()

    bar.set_postfix_str("town")
    out = fill.Buildings()
    counter = iter(range(1, 10**6))

    def next_cid() -> str:
        return f"C{next(counter):04d}"

    tbuild = np.array([rural.buildable(f, barrier, btree) for f in tfaces], dtype=object)
    use, fnames, zone, east, rep = _plan_town(r_town, lay, tfaces, tbuild)
    comp = np.flatnonzero((use == "compound") & east)
    super_faces = set(comp[np.argsort(-shapely.area(tbuild[comp]), kind="stable")[:4]].tolist())
    lakes: list = []
    estate: list = []  # estate roads and lanes laid inside blocks by fill_face
    road_geoms = np.array([g for g, _, _ in roads], dtype=object)
    road_tree = shapely.STRtree(road_geoms)
    n_ind = 0
    for k in range(len(tfaces)):
        dorm = use[k] == "industry" and (n_ind < 2 or r_town.random() < 0.3)
        n_ind += use[k] == "industry"
        fill.fill_face(
            out,
            tbuild[k],
            use[k],
            r_town,
            k,
            east=bool(east[k]),
            next_cid=next_cid,
            name=fnames[k],
            super_row=k in super_faces,
            dorm=dorm,
            extra_water=lakes,
            block=tfaces[k],
            roads=estate,
            avoid=_inner_lines(tfaces[k], road_geoms, road_tree),
        )
    bar.update()

    bar.set_postfix_str("villages")
    twp_names = rural.township_names(lay, vpolys, vtown)
    hamlet_rows = []
    along: dict[int, list] = {}  # village road -> extents (s from, s to) of its hamlets
    for h, ((v, ridx, s, n), (houses, sheds, owner)) in enumerate(
        zip(sites, candidates, strict=True)
    ):
        region = rural.buildable(vpolys[v], barrier, btree)
        shapely.prepare(region)
        unit = 100000 + v
        blocked = np.array([], dtype=object)
        if int(vseed[v]) < 3 and n == 150:
            blocked = rural.seat_facilities(
                out, region, rural_rd[ridx][0], s, twp_names[vtown[v]], unit
            )
        ok = shapely.contains(region, houses)
        if len(blocked):
            ok &= ~shapely.intersects(shapely.union_all(blocked), houses)
        idx = np.flatnonzero(ok)
        idx = idx[rural.drop_overlaps(houses[idx], np.zeros(len(idx)))][:n]
        if len(idx) < 15:
            continue
        hid = f"H{len(hamlet_rows) + 1:04d}"
        kept = np.zeros(len(houses), bool)
        kept[idx] = True
        sk = kept[owner] & shapely.contains(region, sheds)
        floors = r_rural.choice([1, 2, 3], size=len(idx), p=[0.3, 0.55, 0.15])
        out.add(
            houses[idx],
            unit=unit,
            kind="rural_house",
            floors=floors,
            households=1,
            hamlet_id=hid,
            priority=7,
        )
        out.add(
            sheds[sk],
            unit=unit,
            kind="outbuilding",
            floors=1,
            households=0,
            hamlet_id=hid,
            priority=8,
        )
        hull = shapely.convex_hull(shapely.union_all(np.r_[houses[idx], sheds[sk]])).buffer(8)
        hull = max(shapely.get_parts(hull.intersection(vpolys[v])), key=lambda g: g.area)
        hamlet_rows.append((hid, hamlet_names[h], v, hull))
        on_road = rural_rd[ridx][0].project(shapely.points(shapely.get_coordinates(hull)))
        along.setdefault(ridx, []).append((float(on_road.min()), float(on_road.max())))
    cols = out.cols
    loose = np.concatenate(  # rural buildings outside hamlets: the township seats' facilities
        [
            g[h == ""]
            for g, u, h in zip(cols["geometry"], cols["unit"], cols["hamlet_id"], strict=True)
            if u[0] >= 100000
        ]
    )
    keep_out = shapely.union_all(
        np.r_[
            shapely.buffer(loose, 10.0, quad_segs=2),
            shapely.buffer(np.array([g for *_, g in hamlet_rows], dtype=object), 6.0, quad_segs=2),
            shapely.buffer(np.array(ponds, dtype=object), 6.0),
            np.array(
                [
                    lay.river_line.buffer(lay_mod.RIVER_HALF_WIDTH + 6),
                    lay.railway.buffer(lay_mod.RAIL_CLEARANCE),
                    lay.ring.buffer(80),
                ],
                dtype=object,
            ),
        ]
    )
    areas = [rural.union(vpolys[vtown == t]) for t in range(int(vtown.max()) + 1)]
    tracks = rural.field_tracks(
        r_rural, areas, keep_out, extra=rural.tracks_between(rural_rd, along)
    )
    # estate roads, lanes and tracks join the network built before (whose streets the
    # buildings were placed against): noded with it, their overshoots trimmed
    roads = roads + lay_mod.road_network(
        list(roads) + estate + tracks, lay.county, stub_zone=band, only_from=len(roads)
    )
    bar.update()

    bar.set_postfix_str("communities")
    b = out.arrays()
    keep = rural.drop_overlaps(b["geometry"], b["priority"])
    b = {k: v[keep] for k, v in b.items()}
    b = _cap_households(b, r_misc, MAX_HOUSEHOLDS)
    _shophouses(b, roads, r_misc)
    town = b["unit"] < 100000
    hh_face = np.bincount(b["unit"][town], weights=b["households"][town], minlength=len(tfaces))
    label, targets = _group_town(r_group, lay, tfaces, east, zone, rep, hh_face)
    b = _trim(b, label, targets)
    layers = _assemble(
        lay,
        names,
        b,
        tfaces,
        label,
        targets,
        vpolys,
        vtown,
        twp_names,
        hamlet_rows,
        roads,
        ponds,
        lakes,
        r_misc,
    )
    bar.update()

    bar.set_postfix_str("write")
    path = out_dir / "demo_county.gpkg"
    _write(layers, path, seed)
    bar.update()
    bar.close()
    bld = layers["buildings"]
    com = layers["communities"]
    per = bld.groupby("community_code")["households"].sum().reindex(com["code"], fill_value=0)
    log.info(
        "demo county (seed %d): %d buildings, %d households, %d communities (%d-%d households "
        "each), %d hamlets, %d roads -> %s",
        seed,
        len(bld),
        bld["households"].sum(),
        len(com),
        per.min(),
        per.max(),
        len(layers["hamlets"]),
        len(layers["roads"]),
        path,
    )
    return {"gpkg": path}
