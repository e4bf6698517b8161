"""The translation table and settings."""

from __future__ import annotations

import re
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
