"""Shared fixtures: a tiny synthetic county (explicit CRS) loaded into a fresh store, the served
app (:func:`served_app`) and headless Chromium for the browser tests (:func:`chromium`)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, box

from wangge.store import Store

# servers the tests start (the browser tests' `python app.py`) keep the demo county still:
# the live demo feed would move the figures they compare (tests/test_feed.py tests the feed)
os.environ.setdefault("WANGGE_DEMO_FEED", "0")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

X0, Y0, D = 114.0, 30.0, 0.01  # a 4 x 2 block of 0.01-degree communities


def tiny_county() -> dict[str, gpd.GeoDataFrame]:
    """County 420000000000 with 2 townships of 2 communities each, 8 buildings per community."""
    crs = "EPSG:4326"
    county = gpd.GeoDataFrame(
        {"code": ["420999000000"], "name": ["测试县"]},
        geometry=[box(X0, Y0, X0 + 4 * D, Y0 + 2 * D)],
        crs=crs,
    )
    townships = gpd.GeoDataFrame(
        {
            "code": ["420999001000", "420999002000"],
            "name": ["城关街道", "青石镇"],
            "kind": ["subdistrict", "town"],
            "county_code": ["420999000000"] * 2,
        },
        geometry=[box(X0, Y0, X0 + 2 * D, Y0 + 2 * D), box(X0 + 2 * D, Y0, X0 + 4 * D, Y0 + 2 * D)],
        crs=crs,
    )
    rows, geoms = [], []
    for t in range(2):
        for c in range(2):
            x, y = X0 + (2 * t + c) * D, Y0
            rows.append(
                {
                    "code": f"420999{t + 1:03d}{c + 1:03d}",
                    "name": f"社区{t}{c}",
                    "township_code": townships.code[t],
                    "kind": "urban" if t == 0 else "rural",
                }
            )
            geoms.append(box(x, y, x + D, y + 2 * D))
    communities = gpd.GeoDataFrame(rows, geometry=geoms, crs=crs)
    brows, bgeoms = [], []
    for _, com in communities.iterrows():
        minx, miny, _, _ = com.geometry.bounds
        for i in range(8):
            bx, by = minx + 0.001 + (i % 4) * 0.002, miny + 0.002 + (i // 4) * 0.01
            brows.append(
                {
                    "building_id": f"B{len(brows):05d}",
                    "community_code": com.code,
                    "kind": "walkup",
                    "floors": 6,
                    "households": 24 + i,
                    "special": "",
                    "name": "",
                }
            )
            bgeoms.append(box(bx, by, bx + 0.0005, by + 0.0003))
    buildings = gpd.GeoDataFrame(brows, geometry=bgeoms, crs=crs)
    roads = gpd.GeoDataFrame(
        {"name": ["人民路", "和平巷"], "road_class": ["arterial", "lane"]},
        geometry=[
            LineString([(X0, Y0 + D), (X0 + 4 * D, Y0 + D)]),
            LineString([(X0 + D, Y0), (X0 + D, Y0 + 2 * D)]),
        ],
        crs=crs,
    )
    water = gpd.GeoDataFrame(
        {"name": ["柳河"], "kind": ["river"]},
        geometry=[box(X0 + 3.5 * D, Y0, X0 + 3.6 * D, Y0 + 2 * D)],
        crs=crs,
    )
    grids = communities.rename(columns={"code": "community_code"})[
        ["community_code", "geometry"]
    ].copy()
    grids["grid_code"] = grids["community_code"] + "001"
    hh = buildings.groupby("community_code")["households"].sum()
    grids["households"] = grids["community_code"].map(hh).astype(int)
    grids["buildings"] = 8
    grids["kind"] = ["urban", "urban", "rural", "rural"]
    grids["flags"] = ["undersize-community"] * 4
    assignments = pd.DataFrame(
        {"building_id": buildings["building_id"], "grid_code": buildings["community_code"] + "001"}
    )
    return {
        "county": county,
        "townships": townships,
        "communities": communities,
        "buildings": buildings,
        "roads": roads,
        "water": water,
        "grids": grids,
        "assignments": assignments,
    }


def load_tiny_county(store: Store) -> dict[str, gpd.GeoDataFrame]:
    data = tiny_county()
    store.migrate()
    units = pd.concat(
        [
            data["county"].assign(level="county", kind="county", parent_code=None),
            data["townships"]
            .assign(level="township")
            .rename(columns={"county_code": "parent_code"}),
            data["communities"]
            .assign(level="community")
            .rename(columns={"township_code": "parent_code"}),
        ],
        ignore_index=True,
    )
    store.replace_admin_units(gpd.GeoDataFrame(units, crs="EPSG:4326"))
    store.replace_basemap_layer("roads", data["roads"], kind_column="road_class")
    store.replace_basemap_layer("water", data["water"], kind_column="kind")
    store.replace_buildings(data["buildings"])
    store.add_grid_version(data["grids"], data["assignments"], note="tiny", publish=True)
    return data


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "wangge.sqlite")
    s.migrate()
    return s


@pytest.fixture
def tiny_store(tmp_path) -> Store:
    s = Store(tmp_path / "wangge.sqlite")
    load_tiny_county(s)
    return s


@contextmanager
def signed_in(app, role: str = "county", scope: str = ""):
    """A request context of ``app`` with a signed-in user of ``role`` (and township ``scope``)."""
    from flask import session

    with app.server.test_request_context("/"):
        session["user"] = {
            "username": f"test-{role}",
            "display_name": f"测试{role}",
            "role": role,
            "scope": scope,
        }
        yield


def find_component(component, component_id):
    """The component with ``component_id`` in a Dash layout tree."""
    stack = [component]
    while stack:
        c = stack.pop()
        if isinstance(c, list | tuple):
            stack.extend(c)
        elif c is not None and not isinstance(c, str):
            if getattr(c, "id", None) == component_id:
                return c
            stack.append(getattr(c, "children", None))
    raise AssertionError(f"no component {component_id!r} in the layout")


ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(url: str) -> dict | None:
    """The app's ``/api/v1/health`` answer, or None while it does not answer 200."""
    try:
        with urlopen(url + "/api/v1/health", timeout=5) as resp:
            return json.loads(resp.read()) if resp.status == 200 else None
    except (URLError, OSError, ValueError):
        return None


@contextmanager
def served_app(
    env: dict,
    log_path: Path,
    *,
    ready: Callable[[dict], bool] = lambda answer: True,
    timeout: float = 60,
) -> Iterator[str]:
    """``python app.py`` with ``env`` on a free port of 127.0.0.1, its output in ``log_path``:
    yields its URL once its health answer satisfies ``ready``, and stops it afterwards."""
    port = free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "app.py"],
            cwd=ROOT,
            env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        try:
            while not ((answer := health(url)) is not None and ready(answer)):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the dashboard did not start:\n" + log_path.read_text())
                time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)


# -- headless Chromium for the browser tests ------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
#: Whether the browser tests can run here (``bash scripts/test.sh`` installs both).
HAVE_CHROMIUM = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()

#: The options every browser test starts Chromium with: headless, no sandbox, no GPU, no
#: traffic of its own (updates, sync, QUIC), shared memory in /tmp (small /dev/shm in CI).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def chromium(
    tmp_path: Path,
    width: int = 1600,
    height: int = 1000,
    *,
    args: tuple[str, ...] = (),
    prefs: dict | None = None,
    performance_log: bool = False,
):
    """A headless Chromium (a selenium WebDriver) of ``width`` x ``height`` with a profile of
    its own under ``tmp_path``; ``args`` are more command-line options, ``prefs`` Chromium
    preferences (a download folder), ``performance_log`` keeps the network log as well as the
    console's. The caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix=f"chrome-{width}x{height}-", dir=tmp_path)
    for arg in (*CHROMIUM_ARGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    for arg in args:
        opts.add_argument(arg)
    if prefs:
        opts.add_experimental_option("prefs", prefs)
    logs = {"browser": "ALL", **({"performance": "ALL"} if performance_log else {})}
    opts.set_capability("goog:loggingPrefs", logs)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(90)
    return driver


@pytest.fixture
def browser(tmp_path):
    """A 1600 x 1000 headless Chromium for one test (a browser test file may define its own
    ``browser`` around :func:`chromium` for another size or options)."""
    if not HAVE_CHROMIUM:
        pytest.skip("chromium and chromedriver are needed (bash scripts/test.sh installs them)")
    driver = chromium(tmp_path)
    yield driver
    driver.quit()
