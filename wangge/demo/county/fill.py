"""Building footprints for the synthetic demo county (see :mod:`wangge.demo.county`).

Blocks are filled with rows of rectangles laid out in the block's own orientation, which keeps
footprints of one row apart by construction; footprints are then kept only where they lie wholly
inside the buildable part of the block (off roads, river, railway). Household counts follow the
rules documented in :mod:`wangge.demo.county`.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import shapely
from shapely import LineString, Polygon

__all__ = [
    "Buildings",
    "Frame",
    "clip_across",
    "face_angle",
    "fill_face",
    "hamlet",
    "pack_rows",
    "pond",
    "rects",
]

TOWER_TYPES = {4: (28.0, 18.0), 6: (38.0, 19.0), 8: (46.0, 20.0), 16: (92.0, 22.0)}
"""Tower footprint (length, depth) in metres by units per floor."""


class Buildings:
    """Column-wise accumulator of generated buildings."""

    COLUMNS = ("kind", "floors", "households", "special", "compound_id", "hamlet_id", "name")

    def __init__(self) -> None:
        self.cols: dict[str, list] = defaultdict(list)

    def add(self, geoms, *, unit: int, priority: int = 5, **attrs) -> None:
        """Append footprints; scalar attributes are broadcast, arrays taken element-wise."""
        geoms = np.asarray(geoms, dtype=object).reshape(-1)
        n = len(geoms)
        if n == 0:
            return
        defaults = {"special": "", "compound_id": "", "hamlet_id": "", "name": ""}
        self.cols["geometry"].append(geoms)
        self.cols["unit"].append(np.full(n, unit))
        self.cols["priority"].append(np.full(n, priority))
        for col in self.COLUMNS:
            val = attrs.get(col, defaults.get(col))
            if val is None:
                raise KeyError(col)
            self.cols[col].append(np.broadcast_to(np.asarray(val), (n,)).copy())

    def arrays(self) -> dict[str, np.ndarray]:
        """Concatenated columns (including ``geometry``, ``unit`` and ``priority``)."""
        return {k: np.concatenate(v) for k, v in self.cols.items()}


# --------------------------------------------------------------------------- primitives


def rects(cx, cy, w, d, ang) -> np.ndarray:
    """Rectangles of size ``w`` x ``d`` centred at ``(cx, cy)``, rotated by ``ang`` radians."""
    cx, cy, w, d, ang = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(a, float)) for a in (cx, cy, w, d, ang))
    )
    c, s = np.cos(ang)[:, None], np.sin(ang)[:, None]
    lx = np.stack([-w, w, w, -w, -w], axis=1) / 2
    ly = np.stack([-d, -d, d, d, -d], axis=1) / 2
    x = cx[:, None] + lx * c - ly * s
    y = cy[:, None] + lx * s + ly * c
    return shapely.polygons(np.stack([x, y], axis=-1))


def face_angle(poly: Polygon) -> float:
    """Direction (radians) of the side of the oriented envelope closest to east-west."""
    xy = shapely.get_coordinates(shapely.oriented_envelope(poly))
    dx, dy = np.diff(xy[:3], axis=0).T
    ang = np.arctan2(dy, dx)
    ang = (ang + np.pi / 2) % np.pi - np.pi / 2
    return float(ang[np.argmin(np.abs(ang))])


def pack_rows(
    region, angle, rng, *, depth, lengths, gap_along, gap_across, depth_var=0.0, dropout=0.0
):
    """Rows of rectangles along ``angle`` filling ``region``.

    Parameters
    ----------
    region
        Polygon (or MultiPolygon) to fill; only rectangles wholly inside it are kept.
    angle
        Row direction in radians.
    rng
        Random generator.
    depth
        Callable ``() -> float``: depth of each row.
    lengths
        Callable ``(n) -> (lengths, attrs)``: lengths along the row and an integer attribute
        per rectangle (e.g. stairwells).
    gap_along, gap_across
        Callables ``(n) -> gaps`` and ``(row) -> gap``.
    depth_var
        Each rectangle's depth is shrunk by up to this share, staying inside its row.
    dropout
        Share of rectangles left out at random (vacant plots).

    Returns
    -------
    tuple of numpy.ndarray
        ``(polygons, attrs, centres_local_row)``.
    """
    if region.is_empty or region.area < 50:
        return np.array([], dtype=object), np.array([], int), np.array([], int)
    ox, oy = region.centroid.x, region.centroid.y
    c, s = np.cos(angle), np.sin(angle)
    local = shapely.transform(
        region,
        lambda xy: np.c_[
            (xy[:, 0] - ox) * c + (xy[:, 1] - oy) * s, -(xy[:, 0] - ox) * s + (xy[:, 1] - oy) * c
        ],
    )
    minx, miny, maxx, maxy = local.bounds
    cxs, cys, ws, ds, attrs, rows = [], [], [], [], [], []
    y = miny + rng.uniform(0.5, 3.0)
    row = 0
    while True:
        d_row = depth()
        if y + d_row > maxy:
            break
        x0 = minx + rng.uniform(0, 6)
        n = int((maxx - x0) / 6) + 2
        L, at = lengths(n)
        g = gap_along(n)
        starts = x0 + np.r_[0.0, np.cumsum(L + g)[:-1]]
        ok = starts + L <= maxx
        L, at, starts = L[ok], at[ok], starts[ok]
        d = d_row * (1 - depth_var * rng.random(len(L)))
        front = rng.random(len(L)) < 0.5
        yc = np.where(front, y + d / 2, y + d_row - d / 2)
        cxs.append(starts + L / 2)
        cys.append(yc)
        ws.append(L)
        ds.append(d)
        attrs.append(at)
        rows.append(np.full(len(L), row))
        y += d_row + gap_across(row)
        row += 1
    if not cxs:
        return np.array([], dtype=object), np.array([], int), np.array([], int)
    lx, ly = np.concatenate(cxs), np.concatenate(cys)
    wx, dx = np.concatenate(ws), np.concatenate(ds)
    at, rw = np.concatenate(attrs), np.concatenate(rows)
    gx, gy = ox + lx * c - ly * s, oy + lx * s + ly * c
    polys = rects(gx, gy, wx, dx, angle)
    shapely.prepare(region)
    keep = shapely.contains(region, polys)
    if dropout:
        keep &= rng.random(len(polys)) >= dropout
    return polys[keep], at[keep], rw[keep]


def place_one(region, w, d, angle, rng, tries=12):
    """One ``w`` x ``d`` rectangle inside ``region``, near its centre if possible, else None."""
    if region.is_empty:
        return None
    p = region.point_on_surface()
    cands = [(p.x, p.y)]
    minx, miny, maxx, maxy = region.bounds
    cands += list(zip(rng.uniform(minx, maxx, tries), rng.uniform(miny, maxy, tries), strict=True))
    for scale in (1.0, 0.8, 0.65, 0.5):
        for a in (angle, angle + np.pi / 2):
            polys = rects([q[0] for q in cands], [q[1] for q in cands], w * scale, d * scale, a)
            ok = shapely.contains(region, polys)
            if ok.any():
                return polys[np.argmax(ok)]
    return None


def _uniform(rng, lo, hi):
    return lambda n=None: rng.uniform(lo, hi) if n is None else rng.uniform(lo, hi, n)


def _lengths(rng, lo, hi):
    return lambda n: (rng.uniform(lo, hi, n), np.zeros(n, int))


# --------------------------------------------------------------------------- town blocks


def _dense(out, region, angle, rng, unit, *, village: bool):
    """Old-town or urban-village houses in back-to-back rows with alleys."""
    polys, _, _ = pack_rows(
        region,
        angle,
        rng,
        depth=_uniform(rng, 11, 14) if village else _uniform(rng, 10, 14.5),
        lengths=_lengths(rng, 9, 13) if village else _lengths(rng, 7, 12.5),
        gap_along=lambda n: np.where(
            np.arange(n) % 7 == 6, rng.uniform(3.5, 5.0, n), rng.uniform(0.6, 1.6, n)
        ),
        gap_across=lambda r: 0.8 if r % 2 == 0 else rng.uniform(2.5, 4.0),
        depth_var=0.2,
        dropout=0.08,
    )
    n = len(polys)
    floors = rng.choice([1, 2, 3], size=n, p=[0.2, 0.5, 0.3] if village else [0.3, 0.5, 0.2])
    hh = np.where((floors >= 2) & (rng.random(n) < (0.45 if village else 0.3)), 2, 1)
    out.add(polys, unit=unit, kind="house", floors=floors, households=hh, priority=6)


def _walkups(out, region, angle, rng, unit, cid, *, dorm=False):
    def lengths(n):
        stairs = rng.choice([2, 3, 4], size=n, p=[0.3, 0.45, 0.25])
        return stairs * rng.uniform(12.5, 14.0, n), stairs

    polys, stairs, _ = pack_rows(
        region,
        angle,
        rng,
        depth=_uniform(rng, 11.5, 12.5),
        lengths=lengths,
        gap_along=_uniform(rng, 9, 16),
        gap_across=lambda r: rng.uniform(19, 27),
        dropout=0.12,
    )
    if dorm:
        polys, stairs = polys[:2], stairs[:2]
    floors = rng.choice([5, 6, 7], size=len(polys), p=[0.08, 0.85, 0.07])
    out.add(
        polys,
        unit=unit,
        kind="walkup",
        floors=floors,
        households=floors * 2 * stairs,
        compound_id=cid,
        priority=3,
    )


def _towers(
    out, region, angle, rng, unit, cid, *, super_row: bool, units: int, floors_base: int, cap=None
):
    """Rows of towers of one type; with ``super_row`` one central tower becomes a 16-unit slab.

    With ``cap``, towers are kept from the centre outwards while their households stay within
    it (the rest of the court is green space); a slab's court is not capped.
    """
    length, depth = TOWER_TYPES[units]
    polys, u, _ = pack_rows(
        region,
        angle,
        rng,
        depth=lambda: depth,
        lengths=lambda n: (np.full(n, length), np.full(n, units)),
        gap_along=_uniform(rng, 22, 34),
        gap_across=lambda r: rng.uniform(45, 62),
    )
    if super_row and len(polys):
        xy = shapely.get_coordinates(shapely.centroid(polys))
        ctr = region.point_on_surface()
        for i in np.argsort(np.hypot(xy[:, 0] - ctr.x, xy[:, 1] - ctr.y), kind="stable"):
            slab = rects(xy[i, 0], xy[i, 1], *TOWER_TYPES[16], angle)[0]
            if region.contains(slab):
                clash = shapely.intersects(polys, slab.buffer(15))  # includes tower i
                polys = np.r_[polys[~clash], np.array([slab], dtype=object)]
                u = np.r_[u[~clash], 16]
                break
    jitter = rng.choice([0, 0, 0, 2, 4], size=len(u))
    floors = np.where(u == 16, 33, np.maximum(18, floors_base - jitter))
    if cap is not None and len(polys) and not (u == 16).any():
        xy = shapely.get_coordinates(shapely.centroid(polys))
        ctr = region.point_on_surface()
        near = np.argsort(np.hypot(xy[:, 0] - ctr.x, xy[:, 1] - ctr.y), kind="stable")
        keep = near[np.cumsum((floors * u)[near]) <= cap]
        keep = np.sort(keep if len(keep) else near[:1])
        polys, u, floors = polys[keep], u[keep], floors[keep]
    out.add(
        polys,
        unit=unit,
        kind="tower",
        floors=floors,
        households=floors * u,
        compound_id=cid,
        priority=2,
    )


ESTATE_SPACING_M = {
    "tower": ((125.0, 145.0), (80.0, 95.0)),
    "walkup": ((125.0, 150.0), (95.0, 115.0)),
}
"""Spacing of estate roads (along the rows, across the rows) by compound type: courts (组团) of
two towers or eight to ten walk-ups, roughly 150 to 400 households each."""

COURT_MAX_HOUSEHOLDS = 450
"""Tower courts hold at most this many households (one grid, or a grid with a neighbour's)."""

LANE_SPACING_M = ((75.0, 95.0), (60.0, 80.0))
DENSE_LANES_AREA = 20000.0  # m2: dense blocks larger than this get lanes
"""Spacing of lanes (巷) laid through large old-town and urban-village blocks."""


class Frame:
    """A block's local frame: u along ``angle``, v across it, origin at ``(ox, oy)``."""

    def __init__(self, ox: float, oy: float, angle: float) -> None:
        self.ox, self.oy, self.c, self.s = ox, oy, np.cos(angle), np.sin(angle)

    def to_local(self, geom):
        ox, oy, c, s = self.ox, self.oy, self.c, self.s
        return shapely.transform(
            geom,
            lambda xy: np.c_[
                (xy[:, 0] - ox) * c + (xy[:, 1] - oy) * s,
                -(xy[:, 0] - ox) * s + (xy[:, 1] - oy) * c,
            ],
        )

    def to_world(self, geom):
        ox, oy, c, s = self.ox, self.oy, self.c, self.s
        return shapely.transform(
            geom,
            lambda xy: np.c_[ox + xy[:, 0] * c - xy[:, 1] * s, oy + xy[:, 0] * s + xy[:, 1] * c],
        )

    def line(self, u0, v0, u1, v1, block, *, avoid=None, min_length=25.0) -> list:
        """The segment (u0, v0)-(u1, v1) across ``block`` (see :func:`clip_across`), left out
        where it would run along a line of ``avoid`` (a buffer around lines already there)."""
        seg = self.to_world(LineString([(u0, v0), (u1, v1)]))
        out = clip_across(seg, block, min_length=min_length)
        if avoid is not None:
            out = [ln for ln in out if ln.intersection(avoid).length < 12.0]
        return out


def clip_across(line, area, *, overshoot=3.0, min_length=25.0, vertex_every=20.0) -> list:
    """Straight pieces of ``line`` inside ``area``, each end on the area's edge pushed
    ``overshoot`` metres across it (so that noding joins it to the street or edge there) when
    it crosses the edge at more than about 35 degrees, else pulled back as far (a dead end:
    a piece grazing the edge would leave sliver blocks). Pieces get a vertex every
    ``vertex_every`` metres, like the town's streets: the blocks on either side of a line then
    share most of their edge vertex for vertex, however else they are cut."""
    edge = area.boundary
    out = []
    for piece in shapely.get_parts(line.intersection(area)):
        if piece.geom_type != "LineString" or piece.length <= min_length:
            continue
        xy = shapely.get_coordinates(piece)
        a, b = xy[0], xy[-1]
        d = (b - a) / np.hypot(*(b - a))
        ends = []
        for p, sign in ((a, -1.0), (b, 1.0)):
            push = 0.0
            if edge.distance(shapely.Point(p)) < 1e-6:
                inner = shapely.Point(p - sign * d * 4.0)
                push = overshoot if edge.distance(inner) > 2.3 else -overshoot
            ends.append(p + sign * d * push)
        out.append(shapely.segmentize(LineString(ends), vertex_every))
    return out


def _positions_between(rng, lo: float, hi: float, spacing: float) -> np.ndarray:
    """Interior cut positions splitting [lo, hi] into pieces of about ``spacing``."""
    n = int(round((hi - lo) / spacing))
    if n < 2:
        return np.array([])
    return lo + (hi - lo) * np.arange(1, n) / n + rng.uniform(-6, 6, n - 1)


def _dense_lanes(region, block, angle, rng, roads: list, avoid=None) -> object:
    """Lanes (巷) through a large dense block; returns the buildable region left between them."""
    fr = Frame(region.centroid.x, region.centroid.y, angle)
    minx, miny, maxx, maxy = fr.to_local(region).bounds
    far = 60.0 + max(maxx - minx, maxy - miny)
    lines = []
    for u in _positions_between(rng, minx, maxx, rng.uniform(*LANE_SPACING_M[0])):
        lines += fr.line(u, miny - far, u, maxy + far, block, avoid=avoid)
    for v in _positions_between(rng, miny, maxy, rng.uniform(*LANE_SPACING_M[1])):
        lines += fr.line(minx - far, v, maxx + far, v, block, avoid=avoid)
    if not lines:
        return region
    roads += [(ln, "lane", "") for ln in lines]
    clear = shapely.union_all(shapely.buffer(np.array(lines, dtype=object), 3.0, quad_segs=4))
    return region.difference(clear)


def _compounds(
    out, region, angle, rng, unit, east: bool, next_cid, super_row: bool, block, roads, avoid
):
    """Residential compounds (小区) in strips across the block; with ``roads`` (a list to extend)
    the strips are separated by estate roads and each large compound gets a grid of estate
    roads from gate to gate on the surrounding streets, splitting it into courts (组团)."""
    region = region.buffer(-5)
    if region.is_empty:
        return
    fr = Frame(region.centroid.x, region.centroid.y, angle)
    minx, miny, maxx, maxy = fr.to_local(region).bounds
    far = 60.0 + max(maxx - minx, maxy - miny)
    lay_roads = roads is not None and block is not None
    n = 1 if maxx - minx < 240 else 2 if maxx - minx < 450 else 3
    cuts = np.linspace(minx, maxx, n + 1)
    cuts[1:-1] += rng.uniform(-30, 30, n - 1)
    lines: list = []
    if lay_roads:
        for u in cuts[1:-1]:
            lines += fr.line(u, miny - far, u, maxy + far, block, avoid=avoid)
    compounds = []  # (part, compound id, tower?): filled once all estate roads are laid
    for k in range(n):
        strip = shapely.box(
            cuts[k] + (6 if k else -1), miny - 1, cuts[k + 1] - (6 if k < n - 1 else -1), maxy + 1
        )
        strip = fr.to_world(strip)
        for part in shapely.get_parts(region.intersection(strip)):
            if part.area < 3000:
                continue
            tower = super_row or rng.random() < (0.45 if east else 0.15)
            compounds.append((part, next_cid(), tower))
            if lay_roads and part.area > 15000:
                sp_u, sp_v = (
                    rng.uniform(*r) for r in ESTATE_SPACING_M["tower" if tower else "walkup"]
                )
                pu0, pv0, pu1, pv1 = fr.to_local(part).bounds
                u0 = cuts[k] - 8 if k else minx - far
                u1 = cuts[k + 1] + 8 if k < n - 1 else maxx + far
                if not super_row:
                    for u in _positions_between(rng, pu0, pu1, sp_u):
                        lines += fr.line(u, miny - far, u, maxy + far, block, avoid=avoid)
                for v in _positions_between(rng, pv0, pv1, sp_v):
                    lines += fr.line(u0, v, u1, v, block, avoid=avoid)
    clear = None
    if lines:
        clear = shapely.union_all(shapely.buffer(np.array(lines, dtype=object), 5.0, quad_segs=4))
        roads += [(ln, "service", "") for ln in lines]
    for part, cid, tower in compounds:
        courts = part if clear is None else part.difference(clear)
        courts = [c for c in shapely.get_parts(courts) if c.area > 1200]
        if tower:
            units = int(rng.choice([4, 6, 8], p=[0.5, 0.35, 0.15]))
            floors_base = int(rng.choice([18, 24, 26, 28, 30, 32, 33]))
            if units == 8:  # two towers of a court stay within one grid (<= 500)
                floors_base = min(floors_base, 31)
            biggest = int(np.argmax([c.area for c in courts])) if courts else -1
            for i, court in enumerate(courts):
                _towers(
                    out,
                    court,
                    angle,
                    rng,
                    unit,
                    cid,
                    super_row=super_row and i == biggest,
                    units=units,
                    floors_base=floors_base,
                    cap=COURT_MAX_HOUSEHOLDS if clear is not None else None,
                )
            super_row = False
        else:
            for court in courts:
                _walkups(out, court, angle, rng, unit, cid)


def _facility(out, region, angle, rng, unit, use: str, name: str, extra_water: list):
    """Schools, hospitals, markets, government offices, parks, stations, commercial blocks."""
    region = region.buffer(-6)
    if region.is_empty:
        return
    before = sum(len(g) for g in out.cols["geometry"])
    _facility_layout(out, region, angle, rng, unit, use, name, extra_water)
    if sum(len(g) for g in out.cols["geometry"]) == before:  # awkward block: one plain building
        kind = {"government_small": "government", "bus_station": "station"}.get(use, use)
        kind = {"train_station": "station", "park": "pavilion"}.get(kind, kind)
        special = use if use in ("school", "hospital", "market", "government", "park") else ""
        special = "government" if use == "government_small" else special
        one = place_one(region, 40.0, 16.0, angle, rng, tries=40)
        if one is not None:
            out.add(
                [one],
                unit=unit,
                kind=kind,
                floors=3,
                households=0,
                special=special,
                name=name,
                priority=1,
            )


_SPECIAL = {
    "government_small": "government",
    "school": "school",
    "hospital": "hospital",
    "market": "market",
    "government": "government",
    "park": "park",
}
#: Single-building facilities: use -> (length m, depth m, floors).
_SINGLE_SIZE = {
    "government": (72, 22, 7),
    "government_small": (45, 16, 4),
    "market": (58, 40, 2),
    "bus_station": (60, 24, 2),
    "train_station": (120, 30, 2),
}
_SINGLE_KIND = {
    "government_small": "government",
    "bus_station": "station",
    "train_station": "station",
}


def _facility_layout(out, region, angle, rng, unit, use, name, extra_water):
    """The buildings of one facility block, by use (see :func:`fill_face`)."""
    add = dict(unit=unit, special=_SPECIAL.get(use, ""), name=name, households=0, priority=1)
    if use == "school":
        _school(out, region, angle, rng, add)
    elif use == "hospital":
        _hospital(out, region, angle, rng, add)
    elif use in _SINGLE_SIZE:
        _single_facility(out, region, angle, rng, use, add)
    elif use == "commercial":
        _commercial(out, region, angle, rng, add)
    elif use == "park":
        _park(out, region, angle, rng, name, extra_water, add)


def _school(out, region, angle, rng, add: dict) -> None:
    """Teaching blocks around a sports ground (a track when the block is large enough)."""
    big = region.area > 35000
    track = None
    if region.area > 20000:
        track = place_one(region, 175 if big else 110, 92 if big else 60, angle, rng)
    rest = region.difference(track.buffer(10)) if track is not None else region
    polys, _, _ = pack_rows(
        rest,
        angle,
        rng,
        depth=_uniform(rng, 13, 16),
        lengths=_lengths(rng, 45, 72),
        gap_along=_uniform(rng, 14, 22),
        gap_across=lambda r: rng.uniform(20, 28),
    )
    polys = polys[: 8 if big else 4]
    out.add(polys, kind="school", floors=rng.integers(4, 6, len(polys)), **add)


def _hospital(out, region, angle, rng, add: dict) -> None:
    """A ward tower and up to four low blocks."""
    polys, _, _ = pack_rows(
        region,
        angle,
        rng,
        depth=_uniform(rng, 18, 26),
        lengths=_lengths(rng, 40, 80),
        gap_along=_uniform(rng, 14, 20),
        gap_across=lambda r: rng.uniform(18, 26),
    )
    polys = polys[:5]
    floors = np.r_[rng.integers(12, 17), rng.integers(3, 7, max(len(polys) - 1, 0))]
    out.add(polys, kind="hospital", floors=floors[: len(polys)], **add)


def _single_facility(out, region, angle, rng, use: str, add: dict) -> None:
    """One main building (government, market, station); a county government gets annexes."""
    length, depth, floors = _SINGLE_SIZE[use]
    main = place_one(region, length, depth, angle, rng)
    if main is None:
        return
    out.add([main], kind=_SINGLE_KIND.get(use, use), floors=floors, **add)
    if use == "government":
        rest = region.difference(main.buffer(15))
        polys, _, _ = pack_rows(
            rest,
            angle,
            rng,
            depth=_uniform(rng, 14, 18),
            lengths=_lengths(rng, 30, 50),
            gap_along=_uniform(rng, 15, 25),
            gap_across=lambda r: rng.uniform(20, 30),
        )
        out.add(polys[:3], kind="government", floors=rng.integers(3, 6, len(polys[:3])), **add)


def _commercial(out, region, angle, rng, add: dict) -> None:
    """Up to three deep shopping buildings."""
    polys, _, _ = pack_rows(
        region,
        angle,
        rng,
        depth=_uniform(rng, 30, 45),
        lengths=_lengths(rng, 45, 85),
        gap_along=_uniform(rng, 15, 25),
        gap_across=lambda r: rng.uniform(20, 30),
    )
    out.add(polys[:3], kind="commercial", floors=rng.integers(4, 7, len(polys[:3])), **add)


def _park(out, region, angle, rng, name: str, extra_water: list, add: dict) -> None:
    """A lake (appended to ``extra_water``) and a few pavilions."""
    r = 0.22 * np.sqrt(region.area)
    lake = pond(rng, region.point_on_surface().x, region.point_on_surface().y, r)
    lake = lake.intersection(region.buffer(-20))
    lake = max(shapely.get_parts(lake), key=lambda g: g.area) if not lake.is_empty else None
    rest = region if lake is None else region.difference(lake.buffer(12))
    if lake is not None and lake.area > 500:
        extra_water.append((lake, "lake", f"{name}湖"))
    polys, _, _ = pack_rows(
        rest,
        angle,
        rng,
        depth=lambda: 8.0,
        lengths=_lengths(rng, 8, 10),
        gap_along=_uniform(rng, 60, 120),
        gap_across=lambda r: rng.uniform(60, 110),
    )
    out.add(polys[:5], kind="pavilion", floors=1, **add)


def _industry(out, region, angle, rng, unit, name, dorm: bool, next_cid):
    """Factory sheds of one enterprise, with a workers' dormitory (a walk-up) when ``dorm``."""
    region = region.buffer(-8)
    if region.is_empty:
        return
    if dorm:
        # a three-stairwell, six-floor walk-up: 36 households
        block = place_one(region, 40.0, 12.0, angle, rng, tries=20)
        if block is not None:
            out.add(
                [block],
                unit=unit,
                kind="walkup",
                floors=6,
                households=36,
                compound_id=next_cid(),
                priority=3,
            )
            region = region.difference(block.buffer(15))
    polys, _, _ = pack_rows(
        region,
        angle,
        rng,
        depth=_uniform(rng, 24, 48),
        lengths=_lengths(rng, 45, 130),
        gap_along=_uniform(rng, 15, 25),
        gap_across=lambda r: rng.uniform(18, 30),
    )
    floors = np.where(rng.random(len(polys)) < 0.8, 1, 2)
    out.add(
        polys,
        unit=unit,
        kind="industrial",
        floors=floors,
        households=0,
        special="industrial",
        name=name,
        priority=4,
    )


def _warehouses(out, region, angle, rng, unit):
    polys, _, _ = pack_rows(
        region.buffer(-6),
        angle,
        rng,
        depth=_uniform(rng, 20, 35),
        lengths=_lengths(rng, 40, 90),
        gap_along=_uniform(rng, 12, 25),
        gap_across=lambda r: rng.uniform(15, 25),
        dropout=0.3,
    )
    out.add(polys, unit=unit, kind="warehouse", floors=1, households=0, priority=4)


def fill_face(
    out: Buildings,
    region,
    use: str,
    rng,
    unit: int,
    *,
    east: bool,
    next_cid,
    name: str = "",
    super_row: bool = False,
    dorm: bool = False,
    extra_water: list | None = None,
    block=None,
    roads: list | None = None,
    avoid=None,
) -> None:
    """Fill one town block's buildable area according to its use.

    ``use`` is one of ``vacant`` (land awaiting development: nothing is built), ``oldtown``,
    ``uvillage``, ``compound``, ``industry``, ``warehouse`` or a
    facility (``school``, ``hospital``, ``market``, ``government``, ``government_small``,
    ``park``, ``commercial``, ``bus_station``, ``train_station``). With ``block`` (the block's
    polygon up to the street centre lines) and ``roads`` (a list), large compounds get estate
    roads and large dense blocks lanes, appended to ``roads`` as ``(line, road_class, name)``;
    the buildings keep clear of them; none runs along a line of ``avoid`` (a polygon around
    the lines already inside the block, e.g. dead-end lanes).
    """
    if use == "vacant" or region.is_empty or region.area < 60:
        return
    angle = face_angle(region)
    lanes = roads is not None and block is not None and region.area > DENSE_LANES_AREA
    if use in ("oldtown", "uvillage"):
        if lanes:
            region = _dense_lanes(region, block, angle, rng, roads, avoid)
        _dense(out, region, angle, rng, unit, village=use == "uvillage")
    elif use == "compound":
        _compounds(out, region, angle, rng, unit, east, next_cid, super_row, block, roads, avoid)
    elif use == "industry":
        _industry(out, region, angle, rng, unit, name, dorm, next_cid)
    elif use == "warehouse":
        dense = rng.random() < 0.5
        if dense and lanes:
            region = _dense_lanes(region, block, angle, rng, roads, avoid)
        _warehouses(out, region, angle, rng, unit)
        if dense:
            _dense(out, region.buffer(-2), angle + 0.0, rng, unit, village=True)
    else:
        _facility(
            out, region, angle, rng, unit, use, name, extra_water if extra_water is not None else []
        )


# --------------------------------------------------------------------------- countryside


def pond(rng, x, y, r) -> Polygon:
    """A smooth, star-shaped pond of mean radius ``r`` around ``(x, y)``."""
    phi = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    rad = np.ones_like(phi)
    for k in (2, 3):
        rad += rng.uniform(0.05, 0.18) * np.cos(k * phi + rng.uniform(0, 7))
    return Polygon(np.c_[x + r * rad * np.cos(phi) * 1.3, y + r * rad * np.sin(phi) * 0.8])


def hamlet(rng, road: LineString, s0: float, n_houses: int):
    """Houses, outbuildings and lanes of one natural village strung along ``road``.

    Returns ``(houses, sheds, shed_owner, lanes)``: candidate house footprints ordered by
    distance from the hamlet centre (more than needed, to survive filtering), outbuilding
    footprints, the index of each outbuilding's house, and lane centre lines.
    """
    per_side = 1 if n_houses <= 40 else 2 if n_houses <= 90 else 3
    n_cols = int(np.ceil(n_houses * 1.5 / (2 * per_side))) + 2
    spacing = rng.uniform(19, 24)
    lane_every = 6 if per_side >= 2 else 0
    span = (n_cols - 1) * spacing
    s = s0 + np.arange(n_cols) * spacing - span / 2
    s = s[(s > 8) & (s < road.length - 8)]
    is_lane = np.zeros(len(s), bool)
    if lane_every:
        is_lane[lane_every // 2 :: lane_every] = True
    p = shapely.get_coordinates(shapely.line_interpolate_point(road, s))
    t = shapely.get_coordinates(
        shapely.line_interpolate_point(road, s + 4)
    ) - shapely.get_coordinates(shapely.line_interpolate_point(road, s - 4))
    t /= np.hypot(t[:, 0], t[:, 1])[:, None]
    nrm = np.c_[-t[:, 1], t[:, 0]]
    ang = np.arctan2(t[:, 1], t[:, 0])
    offs = 15.0 + 24.0 * np.arange(per_side)
    lanes = [
        LineString([p[i] - nrm[i] * (offs[-1] + 12), p[i] + nrm[i] * (offs[-1] + 12)])
        for i in np.flatnonzero(is_lane)
    ]
    cols = np.flatnonzero(~is_lane)
    houses, sheds, owner, dist = [], [], [], []
    for side in (1, -1):
        for off in offs:
            m = len(cols)
            w, d = rng.uniform(10, 13.5, m), rng.uniform(8.5, 11, m)
            jit = rng.uniform(-1.5, 1.5, m)
            ctr = p[cols] + side * nrm[cols] * off + t[cols] * jit[:, None]
            a = ang[cols] + rng.normal(0, 0.03, m)
            h = rects(ctr[:, 0], ctr[:, 1], w, d, a)
            base = sum(len(x) for x in houses)
            houses.append(h)
            dist.append(np.abs(s[cols] - s0) + off * 0.5)
            has = rng.random(m) < 0.35
            sw, sd = rng.uniform(4, 6.5, m), rng.uniform(3.5, 5, m)
            sc = ctr + side * nrm[cols] * (d / 2 + 1.5 + sd / 2)[:, None]
            sheds.append(rects(sc[has, 0], sc[has, 1], sw[has], sd[has], a[has]))
            owner.append(base + np.flatnonzero(has))
    houses, dist = np.concatenate(houses), np.concatenate(dist)
    sheds, owner = np.concatenate(sheds), np.concatenate(owner)
    order = np.argsort(dist, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return houses[order], sheds, rank[owner], lanes
