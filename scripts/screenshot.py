"""Screenshots of dashboard pages in headless Chromium (for the README and for looking).

.venv/bin/python scripts/screenshot.py http://127.0.0.1:8050/ docs/img/map.png [--size 1600x1000] [--wait 4]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--size", default="1600x1000")
    parser.add_argument("--wait", type=float, default=4.0, help="seconds to let the page draw")
    parser.add_argument("--zoom-in", type=int, default=0, help="press + on the map this many times")
    args = parser.parse_args()
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as profile:
        for arg in [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-quic",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--window-size={args.size.replace('x', ',')}",
            f"--user-data-dir={profile}",
        ]:
            opts.add_argument(arg)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        try:
            driver.get(args.url)
            time.sleep(args.wait)
            if args.zoom_in:
                from selenium.webdriver.common.by import By

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
