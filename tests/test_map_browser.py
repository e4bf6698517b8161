"""Browser tests of the situation map and the drill-down on the demo county (issue 13): the
layer control on top, the map answering hovers and clicks, legends, the first view, hot spots
for a township leader, honest trends. Headless Chromium against ``python app.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HAVE_CHROMIUM, chromium, served_app

from wangge.access import Scope

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "wangge-demo"

if not HAVE_CHROMIUM:
    pytest.skip("chromium and chromedriver are needed", allow_module_level=True)

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

#: The Leaflet map of the situation map page (its grid layers know it).
LEAFLET_MAP = "const l = window.wangge.gridLayers.values().next().value; return l && l._map;"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """The demo county in a fresh data folder (WANGGE_TEST_DATA_DIR reuses a set-up one)."""
    if os.environ.get("WANGGE_TEST_DATA_DIR"):
        return Path(os.environ["WANGGE_TEST_DATA_DIR"])
    folder = tmp_path_factory.mktemp("wangge-map")
    subprocess.run(
        [sys.executable, "-m", "wangge.cli", "demo", "setup", "--quiet"],
        cwd=ROOT,
        env={**os.environ, "WANGGE_DATA_DIR": str(folder)},
        check=True,
        timeout=900,
    )
    return folder


@pytest.fixture(scope="module")
def server(data_dir):
    env = {**os.environ, "WANGGE_DATA_DIR": str(data_dir), "WANGGE_DEMO_FEED": "0"}
    # measured once the start-up analytics (camera views, patrols, hot spots) are done
    ready = lambda answer: answer.get("warm")  # noqa: E731
    with served_app(env, data_dir / "map-server.log", ready=ready, timeout=300) as url:
        yield url


@pytest.fixture(scope="module")
def store(data_dir):
    from wangge.store import Store

    return Store(data_dir / "wangge.sqlite")


@pytest.fixture(scope="module")
def rural(store) -> tuple[str, str]:
    """(user name, township code) of the leader of a township without urban grids."""
    grids = store.grids(scope=Scope.county())
    grids = grids.assign(township=grids["grid_code"].str[:9] + "000")
    urban = set(grids.loc[grids["kind"] == "urban", "township"])
    code = sorted(set(grids["township"]) - urban)[0]
    return f"leader{code[6:9]}", code


@pytest.fixture
def browser(tmp_path):
    driver = chromium(tmp_path, 1920, 1080)
    yield driver
    driver.quit()


def login(driver, server: str, username: str = "admin", next_url: str = "/") -> None:
    driver.get(f"{server}/login?next={next_url}")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 60).until(lambda d: "/login" not in d.current_url)


def _map_ready(driver) -> None:
    """The map page's grids drawn and its cases counted."""
    ready = "const l = window.wangge && window.wangge.gridLayers.values().next().value;"
    WebDriverWait(driver, 90).until(lambda d: d.execute_script(ready + "return !!(l && l._map);"))
    WebDriverWait(driver, 90).until(lambda d: "件" in d.find_element(By.ID, "case-count").text)


def _toggle_layer(driver, name: str) -> None:
    """Switch an overlay of the layer control on or off by its name."""
    control = driver.find_element(By.CSS_SELECTOR, ".leaflet-control-layers")
    driver.execute_script("arguments[0].classList.add('leaflet-control-layers-expanded')", control)
    labels = driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")
    ActionChains(driver).move_to_element(
        next(lb for lb in labels if name in lb.text)
    ).click().perform()
    driver.execute_script(
        "arguments[0].classList.remove('leaflet-control-layers-expanded')", control
    )


def _set_view(driver, lat: float, lon: float, zoom: float) -> None:
    driver.execute_script(
        "const m = (function () {"
        + LEAFLET_MAP
        + "})(); m.setView([arguments[0], arguments[1]], arguments[2], {animate: false});",
        lat,
        lon,
        zoom,
    )


def _severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


TOPMOST = """
const el = arguments[0], r = el.getBoundingClientRect();
const x = r.left + r.width / 2, y = r.top + r.height / 2;
const hit = document.elementFromPoint(x, y);
return [!!hit && el.contains(hit), hit ? hit.className : null];
"""


@pytest.mark.parametrize("size", [(1920, 1080), (390, 844)])
def test_the_layer_control_is_on_top_and_draws_camera_views(server, tmp_path, size):
    driver = chromium(tmp_path, *size)
    try:
        login(driver, server)
        _map_ready(driver)
        control = driver.find_element(By.CSS_SELECTOR, ".leaflet-control-layers")
        assert driver.execute_script(TOPMOST, control)[0]
        # opened (a hover or a tap expands it), the list is on top of the filter panel too
        driver.execute_script(
            "arguments[0].classList.add('leaflet-control-layers-expanded')", control
        )
        labels = driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")
        cameras = next(lb for lb in labels if "监控视域" in lb.text)
        for element in (
            driver.find_element(By.CSS_SELECTOR, ".leaflet-control-layers-list"),
            cameras,
        ):
            on_top, hit = driver.execute_script(TOPMOST, element)
            assert on_top, hit
        assert driver.execute_script("return window.wangge.drawn.sectors") == 0
        ActionChains(driver).move_to_element(cameras).click().perform()
        WebDriverWait(driver, 60).until(
            lambda d: d.execute_script("return window.wangge.drawn.sectors") > 50
        )
        assert _severe(driver) == []
    finally:
        driver.quit()


def test_the_map_opens_on_the_cases_and_fills_the_screen(server, browser, store):
    from wangge.services.layers import LayerService

    login(browser, server)
    _map_ready(browser)
    x0, y0, x1, y1 = LayerService(store).home_bounds(scope=Scope.county())
    # the home box, where the cases are, spans most of the map's width or height (the zoom
    # snaps to half levels: at least 1 / sqrt(2) of it)
    corners = browser.execute_script(
        "const m = (function () {" + LEAFLET_MAP + "})();"
        "const a = m.latLngToContainerPoint([arguments[1], arguments[0]]),"
        " b = m.latLngToContainerPoint([arguments[3], arguments[2]]), s = m.getSize();"
        "return [Math.abs(b.x - a.x) / s.x, Math.abs(b.y - a.y) / s.y];",
        x0,
        y0,
        x1,
        y1,
    )
    assert max(corners) > 0.7, corners
    county = store.admin_units("county", scope=Scope.county()).total_bounds
    assert (x1 - x0) * (y1 - y0) < 0.25 * (county[2] - county[0]) * (county[3] - county[1])


#: The shape the map's canvas gives a hover or a click at a point (map pixels from the map's
#: middle): the last interactive shape drawn there, as Leaflet's canvas renderer picks it.
TOP_SHAPE = (
    """
const m = (function () {"""
    + LEAFLET_MAP
    + """})(), s = m.getSize();
const p = L.point(s.x / 2 + arguments[0], s.y / 2 + arguments[1]);
let top = null;
for (let o = window.wangge.gridLayers.values().next().value._renderer._drawFirst; o; o = o.next)
  if (o.layer.options.interactive && o.layer._containsPoint(p)) top = o.layer;
return top;
"""
)


def _top_shape(driver, dx: int, dy: int) -> str:
    """What the map's canvas answers at (dx, dy) from the map's middle: a grid's code, a case's
    id, ``building`` or ``community``."""
    return driver.execute_script(
        "const l = (function () {" + TOP_SHAPE + "}).apply(null, arguments);"
        "if (!l || !l.feature) return null; const p = l.feature.properties;"
        "return p.grid_code || (p.floors !== undefined ? 'building' : null)"
        " || (p.code ? 'community' : null) || l.feature.id;",
        dx,
        dy,
    )


def _grid_point(driver) -> tuple[str, int, int]:
    """A drawn urban grid's code and its centre in the map element's pixels (from its middle),
    clear of the panels beside the map and of the case dots."""
    points = driver.execute_script(
        """
        const m = (function () {"""
        + LEAFLET_MAP
        + """})(), s = m.getSize(), out = [];
        for (const [code, layer] of window.wangge.gridLayers) {
          if (!layer._map || layer.feature.properties.kind !== 'urban') continue;
          // a centre inside the grid (a bent grid's centroid can lie outside, on a boundary)
          if (window.wangge.gridAt(m, layer.getCenter()) !== layer) continue;
          const p = m.latLngToContainerPoint(layer.getCenter());
          if (p.x < 420 || p.x > s.x - 420 || p.y < 120 || p.y > s.y - 300) continue;
          // not under a case's dot or a cluster
          const r = m.getContainer().getBoundingClientRect();
          const hit = document.elementFromPoint(r.left + p.x, r.top + p.y);
          if (hit && hit.tagName === 'CANVAS')
            out.push([code, Math.round(p.x - s.x / 2), Math.round(p.y - s.y / 2)]);
        }
        return out;
        """
    )
    # the first whose centre the canvas gives to the grid itself (not to a case's dot or a
    # community's outline drawn there)
    return next(p for p in points if _top_shape(driver, p[1], p[2]) == p[0])


def test_a_grid_answers_hover_and_click_and_is_labelled_up_close(server, browser, store):
    login(browser, server)
    _map_ready(browser)
    grids = store.grids(scope=Scope.county())
    town = grids[grids["kind"] == "urban"].geometry.union_all().centroid
    _set_view(browser, town.y, town.x, 16)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".grid-label"))
    labels = [
        e.get_attribute("textContent")
        for e in browser.find_elements(By.CSS_SELECTOR, ".grid-label")
    ]
    assert all(re.fullmatch(r"\d{3}-\d{3}", text) for text in labels), labels[:5]
    # below zoom 16 no labels
    _set_view(browser, town.y, town.x, 15)
    WebDriverWait(browser, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".grid-label"))
    _set_view(browser, town.y, town.x, 16)
    _toggle_layer(browser, "建筑")  # off: a building over the grid's centre would take the hover
    code, dx, dy = _grid_point(browser)
    mapel = browser.find_element(By.ID, "situation-map")
    ActionChains(browser).move_to_element_with_offset(mapel, dx, dy).perform()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".leaflet-tooltip"))
    # the grid, not the community around it
    tips = " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, ".leaflet-tooltip"))
    assert code in tips, tips
    ActionChains(browser).move_to_element_with_offset(mapel, dx, dy).click().perform()
    WebDriverWait(browser, 30).until(lambda d: code in d.find_element(By.ID, "map-card").text)
    card = browser.find_element(By.ID, "map-card")
    assert card.is_displayed()
    assert "户数" in card.text and "网格员" in card.text and "在办事件" in card.text
    link = card.find_element(By.CSS_SELECTOR, "a.card-link").get_attribute("href")
    assert f"level=grid&code={code}" in link
    browser.find_element(By.ID, "map-card-close").click()
    WebDriverWait(browser, 10).until(lambda d: not d.find_element(By.ID, "map-card").is_displayed())
    # with the buildings drawn over the grids, a click on a building opens its grid's card
    _toggle_layer(browser, "建筑")
    WebDriverWait(browser, 60).until(lambda d: _building_point(d))
    dx, dy = _building_point(browser)
    ActionChains(browser).move_to_element_with_offset(mapel, dx, dy).click().perform()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "map-card").is_displayed())
    assert re.search(r"网格 4209\d{11}", browser.find_element(By.ID, "map-card").text)
    assert _severe(browser) == []


def _building_point(driver) -> tuple[int, int] | None:
    """The centre of a drawn building clear of the panels and of case dots (map pixels from
    the map's middle)."""
    points = driver.execute_script(
        """
        const m = (function () {"""
        + LEAFLET_MAP
        + """})(), s = m.getSize(), r = m.getContainer().getBoundingClientRect();
        const out = [];
        m.eachLayer(l => {
          if (out.length > 50 || !l.feature || l.feature.properties.floors === undefined) return;
          const p = m.latLngToContainerPoint(l.getCenter());
          if (p.x < 420 || p.x > s.x - 420 || p.y < 120 || p.y > s.y - 300) return;
          const hit = document.elementFromPoint(r.left + p.x, r.top + p.y);
          if (hit && hit.tagName === 'CANVAS') out.push([Math.round(p.x - s.x / 2), Math.round(p.y - s.y / 2)]);
        });
        return out;
        """
    )
    # one the canvas gives to the building (not to a case's dot drawn over it)
    return next((p for p in points if _top_shape(driver, *p) == "building"), None)


def test_a_case_answers_a_click_with_its_card(server, browser, store):
    import pandas as pd

    from wangge.clock import stamp

    login(browser, server)
    _map_ready(browser)
    since = stamp(pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=3))
    case_id, lon, lat = store.case_points(scope=Scope.county(), filters={"since": since})[0][:3]
    _set_view(browser, lat, lon, 19)
    # the case's dot, drawn unclustered at zoom 19, in the middle of the map
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "const m = (function () {" + LEAFLET_MAP + "})(); let n = 0;"
            "m.eachLayer(l => { if (l.feature && l.feature.id === arguments[0]) n++; }); return n;",
            case_id,
        )
    )
    # drawn over the buildings and the grid that arrive after it, it takes the click
    assert re.fullmatch(r"C\d{8}-\d+", _top_shape(browser, 0, 0) or ""), case_id
    mapel = browser.find_element(By.ID, "situation-map")
    ActionChains(browser).move_to_element(mapel).click().perform()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "map-card").is_displayed())
    card = browser.find_element(By.ID, "map-card")
    WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#map-card .event-list li")
    )
    assert re.search(r"\d{8}\d*", card.text), card.text  # a case number
    assert "****" in card.text or "—" in card.text  # the reporter masked
    assert _severe(browser) == []


def test_the_legends_name_every_layer(server, browser):
    login(browser, server)
    _map_ready(browser)
    legend = browser.find_element(By.ID, "map-legend-more")
    assert legend.is_displayed()
    for text in (
        "矛盾纠纷",
        "安全隐患",
        "民生服务",
        "超期",
        "监控视域(在线)",
        "监控视域(离线)",
        "监控盲区道路",
        "网格边界",
    ):
        assert text in legend.text, text
    # another metric's ramp has its values at the ends
    choose(browser, "grid-metric", "每百户事件数(30日)")
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "grid-legend").is_displayed())
    ends = browser.find_elements(By.CSS_SELECTOR, "#grid-legend .ramp-labels span")
    assert len(ends) == 2 and all(re.search(r"\d", e.text) for e in ends)


def choose(driver, dropdown_id: str, label: str) -> None:
    """Pick an option of a dcc.Dropdown by its visible text."""
    driver.find_element(By.ID, dropdown_id).click()
    WebDriverWait(driver, 10).until(
        lambda d: any(o.text == label for o in d.find_elements(By.CSS_SELECTOR, "[role=option]"))
    )
    next(
        o for o in driver.find_elements(By.CSS_SELECTOR, "[role=option]") if o.text == label
    ).click()


def test_a_rural_township_leader_sees_the_hot_spots_of_own_township(server, browser, store, rural):
    from wangge.services.analytics import AnalyticsService

    user, township = rural
    # over the county's grids the town outweighs the township: cold spots only; over its own
    # grids its own hot spots show (cold ones where significant: in the demo's rural
    # townships none passes the FDR-corrected 90 % level, tests/test_hotspots.py has a case)
    own = AnalyticsService(store).hotspots(scope=Scope.of_township(township))
    county = AnalyticsService(store).hotspots()
    county = county[county["grid_code"].str.startswith(township[:9])]
    assert (own["gi_bin"] > 0).any() and set(own["grid_code"]) == set(county["grid_code"])
    assert not (county["gi_bin"] > 0).any() and (county["gi_bin"] < 0).any()
    # the overview does not call 0 urban grids 0.0 % in the band
    login(browser, server, user)
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.ID, "stat-in-band"))
    assert browser.find_element(By.ID, "stat-in-band").text == "无城镇网格"
    browser.get(f"{server}/situation?metric=gi")
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.ID, "sit-hot-top"))
    assert "本乡镇" in browser.find_element(By.ID, "sit-detail").text
    rows = browser.find_elements(By.CSS_SELECTOR, "#sit-hot-top tbody tr")
    assert 1 <= len(rows) <= 10
    assert all(r.find_element(By.CSS_SELECTOR, "a").text.startswith(township[:9]) for r in rows)
    # readable: a 99 % hot spot's cell is light text on its dark red
    colour = browser.execute_script(
        "const c = document.querySelector('td.gi.gi3');"
        "return c ? getComputedStyle(c).color : 'rgb(255, 255, 255)';"
    )
    assert colour == "rgb(255, 255, 255)"
    # the hot-spot layer is in a pane above the streets
    z = browser.execute_script(
        "const p = document.querySelector('.leaflet-sit-units-pane'),"
        " o = document.querySelector('#sit-map .leaflet-overlay-pane');"
        "return [Number(getComputedStyle(p).zIndex), Number(getComputedStyle(o).zIndex),"
        " p.querySelectorAll('canvas').length];"
    )
    assert z[0] > z[1] and z[2] >= 1, z
    # another period and category: the URL and the list follow
    before = browser.find_element(By.ID, "sit-detail").text
    choose(browser, "sit-hot-period", "近90日")
    WebDriverWait(browser, 30).until(lambda d: "period=90d" in d.current_url)
    choose(browser, "sit-hot-category", "环境卫生")
    WebDriverWait(browser, 30).until(lambda d: "category=sanitation" in d.current_url)
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "sit-detail").text != before)
    assert _severe(browser) == []


def test_trends_mark_today_as_partial(server, browser):
    login(browser, server, next_url="/situation")
    WebDriverWait(browser, 60).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#sit-trend .annotation-text")
    )
    assert "今日(未完)" in browser.find_element(By.CSS_SELECTOR, "#sit-trend .annotation-text").text
    # the complete days are solid, the step to today dotted
    dashes = browser.execute_script(
        "return document.getElementById('sit-trend').querySelector('.js-plotly-plot')"
        ".data.map(t => (t.line || {}).dash || 'solid');"
    )
    assert dashes == ["solid", "dot", "solid", "dot"], dashes
    # the wall's trend too
    browser.get(f"{server}/wall")
    WebDriverWait(browser, 60).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#wall-trend .annotation-text")
    )
    assert (
        "今日(未完)" in browser.find_element(By.CSS_SELECTOR, "#wall-trend .annotation-text").text
    )


def test_the_first_view_fits_a_4k_screen_too(server, tmp_path, store):
    from wangge.services.layers import LayerService

    driver = chromium(tmp_path, 3840, 2160)
    try:
        login(driver, server)
        _map_ready(driver)
        x0, y0, x1, y1 = LayerService(store).home_bounds(scope=Scope.county())
        share = driver.execute_script(
            "const m = (function () {" + LEAFLET_MAP + "})();"
            "const a = m.latLngToContainerPoint([arguments[1], arguments[0]]),"
            " b = m.latLngToContainerPoint([arguments[3], arguments[2]]), s = m.getSize();"
            "return Math.max(Math.abs(b.x - a.x) / s.x, Math.abs(b.y - a.y) / s.y);",
            x0,
            y0,
            x1,
            y1,
        )
        assert share > 0.7, share
    finally:
        driver.quit()
