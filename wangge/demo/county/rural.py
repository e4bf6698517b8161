"""Countryside and topology helpers for the synthetic demo county (see :mod:`wangge.demo.county`).

Face adjacency and contiguity repair (used for villages, townships and town communities),
overlap removal, buildable areas, village labelling, natural-village sites, ponds and the
facilities of township seats.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely import LineString

from wangge.demo.county import fill
from wangge.demo.county.layout import ROAD_CLEARANCE_M

__all__ = [
    "TOWNSHIPS",
    "adjacency",
    "barriers",
    "buildable",
    "components",
    "drop_overlaps",
    "field_tracks",
    "tracks_between",
    "hamlet_sites",
    "make_contiguous",
    "ponds",
    "seat_facilities",
    "township_names",
    "union",
    "villages",
]

TOWNSHIPS = [("青石镇", "town", "100"), ("双桥镇", "town", "101"), ("柳河乡", "township", "200")]
"""Rural townships: name, kind and 3-digit code (镇 100-199, 乡 200-399)."""


def adjacency(polys: np.ndarray) -> list[dict[int, float]]:
    """Neighbours sharing an edge, with the shared boundary length."""
    i, j = shapely.STRtree(polys).query(polys, predicate="intersects")
    m = i < j
    i, j = i[m], j[m]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(polys[i]), shapely.boundary(polys[j]))
    )
    adj: list[dict[int, float]] = [{} for _ in polys]
    for a, b, s in zip(i, j, shared, strict=True):
        if s > 1.0:
            adj[a][b] = s
            adj[b][a] = s
    return adj


def components(members: list[int], adj) -> list[list[int]]:
    left, out = set(members), []
    for m in members:
        if m not in left:
            continue
        comp, stack = [], [m]
        left.discard(m)
        while stack:
            x = stack.pop()
            comp.append(x)
            for nb in adj[x]:
                if nb in left:
                    left.discard(nb)
                    stack.append(nb)
        out.append(sorted(comp))
    return sorted(out, key=lambda c: (-len(c), c[0]))


def make_contiguous(label: np.ndarray, adj, frozen=frozenset(), weight=None) -> np.ndarray:
    """Give each label one connected piece: stray pieces join the neighbour sharing most edge."""
    label = label.copy()
    weight = np.ones(len(label)) if weight is None else weight
    for _ in range(20):
        changed = False
        for lab in np.unique(label):
            comps = components(list(np.flatnonzero(label == lab)), adj)
            comps.sort(key=lambda c: (-weight[c].sum(), -len(c), c[0]))
            for comp in comps[1:]:
                border: dict[int, float] = {}
                for m in comp:
                    for nb, s in adj[m].items():
                        if label[nb] != lab:
                            border[label[nb]] = border.get(label[nb], 0) + s
                open_ = {k: v for k, v in border.items() if k not in frozen} or border
                if open_:
                    label[comp] = max(sorted(open_), key=lambda k: open_[k])
                    changed = True
        if not changed:
            break
    return label


def drop_overlaps(geoms: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Keep mask: drop footprints overlapping one of higher priority (lower number) or earlier."""
    order = np.lexsort((np.arange(len(geoms)), priority))
    g = geoms[order]
    i, j = shapely.STRtree(g).query(g, predicate="intersects")
    m = i < j
    keep_sorted = np.ones(len(g), bool)
    for a, b in zip(i[m], j[m], strict=True):
        if keep_sorted[a]:
            keep_sorted[b] = False
    keep = np.empty(len(g), bool)
    keep[order] = keep_sorted
    return keep


def union(polys) -> shapely.Geometry:
    merged = shapely.coverage_union_all(np.asarray(polys, dtype=object))
    if merged.geom_type != "Polygon":
        merged = shapely.union_all(np.asarray(polys, dtype=object))
    return merged


# --------------------------------------------------------------------------- countryside


def villages(rng, lay, faces, seeds, township, cells):
    """Label rural faces by village and make villages and townships contiguous."""
    rep = shapely.point_on_surface(faces)
    tree = shapely.STRtree(cells)
    f_idx, c_idx = tree.query(rep, predicate="within")
    label = np.full(len(faces), -1)
    label[f_idx] = c_idx
    miss = np.flatnonzero(label < 0)
    if len(miss):
        label[miss] = tree.query_nearest(rep[miss], all_matches=False)[1]
    adj = adjacency(faces)
    label = make_contiguous(label, adj, weight=shapely.area(faces))
    vill = sorted(np.unique(label))
    vpolys = np.array([union(faces[label == v]) for v in vill], dtype=object)
    vtown = np.array([township[v] for v in vill])
    vadj = adjacency(vpolys)
    vtown = make_contiguous(vtown, vadj, weight=shapely.area(vpolys))
    return vpolys, vtown, np.array(vill)


def hamlet_sites(rng, lay, vpolys, vill_seed_idx, seeds, n_townships, roads):
    """Choose natural-village sites along rural roads: (village, road index, s, houses)."""
    lines = np.array([g for g, _, _ in roads], dtype=object)
    avoid = shapely.union_all(
        [lay.ring.buffer(500), lay.river_line.buffer(130), lay.railway.buffer(100)]
    )
    shapely.prepare(avoid)
    chosen: list[tuple[int, int, float, int]] = []
    pts: list[tuple[float, float]] = []
    for v, poly in enumerate(vpolys):
        inner = poly.buffer(-80)
        seed = int(vill_seed_idx[v])
        if seed < n_townships:  # township seat: the market town on its county road
            ridx = next(i for i, (_, c, nm) in enumerate(roads) if nm == f"县道X{101 + seed}")
            s = float(lines[ridx].project(shapely.Point(seeds[seed]))) + 260
            chosen.append((v, ridx, s, 150))
            pts.append(tuple(shapely.get_coordinates(lines[ridx].interpolate(s))[0]))
        cand = []
        for ridx in shapely.STRtree(lines).query(inner, predicate="intersects"):
            line = lines[ridx]
            s = np.arange(30.0, line.length - 30, 60.0)
            p = shapely.points(shapely.get_coordinates(shapely.line_interpolate_point(line, s)))
            ok = shapely.contains(inner, p) & ~shapely.contains(avoid, p)
            cand += [(int(ridx), float(si)) for si in s[ok]]
        want = int(rng.integers(4, 9))
        got = 0
        for k in rng.permutation(len(cand)):
            ridx, s = cand[k]
            xy = tuple(shapely.get_coordinates(lines[ridx].interpolate(s))[0])
            if pts and min(np.hypot(xy[0] - q[0], xy[1] - q[1]) for q in pts) < 600:
                continue
            n = int(np.clip(round(rng.lognormal(np.log(68), 0.5)), 20, 150))
            chosen.append((v, ridx, s, n))
            pts.append(xy)
            got += 1
            if got >= want:
                break
    return chosen


def ponds(rng, lay, roads, site_pts, n=70):
    lines = np.array([g for g, _, _ in roads], dtype=object)
    region = lay.county.buffer(-150).difference(lay.ring.buffer(300))
    minx, miny, maxx, maxy = region.bounds
    xy = np.c_[rng.uniform(minx, maxx, 1500), rng.uniform(miny, maxy, 1500)]
    r = rng.uniform(22, 60, len(xy))
    pts = shapely.points(xy)
    ok = shapely.contains(region, pts)
    d_road = shapely.STRtree(lines).query_nearest(pts, return_distance=True, all_matches=False)[1]
    ok &= d_road > r * 1.4 + 20
    ok &= shapely.distance(pts, lay.river_line) > r * 1.4 + 60
    ok &= shapely.distance(pts, lay.railway) > r * 1.4 + 40
    if len(site_pts):
        sp = np.asarray(site_pts)
        dmin = np.hypot(xy[:, None, 0] - sp[None, :, 0], xy[:, None, 1] - sp[None, :, 1]).min(1)
        ok &= dmin > 260
    out: list[tuple[float, float, float]] = []
    for k in np.flatnonzero(ok):
        if all(np.hypot(xy[k, 0] - x, xy[k, 1] - y) > r[k] + rr + 80 for x, y, rr in out):
            out.append((xy[k, 0], xy[k, 1], r[k]))
        if len(out) >= n:
            break
    return [fill.pond(rng, x, y, rr) for x, y, rr in out]


def barriers(roads, extra) -> np.ndarray:
    geoms = [shapely.buffer(g, ROAD_CLEARANCE_M[c], quad_segs=4) for g, c, _ in roads]
    return np.array(geoms + list(extra), dtype=object)


def buildable(poly, barrier_geoms, tree):
    hits = tree.query(poly, predicate="intersects")
    if len(hits) == 0:
        return poly
    return poly.difference(shapely.union_all(barrier_geoms[hits]))


def township_names(lay, vpolys, vtown) -> list[tuple[str, str, str]]:
    """(name, kind, 3-digit code) per township label; the one the river crosses most is 柳河乡."""
    n = int(vtown.max()) + 1
    river_len = [lay.river_line.intersection(union(vpolys[vtown == t])).length for t in range(n)]
    liuhe = int(np.argmax(river_len))
    towns = iter(TOWNSHIPS[:2])
    return [TOWNSHIPS[2] if t == liuhe else next(towns) for t in range(n)]


def seat_facilities(out, region, road, s0, twp, unit) -> np.ndarray:
    """Government, school, health centre and market of a township seat beside its road."""
    name = twp[0]
    specs = [
        (-75, 1, 40, 18, 3, "government", "government", "人民政府"),
        (70, 1, 60, 15, 4, "school", "school", "中心学校"),
        (70, 1, 60, 15, 4, "school", "school", "中心学校"),
        (-75, -1, 36, 15, 3, "hospital", "hospital", "卫生院"),
        (75, -1, 40, 28, 1, "market", "market", "农贸市场"),
    ]
    placed: list = []
    for ds0, side0, w, d, floors, kind, special, suffix in specs:
        # the preferred spot first, then further along the road and across it
        for ds, side, off in [
            (ds0 + k, sd, o)
            for k in (0, 60, -60, 120, -120, 180, -180)
            for sd in (side0, -side0)
            for o in (14.0, 40.0)
        ]:
            p0 = np.asarray(road.interpolate(s0 + ds - 4).coords[0])
            p1 = np.asarray(road.interpolate(s0 + ds + 4).coords[0])
            t = (p1 - p0) / np.hypot(*(p1 - p0))
            c = (p0 + p1) / 2 + side * np.array([-t[1], t[0]]) * (off + d / 2)
            poly = fill.rects(c[0], c[1], w, d, np.arctan2(t[1], t[0]))[0]
            if region.contains(poly) and not any(poly.distance(q) < 8 for q in placed):
                out.add(
                    [poly],
                    unit=unit,
                    kind=kind,
                    floors=floors,
                    households=0,
                    special=special,
                    name=f"{name}{suffix}",
                    priority=1,
                )
                placed.append(poly)
                break
    return np.array([q.buffer(2) for q in placed], dtype=object)


TRACK_SPACING_M = (280.0, 380.0)
"""Spacing of the farm tracks (机耕路) of the field system, both ways."""


def field_tracks(rng, areas, keep_out, extra=()) -> list[tuple[LineString, str, str]]:
    """Farm tracks of a plain's field system (机耕路/田间道).

    Per area (a township's countryside) a grid of straight tracks every 280-380 m both ways,
    turned by up to 17 degrees, clipped to the area (crossing its edge by 3 m, see
    :func:`wangge.demo.county.fill.clip_across`) and cut where ``keep_out`` is (hamlets, ponds, river, railway,
    town): tracks end at a hamlet's edge, joining it to the fields. ``extra`` lines (e.g.
    :func:`tracks_between`) are clipped the same way. Returns rows ``(line, "track", "")``.
    """
    shapely.prepare(keep_out)
    out = []
    for area in areas:
        ang = rng.uniform(-0.3, 0.3)
        fr = fill.Frame(area.centroid.x, area.centroid.y, ang)
        local = fr.to_local(area)
        minx, miny, maxx, maxy = local.bounds
        segs = []
        for lo, hi, across in ((minx, maxx, True), (miny, maxy, False)):
            p = lo + rng.uniform(0.2, 0.8) * TRACK_SPACING_M[0]
            while p < hi:
                segs.append(
                    ((p, miny - 50), (p, maxy + 50)) if across else ((minx - 50, p), (maxx + 50, p))
                )
                p += rng.uniform(*TRACK_SPACING_M)
        lines = fr.to_world(shapely.linestrings(np.array(segs, float)))
        lines = np.r_[lines, [ln for ln in extra if ln.intersects(area)]]
        for line in lines:
            for across in fill.clip_across(line, area, min_length=40.0, vertex_every=40.0):
                out += [
                    (piece, "track", "")
                    for piece in shapely.get_parts(across.difference(keep_out))
                    if piece.geom_type == "LineString" and piece.length > 40
                ]
    return out


def tracks_between(roads, along: dict[int, list], reach: float = 500.0) -> list[LineString]:
    """Tracks across a village road halfway between consecutive hamlets strung along it.

    ``along`` maps a road's index in ``roads`` to the extents ``(s from, s to)`` of its
    hamlets along it; each gap over 40 m gets a straight track ``reach`` metres to either side,
    square to the road (the field edge that separates the two hamlets' land).
    """
    out = []
    for ridx in sorted(along):
        line = roads[ridx][0]
        spans = sorted(along[ridx])
        for (_, a1), (b0, _) in zip(spans[:-1], spans[1:], strict=True):
            if b0 - a1 < 40:
                continue
            s = (a1 + b0) / 2
            p0, p1 = (np.asarray(line.interpolate(s + d).coords[0]) for d in (-4.0, 4.0))
            t = (p1 - p0) / np.hypot(*(p1 - p0))
            mid, nrm = (p0 + p1) / 2, np.array([-t[1], t[0]])
            out.append(LineString([mid - nrm * reach, mid + nrm * reach]))
    return out
