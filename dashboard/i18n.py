"""The one translation table of the interface: Simplified Chinese by default, English available.

Every text shown to users goes through :func:`t`. A key missing from the table is a bug and
raises ``KeyError`` (a test checks that each key has both languages).
"""

from __future__ import annotations

__all__ = ["LANGS", "TEXT", "normalise_lang", "t"]

LANGS = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "app.title": {"zh": "网格化管理指挥中心", "en": "Grid Management Command Centre"},
    "app.demo_badge": {"zh": "虚构示范数据", "en": "synthetic demo data"},
    "nav.map": {"zh": "态势地图", "en": "Situation map"},
    "lang.switch": {"zh": "English", "en": "中文"},
    "layer.townships": {"zh": "乡镇/街道", "en": "Townships"},
    "layer.communities": {"zh": "社区/行政村", "en": "Communities and villages"},
    "layer.grids": {"zh": "网格", "en": "Grids"},
    "layer.roads": {"zh": "道路", "en": "Streets"},
    "layer.water": {"zh": "水系", "en": "Water"},
    "layer.railways": {"zh": "铁路", "en": "Railways"},
    "layer.buildings": {"zh": "建筑（放大后显示）", "en": "Buildings (when zoomed in)"},
    "layer.tiles": {"zh": "底图瓦片", "en": "Tile basemap"},
    "layer.vector_base": {"zh": "本地矢量底图", "en": "Local vector basemap"},
    "summary.title": {"zh": "辖区概况", "en": "Area overview"},
    "summary.townships": {"zh": "乡镇/街道", "en": "Townships"},
    "summary.communities": {"zh": "社区/行政村", "en": "Communities/villages"},
    "summary.grids": {"zh": "网格", "en": "Grids"},
    "summary.buildings": {"zh": "建筑", "en": "Buildings"},
    "summary.households": {"zh": "户数", "en": "Households"},
    "summary.in_band": {"zh": "户数达标网格", "en": "Grids in the household band"},
    "summary.flagged": {"zh": "需复核网格", "en": "Grids flagged for review"},
    "summary.no_grids": {"zh": "尚未划分网格", "en": "No grids published yet"},
    "legend.title": {"zh": "图例", "en": "Legend"},
    "legend.households": {"zh": "网格户数", "en": "Households per grid"},
    "legend.below": {"zh": "低于下限", "en": "below the band"},
    "legend.in_band": {"zh": "达标", "en": "in the band"},
    "legend.above": {"zh": "高于上限", "en": "above the band"},
    "legend.flagged": {"zh": "需复核", "en": "flagged"},
    "legend.arterial": {"zh": "主干路", "en": "Arterial"},
    "legend.local": {"zh": "支路/巷道", "en": "Local street/lane"},
    "legend.river": {"zh": "河流", "en": "River"},
    "legend.railway": {"zh": "铁路", "en": "Railway"},
    "buildings.zoom_hint": {
        "zh": "放大到 {zoom} 级以上显示建筑",
        "en": "Zoom in to level {zoom} or more to see buildings",
    },
    "buildings.shown": {"zh": "显示 {n} 栋建筑", "en": "{n} buildings shown"},
    "buildings.capped": {
        "zh": "视野内建筑过多，仅显示 {n} 栋，请继续放大",
        "en": "Too many buildings in view: {n} shown, zoom in further",
    },
    "tooltip.households": {"zh": "户", "en": "households"},
    "kind.subdistrict": {"zh": "街道", "en": "sub-district"},
    "kind.town": {"zh": "镇", "en": "town"},
    "kind.township": {"zh": "乡", "en": "township"},
    "kind.urban": {"zh": "社区", "en": "urban community"},
    "kind.rural": {"zh": "行政村", "en": "administrative village"},
    "error.not_ready": {
        "zh": "数据尚未准备好：请先运行 wangge demo setup",
        "en": "No data yet: run `wangge demo setup` first",
    },
}


def normalise_lang(lang: object, default: str = "zh") -> str:
    """``lang`` if it is a supported language code, else ``default``."""
    return lang if isinstance(lang, str) and lang in LANGS else default


def t(key: str, lang: str = "zh", **fmt: object) -> str:
    """The text of ``key`` in ``lang``, formatted with ``fmt``."""
    text = TEXT[key][normalise_lang(lang)]
    return text.format(**fmt) if fmt else text
