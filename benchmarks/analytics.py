"""Benchmarks of the analytics in geo.analytics.hexes, geo.analytics.hotspots, geo.analytics.patrols and geo.analytics.cameras.

Run from the project root::

    python benchmarks/analytics.py            # all
    python benchmarks/analytics.py patrols    # one

Prints a table (operation, size, seconds). Uses the Chicago assaults in ../shared/data for H3
and Gi*; patrols and cameras run on synthetic towns generated here with fixed seeds.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.analytics.cameras import (  # noqa: E402
    camera_coverage,
    camera_sectors,
    suggest_camera_sites,
    uncovered_streets,
)
from geo.analytics.hexes import h3_counts  # noqa: E402
from geo.analytics.hotspots import emerging_hotspots, gi_star  # noqa: E402
from geo.analytics.patrols import patrol_coverage  # noqa: E402

CHICAGO = ROOT.parent / "shared" / "data" / "chicago_incidents_cameras.gpkg"
CRS = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
SEED = 20261122


def _timed(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_h3(rows: list[tuple[str, str, float]]) -> None:
    if not CHICAGO.exists():
        print(f"skipping H3/Gi*: {CHICAGO} not found", file=sys.stderr)
        return
    pts = gpd.read_file(CHICAGO, layer="aggravated_assaults_2010_2019")
    districts = gpd.read_file(CHICAGO, layer="police_districts")
    rng = np.random.default_rng(SEED)
    cases = pts.iloc[rng.integers(0, len(pts), 200_000)].reset_index(drop=True)
    for res in (7, 8, 9, 10):
        secs, counts = _timed(lambda r=res: h3_counts(cases, resolution=r))
        rows.append((f"h3_counts res {res}", f"200,000 cases -> {len(counts):,} cells", secs))
    counts = h3_counts(cases, resolution=9, area=districts)
    secs, _ = _timed(lambda: h3_counts(cases, resolution=9, area=districts))
    rows.append(("h3_counts res 9 + empty cells of area", f"{len(counts):,} cells", secs))
    secs, out = _timed(lambda: gi_star(counts, weights="h3"))
    n_sig = int((out["gi_bin"] != 0).sum())
    rows.append(
        ("gi_star H3 res 9, FDR, analytic p", f"{len(counts):,} cells, {n_sig:,} sig", secs)
    )
    secs, _ = _timed(
        lambda: gi_star(h3_counts(cases, resolution=9, area=districts), weights="h3"), repeat=1
    )
    rows.append(("h3_counts + gi_star res 9 (end to end)", "200,000 cases", secs))
    secs, _ = _timed(lambda: gi_star(counts, weights="h3", permutations=999, seed=1), repeat=1)
    rows.append(("gi_star H3 res 9, FDR, 999 permutations", f"{len(counts):,} cells", secs))
    counts10 = h3_counts(cases, resolution=10, area=districts)
    secs, _ = _timed(lambda: gi_star(counts10, weights="h3"))
    rows.append(("gi_star H3 res 10, FDR, analytic p", f"{len(counts10):,} cells", secs))
    secs, _ = _timed(lambda: gi_star(counts10, weights="h3", permutations=999, seed=1), repeat=1)
    rows.append(("gi_star H3 res 10, FDR, 999 permutations", f"{len(counts10):,} cells", secs))
    weekly = cases.assign(week=cases["date"].dt.to_period("W"))
    weekly = weekly[weekly["date"] >= "2018-01-01"]
    cube = h3_counts(weekly, resolution=9, by="week")
    secs, _ = _timed(lambda: emerging_hotspots(cube, weights="h3"), repeat=1)
    n_loc = cube.index.get_level_values(0).nunique()
    n_t = cube.index.get_level_values(1).nunique()
    rows.append(("emerging_hotspots res 9 weekly", f"{n_loc:,} cells x {n_t} weeks", secs))


def synthetic_patrols(
    n_cols: int = 30, n_rows: int = 50, size: float = 300.0, fixes_per_grid: int = 1134
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Square grids, a 100 m street lattice cut at intersections, one patroller per grid."""
    rng = np.random.default_rng(SEED)
    x0, y0 = 500_000.0, 3_400_000.0
    grids = gpd.GeoDataFrame(
        {"grid_code": [f"G{i:04d}" for i in range(n_cols * n_rows)]},
        geometry=[
            shapely.box(x0 + c * size, y0 + r * size, x0 + (c + 1) * size, y0 + (r + 1) * size)
            for r in range(n_rows)
            for c in range(n_cols)
        ],
        crs=CRS,
    )
    width, height = n_cols * size, n_rows * size
    xs = x0 + np.arange(0, width + 1, 100.0)
    ys = y0 + np.arange(0, height + 1, 100.0)
    segs = [shapely.LineString([(x, y), (x + 100, y)]) for y in ys for x in xs[:-1]]
    segs += [shapely.LineString([(x, y), (x, y + 100)]) for x in xs for y in ys[:-1]]
    streets = gpd.GeoDataFrame(geometry=segs, crs=CRS)
    frames = []
    step = 14.0  # 1.4 m/s, a fix every 10 s
    for i, (code, geom) in enumerate(zip(grids["grid_code"], grids.geometry, strict=True)):
        minx, miny = geom.bounds[:2]
        # Manhattan walk between random street intersections of the grid
        corners = rng.integers(0, 4, size=(16, 2)) * 100.0 + [minx, miny]
        path = [corners[0]]
        for a, b in zip(corners[:-1], corners[1:], strict=True):
            path += [(b[0], a[1]), b]
        line = shapely.LineString(path)
        d = np.arange(fixes_per_grid) * step % max(line.length, step)
        xy = shapely.get_coordinates(shapely.line_interpolate_point(line, d))
        xy += rng.normal(0, 8.0, xy.shape)
        half = fixes_per_grid // 2
        t = np.concatenate(
            [
                pd.Timestamp("2026-05-01 08:00").value + np.arange(half) * 10_000_000_000,
                pd.Timestamp("2026-05-01 14:00").value
                + np.arange(fixes_per_grid - half) * 10_000_000_000,
            ]
        )
        frames.append(
            pd.DataFrame(
                {
                    "worker_id": i,
                    "own_grid": code,
                    "at": pd.to_datetime(t),
                    "x": xy[:, 0],
                    "y": xy[:, 1],
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    fixes = gpd.GeoDataFrame(
        table.drop(columns=["x", "y"]),
        geometry=gpd.points_from_xy(table["x"], table["y"]),
        crs=CRS,
    )
    return grids, streets, fixes


def bench_patrols(rows: list[tuple[str, str, float]]) -> None:
    grids, streets, fixes = synthetic_patrols()
    size = f"{len(grids):,} grids, {len(streets):,} segments, {len(fixes):,} fixes"
    secs, out = _timed(lambda: patrol_coverage(grids, streets, fixes, assigned="own_grid"))
    rows.append(("patrol_coverage (assigned)", size, secs))
    secs, _ = _timed(lambda: patrol_coverage(grids, streets, fixes), repeat=1)
    rows.append(("patrol_coverage (any patroller)", size, secs))
    share = out["street_share"].median()
    rows.append(
        (
            "  median street share / compliant grids",
            f"{share:.2f} / {int(out['compliant'].sum())}",
            float("nan"),
        )
    )


def synthetic_town(
    n_cameras: int = 5000,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The patrol town's grids and streets, 4 buildings per 100 m block, random cameras."""
    grids, streets, _ = synthetic_patrols(fixes_per_grid=2)
    rng = np.random.default_rng(SEED + 1)
    minx, miny, maxx, maxy = grids.total_bounds
    bx = np.arange(minx, maxx, 100.0)
    by = np.arange(miny, maxy, 100.0)
    gx, gy = np.meshgrid(bx, by)
    corners = []
    for dx in (10.0, 55.0):
        for dy in (10.0, 55.0):
            corners.append(np.column_stack([gx.ravel() + dx, gy.ravel() + dy]))
    c = np.vstack(corners)
    size = rng.uniform(25, 35, size=(len(c), 2))
    buildings = gpd.GeoDataFrame(
        geometry=shapely.box(c[:, 0], c[:, 1], c[:, 0] + size[:, 0], c[:, 1] + size[:, 1]),
        crs=CRS,
    )
    seg = rng.integers(0, len(streets), n_cameras)
    along = shapely.line_interpolate_point(
        np.asarray(streets.geometry.values)[seg], rng.uniform(0, 100, n_cameras)
    )
    xy = shapely.get_coordinates(along) + rng.choice([-4.0, 4.0], size=(n_cameras, 2))
    dome = rng.random(n_cameras) < 0.2
    cameras = gpd.GeoDataFrame(
        {
            "camera_type": np.where(dome, "dome", "fixed"),
            "direction": np.where(dome, None, rng.integers(0, 360, n_cameras).astype(str)),
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=CRS,
    )
    return grids, streets, buildings, cameras


def bench_cameras(rows: list[tuple[str, str, float]]) -> None:
    grids, streets, buildings, cameras = synthetic_town()
    size = f"{len(cameras):,} cameras, {len(buildings):,} buildings"
    secs, views = _timed(lambda: camera_sectors(cameras, buildings=buildings), repeat=1)
    rows.append(("camera_sectors with occlusion, 1 deg rays", size, secs))
    secs, _ = _timed(lambda: camera_sectors(cameras), repeat=1)
    rows.append(("camera_sectors without occlusion", f"{len(cameras):,} cameras", secs))
    secs, cov = _timed(
        lambda: camera_coverage(grids, views, streets=streets, buildings=buildings), repeat=1
    )
    rows.append(
        ("camera_coverage per grid", f"{len(grids):,} grids, {len(streets):,} segments", secs)
    )
    rows.append(
        (
            "  median street / open-area share",
            f"{cov['street_share'].median():.2f} / {cov['open_share'].median():.2f}",
            float("nan"),
        )
    )
    secs, _ = _timed(lambda: uncovered_streets(streets, views), repeat=1)
    rows.append(("uncovered_streets", f"{len(streets):,} segments", secs))
    sub = grids.geometry.iloc[0:90].union_all()  # 9 x 3 km strip of the town
    part = streets[streets.intersects(sub)]
    secs, sites = _timed(
        lambda: suggest_camera_sites(
            part,
            n_sites=20,
            existing=views[views.intersects(sub)],
            buildings=buildings[buildings.intersects(sub.buffer(100))],
        ),
        repeat=1,
    )
    rows.append(("suggest_camera_sites, 20 sites (greedy MCLP)", f"{len(part):,} segments", secs))


def bench_mclp(rows: list[tuple[str, str, float]]) -> None:
    """Greedy placement against spopt's exact MCLP (PuLP/CBC) on the same coverage matrix.

    Not a project dependency: runs only where spopt is installed.
    """
    try:
        import pulp
        import scipy.sparse as sp
        from spopt.locate import MCLP
    except ImportError:
        print("skipping mclp: spopt is not installed", file=sys.stderr)
        return
    from geo.analytics.patrols import sample_lines
    from geo.crs import metric_crs

    path = ROOT.parent / "shared" / "data" / "china_osm_tiles_shanghai_wuhan.gpkg"
    if not path.exists():
        print(f"skipping mclp: {path} not found", file=sys.stderr)
        return
    bld = gpd.read_file(path, layer="shanghai_buildings")
    roads = gpd.read_file(path, layer="shanghai_roads")
    crs = metric_crs(bld)
    bld, roads = bld.to_crs(crs), roads.to_crs(crs)
    bld = bld[bld.geom_type != "Point"]
    x0, y0 = roads.total_bounds[:2]
    for size, p in ((1200, 10), (2000, 20)):
        clip = shapely.box(x0 + 800, y0 + 300, x0 + 800 + size, y0 + 300 + size)
        part = roads.clip(clip).explode(index_parts=False)
        part = part[part.geom_type == "LineString"]
        near = bld[bld.intersects(clip.buffer(100))]
        t0 = time.perf_counter()
        greedy = suggest_camera_sites(
            part, n_sites=p, buildings=near, demand_spacing=20.0, candidate_spacing=100.0
        )
        t_greedy = time.perf_counter() - t0
        # the same demand, candidates and coverage as suggest_camera_sites builds
        demand = sample_lines(part, spacing=20.0)
        d_geom = np.asarray(demand.geometry.values)
        w = demand["length_m"].to_numpy()
        lines = np.asarray(part.geometry.values)
        ends = np.vstack(
            [
                shapely.get_coordinates(shapely.get_point(lines, 0)),
                shapely.get_coordinates(shapely.get_point(lines, -1)),
            ]
        )
        uniq, counts = np.unique(np.round(ends, 2), axis=0, return_counts=True)
        along = shapely.get_coordinates(
            np.asarray(sample_lines(part, spacing=100.0).geometry.values)
        )
        cand = np.unique(np.round(np.vstack([uniq[counts >= 3], along]), 2), axis=0)
        sites = gpd.GeoDataFrame(
            {"camera_type": ["dome"] * len(cand)},
            geometry=gpd.points_from_xy(cand[:, 0], cand[:, 1]),
            crs=crs,
        )
        views = camera_sectors(sites, buildings=near, step=2.0)
        ci, dj = shapely.STRtree(d_geom).query(
            np.asarray(views.geometry.values), predicate="intersects"
        )
        cover = sp.csr_matrix((np.ones(len(ci)), (ci, dj)), shape=(len(cand), len(d_geom)))
        cost = np.where(cover.toarray().T > 0, 0.0, 10.0)
        t0 = time.perf_counter()
        model = MCLP.from_cost_matrix(cost, w, service_radius=1.0, p_facilities=p)
        model = model.solve(pulp.PULP_CBC_CMD(msg=False))
        t_exact = time.perf_counter() - t0
        chosen = [j for j in range(len(cand)) if model.fac_vars[j].value() > 0.5]
        best = float(w[cover[chosen].sum(axis=0).A1 > 0].sum())
        size_txt = f"{len(d_geom):,} demand x {len(cand):,} candidates, p={p}"
        rows.append((f"greedy MCLP, Shanghai {size} m box", size_txt, t_greedy))
        rows.append(("spopt MCLP + CBC, solve only", size_txt, t_exact))
        ratio = greedy["gain"].sum() / best
        rows.append(("  greedy / exact covered street length", f"{ratio:.3f}", float("nan")))


BENCHES = {
    "h3": bench_h3,
    "patrols": bench_patrols,
    "cameras": bench_cameras,
    "mclp": bench_mclp,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", help=f"any of {sorted(BENCHES)} (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.which) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmarks {sorted(unknown)}; choose from {sorted(BENCHES)}")
    rows: list[tuple[str, str, float]] = []
    for name in args.which or BENCHES:
        BENCHES[name](rows)
    print(f"| {'operation':<45} | {'size':<52} | {'seconds':>8} |")
    print(f"|{'-' * 47}|{'-' * 54}|{'-' * 10}|")
    for op, size, secs in rows:
        shown = "" if np.isnan(secs) else f"{secs:.2f}"
        print(f"| {op:<45} | {size:<52} | {shown:>8} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
