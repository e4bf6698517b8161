"""Layout of the synthetic demo county (see :mod:`wangge.demo.county`): outline, river, railway, the county
seat's street network, the rural village division and the road network.

Everything here works in local metres around the county seat (x east, y north); :mod:`wangge.demo.county`
shifts the result into CGCS2000 Gauss-Kruger coordinates at the end. Street lines that meet are
built to share their meeting vertex exactly, so that noding and polygonising them gives blocks
that tile the town without slivers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import LineString, Polygon

__all__ = [
    "ROAD_CLEARANCE_M",
    "ROAD_WIDTHS_M",
    "Layout",
    "Zone",
    "admin_faces",
    "make_layout",
    "road_network",
    "rural_roads",
    "village_cells",
]

ROAD_WIDTHS_M = {
    "arterial": 24.0,
    "collector": 14.0,
    "local": 8.0,
    "lane": 4.0,
    "service": 6.0,
    "track": 4.0,
}
"""Carriageway width by road class; buildings keep clear of half of it around the centre line.

``service`` are the estate roads inside residential compounds (小区路/组团路), ``track`` the farm
tracks of the field system (机耕路/田间道), both in OpenStreetMap's ``highway`` vocabulary.
"""

ROAD_CLEARANCE_M = {
    "arterial": 16.0,
    "collector": 10.0,
    "local": 6.0,
    "lane": 3.0,
    "service": 5.0,
    "track": 3.0,
}
"""Distance from a road's centre line that buildings keep (half carriageway plus a setback)."""

CLASS_RANK = {"arterial": 0, "collector": 1, "local": 2, "lane": 3, "service": 4, "track": 5}
TOWN_ANGLE = 0.2  # rotation of the town's street grid, radians
RIVER_HALF_WIDTH = 30.0
RIVERSIDE_OFFSET = 65.0
RAIL_CLEARANCE = 16.0


class Zone:
    """Land-use zones of the county seat, as small integer codes."""

    COMPOUND_W = 0
    COMPOUND_E = 1
    OLD_TOWN = 2
    URBAN_VILLAGE = 3
    INDUSTRY = 4
    CIVIC = 5
    WAREHOUSE = 6


def smooth_field(rng: np.random.Generator, amplitude: float, wl_min: float, wl_max: float, n=5):
    """A smooth random displacement field ``f(xy) -> dxy``, injective when added to identity.

    The amplitude is capped so that the field's worst-case gradient stays below 0.8, which makes
    ``xy + f(xy)`` a homeomorphism: displaced shapes keep their topology.
    """
    wl = rng.uniform(wl_min, wl_max, size=(2, n))
    ang = rng.uniform(0, np.pi, size=(2, n))
    k = 2 * np.pi / wl
    kx, ky = k * np.cos(ang), k * np.sin(ang)
    phase = rng.uniform(0, 2 * np.pi, size=(2, n))
    amp = np.full((2, n), amplitude / np.sqrt(n))
    worst = np.sqrt(((amp * k).sum(axis=1) ** 2).sum())
    amp *= min(1.0, 0.8 / worst)

    def displace(xy: np.ndarray) -> np.ndarray:
        uniq, inv = np.unique(xy, axis=0, return_inverse=True)
        x, y = uniq[:, :1], uniq[:, 1:2]
        dx = (amp[0] * np.sin(x * kx[0] + y * ky[0] + phase[0])).sum(axis=1)
        dy = (amp[1] * np.sin(x * kx[1] + y * ky[1] + phase[1])).sum(axis=1)
        return np.stack([dx, dy], axis=1)[inv.reshape(-1)]

    return displace


def _displaced(geom, fld, taper_line: bool = False):
    """Apply ``xy + fld(xy)``; with ``taper_line`` the ends of a line stay fixed."""
    if not taper_line:
        return shapely.transform(geom, lambda xy: xy + fld(xy))
    xy = shapely.get_coordinates(geom)
    seg = np.r_[0.0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
    t = seg / seg[-1]
    return LineString(xy + fld(xy) * np.sin(np.pi * t)[:, None])


def _ellipse(x, y, cx, cy, rx, ry, ang=TOWN_ANGLE):
    c, s = np.cos(ang), np.sin(ang)
    dx, dy = x - cx, y - cy
    u, v = dx * c + dy * s, -dx * s + dy * c
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


@dataclass
class Layout:
    """The county's large-scale geometry, in local metres."""

    county: Polygon
    ring: Polygon
    river_line: LineString
    river: Polygon
    railway: LineString
    town_lines: list[tuple[LineString, str, str]]
    river_y: np.ndarray
    river_xs: np.ndarray
    rail_x: np.ndarray
    rail_ys: np.ndarray
    old_centre: tuple[float, float]
    civic_centre: tuple[float, float]
    village_spots: list[tuple[float, float, float, float]] = field(default_factory=list)

    def river_x(self, y):
        """x of the river's centre line at ``y`` (the river runs south to north)."""
        return np.interp(y, self.river_y, self.river_xs)

    def rail_y(self, x):
        """y of the railway at ``x`` (the railway runs west to east)."""
        return np.interp(x, self.rail_x, self.rail_ys)

    def zone_of(self, x, y) -> np.ndarray:
        """Land-use :class:`Zone` code at points (arrays)."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        east = x > self.river_x(y)
        north = y > self.rail_y(x)
        zone = np.where(east, Zone.COMPOUND_E, Zone.COMPOUND_W)
        zone = np.where(east & _ellipse(x, y, *self.civic_centre, 500, 400), Zone.CIVIC, zone)
        for cx, cy, rx, ry in self.village_spots:
            zone = np.where(_ellipse(x, y, cx, cy, rx, ry), Zone.URBAN_VILLAGE, zone)
        old = ~east & ~north & _ellipse(x, y, *self.old_centre, 760, 600)
        zone = np.where(old, Zone.OLD_TOWN, zone)
        zone = np.where(~east & north & (zone != Zone.URBAN_VILLAGE), Zone.WAREHOUSE, zone)
        return np.where(east & north, Zone.INDUSTRY, zone)


# --------------------------------------------------------------------------- outline


def _county(rng: np.random.Generator) -> Polygon:
    phi = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    r = np.ones_like(phi)
    for k in range(2, 7):
        r += rng.uniform(0.02, 0.07) / (k - 1) ** 0.5 * np.cos(k * phi + rng.uniform(0, 7))
    x = 1000 + 9000 * r * np.cos(phi)
    y = -600 + 7000 * r * np.sin(phi)
    poly = Polygon(np.c_[x, y])
    return _displaced(poly, smooth_field(rng, 300, 1500, 4000))


def _ring(rng: np.random.Generator) -> Polygon:
    phi = np.linspace(0, 2 * np.pi, 480, endpoint=False)
    r = 1 + sum(rng.uniform(0.02, 0.05) * np.cos(k * phi + rng.uniform(0, 7)) for k in (2, 3, 5))
    u, v = 2100 * r * np.cos(phi), 1600 * r * np.sin(phi)
    c, s = np.cos(TOWN_ANGLE), np.sin(TOWN_ANGLE)
    return Polygon(np.c_[u * c - v * s, u * s + v * c + 50])


def _river(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(-16000.0, 16000.1, 20.0)
    ramp = np.clip((np.abs(y) - 2500) / 3500, 0, 1)
    amp = 230 + 450 * ramp * ramp * (3 - 2 * ramp)
    p1, p2 = rng.uniform(0, 2 * np.pi, 2)
    x = 380 + 0.12 * y + amp * np.sin(2 * np.pi * y / 2600 + p1)
    x += 0.3 * amp * np.sin(2 * np.pi * y / 1100 + p2)
    return y, x


def _railway(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(-16000.0, 16000.1, 50.0)
    y = 1000 + 0.05 * x + 150 * np.sin(2 * np.pi * x / 16000 + rng.uniform(0, 2 * np.pi))
    return x, y


# --------------------------------------------------------------------------- town streets


def _town_warp(rng: np.random.Generator):
    a = rng.uniform(0, 2 * np.pi, 4)
    c, s = np.cos(TOWN_ANGLE), np.sin(TOWN_ANGLE)

    def warp(uv: np.ndarray) -> np.ndarray:
        uniq, inv = np.unique(uv, axis=0, return_inverse=True)
        u, v = uniq[:, 0], uniq[:, 1]
        du = 60 * np.sin(2 * np.pi * v / 3300 + a[0]) + 35 * np.sin(
            2 * np.pi * (u + v) / 2300 + a[1]
        )
        dv = 55 * np.sin(2 * np.pi * u / 3000 + a[2]) + 30 * np.sin(
            2 * np.pi * (u - v) / 2100 + a[3]
        )
        uu, vv = u + du, v + dv
        return np.stack([uu * c - vv * s, uu * s + vv * c + 50], axis=1)[inv.reshape(-1)]

    return warp


def _positions(rng, lo, hi, step_lo, step_hi):
    out, p = [], lo + rng.uniform(0, step_lo / 2)
    while p < hi:
        out.append(p)
        p += rng.uniform(step_lo, step_hi)
    return out


def _town_segments(rng: np.random.Generator, zone_at):
    """Axis-aligned street segments in the town's (u, v) frame.

    Returns rows ``(orient, c, a, b, cls)``: orient "h" is a line v = c from u = a to b,
    "v" a line u = c from v = a to b.
    """
    U, V = 3100.0, 2500.0
    segs: list[tuple[str, float, float, float, str]] = []
    majors = {}
    for orient, lim, other, (lo, hi) in (("v", U, V, (850, 1150)), ("h", V, U, (800, 1050))):
        art = _positions(rng, -lim, lim, lo, hi)
        lines = [(p, "arterial") for p in art]
        for p0, p1 in zip(art[:-1], art[1:], strict=True):
            if rng.random() < 0.85:
                lines.append((p0 + (p1 - p0) * rng.uniform(0.4, 0.6), "collector"))
        lines.sort()
        majors[orient] = [p for p, _ in lines]
        segs += [(orient, p, -other, other, cls) for p, cls in lines]
    us, vs = majors["v"], majors["h"]
    for u0, u1 in zip(us[:-1], us[1:], strict=True):
        for v0, v1 in zip(vs[:-1], vs[1:], strict=True):
            zone = zone_at((u0 + u1) / 2, (v0 + v1) / 2)
            if zone in (Zone.OLD_TOWN, Zone.URBAN_VILLAGE):
                segs += _dense_cell(rng, u0, u1, v0, v1)
            elif zone != Zone.CIVIC and rng.random() < 0.85:
                du, dv = u1 - u0, v1 - v0
                if du > 380 and (du >= dv or dv > 450):
                    segs.append(("v", (u0 + u1) / 2 + rng.uniform(-40, 40), v0, v1, "local"))
                if dv > 380 and (dv > du or du > 450):
                    segs.append(("h", (v0 + v1) / 2 + rng.uniform(-40, 40), u0, u1, "local"))
    return segs


def _dense_cell(rng, u0, u1, v0, v1):
    """Locals in a brick pattern and lanes (some dead-ending) for an old-town superblock."""
    segs = []
    hs = [v0] + [p for p in _positions(rng, v0 + 60, v1 - 60, 95, 140)] + [v1]
    if hs[-2] > v1 - 60:
        hs.pop(-2)
    segs += [("h", p, u0, u1, "local") for p in hs[1:-1]]
    for a, b in zip(hs[:-1], hs[1:], strict=True):
        vs_ = [u0] + _positions(rng, u0 + 55, u1 - 55, 90, 150) + [u1]
        if vs_[-2] > u1 - 55:
            vs_.pop(-2)
        segs += [("v", p, a, b, "local") for p in vs_[1:-1]]
        for c0, c1 in zip(vs_[:-1], vs_[1:], strict=True):
            if rng.random() > 0.7:
                continue
            if c1 - c0 >= b - a:  # lane across the short side, maybe dead-ending
                p = c0 + (c1 - c0) * rng.uniform(0.35, 0.65)
                end = b if rng.random() < 0.5 else a + (b - a) * rng.uniform(0.5, 0.8)
                segs.append(("v", p, a, end, "lane"))
            else:
                p = a + (b - a) * rng.uniform(0.35, 0.65)
                end = c1 if rng.random() < 0.5 else c0 + (c1 - c0) * rng.uniform(0.5, 0.8)
                segs.append(("h", p, c0, end, "lane"))
    return segs


def _segments_to_lines(segs, warp, step=30.0):
    """Warp axis-aligned segments into world lines whose junctions share exact vertices."""
    orient = np.array([s[0] for s in segs])
    c = np.array([s[1] for s in segs])
    a = np.array([min(s[2], s[3]) for s in segs])
    b = np.array([max(s[2], s[3]) for s in segs])
    h, v = np.flatnonzero(orient == "h"), np.flatnonzero(orient == "v")
    # crossing or touching: h at v=c[h] spanning u in [a,b]; v at u=c[v] spanning v in [a,b]
    hit = (
        (a[h][:, None] <= c[v][None, :])
        & (c[v][None, :] <= b[h][:, None])
        & (a[v][None, :] <= c[h][:, None])
        & (c[h][:, None] <= b[v][None, :])
    )
    params: list[np.ndarray] = []
    for i in range(len(segs)):
        n = max(int(np.ceil((b[i] - a[i]) / step)), 1)
        params.append(np.linspace(a[i], b[i], n + 1))
    for k, i in enumerate(h):
        params[i] = np.r_[params[i], c[v][hit[k]]]
    for k, i in enumerate(v):
        params[i] = np.r_[params[i], c[h][hit[:, k]]]
    uv_list = []
    for i, p in enumerate(params):
        p = np.unique(p)
        col = np.full_like(p, c[i])
        uv_list.append(np.c_[p, col] if orient[i] == "h" else np.c_[col, p])
    sizes = [len(x) for x in uv_list]
    xy = warp(np.concatenate(uv_list))
    return [LineString(part) for part in np.split(xy, np.cumsum(sizes)[:-1])]


def _town_lines(rng, lay: Layout, names) -> list[tuple[LineString, str, str]]:
    warp = _town_warp(rng)

    def zone_at(u, v):
        x, y = warp(np.array([[u, v]]))[0]
        return int(lay.zone_of(x, y))

    segs = _town_segments(rng, zone_at)
    lines = _segments_to_lines(segs, warp)
    river_cut = lay.river_line.buffer(RIVERSIDE_OFFSET - 10)
    rail_cut = lay.railway.buffer(RAIL_CLEARANCE - 2)
    out: list[tuple[LineString, str, str]] = []
    for (orient, *_, cls), line in zip(segs, lines, strict=True):
        if not (cls == "arterial" and orient == "h"):
            line = line.difference(river_cut)
        if cls != "arterial":
            line = line.difference(rail_cut)
        out += [(p, cls, "") for p in shapely.get_parts(line) if p.length > 25]
    # the historic main street: a gentle diagonal through the old town
    ox, oy = lay.old_centre
    t = np.linspace(0, 1, 60)
    xs = ox - 760 + 1500 * t + 40 * np.sin(np.pi * t * 2)
    ys = oy - 460 + 900 * t - 60 * np.sin(np.pi * t)
    old_street = LineString(np.c_[xs, ys]).difference(river_cut)
    out += [(p, "collector", "老街") for p in shapely.get_parts(old_street) if p.length > 25]
    # riverside roads on both banks
    near = lay.river_line.intersection(lay.ring.buffer(300))
    for side in (1, -1):
        off = shapely.offset_curve(near, side * RIVERSIDE_OFFSET)
        for p in shapely.get_parts(off):
            mid = p.interpolate(0.5, normalized=True)
            west = mid.x < lay.river_x(mid.y)
            out.append((p, "collector", "滨河西路" if west else "滨河东路"))
    clip = lay.ring.buffer(30)
    named = []
    for line, cls, name in out:
        if not name:
            name = {"lane": names.lane, "local": names.local_street}.get(cls, names.major_street)()
        named += [
            (p, cls, name) for p in shapely.get_parts(line.intersection(clip)) if p.length > 1
        ]
    return named


def make_layout(rng: np.random.Generator, names) -> Layout:
    """Build the county outline, river, railway, town ring and town streets."""
    county = _county(rng)
    ring = _ring(rng)
    ry, rx = _river(rng)
    river_line = LineString(np.c_[rx, ry])
    river = shapely.intersection(river_line.buffer(RIVER_HALF_WIDTH, quad_segs=4), county)
    gx, gy = _railway(rng)
    rail = LineString(np.c_[gx, gy])
    old = (float(np.interp(-150, ry, rx)) - 820, -150.0)
    civic = (float(np.interp(100, ry, rx)) + 750, 100.0)
    rail_y = float(np.interp(-1300, gx, gy))
    spots = [(-1100, rail_y + 320, 520, 260), (-1450, -950, 480, 380), (1350, -1100, 420, 320)]
    lay = Layout(county, ring, river_line, river, rail, [], ry, rx, gx, gy, old, civic, spots)
    lay.town_lines = _town_lines(rng, lay, names)
    return lay


# --------------------------------------------------------------------------- rural division


def village_cells(rng: np.random.Generator, lay: Layout, n_townships: int = 3):
    """Village seeds and boundary lines for the countryside.

    Returns ``(seeds, township_of_seed, lines, cells)``: displaced seed points (n, 2), the index
    of each seed's township (the first ``n_townships`` seeds are the township seats), the
    displaced Voronoi boundary network clipped to the countryside, and the displaced Voronoi
    cells (approximate, for labelling faces).
    """
    county, ring = lay.county, lay.ring
    inner = county.buffer(-900).difference(ring.buffer(1200))
    shapely.prepare(inner)
    cx, cy = 1000.0, -600.0
    seats = []
    base = rng.uniform(0, 2 * np.pi)
    for k in range(n_townships):
        ang = base + 2 * np.pi * k / n_townships
        for dist in np.linspace(6500, 3000, 30):
            p = (cx + dist * np.cos(ang), cy + 0.8 * dist * np.sin(ang))
            if shapely.contains_xy(inner, *p):
                break
        seats.append(p)
    pts = list(seats)
    minx, miny, maxx, maxy = county.bounds
    cand = np.c_[rng.uniform(minx, maxx, 4000), rng.uniform(miny, maxy, 4000)]
    region = county.buffer(-700).difference(ring.buffer(1100))
    for p in cand[shapely.contains_xy(region, cand[:, 0], cand[:, 1])]:
        if min(np.hypot(p[0] - q[0], p[1] - q[1]) for q in pts) >= 2000:
            pts.append(tuple(p))
    seeds = np.array(pts)
    d = np.hypot(
        seeds[:, None, 0] - seeds[None, :n_townships, 0],
        seeds[:, None, 1] - seeds[None, :n_townships, 1],
    )
    township = d.argmin(axis=1)
    cells = shapely.voronoi_polygons(
        shapely.multipoints(seeds), extend_to=county.buffer(4000), ordered=True
    )
    cells = np.asarray(shapely.get_parts(cells))
    fld = smooth_field(rng, 260, 2500, 5000)
    net = shapely.segmentize(shapely.union_all(shapely.boundary(cells)), 80)
    net = _displaced(net, fld)
    lines = net.intersection(county.buffer(40)).difference(ring.buffer(-5))
    cells = _displaced(shapely.segmentize(cells, 80), fld)
    seeds = seeds + fld(seeds)
    return seeds, township, lines, cells


def admin_faces(lay: Layout, village_lines) -> tuple[np.ndarray, np.ndarray]:
    """Polygonise boundaries, streets, river and railway into faces.

    Returns ``(faces, in_town)``: faces inside the county and a flag for faces inside the ring.
    Faces share exact edges, so unions of them tile without gaps or overlaps.
    """
    clip = lay.ring.buffer(30)
    lines = [lay.county.exterior, lay.ring.exterior, village_lines]
    lines += [line for line, _, _ in lay.town_lines]
    lines += [lay.river_line.intersection(clip), lay.railway.intersection(clip)]
    noded = shapely.union_all(shapely.get_parts(np.array(lines, dtype=object)))
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))
    rep = shapely.point_on_surface(faces)
    keep = shapely.contains(lay.county, rep) & (shapely.area(faces) > 1.0)
    faces, rep = faces[keep], rep[keep]
    return faces, shapely.contains(lay.ring, rep)


# --------------------------------------------------------------------------- rural roads


def _wiggle(rng, line: LineString, amplitude: float) -> LineString:
    fld = smooth_field(rng, amplitude, 900, 2500, n=3)
    return _displaced(shapely.segmentize(line, 40), fld, taper_line=True)


def _extend(p0, p1, by):
    d = np.subtract(p1, p0)
    return tuple(np.asarray(p1) + d / np.hypot(*d) * by)


def rural_roads(rng, lay: Layout, seeds, township, n_townships, names):
    """County roads (a provincial highway, county roads) and village roads outside the town.

    Returns rows ``(line, road_class, name)``; lines cross the ring road and each other so that
    noding connects them.
    """
    county, ring = lay.county, lay.ring
    cx, cy = ring.centroid.x, ring.centroid.y
    roads: list[tuple[LineString, str, str]] = []

    def to_ring(p, cls, name, amp=120):
        ang = np.arctan2(p[1] - cy, p[0] - cx)
        far = LineString([(cx, cy), (cx + 5000 * np.cos(ang), cy + 5000 * np.sin(ang))])
        hit = far.intersection(ring.exterior)
        q = shapely.get_parts(hit)[0]
        inside = _extend(p, (q.x, q.y), 12)
        roads.append((_wiggle(rng, LineString([p, inside]), amp), cls, name))

    # provincial highway west-east through the town
    for side in (-1, 1):
        far = (cx + side * 13000, cy + rng.uniform(-1500, 1500))
        to_ring(far, "arterial", "省道S218", amp=200)
    seats = [tuple(s) for s in seeds[:n_townships]]
    for k, s in enumerate(seats):
        to_ring(s, "collector", f"县道X{101 + k}")
    for k in range(n_townships - 1):
        a, b = seats[k], seats[k + 1]
        line = LineString([_extend(b, a, 10), _extend(a, b, 10)])
        roads.append((_wiggle(rng, line, 200), "collector", f"县道X{111 + k}"))
    for k, s in enumerate(seats):
        ang = np.arctan2(s[1] - cy, s[0] - cx) + rng.uniform(-0.5, 0.5)
        end = (s[0] + 9000 * np.cos(ang), s[1] + 9000 * np.sin(ang))
        line = LineString([_extend(end, s, 10), end])
        roads.append((_wiggle(rng, line, 150), "collector", f"县道X{121 + k}"))
    network = shapely.union_all([r for r, _, _ in roads] + [ring.exterior])
    for i, s in enumerate(seeds):
        vname = f"村道{i + 1:02d}"
        if i >= n_townships:
            p = shapely.Point(s)
            q = shapely.shortest_line(p, network).coords[-1]
            if p.distance(shapely.Point(q)) > 30:
                line = LineString([tuple(s), _extend(tuple(s), q, 6)])
                roads.append((_wiggle(rng, line, 60), "local", vname))
        for _ in range(rng.integers(1, 3)):
            ang = rng.uniform(0, 2 * np.pi)
            length = rng.uniform(1200, 2400)
            end = (s[0] + length * np.cos(ang), s[1] + length * np.sin(ang))
            line = LineString([_extend(end, tuple(s), 6), end])
            roads.append((_wiggle(rng, line, 80), "local", vname))
    keep = county.difference(ring.buffer(-14))
    out = []
    for line, cls, name in roads:
        out += [(p, cls, name) for p in shapely.get_parts(line.intersection(keep)) if p.length > 20]
    return out


# --------------------------------------------------------------------------- network


def road_network(
    sources: list[tuple[LineString, str, str]],
    keep: Polygon,
    min_stub=15.0,
    stub_zone=None,
    only_from: int = 0,
):
    """Node road lines into a connected network and merge them back per source line.

    Dead-end stubs shorter than ``min_stub`` (left where lines were extended to cross), edges
    lying wholly in ``stub_zone`` and edges outside ``keep`` are dropped. Returns rows
    ``(line, road_class, name)``, of the sources from position ``only_from`` on (the others
    only node them: lines added to a network built before).
    """
    order = sorted(range(len(sources)), key=lambda i: CLASS_RANK[sources[i][1]])
    src = [sources[i] for i in order]
    geoms = np.array([g for g, _, _ in src], dtype=object)
    edges = np.asarray(shapely.get_parts(shapely.union_all(geoms)))
    mid = shapely.line_interpolate_point(edges, 0.5, normalized=True)
    e_idx, s_idx = shapely.STRtree(geoms).query(mid, predicate="dwithin", distance=1e-6)
    owner = np.full(len(edges), len(src))
    np.minimum.at(owner, e_idx, s_idx)
    ok = (owner < len(src)) & shapely.contains(keep, mid)
    if stub_zone is not None:
        ok &= ~shapely.within(edges, stub_zone)
    for _ in range(2):
        ends = np.r_[
            shapely.get_coordinates(shapely.get_point(edges, 0)),
            shapely.get_coordinates(shapely.get_point(edges, -1)),
        ]
        ends = np.round(ends[np.r_[ok, ok]], 6)
        keys, counts = np.unique(ends, axis=0, return_counts=True)
        deg = {tuple(k): c for k, c in zip(keys, counts, strict=True)}
        a = np.round(shapely.get_coordinates(shapely.get_point(edges, 0)), 6)
        b = np.round(shapely.get_coordinates(shapely.get_point(edges, -1)), 6)
        dangle = np.array(
            [
                deg.get(tuple(p), 0) == 1 or deg.get(tuple(q), 0) == 1
                for p, q in zip(a, b, strict=True)
            ]
        )
        ok &= ~(dangle & (shapely.length(edges) < min_stub))
    out = []
    for k in np.unique(owner[ok]):
        if order[k] < only_from:
            continue
        merged = shapely.line_merge(shapely.multilinestrings(edges[ok & (owner == k)]))
        _, cls, name = src[k]
        out += [(p, cls, name) for p in shapely.get_parts(merged)]
    return out
