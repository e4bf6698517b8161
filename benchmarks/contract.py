"""The grid engine's contract measured on real inputs, by the independent checker of the tests.

Each dataset is divided, written to a GeoPackage (in the input CRS, and once more in the
engine's metric CRS) and checked from the written files by ``tests/partition_checker.py``; the table
counts the breaches of each check (invalid polygons in the written CRS and in EPSG:4326,
buildings not wholly inside their grid, households changed, unjustified empty grids,
overlapping grids) beside the engine's own count of breaches and of straddling buildings.

    .venv/bin/python benchmarks/contract.py --demo-dir var/boundaries
    .venv/bin/python benchmarks/contract.py --only liechtenstein
    .venv/bin/python benchmarks/contract.py --only shanghai

The demo county is built (seed 20261122) into ``--demo-dir`` when missing; Liechtenstein and
Shanghai come from ``../shared/data`` and are skipped when it is absent.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from partition_checker import CHECKS, check_written  # noqa: E402

from geo.io import write_result  # noqa: E402
from geo.partition import partition  # noqa: E402
from geo.partition.households import building_households  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def demo_county(demo_dir: Path) -> dict:
    """The demo county's buildings, communities and barriers."""
    gpkg = demo_dir / "demo_county.gpkg"
    if not gpkg.exists():
        from wangge.demo.county import build_demo_county

        build_demo_county(demo_dir, progress=False)

    def read(layer: str) -> gpd.GeoDataFrame:
        return gpd.read_file(gpkg, layer=layer, engine="pyogrio")

    return {
        "buildings": read("buildings"),
        "communities": read("communities"),
        "community_id": "code",
        "barriers": [read("roads"), read("water"), read("railways")],
    }


def liechtenstein() -> dict:
    """Liechtenstein's 11 municipalities, OSM buildings (households estimated once, as input)."""
    path = SHARED / "liechtenstein_osm.gpkg"
    b = gpd.read_file(path, layer="buildings")
    b = b[b.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    hh = building_households(b, households_column=None, footprint_m2=b.to_crs(32632).area)
    b = b.assign(households=hh["households"].to_numpy())
    admin = gpd.read_file(path, layer="admin_boundaries")
    return {
        "buildings": b,
        "communities": admin[admin["admin_level"].astype(str) == "8"].reset_index(drop=True),
        "community_id": "name",
        "barriers": [gpd.read_file(path, layer=n) for n in ("roads", "waterways", "railways")],
    }


def shanghai() -> dict:
    """Shanghai OSM tiles as one area (no community layer), roads and water, households
    estimated once, as input."""
    path = SHARED / "china_osm_tiles_shanghai_wuhan.gpkg"
    b = gpd.read_file(path, layer="shanghai_buildings")
    b = b[(b["kind"] == "building") & b.geom_type.isin(["Polygon", "MultiPolygon"])]
    b = b.reset_index(drop=True)
    hh = building_households(b, households_column=None, footprint_m2=b.to_crs(32651).area)
    return {
        "buildings": b.assign(households=hh["households"].to_numpy()),
        "communities": None,
        "community_id": None,
        "barriers": [gpd.read_file(path, layer=n) for n in ("shanghai_roads", "shanghai_water")],
    }


def measure(name: str, data: dict, *, metric: bool) -> dict:
    """Divide, write, check; one row of the table."""
    buildings = data["buildings"]
    if "households" not in buildings.columns:
        raise SystemExit(f"{name}: expected a households column")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = partition(
            buildings,
            households_column="households",
            communities=data["communities"],
            community_id=data["community_id"],
            barriers=data["barriers"],
            output_crs=_metric_crs(buildings) if metric else None,
        )
    seconds = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        out = write_result(result, Path(tmp) / "out.gpkg")
        found = check_written(
            out, buildings, households_column="households", communities=data["communities"]
        )
    contract = result.report.get("contract", {})
    row = {
        "dataset": name,
        "written CRS": result.grids.crs.to_string(),
        "buildings": len(buildings),
        "grids": len(result.grids),
        "seconds": round(seconds, 1),
        "assemble s": result.report["seconds"]["assemble"],
        "in band where reachable": result.report["in_band"]["share_in_feasible_communities"],
        "disconnected": int(
            (shapely.get_num_geometries(result.grids.geometry.to_numpy()) > 1).sum()
        ),
    }
    row.update({k: len(found[k]) for k in CHECKS})
    row["engine breaches"] = sum(len(v) for v in contract.get("breaches", {}).values())
    row["straddlers"] = len(contract.get("straddling_buildings", []))
    row["footprints given"] = len(contract.get("footprints_given_to_their_grid", []))
    return row


def _metric_crs(buildings: gpd.GeoDataFrame):
    from geo.crs import metric_crs

    return metric_crs(buildings)


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-dir", type=Path, default=ROOT / "var" / "boundaries")
    parser.add_argument("--only", choices=["demo", "liechtenstein", "shanghai"])
    args = parser.parse_args(argv)
    rows = []
    sets = {"demo": lambda: demo_county(args.demo_dir)}
    if SHARED.exists():
        sets["liechtenstein"] = liechtenstein
        sets["shanghai"] = shanghai
    for name, load in sets.items():
        if args.only and name != args.only:
            continue
        data = load()
        for metric in (False, True):
            rows.append(measure(name, data, metric=metric))
    print(pd.DataFrame(rows).to_markdown(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
