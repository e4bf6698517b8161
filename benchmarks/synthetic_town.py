"""A large synthetic county town for partition benchmarks.

Communities on a grid of squares, each cut by a street grid into blocks; urban blocks hold rows
of apartment slabs and houses, rural communities hold hamlets of houses; a river and a railway
cross the town; a few schools and hospitals are marked ``special``. Everything is derived from
one seed, so a benchmark run is repeatable.

    /tmp/venv/bin/python benchmarks/synthetic_town.py --buildings 100000 --out /tmp/town.gpkg
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["synthetic_town", "write_town"]

CRS = 32650  # UTM 50N: a town near 117E; written as EPSG:4326 like real data
ORIGIN = (500_000.0, 3_500_000.0)


def synthetic_town(n_buildings: int = 100_000, *, seed: int = 7) -> dict[str, gpd.GeoDataFrame]:
    """Layers ``communities``, ``buildings``, ``roads``, ``water``, ``railways`` in EPSG:32650."""
    rng = np.random.default_rng(seed)
    side = 600.0  # community square, m
    street = 150.0  # street spacing inside a community
    per_comm = 400  # buildings per urban community, on average
    n_comm = max(1, math.ceil(n_buildings / per_comm))
    nx = math.ceil(math.sqrt(n_comm))
    ny = math.ceil(n_comm / nx)
    x0, y0 = ORIGIN
    comms, codes, kinds = [], [], []
    b_geoms, b_hh, b_special, b_type = [], [], [], []
    roads, road_class = [], []
    remaining = n_buildings
    for cy in range(ny):
        for cx in range(nx):
            if len(comms) >= n_comm:
                break
            cx0, cy0 = x0 + cx * side, y0 + cy * side
            comms.append(shapely.box(cx0, cy0, cx0 + side, cy0 + side))
            codes.append(f"{341122:06d}{100 + cy:03d}{100 + cx:03d}")
            rural = rng.random() < 0.15
            kinds.append("rural" if rural else "urban")
            n_here = min(remaining, int(rng.integers(300, 500)))
            remaining -= n_here
            if rural:
                n_h = max(1, n_here // 60)
                centres = rng.uniform(80, side - 80, size=(n_h, 2))
                sizes = rng.multinomial(n_here, np.ones(n_h) / n_h)
                for (hx, hy), m in zip(centres, sizes, strict=True):
                    pts = rng.normal(0, 35, size=(m, 2)) + (hx, hy)
                    pts = np.clip(pts, 10, side - 10)
                    for px, py in pts:
                        b_geoms.append(
                            shapely.box(cx0 + px - 5, cy0 + py - 4, cx0 + px + 5, cy0 + py + 4)
                        )
                        b_hh.append(int(rng.integers(1, 3)))
                        b_special.append("")
                        b_type.append("house")
                continue
            # urban: street grid, buildings in rows inside each block
            for s in np.arange(street, side - 1, street):
                roads.append(shapely.LineString([(cx0 + s, cy0), (cx0 + s, cy0 + side)]))
                road_class.append("residential")
                roads.append(shapely.LineString([(cx0, cy0 + s), (cx0 + side, cy0 + s)]))
                road_class.append("residential")
            blocks = [
                (bx, by) for bx in np.arange(0, side, street) for by in np.arange(0, side, street)
            ]
            per_block = rng.multinomial(n_here, np.ones(len(blocks)) / len(blocks))
            dense = rng.random() < 0.5
            for (bx, by), m in zip(blocks, per_block, strict=True):
                if m == 0:
                    continue
                cols = math.ceil(math.sqrt(m * 1.5))
                rows = math.ceil(m / cols)
                w = (street - 20) / cols
                h = (street - 20) / rows
                k = 0
                for r in range(rows):
                    for c in range(cols):
                        if k >= m:
                            break
                        px = cx0 + bx + 10 + c * w + w * 0.15
                        py = cy0 + by + 10 + r * h + h * 0.15
                        jitter = rng.uniform(-0.05, 0.05, 2) * (w, h)
                        geom = shapely.box(
                            px + jitter[0],
                            py + jitter[1],
                            px + jitter[0] + w * 0.7,
                            py + jitter[1] + h * 0.7,
                        )
                        b_geoms.append(geom)
                        if dense and rng.random() < 0.3:
                            b_hh.append(int(rng.integers(6, 40)))
                            b_type.append("apartments")
                        else:
                            b_hh.append(int(rng.integers(0, 3)))
                            b_type.append("house")
                        b_special.append("")
                        k += 1
    # arterials between communities
    width, height = nx * side, ny * side
    for cx in range(nx + 1):
        roads.append(shapely.LineString([(x0 + cx * side, y0), (x0 + cx * side, y0 + height)]))
        road_class.append("primary")
    for cy in range(ny + 1):
        roads.append(shapely.LineString([(x0, y0 + cy * side), (x0 + width, y0 + cy * side)]))
        road_class.append("primary")
    t = np.linspace(0, 1, 200)
    river = shapely.LineString(
        np.c_[x0 + t * width, y0 + height * (0.3 + 0.1 * np.sin(t * 9))]
    ).buffer(12)
    rail = shapely.LineString([(x0 + width * 0.7, y0), (x0 + width * 0.55, y0 + height)])
    b_geoms_arr = np.array(b_geoms, dtype=object)
    # drop buildings in the river, mark schools and hospitals
    wet = shapely.intersects(b_geoms_arr, river) | shapely.dwithin(b_geoms_arr, rail, 8)
    special = np.array(b_special, dtype=object)
    hh = np.array(b_hh)
    kinds_b = np.array(b_type, dtype=object)
    pick = rng.choice(len(b_geoms_arr), size=max(1, len(b_geoms_arr) // 2000), replace=False)
    special[pick] = rng.choice(["school", "hospital", "market"], size=len(pick))
    hh[pick] = 0
    keep = ~wet
    buildings = gpd.GeoDataFrame(
        {
            "building_id": np.arange(int(keep.sum())),
            "households": hh[keep],
            "building": kinds_b[keep],
            "special": special[keep],
        },
        geometry=gpd.GeoSeries(b_geoms_arr[keep], crs=CRS),
    )
    return {
        "communities": gpd.GeoDataFrame(
            {"code": codes, "kind": kinds}, geometry=gpd.GeoSeries(comms, crs=CRS)
        ),
        "buildings": buildings,
        "roads": gpd.GeoDataFrame(
            {"road_class": road_class}, geometry=gpd.GeoSeries(roads, crs=CRS)
        ),
        "water": gpd.GeoDataFrame({"kind": ["river"]}, geometry=gpd.GeoSeries([river], crs=CRS)),
        "railways": gpd.GeoDataFrame(
            {"railway": ["rail"]}, geometry=gpd.GeoSeries([rail], crs=CRS)
        ),
    }


def write_town(path: str | Path, n_buildings: int = 100_000, *, seed: int = 7) -> Path:
    """Write :func:`synthetic_town` to a GeoPackage in EPSG:4326."""
    path = Path(path)
    if path.exists():
        path.unlink()
    for name, frame in synthetic_town(n_buildings, seed=seed).items():
        frame.to_crs(4326).to_file(path, layer=name, driver="GPKG")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default="/tmp/synthetic_town.gpkg")
    args = parser.parse_args()
    print(write_town(args.out, args.buildings, seed=args.seed))


if __name__ == "__main__":
    main()
