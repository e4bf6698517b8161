"""The ``wangge`` command: geo's commands plus those that need the store.

| command | does |
| --- | --- |
| ``wangge demo build`` | generate the demo county's files (geo) |
| ``wangge demo setup`` | build, load into the store and divide the demo county into grids |
| ``wangge demo feed`` | keep the demo county moving (new cases, handling, cameras, patrols) until Ctrl-C |
| ``wangge partition`` | divide buildings into grids (geo) |
| ``wangge db migrate`` | create or upgrade the store's schema |
| ``wangge serve`` | set up the demo county when needed and serve the dashboard |
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from geo import cli as geo_cli
from wangge.clock import COUNTY_TZ

__all__ = ["build_parser", "main"]


#: The demo county's default seed (the README's screenshots and the docs' figures use it).
DEFAULT_SEED = 20261122


def _demo_build(args: argparse.Namespace) -> int:
    from wangge.demo import county

    paths = county.build_demo_county(Path(args.out), seed=args.seed, progress=not args.quiet)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def _demo_parsers(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """``wangge demo``: the group, with ``build`` (the county's files); returns the group."""
    demo_p = sub.add_parser("demo", help="the built-in synthetic demo county (示范县)")
    demo_sub = demo_p.add_subparsers(dest="demo_command", required=True)
    build = demo_sub.add_parser(
        "build", help="generate the demo county's boundaries, streets and buildings"
    )
    build.add_argument(
        "--out", default="data/boundaries/demo", help="output folder (default: %(default)s)"
    )
    build.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    build.add_argument("--quiet", action="store_true", help="no progress output")
    build.set_defaults(func=_demo_build)
    return demo_sub


def _demo_setup(args: argparse.Namespace) -> int:
    from wangge.demo.setup import ensure_demo
    from wangge.settings import Settings
    from wangge.store import Store

    settings = Settings.from_env()
    store = Store(settings.db_path)
    changed = ensure_demo(
        store,
        settings.boundaries_dir,
        seed=args.seed or settings.demo_seed,
        progress=not args.quiet,
    )
    from wangge.demo.setup import DEMO_PASSWORD, DEMO_WALL_TOKEN

    print(f"demo county {'set up' if changed else 'already set up'} in {store.path}")
    users = store.users()
    print(
        f"demo users (password {DEMO_PASSWORD}): "
        + ", ".join(f"{u.username} ({u.role})" for u in users.itertuples())
    )
    print(f"wall display: /wall?token={DEMO_WALL_TOKEN}")
    return 0


def _user_add(args: argparse.Namespace) -> int:
    import getpass

    from wangge.settings import Settings
    from wangge.store import Store, StoreError

    store = Store(Settings.from_env().db_path)
    store.migrate()
    password = args.password or getpass.getpass(f"password for {args.username}: ")
    try:
        store.create_user(
            args.username, password, args.role, scope=args.scope or "", display_name=args.name or ""
        )
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"user {args.username} ({args.role}{' ' + args.scope if args.scope else ''}) saved")
    return 0


def _token_create(args: argparse.Namespace) -> int:
    from wangge.settings import Settings
    from wangge.store import Store

    store = Store(Settings.from_env().db_path)
    store.migrate()
    if args.role == "township" and not args.scope:
        print("error: a township token needs --scope TOWNSHIP_CODE", file=sys.stderr)
        return 2
    print(store.create_token(args.name, args.role, scope=args.scope or ""))
    return 0


def _demo_simulate(args: argparse.Namespace) -> int:
    from datetime import datetime

    from wangge.demo.simulate import simulate
    from wangge.settings import Settings
    from wangge.store import Store

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


def _demo_feed(args: argparse.Namespace) -> int:
    import threading

    from wangge.demo.feed import DemoFeed, FeedRefused
    from wangge.settings import Settings
    from wangge.store import Store

    settings = Settings.from_env()
    if not settings.demo_feed:
        print("error: the demo feed is switched off (WANGGE_DEMO_FEED=0)", file=sys.stderr)
        return 2
    store = Store(settings.db_path)
    store.migrate()
    try:
        feed = DemoFeed(store)
    except FeedRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"demo feed on {store.path} (seed {feed.seed}); fed until {store.get_meta('demo_fed_until')}"
    )

    def show(report) -> None:
        print(report, flush=True)
        for case_id, category in report.new_cases[:20]:
            print(f"  + {case_id} {category}", flush=True)
        if len(report.new_cases) > 20:
            print(f"  + ... {len(report.new_cases) - 20} more", flush=True)

    if args.once:
        show(feed.advance())
        return 0
    print(f"a feed every {args.interval:g} s; Ctrl-C stops", flush=True)
    stop = threading.Event()
    try:
        feed.run(stop, interval=args.interval, on_report=show)
    except KeyboardInterrupt:
        print(f"stopped; fed until {store.get_meta('demo_fed_until')}")
    return 0


def _db_migrate(args: argparse.Namespace) -> int:
    from wangge.settings import Settings
    from wangge.store import Store

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
    from wangge.access import Scope
    from wangge.ingest import files as imports
    from wangge.settings import Settings
    from wangge.store import Store

    store = Store(Settings.from_env().db_path)
    store.migrate()
    county = Scope.county()  # the command line speaks for the county
    try:
        if args.kind == "cases":
            report = imports.import_cases(
                args.file,
                store,
                scope=county,
                mapping=_pairs(args.map, "--map"),
                constants=_pairs(args.set, "--set"),
                sheet=args.sheet,
                encoding=args.encoding,
                timezone=args.timezone,
            )
        elif args.kind == "cameras":
            report = imports.import_cameras(
                args.file,
                store,
                scope=county,
                layer=args.layer,
                mapping=_pairs(args.map, "--map"),
            )
        else:
            report = imports.import_gps(
                args.file,
                store,
                scope=county,
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


def _demo_commands(demo_sub: argparse._SubParsersAction) -> None:
    """``wangge demo setup|simulate|feed``."""
    setup = demo_sub.add_parser(
        "setup", help="build the demo county, load it into the store and divide it into grids"
    )
    setup.add_argument("--seed", type=int, default=None, help="seed (default: $WANGGE_DEMO_SEED)")
    setup.add_argument("--quiet", action="store_true", help="no progress output")
    setup.set_defaults(func=_demo_setup)

    sim = demo_sub.add_parser(
        "simulate", help="simulate workers, cameras, cases and patrol tracks for the demo county"
    )
    sim.add_argument("--days", type=int, default=90, help="days of cases (default: %(default)s)")
    sim.add_argument("--seed", type=int, default=None, help="seed (default: $WANGGE_DEMO_SEED)")
    sim.add_argument("--end", help="the simulated now, ISO-8601 with zone (default: now)")
    sim.add_argument(
        "--per-day", type=float, default=120.0, help="mean cases a day (default: %(default)s)"
    )
    sim.add_argument(
        "--gps-days", type=int, default=14, help="days of GPS tracks (default: %(default)s)"
    )
    sim.set_defaults(func=_demo_simulate)

    feed = demo_sub.add_parser(
        "feed",
        help="keep the demo county moving: catch up since the last feed, then feed every "
        "--interval seconds until Ctrl-C (the served app does this in the background)",
    )
    feed.add_argument(
        "--interval", type=float, default=30.0, help="seconds between feeds (default: %(default)s)"
    )
    feed.add_argument("--once", action="store_true", help="catch up to now once and stop")
    feed.set_defaults(func=_demo_feed)


def _admin_commands(sub: argparse._SubParsersAction) -> None:
    """``wangge db migrate``, ``serve``, ``user add`` and ``token create``."""
    db = sub.add_parser("db", help="the store (SQLite file in $WANGGE_DATA_DIR)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("migrate", help="create or upgrade the schema").set_defaults(func=_db_migrate)

    sub.add_parser("serve", help="serve the dashboard on $HOST:$PORT").set_defaults(func=_serve)

    user = sub.add_parser("user", help="dashboard users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add or replace a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["county", "township", "planner", "wall"])
    add.add_argument("--scope", help="township code (role township)")
    add.add_argument("--name", help="display name")
    add.add_argument("--password", help="(default: asked for)")
    add.set_defaults(func=_user_add)
    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="a new bearer token, printed once")
    create.add_argument("--name", required=True, help="who uses it, e.g. 12345 hotline bridge")
    create.add_argument(
        "--role", required=True, choices=["county", "township", "writer", "planner", "wall"]
    )
    create.add_argument("--scope", help="township code (role township)")
    create.set_defaults(func=_token_create)


def _import_commands(sub: argparse._SubParsersAction) -> None:
    """``wangge import cases|gps|cameras``."""
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
            "--timezone", default=COUNTY_TZ, help="zone of naive times (default: %(default)s)"
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


def build_parser() -> argparse.ArgumentParser:
    """The ``wangge`` command's parser: demo, partition, db, serve, user, token, import."""
    parser = argparse.ArgumentParser(
        prog="wangge", description="Community grid management (网格化管理)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    _demo_commands(_demo_parsers(sub))
    geo_cli.register_partition(sub)
    _admin_commands(sub)
    _import_commands(sub)
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
