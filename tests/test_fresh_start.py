"""A fresh machine: ``python app.py`` on an empty data folder, as a new user starts it.

The app sets up the demo county itself, warms its analytics up and runs the demo feed. The
health check must then say ``ok`` for every component, the server's log must hold no error and
no traceback, and Chinese must render in the app's own font (served from ``assets/fonts/``,
never from outside) on the sign-in page, the map and the wall, whether or not the machine has
a CJK font of its own (``fc-list :lang=zh`` is empty on the CI machine; where it is not, the
font Chromium actually drew with still has to be the served one).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import HAVE_CHROMIUM, chromium, health, served_app

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "wangge-demo"  # wangge.demo.setup.DEMO_PASSWORD
WALL_TOKEN = "demo-wall-display"  # wangge.demo.setup.DEMO_WALL_TOKEN
FAMILY = "Noto Sans SC"
SHOTS = Path(os.environ["WANGGE_SCREENSHOTS"]) if os.environ.get("WANGGE_SCREENSHOTS") else None
#: What a clean log never holds.
BAD_WORDS = ("ERROR", "Traceback", "Exception")


def _log_problems(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if any(w in line for w in BAD_WORDS)]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """(url, log file) of ``python app.py`` started on an empty data folder, once its
    start-up analytics have run."""
    data_dir = tmp_path_factory.mktemp("fresh-data")
    env = {
        **os.environ,
        "WANGGE_DATA_DIR": str(data_dir),
        "WANGGE_DEMO_FEED": "1",  # as a new user runs it: the feed keeps the county moving
    }
    log_path = data_dir / "server.log"
    # the demo set-up takes 40 s to a few minutes; wait for the start-up analytics too
    with served_app(
        env, log_path, ready=lambda answer: bool(answer.get("warm")), timeout=900
    ) as url:
        yield url, log_path


def test_a_fresh_start_is_healthy_and_its_log_is_clean(fresh):
    url, log = fresh
    body = health(url)
    assert body is not None
    assert body["status"] == "ok", body["reasons"]
    assert set(body["components"]) == {
        "store",
        "camera_coverage",
        "patrol_coverage",
        "hot_spots",
        "case_cube",
        "demo_feed",
    }
    for name, state in body["components"].items():
        assert state["status"] == "ok", (name, state)
        assert state["last_error"] is None, (name, state)
    assert _log_problems(log) == []


# -- the served font ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not HAVE_CHROMIUM:
        pytest.skip("chromium and chromedriver are needed (bash scripts/test.sh installs them)")
    driver = chromium(tmp_path_factory.mktemp("chrome"), 1920, 1080, args=("--hide-scrollbars",))
    # a 1080p wall display
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False},
    )
    yield driver
    driver.quit()


def _drawn_with(driver, selector: str) -> list[dict]:
    """The fonts Chromium drew the text of ``selector`` with (DevTools' platform fonts)."""
    driver.execute_cdp_cmd("DOM.enable", {})
    driver.execute_cdp_cmd("CSS.enable", {})
    root = driver.execute_cdp_cmd("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = driver.execute_cdp_cmd("DOM.querySelector", {"nodeId": root, "selector": selector})
    assert node["nodeId"], f"no {selector} on {driver.current_url}"
    return driver.execute_cdp_cmd("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})[
        "fonts"
    ]


def _assert_served_font_used(driver, server: str, selector: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 60).until(lambda d: d.find_elements("css selector", selector))
    loaded = driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
        document.fonts.load('16px "Noto Sans SC"', '网格')
          .then(() => document.fonts.ready)
          .then(() => done({
            check: document.fonts.check('16px "Noto Sans SC"', '网格'),
            faces: [...document.fonts].filter(f => f.family.replace(/"/g, '') === 'Noto Sans SC'
                                              && f.status === 'loaded').length,
            woff2: performance.getEntriesByType('resource').map(e => e.name)
                     .filter(n => n.endsWith('.woff2')),
          }), e => done({error: String(e)}));"""
    )
    assert loaded.get("check") is True and loaded["faces"] > 0, loaded
    # the slices came from the app itself
    assert loaded["woff2"], loaded
    for name in loaded["woff2"]:
        parts = urlparse(name)
        assert parts.netloc == urlparse(server).netloc, name
        assert parts.path.startswith("/assets/fonts/noto-sans-sc/"), name
    # and the text was drawn with them: a web font, not one of the machine's
    fonts = _drawn_with(driver, selector)
    assert fonts, selector
    for font in fonts:
        assert font["isCustomFont"] and font["familyName"].startswith(FAMILY), (selector, fonts)
    text = driver.find_element("css selector", selector).text
    assert any("\u4e00" <= c <= "\u9fff" for c in text), text


def test_chinese_is_drawn_in_the_served_font_on_every_page(fresh, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    url, _ = fresh
    system_cjk = subprocess.run(
        ["fc-list", ":lang=zh"], capture_output=True, text=True, check=False
    ).stdout.strip()
    # with or without a CJK font on the machine, the served face must be the one drawn
    print(f"CJK fonts of this machine: {system_cjk or 'none'}")
    browser.get(url + "/login")
    _assert_served_font_used(browser, url, "h1")
    browser.find_element("id", "username").send_keys("admin")
    browser.find_element("id", "password").send_keys(PASSWORD)
    browser.find_element("id", "login-submit").click()
    WebDriverWait(browser, 30).until(lambda d: "/login" not in d.current_url)
    _assert_served_font_used(browser, url, ".app-title")
    _assert_served_font_used(browser, url, "#area-summary h3")
    browser.get(url + f"/wall?token={WALL_TOKEN}")
    _assert_served_font_used(browser, url, ".wall-header h1")
    # the charts' labels too (Plotly writes its own font on its SVG text)
    WebDriverWait(browser, 60).until(
        lambda d: d.find_elements("css selector", "#wall-categories .ytick text")
    )
    _assert_served_font_used(browser, url, "#wall-categories .ytick text")
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        time.sleep(2)
        browser.save_screenshot(str(SHOTS / "wall-fresh-1080p.png"))


def test_the_log_stays_clean_after_the_pages_were_served(fresh):
    url, log = fresh
    assert (health(url) or {}).get("status") == "ok"
    assert _log_problems(log) == []
