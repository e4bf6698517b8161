"""The ``wangge`` command: geo's commands plus those that need the store.

| command | does |
| --- | --- |
| ``wangge demo build`` | generate the demo county's files (geo) |
| ``wangge demo setup`` | build, load into the store and divide the demo county into grids |
| ``wangge demo feed`` | keep the demo county moving (new cases, handling, cameras, patrols) until Ctrl-C |
| ``wangge partition`` | divide buildings into grids (geo) |
| ``wangge county import`` | load a real county (hierarchy, buildings, reference layers) |
| ``wangge grids partition|import|list|publish|export`` | grid versions of the store's county |
| ``wangge db migrate`` | create or upgrade the store's schema |
| ``wangge serve`` | set up the demo county when needed and serve the dashboard |
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from geo import cli as geo_cli
from wangge.clock import COUNTY_TZ, check_range

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


def _user_change(args: argparse.Namespace) -> int:
    """``wangge user passwd|set|disable|logout``: each ends the user's sessions."""
    import getpass

    from wangge.settings import Settings
    from wangge.store import Store, StoreError

    store = Store(Settings.from_env().db_path)
    store.migrate()
    try:
        if args.user_command == "passwd":
            password = args.password or getpass.getpass(f"new password for {args.username}: ")
            store.set_password(args.username, password)
        elif args.user_command == "set":
            store.set_role(args.username, args.role, scope=args.scope or "")
        elif args.user_command == "disable":
            store.disable_user(args.username)
        else:
            store.end_sessions(args.username)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"user {args.username}: {args.user_command} done; every session of the user ended")
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
        raise SystemExit("error: --end needs a time zone, e.g. 2026-11-22T08:00:00+08:00")
    if end is not None:
        check_range(end)  # from 2000-01-01 to one day after now, like every stored time
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

    if not Path(args.file).is_file():
        raise ValueError(f"{args.file}: no such file")
    if getattr(args, "timezone", None) is not None:
        imports.zone(args.timezone)  # an unknown zone is refused before anything is read
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
    passwd = user_sub.add_parser("passwd", help="change a password (ends the user's sessions)")
    passwd.add_argument("username")
    passwd.add_argument("--password", help="(default: asked for)")
    change = user_sub.add_parser("set", help="change a role and scope (ends the user's sessions)")
    change.add_argument("username")
    change.add_argument("--role", required=True, choices=["county", "township", "planner", "wall"])
    change.add_argument("--scope", help="township code (role township)")
    for name, text in (
        ("disable", "stop a user from signing in (ends the user's sessions)"),
        ("logout", "end every session of a user"),
    ):
        user_sub.add_parser(name, help=text).add_argument("username")
    for name in ("passwd", "set", "disable", "logout"):
        user_sub.choices[name].set_defaults(func=_user_change)
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


def _store():
    from wangge.settings import Settings
    from wangge.store import Store

    store = Store(Settings.from_env().db_path)
    store.migrate()
    return store


def _author(args: argparse.Namespace) -> str:
    import getpass

    return args.author or getpass.getuser()


def _print_report(report, as_json: bool) -> None:
    import json

    print(
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if as_json else report.summary()
    )


def _county_import(args: argparse.Namespace) -> int:
    from wangge.ingest.county import CountyFiles, import_county
    from wangge.ingest.layers import LayerOptions
    from wangge.ingest.problems import ImportRefused
    from wangge.settings import Settings
    from wangge.store import Store

    references = {k: getattr(args, k) for k in ("roads", "water", "railways") if getattr(args, k)}
    files = CountyFiles(
        county_code=args.county_code,
        county_name=args.county_name,
        townships=args.townships,
        communities=args.communities,
        township_code=args.township_code,
        township_name=args.township_name,
        community_code=args.community_code,
        community_name=args.community_name,
        community_kind=args.community_kind,
        buildings=args.buildings,
        households_column=args.households_column,
        building_id=args.building_id,
        references=references,
        options=LayerOptions(encoding=args.encoding, gcj02=args.gcj02),
        tolerance_m2=args.tolerance,
    )
    try:
        report = import_county(Store(Settings.from_env().db_path), files)
    except ImportRefused as exc:
        _print_report(exc.report, args.json)
        print("error: nothing was imported; fix the problems above", file=sys.stderr)
        return 1
    _print_report(report, args.json)
    return 0


def _county_commands(sub: argparse._SubParsersAction) -> None:
    """``wangge county import``."""
    county = sub.add_parser("county", help="a real county's boundaries, buildings and layers")
    county_sub = county.add_subparsers(dest="county_command", required=True)
    imp = county_sub.add_parser(
        "import",
        help="validate a county's files and load them into the store in one transaction "
        "(all or nothing; a second import replaces the county, cases keep their grids)",
    )
    imp.add_argument("--county-code", required=True, help="the county's 6-digit code")
    imp.add_argument("--county-name", required=True, help="the county's name")
    for level, flag in (("township", "--townships"), ("community", "--communities")):
        imp.add_argument(flag, required=True, metavar="FILE[:LAYER]", help=f"{level} polygons")
        imp.add_argument(
            f"--{level}-code", default="code", metavar="COL", help="12-digit code column"
        )
        imp.add_argument(f"--{level}-name", default="name", metavar="COL", help="name column")
    imp.add_argument("--community-kind", metavar="COL", help="urban/rural (社区/行政村) column")
    imp.add_argument("--buildings", metavar="FILE[:LAYER]", help="building footprints")
    imp.add_argument(
        "--households-column", metavar="COL", help="households per building (else estimated)"
    )
    imp.add_argument("--building-id", metavar="COL", help="building id column")
    for layer in ("roads", "water", "railways"):
        imp.add_argument(f"--{layer}", metavar="FILE[:LAYER]", help=f"{layer} reference layer")
    imp.add_argument("--encoding", help="DBF encoding of shapefiles (GBK, GB18030, UTF-8)")
    imp.add_argument(
        "--gcj02", action="store_true", help="coordinates are GCJ-02 (Gaode/Tencent): convert"
    )
    imp.add_argument(
        "--tolerance",
        type=float,
        default=100.0,
        metavar="M2",
        help="overlaps and gaps up to this area are tolerated (default: %(default)s m2)",
    )
    imp.add_argument("--json", action="store_true", help="the report as JSON")
    imp.set_defaults(func=_county_import)


def _grids_run(args: argparse.Namespace) -> int:
    """``wangge grids partition|import|publish|export``: one store call each."""
    from wangge.ingest.problems import ImportRefused
    from wangge.services import grids
    from wangge.store import StoreError

    store = _store()
    status = 0
    try:
        if args.grids_command == "partition":
            status = _grids_partition(store, args)
        elif args.grids_command == "import":
            from wangge.ingest.grids import GridFiles, import_grids
            from wangge.ingest.layers import LayerOptions

            files = GridFiles(
                args.file,
                args.code_column,
                args.community_column,
                LayerOptions(encoding=args.encoding, gcj02=args.gcj02),
            )
            vid, report = import_grids(
                store, files, author=_author(args), comment=args.comment or ""
            )
            print(report.summary())
            print(f"grid version {vid} (draft)")
        elif args.grids_command == "publish":
            grids.publish_grid_version(store, args.id)
            print(f"grid version {args.id} published")
        elif args.format in ("pdf", "html"):
            out = _grids_atlas(store, args)
            print(f"grid version {args.id}: {out}")
        else:
            out = grids.export_grid_version(
                store, args.id, args.format, args.out, encoding=args.encoding
            )
            print(f"grid version {args.id}: {out}")
    except ImportRefused as exc:
        print(exc.report.summary())
        print("error: nothing was imported; fix the problems above", file=sys.stderr)
        return 1
    except (StoreError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return status


def _grids_partition(store, args: argparse.Namespace) -> int:
    """``wangge grids partition``: a new draft by the engine; 3 when its contract is breached.

    Like ``wangge partition``: one line per kind of breach on stderr (the report lists every
    one); the draft is saved all the same, for review, and the message says so.
    """
    from geo.partition.contract import breach_lines
    from wangge.services import grids

    vid, report = grids.partition_store(
        store,
        township=args.township,
        author=_author(args),
        comment=args.comment or "",
        progress=not args.quiet,
    )
    print(f"grid version {vid} (draft): {report['counts']}")
    lines = breach_lines(report)
    if not lines:
        print(
            "contract: kept (every building wholly inside its grid, polygons valid, households unchanged)"
        )
        return 0
    for line in lines:
        print(line, file=sys.stderr)
    print(
        f"grid version {vid} is saved as a draft all the same; review it "
        f"(wangge grids export {vid} --format html --out map.html) before publishing",
        file=sys.stderr,
    )
    return 3


def _grids_atlas(store, args: argparse.Namespace):
    """``wangge grids export --format pdf|html``: the printed atlas or the offline map."""
    from wangge.services import atlas

    if args.format == "pdf":
        return atlas.export_atlas(
            store,
            args.id,
            args.out,
            community=args.community,
            paper=args.paper,
            progress=not args.quiet,
        )
    return atlas.export_html_map(store, args.id, args.out, community=args.community)


def _grids_list(args: argparse.Namespace) -> int:
    import json

    from wangge.services.grids import grid_version_rows

    rows = grid_version_rows(_store())
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"{'id':>4}  {'status':<9}  {'created_at':<20}  {'grids':>5}  {'author':<12}  comment")
    for r in rows:
        print(
            f"{r['id']:>4}  {r['status']:<9}  {r['created_at']:<20}  {r['grids']:>5}  "
            f"{r['author']:<12}  {r['comment']}"
        )
    return 0


def _grids_commands(sub: argparse._SubParsersAction) -> None:
    """``wangge grids partition|import|list|publish|export``."""
    grids = sub.add_parser("grids", help="grid versions: divide, adopt, list, publish, export")
    grids_sub = grids.add_subparsers(dest="grids_command", required=True)
    part = grids_sub.add_parser(
        "partition",
        help="a new draft version by the grid engine",
        description="Divide the store's county (or one township) into a new draft grid "
        "version. Exit status: 0 done, 2 error, 3 saved as a draft but the engine's contract "
        "is breached (one line per kind on stderr).",
    )
    part.add_argument("--township", metavar="CODE", help="only this township (others kept)")
    part.add_argument("--quiet", action="store_true", help="no progress output")
    imp = grids_sub.add_parser("import", help="adopt an existing grid layer as a draft version")
    imp.add_argument("file", metavar="FILE[:LAYER]")
    imp.add_argument("--code-column", required=True, metavar="COL", help="grid code column")
    imp.add_argument("--community-column", metavar="COL", help="community code column")
    imp.add_argument("--encoding", help="DBF encoding of a shapefile")
    imp.add_argument("--gcj02", action="store_true", help="coordinates are GCJ-02: convert")
    for p in (part, imp):
        p.add_argument("--author", help="who made it (default: the login name)")
        p.add_argument("--comment", help="what it is for")
        p.set_defaults(func=_grids_run)
    lst = grids_sub.add_parser(
        "list", help="every version: id, status, created_at, author, comment"
    )
    lst.add_argument("--json", action="store_true", help="as JSON (for scripts)")
    lst.set_defaults(func=_grids_list)
    pub = grids_sub.add_parser("publish", help="the dashboard and new cases use this version")
    pub.add_argument("id", type=int)
    pub.set_defaults(func=_grids_run)
    exp = grids_sub.add_parser("export", help="write a version's grids to a file")
    exp.add_argument("id", type=int)
    exp.add_argument(
        "--format",
        required=True,
        choices=["gpkg", "geojson", "shp", "pdf", "html"],
        help="pdf: the printed atlas (挂图); html: an interactive map that works offline",
    )
    exp.add_argument("--out", required=True, metavar="PATH")
    exp.add_argument("--encoding", help="Shapefile DBF encoding, e.g. GBK (default: UTF-8)")
    exp.add_argument("--community", metavar="CODE", help="pdf/html: only this community")
    exp.add_argument(
        "--paper", choices=["a4", "a3"], default="a4", help="pdf: paper size (default: a4)"
    )
    exp.add_argument("--quiet", action="store_true", help="pdf: no progress output")
    exp.set_defaults(func=_grids_run)


def build_parser() -> argparse.ArgumentParser:
    """The ``wangge`` command's parser: demo, partition, db, serve, user, token, import, county,
    grids."""
    parser = argparse.ArgumentParser(
        prog="wangge", description="Community grid management (网格化管理)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    _demo_commands(_demo_parsers(sub))
    geo_cli.register_partition(sub)
    _admin_commands(sub)
    _import_commands(sub)
    _county_commands(sub)
    _grids_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command of ``argv``; return its exit status.

    A bad option or file (a missing file, an unknown encoding or time zone, a malformed time,
    a store that refuses) prints one line ``error: ...`` and returns 2, never a traceback
    (``-v`` shows the traceback too)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError, LookupError, RuntimeError) as exc:
        if args.verbose:
            raise
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    """An exception as one line: its message (or its kind), newlines folded."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename}: no such file"
    return text


if __name__ == "__main__":
    sys.exit(main())
