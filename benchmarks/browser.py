"""Browser benchmark of the command-centre dashboard on the demo county, in headless Chromium.

    .venv/bin/python benchmarks/browser.py [--cases 200000] [--data-dir DIR] [--runs 20]

Sets up the demo county in a fresh data folder (or reuses ``--data-dir``), tops its cases up to
``--cases`` with the simulation, serves it with ``python app.py`` and measures, signed in as the
county user:

- map interactive: navigation start to the vector layers painted on the canvas;
- filter change: the click on another case time window or category to the new cases drawn
  (p50/p95, cold and warm);
- one drill-down level: the click on a unit in the ranking to the new breadcrumbs, KPIs, charts
  and map drawn (p50/p95, cold and warm);
- grid restyle: another grid metric applied to the drawn grids and repainted, and from the
  click on the option to the repaint (p50/p95);
- wall refresh payload when nothing changed (bytes of the refresh answer);
- panning: frames per second while dragging the map with every layer on;
- requests to any host but the app's own;
- the wall display at 3840x2160 (``--wall-4k``: only this; benchmarks/browser_wall.py):
  complete after navigation, whole rows, idle frames/s, refresh bytes, a new and an urgent
  case from the API post to shown;
- case action (``--case-actions``: only this): on the case list of reported cases, the click on
  a case's 受理 (accept) button to its row in the grid showing the new status (p50/p95).

Filter change and drill-down are reported cold (the first visit of a filter combination or a
unit after the server started) and warm (the same again).

Prints one table, with the machine's load (``uptime``) before and after. Software rendering (no GPU), 2 cores: compare rows, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from wangge.access import Scope

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from conftest import chromium  # noqa: E402

PASSWORD = "wangge-demo"

WATCH = """
window.__marks = {};
if (!window.__clickHooked) {
  // when the user picked an option or a unit: the start of a filter change, restyle or drill-down
  document.addEventListener('click', function (e) {
    if (e.target.closest && e.target.closest('[role=option], a[data-sit-go]')) window.__clickAt = performance.now();
  }, true);
  window.__clickHooked = true;
}
window.__watch = function (selector, name) {
  const el = document.querySelector(selector);
  const start = performance.now();
  window.__clickAt = null;
  // textContent, not innerText: innerText lays the page out, and the observer runs after every
  // batch of the page's mutations (its layouts were 5-10 ms of each measured drill-down)
  const before = el ? el.textContent : null;
  const obs = new MutationObserver(() => {
    const now = document.querySelector(selector);
    if (now && now.textContent !== before) {
      obs.disconnect();
      // the map layers of the same answer are redrawn by the next animation frame
      requestAnimationFrame(() => requestAnimationFrame(() => {
        const t0 = window.__clickAt || start;
        window.__marks[name] = performance.now() - t0;
        // the phases: click to the first callback request sent, to the last answer received,
        // to drawn (resource timing of the Dash requests since the click)
        const reqs = performance.getEntriesByType('resource').filter(
          (r) => r.name.includes('_dash-update-component') && r.startTime >= t0);
        window.__phases = window.__phases || {};
        window.__phases[name] = reqs.length ? [
          Math.min(...reqs.map((r) => r.startTime)) - t0,
          Math.max(...reqs.map((r) => r.responseEnd)) - t0,
          window.__marks[name]] : null;
      }));
    }
  });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
};
"""

CANVAS_SUM = """
let n = 0;
for (const c of document.querySelectorAll('.leaflet-overlay-pane canvas')) {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 0; i < d.length; i += 64) n = (n * 31 + d[i] + d[i + 1] * 3 + d[i + 2] * 7) % 1000000007;
}
return n;
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def prepare(data_dir: Path, cases: int) -> None:
    env = {**os.environ, "WANGGE_DATA_DIR": str(data_dir)}
    subprocess.run(
        [sys.executable, "-m", "wangge.cli", "demo", "setup", "--quiet"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    from wangge.demo.simulate import simulate
    from wangge.store import Store

    store = Store(data_dir / "wangge.sqlite")
    t = time.perf_counter()
    while (have := store.count("cases")) < cases:
        # a seed and new case numbers per top-up (the simulation is deterministic per seed and
        # numbers each day's cases from 1), 5% over what is missing
        simulate(
            store,
            days=90,
            per_day=(cases - have) / 90 * 1.05,
            seed=777 + have,
            gps_days=0,
            first_sequence=10_000 + have % 50_000,
        )
        print(
            f"topped up to {store.count('cases'):,} cases in {time.perf_counter() - t:.0f} s",
            file=sys.stderr,
        )


def browser():
    """A 1600 x 1000 headless Chromium as the browser tests start it (tests/conftest.py's
    ``chromium``), with the network log and ``gc()`` exposed for the soak's heap samples."""
    return chromium(
        Path(tempfile.gettempdir()),
        1600,
        1000,
        args=("--js-flags=--expose-gc",),
        performance_log=True,
    )


def login(d, url: str, next_url: str = "/") -> None:
    d.get(f"{url}/login?next={next_url}")
    d.find_element(By.ID, "username").send_keys("admin")
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    d.find_element(By.ID, "login-submit").click()
    WebDriverWait(d, 60).until(lambda x: "/login" not in x.current_url)


def choose(d, dropdown_id: str, label: str) -> None:
    """Pick an option of a dcc.Dropdown by its visible text."""
    box = d.find_element(By.ID, dropdown_id)
    box.click()
    WebDriverWait(d, 10).until(
        lambda x: any(o.text == label for o in x.find_elements(By.CSS_SELECTOR, "[role=option]"))
    )
    for option in d.find_elements(By.CSS_SELECTOR, "[role=option]"):
        if option.text == label:
            option.click()
            return
    raise RuntimeError(f"no option {label!r} in {dropdown_id}")


CASE_ACTION_WATCH = """
window.__actMs = null;
if (!window.__actHooked) {
  document.addEventListener('click', function (e) {
    if (e.target.closest && e.target.closest('.act-button')) window.__actAt = performance.now();
  }, true);
  window.__actHooked = true;
}
window.__watchRow = function (caseId, label) {
  var cell = function () {
    return document.querySelector(
      '.ag-center-cols-container .ag-row[row-id="' + caseId + '"] [col-id="status"]');
  };
  var obs = new MutationObserver(function () {
    var c = cell();
    if (c && c.innerText.trim() === label && window.__actAt) {
      obs.disconnect();
      requestAnimationFrame(function () { requestAnimationFrame(function () {
        window.__actMs = performance.now() - window.__actAt;
      }); });
    }
  });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
};
"""


def case_actions(d, url: str, runs: int) -> list[tuple[str, str, str]]:
    """Case action from click to updated row: ``runs`` times, open the list of reported cases,
    click the first case, click 受理 and time until its row shows 已受理."""
    times = []
    for _ in range(runs):
        d.get(url + "/cases?status=reported&window=all")
        row = WebDriverWait(d, 60).until(
            lambda x: x.find_element(By.CSS_SELECTOR, ".ag-center-cols-container .ag-row[row-id]")
        )
        case_id = row.get_attribute("row-id")
        row.find_element(By.CSS_SELECTOR, '[col-id="category"]').click()
        accept = WebDriverWait(d, 30).until(
            lambda x: next(
                (b for b in x.find_elements(By.CSS_SELECTOR, ".act-button") if b.text == "受理"),
                None,
            )
        )
        d.execute_script(CASE_ACTION_WATCH)
        d.execute_script("window.__watchRow(arguments[0], '已受理')", case_id)
        accept.click()
        times.append(
            WebDriverWait(d, 30).until(lambda x: x.execute_script("return window.__actMs"))
        )
    return [
        (
            f"case action, click to updated row (p50/p95 of {len(times)})",
            f"{statistics.median(times):.0f} / {pct(times, 0.95):.0f} ms",
            "< 300 ms at p95",
        )
    ]


def timing_rows(name: str, cold: list[float], warm: list[float]) -> list[tuple[str, str, str]]:
    """Table rows of a timing measured cold (first visits after the start) and warm (also
    printed at once, so that a later failure does not lose them)."""
    print(
        f"{name}: cold {[round(v) for v in cold]}, warm {[round(v) for v in warm]}", file=sys.stderr
    )
    return [
        (
            f"{name}, {label} (ms, p50 / p95, n={len(values)})",
            f"{pct(values, 0.5):.0f} / {pct(values, 0.95):.0f}" if values else "none",
            "p95 < 300",
        )
        for label, values in (("cold", cold), ("warm", warm))
    ]


#: Per interaction ("filter", "drill"), the Dash requests it made: (outputs, ms from sending
#: the request to the answer's last byte, bytes on the wire), for the breakdown
#: (:func:`breakdown`).
REQUESTS: dict[str, list[tuple[str, float, int]]] = {}
SEEN_INPUTS: set[str] = set()
#: Per interaction: [click to the first request sent, to the last answer, to drawn] (ms).
PHASES: dict[str, list] = {}


def dash_requests(d) -> list[tuple[str, float, int]]:
    """The ``_dash-update-component`` requests since the last call (Chromium's performance
    log): (the callback's first output, ms from sent to the answer's last byte, bytes)."""
    sent, out = {}, []
    for entry in d.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        params = msg["params"]
        if msg["method"] == "Network.requestWillBeSent":
            req = params["request"]
            if "_dash-update-component" in req["url"]:
                body = json.loads(req.get("postData") or "{}")
                name = str(body.get("output", "?")).strip(".").split("...")[0]
                if name not in SEEN_INPUTS:  # what the page sends, once per callback
                    SEEN_INPUTS.add(name)
                    print(f"{name} inputs: {json.dumps(body.get('inputs'))[:400]}", file=sys.stderr)
                sent[params["requestId"]] = (name, params["timestamp"])
        elif msg["method"] == "Network.loadingFinished" and params["requestId"] in sent:
            name, t0 = sent.pop(params["requestId"])
            out.append((name, (params["timestamp"] - t0) * 1000, params["encodedDataLength"]))
    return out


def breakdown() -> None:
    """Per interaction and callback: requests, round trip p50/p95 (ms) and bytes (median and
    max), and the phases of the interactions (click to request sent, to the last answer, to
    drawn: p50/p95), to stderr: how much of an interaction is the server and the wire."""
    for what, phases in PHASES.items():
        rows = [p for p in phases if p]
        if rows:
            sent, answered, drawn = ([r[i] for r in rows] for i in range(3))
            after = [r[2] - r[1] for r in rows]
            print(
                f"{what} phases (p50/p95 ms, n={len(rows)}): click to request sent "
                f"{pct(sent, 0.5):.0f}/{pct(sent, 0.95):.0f}, to last answer "
                f"{pct(answered, 0.5):.0f}/{pct(answered, 0.95):.0f}, answer to drawn "
                f"{pct(after, 0.5):.0f}/{pct(after, 0.95):.0f}, whole "
                f"{pct(drawn, 0.5):.0f}/{pct(drawn, 0.95):.0f}",
                file=sys.stderr,
            )
    for what, reqs in REQUESTS.items():
        by: dict[str, list[tuple[float, int]]] = {}
        for name, ms, size in reqs:
            by.setdefault(name, []).append((ms, size))
        for name, vals in sorted(by.items()):
            ms = [v[0] for v in vals]
            size = [v[1] for v in vals]
            print(
                f"{what}: {name}: n={len(vals)}, round trip p50/p95 {pct(ms, 0.5):.0f}/"
                f"{pct(ms, 0.95):.0f} ms, bytes median/max {statistics.median(size):.0f}/"
                f"{max(size)}",
                file=sys.stderr,
            )


CATEGORIES_ZH = ["矛盾纠纷", "安全隐患", "环境卫生", "市政设施", "治安秩序", "民生服务"]
WINDOWS_ZH = ["近30日", "近7日", "近90日", "今日"]


def _filter_change(d, dropdown: str, label: str) -> float:
    d.execute_script(WATCH + "window.__watch('#case-count', 'filter');")
    dash_requests(d)  # drop what came before
    choose(d, dropdown, label)
    WebDriverWait(d, 60).until(lambda x: x.execute_script("return window.__marks.filter"))
    REQUESTS.setdefault("filter change", []).extend(dash_requests(d))
    PHASES.setdefault("filter change", []).append(d.execute_script("return window.__phases.filter"))
    return d.execute_script("return window.__marks.filter")


def filter_changes(d, url: str, runs: int) -> tuple[list[float], list[float]]:
    """``runs`` changes of the map's case filters, each to a window and category combination
    not asked for since the server started (cold: every query and cache is new), then the same
    changes again (warm). The path alternates a new category and a new window (7d is the
    page's first window, so the first change is to 30d)."""
    path, window, seen = [], "近7日", {("近7日", None)}
    for i in range(runs):
        if i % 2 == 0:
            category = CATEGORIES_ZH[(i // 2) % len(CATEGORIES_ZH)]
            path.append(("case-category", category))
        else:
            window = next(w for w in WINDOWS_ZH if (w, category) not in seen)
            path.append(("case-window", window))
        seen.add((window, category))
    # from a settled page, as the warm round below (the first change used to start while the
    # page's own first requests were still being answered and drawn)
    WebDriverWait(d, 60).until(lambda x: "件" in x.find_element(By.ID, "case-count").text)
    time.sleep(1)
    cold = [_filter_change(d, dropdown, label) for dropdown, label in path]
    # the page again (7 days, all categories), then the same changes: every combination seen
    d.get(url + "/")
    WebDriverWait(d, 60).until(lambda x: "件" in x.find_element(By.ID, "case-count").text)
    time.sleep(1)
    warm = [_filter_change(d, dropdown, label) for dropdown, label in path]
    return cold, warm


def drill_downs(d, url: str, runs: int) -> tuple[list[float], list[float]]:
    """Drill-downs county -> township -> community -> grid through the ranking, a different row
    each run, then the same paths again: each level's time goes to ``cold`` on the unit's first
    visit since the server started, else to ``warm``."""
    rows_css = "#sit-ranking tbody tr td a"
    seen: set[str] = set()
    cold, warm = [], []
    for run in list(range(runs)) * 2:
        d.get(url + "/situation")
        WebDriverWait(d, 60).until(lambda x: x.find_elements(By.CSS_SELECTOR, rows_css))
        for level in ("township", "community", "grid"):
            links = d.find_elements(By.CSS_SELECTOR, rows_css)
            link = links[(run * 7) % len(links)]
            code = link.get_attribute("data-code")
            d.execute_script(WATCH + "window.__watch('#sit-crumbs', 'drill');")
            dash_requests(d)  # drop what came before
            link.click()
            WebDriverWait(d, 60).until(lambda x: x.execute_script("return window.__marks.drill"))
            REQUESTS.setdefault(f"drill-down to {level}", []).extend(dash_requests(d))
            PHASES.setdefault("drill-down", []).append(
                d.execute_script("return window.__phases.drill")
            )
            (warm if code in seen else cold).append(d.execute_script("return window.__marks.drill"))
            seen.add(code)
            WebDriverWait(d, 30).until(lambda x, lv=level: f"level={lv}" in x.current_url)
            if level != "grid":
                WebDriverWait(d, 30).until(lambda x: x.find_elements(By.CSS_SELECTOR, rows_css))
    return cold, warm


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def soak(
    d, url: str, data_dir: Path, pid: int, minutes: float, *, every: float = 10.0
) -> list[tuple[str, str, str]]:
    """The wall for ``minutes`` with a new case posted through the API every ``every`` seconds.

    Samples the browser's JS heap (after a forced GC where Chromium allows it) and the server's
    resident memory every few minutes and prints each sample, so growth shows as a series, not
    only as two end points; the table gets the first, the middle and the last sample."""
    from urllib.request import Request

    from wangge.store import Store

    token = Store(data_dir / "wangge.sqlite").create_token("soak", "writer")
    units = Store(data_dir / "wangge.sqlite").admin_units("township", scope=Scope.county())
    p = units.geometry.iloc[0].representative_point()
    d.get(url + "/wall")
    WebDriverWait(d, 60).until(lambda x: "数据更新于" in x.find_element(By.ID, "wall-updated").text)
    time.sleep(5)

    def sample(t0: float) -> tuple[float, float, float, str]:
        d.execute_script("if (window.gc) window.gc();")
        heap = d.execute_script("return performance.memory.usedJSHeapSize") / 2**20
        stamp = d.find_element(By.ID, "wall-updated").text
        return (time.monotonic() - t0) / 60, heap, _rss_mb(pid), stamp

    start = time.monotonic()
    samples = [sample(start)]
    print(
        f"soak: {samples[0][0]:6.1f} min  heap {samples[0][1]:6.1f} MB  rss {samples[0][2]:6.1f} MB",
        file=sys.stderr,
    )
    end = start + minutes * 60
    step = max(60.0, min(600.0, minutes * 60 / 12))
    next_sample = start + step
    posted = failed = 0
    while time.monotonic() < end:
        body = json.dumps({"category": "order", "lon": p.x, "lat": p.y}).encode()
        req = Request(
            url + "/api/v1/cases",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        try:
            with urlopen(req, timeout=10):
                posted += 1
        except OSError:
            failed += 1
        if time.monotonic() >= next_sample:
            samples.append(sample(start))
            m, heap, rss, stamp = samples[-1]
            print(
                f"soak: {m:6.1f} min  heap {heap:6.1f} MB  rss {rss:6.1f} MB  {stamp}  posted {posted}",
                file=sys.stderr,
            )
            next_sample += step
        time.sleep(every)
    samples.append(sample(start))
    m, heap, rss, stamp = samples[-1]
    print(
        f"soak: {m:6.1f} min  heap {heap:6.1f} MB  rss {rss:6.1f} MB  {stamp}  posted {posted}",
        file=sys.stderr,
    )
    mid = samples[len(samples) // 2]
    return [
        (
            f"wall for {minutes:g} min, {posted} new cases ({failed} failed): browser JS heap (MB), start / middle / end",
            f"{samples[0][1]:.0f} / {mid[1]:.0f} / {heap:.0f}",
            "no growth",
        ),
        (
            f"wall for {minutes:g} min: server memory, RSS (MB), start / middle / end",
            f"{samples[0][2]:.0f} / {mid[2]:.0f} / {rss:.0f}",
            "no growth",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--soak",
        type=float,
        default=0,
        help="minutes of wall display with a case posted every 10 s: JS heap and server memory sampled as it runs",
    )
    parser.add_argument(
        "--feed",
        action="store_true",
        help="keep the demo county's live feed on (new cases and patrol fixes every 30 s)",
    )
    parser.add_argument(
        "--soak-only",
        action="store_true",
        help="skip the other measurements (for a soak of hours, at the default wall refresh)",
    )
    parser.add_argument(
        "--wall-refresh",
        type=int,
        default=None,
        help="seconds between wall refreshes (default 2, or the app's default with --soak-only)",
    )
    parser.add_argument(
        "--post-every",
        type=float,
        default=10.0,
        help="seconds between the soak's new cases (lower it with --wall-refresh for an accelerated soak: days of activity in hours)",
    )
    parser.add_argument(
        "--case-actions",
        action="store_true",
        help="measure only the case action from click to updated row (--runs times)",
    )
    parser.add_argument(
        "--wall-4k",
        action="store_true",
        help="measure only the wall display at 3840x2160 (benchmarks/browser_wall.py)",
    )
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="wangge-bench-"))
    prepare(data_dir, args.cases)
    port = free_port()
    env = {
        **os.environ,
        "WANGGE_DATA_DIR": str(data_dir),
        "PORT": str(port),
        "WANGGE_DEMO_FEED": "1" if args.feed else "0",
    }
    refresh = args.wall_refresh or (None if args.soak_only else 2)
    if refresh:
        env["WANGGE_WALL_REFRESH"] = str(refresh)
    server = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    rows: list[tuple[str, str, str]] = []
    try:
        # measure the steady state: after the start-up analytics (camera views, patrols, hot
        # spots) are computed, as on a server that has been up for a minute
        for _ in range(600):
            try:
                with urlopen(url + "/api/v1/health", timeout=1) as resp:
                    if json.loads(resp.read()).get("warm"):
                        break
            except OSError:
                pass
            time.sleep(0.3)
        if args.wall_4k:
            from browser_wall import wall_4k

            rows.extend(wall_4k(browser, url, args.runs, data_dir))
            return report(rows, data_dir, args.feed)
        d = browser()
        try:
            login(d, url)
            if args.case_actions:
                rows.extend(case_actions(d, url, args.runs))
                return report(rows, data_dir, args.feed)
            if args.soak_only:
                rows.extend(
                    soak(d, url, data_dir, server.pid, args.soak or 60, every=args.post_every)
                )
                return report(rows, data_dir, args.feed)
            # map interactive after navigation
            times = []
            for _ in range(3):
                d.get(url + "/")
                WebDriverWait(d, 60).until(
                    lambda x: (
                        x.execute_script(
                            "return document.querySelectorAll('.leaflet-overlay-pane canvas').length"
                        )
                        > 0
                    )
                )
                WebDriverWait(d, 60).until(lambda x: x.execute_script(CANVAS_SUM) != 0)
                WebDriverWait(d, 60).until(
                    lambda x: "件" in x.find_element(By.ID, "case-count").text
                )
                times.append(d.execute_script("return performance.now()"))
            rows.append(
                (
                    "map interactive after navigation (ms, median of 3)",
                    f"{statistics.median(times):.0f}",
                    "< 2500",
                )
            )
            # filter change: first visits of a window and category after the start (cold),
            # then the same changes again (warm)
            cold, warm = filter_changes(d, url, args.runs)
            rows.extend(timing_rows("filter change redrawn", cold, warm))
            # grid restyle: in the browser (setStyle on the drawn grids), no server round trip
            metrics = ["每百户事件数(30日)", "户数(达标区间)"]
            keys = ["per100", "households"]
            WebDriverWait(d, 60).until(
                lambda x: x.execute_script("return window.wangge && window.wangge.lastRestyle")
            )
            restyle, select_to_paint = [], []
            for i in range(max(10, args.runs)):
                d.execute_script(WATCH)
                choose(d, "grid-metric", metrics[i % 2])
                WebDriverWait(d, 30, poll_frequency=0.01).until(
                    lambda x, k=keys[i % 2]: x.execute_script(
                        "const r = window.wangge.lastRestyle;"
                        "return r && r.metric === arguments[0] && r.at > (window.__clickAt || 0)",
                        k,
                    )
                )
                info = d.execute_script(
                    "return Object.assign({click: window.__clickAt}, window.wangge.lastRestyle)"
                )
                restyle.append(info["painted_ms"])
                if info.get("click"):
                    select_to_paint.append(info["at"] - info["click"])
            rows.append(
                (
                    f"grid restyle, {info['grids']} grids, setStyle to repainted (ms, p50 / p95)",
                    f"{pct(restyle, 0.5):.0f} / {pct(restyle, 0.95):.0f}",
                    "< 50",
                )
            )
            if select_to_paint:
                rows.append(
                    (
                        "grid restyle, option clicked to repainted (ms, p50 / p95)",
                        f"{pct(select_to_paint, 0.5):.0f} / {pct(select_to_paint, 0.95):.0f}",
                        "(whole interaction)",
                    )
                )
            # panning fps with every overlay on
            for box in d.find_elements(
                By.CSS_SELECTOR, ".leaflet-control-layers-overlays input[type=checkbox]"
            ):
                if not box.is_selected():
                    d.execute_script("arguments[0].click()", box)
            time.sleep(3)
            d.execute_script(
                "window.__frames = 0; (function f(){ window.__frames++; window.__raf = requestAnimationFrame(f); })();"
            )
            mapel = d.find_element(By.CSS_SELECTOR, ".leaflet-container")
            t0 = time.perf_counter()
            chain = ActionChains(d, duration=20).move_to_element(mapel).click_and_hold()
            for k in range(40):
                chain = chain.move_by_offset(
                    8 if (k // 10) % 2 == 0 else -8, 3 if (k // 20) == 0 else -3
                )
            chain.release().perform()
            elapsed = time.perf_counter() - t0
            frames = d.execute_script("cancelAnimationFrame(window.__raf); return window.__frames")
            rows.append(
                ("panning with all layers on (frames/s)", f"{frames / elapsed:.0f}", ">= 30")
            )
            # drill-down levels: county -> township -> community -> grid; a unit's first visit
            # after the start is cold, a later one warm
            cold, warm = drill_downs(d, url, args.runs)
            rows.extend(timing_rows("one drill-down level", cold, warm))
            # wall refresh payload when nothing changed
            d.get(url + "/wall")
            WebDriverWait(d, 300).until(
                lambda x: "数据更新于" in x.find_element(By.ID, "wall-updated").text
            )
            d.get_log("performance")  # drop what came before
            time.sleep(7)
            sizes, ids = [], {}
            for entry in d.get_log("performance"):
                msg = json.loads(entry["message"])["message"]
                if (
                    msg["method"] == "Network.requestWillBeSent"
                    and "_dash-update-component" in msg["params"]["request"]["url"]
                ):
                    ids[msg["params"]["requestId"]] = True
                if msg["method"] == "Network.loadingFinished" and msg["params"]["requestId"] in ids:
                    sizes.append(msg["params"]["encodedDataLength"])
            rows.append(
                (
                    "wall refresh when nothing changed (bytes on the wire, max)",
                    f"{max(sizes) if sizes else 'none'}",
                    "< 5120",
                )
            )
            if args.soak:
                rows.extend(soak(d, url, data_dir, server.pid, args.soak, every=args.post_every))
            hosts = set()
            for entry in d.get_log("performance"):
                msg = json.loads(entry["message"])["message"]
                if msg["method"] == "Network.requestWillBeSent":
                    u = msg["params"]["request"]["url"]
                    if urlparse(u).scheme in ("http", "https", "ws", "wss"):
                        hosts.add(urlparse(u).netloc)
            rows.append(
                ("hosts other than the app's", str(len(hosts - {urlparse(url).netloc})), "0")
            )
        finally:
            breakdown()
            d.quit()
    finally:
        server.terminate()
        server.wait()
    return report(rows, data_dir, args.feed)


def report(rows: list[tuple[str, str, str]], data_dir: Path, feed: bool = False) -> int:
    from wangge.store import Store

    n = Store(data_dir / "wangge.sqlite").count("cases")
    live = "live feed on" if feed else "live feed off"
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"demo county, {n:,} cases, {live}, headless Chromium (software rendering)")
    print(f"load when done: {load}\n")
    print("| measure | measured | target |")
    print("|---|---|---|")
    for name, value, target in rows:
        print(f"| {name} | {value} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
