"""The situation map page: layout and callbacks as plain functions, and offline HTML."""

from __future__ import annotations

import re

import pytest
from conftest import X0, Y0, load_tiny_county, signed_in
from conftest import find_component as _find

from dashboard import ids
from dashboard.app import create_app
from geo.coords import wgs84_to_gcj02
from wangge.access import Scope
from wangge.services.layers import fit_zoom
from wangge.settings import Settings
from wangge.store import Store


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


def test_map_opens_where_people_live_and_has_no_tiles_by_default(app):
    from dashboard.pages import map as page

    with signed_in(app):
        layout = page.layout()
        home = app.server.config["WANGGE_LAYERS"].home_bounds(scope=Scope.county())
    assert "TileLayer" not in str(layout)
    mapc = _find(layout, ids.MAP)
    # the tiny county's buildings stand in two rows (y + 0.002 and y + 0.012 of each 0.02 deg
    # community): the map opens on them, not on the county's box, and stays inside the county
    x0, y0, x1, y1 = home
    assert X0 <= x0 < X0 + 0.002 and X0 + 0.038 < x1 <= X0 + 0.04
    assert Y0 + 0.001 < y0 < Y0 + 0.002 and Y0 + 0.0123 < y1 < Y0 + 0.014
    assert mapc.center == pytest.approx([(y0 + y1) / 2, (x0 + x1) / 2])
    assert mapc.zoom == fit_zoom(*home) >= fit_zoom(X0, Y0, X0 + 0.04, Y0 + 0.02)


def test_fit_zoom_fits_the_box():
    # 0.04 degrees of longitude at zoom z spans 0.04 / 360 * 256 * 2**z pixels
    z = fit_zoom(114.0, 30.0, 114.04, 30.02, width=1300, height=760)
    assert 0.04 / 360 * 256 * 2**z <= 1300 < 0.04 / 360 * 256 * 2 ** (z + 0.5)


def test_gcj02_tiles_shift_vectors_and_points(tmp_path):
    settings = Settings(
        data_dir=tmp_path, tile_url="http://127.0.0.1:8080/{z}/{x}/{y}.png", tile_crs="gcj02"
    )
    load_tiny_county(Store(settings.db_path))
    app = create_app(settings)
    from dashboard.pages import map as page

    with signed_in(app):
        layout = page.layout()
        lat, lon = _find(layout, ids.MAP).center
        grids = _find(layout, ids.GRIDS)
        (w, e), (s_, n) = wgs84_to_gcj02([X0, X0 + 0.0099], [Y0, Y0 + 0.02])
        data, _ = page.show_buildings(16, [[s_, w], [n, e]], "zh")
        x0, y0, x1, y1 = app.server.config["WANGGE_LAYERS"].home_bounds(scope=Scope.county())
    assert grids.coordsToLatLng == {"variable": "wangge.coords.gcj02"}
    # the centre of the first view (where people live) is shifted to the tiles' datum
    gx, gy = wgs84_to_gcj02((x0 + x1) / 2, (y0 + y1) / 2)
    assert (lon, lat) == pytest.approx((float(gx), float(gy)))
    # the browser's viewport is in GCJ-02; shifted back before the query it finds the same
    # 8 buildings of the first community as the WGS84 box does
    assert len(data["features"]) == 8


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


def test_the_band_comes_from_the_published_grid_version(tmp_path):
    """A version made with a 200/400 band: legend, grid layer hideout and overview say so."""
    settings = Settings(data_dir=tmp_path)
    store = Store(settings.db_path)
    data = load_tiny_county(store)
    band = {"min_households": 200, "max_households": 400}
    store.add_grid_version(data["grids"], data["assignments"], params=band, publish=True)
    app = create_app(settings)
    from dashboard.pages import map as page

    with signed_in(app):
        layout = page.layout(lang="en")
    hideout = _find(layout, ids.GRIDS).hideout
    assert (hideout["min"], hideout["max"]) == (200, 400)
    legend = " ".join(_texts(_find(layout, ids.HH_LEGEND)))
    assert "< 200" in legend and "200–400" in legend and "> 400" in legend
    assert "300" not in legend and "500" not in legend
    # the tiny county's 4 urban grids of 220 households are all in a 200/400 band
    assert _find(layout, "stat-in-band").children == "100.0%"


def test_a_version_without_a_recorded_band_uses_the_engines_defaults(app):
    from dashboard.pages import map as page

    with signed_in(app):
        layout = page.layout()
    hideout = _find(layout, ids.GRIDS).hideout
    assert (hideout["min"], hideout["max"]) == (300, 500)
    assert "300–500" in " ".join(_texts(_find(layout, ids.HH_LEGEND)))


def test_demo_badge_only_on_the_demo_county(tmp_path):
    settings = Settings(data_dir=tmp_path)
    store = Store(settings.db_path)
    load_tiny_county(store)
    app = create_app(settings)
    from dashboard.pages import map as page

    with signed_in(app):
        assert "demo-badge" not in str(page.layout())
        assert "虚构示范数据" not in " ".join(_texts(page.layout()))
    store.set_meta("demo_county", "20261122")
    with signed_in(app):
        assert "虚构示范数据" in " ".join(_texts(page.layout()))


def test_a_township_without_urban_grids_says_so_instead_of_zero_percent():
    from dashboard.components.map_layers import in_band_stat

    rural = {"urban_grids": 0, "in_band": 0}
    assert in_band_stat(rural, "zh").children[0].children == "无城镇网格"
    assert in_band_stat(rural, "en").children[0].children == "no urban grid"
    assert in_band_stat({"urban_grids": 4, "in_band": 1}, "zh").children[0].children == "25.0%"


def _click(layer: str, click: dict):
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    from dashboard.pages import map as page

    context_value.set(
        AttributeDict(triggered_inputs=[{"prop_id": f"{layer}.n_clicks", "value": 1}])
    )
    grid, case = (click, None) if layer == ids.GRIDS else (None, click)
    return page.open_card(1, 1, None, grid, case, "en")


def _new_case(store: Store, lon: float, lat: float) -> str:
    from wangge.casework import validate_new_case
    from wangge.clock import utc_now
    from wangge.services.locate import Locator

    case = validate_new_case({"category": "order", "lon": lon, "lat": lat}, now=utc_now())
    return store.create_case(case, Locator(store).locate(lon, lat), scope=Scope.county())[0][
        "case_id"
    ]


def test_a_click_on_a_grid_or_a_case_opens_its_card(app):
    store = app.server.config["WANGGE_STORE"]
    grid = store.grids(scope=Scope.county()).iloc[0]
    p = grid.geometry.representative_point()
    case_id = _new_case(store, p.x, p.y)
    with signed_in(app):
        body, cls = _click(ids.GRIDS, {"properties": {"grid_code": grid["grid_code"]}})
        text = " ".join(_texts(body))
        assert cls == "panel map-card" and grid["grid_code"] in text
        assert f"{grid['households']:,}" in text and "Open cases" in text
        assert body.children[-1].href.startswith(f"/situation?level=grid&code={grid['grid_code']}")
        body, cls = _click(ids.CASES, {"id": case_id, "properties": {"c": "order"}})
        assert cls == "panel map-card" and case_id in " ".join(_texts(body))
        # a cluster zooms in; a made-up grid or case opens nothing
        assert _click(ids.CASES, {"id": 7, "properties": {"cluster": True}})[0] is dash_no_update()
        assert _click(ids.GRIDS, {"properties": {"grid_code": "x' OR 1=1"}}) == (
            None,
            "panel map-card hidden",
        )
        assert _click(ids.CASES, {"id": "nope", "properties": {}})[1] == "panel map-card hidden"
    # a township leader gets nothing of the other township's grid
    other = store.grids(scope=Scope.county())
    other = other[other["grid_code"].str.startswith("420999002")].iloc[0]["grid_code"]
    with signed_in(app, "township", "420999001000"):
        assert _click(ids.GRIDS, {"properties": {"grid_code": other}})[0] is None


def dash_no_update():
    import dash

    return dash.no_update


def test_the_first_view_fits_where_the_cases_are(app):
    from wangge.services.layers import HOME_MIN_CASES

    layers = app.server.config["WANGGE_LAYERS"]
    store = app.server.config["WANGGE_STORE"]
    # cases in one corner of the first community (the buildings span all four)
    for i in range(HOME_MIN_CASES):
        _new_case(store, X0 + 0.002 + 0.0001 * (i % 5), Y0 + 0.003 + 0.0001 * (i // 5))
    layers = type(layers)(store)  # a fresh service: the first view is kept per data version
    x0, y0, x1, y1 = layers.home_bounds(scope=Scope.county())
    # the smallest box shown (0.005 degrees) around the cases, not the buildings' 0.04
    assert x1 - x0 == pytest.approx(0.005) and y1 - y0 == pytest.approx(0.005)
    assert x0 < X0 + 0.0025 < x1 and y0 < Y0 + 0.0035 < y1
