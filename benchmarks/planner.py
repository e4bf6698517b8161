"""Benchmark of the planner: live tallies in the browser, save, re-run, publish and diff.

    .venv/bin/python benchmarks/planner.py [--buildings 5000] [--runs 200] [--demo-dir DIR]

Builds a synthetic county in a fresh data folder: one township, one community of
``--buildings`` buildings (a lattice of footprints cut by streets every 8 rows and columns,
1 to 5 households each, from one seed) and three of 600; divides it with the
grid engine (``wangge grids``' service) into version 1 and publishes it. Then measures:

- tally update after a move, in headless Chromium on ``/planner`` (``python app.py`` serving the
  folder): a building on a grid's edge given to the neighbouring grid, timed inside the page
  from the click handler's start to the tallies, contiguity, restyle, grid outlines and list
  updated (``wanggePlanner.move``; the outlines' part apart), and to the next animation frame
  after it (p50/p95 over ``--runs``); then a lasso giving a block of buildings to a grid;
- save a draft of 20 moves (the community's cells already made: making them, once per
  community with the engine, is shown apart);
- re-run the engine on the unlocked rest of the big community, a third of its grids locked,
  after 60 moves of buildings on grids' edges, and again with nothing changed (how many
  buildings that moves: the warm start should move ~0); ``--profile`` prints its cProfile;
- publish a draft;
- diff of two versions of the whole county (and of the demo county in ``--demo-dir``, when
  given: its published version against a draft of 20 moves).

Prints one table. 2 shared cores, software rendering: compare rows, not absolute times.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import box

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wangge.access import Scope  # noqa: E402
from wangge.services import planner  # noqa: E402
from wangge.services.grids import partition_store  # noqa: E402
from wangge.services.planner_cells import community_cells  # noqa: E402
from wangge.services.planner_diff import diff_versions  # noqa: E402
from wangge.store import Store  # noqa: E402

COUNTY, TOWNSHIP = "420999000000", "420999001000"
PASSWORD = "planner-bench-pw"
UTM = 32650


def _lattice(code: str, n: int, x0: float, rng) -> tuple[gpd.GeoDataFrame, object]:
    """``n`` footprints on a lattice with a street gap every 8 rows/columns; the square."""
    side = int(np.ceil(np.sqrt(n)))
    step, size, street = 22.0, 14.0, 18.0
    geoms = []
    for k in range(n):
        i, j = divmod(k, side)
        x = x0 + j * step + (j // 8) * street
        y = 3_500_000 + i * step + (i // 8) * street
        geoms.append(box(x, y, x + size, y + size))
    frame = gpd.GeoDataFrame(
        {
            "building_id": [f"{code[-3:]}-{k:05d}" for k in range(n)],
            "community_code": code,
            "kind": "walkup",
            "floors": 6,
            "households": rng.integers(1, 6, n),
            "special": "",
            "name": "",
        },
        geometry=geoms,
        crs=UTM,
    )
    minx, miny, maxx, maxy = frame.total_bounds
    return frame, box(minx - 20, miny - 20, maxx + 20, maxy + 20)


def build_county(store: Store, n_big: int, seed: int = 11) -> str:
    """The synthetic county of the module docstring, divided and published; the big
    community's code."""
    rng = np.random.default_rng(seed)
    sizes = [n_big, 600, 600, 600]
    frames, squares, x0 = [], [], 500_000.0
    for k, n in enumerate(sizes):
        frame, square = _lattice(f"420999001{k + 1:03d}", n, x0, rng)
        frames.append(frame)
        squares.append(square)
        x0 = square.bounds[2] + 20
    buildings = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=UTM)
    comms = gpd.GeoDataFrame(
        {
            "code": [f"420999001{k + 1:03d}" for k in range(len(sizes))],
            "name": [f"社区{k + 1}" for k in range(len(sizes))],
            "level": "community",
            "kind": "urban",
            "parent_code": TOWNSHIP,
        },
        geometry=squares,
        crs=UTM,
    )
    whole = comms.union_all().envelope
    units = pd.concat(
        [
            gpd.GeoDataFrame(
                {"code": [COUNTY], "name": ["测试县"], "level": "county", "kind": "county"},
                geometry=[whole],
                crs=UTM,
            ).assign(parent_code=None),
            gpd.GeoDataFrame(
                {"code": [TOWNSHIP], "name": ["城关街道"], "level": "township"},
                geometry=[whole],
                crs=UTM,
            ).assign(kind="subdistrict", parent_code=COUNTY),
            comms,
        ],
        ignore_index=True,
    )
    store.migrate()
    store.replace_admin_units(gpd.GeoDataFrame(units, crs=UTM).to_crs(4326))
    store.replace_buildings(buildings.to_crs(4326))
    vid, _ = partition_store(store, author="bench")
    store.publish_grid_version(vid, actor="bench")
    store.set_meta("county_code", COUNTY)
    store.create_user("planner", PASSWORD, "planner")
    return comms["code"].iloc[0]


def _edge_moves(store: Store, version: int, community: str, count: int, seed: int) -> list[dict]:
    """``count`` buildings on a grid's edge, each given to a neighbouring grid."""
    state = planner.community_state(store, version, community)
    grid, edges = np.array(state["grid"]), np.array(state["edges"]).reshape(-1, 2)
    across = edges[grid[edges[:, 0]] != grid[edges[:, 1]]]
    rng = np.random.default_rng(seed)
    picked = across[rng.choice(len(across), size=min(count * 3, len(across)), replace=False)]
    moves, seen = [], set()
    for a, b in picked:
        if a not in seen and len(moves) < count:
            seen.add(a)
            moves.append({"building": state["buildings"][a], "to": str(grid[b])})
    return moves


class Table(list):
    """Rows of the table, each also shown on stderr as soon as it is measured."""

    def append(self, row) -> None:
        print(f"  {row[0]}: {row[1]}", file=sys.stderr, flush=True)
        super().append(row)

    def __iadd__(self, rows):
        for row in rows:
            self.append(row)
        return self


def _timed(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def server_side(
    store: Store, community: str, demo_dir: Path | None, profile: bool = False
) -> list[tuple[str, str]]:
    """Save, re-run, publish and diff timings (rows of the table)."""
    rows = Table()
    v1 = store.published_grid_version()
    saves = []
    for k in range(5):
        seconds, draft = _timed(
            planner.save_draft, store, v1, _edge_moves(store, v1, community, 20, k + 2)
        )
        saves.append(seconds)
    rows.append(("save a draft of 20 moves (median of 5)", f"{statistics.median(saves):.2f} s"))
    grids = sorted(set(store.version_assignment(v1, community_code=community)["grid_code"]))
    locked = grids[::3]
    edits = _edge_moves(store, v1, community, 60, 99)  # the planner's edits before the re-run
    rerun, moves = _timed(planner.rerun_moves, store, v1, community, locked, edits)
    rows.append(
        (
            f"re-run the unlocked rest ({len(grids) - len(locked)} of {len(grids)} grids)",
            f"{rerun:.2f} s",
        )
    )
    rows.append(("  buildings moved by the re-run", str(len(moves))))
    still, moves = _timed(planner.rerun_moves, store, v1, community, locked, [])
    rows.append(("re-run with nothing changed (same locks)", f"{still:.2f} s"))
    rows.append(("  buildings moved by it (warm start: ~0)", str(len(moves))))
    if profile:
        cProfile.runctx(
            "planner.rerun_moves(store, v1, community, locked, edits)",
            globals(),
            {"store": store, "v1": v1, "community": community, "locked": locked, "edits": edits},
            sort="cumulative",
        )
    seconds, _ = _timed(planner.publish, store, draft["id"], actor="bench", reason="benchmark")
    rows.append(("publish a draft", f"{seconds:.2f} s"))
    seconds, diff = _timed(diff_versions, store, draft["id"], v1, scope=Scope.county())
    rows.append((f"diff of two county versions ({len(diff['moved'])} moved)", f"{seconds:.3f} s"))
    if demo_dir is not None:
        demo = Store(demo_dir / "wangge.sqlite")
        demo.migrate()
        base = demo.published_grid_version()
        comm = demo.version_assignment(base)["grid_code"].str[:12].value_counts().index[0]
        d = planner.save_draft(demo, base, _edge_moves(demo, base, comm, 20, 1), author="bench")
        seconds, diff = _timed(diff_versions, demo, d["id"], base, scope=Scope.county())
        n = len(demo.version_assignment(base))
        rows.append((f"diff of two demo county versions ({n:,} buildings)", f"{seconds:.3f} s"))
        rows += demo_rerun(demo, base, comm)
    return rows


def demo_rerun(demo: Store, base: int, comm: str) -> list[tuple[str, str]]:
    """Re-run of the demo county's largest community, a third of its grids locked: after 60
    edits, and with nothing changed."""
    rows = Table()
    size = len(demo.community_buildings(comm))
    seconds, _ = _timed(community_cells, demo, comm)
    rows.append((f"demo: cells of community {comm} ({size:,} buildings), once", f"{seconds:.1f} s"))
    grids = sorted(set(demo.version_assignment(base, community_code=comm)["grid_code"]))
    locked = grids[::3]
    edits = _edge_moves(demo, base, comm, 60, 99)
    seconds, moves = _timed(planner.rerun_moves, demo, base, comm, locked, edits)
    name = f"demo: re-run the unlocked rest ({len(grids) - len(locked)} of {len(grids)} grids)"
    rows.append((name, f"{seconds:.2f} s, {len(moves)} moved"))
    seconds, moves = _timed(planner.rerun_moves, demo, base, comm, locked, [])
    rows.append(("demo: re-run with nothing changed", f"{seconds:.2f} s, {len(moves)} moved"))
    return rows


MOVE_JS = """
var P = window.wanggePlanner, done = arguments[arguments.length - 1];
var n = arguments[0], seed = 7, out = [], frames = [], outline = [];
function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647; }
var across = [];
for (var k = 0; k < P.data.edges.length; k += 2) {
  var a = P.data.edges[k], b = P.data.edges[k + 1];
  if (P.assign[a] !== P.assign[b]) across.push([a, b]);
}
function step(i) {
  if (i >= n) {
    /* a lasso of a tenth of the community's extent around a building, given to its neighbour */
    var c = P.data.centroid, lat = c[0], lng = c[1], dy = 0, dx = 0;
    for (var q = 2; q < c.length; q += 2) { dy = Math.max(dy, Math.abs(c[q] - lat)); dx = Math.max(dx, Math.abs(c[q + 1] - lng)); }
    var e0 = across[0], ring = [[lat, lng], [lat + dy / 10, lng], [lat + dy / 10, lng + dx / 10], [lat, lng + dx / 10]];
    P.target = P.assign[e0[1]];
    var t1 = performance.now(), got = P.lassoSelect(ring), lasso = performance.now() - t1;
    done({move: out, frame: frames, outline: outline, lasso: lasso, lassoed: got, edges: P.outlineCount(),
          cells: P.edgeOn.length});
    return;
  }
  var e = across[Math.floor(rnd() * across.length)];
  var t0 = performance.now();
  P.move([e[0]], P.assign[e[1]]);
  out.push(P.lastMs);
  outline.push(P.lastOutlineMs);
  requestAnimationFrame(function () {
    frames.push(performance.now() - t0);
    P.undoStep();
    setTimeout(function () { step(i + 1); }, 0);
  });
}
step(0);
"""


def browser_side(data_dir: Path, community: str, runs: int) -> list[tuple[str, str]]:
    """Tally update after a move on /planner, in headless Chromium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import served_app

    env = {**os.environ, "WANGGE_DATA_DIR": str(data_dir), "WANGGE_DEMO_FEED": "0"}
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--window-size=1500,950",
    ):
        opts.add_argument(arg)
    with served_app(env, data_dir / "server.log") as url:
        driver = webdriver.Chrome(
            service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=opts
        )
        try:
            driver.set_script_timeout(300)
            driver.get(f"{url}/login?next=/planner?community={community}")
            driver.find_element(By.ID, "username").send_keys("planner")
            driver.find_element(By.ID, "password").send_keys(PASSWORD)
            t0 = time.perf_counter()
            driver.find_element(By.ID, "login-submit").click()
            WebDriverWait(driver, 120).until(
                lambda d: d.execute_script(
                    "var P = window.wanggePlanner; return P && P.data && "
                    "P.layers.filter(Boolean).length === P.data.buildings.length"
                )
            )
            load = time.perf_counter() - t0
            n = driver.execute_script("return window.wanggePlanner.data.buildings.length")
            got = driver.execute_async_script(MOVE_JS, runs)
        finally:
            driver.quit()

    def pct(values, q):
        return float(np.percentile(values, q))

    return [
        (f"page load to editable ({n:,} buildings)", f"{load:.1f} s"),
        (
            f"tally update after a move, p50 / p95 ({runs} moves)",
            f"{pct(got['move'], 50):.1f} / {pct(got['move'], 95):.1f} ms",
        ),
        (
            "  of which the grid outlines' update, p50 / p95",
            f"{pct(got['outline'], 50):.2f} / {pct(got['outline'], 95):.2f} ms",
        ),
        (
            "  move to the next animation frame, p50 / p95",
            f"{pct(got['frame'], 50):.1f} / {pct(got['frame'], 95):.1f} ms",
        ),
        (f"  outline edges stroked (of {got['cells']:,} cell edges)", f"{got['edges']:,}"),
        (
            f"lasso of {got['lassoed']} buildings to a grid (select, move, outlines)",
            f"{got['lasso']:.1f} ms",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buildings", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--demo-dir", type=Path, default=None)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile of the re-run")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="wangge-planner-bench-"))
    store = Store(data_dir / "wangge.sqlite")
    seconds, community = _timed(build_county, store, args.buildings)
    rows = Table([(f"set-up: synthetic county divided by the engine ({seconds:.0f} s)", "")])
    seconds, _ = _timed(community_cells, store, community)
    rows.append(
        ("cells of the big community made by the engine (once per community)", f"{seconds:.1f} s")
    )
    if not args.no_browser:
        rows += browser_side(data_dir, community, args.runs)
    list.extend(
        rows, server_side(store, community, args.demo_dir, args.profile)
    )  # shown as measured
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure'.ljust(width)}  value")
    print(f"{'-' * width}  ------")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    subprocess.run(["rm", "-rf", str(data_dir)], check=False)


if __name__ == "__main__":
    main()
