"""Command line for the geo library: ``wangge partition``.

``wangge.cli`` builds the full ``wangge`` command, adding this module's commands with
:func:`register_partition` to those that need the store or the demo county; this module
itself never imports the store, the demo county or Dash.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

__all__ = ["register_partition"]

log = logging.getLogger(__name__)


def _split_spec(spec: str) -> tuple[str, str | None]:
    from geo.io import parse_source

    path, layer = parse_source(spec)
    return str(path), layer


def _partition(args: argparse.Namespace) -> int:
    from geo.errors import InputError

    try:
        return _partition_run(args)
    except InputError as exc:
        log.error("%s", exc)
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _partition_run(args: argparse.Namespace) -> int:
    import json

    from geo.errors import InputError
    from geo.io import read_osm, read_vector, write_result
    from geo.partition import partition
    from geo.partition.review import write_review_map

    path, layer = _split_spec(args.buildings)
    layer = args.layer or layer
    barriers = []
    if path.lower().endswith((".pbf", ".osm")):
        osm = read_osm(path)
        buildings = osm["buildings"]
        if not args.barriers:
            barriers = [osm["roads"], osm["water"], osm["railways"]]
    else:
        buildings = read_vector(path, layer=layer, encoding=args.encoding)
    for spec in args.barriers or []:
        bpath, blayer = _split_spec(spec)
        barriers.append(read_vector(bpath, layer=blayer, encoding=args.encoding))
    communities = None
    if args.communities:
        cpath, clayer = _split_spec(args.communities)
        communities = read_vector(cpath, layer=clayer, encoding=args.encoding)
        if args.community_id and args.community_id not in communities.columns:
            raise InputError(
                f"{args.communities}: no column {args.community_id!r}; the columns are "
                f"{[c for c in communities.columns if c != communities.geometry.name]}"
            )
    previous = None
    if args.previous:
        import pyogrio

        from geo.partition import PartitionResult

        ppath, _ = _split_spec(args.previous)
        pbuildings = read_vector(ppath, layer="buildings")
        layers = set()
        if Path(ppath).suffix.lower() == ".gpkg" and Path(ppath).exists():
            layers = {str(name) for name, _ in pyogrio.list_layers(ppath)}
        if "grids" in layers:
            # unchanged communities keep their grid polygons byte for byte
            grids = read_vector(ppath, layer="grids")
            previous = PartitionResult(grids=grids, buildings=pbuildings, report={})
        else:
            previous = pbuildings
    result = _run_partition(args, buildings, communities, barriers, previous, partition)
    out = write_result(result, args.out)
    print(f"grids: {len(result.grids)} -> {out}")
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(
            json.dumps(result.report, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )
        print(f"report: {args.report}")
    if args.map:
        print(f"map: {write_review_map(result, args.map)}")
    band = result.report["in_band"]
    print(
        f"in band: {band['urban_in_band']}/{band['urban_grids']} urban grids; flagged: "
        f"{result.report['flagged']['count']}; seconds: {result.report['seconds_total']}"
    )
    return _contract_outcome(result.report)


def _contract_outcome(report: dict) -> int:
    """Print the contract's outcome: 0 when it holds, else one line per breach kind and 3."""
    from geo.partition.contract import breach_lines

    lines = breach_lines(report)
    for line in lines:
        log.error("%s", line)
        print(line, file=sys.stderr)
    if lines:
        return 3
    straddling = len(report.get("contract", {}).get("straddling_buildings", []))
    print(
        "contract: kept (every building wholly inside its grid, polygons valid in the written "
        f"CRS and EPSG:4326, households unchanged; {straddling} building(s) across a "
        "community line given wholly to one)"
    )
    return 0


def _run_partition(args, buildings, communities, barriers, previous, partition):
    return partition(
        buildings,
        communities=communities,
        community_id=args.community_id,
        community_kind=args.kind_column,
        barriers=barriers,
        households_column=args.households_column,
        min_households=args.min_households,
        max_households=args.max_households,
        previous=previous,
        locked=args.locked.split(",") if args.locked else None,
        hamlet_distance=args.hamlet_distance,
        output_crs=4326 if args.wgs84 else None,
        progress=not args.quiet,
        dask=getattr(args, "dask", None),
    )


def register_partition(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``wangge partition``: divide communities into grids."""
    p = subparsers.add_parser(
        "partition",
        help="divide communities into grids of 300-500 households (网格划分)",
        description="Divide every community into grids that follow streets, rivers and "
        "railways, never cut a building and tile the community. Exit status: 0 done, 2 bad "
        "input, 3 written but the contract is breached (one line per kind on stderr; the "
        "report lists every breach).",
    )
    p.add_argument("buildings", help="buildings file (GeoJSON, GPKG, SHP, Parquet, OSM PBF)")
    p.add_argument("--layer", help="layer of the buildings file")
    p.add_argument("--encoding", help="DBF encoding of shapefiles (default: detect UTF-8/GBK)")
    p.add_argument("--households-column", help="column with households (default: estimate)")
    p.add_argument("--communities", help="communities FILE[:LAYER] (polygons)")
    p.add_argument("--community-id", help="community id column (e.g. a 12-digit code)")
    p.add_argument("--kind-column", default="kind", help="urban/rural column of communities")
    p.add_argument(
        "--barriers", action="append", help="streets, water or railways FILE[:LAYER]; repeat"
    )
    p.add_argument("--min-households", type=int, default=300)
    p.add_argument("--max-households", type=int, default=500)
    p.add_argument("--hamlet-distance", type=float, default=120.0, help="rural clustering, m")
    p.add_argument("--previous", help="a previous OUT.gpkg: keep grids and codes stable")
    p.add_argument("--locked", help="comma-separated grid codes of --previous to keep frozen")
    p.add_argument("--wgs84", action="store_true", help="write EPSG:4326 instead of input CRS")
    p.add_argument("--out", required=True, help="output GeoPackage (layers grids, buildings)")
    p.add_argument("--report", help="quality report JSON")
    p.add_argument("--map", help="review map HTML (works offline)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run the per-area jobs on this dask.distributed scheduler (tcp://host:8786)",
    )
    p.set_defaults(func=_partition)
    return p
