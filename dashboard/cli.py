"""The ``wangge`` command: geo's commands plus those that need the store.

| command | does |
| --- | --- |
| ``wangge demo build`` | generate the demo county's files (geo) |
| ``wangge demo setup`` | build, load into the store and divide the demo county into grids |
| ``wangge partition`` | divide buildings into grids (geo) |
| ``wangge db migrate`` | create or upgrade the store's schema |
| ``wangge serve`` | set up the demo county when needed and serve the dashboard |
"""

from __future__ import annotations

import argparse
import logging
import sys

from geo import cli as geo_cli

__all__ = ["build_parser", "main"]


def _demo_setup(args: argparse.Namespace) -> int:
    from dashboard.bootstrap import ensure_demo
    from dashboard.settings import Settings
    from dashboard.store import Store

    settings = Settings.from_env()
    store = Store(settings.db_path)
    changed = ensure_demo(
        store,
        settings.boundaries_dir,
        seed=args.seed or settings.demo_seed,
        progress=not args.quiet,
    )
    print(f"demo county {'set up' if changed else 'already set up'} in {store.path}")
    return 0


def _demo_simulate(args: argparse.Namespace) -> int:
    from datetime import datetime

    from dashboard.settings import Settings
    from dashboard.simulate import simulate
    from dashboard.store import Store

    settings = Settings.from_env()
    store = Store(settings.db_path)
    store.migrate()
    end = datetime.fromisoformat(args.end.replace("Z", "+00:00")) if args.end else None
    if end is not None and end.tzinfo is None:
        raise SystemExit("--end needs a time zone, e.g. 2026-11-22T08:00:00+08:00")
    counts = simulate(
        store,
        days=args.days,
        seed=args.seed or settings.demo_seed,
        end=end,
        per_day=args.per_day,
        gps_days=args.gps_days,
    )
    print(", ".join(f"{k}: {v:,}" for k, v in counts.items()))
    return 0


def _db_migrate(args: argparse.Namespace) -> int:
    from dashboard.settings import Settings
    from dashboard.store import Store

    store = Store(Settings.from_env().db_path)
    version = store.migrate()
    print(f"{store.path}: schema version {version}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from dashboard.app import main as serve

    serve()
    return 0


def _pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    out = {}
    for item in values or []:
        if "=" not in item:
            raise SystemExit(f"{flag} {item!r}: expected SOURCE=FIELD")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _import(args: argparse.Namespace) -> int:
    from dashboard import imports
    from dashboard.settings import Settings
    from dashboard.store import Store

    store = Store(Settings.from_env().db_path)
    store.migrate()
    try:
        if args.kind == "cases":
            report = imports.import_cases(
                args.file,
                store,
                mapping=_pairs(args.map, "--map"),
                constants=_pairs(args.set, "--set"),
                sheet=args.sheet,
                encoding=args.encoding,
                timezone=args.timezone,
            )
        elif args.kind == "cameras":
            report = imports.import_cameras(
                args.file, store, layer=args.layer, mapping=_pairs(args.map, "--map")
            )
        else:
            report = imports.import_gps(
                args.file,
                store,
                worker=args.worker,
                mapping=_pairs(args.map, "--map"),
                encoding=args.encoding,
                timezone=args.timezone,
            )
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wangge", description="Community grid management (网格化管理)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    groups = geo_cli.register(sub)

    setup = groups["demo"].add_parser(
        "setup", help="build the demo county, load it into the store and divide it into grids"
    )
    setup.add_argument("--seed", type=int, default=None, help="seed (default: $WANGGE_DEMO_SEED)")
    setup.add_argument("--quiet", action="store_true", help="no progress output")
    setup.set_defaults(func=_demo_setup)

    sim = groups["demo"].add_parser(
        "simulate", help="simulate workers, cameras, cases and patrol tracks for the demo county"
    )
    sim.add_argument("--days", type=int, default=90, help="days of cases (default: %(default)s)")
    sim.add_argument("--seed", type=int, default=None, help="seed (default: $WANGGE_DEMO_SEED)")
    sim.add_argument("--end", help="the simulated now, ISO-8601 with zone (default: this hour)")
    sim.add_argument(
        "--per-day", type=float, default=120.0, help="mean cases a day (default: %(default)s)"
    )
    sim.add_argument(
        "--gps-days", type=int, default=14, help="days of GPS tracks (default: %(default)s)"
    )
    sim.set_defaults(func=_demo_simulate)

    db = sub.add_parser("db", help="the store (SQLite file in $WANGGE_DATA_DIR)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("migrate", help="create or upgrade the schema").set_defaults(func=_db_migrate)

    sub.add_parser("serve", help="serve the dashboard on $HOST:$PORT").set_defaults(func=_serve)

    imp = sub.add_parser("import", help="import cases or GPS tracks from files into the store")
    imp_sub = imp.add_subparsers(dest="kind", required=True)
    for kind, text in (
        ("cases", "cases from CSV or Excel (hotline exports)"),
        ("gps", "patrol GPS fixes from CSV or GPX"),
    ):
        p = imp_sub.add_parser(kind, help=text)
        p.add_argument("file")
        p.add_argument(
            "--map", action="append", metavar="SOURCE=FIELD", help="map a column to a field"
        )
        p.add_argument("--encoding", help="CSV encoding (default: UTF-8 or GB18030, detected)")
        p.add_argument(
            "--timezone", default="Asia/Shanghai", help="zone of naive times (default: %(default)s)"
        )
        if kind == "cases":
            p.add_argument(
                "--set", action="append", metavar="FIELD=VALUE", help="a value for every row"
            )
            p.add_argument("--sheet", help="Excel sheet name")
        else:
            p.add_argument("--worker", help="worker id for every fix (GPX tracks without a name)")
        p.set_defaults(func=_import)
    p = imp_sub.add_parser("cameras", help="cameras from CSV, GeoJSON, GeoPackage or an OSM export")
    p.add_argument("file")
    p.add_argument("--layer", help="layer of a GeoPackage")
    p.add_argument("--map", action="append", metavar="SOURCE=FIELD", help="map a column to a field")
    p.set_defaults(func=_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
