"""Command line for the geo library: ``wangge demo build`` and ``wangge partition``.

``dashboard.cli`` builds the full ``wangge`` command from :func:`register`, adding the commands
that need the store; this module itself never imports the store or Dash.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

__all__ = ["register"]

log = logging.getLogger(__name__)

DEFAULT_SEED = 20261122


def _demo_build(args: argparse.Namespace) -> int:
    from geo import demo

    paths = demo.build_demo_county(Path(args.out), seed=args.seed, progress=not args.quiet)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> dict[str, argparse._SubParsersAction]:
    """Add the geo commands to ``subparsers``.

    Returns the nested sub-parser groups by name (``{"demo": ...}``) so that callers can add
    their own sub-commands to them (``wangge demo simulate`` lives in the dashboard package).
    """
    demo_p = subparsers.add_parser("demo", help="the built-in synthetic demo county (示范县)")
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
    return {"demo": demo_sub}
