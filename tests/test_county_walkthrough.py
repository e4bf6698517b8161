"""The README's "Bring your own county", end to end on real data: Liechtenstein's 11
municipalities as communities in two townships (tests/liechtenstein_county.py prepares the
files), imported with ``wangge county import``, divided with ``wangge grids partition``,
published, a user added with ``wangge user add``, served with ``python app.py`` and its grids
seen in headless Chromium.

Every command runs as the README writes it, in a subprocess with its own data folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SHARED_DATA, served_app
from liechtenstein_county import COUNTY_CODE, TOWNSHIP_CODES, prepare
from test_browser import PASSWORD, browser, login  # noqa: F401 (browser: a fixture)

from wangge.access import Scope

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (SHARED_DATA / "liechtenstein_osm.gpkg").exists(),
        reason="../shared/data (real OSM extracts) is not present in this checkout",
    ),
]

ROOT = Path(__file__).resolve().parents[1]
OSM = SHARED_DATA / "liechtenstein_osm.gpkg"


def _wangge(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "wangge.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> dict:
    """The walk-through up to the served app: its URL and the published version's grids."""
    tmp = tmp_path_factory.mktemp("liechtenstein")
    data_dir = tmp / "data"
    env = {**os.environ, "WANGGE_DATA_DIR": str(data_dir), "WANGGE_DEMO_FEED": "0"}
    gpkg = prepare(OSM, tmp / "files")
    report = _wangge(
        env,
        "county", "import",
        "--county-code", COUNTY_CODE, "--county-name", "Liechtenstein",
        "--townships", f"{gpkg}:townships", "--communities", f"{gpkg}:communities",
        "--buildings", f"{gpkg}:buildings",
        "--roads", f"{OSM}:roads", "--water", f"{OSM}:waterways", "--railways", f"{OSM}:railways",
    )  # fmt: skip
    assert "county import: ok" in report
    assert "townships 2, communities 11" in report
    assert "households estimated" in report
    # 37 buildings touch two municipalities; 36 lie across the line (one only touches it)
    assert "36 building(s) straddle a community line" in report
    _wangge(env, "grids", "partition", "--quiet", "--comment", "first division")
    versions = json.loads(_wangge(env, "grids", "list", "--json"))
    assert [(v["id"], v["status"], v["comment"]) for v in versions] == [
        (1, "draft", "first division")
    ]
    _wangge(env, "grids", "publish", "1")
    _wangge(env, "user", "add", "admin", "--role", "county", "--password", PASSWORD)
    with served_app(env, tmp / "server.log") as url:
        yield {"url": url, "grids": versions[0]["grids"], "data_dir": data_dir}


def test_the_published_grids_of_the_imported_county_are_served(county):
    from wangge.store import Store

    store = Store(county["data_dir"] / "wangge.sqlite")
    assert store.published_grid_version() == 1
    assert len(store.grids(scope=Scope.county())) == county["grids"] > 50
    assert set(store.admin_units("township", scope=Scope.county())["code"]) == set(
        TOWNSHIP_CODES.values()
    )
    assert store.get_meta("demo_county") is None  # never replaced by the demo county


def test_its_grids_are_seen_in_chromium(county, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    login(browser, county["url"])
    shown = WebDriverWait(browser, 60).until(
        lambda d: d.find_elements(By.ID, "stat-grids") and d.find_element(By.ID, "stat-grids").text
    )
    assert int(shown.replace(",", "")) == county["grids"]
    assert browser.find_element(By.ID, "stat-communities").text == "11"
    painted = """
        let n = 0;
        for (const c of document.querySelectorAll('.leaflet-overlay-pane canvas')) {
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          for (let i = 3; i < d.length; i += 16) if (d[i] > 0) n++;
        }
        return n;
    """
    WebDriverWait(browser, 60).until(lambda d: d.execute_script(painted) > 20000)
