"""The county seat's plan: the use of every town block and its grouping into urban communities.

:func:`plan_town` gives each block inside the ring road its use (the county's facilities first,
near where a county seat has them, then compounds, old town, urban village, industry or
warehouses by zone); :func:`group_town` groups the built blocks into 8 to 12 communities per
sub-district, with the awkward ones on purpose (an industrial park and an old-town community
under 300 households, one between 500 and 600).
"""

from __future__ import annotations

import numpy as np
import shapely

from wangge.demo.county import layout as lay_mod
from wangge.demo.county import rural
from wangge.demo.county.layout import Zone

__all__ = ["ENTERPRISES", "FACILITIES", "group_town", "plan_town"]

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


def plan_town(rng, lay, faces, buildable):
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


def group_town(rng, lay, faces, east, zone, rep, hh):
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
