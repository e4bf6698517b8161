"""Import benchmark: the 148,636 real Chicago incidents as a hotline-style CSV into a fresh store.

    .venv/bin/python benchmarks/ingest.py [--rows N]

Prints a table: rows, seconds to read+validate+locate+store, rows per second, and a second
import of the same file (which must add nothing).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import load_tiny_county  # noqa: E402

from wangge.access import Scope  # noqa: E402
from wangge.ingest.files import import_cases  # noqa: E402
from wangge.store import Store  # noqa: E402

GPKG = ROOT.parent / "shared" / "data" / "chicago_incidents_cameras.gpkg"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=None, help="only the first N incidents")
    args = parser.parse_args()
    if not GPKG.exists():
        print(f"real data not found at {GPKG}")
        return 1
    incidents = gpd.read_file(
        GPKG, layer="aggravated_assaults_2010_2019", rows=args.rows, ignore_geometry=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "chicago.csv"
        incidents[["date", "loc_cat", "longitude", "latitude", "district"]].to_csv(csv, index=False)
        store = Store(Path(tmp) / "wangge.sqlite")
        load_tiny_county(store)
        opts = {
            "constants": {"category": "order", "source": "citizen"},
            "timezone": "America/Chicago",
            "mapping": {"loc_cat": "title"},
        }
        print("| run | rows | added | duplicates | bad rows | seconds | rows/s |")
        print("|---|---|---|---|---|---|---|")
        for run in ("first import", "same file again"):
            t = time.perf_counter()
            report = import_cases(csv, store, **opts, scope=Scope.county())
            secs = time.perf_counter() - t
            print(
                f"| {run} | {report.total:,} | {report.added:,} | {report.duplicates:,} | {report.bad_rows:,} "
                f"| {secs:.1f} | {report.total / secs:,.0f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
