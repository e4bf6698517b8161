"""The translation table and settings."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from dashboard.i18n import TEXT, normalise_lang, t
from wangge.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_text_has_chinese_and_english():
    for key, texts in TEXT.items():
        assert set(texts) == {"zh", "en"}, key
        assert re.search(r"[\u4e00-\u9fff]", texts["zh"]) or key == "lang.switch", key
        assert not re.search(r"[\u4e00-\u9fff]", texts["en"]) or key == "lang.switch", key


def test_chinese_is_the_default_and_unknown_languages_fall_back():
    assert t("app.title") == "网格化管理指挥中心"
    assert t("app.title", "en") == "Grid Management Command Centre"
    assert t("app.title", "fr") == "网格化管理指挥中心"
    assert normalise_lang("en") == "en" and normalise_lang(None) == "zh"
    assert t("buildings.shown", "en", n=12) == "12 buildings shown"


def test_every_key_used_in_the_dashboard_exists():
    used = set()
    for path in (ROOT / "dashboard").rglob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*f?["']([a-z_]+\.[a-z_{}]+)["']""", path.read_text()))
    static = {k for k in used if "{" not in k}
    assert static, "the scan found no keys: the pattern is wrong"
    assert static <= set(TEXT), static - set(TEXT)


def test_settings_from_environment(tmp_path):
    s = Settings.from_env({"WANGGE_DATA_DIR": str(tmp_path), "PORT": "9000", "HOST": "0.0.0.0"})
    assert s.db_path == tmp_path / "wangge.sqlite"
    assert (s.host, s.port, s.tile_url, s.lang) == ("0.0.0.0", 9000, "", "zh")
    with pytest.raises(ValueError, match="PORT='http': expected a TCP port number"):
        Settings.from_env({"PORT": "http"})
    with pytest.raises(ValueError, match="WANGGE_LANG='fr': expected 'zh' or 'en'"):
        Settings.from_env({"WANGGE_LANG": "fr"})


def test_every_code_shown_has_both_languages():
    """Codes are stored; their words come from the table: case statuses, categories, levels,
    sources, grid flags, building types of the demo county, actors of the status history."""
    from dashboard.i18n import ACTORS
    from geo.partition.quality import INFEASIBLE
    from wangge.casework import CATEGORIES, LEVELS, SOURCES, STATUSES

    # the building types of the demo county (wangge.demo.county.build's household rules)
    buildings = (
        "house", "shophouse", "rural_house", "outbuilding", "walkup", "tower", "school",
        "hospital", "government", "commercial", "market", "industrial", "warehouse", "station",
        "pavilion",
    )  # fmt: skip

    families = {
        "status": STATUSES,
        "category": CATEGORIES,
        "level": LEVELS,
        "source": SOURCES,
        "flag": (*INFEASIBLE, "out-of-band", "over-maximum"),
        "building": buildings,
        "actor": tuple(ACTORS.values()),
        "gridkind": ("urban", "rural", "special"),
    }
    missing = [f"{p}.{c}" for p, codes in families.items() for c in codes if f"{p}.{c}" not in TEXT]
    assert missing == []


def test_labels_of_codes_flags_and_actors():
    from dashboard.i18n import actor_label, flags_label, label, labels

    assert (
        flags_label("out-of-band;kept", "en") == "out of the band; kept from the previous version"
    )
    assert flags_label("", "en") == ""
    assert label("building", "rural_house", "en") == "rural house"
    assert label("building", "igloo", "en") == "igloo"  # a kind the table does not know
    assert labels("building", "zh")["walkup"] == "多层住宅"
    # actors stored as codes or as the older Chinese labels; free text (token names) as it is
    assert actor_label("command_centre", "en") == actor_label("指挥中心", "en") == "command centre"
    assert actor_label("12345热线对接", "en") == "12345热线对接"


def test_no_chinese_literal_outside_the_table():
    """Text shown to users goes through dashboard/i18n.py: the other modules of the dashboard
    hold no Chinese string (docstrings and comments aside)."""
    import ast

    found = []
    for path in (ROOT / "dashboard").rglob("*.py"):
        if path.name == "i18n.py":
            continue
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        found += [
            f"{path.name}:{node.lineno} {node.value!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and re.search(r"[\u4e00-\u9fff]", node.value)
        ]
    assert found == []


def test_page_titles_follow_the_language(tmp_path):
    import dash

    from dashboard.app import create_app

    app = create_app(Settings(data_dir=tmp_path))
    app.server.config["WANGGE_STORE"].migrate()  # the map's title reads the county's name
    titles = {p["path"]: p["title"] for p in dash.page_registry.values()}
    with app.server.test_request_context("/cases?lang=en"):
        assert titles["/cases"]() == "Cases" and titles["/"]() == "Grid Management Command Centre"
    with app.server.test_request_context("/cases"):
        assert titles["/cases"]() == "事件列表" and titles["/wall"]() == "指挥大屏"
    assert app.title == "网格化管理指挥中心"
    # served from a thread that never ran a callback (the server's request threads)
    served = []

    def serve_index():
        with app.server.test_request_context("/wall"):
            served.append(titles["/wall"]())

    thread = threading.Thread(target=serve_index)
    thread.start()
    thread.join()
    assert served == ["指挥大屏"]


def test_the_signed_in_user_is_named_by_role_in_the_chosen_language(tmp_path):
    from conftest import load_tiny_county, signed_in

    from dashboard.app import create_app
    from dashboard.components.header import user_label
    from wangge.store import Store

    settings = Settings(data_dir=tmp_path)
    load_tiny_county(Store(settings.db_path))
    app = create_app(settings)
    county = {"username": "admin", "display_name": "县指挥中心", "role": "county", "scope": ""}
    leader = {"username": "leader001", "role": "township", "scope": "420999001000"}
    with signed_in(app):
        assert user_label(county, "en") == "County command centre · admin"
        assert user_label(county, "zh") == "县指挥中心 · admin"
        # a leader by their township's name (a place's name, in both languages)
        assert user_label(leader, "en") == "Leader, 城关街道 · leader001"
        assert user_label(leader, "zh") == "城关街道负责人 · leader001"
        assert user_label(None, "en") == ""


def test_a_path_that_is_no_page_answers_404_in_the_chosen_language(tmp_path):
    from conftest import load_tiny_county

    from dashboard.app import create_app
    from wangge.store import Store

    settings = Settings(data_dir=tmp_path)
    load_tiny_county(Store(settings.db_path))
    client = create_app(settings).server.test_client()
    with client.session_transaction() as sess:
        sess["user"] = {"username": "u", "display_name": "u", "role": "county", "scope": ""}
    # a page path: the app's shell with status 404 (the browser draws the 404 page)
    page = client.get("/no-such-page?lang=en")
    assert page.status_code == 404 and 'id="react-entry-point"' in page.text
    assert client.get("/cases").status_code == 200 and client.get("/404").status_code == 200
    assert client.get("/cases/").status_code == 200  # a trailing slash is the same page
    # an API path: JSON, as the API's own errors
    api = client.get("/api/v1/no-such-route")
    assert api.status_code == 404 and api.json["error"] == "not_found"
    assert "/api/v1/no-such-route" in api.json["detail"]
    # a missing file: a small styled page, in the language asked for, the path escaped
    missing = client.get("/assets/<b>none</b>.css?lang=en")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert "/assets/wangge.css" in missing.text and "<b>" not in missing.text
    assert "页面不存在" in client.get("/assets/none.css").text


def test_the_404_page_layout_speaks_both_languages(tmp_path):
    from conftest import load_tiny_county, signed_in

    from dashboard.app import create_app
    from dashboard.pages import not_found_404
    from wangge.store import Store

    settings = Settings(data_dir=tmp_path)
    load_tiny_county(Store(settings.db_path))
    app = create_app(settings)
    with signed_in(app):
        english, chinese = str(not_found_404.layout(lang="en")), str(not_found_404.layout())
    assert "Page not found" in english and "/?lang=en" in english
    assert "页面不存在" in chinese and "Page not found" not in chinese
