"""The printed atlas (PDF) and the offline HTML map of a grid version (geo.atlas and
wangge.services.atlas), on the tiny county with one community cut into two grids."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser

import geopandas as gpd
import pandas as pd
import pytest
from conftest import HAVE_CHROMIUM, chromium
from pypdf import PdfReader
from shapely.geometry import box

from geo.atlas import atlas_pdf, cjk_font, html_map
from geo.errors import InputError
from wangge.access import Scope
from wangge.services.atlas import atlas_layers, export_atlas, export_html_map
from wangge.store import StoreError

COMMUNITY = "420999001001"
X0, Y0, D = 114.0, 30.0, 0.01  # conftest.tiny_county's first community is this box


class _Fetches(HTMLParser):
    """What a page would load: script src, link href, img/iframe src, CSS url() and tile
    templates (an <a href> inside Leaflet's attribution is a link, not a load)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        key = {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag)
        if key and attrs.get(key):
            self.urls.append(attrs[key])

    def handle_data(self, data):
        self.texts.append(data)


def _remote_loads(html: str) -> list[str]:
    parser = _Fetches()
    parser.feed(html)
    text = "\n".join(parser.texts)
    found = list(parser.urls)
    found += re.findall(r"""url\(\s*["']?([^)"']+)""", text)
    found += re.findall(r"""tileLayer\(\s*["']([^"']+)""", text)
    found += re.findall(r"""@import\s+["']([^"']+)""", text)
    return [u for u in found if re.match(r"\s*(https?:)?//", u)]


@pytest.fixture
def two_grid_store(tiny_store):
    """The tiny county plus a draft version whose first community has a south and a north
    grid (the buildings split by where they stand), with a grid worker on the south one."""
    grids = tiny_store.grids(scope=Scope.county())
    others = grids[grids["community_code"] != COMMUNITY]
    south, north = box(X0, Y0, X0 + D, Y0 + D), box(X0, Y0 + D, X0 + D, Y0 + 2 * D)
    buildings = tiny_store.buildings(scope=Scope.county())
    mine = buildings[buildings["community_code"] == COMMUNITY]
    in_south = mine.geometry.representative_point().within(south)
    code_s, code_n = f"{COMMUNITY}001", f"{COMMUNITY}002"
    new = gpd.GeoDataFrame(
        {
            "grid_code": [code_s, code_n],
            "community_code": [COMMUNITY] * 2,
            "households": [
                int(mine[in_south]["households"].sum()),
                int(mine[~in_south]["households"].sum()),
            ],
            "buildings": [int(in_south.sum()), int((~in_south).sum())],
            "kind": ["urban"] * 2,
            "flags": [""] * 2,
        },
        geometry=[south, north],
        crs="EPSG:4326",
    )
    assignments = tiny_store.building_grids(scope=Scope.county())
    owner = dict(zip(mine["building_id"], [code_s if s else code_n for s in in_south], strict=True))
    assignments["grid_code"] = (
        assignments["building_id"].map(owner).fillna(assignments["grid_code"])
    )
    vid = tiny_store.add_grid_version(
        gpd.GeoDataFrame(pd.concat([others, new], ignore_index=True), crs="EPSG:4326"),
        assignments,
        note="two grids",
    )
    tiny_store.replace_workers(
        pd.DataFrame(
            {
                "worker_id": ["W1"],
                "name": ["王小明"],
                "phone": ["13800000000"],
                "grid_code": [code_s],
            }
        )
    )
    return tiny_store, vid, new


def _fonts(reader: PdfReader) -> dict[str, bool]:
    """Every font the pages use -> whether its file is embedded."""
    out = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            parts = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
            for part in parts:
                desc = part.get("/FontDescriptor")
                desc = desc.get_object() if desc is not None else {}
                out[str(font["/BaseFont"])] = any(
                    k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")
                )
    return out


def test_atlas_has_an_overview_and_a_page_per_grid_with_the_font_embedded(two_grid_store, tmp_path):
    store, vid, new = two_grid_store
    out = export_atlas(store, vid, tmp_path / "atlas.pdf", community=COMMUNITY)
    reader = PdfReader(out)
    assert len(reader.pages) == 1 + len(new)
    fonts = _fonts(reader)
    assert fonts and all(fonts.values()), fonts
    assert any("NotoSansSC" in name for name in fonts)
    overview = reader.pages[0].extract_text()
    assert "社区00" in overview and "社区网格总览" in overview
    for page, grid in zip(reader.pages[1:], new.itertuples(), strict=True):
        text = page.extract_text()
        assert grid.grid_code in text
        assert re.search(rf"户数\s*{grid.households}\b", text), text
        assert "人民路" in text  # the street crossing the community, named along it
        assert "版本 " + str(vid) in text
    assert "王小明" in reader.pages[1].extract_text()
    assert "13800000000" not in "".join(p.extract_text() for p in reader.pages)
    assert "未配备" in reader.pages[2].extract_text()  # the north grid has no worker


def test_atlas_is_the_same_for_the_same_version(two_grid_store, tmp_path):
    store, vid, _ = two_grid_store
    a = export_atlas(store, vid, tmp_path / "a.pdf", community=COMMUNITY, paper="a3")
    b = export_atlas(store, vid, tmp_path / "b.pdf", community=COMMUNITY, paper="a3")
    assert a.read_bytes() == b.read_bytes()
    width, height = (float(v) for v in PdfReader(a).pages[0].mediabox[2:])
    assert (round(width), round(height)) == (1191, 842)  # A3 landscape, in points


def test_whole_version_atlas_in_english(two_grid_store, tmp_path):
    store, vid, _ = two_grid_store
    layers = atlas_layers(store, vid)
    out = atlas_pdf(
        layers["grids"], tmp_path / "en.pdf", meta=layers["meta"], language="en",
        streets=layers["streets"],
    )  # fmt: skip
    reader = PdfReader(out)
    assert len(reader.pages) == layers["grids"]["community_code"].nunique() + len(layers["grids"])
    assert "Households" in reader.pages[1].extract_text()


def test_atlas_errors_name_what_is_wrong(two_grid_store, tmp_path):
    store, vid, new = two_grid_store
    with pytest.raises(StoreError, match="community 999 does not exist"):
        export_atlas(store, vid, tmp_path / "x.pdf", community="999")
    with pytest.raises(StoreError, match="grid version 99 does not exist"):
        export_atlas(store, 99, tmp_path / "x.pdf")
    with pytest.raises(
        InputError, match=r"grids: no column 'households'.*meta: no key 'date'.*paper 'a5'"
    ):
        atlas_pdf(
            new.drop(columns="households"), tmp_path / "x.pdf", meta={"version": 1}, paper="a5"
        )
    with pytest.raises(InputError, match="meta: date 'yesterday' is not an ISO date"):
        atlas_pdf(new, tmp_path / "x.pdf", meta={"version": 1, "date": "yesterday"})
    assert not (tmp_path / "x.pdf").exists()


def test_cjk_font_holds_the_characters_of_the_text(tmp_path):
    from fontTools.ttLib import TTFont

    text = ["网格员 王小明", "人民路 A1", "户数 123"]
    path = cjk_font(text, cache_dir=tmp_path)
    cmap = TTFont(path).getBestCmap()
    assert {c for s in text for c in s if not c.isspace()} <= {chr(c) for c in cmap}
    assert cjk_font(text, cache_dir=tmp_path) == path  # cached by the slices it merged


def test_cjk_font_without_the_slices_says_where_they_come_from(tmp_path):
    with pytest.raises(InputError, match=r"noto-sans-sc.css: no such file.*scripts/fonts.py"):
        cjk_font(["网格"], font_dir=tmp_path, cache_dir=tmp_path)


def test_html_map_is_self_contained_and_holds_the_grids(two_grid_store, tmp_path):
    store, vid, new = two_grid_store
    out = export_html_map(store, vid, tmp_path / "map.html")
    html = out.read_text(encoding="utf-8")
    assert _remote_loads(html) == []
    assert "cdn." not in html.lower()
    for code in store.grids(vid, scope=Scope.county())["grid_code"]:
        assert code in html
    assert "L.version" in html or '"1.9.4"' in html  # Leaflet itself is inlined
    for word in ("王小明", "人民路"):  # folium writes the GeoJSON ASCII-escaped
        assert json.dumps(word)[1:-1] in html or word in html
    assert "13800000000" not in html


def test_html_map_needs_grids():
    empty = gpd.GeoDataFrame({"grid_code": []}, geometry=[], crs="EPSG:4326")
    with pytest.raises(InputError, match=r"missing: households; rows: 0"):
        html_map(empty)


def test_the_export_command(two_grid_store, tmp_path, monkeypatch, capsys):
    from wangge.cli import main

    store, vid, _ = two_grid_store
    monkeypatch.setenv("WANGGE_DATA_DIR", str(store.path.parent))
    pdf, html = tmp_path / "out" / "a.pdf", tmp_path / "out" / "m.html"
    args = ["grids", "export", str(vid), "--community", COMMUNITY]
    assert main([*args, "--format", "pdf", "--paper", "a4", "--out", str(pdf), "--quiet"]) == 0
    assert main([*args, "--format", "html", "--out", str(html)]) == 0
    assert len(PdfReader(pdf).pages) == 3 and html.stat().st_size > 100_000
    assert main(["grids", "export", "42", "--format", "pdf", "--out", str(pdf)]) == 2
    assert "grid version 42 does not exist" in capsys.readouterr().err


@pytest.mark.skipif(
    not HAVE_CHROMIUM,
    reason="chromium and chromedriver are needed (bash scripts/test.sh installs them)",
)
def test_html_map_draws_from_a_file_with_the_network_off(two_grid_store, tmp_path):
    store, vid, _ = two_grid_store
    out = export_html_map(store, vid, tmp_path / "map.html", community=COMMUNITY)
    # no network: every host name fails to resolve and every proxy is unreachable
    offline = ("--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9")
    driver = chromium(tmp_path, 1200, 900, args=offline)
    try:
        driver.set_page_load_timeout(60)
        driver.get(out.as_uri())
        counts = driver.execute_script(
            "return [typeof L === 'undefined' ? null : L.version,"
            " document.querySelectorAll('.leaflet-container').length,"
            " document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive').length]"
        )
        failed = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".filter(n => !n.startsWith('file:') && !n.startsWith('data:'))"
        )
    finally:
        driver.quit()
    version, containers, paths = counts
    assert version == "1.9.4" and containers == 1
    # 2 grids + 8 buildings + the streets crossing the community, drawn as SVG paths
    assert paths >= 2 + 8, counts
    assert failed == [], failed


def test_pdf_and_html_exporters_of_the_api_keep_to_the_scope(two_grid_store):
    from wangge.services.planner_export import export_version

    store, vid, new = two_grid_store
    own = Scope.of_township("420999001000")
    pdf = export_version(store, vid, "pdf", scope=own, options={"paper": "a3"})
    assert pdf.media_type == "application/pdf" and pdf.filename == f"grids-v{vid}-atlas.pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    grids = store.grids(vid, scope=own)
    assert len(grids) == 3  # the two new grids and the other community's one
    assert len(reader.pages) == grids["community_code"].nunique() + len(grids)
    text = "".join(p.extract_text() for p in reader.pages)
    assert "420999002001001" not in text  # another township's grid
    html = export_version(store, vid, "html", scope=own, community=COMMUNITY)
    assert (
        html.media_type.startswith("text/html") and new.grid_code.iloc[1] in html.content.decode()
    )
    with pytest.raises(StoreError, match="community 420999002001 does not exist"):
        export_version(store, vid, "pdf", scope=own, community="420999002001")
    with pytest.raises(StoreError, match="paper 'a5': expected a4 or a3"):
        export_version(store, vid, "pdf", scope=own, options={"paper": "a5"})
