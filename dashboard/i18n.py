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
    "nav.wall": {"zh": "指挥大屏", "en": "Wall display"},
    "wall.title": {
        "zh": "{county}网格化管理指挥中心",
        "en": "{county} grid management command centre",
    },
    "wall.updated": {"zh": "数据更新于 {time}", "en": "Data updated {time}"},
    "wall.never": {"zh": "等待数据...", "en": "Waiting for data..."},
    "kpi.reported_today": {"zh": "今日上报", "en": "Reported today"},
    "kpi.closed_today": {"zh": "今日结案", "en": "Closed today"},
    "kpi.closure_rate": {"zh": "结案率(30日)", "en": "Closure rate (30 d)"},
    "kpi.on_time_rate": {"zh": "按期结案率(30日)", "en": "On-time rate (30 d)"},
    "kpi.open_overdue": {"zh": "超期未结", "en": "Open overdue"},
    "kpi.mean_handling_hours": {"zh": "平均处置时长(时)", "en": "Mean handling (h)"},
    "kpi.cameras_online": {"zh": "监控在线", "en": "Cameras online"},
    "kpi.patrol_compliance": {"zh": "昨日巡查达标率", "en": "Patrol norm met yesterday"},
    "kpi.workers_on_duty": {"zh": "在岗网格员", "en": "Grid workers on duty"},
    "wall.townships": {
        "zh": "乡镇/街道排名（超期·在办·30日上报）",
        "en": "Townships (overdue · open · reported 30 d)",
    },
    "wall.categories": {"zh": "30日事件类别", "en": "Case categories, 30 days"},
    "wall.trend": {"zh": "30日上报与结案趋势", "en": "Reported and closed, 30 days"},
    "wall.newest": {"zh": "最新事件", "en": "Newest cases"},
    "wall.overdue": {"zh": "超期事件", "en": "Overdue cases"},
    "wall.reported": {"zh": "上报", "en": "reported"},
    "wall.closed": {"zh": "结案", "en": "closed"},
    "wall.none": {"zh": "暂无", "en": "None"},
    "wall.map_legend": {
        "zh": "社区颜色：在办事件数；圆点：近24小时事件，红色为超期",
        "en": "Communities: open cases; dots: last 24 h, red = overdue",
    },
    "status.reported": {"zh": "已上报", "en": "reported"},
    "status.accepted": {"zh": "已受理", "en": "accepted"},
    "status.dispatched": {"zh": "已派遣", "en": "dispatched"},
    "status.in_progress": {"zh": "处置中", "en": "in progress"},
    "status.resolved": {"zh": "已处置", "en": "resolved"},
    "status.verified": {"zh": "已核查", "en": "verified"},
    "status.closed": {"zh": "已结案", "en": "closed"},
    "status.returned": {"zh": "已退回", "en": "returned"},
    "status.escalated": {"zh": "已上报上级", "en": "escalated"},
    "category.dispute": {"zh": "矛盾纠纷", "en": "Dispute"},
    "category.safety": {"zh": "安全隐患", "en": "Safety hazard"},
    "category.sanitation": {"zh": "环境卫生", "en": "Sanitation"},
    "category.facilities": {"zh": "市政设施", "en": "Public facilities"},
    "category.order": {"zh": "治安秩序", "en": "Public order"},
    "category.services": {"zh": "民生服务", "en": "Livelihood services"},
    "nav.cases": {"zh": "事件列表", "en": "Cases"},
    "cases.col.case_id": {"zh": "事件编号", "en": "Case"},
    "cases.col.reported": {"zh": "上报时间", "en": "Reported"},
    "cases.col.category": {"zh": "类别", "en": "Category"},
    "cases.col.status": {"zh": "状态", "en": "Status"},
    "cases.col.level": {"zh": "层级", "en": "Level"},
    "cases.col.township": {"zh": "乡镇/街道", "en": "Township"},
    "cases.col.community": {"zh": "社区/村", "en": "Community"},
    "cases.col.grid": {"zh": "网格", "en": "Grid"},
    "cases.col.deadline": {"zh": "处置时限", "en": "Deadline"},
    "cases.col.overdue": {"zh": "超期", "en": "Overdue"},
    "cases.col.title": {"zh": "事件标题", "en": "Title"},
    "cases.col.reporter": {"zh": "反映人", "en": "Reporter"},
    "cases.col.phone": {"zh": "联系电话", "en": "Phone"},
    "cases.filter.status": {"zh": "全部状态", "en": "Any status"},
    "cases.filter.category": {"zh": "全部类别", "en": "Any category"},
    "cases.filter.township": {"zh": "全部乡镇/街道", "en": "Any township"},
    "cases.filter.overdue": {"zh": "仅看超期", "en": "Overdue only"},
    "cases.count": {"zh": "共 {n} 件", "en": "{n} cases"},
    "cases.overdue": {"zh": "超期", "en": "overdue"},
    "cases.pick": {"zh": "点击列表中的事件查看处置过程", "en": "Click a case to see its history"},
    "cases.gone": {"zh": "该事件不存在", "en": "This case does not exist"},
    "window.1d": {"zh": "今日", "en": "Today"},
    "window.7d": {"zh": "近7日", "en": "Last 7 days"},
    "window.30d": {"zh": "近30日", "en": "Last 30 days"},
    "window.90d": {"zh": "近90日", "en": "Last 90 days"},
    "window.all": {"zh": "全部时间", "en": "All time"},
    "level.grid": {"zh": "网格", "en": "grid"},
    "level.community": {"zh": "社区", "en": "community"},
    "level.township": {"zh": "乡镇", "en": "township"},
    "level.county": {"zh": "县", "en": "county"},
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
