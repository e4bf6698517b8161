"""The app's own CJK font (assets/fonts/): complete, licensed, served by the app, used by
every page's stylesheet. That Chromium draws with it: tests/test_fresh_start.py."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import load_tiny_county

from dashboard.app import create_app
from wangge.settings import Settings
from wangge.store import Store

ROOT = Path(__file__).resolve().parents[1]
FONTS = ROOT / "assets" / "fonts"


def test_every_face_has_its_file_and_every_file_a_face():
    css = (FONTS / "noto-sans-sc.css").read_text(encoding="utf-8")
    urls = re.findall(r"url\(\./([^)]+)\)", css)
    assert len(urls) == css.count("@font-face") == 202
    assert set(re.findall(r"font-weight: (\d+);", css)) == {"400", "700"}
    assert {u.split("/")[-1] for u in urls} == {p.name for p in (FONTS / "noto-sans-sc").iterdir()}
    assert all(u.endswith(".woff2") for u in urls)
    assert "font-family: 'Noto Sans SC';" in css
    # nothing from outside
    assert "http" not in css.replace("http://scripts.sil.org", "")
    # the slices cover the CJK unified ideographs of the dashboard's texts, e.g. 网格
    assert re.search(r"U\+7f51", css) and re.search(r"U\+683c", css)
    assert "SIL Open Font License, Version 1.1" in (FONTS / "OFL.txt").read_text()
    size = sum(p.stat().st_size for p in (FONTS / "noto-sans-sc").iterdir())
    assert size < 6 * 2**20  # the repository stays reasonable: 4.6 MiB


def test_every_page_stylesheet_brings_the_font_and_the_app_serves_it(tmp_path):
    head = (ROOT / "assets" / "wangge.css").read_text().split("*/", 1)[1].lstrip()
    assert head.startswith('@import url("fonts/noto-sans-sc.css");')  # before any rule
    settings = Settings(data_dir=tmp_path)
    load_tiny_county(Store(settings.db_path))
    client = create_app(settings).server.test_client()
    login = client.get("/login").get_data(as_text=True)
    assert 'href="/assets/wangge.css"' in login
    css = client.get("/assets/fonts/noto-sans-sc.css")
    assert css.status_code == 200 and "@font-face" in css.get_data(as_text=True)
    woff2 = client.get("/assets/fonts/noto-sans-sc/noto-sans-sc-latin-400-normal.woff2")
    assert woff2.status_code == 200 and woff2.data[:4] == b"wOF2"
    # Dash links wangge.css on its pages, and not the font's CSS a second time
    with client.session_transaction() as session:
        session["user"] = {"username": "t", "display_name": "t", "role": "county", "scope": ""}
    index = client.get("/").get_data(as_text=True)
    assert "/assets/wangge.css" in index and "noto-sans-sc" not in index
