"""Browser tests: the real dashboard on the demo county in headless Chromium.

The server runs as ``python app.py`` in a subprocess, exactly as the README's run command starts
it, on a free port with its own data folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen
from zoneinfo import ZoneInfo

import pytest
from conftest import HAVE_CHROMIUM, chromium, served_app

from wangge.access import Scope

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
WALL_REFRESH = 3  # seconds, so that the live-update test is quick
PASSWORD = "wangge-demo"  # the demo county's users (wangge.demo.setup.DEMO_PASSWORD)
SHOTS = (
    Path(os.environ.get("WANGGE_SCREENSHOTS", "")) if os.environ.get("WANGGE_SCREENSHOTS") else None
)

if not HAVE_CHROMIUM:
    pytest.skip(
        "chromium and chromedriver are needed (bash scripts/test.sh installs them)",
        allow_module_level=True,
    )

from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="session")
def server_data(tmp_path_factory) -> Path:
    """A fresh data folder; WANGGE_TEST_DATA_DIR reuses a set-up one (quick local reruns)."""
    if os.environ.get("WANGGE_TEST_DATA_DIR"):
        return Path(os.environ["WANGGE_TEST_DATA_DIR"])
    return tmp_path_factory.mktemp("wangge-data")


@pytest.fixture(scope="session")
def server(server_data):
    """The dashboard on the demo county, set up with ``wangge demo setup`` first."""
    data_dir = server_data
    env = {
        **os.environ,
        "WANGGE_DATA_DIR": str(data_dir),
        "WANGGE_WALL_REFRESH": str(WALL_REFRESH),
    }
    subprocess.run(
        [sys.executable, "-m", "wangge.cli", "demo", "setup", "--quiet"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=600,
    )
    with served_app(env, data_dir / "server.log") as url:
        yield url


@pytest.fixture
def browser(tmp_path):
    driver = chromium(tmp_path, 1600, 1000, performance_log=True)
    yield driver
    driver.quit()


def login(driver, server: str, username: str = "admin", next_url: str = "/") -> None:
    driver.get(f"{server}/login?next={next_url}")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 30).until(lambda d: "/login" not in d.current_url)


def _requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def _severe_console(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _painted_pixels(driver) -> int:
    """Non-transparent pixels on Leaflet's canvas renderers (the vector layers)."""
    return driver.execute_script(
        """
        let n = 0;
        for (const c of document.querySelectorAll('.leaflet-overlay-pane canvas')) {
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          for (let i = 3; i < d.length; i += 16) if (d[i] > 0) n++;
        }
        return n;
        """
    )


def _wait_drawn(driver, timeout=30) -> int:
    WebDriverWait(driver, timeout).until(lambda d: _painted_pixels(d) > 20000)
    return _painted_pixels(driver)


def test_the_county_is_drawn_offline_without_errors(server, browser):
    login(browser, server)
    WebDriverWait(browser, 30).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".leaflet-container"))
    )
    painted = _wait_drawn(browser)
    assert painted > 20000
    # the overview counts come from the store
    assert int(browser.find_element(By.ID, "stat-grids").text.replace(",", "")) > 100
    assert int(browser.find_element(By.ID, "stat-households").text.replace(",", "")) >= 50000
    # the county's name from the store, then the app's title
    assert browser.find_element(By.CSS_SELECTOR, ".app-title").text == "示范县网格化管理指挥中心"
    time.sleep(1)
    # every network request (http, https, ws) went to the app (chrome:// and data: are local)
    urls = _requested_urls(browser)
    network = [u for u in urls if urlparse(u).scheme in ("http", "https", "ws", "wss")]
    assert {urlparse(u).netloc for u in network} == {urlparse(server).netloc}, urls
    assert all(
        urlparse(u).scheme in ("http", "https", "ws", "wss", "data", "blob", "chrome") for u in urls
    ), urls
    assert _severe_console(browser) == []


def test_english_switch(server, browser):
    login(browser, server)
    WebDriverWait(browser, 30).until(ec.element_to_be_clickable((By.ID, "lang-switch"))).click()
    WebDriverWait(browser, 30).until(
        ec.text_to_be_present_in_element(
            (By.CSS_SELECTOR, ".app-title"), "Grid Management Command Centre"
        )
    )
    assert "lang=en" in browser.current_url
    assert "Area overview" in browser.find_element(By.ID, "area-summary").text
    # the tab's title is translated too
    WebDriverWait(browser, 10).until(lambda d: d.title == "示范县 Grid Management Command Centre")
    assert _severe_console(browser) == []


def test_buildings_appear_when_zoomed_in(server, browser):
    login(browser, server, next_url="/%3Flang%3Den")
    _wait_drawn(browser)
    status = browser.find_element(By.ID, "buildings-status")
    # the first view, fitted to where the cases are, is at zoom 15 at this size (buildings
    # shown): zoom out first, and the buildings give way to the hint (the test read the status
    # before the buildings' answer came, and failed when it came first)
    browser.find_element(By.CSS_SELECTOR, ".leaflet-container").click()
    for _ in range(3):
        browser.find_element(By.CSS_SELECTOR, ".leaflet-container").send_keys("-")
        time.sleep(0.4)
    WebDriverWait(browser, 30).until(lambda d: "Zoom in" in status.text)
    # zoom into the town centre through the map's keyboard handler
    for _ in range(6):
        browser.find_element(By.CSS_SELECTOR, ".leaflet-container").send_keys("=")
        time.sleep(0.4)
    WebDriverWait(browser, 30).until(
        lambda d: "buildings shown" in status.text or "Too many" in status.text
    )
    assert _severe_console(browser) == []


def _token(server_data: Path) -> str:
    """A writer token made directly in the server's store (as `wangge token create` would)."""
    from wangge.store import Store

    return Store(server_data / "wangge.sqlite").create_token("browser test", "writer")


def _post_case(server: str, token: str, lon: float, lat: float) -> dict:
    from urllib.request import Request

    body = json.dumps(
        {"category": "safety", "lon": lon, "lat": lat, "title": "楼道堆放杂物"}
    ).encode()
    req = Request(
        server + "/api/v1/cases",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urlopen(req, timeout=10) as resp:
        assert resp.status == 201
        return json.loads(resp.read())


def _town_point(server_data: Path, township_code: str | None = None):
    """A point well inside a township (the first urban one by default) and the township."""
    from wangge.store import Store

    units = Store(server_data / "wangge.sqlite").admin_units("township", scope=Scope.county())
    unit = units.iloc[0] if township_code is None else units[units["code"] == township_code].iloc[0]
    p = unit.geometry.representative_point()
    return p.x, p.y, unit


def test_the_wall_shows_a_case_posted_through_the_api_within_one_refresh(
    server, browser, server_data
):
    browser.set_window_size(1920, 1080)
    browser.get(server + "/wall?token=demo-wall-display")
    WebDriverWait(browser, 60).until(ec.presence_of_element_located((By.ID, "kpi-reported_today")))
    WebDriverWait(browser, 60).until(
        lambda d: "数据更新于" in d.find_element(By.ID, "wall-updated").text
    )
    before = int(browser.find_element(By.ID, "kpi-reported_today").text.replace(",", ""))
    lon, lat, _ = _town_point(server_data)
    case = _post_case(server, _token(server_data), lon, lat)
    WebDriverWait(browser, WALL_REFRESH * 2 + 5).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f'#wall-newest [data-case="{case["case_id"]}"]')
    )
    assert (
        int(browser.find_element(By.ID, "kpi-reported_today").text.replace(",", "")) == before + 1
    )
    scroll = browser.execute_script(
        "return [document.documentElement.scrollHeight, window.innerHeight]"
    )
    assert scroll[0] <= scroll[1]  # no scrollbars on the wall
    _category_labels_shown(browser)
    # the clock is the county's (China time), whatever the display computer's time zone
    shown = browser.find_element(By.ID, "wall-clock").text
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    assert shown[:5] in {(now - timedelta(minutes=m)).strftime("%H:%M") for m in (0, 1)}, shown
    if SHOTS:
        browser.save_screenshot(str(SHOTS / "wall.png"))
    # a 4K wall: the same layout scaled, still without scrollbars, the KPI strip on one row
    browser.set_window_size(3840, 2160)
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return window.innerWidth") >= 3800)
    fits = browser.execute_script(
        """const kpis = [...document.querySelectorAll('[id^="kpi-"]')].map(e => e.getBoundingClientRect());
        return [document.documentElement.scrollHeight <= window.innerHeight,
                document.documentElement.scrollWidth <= window.innerWidth,
                kpis.length, new Set(kpis.map(r => Math.round(r.top))).size,
                Math.min(...kpis.map(r => r.height))]"""
    )
    assert fits[0] and fits[1], fits
    assert fits[2] >= 9 and fits[3] == 1 and fits[4] > 20, fits  # 9 KPIs, one row, legible
    # the charts grow with the screen: their fonts follow the screen's height
    WebDriverWait(browser, WALL_REFRESH * 2 + 5).until(
        lambda d: _category_labels_shown(d, quiet=True) >= 20
    )
    if SHOTS:
        browser.save_screenshot(str(SHOTS / "wall-4k.png"))
    assert _severe_console(browser) == []


def _category_labels_shown(browser, *, quiet: bool = False) -> float:
    """Every category's name is drawn whole beside its bar, inside the chart; returns the
    labels' height in pixels."""
    from dashboard.i18n import t
    from wangge.casework import CATEGORIES

    labels = browser.execute_script(
        """const svg = document.querySelector('#wall-categories .main-svg');
        const box = svg.getBoundingClientRect();
        return [...document.querySelectorAll('#wall-categories .ytick text')].map(e => {
          const r = e.getBoundingClientRect();
          return [e.textContent, r.left >= box.left - 1, r.height];
        });"""
    )
    names = {t(f"category.{c}") for c in CATEGORIES}
    ok = {text for text, inside, _ in labels if inside} == names
    if not quiet:
        assert ok, labels
    return min((h for _, _, h in labels), default=0) if ok else 0


def _pixel(
    browser, lon: float, lat: float, centre: tuple[float, float], zoom: float
) -> tuple[int, int]:
    """Offset from the map's centre, in CSS pixels, of lon/lat in Web Mercator at ``zoom``."""
    import math

    def xy(lo, la):
        scale = 256 * 2**zoom
        s = math.sin(math.radians(la))
        return scale * (lo + 180) / 360, scale * (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi))

    x0, y0 = xy(*centre)
    x1, y1 = xy(lon, lat)
    return round(x1 - x0), round(y1 - y0)


def test_drill_down_by_clicking_a_township(server, browser, server_data):
    from selenium.webdriver.common.action_chains import ActionChains

    from wangge.services.layers import fit_zoom
    from wangge.store import Store

    login(browser, server, next_url="/situation")
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.ID, "sit-ranking")))
    _wait_drawn(browser, timeout=30)
    county = Store(server_data / "wangge.sqlite").admin_units("county", scope=Scope.county())
    minx, miny, maxx, maxy = county.total_bounds
    zoom = fit_zoom(minx, miny, maxx, maxy, width=820, height=620)
    townships = Store(server_data / "wangge.sqlite").admin_units("township", scope=Scope.county())
    target = townships.loc[
        townships.to_crs(townships.estimate_utm_crs()).area.idxmax()
    ]  # easy to hit
    p = target.geometry.representative_point()
    dx, dy = _pixel(browser, p.x, p.y, ((minx + maxx) / 2, (miny + maxy) / 2), zoom)
    mapel = browser.find_element(By.ID, "sit-map")
    ActionChains(browser).move_to_element_with_offset(mapel, dx, dy).click().perform()
    WebDriverWait(browser, 15).until(lambda d: f"code={target['code']}" in d.current_url)
    assert f"code={target['code']}" in browser.current_url
    WebDriverWait(browser, 15).until(
        lambda d: target["name"] in d.find_element(By.ID, "sit-crumbs").text
    )
    assert "level=township" in browser.current_url
    # one more level down through the ranking: the first community, then its first grid
    browser.find_element(By.CSS_SELECTOR, "#sit-ranking tbody tr td a").click()
    WebDriverWait(browser, 15).until(lambda d: "level=community" in d.current_url)
    WebDriverWait(browser, 15).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#sit-crumbs .crumb")) == 3
    )
    first_grid = browser.find_element(By.CSS_SELECTOR, "#sit-ranking tbody tr td a")
    assert "level=grid" in first_grid.get_attribute("href")
    first_grid.click()
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "grid-card")))
    card = browser.find_element(By.ID, "grid-card").text
    assert "户数" in card and "网格员" in card and "****" in card  # the worker's phone is masked
    if SHOTS:
        browser.save_screenshot(str(SHOTS / "grid-card.png"))
    assert _severe_console(browser) == []


def test_a_township_leader_sees_neither_another_townships_cases_nor_its_api_data(
    server, browser, server_data
):
    from wangge.store import Store

    townships = Store(server_data / "wangge.sqlite").admin_units("township", scope=Scope.county())
    mine, other = townships.iloc[0], townships.iloc[1]
    login(browser, server, username=f"leader{mine['code'][6:9]}", next_url="/cases%3Fwindow%3Dall")
    from selenium.common.exceptions import StaleElementReferenceException

    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".ag-row")))
    # the rows' township names, read again if the grid redraws its rows while they are read
    shown = WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: (
            {e.text for e in d.find_elements(By.CSS_SELECTOR, '.ag-row [col-id="township_name"]')}
            - {""}
        )
    )
    assert shown == {mine["name"]}
    # the API, asked from the leader's own session, answers for their township only
    body = browser.execute_script(
        "return fetch(arguments[0]).then(r => r.json())",
        f"/api/v1/cases?township_code={other['code']}&limit=5",
    )
    assert body["total"] == 0
    mine_body = browser.execute_script("return fetch('/api/v1/cases?limit=50').then(r => r.json())")
    assert mine_body["total"] > 0 and {c["township_code"] for c in mine_body["items"]} == {
        mine["code"]
    }
    grids = browser.execute_script(
        "return fetch('/api/v1/layers/grids.geojson').then(r => r.json())"
    )
    assert grids["features"] and all(
        f["id"].startswith(mine["code"][:9]) for f in grids["features"]
    )
    # and the drill-down will not open another township
    browser.get(f"{server}/situation?level=township&code={other['code']}")
    from selenium.common.exceptions import StaleElementReferenceException

    crumbs = WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.ID, "sit-crumbs").text
    )
    assert mine["name"] in crumbs and other["name"] not in crumbs
    # and the address bar now names the leader's own township
    assert f"code={mine['code']}" in browser.current_url
    assert _severe_console(browser) == []


# -- the wall at any size, the phone width, the language ------------------------------------------


def _viewport(browser, width: int, height: int, *, mobile: bool = False) -> None:
    """Make the page's viewport exactly ``width`` x ``height`` CSS pixels (a wall's screen, a
    phone), whatever the window's own frame takes."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )
    if not mobile:  # a phone's page is laid out at its own width (its viewport meta tag)
        WebDriverWait(browser, 10).until(
            lambda d: d.execute_script("return [innerWidth, innerHeight]") == [width, height]
        )


#: Per list of the wall: its rows, whether each is shown and lies wholly inside the list's box.
_WALL_ROWS = """
return [...document.querySelectorAll('.wall-page .case-list, .wall-page .rank-list')].map(list => {
  const box = list.getBoundingClientRect();
  const rows = [...list.children].map(r => {
    const b = r.getBoundingClientRect();
    const shown = getComputedStyle(r).display !== 'none';
    return [shown, b.top >= box.top - 0.5 && b.bottom <= box.bottom + 0.5, b.height];
  });
  return [list.id || list.parentElement.id, rows];
});
"""

#: The painted extent of the wall map's canvas over the map's box: [width share, height share].
_MAP_EXTENT = """
const map = document.getElementById('wall-map').getBoundingClientRect();
let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
for (const c of document.querySelectorAll('#wall-map .leaflet-overlay-pane canvas')) {
  const r = c.getBoundingClientRect(), sx = r.width / c.width, sy = r.height / c.height;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let y = 0; y < c.height; y += 2) for (let x = 0; x < c.width; x += 2) {
    if (d[4 * (y * c.width + x) + 3] === 0) continue;
    const px = r.left + x * sx, py = r.top + y * sy;
    if (px < map.left || px > map.right || py < map.top || py > map.bottom) continue;
    x0 = Math.min(x0, px); x1 = Math.max(x1, px); y0 = Math.min(y0, py); y1 = Math.max(y1, py);
  }
}
return [(x1 - x0) / map.width, (y1 - y0) / map.height];
"""


def _wall_checks(browser) -> None:
    """The wall as it is now: whole rows in every list, the county fitted to the map's box."""
    lists = browser.execute_script(_WALL_ROWS)
    assert len(lists) == 3, lists  # the ranking and the two case lists
    for name, rows in lists:
        shown = [r for r in rows if r[0]]
        assert len(shown) >= 5, (name, rows)  # the lists are full: rows to fit
        assert all(inside for _, inside, _ in shown), (name, rows)  # no row cut at the bottom
    # the county fills its box along one side (fitted), and fits inside along the other
    WebDriverWait(browser, 15).until(
        lambda d: max(d.execute_script(_MAP_EXTENT)) >= 0.8, message="the map is not fitted"
    )
    extent = browser.execute_script(_MAP_EXTENT)
    assert min(extent) < 0.98, extent


def test_the_wall_fits_1080p_and_4k_with_date_labelled_ranking_and_whole_rows(server, browser):
    _viewport(browser, 1920, 1080)
    browser.get(server + "/wall?token=demo-wall-display")
    WebDriverWait(browser, 60).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#wall-overdue .case-row")) >= 5,
    )
    # the county's date and weekday beside the clock
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    weekday = "星期" + "一二三四五六日"[now.weekday()]
    date = browser.find_element(By.ID, "wall-date").text
    assert date in {
        f"{d.year}年{d.month}月{d.day}日 {'星期' + '一二三四五六日'[d.weekday()]}"
        for d in (now, now - timedelta(minutes=1))
    }, (date, weekday)
    # the ranking's columns are named
    head = [
        e.text for e in browser.find_elements(By.CSS_SELECTOR, "#wall-townships .rank-head > *")
    ]
    assert head == ["#", "乡镇/街道", "在办事件", "超期", "在办", "30日上报"], head
    _wall_checks(browser)
    # the same page on a 4K wall: refitted, whole rows, still no scrollbars
    _viewport(browser, 3840, 2160)
    time.sleep(2)  # the map's box is checked every second
    _wall_checks(browser)
    scroll = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert scroll == [3840, 2160], scroll
    if SHOTS:
        browser.save_screenshot(str(SHOTS / "wall-4k-fitted.png"))
    assert _severe_console(browser) == []


def test_a_township_leaders_wall_ranks_the_townships_communities(server, browser, server_data):
    from wangge.store import Store

    townships = Store(server_data / "wangge.sqlite").admin_units("township", scope=Scope.county())
    mine = townships.iloc[0]
    communities = Store(server_data / "wangge.sqlite").admin_units(
        "community", scope=Scope.of_township(mine["code"])
    )
    _viewport(browser, 1920, 1080)
    login(browser, server, username=f"leader{mine['code'][6:9]}", next_url="/wall")
    WebDriverWait(browser, 60).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#wall-townships .rank-list > *")) > 1
    )
    rows = browser.find_elements(By.CSS_SELECTOR, "#wall-townships .rank-list > .rank-row")
    assert {r.get_attribute("data-code") for r in rows} == set(communities["code"])
    shown = [r.find_element(By.CSS_SELECTOR, ".rank-name").text for r in rows if r.is_displayed()]
    assert len(shown) >= 5 and set(shown) <= set(communities["name"]), shown
    head = browser.find_element(By.CSS_SELECTOR, "#wall-townships .rank-head .rank-name").text
    assert head == "社区/村"
    _wall_checks(browser)
    assert _severe_console(browser) == []


#: Per navigation link: its text, width, lines of text (tops of the text's boxes), top.
_NAV = """return [...document.querySelectorAll('.app-nav .nav-link')].map(e => {
  const r = e.getBoundingClientRect(), range = document.createRange();
  range.selectNodeContents(e);
  const lines = new Set([...range.getClientRects()].map(b => Math.round(b.top))).size;
  return [e.textContent, r.width, lines, Math.round(r.top)];
});"""


def test_a_township_leader_can_work_at_phone_width(server, browser):
    _viewport(browser, 390, 844, mobile=True)
    login(browser, server, username="leader001", next_url="/")
    assert browser.execute_script("return [innerWidth, innerHeight]") == [390, 844]
    _wait_drawn(browser)
    # the navigation: one line per link, the links side by side (a strip that scrolls)
    nav = browser.execute_script(_NAV)
    assert len(nav) >= 4 and len({top for *_, top in nav}) == 1, nav
    assert all(w >= 3 * 14 and lines == 1 for _, w, lines, _ in nav), nav
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    box = browser.find_element(By.CSS_SELECTOR, ".leaflet-container").rect
    assert box["width"] >= 380 and box["height"] >= 500, box  # the map has the screen
    if SHOTS:
        browser.save_screenshot(str(SHOTS / "phone-map.png"))
    # the case list: a table with width, rows that can be read, and the case's card
    browser.get(server + "/cases")
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".ag-row")))
    grid = browser.find_element(By.ID, "cases-grid").rect
    assert grid["width"] > 300 and grid["height"] > 300, grid
    # a case number's cell, read at once (the grid may redraw its rows meanwhile)
    width, text, font = browser.execute_script(
        """const c = document.querySelector('.ag-row [col-id="case_id"]');
        return [c.getBoundingClientRect().width, c.textContent, getComputedStyle(c).fontFamily];"""
    )
    assert width > 80 and text.startswith("C"), (width, text)
    # in the app's own typeface, which has Chinese (AG Grid's theme names one without)
    assert font.startswith('"Noto Sans SC"'), font
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    if SHOTS:
        browser.save_screenshot(str(SHOTS / "phone-cases.png"))
    # the drill-down: its map is there, drawn, as wide as the screen
    browser.get(server + "/situation")
    # (generous: the first drill-down after start waits for the analytics' warm-up)
    WebDriverWait(browser, 120).until(ec.presence_of_element_located((By.ID, "sit-ranking")))
    _wait_drawn(browser)
    sit = browser.find_element(By.ID, "sit-map").rect
    assert sit["width"] > 350 and sit["height"] > 300 and sit["y"] < 844, sit
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    if SHOTS:
        browser.save_screenshot(str(SHOTS / "phone-situation.png"))
    assert _severe_console(browser) == []


def _code_lists() -> dict[str, tuple[str, ...]]:
    """The codes stored in the data that must never show as such: flags, building types,
    statuses, categories (and levels, sources, actors, grid kinds)."""
    from dashboard.i18n import TEXT
    from geo.partition.quality import INFEASIBLE
    from wangge.casework import CATEGORIES, LEVELS, SOURCES, STATUSES

    return {
        "flag": (*INFEASIBLE, "out-of-band", "over-maximum"),
        "building": tuple(k.split(".", 1)[1] for k in TEXT if k.startswith("building.")),
        "status": STATUSES,
        "category": CATEGORIES,
        "level": LEVELS,
        "source": SOURCES,
        "actor": tuple(k.split(".", 1)[1] for k in TEXT if k.startswith("actor.")),
        "gridkind": ("urban", "rural", "special"),
    }


def _raw_codes(text: str, lang: str) -> list[str]:
    """Codes of :func:`_code_lists` visible in ``text``: in Chinese any of them as a word; in
    English those that no English text contains (with ``_`` or ``-``: rural_house,
    undersize-piece), since "closed" or "market" are also their own translation."""
    import re

    codes = {c for family in _code_lists().values() for c in family}
    if lang == "en":
        codes = {c for c in codes if re.search(r"[_-]", c)}
    return sorted(c for c in codes if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text))


def _names(server_data: Path) -> list[str]:
    """Names of places and people and free text of the data (case titles): the Chinese that
    may show on an English page. Longest first, to strip them from a text."""
    from wangge.store import Store

    store = Store(server_data / "wangge.sqlite")
    county = Scope.county()
    names = {"中文"}  # the language switch names its language in it
    for level in ("county", "township", "community"):
        names |= set(store.admin_units(level, scope=county)["name"])
    names |= set(store.workers(scope=county)["name"])
    names |= set(store.cases_frame(scope=county)["title"].dropna())
    return sorted(names, key=len, reverse=True)


def _open_first_case(browser) -> bool:
    """Click the case list's first case; whether its card shows its history."""
    if not browser.find_elements(By.CSS_SELECTOR, "#cases-events li"):
        cells = browser.find_elements(By.CSS_SELECTOR, '.ag-row [col-id="case_id"]')
        if cells:
            cells[0].click()
            time.sleep(1)
    return bool(browser.find_elements(By.CSS_SELECTOR, "#cases-events li"))


def _walk(browser, server: str, lang: str, flagged: str) -> dict[str, str]:
    """The visible text of every page (the case list with a case's card, a grid card with
    division flags, the wall, a path that is no page) in ``lang``; hovering the map's middle
    adds a tooltip's text."""
    from selenium.webdriver.common.action_chains import ActionChains

    q = "" if lang == "zh" else "lang=en"
    pages = {
        "map": ("/", "area-summary"),
        "drill-down": ("/situation", "sit-ranking"),
        "grid card": (f"/situation?level=grid&code={flagged}", "grid-card"),
        "cases": ("/cases", "cases-grid"),
        "wall": ("/wall", "kpi-reported_today"),
        "404": ("/no-such-page", "notfound-page"),
    }
    texts = {}
    for name, (path, ready) in pages.items():
        browser.get(server + path + (("&" if "?" in path else "?") + q if q else ""))
        WebDriverWait(browser, 120).until(ec.presence_of_element_located((By.ID, ready)))
        if name == "cases":  # a case's card with its history (clicked again if the grid redrew)
            WebDriverWait(browser, 60, ignored_exceptions=(StaleElementReferenceException,)).until(
                lambda d: _open_first_case(d)
            )
        if name == "map":
            _wait_drawn(browser)
            mapel = browser.find_element(By.CSS_SELECTOR, ".leaflet-container")
            ActionChains(browser).move_to_element_with_offset(mapel, 10, 120).perform()
            time.sleep(0.5)
        if name == "wall":
            WebDriverWait(browser, 60).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, "#wall-newest .case-row")
            )
        texts[name] = (
            browser.execute_script("return document.body.innerText") + "\n" + (browser.title)
        )
    return texts


def test_the_pages_show_no_raw_codes_and_no_chinese_in_english(server, browser, server_data):
    import re

    from wangge.store import Store

    grids = Store(server_data / "wangge.sqlite").grids(scope=Scope.county())
    flagged = grids.loc[grids["flags"].fillna("").str.contains("undersize"), "grid_code"].iloc[0]
    names = _names(server_data)
    login(browser, server)
    for lang in ("zh", "en"):
        texts = _walk(browser, server, lang, flagged)
        # the walk saw the translated words of codes: a flag, statuses, categories
        words = "\n".join(texts.values())
        flag = "分隔片区户数不足" if lang == "zh" else "separated piece below the band"
        assert (
            flag in texts["grid card"]
            or "社区户数不足" in texts["grid card"]
            or ("community below the band" in texts["grid card"])
        ), texts["grid card"]
        assert ("已上报" if lang == "zh" else "reported") in words
        for page, text in texts.items():
            assert _raw_codes(text, lang) == [], (lang, page, _raw_codes(text, lang))
            if lang == "en":
                for n in names:
                    text = text.replace(n, "")
                chinese = [
                    line for line in text.splitlines() if re.search(r"[\u4e00-\u9fff]", line)
                ]
                assert chinese == [], (page, chinese)
        assert ("页面不存在" if lang == "zh" else "Page not found") in texts["404"]
    assert "County command centre" in texts["map"]  # the signed-in user's role, translated
    # only the 404 page's own answer is logged (the browser reports its status)
    assert all("404" in message for message in _severe_console(browser))


def test_a_path_that_is_no_page_answers_404_styled_in_the_chosen_language(server, browser):
    login(browser, server)
    browser.get(server + "/no-such-page?lang=en")
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.ID, "notfound-page")))
    page = browser.find_element(By.ID, "notfound-page")
    assert "Page not found" in page.text and "Situation map" in page.text  # the header too
    box = browser.find_element(By.CSS_SELECTOR, ".notfound-box")
    assert box.value_of_css_property("text-align") == "center"  # styled by the house CSS
    assert browser.title == "Page not found"
    status = browser.execute_script(
        """return Promise.all(['/no-such-page', '/api/v1/no-such-route', '/assets/none.css',
          '/cases'].map(u => fetch(u).then(r => r.status)))"""
    )
    assert status == [404, 404, 404, 200]
    api = browser.execute_script("return fetch('/api/v1/no-such-route').then(r => r.json())")
    assert api["error"] == "not_found"
    # a missing file: a styled page too, in the language asked for
    browser.get(server + "/assets/none.css")
    assert browser.find_element(By.TAG_NAME, "h1").text == "页面不存在"
    browser.find_element(By.LINK_TEXT, "返回态势地图").click()
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.ID, "area-summary")))
    browser.get(server + "/no-such-page")
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.ID, "notfound-page")))
    assert "页面不存在" in browser.find_element(By.ID, "notfound-page").text


def _csp_violations(driver) -> list[str]:
    return [
        e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]
    ]


def test_every_page_runs_under_the_content_security_policy(server, browser):
    """The policy (dashboard/headers.py) is sent, and no page breaks any part of it."""
    with urlopen(server + "/login") as resp:
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    browser.get(server + "/login")
    assert browser.find_element(By.ID, "login-submit")
    login(browser, server)
    for path, ready in (
        ("/", ".leaflet-container"),
        ("/cases", ".ag-row"),
        ("/situation", "#sit-crumbs"),
        ("/wall", "#kpi-reported_today"),
    ):
        browser.get(server + path)
        WebDriverWait(browser, 120).until(ec.presence_of_element_located((By.CSS_SELECTOR, ready)))
        time.sleep(1)  # the page's callbacks and layers have been asked
        assert _csp_violations(browser) == [], path
        assert _severe_console(browser) == [], path


def test_the_wall_link_keeps_the_operators_session_and_language(server, browser):
    login(browser, server, username="leader001")
    browser.get(server + "/wall?token=demo-wall-display&lang=en")
    WebDriverWait(browser, 120).until(
        lambda d: "Data updated" in d.find_element(By.ID, "wall-updated").text
    )
    assert urlparse(browser.current_url).path == "/wall" and "lang=en" in browser.current_url
    assert "token" not in browser.current_url
    # the wall is the county's (every township ranked), not the leader's own township's
    layer = browser.execute_script(
        "return fetch('/api/v1/layers/townships.geojson').then(r => r.json())"
    )
    assert len(layer["features"]) > 1
    # the operator is still signed in, as themselves, in the same browser
    browser.get(server + "/cases")
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.ID, "user-label")))
    assert urlparse(browser.current_url).path == "/cases"
    assert _severe_console(browser) == []


#: A map made on the page, zoomed with animation, removed 50 ms into the zoom (as a page change
#: does); whatever Leaflet throws afterwards is collected.
ZOOM_THEN_REMOVE = """
var done = arguments[arguments.length - 1], errors = [];
window.addEventListener('error', function (e) { errors.push(String(e.message)); });
var div = document.createElement('div');
div.style.cssText = 'position:absolute;left:0;top:0;width:400px;height:300px';
document.body.appendChild(div);
var map = L.map(div).setView([30.5, 114.3], 12);
L.circleMarker([30.5, 114.3]).addTo(map);
setTimeout(function () {
  map.setZoom(13, {animate: true});
  setTimeout(function () {
    var zooming = map._animatingZoom === true;
    map.remove(); div.remove();
    setTimeout(function () { done([zooming, errors]); }, 600);
  }, 50);
}, 50);
"""


def test_a_map_removed_while_zooming_throws_nothing(server, browser):
    """A page change (the language switch, a nav link) can unmount the map in the middle of a
    zoom: Leaflet then finished the zoom on the removed map and threw "Cannot read properties of
    undefined (reading '_leaflet_pos')" into the console (test_english_switch, 1 run in ~20).
    assets/wangge.js stops a removed map's zoom."""
    login(browser, server)
    _wait_drawn(browser)
    browser.set_script_timeout(10)
    animating, errors = browser.execute_async_script(ZOOM_THEN_REMOVE)
    assert animating, "the zoom had not started when the map was removed: nothing was tested"
    assert errors == []
    assert _severe_console(browser) == []


#: Tick and category labels of the page's Plotly charts that stick out of their chart (px).
CUT_CHART_LABELS = """
var cut = [];
document.querySelectorAll('.js-plotly-plot').forEach(function (gd) {
  var box = gd.querySelector('.main-svg').getBoundingClientRect();
  gd.querySelectorAll('.xtick text, .ytick text').forEach(function (t) {
    var r = t.getBoundingClientRect();
    if (r.width && (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.bottom > box.bottom + 0.5))
      cut.push([gd.parentElement.id || gd.id, t.textContent]);
  });
});
return [document.querySelectorAll('.js-plotly-plot .ytick text').length, cut];
"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chart_labels_fit_their_charts(server, browser, lang):
    """The trend and category charts size their margins from their labels (Plotly's automargin
    drew a chart twice when a drill-down changed the room the labels need): no category name or
    tick label is cut off, in Chinese or English, at the county and a township."""
    login(browser, server, next_url=f"/situation%3Flang%3D{lang}")
    for step in range(2):
        shown, cut = WebDriverWait(browser, 30).until(
            lambda d: (r := d.execute_script(CUT_CHART_LABELS))[0] >= 8 and r
        )
        assert cut == [], cut
        if step == 0:  # into the first township of the ranking
            browser.find_element(By.CSS_SELECTOR, "#sit-ranking tbody tr td a").click()
            WebDriverWait(browser, 30).until(lambda d: "level=township" in d.current_url)
            time.sleep(1.0)
