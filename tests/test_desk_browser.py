"""Browser tests of the desk (the case list) and the wall's urgent cases, in headless Chromium.

The server runs as ``python app.py`` (:func:`conftest.served_app`) on the tiny county with 20
days of simulated cases (seconds to set up, unlike the demo county of ``test_browser.py``), so
the cases these tests act on are made here, through the store, with known ids and states.
"""

from __future__ import annotations

import csv
import os
import re
import time

import pandas as pd
import pytest
from conftest import HAVE_CHROMIUM, X0, Y0, chromium, load_tiny_county, served_app

from wangge.access import Scope
from wangge.demo.simulate import simulate
from wangge.services.locate import Locator
from wangge.settings import Settings
from wangge.store import Store

pytestmark = pytest.mark.browser

if not HAVE_CHROMIUM:
    pytest.skip("chromium and chromedriver are needed", allow_module_level=True)

from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

PASSWORD = "desk-test-pw"
COUNTY = Scope.county()
IN_FIRST = {"lon": X0 + 0.005, "lat": Y0 + 0.005}  # community 420999001001


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """(url, store) of the dashboard on the tiny county, with an operator ``duty`` and a
    planner ``viewer``."""
    data_dir = tmp_path_factory.mktemp("desk")
    settings = Settings(data_dir=data_dir)
    store = Store(settings.db_path)
    load_tiny_county(store)
    end = pd.Timestamp.now(tz="UTC").floor("h").to_pydatetime()
    simulate(store, days=20, per_day=30, gps_days=1, seed=7, end=end)
    store.create_user("duty", PASSWORD, "county", display_name="值班员")
    store.set_meta("county_code", "420999000000")  # an imported county: served as is
    env = {
        **os.environ,
        "WANGGE_DATA_DIR": str(data_dir),
        "WANGGE_WALL_REFRESH": "2",
        "WANGGE_DEMO_FEED": "0",
    }
    with served_app(env, data_dir / "server.log") as url:
        yield url, store


def new_case(store: Store, *, status: str = "reported", **extra) -> str:
    """A case in township 420999001000 moved to ``status`` by another operator."""
    case = {
        "category": "safety",
        "source": "hotline_12345",
        **IN_FIRST,
        **{k: extra.pop(k) for k in ("lon", "lat") if k in extra},
        "title": extra.pop("title", "楼道堆物"),
        "description": "",
        "reporter_name": "张三丰",
        "reporter_phone": "13800138000",
        "address": extra.pop("address", "城关路8号"),
        "urgency": extra.pop("urgency", "normal"),
        "reported_at": pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        "client_id": None,
        "deadline_at": (pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
    }
    location = Locator(store).locate(case["lon"], case["lat"])
    stored, _ = store.create_case(case, location, scope=COUNTY, actor="hotline")
    path = {"reported": [], "accepted": ["accepted"], "dispatched": ["accepted", "dispatched"]}
    for to in path[status]:
        store.transition_case(stored["case_id"], to, scope=COUNTY, actor="other-operator")
    return stored["case_id"]


@pytest.fixture
def browser(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    prefs = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    driver = chromium(tmp_path, 1600, 1000, prefs=prefs)
    driver.downloads = downloads
    yield driver
    driver.quit()


def login(driver, url: str, next_url: str, username: str = "duty") -> None:
    driver.get(f"{url}/login?next={next_url}")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 30).until(lambda d: "/login" not in d.current_url)


def wait(driver, condition, timeout: float = 30):
    # a card refilled by a callback replaces the elements a condition may have found
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, ignored_exceptions=ignored).until(condition)


def count_shown(driver) -> int:
    """The case list's count (共 N 件) once the grid has answered."""
    text = wait(driver, lambda d: d.find_element(By.ID, "cases-count").text or None)
    return int(re.sub(r"\D", "", text))


def row_css(case_id: str) -> str:
    """The CSS selector of a case's row in the grid's scrolling part (not the pinned one)."""
    return f'.ag-center-cols-container .ag-row[row-id="{case_id}"]'


def open_case(driver, case_id: str):
    """Click ``case_id``'s row; return its card once it shows."""
    row = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, row_css(case_id)))
    row.find_element(By.CSS_SELECTOR, '[col-id="category"]').click()
    return wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".case-card h3"))


def button(driver, label: str):
    return wait(
        driver,
        lambda d: next(
            (b for b in d.find_elements(By.CSS_SELECTOR, ".act-button") if b.text == label), None
        ),
    )


def choose(driver, container_css: str, text: str) -> None:
    """Pick the option ``text`` of the dcc.Dropdown inside ``container_css``."""
    driver.find_element(By.CSS_SELECTOR, container_css).click()
    search = wait(driver, lambda d: d.switch_to.active_element)
    search.send_keys(text)
    option = wait(
        driver,
        lambda d: next(
            (o for o in d.find_elements(By.CSS_SELECTOR, "[role=option]") if text in o.text), None
        ),
    )
    option.click()


def test_dispatching_a_case_from_the_list_changes_its_row_and_history(desk, browser):
    url, store = desk
    case_id = new_case(store, status="accepted")
    login(browser, url, f"/cases?q={case_id}")
    assert count_shown(browser) == 1
    open_case(browser, case_id)
    choose(browser, ".act-assignee", "县应急管理局")
    browser.find_element(By.CSS_SELECTOR, ".act-comment").send_keys("请应急局到场处置")
    button(browser, "派遣").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".act-ok"))
    row = browser.find_element(By.CSS_SELECTOR, row_css(case_id))
    wait(browser, lambda d: "已派遣" in row.text)
    data = browser.execute_script(
        "return dash_ag_grid.getApi('cases-grid').getRowNode(arguments[0]).data", case_id
    )
    assert data["assignee_label"] == "县应急管理局" and data["version"] == 3
    history = browser.find_element(By.ID, "cases-events").text
    assert "已派遣" in history and "duty" in history and "请应急局到场处置" in history
    stored = store.get_case(case_id, scope=COUNTY)
    assert (stored["status"], stored["assignee"]) == ("dispatched", "dept:emergency")
    assert stored["events"][-1]["actor"] == "duty"  # the signed-in user, never typed


def test_a_conflict_is_shown_with_who_changed_the_case(desk, browser):
    url, store = desk
    case_id = new_case(store, status="reported")
    login(browser, url, f"/cases?q={case_id}")
    open_case(browser, case_id)
    # another operator accepts the case while this one looks at it
    store.transition_case(case_id, "accepted", scope=COUNTY, actor="operator-b", version=1)
    button(browser, "退回").click()
    message = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".act-conflict")).text
    assert "operator-b" in message and "已受理" in message
    stored = store.get_case(case_id, scope=COUNTY)
    assert stored["status"] == "accepted" and stored["events"][-1]["actor"] == "operator-b"
    # the card now shows the case as it is: it can be dispatched
    assert button(browser, "派遣")


def test_the_open_overdue_view_counts_the_walls_open_overdue(desk, browser):
    url, _ = desk
    login(browser, url, "/wall")
    tile = wait(browser, lambda d: d.find_element(By.ID, "kpi-open_overdue").text or None)
    browser.get(f"{url}/cases?view=open_overdue")
    listed = count_shown(browser)
    assert listed == int(tile.replace(",", "")) and listed > 0
    rows = wait(  # the rows' data, once the grid is made and its first block has arrived
        browser,
        lambda d: d.execute_script(
            "var api; try { api = dash_ag_grid.getApi('cases-grid'); } catch (e) { return null; }"
            "var out = []; api.forEachNode(function (n) { if (n.data) out.push(n.data); });"
            "return out.length ? out : null;"
        ),
    )
    assert rows and all(r["overdue"] and r["closed_at"] is None for r in rows)


def test_search_finds_a_case_by_number(desk, browser):
    url, store = desk
    case_id = new_case(store, title="井盖缺失")
    login(browser, url, "/cases")
    total = count_shown(browser)
    box = browser.find_element(By.ID, "cases-search")
    box.send_keys(case_id, Keys.ENTER)
    wait(browser, lambda d: d.find_element(By.ID, "cases-count").text == "共 1 件")
    assert wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, row_css(case_id)))
    assert total > 1 and f"q={case_id}" in browser.current_url


def test_export_downloads_the_filtered_rows(desk, browser):
    url, _ = desk
    login(browser, url, "/cases?category=safety&window=all")
    shown = count_shown(browser)
    browser.find_element(By.ID, "cases-export-csv").click()
    path = wait(browser, lambda d: next(iter(sorted(d.downloads.glob("*.csv"))), None), timeout=60)
    time.sleep(0.5)
    with open(path, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == shown > 0
    assert {r["类别"] for r in rows} == {"安全隐患"}
    phones = [r["联系电话"] for r in rows if r["联系电话"]]
    assert phones and all("****" in p for p in phones)


def test_an_urgent_case_flashes_on_the_wall_until_marked_seen(desk, browser):
    url, store = desk
    case_id = new_case(store, urgency="urgent", title="燃气泄漏")
    login(browser, url, "/wall")
    pinned = f'.wall-urgent-item[data-case="{case_id}"]'
    item = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, pinned))
    assert "燃气泄漏" in item.text
    animation = browser.execute_script("return getComputedStyle(arguments[0]).animationName", item)
    assert animation == "wall-flash"
    browser.get(f"{url}/cases?view=urgent&q={case_id}")
    open_case(browser, case_id)
    button(browser, "标记已阅").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".act-ok"))
    browser.get(f"{url}/wall")
    wait(browser, lambda d: d.find_element(By.ID, "kpi-open_overdue").text)
    time.sleep(2.5)  # a refresh of the wall
    assert not browser.find_elements(By.CSS_SELECTOR, pinned)


#: [cells drawn, texts of those cut off] of the column ``arguments[0]`` of the case grid.
CUT_CELLS = """
var cells = Array.from(document.querySelectorAll(
  '.ag-center-cols-container .ag-row [col-id="' + arguments[0] + '"]'));
return [cells.length, cells.filter(function (c) {
  var v = c.querySelector('.ag-cell-value') || c;
  return v.scrollWidth > v.clientWidth + 1;
}).map(function (c) { return c.innerText; })];
"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_times_and_categories_are_not_cut_off(desk, browser, lang):
    url, _ = desk
    login(browser, url, f"/cases?window=all&lang={lang}")
    rows = ".ag-center-cols-container .ag-row"
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, rows)) > 5)
    for col in ["reported_at", "category", "status", "deadline_at"]:
        # one at a time: the grid draws only the columns in view
        browser.execute_script(
            "dash_ag_grid.getApi('cases-grid').ensureColumnVisible(arguments[0])", col
        )
        cells, cut = wait(
            browser, lambda d, c=col: (r := d.execute_script(CUT_CELLS, c))[0] > 5 and r
        )
        assert cut == [], (col, cut)


# -- the map's case card -----------------------------------------------------------------------

#: The Leaflet map of the map page (its grid layers know it).
LEAFLET_MAP = "const l = window.wangge.gridLayers.values().next().value; return l && l._map;"

#: What the map's canvas gives a click at the map's middle to: the last interactive shape drawn
#: there (a case's id, a grid's code, a building), as Leaflet's canvas renderer picks it.
TOP_AT_MIDDLE = (
    "const m = (function () {"
    + LEAFLET_MAP
    + "})(), s = m.getSize(), p = L.point(s.x / 2, s.y / 2);"
    "let top = null;"
    "for (let o = window.wangge.gridLayers.values().next().value._renderer._drawFirst; o; o = o.next)"
    "  if (o.layer.options.interactive && o.layer._containsPoint(p)) top = o.layer;"
    "if (!top || !top.feature) return null;"
    "return top.feature.properties.grid_code || top.feature.id || 'other';"
)

#: (status, fill opacity, tooltip) of the dots of case ``arguments[0]`` drawn on the map.
CASE_DOTS = """
const out = [];
window.wangge.caseDots.forEach(d => {
  if (d._map && d.feature.id === arguments[0])
    out.push([d.feature.properties.s, d.options.fillOpacity,
              d.getTooltip() ? d.getTooltip().getContent() : '']);
});
return out;
"""


def open_on_map(driver, url: str, case_id: str, lon: float, lat: float):
    """Sign in to the map, zoom to the case and click its dot; return the map's card."""
    login(driver, url, "/")
    wait(
        driver,
        lambda d: d.execute_script(
            "return !!window.wangge && !!(" + "(function () {" + LEAFLET_MAP + "})())"
        ),
        60,
    )
    driver.execute_script(
        "(function () {" + LEAFLET_MAP + "})().setView([arguments[0], arguments[1]], 19,"
        " {animate: false});",
        lat,
        lon,
    )
    return click_dot(driver, case_id)


def click_dot(driver, case_id: str):
    """Click the case's dot in the map's middle; return the map's card once it shows the case."""
    wait(driver, lambda d: d.execute_script(CASE_DOTS, case_id))
    # drawn over the grid and the buildings (fetched after it), the dot takes the click
    assert wait(driver, lambda d: d.execute_script(TOP_AT_MIDDLE)) == case_id
    ActionChains(driver).move_to_element(
        driver.find_element(By.ID, "situation-map")
    ).click().perform()
    return wait(
        driver,
        lambda d: (
            (c := d.find_element(By.ID, "map-card")).is_displayed()
            and case_id in c.find_element(By.CSS_SELECTOR, ".case-card h3").text
            and c
        ),
    )


def map_button(driver, label: str):
    return wait(
        driver,
        lambda d: next(
            (
                b
                for b in d.find_elements(By.CSS_SELECTOR, "#map-card .act-button")
                if b.text == label
            ),
            None,
        ),
    )


def outcome(driver, css: str) -> str:
    """The text of the card's message once it is of class ``css`` (the outcome of an action)."""
    return wait(
        driver, lambda d: (m := d.find_elements(By.CSS_SELECTOR, f"#map-card {css}")) and m[0].text
    )


def test_the_maps_case_card_acts_and_restyles_the_dot(desk, browser):
    url, store = desk
    point = {"lon": X0 + 0.0065, "lat": Y0 + 0.0061}
    case_id = new_case(store, status="accepted", urgency="urgent", title="燃气泄漏", **point)
    card = open_on_map(browser, url, case_id, point["lon"], point["lat"])
    assert "紧急" in card.text and "已受理" in card.text
    # every action an operator may take on an accepted urgent case, and nothing else
    labels = {b.text for b in card.find_elements(By.CSS_SELECTOR, ".act-button")}
    assert labels == {"派遣", "上报上级", "退回", "督办", "标记已阅"}, labels
    # 标记已阅, then 督办: a note is required, and it goes into the history under the user
    map_button(browser, "标记已阅").click()
    outcome(browser, ".act-ok")
    assert not [
        b
        for b in browser.find_elements(By.CSS_SELECTOR, "#map-card .act-button")
        if b.text == "标记已阅"
    ]
    map_button(browser, "督办").click()
    assert "督办须填写督办意见" in outcome(browser, ".act-err")
    browser.find_element(By.CSS_SELECTOR, "#map-card .act-comment").send_keys("两小时内到场")
    map_button(browser, "督办").click()
    wait(
        browser,
        lambda d: "两小时内到场" in d.find_element(By.CSS_SELECTOR, "#map-card .event-list").text,
    )
    # dispatch to a department with a comment: the card and the dot show the new status
    choose(browser, "#map-card .act-assignee", "县应急管理局")
    browser.find_element(By.CSS_SELECTOR, "#map-card .act-comment").send_keys("请应急局处置")
    map_button(browser, "派遣").click()
    wait(
        browser,
        lambda d: "已派遣" in d.find_element(By.CSS_SELECTOR, "#map-card .case-status-line").text,
    )
    history = browser.find_element(By.CSS_SELECTOR, "#map-card .event-list").text
    assert "请应急局处置" in history and "duty" in history and "已阅" in history
    status, opacity, tip = wait(
        browser,
        lambda d: (r := d.execute_script(CASE_DOTS, case_id)) and r[0][0] == "dispatched" and r[0],
    )
    assert "已派遣" in tip and opacity == 0.9
    stored = store.get_case(case_id, scope=COUNTY)
    assert (stored["status"], stored["assignee"], stored["seen_at"] is not None) == (
        "dispatched",
        "dept:emergency",
        True,
    )
    assert [e["actor"] for e in stored["events"][-3:]] == ["duty"] * 3
    # another operator moves the case on meanwhile: a conflict naming them, nothing overwritten
    store.transition_case(
        case_id, "in_progress", scope=COUNTY, actor="operator-b", version=stored["version"]
    )
    map_button(browser, "退回").click()
    assert "operator-b" in outcome(browser, ".act-conflict")
    assert store.get_case(case_id, scope=COUNTY)["status"] == "in_progress"
    # a case closed from the map fades on it
    for to in ("resolved", "verified"):
        store.transition_case(case_id, to, scope=COUNTY, actor="operator-b")
    browser.find_element(By.ID, "map-card-close").click()
    click_dot(browser, case_id)
    map_button(browser, "结案").click()
    wait(
        browser,
        lambda d: "已结案" in d.find_element(By.CSS_SELECTOR, "#map-card .case-status-line").text,
    )
    wait(browser, lambda d: d.execute_script(CASE_DOTS, case_id)[0][:2] == ["closed", 0.3])
