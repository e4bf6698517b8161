"""Screenshots of dashboard pages in headless Chromium (for the README and for looking).

.venv/bin/python scripts/screenshot.py http://127.0.0.1:8050/ docs/img/map.png [--size 1600x1000] [--wait 4]
.venv/bin/python scripts/screenshot.py "http://127.0.0.1:8050/wall?token=demo-wall-display" wall.png --size 3840x2160
.venv/bin/python scripts/screenshot.py http://127.0.0.1:8050/cases phone.png --size 390x844 --mobile --user leader001

``--size`` is the page's own viewport in CSS pixels (not the window's, whose frame takes some);
``--user`` signs in first (password ``--password``, the demo's by default).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import chromium  # noqa: E402


def _sign_in(driver, url: str, user: str, password: str) -> None:
    """Sign in through the login page, which then opens ``url``."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    driver.get(f"{parts.scheme}://{parts.netloc}/login?next={quote(target, safe='')}")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 30).until(lambda d: "/login" not in d.current_url)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--size", default="1600x1000", help="the page's viewport, WIDTHxHEIGHT")
    parser.add_argument("--mobile", action="store_true", help="emulate a phone (touch, viewport)")
    parser.add_argument("--user", help="sign in as this user first")
    parser.add_argument("--password", default="wangge-demo")
    parser.add_argument("--wait", type=float, default=4.0, help="seconds to let the page draw")
    parser.add_argument("--zoom-in", type=int, default=0, help="press + on the map this many times")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as profile:
        # the browser tests' launcher; the window a little taller than the page for its frame
        driver = chromium(Path(profile), max(width, 500), height + 200, args=("--hide-scrollbars",))
        try:
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": args.mobile},
            )
            if args.user:
                _sign_in(driver, args.url, args.user, args.password)
            else:
                driver.get(args.url)
            time.sleep(args.wait)
            if args.zoom_in:
                mapel = driver.find_element(By.CSS_SELECTOR, ".leaflet-container")
                mapel.click()
                for _ in range(args.zoom_in):
                    mapel.send_keys("=")  # "+" needs shift, which Leaflet reads as 3 levels
                    time.sleep(0.5)
                time.sleep(args.wait)
            driver.save_screenshot(args.out)
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
