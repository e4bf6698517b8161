"""The situation map page: layout and callbacks as plain functions, and offline HTML."""

from __future__ import annotations

import re

import pytest
from conftest import X0, Y0, load_tiny_county, signed_in

from dashboard import ids
from dashboard.app import create_app
from dashboard.settings import Settings
from dashboard.store import Store


@pytest.fixture
def app(tmp_path):
    settings = Settings(data_dir=tmp_path)
    load_tiny_county(Store(settings.db_path))
    return create_app(settings)


def _texts(component) -> list[str]:
    """All strings in a Dash component tree."""
    out = []
    stack = [component]
    while stack:
        c = stack.pop()
        if isinstance(c, str):
            out.append(c)
        elif isinstance(c, list | tuple):
            stack.extend(c)
        elif c is not None and hasattr(c, "children"):
            stack.append(c.children)
            for prop in ("name",):
                if isinstance(getattr(c, prop, None), str):
                    out.append(getattr(c, prop))
    return out


def _find(component, component_id):
    stack = [component]
    while stack:
        c = stack.pop()
        if isinstance(c, list | tuple):
            stack.extend(c)
        elif c is not None and not isinstance(c, str):
            if getattr(c, "id", None) == component_id:
                return c
            stack.append(getattr(c, "children", None))
    raise AssertionError(f"no component {component_id!r}")


def test_layout_in_chinese_and_english(app):
    from dashboard.pages import map as page

    with signed_in(app):
        zh = " ".join(_texts(page.layout()))
        en = " ".join(_texts(page.layout(lang="en")))
    assert "网格化管理指挥中心" in zh and "辖区概况" in zh and "网格" in zh
    assert "Grid Management Command Centre" in en and "Area overview" in en
    assert "辖区概况" not in en


def test_summary_counts_come_from_the_store(app):
    from dashboard.pages import map as page

    with signed_in(app):
        layout = page.layout(lang="en")
    text = " ".join(_texts(layout))
    # 2 townships, 4 communities, 4 grids, 32 buildings, 4 x 220 households, none in band
    for value in ["2", "4", "32", "880", "0.0%"]:
        assert re.search(rf"(^|\s){re.escape(value)}(\s|$)", text), value


def test_map_is_fitted_to_the_county_and_has_no_tiles_by_default(app):
    from dashboard.pages import map as page

    with signed_in(app):
        layout = page.layout()
    assert "TileLayer" not in str(layout)
    (south, west), (north, east) = _find(layout, ids.MAP).bounds
    assert (south, west) == pytest.approx((Y0, X0)) and (north, east) == pytest.approx(
        (Y0 + 0.02, X0 + 0.04)
    )


def test_optional_tile_url_adds_a_tile_layer(tmp_path):
    settings = Settings(data_dir=tmp_path, tile_url="http://127.0.0.1:8080/{z}/{x}/{y}.png")
    load_tiny_county(Store(settings.db_path))
    app = create_app(settings)
    from dashboard.pages import map as page

    with signed_in(app):
        html = str(page.layout())
    assert "TileLayer" in html and "127.0.0.1:8080" in html


def test_buildings_only_when_zoomed_in(app):
    from dashboard.pages import map as page

    bounds = [[Y0, X0], [Y0 + 0.02, X0 + 0.0099]]
    with signed_in(app):
        data, status = page.show_buildings(13, bounds, "en")
        assert data is None and "Zoom in to level 15" in status
        data, status = page.show_buildings(16, bounds, "zh")
    assert len(data["features"]) == 8
    assert status == "显示 8 栋建筑"
    assert {f["properties"]["kind"] for f in data["features"]} == {"walkup"}


def test_index_html_loads_nothing_from_outside(app):
    client = app.server.test_client()
    with client.session_transaction() as sess:
        sess["user"] = {"username": "u", "display_name": "u", "role": "county", "scope": ""}
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert urls, "no script or stylesheet found: the pattern is wrong"
    external = [u for u in urls if re.match(r"^(https?:)?//", u)]
    assert external == []
    assert "/assets/wangge.js" in html and "/assets/wangge.css" in html
