"""In-process timings of the dashboard callbacks behind the browser benchmark's interactions.

    .venv/bin/python benchmarks/callbacks.py --data-dir /tmp/speed200k [--runs 10] [--profile]

The browser benchmark (``benchmarks/browser.py``) times a click to the redrawn page in headless
Chromium; on a shared 2-core machine its figures move with the load. This one posts the same
Dash requests the browser sends (``/_dash-update-component`` with the same inputs, signed in as
the county user) to the app in this process, through Flask's test client, and prints per
interaction the server's time (p50/p95, cold = first time the inputs are asked after the app
was created, warm = again) and the bytes of each answer, which the load distorts less. The data
folder must hold a prepared store (``browser.py --data-dir DIR`` prepares and keeps one).

- filter change: ``show_cases`` and ``show_hexes`` of the map page, the same window and category
  path as ``browser.py`` (the case count is drawn when ``show_cases`` answers);
- one drill-down level: ``navigate`` of the situation page, county -> township -> community ->
  grid, a different ranking row each run as ``browser.py`` picks them;
- ``--profile``: the cProfile of the cold and warm passes (top functions by cumulative time);
- ``--sql``: every SQL statement's time, summed per statement text (top 15).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CATEGORIES = ["dispute", "safety", "sanitation", "facility", "order", "livelihood"]
WINDOWS = ["30d", "7d", "90d", "1d"]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def filter_path(runs: int) -> list[tuple[str, str | None]]:
    """The (window, category) after each change, as ``browser.filter_changes`` makes them."""
    path, window, category, seen = [], "7d", None, {("7d", None)}
    for i in range(runs):
        if i % 2 == 0:
            category = CATEGORIES[(i // 2) % len(CATEGORIES)]
        else:
            window = next(w for w in WINDOWS if (w, category) not in seen)
        seen.add((window, category))
        path.append((window, category))
    return path


class Dash:
    """Dash requests to the app, as the browser sends them."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def spec(self, output: str) -> tuple[str, dict]:
        key = next(k for k in self.app.callback_map if output in k.strip(".").split("..."))
        return key, self.app.callback_map[key]

    def call(self, output: str, values: dict, changed: list[str]) -> tuple[float, int, dict]:
        """POST the callback whose outputs include ``output`` with ``values`` ({"id.prop":
        value}; others None); (seconds, bytes of the answer, the answer)."""
        key, spec = self.spec(output)
        outs = [o for o in key.strip(".").split("...")]

        def out(o):
            i, p = o.rsplit(".", 1)
            return {"id": i, "property": p}

        def item(x):
            name = f"{x['id']}.{x['property']}"
            return {"id": x["id"], "property": x["property"], "value": values.get(name)}

        body = {
            "output": key,
            "outputs": [out(o) for o in outs] if len(outs) > 1 else out(outs[0]),
            "inputs": [item(x) for x in spec["inputs"]],
            "state": [item(x) for x in spec["state"]],
            "changedPropIds": changed,
        }
        t = time.perf_counter()
        resp = self.client.post("/_dash-update-component", json=body)
        dt = time.perf_counter() - t
        if resp.status_code not in (200, 204):
            raise RuntimeError(f"{output}: {resp.status_code} {resp.get_data()[:300]!r}")
        data = resp.get_data()
        return dt, len(data), (json.loads(data) if resp.status_code == 200 else {})


def filter_changes(dash, runs: int, zoom: float) -> dict[str, list]:
    """Each change of the map's case filters: show_cases and show_hexes, cold then warm."""
    out: dict[str, list] = defaultdict(list)
    for label in ("cold", "warm"):
        for window, category in filter_path(runs):
            values = {
                "case-window.value": window,
                "case-category.value": category,
                "situation-map.zoom": zoom,
                "lang-store.data": "zh",
            }
            dt, size, _ = dash.call("layer-cases.data", values, ["case-category.value"])
            dt2, size2, _ = dash.call("layer-hexes.data", values, ["case-category.value"])
            out[label].append((dt + dt2) * 1000)
            out[f"{label} bytes"].append(size + size2)
    return out


def _ranking_codes(answer: dict) -> list[str]:
    """The codes of the ranking rows in a navigate answer, in the page's order."""
    text = json.dumps(answer.get("response", {}).get("sit-detail", {}), ensure_ascii=False)
    codes, mark = [], '"data-code": "'
    start = text.find('"sit-ranking"')
    if start < 0:
        start = 0
    i = text.find(mark)
    while i >= 0:
        j = text.find('"', i + len(mark))
        codes.append(text[i + len(mark) : j])
        i = text.find(mark, j)
    return list(dict.fromkeys(codes))


def drill_downs(dash, runs: int, county: str, first: list[str]) -> dict[str, list]:
    """County -> township -> community -> grid, ``links[(run * 7) % len]`` at each level, twice:
    a unit's first visit is cold, later ones warm."""
    out: dict[str, list] = defaultdict(list)
    seen: set[str] = set()
    state0 = {"level": "county", "code": county, "metric": "per100", "lang": "zh"}
    for run in list(range(runs)) * 2:
        state, links = dict(state0), first
        for level in ("township", "community", "grid"):
            code = links[(run * 7) % len(links)]
            values = {
                "sit-target.data": {"level": level, "code": code, "at": time.time()},
                "sit-metric.value": "per100",
                "sit-state.data": state,
                "sit-hot-period.value": "30d",
            }
            dt, size, answer = dash.call("sit-state.data", values, ["sit-target.data"])
            label = "warm" if code in seen else "cold"
            out[label].append(dt * 1000)
            out[f"{label} bytes"].append(size)
            out[f"{label} level"].append(level)
            seen.add(code)
            state = answer["response"]["sit-state"]["data"]
            links = _ranking_codes(answer)
            if level != "grid" and not links:
                raise RuntimeError(f"no ranking rows at {level} {code}")
    return out


def trace_sql(totals: dict):
    """A sqlite3 trace callback for every new connection: statement texts, counted (the time
    of each statement is profiled with ``--profile``)."""
    import sqlite3

    connect = sqlite3.connect

    def traced(*args, **kwargs):
        con = connect(*args, **kwargs)
        con.set_trace_callback(lambda s: totals[" ".join(s.split())[:140]].append(1))
        return con

    sqlite3.connect = traced


def summary(name: str, out: dict) -> list[str]:
    rows = []
    for label in ("cold", "warm"):
        ms, size = out.get(label, []), out.get(f"{label} bytes", [])
        if ms:
            rows.append(
                f"| {name}, {label} (n={len(ms)}) | {pct(ms, 0.5):.0f} / {pct(ms, 0.95):.0f} / "
                f"{max(ms):.0f} | {statistics.median(size) / 1024:.1f} / {max(size) / 1024:.1f} |"
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sql", action="store_true", help="count the SQL statements per text")
    args = parser.parse_args()
    os.environ["WANGGE_DATA_DIR"] = str(args.data_dir)
    os.environ["WANGGE_DEMO_FEED"] = "0"
    statements: dict = defaultdict(list)
    if args.sql:
        trace_sql(statements)
    from dashboard.app import create_app
    from dashboard.components.geojson import fitted_view
    from wangge.access import Scope

    t = time.perf_counter()
    app = create_app()
    cfg = app.server.config
    analytics = cfg["WANGGE_ANALYTICS"]
    analytics.warm_up()  # as the server does in the background before the benchmark starts
    start = time.perf_counter() - t
    client = app.server.test_client()
    with client.session_transaction() as sess:
        sess["user"] = {"username": "admin", "display_name": "admin", "role": "county", "scope": ""}
    client.get("/")  # Dash registers its callbacks
    dash = Dash(app, client)
    scope = Scope.county()
    with app.server.app_context():
        zoom = fitted_view(*cfg["WANGGE_LAYERS"].home_bounds(scope=scope))["zoom"]
    county = cfg["WANGGE_STORE"].admin_units("county", scope=scope)["code"].iloc[0]
    townships = cfg["WANGGE_STORE"].admin_units("township", scope=scope)
    # the county's ranking (per100, highest first), as the page shows it
    page = dash.call(
        "sit-state.data",
        {
            "sit-target.data": {"level": "county", "code": county, "at": 0},
            "sit-state.data": {"level": "township", "code": townships["code"].iloc[0]},
            "sit-metric.value": "per100",
        },
        ["sit-target.data"],
    )[2]
    first = _ranking_codes(page)
    prof = cProfile.Profile() if args.profile else None
    if prof:
        prof.enable()
    filt = filter_changes(dash, args.runs, zoom)
    drill = drill_downs(dash, args.runs, county, first)
    if prof:
        prof.disable()
    n = cfg["WANGGE_STORE"].count("cases")
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"in process, {n:,} cases, app created and warmed up in {start:.1f} s; map zoom {zoom}")
    print(f"load when done: {load}\n")
    print("| callback | server ms p50 / p95 / max | answer KB median / max |")
    print("|---|---|---|")
    for line in summary("filter change (show_cases + show_hexes)", filt) + summary(
        "one drill-down level (navigate)", drill
    ):
        print(line)
    for label in ("cold", "warm"):
        per: dict[str, list] = defaultdict(list)
        for lv, ms in zip(drill.get(f"{label} level", []), drill.get(label, []), strict=True):
            per[lv].append(ms)
        print(
            f"drill-down {label} by level: "
            + ", ".join(f"{lv} {statistics.median(v):.0f}/{max(v):.0f} ms" for lv, v in per.items())
        )
    if prof:
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(45)
        print(s.getvalue())
    if statements:
        print("SQL statements (count):")
        for sql, hits in sorted(statements.items(), key=lambda kv: -len(kv[1]))[:15]:
            print(f"{len(hits):6d}  {sql}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
