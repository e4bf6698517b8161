"""The one translation table of the interface: Simplified Chinese by default, English available.

Every text shown to users goes through :func:`t`. A key missing from the table is a bug and
raises ``KeyError`` (a test checks that each key has both languages).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs

__all__ = [
    "ACTORS",
    "LANGS",
    "TEXT",
    "actor_label",
    "flags_label",
    "label",
    "labels",
    "normalise_lang",
    "page_title",
    "request_lang",
    "t",
]

LANGS = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "app.title": {"zh": "网格化管理指挥中心", "en": "Grid Management Command Centre"},
    "app.county_title": {
        "zh": "{county}网格化管理指挥中心",
        "en": "{county} Grid Management Command Centre",
    },
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
    "summary.in_band": {"zh": "城镇网格户数达标", "en": "Urban grids in the band"},
    "summary.flagged": {"zh": "需复核网格", "en": "Grids flagged for review"},
    "summary.no_grids": {"zh": "尚未划分网格", "en": "No grids published yet"},
    "legend.title": {"zh": "图例", "en": "Legend"},
    "legend.households": {"zh": "网格户数", "en": "Households per grid"},
    "legend.no_data": {"zh": "无数据", "en": "No data"},
    "legend.below": {"zh": "低于下限", "en": "below the band"},
    "legend.in_band": {"zh": "达标", "en": "in the band"},
    "legend.above": {"zh": "高于上限", "en": "above the band"},
    "legend.flagged": {"zh": "需复核", "en": "flagged"},
    "legend.rural": {"zh": "农村网格(一屯一格)", "en": "rural grid (one per hamlet)"},
    "legend.special": {"zh": "专属网格", "en": "dedicated grid"},
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
    "wall.categories": {"zh": "30日事件类别", "en": "Case categories, 30 days"},
    "wall.trend": {"zh": "30日上报与结案趋势", "en": "Reported and closed, 30 days"},
    "wall.newest": {"zh": "最新事件", "en": "Newest cases"},
    "wall.overdue": {"zh": "超期事件", "en": "Overdue cases"},
    "wall.reported": {"zh": "上报", "en": "reported"},
    "wall.closed": {"zh": "结案", "en": "closed"},
    "wall.none": {"zh": "暂无", "en": "None"},
    "wall.ranking.township": {"zh": "乡镇/街道排名", "en": "Townships ranked"},
    "wall.ranking.community": {"zh": "社区/村排名", "en": "Communities ranked"},
    "wall.col.township": {"zh": "乡镇/街道", "en": "Township"},
    "wall.col.community": {"zh": "社区/村", "en": "Community"},
    "wall.col.bar": {"zh": "在办事件", "en": "Open cases"},
    "wall.col.overdue": {"zh": "超期", "en": "Overdue"},
    "wall.col.open": {"zh": "在办", "en": "Open"},
    "wall.col.reported": {"zh": "30日上报", "en": "30 d"},
    "wall.date": {"zh": "{y}年{m}月{d}日 {weekday}", "en": "{weekday} {d} {month} {y}"},
    "weekday.0": {"zh": "星期日", "en": "Sunday"},
    "weekday.1": {"zh": "星期一", "en": "Monday"},
    "weekday.2": {"zh": "星期二", "en": "Tuesday"},
    "weekday.3": {"zh": "星期三", "en": "Wednesday"},
    "weekday.4": {"zh": "星期四", "en": "Thursday"},
    "weekday.5": {"zh": "星期五", "en": "Friday"},
    "weekday.6": {"zh": "星期六", "en": "Saturday"},
    "month.1": {"zh": "一月", "en": "January"},
    "month.2": {"zh": "二月", "en": "February"},
    "month.3": {"zh": "三月", "en": "March"},
    "month.4": {"zh": "四月", "en": "April"},
    "month.5": {"zh": "五月", "en": "May"},
    "month.6": {"zh": "六月", "en": "June"},
    "month.7": {"zh": "七月", "en": "July"},
    "month.8": {"zh": "八月", "en": "August"},
    "month.9": {"zh": "九月", "en": "September"},
    "month.10": {"zh": "十月", "en": "October"},
    "month.11": {"zh": "十一月", "en": "November"},
    "month.12": {"zh": "十二月", "en": "December"},
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
    "nav.situation": {"zh": "态势研判", "en": "Drill-down"},
    "sit.metric": {"zh": "着色指标", "en": "Colour by"},
    "sit.metric.per100": {"zh": "每百户事件数(30日)", "en": "Cases per 100 households (30 d)"},
    "sit.metric.overdue": {"zh": "超期未结", "en": "Open overdue"},
    "sit.metric.patrol": {"zh": "昨日巡查道路覆盖率", "en": "Streets patrolled yesterday"},
    "sit.metric.camera": {"zh": "监控道路覆盖率", "en": "Streets in camera view"},
    "sit.metric.gi": {"zh": "热点分析(Gi*)", "en": "Hot spots (Gi*)"},
    "sit.low": {"zh": "低", "en": "low"},
    "sit.high": {"zh": "高", "en": "high"},
    "sit.gi.3": {"zh": "热点 99% 置信", "en": "Hot spot, 99% confidence"},
    "sit.gi.2": {"zh": "热点 95% 置信", "en": "Hot spot, 95% confidence"},
    "sit.gi.1": {"zh": "热点 90% 置信", "en": "Hot spot, 90% confidence"},
    "sit.gi.0": {"zh": "不显著", "en": "Not significant"},
    "sit.gi.-1": {"zh": "冷点 90% 置信", "en": "Cold spot, 90% confidence"},
    "sit.gi.-2": {"zh": "冷点 95% 置信", "en": "Cold spot, 95% confidence"},
    "sit.gi.-3": {"zh": "冷点 99% 置信", "en": "Cold spot, 99% confidence"},
    "sit.kpi.reported": {"zh": "30日上报", "en": "Reported (30 d)"},
    "sit.kpi.closed": {"zh": "30日结案", "en": "Closed (30 d)"},
    "sit.kpi.closure_rate": {"zh": "结案率", "en": "Closure rate"},
    "sit.kpi.on_time_rate": {"zh": "按期结案率", "en": "On-time rate"},
    "sit.kpi.open": {"zh": "在办", "en": "Open"},
    "sit.kpi.open_overdue": {"zh": "超期未结", "en": "Open overdue"},
    "sit.kpi.mean_handling_hours": {"zh": "平均处置时长(时)", "en": "Mean handling (h)"},
    "sit.kpi.escalated": {"zh": "上报上级", "en": "Escalated"},
    "sit.children.county": {"zh": "乡镇/街道排名", "en": "Townships ranked"},
    "sit.children.township": {"zh": "社区/村排名", "en": "Communities ranked"},
    "sit.children.community": {"zh": "网格排名", "en": "Grids ranked"},
    "sit.col.name": {"zh": "名称", "en": "Name"},
    "sit.col.households": {"zh": "户数", "en": "Households"},
    "sit.col.cases": {"zh": "30日事件", "en": "Cases 30 d"},
    "sit.col.per100": {"zh": "每百户", "en": "Per 100 hh"},
    "sit.col.overdue": {"zh": "超期", "en": "Overdue"},
    "sit.col.patrol": {"zh": "巡查覆盖", "en": "Patrolled"},
    "sit.col.camera": {"zh": "监控覆盖", "en": "Camera view"},
    "sit.col.gi": {"zh": "热点", "en": "Gi*"},
    "sit.grid_card": {"zh": "网格档案", "en": "Grid card"},
    "sit.card.households": {"zh": "户数", "en": "Households"},
    "sit.card.buildings": {"zh": "建筑数", "en": "Buildings"},
    "sit.card.kind": {"zh": "网格类型", "en": "Grid type"},
    "sit.card.worker": {"zh": "网格员", "en": "Grid worker"},
    "sit.card.patrol_street_share": {
        "zh": "昨日巡查道路覆盖率",
        "en": "Streets patrolled yesterday",
    },
    "sit.card.patrol_minutes": {"zh": "昨日巡查时长(分)", "en": "Minutes patrolled yesterday"},
    "sit.card.patrol_sessions": {"zh": "昨日巡查次数", "en": "Patrols yesterday"},
    "sit.card.patrol_compliant": {"zh": "昨日巡查达标", "en": "Patrol norm met yesterday"},
    "sit.card.camera_street_share": {"zh": "监控道路覆盖率", "en": "Streets in camera view"},
    "sit.card.camera_open_share": {"zh": "监控开阔地覆盖率", "en": "Open ground in camera view"},
    "sit.card.gi_bin": {"zh": "热点等级(Gi*)", "en": "Hot spot bin (Gi*)"},
    "sit.card.open": {"zh": "在办事件", "en": "Open cases"},
    "sit.card.overdue": {"zh": "超期未结", "en": "Open overdue"},
    "sit.card.flags": {"zh": "划分提示", "en": "Division flags"},
    "sit.yes": {"zh": "是", "en": "yes"},
    "sit.no": {"zh": "否", "en": "no"},
    "gridkind.urban": {"zh": "城镇网格", "en": "urban"},
    "gridkind.rural": {"zh": "农村网格", "en": "rural"},
    "gridkind.special": {"zh": "专属网格", "en": "dedicated"},
    "layer.hexes": {"zh": "事件密度(H3六边形)", "en": "Case density (H3 hexagons)"},
    "layer.cameras": {"zh": "监控视域", "en": "Camera views"},
    "layer.uncovered": {"zh": "监控盲区道路", "en": "Streets no camera sees"},
    "layer.cases": {"zh": "事件(聚合)", "en": "Cases (clustered)"},
    "layer.case_bins": {"zh": "事件(大量时按区汇总)", "en": "Cases (binned when many)"},
    "layer.track": {"zh": "巡查轨迹", "en": "Patrol track"},
    "ctl.grid_metric": {"zh": "网格着色", "en": "Colour grids by"},
    "ctl.metric.households": {"zh": "户数(达标区间)", "en": "Households (band)"},
    "ctl.metric.per100": {"zh": "每百户事件数(30日)", "en": "Cases per 100 households (30 d)"},
    "ctl.metric.overdue": {"zh": "超期未结", "en": "Open overdue"},
    "ctl.metric.patrol": {"zh": "昨日巡查道路覆盖率", "en": "Streets patrolled yesterday"},
    "ctl.metric.camera": {"zh": "监控道路覆盖率", "en": "Streets in camera view"},
    "ctl.metric.gi": {"zh": "热点(Gi*)", "en": "Hot spots (Gi*)"},
    "ctl.cases": {"zh": "事件筛选", "en": "Cases shown"},
    "ctl.open": {"zh": "全部在办", "en": "All open"},
    "ctl.track": {"zh": "网格员巡查轨迹", "en": "Grid worker's track"},
    "ctl.worker": {"zh": "选择网格员", "en": "Choose a grid worker"},
    "ctl.no_track": {"zh": "当日无轨迹", "en": "No track that day"},
    "ctl.track_summary": {
        "zh": "{n} 次巡查，{minutes} 分钟，{fixes} 个定位点",
        "en": "{n} patrols, {minutes} minutes, {fixes} fixes",
    },
    "flag.undersize-community": {
        "zh": "社区户数不足一个网格",
        "en": "community below the band",
    },
    "flag.exclave": {
        "zh": "飞地（与社区主体不相连，户数不足单独成格）",
        "en": "exclave below the band (apart from the community)",
    },
    "flag.empty-exclave": {
        "zh": "无建筑的飞地",
        "en": "exclave without buildings",
    },
    "flag.undersize-piece": {"zh": "分隔片区户数不足", "en": "separated piece below the band"},
    "flag.no-integer-split": {"zh": "户数无法整分", "en": "no whole number of grids fits"},
    "flag.no-building-split": {
        "zh": "整栋建筑无法分入区间",
        "en": "whole buildings do not split into the band",
    },
    "flag.indivisible-building": {
        "zh": "单栋建筑超过上限",
        "en": "one building above the band",
    },
    "flag.empty": {"zh": "无住户", "en": "no households"},
    "flag.no-buildings": {"zh": "社区无建筑", "en": "community without buildings"},
    "flag.locked": {"zh": "锁定网格", "en": "locked grid"},
    "flag.kept": {"zh": "沿用原网格", "en": "kept from the previous version"},
    "flag.out-of-band": {"zh": "户数超出区间", "en": "out of the band"},
    "flag.over-maximum": {"zh": "户数高于上限", "en": "above the band"},
    "building.house": {"zh": "住宅(平房/低层)", "en": "house"},
    "building.shophouse": {"zh": "商住楼", "en": "shophouse"},
    "building.rural_house": {"zh": "农房", "en": "rural house"},
    "building.outbuilding": {"zh": "附属房", "en": "outbuilding"},
    "building.walkup": {"zh": "多层住宅", "en": "walk-up"},
    "building.tower": {"zh": "高层住宅", "en": "tower"},
    "building.school": {"zh": "学校", "en": "school"},
    "building.hospital": {"zh": "医院", "en": "hospital"},
    "building.government": {"zh": "机关", "en": "government"},
    "building.commercial": {"zh": "商业", "en": "commercial"},
    "building.market": {"zh": "市场", "en": "market"},
    "building.industrial": {"zh": "工业", "en": "industrial"},
    "building.warehouse": {"zh": "仓储", "en": "warehouse"},
    "building.station": {"zh": "车站", "en": "station"},
    "building.pavilion": {"zh": "亭", "en": "pavilion"},
    "actor.command_centre": {"zh": "指挥中心", "en": "command centre"},
    "actor.upper_command_centre": {"zh": "上级指挥中心", "en": "higher command centre"},
    "actor.grid_leader": {"zh": "网格长", "en": "grid leader"},
    "actor.handling_unit": {"zh": "处置单位", "en": "handling unit"},
    "actor.grid_worker_check": {"zh": "网格员核查", "en": "grid worker (check)"},
    "actor.reporter": {"zh": "上报人", "en": "reporter"},
    "source.grid_worker": {"zh": "网格员上报", "en": "grid worker"},
    "source.hotline_12345": {"zh": "12345热线", "en": "12345 hotline"},
    "source.citizen": {"zh": "群众反映", "en": "citizen"},
    "source.camera_ai": {"zh": "视频智能发现", "en": "camera (AI)"},
    "source.inspection": {"zh": "巡查发现", "en": "inspection"},
    "login.title": {"zh": "登录", "en": "Sign in"},
    "login.username": {"zh": "用户名", "en": "User name"},
    "login.password": {"zh": "密码", "en": "Password"},
    "login.submit": {"zh": "登录", "en": "Sign in"},
    "login.failed": {"zh": "用户名或密码错误", "en": "Wrong user name or password"},
    "login.logout": {"zh": "退出", "en": "Sign out"},
    "role.county": {"zh": "县指挥中心", "en": "County command centre"},
    "role.township": {"zh": "{township}负责人", "en": "Leader, {township}"},
    "role.planner": {"zh": "网格规划员", "en": "Grid planner"},
    "role.wall": {"zh": "指挥大屏", "en": "Wall display"},
    "notfound.title": {"zh": "页面不存在", "en": "Page not found"},
    "notfound.page": {
        "zh": "您打开的地址没有对应的页面，可能链接有误或页面已移动。",
        "en": "There is no page at this address: the link may be wrong or the page has moved.",
    },
    "notfound.text": {"zh": "找不到 {path}。", "en": "{path} was not found."},
    "notfound.home": {"zh": "返回态势地图", "en": "Back to the situation map"},
    "login.locked": {
        "zh": "登录失败次数过多，请 {seconds} 秒后再试",
        "en": "Too many failed sign-ins: try again in {seconds} s",
    },
    "error.forbidden": {
        "zh": "无权访问此页面或数据",
        "en": "You may not see this page or these data",
    },
    "error.not_ready": {
        "zh": "数据尚未准备好：请先运行 wangge demo setup",
        "en": "No data yet: run `wangge demo setup` first",
    },
    # the desk: views, search, export, actions (issue 13)
    "cases.view.all": {"zh": "全部", "en": "All"},
    "cases.view.open": {"zh": "在办", "en": "Open"},
    "cases.view.open_overdue": {"zh": "超期未结", "en": "Open overdue"},
    "cases.view.today": {"zh": "今日上报", "en": "Reported today"},
    "cases.view.urgent": {"zh": "紧急", "en": "Urgent"},
    "cases.search": {
        "zh": "搜索：事件编号、关键词、网格、地址",
        "en": "Search: case number, keyword, grid, address",
    },
    "cases.export.csv": {"zh": "导出 CSV", "en": "Export CSV"},
    "cases.export.xlsx": {"zh": "导出 Excel", "en": "Export Excel"},
    "cases.export.file": {"zh": "事件列表", "en": "cases"},
    "cases.col.address": {"zh": "地址", "en": "Address"},
    "cases.col.urgency": {"zh": "紧急程度", "en": "Urgency"},
    "cases.col.assignee": {"zh": "处置对象", "en": "Handled by"},
    "urgency.normal": {"zh": "一般", "en": "normal"},
    "urgency.urgent": {"zh": "紧急", "en": "urgent"},
    "act.title": {"zh": "处置", "en": "Handle"},
    "act.accepted": {"zh": "受理", "en": "Accept"},
    "act.dispatched": {"zh": "派遣", "en": "Dispatch"},
    "act.in_progress": {"zh": "开始处置", "en": "Start work"},
    "act.resolved": {"zh": "处置完毕", "en": "Resolve"},
    "act.verified": {"zh": "核查通过", "en": "Verify"},
    "act.closed": {"zh": "结案", "en": "Close"},
    "act.returned": {"zh": "退回", "en": "Return"},
    "act.escalated": {"zh": "上报上级", "en": "Escalate"},
    "act.urge": {"zh": "督办", "en": "Urge"},
    "act.seen": {"zh": "标记已阅", "en": "Mark seen"},
    "act.comment": {"zh": "处置意见 / 督办意见", "en": "Comment / note"},
    "act.assignee": {"zh": "派遣给（派遣时必选）", "en": "Dispatch to (for a dispatch)"},
    "act.worker": {"zh": "本网格网格员 {name}", "en": "Grid worker {name}"},
    "act.done": {"zh": "已{action}", "en": "Done: {action}"},
    "act.conflict": {
        "zh": "未执行：该事件已被 {who} 于 {time} 改为「{status}」。请核对后重试。",
        "en": "Not done: {who} changed this case to '{status}' at {time}. Check it and try again.",
    },
    "act.need_assignee": {
        "zh": "派遣须选择处置对象",
        "en": "Choose who handles the case to dispatch it",
    },
    "act.need_note": {"zh": "督办须填写督办意见", "en": "Write a note to urge"},
    "act.refused": {"zh": "未执行：{reason}", "en": "Not done: {reason}"},
    "act.readonly": {"zh": "您的角色只能查看事件", "en": "Your role may only view cases"},
    "event.urge": {"zh": "督办", "en": "urged"},
    "event.seen": {"zh": "已阅", "en": "seen"},
    "dept.urban_management": {"zh": "县城市管理局", "en": "Urban management bureau"},
    "dept.housing": {"zh": "县住房和城乡建设局", "en": "Housing and construction bureau"},
    "dept.emergency": {"zh": "县应急管理局", "en": "Emergency management bureau"},
    "dept.public_security": {"zh": "县公安局", "en": "Public security bureau"},
    "dept.environment": {"zh": "县生态环境局", "en": "Ecology and environment bureau"},
    "dept.market": {"zh": "县市场监督管理局", "en": "Market regulation bureau"},
    "dept.civil_affairs": {"zh": "县民政局", "en": "Civil affairs bureau"},
    "dept.water": {"zh": "县水务局", "en": "Water bureau"},
    "wall.urgent": {"zh": "紧急事件", "en": "Urgent case"},
    "wall.urgent_hint": {
        "zh": "待指挥中心在事件列表标记已阅",
        "en": "until the command centre marks it seen in the case list",
    },
    # the planner's page (dashboard/pages/planner.py)
    "nav.planner": {"zh": "网格规划", "en": "Grid planner"},
    "planner.township": {"zh": "乡镇/街道", "en": "Township"},
    "planner.community": {"zh": "社区/行政村", "en": "Community"},
    "planner.version": {"zh": "编辑版本", "en": "Version edited"},
    "planner.parent": {"zh": "上级版本", "en": "Parent"},
    "planner.pick": {"zh": "历史版本（对比/发布/恢复）", "en": "Version (diff, publish, restore)"},
    "planner.readonly": {
        "zh": "只读：乡镇领导可查看本乡镇的网格版本",
        "en": "Read-only: township leaders see their own township's versions",
    },
    "planner.help": {
        "zh": "点击网格列表选定目标网格，再点击建筑划入该网格；按住 Shift 拖动框选；Alt+点击选取建筑所在网格；合并：先点要并入的网格，再点目标网格。",
        "en": "Click a grid in the list to make it the target, then click buildings to give them to it; Shift-drag paints a box; Alt-click picks a building's grid; to merge, click the grid to dissolve, then the target.",
    },
    "planner.target": {"zh": "目标网格", "en": "Target grid"},
    "planner.grid": {"zh": "网格", "en": "Grid"},
    "planner.households": {"zh": "户", "en": "households"},
    "planner.col.households": {"zh": "户数", "en": "Households"},
    "planner.col.buildings": {"zh": "建筑", "en": "Buildings"},
    "planner.col.flags": {"zh": "问题", "en": "Flags"},
    "planner.col.lock": {"zh": "锁定", "en": "Lock"},
    "planner.violations": {"zh": "待处理问题（点击定位）", "en": "Violations (click to zoom)"},
    "planner.over": {"zh": "户数超上限", "en": "over the band"},
    "planner.under": {"zh": "户数低于下限", "en": "under the band"},
    "planner.noncontiguous": {"zh": "不连通", "en": "not contiguous"},
    "planner.empty": {"zh": "空网格", "en": "empty"},
    "planner.lock": {"zh": "锁定后重算时保持不变", "en": "kept as is by a re-run"},
    "planner.undo": {"zh": "撤销", "en": "Undo"},
    "planner.redo": {"zh": "重做", "en": "Redo"},
    "planner.new_grid": {"zh": "新建网格", "en": "New grid"},
    "planner.merge": {"zh": "并入目标网格", "en": "Merge into target"},
    "planner.merge_pick": {"zh": "要并入的网格", "en": "Grid to merge"},
    "planner.split": {"zh": "拆分目标网格", "en": "Split target"},
    "planner.parts": {"zh": "份数", "en": "parts"},
    "planner.rerun": {"zh": "锁定外重新划分", "en": "Re-run the unlocked rest"},
    "planner.comment": {"zh": "说明", "en": "Comment"},
    "planner.reason": {"zh": "存在问题时须填写原因", "en": "Reason (required with violations)"},
    "planner.save": {"zh": "保存草稿", "en": "Save draft"},
    "planner.publish": {"zh": "发布所选版本", "en": "Publish picked version"},
    "planner.restore": {"zh": "恢复为新草稿", "en": "Restore as new draft"},
    "planner.relocate": {"zh": "在办事件重新落格", "en": "Relocate open cases"},
    "planner.diff": {"zh": "与所选版本对比", "en": "Diff with picked version"},
    "planner.history": {"zh": "版本历史", "en": "Version history"},
    "planner.touches": {"zh": "改动本社区", "en": "changed this community"},
    "planner.saved": {
        "zh": "已保存草稿 v{id}（移动 {moved} 栋建筑，问题 {violations} 项）",
        "en": "Saved draft v{id} ({moved} buildings moved, {violations} violations)",
    },
    "planner.need_reason": {
        "zh": "存在 {n} 项问题：保存前请填写原因",
        "en": "{n} violations: write a reason before saving",
    },
    "planner.publish_reason": {
        "zh": "v{id} 存在问题：发布前请填写原因",
        "en": "v{id} has violations: write a reason before publishing",
    },
    "planner.published": {"zh": "已发布 v{id}", "en": "Published v{id}"},
    "planner.restored": {"zh": "已恢复为新草稿 v{id}", "en": "Restored as new draft v{id}"},
    "planner.relocated": {
        "zh": "已重新落格 {n} 件在办事件（{m} 件换了网格）",
        "en": "Relocated {n} open cases ({m} changed grid)",
    },
    "planner.diff_title": {
        "zh": "v{a} → v{b}：移动 {n} 栋建筑，{hh} 户",
        "en": "v{a} → v{b}: {n} buildings moved, {hh} households",
    },
    "planner.overlap": {
        "zh": "户数重叠矩阵（多网合一）：{n} 栋建筑不在所属网格的主要对应网格中",
        "en": "Household overlap with another grid layer: {n} buildings outside their grid's main counterpart",
    },
    "planner.diff_added": {"zh": "新增网格", "en": "Grids added"},
    "planner.diff_removed": {"zh": "撤销网格", "en": "Grids removed"},
    "planner.diff_changed": {"zh": "调整网格", "en": "Grids changed"},
    "planner.moves": {"zh": "从 → 到", "en": "From → to"},
    "planner.no_pick": {"zh": "请先选择历史版本", "en": "Pick a version first"},
    "planner.error": {"zh": "未完成：{detail}", "en": "Not done: {detail}"},
    "planner.status.draft": {"zh": "草稿", "en": "draft"},
    "planner.status.published": {"zh": "已发布", "en": "published"},
    "planner.status.archived": {"zh": "已归档", "en": "archived"},
    "planner.pick_community": {"zh": "请选择社区", "en": "Pick a community"},
    "planner.lasso": {"zh": "套索圈选", "en": "Lasso"},
    "planner.line": {"zh": "画线拆分", "en": "Split along a line"},
    "planner.help_tools": {
        "zh": "套索：按下、拖画、松开，圈内建筑划入目标网格。画线拆分：先选定目标网格，再在地图上逐点点击画线穿过该网格，双击结束；线另一侧户数较少的建筑成为新网格。",
        "en": "Lasso: press, draw and release; the buildings inside go to the target grid. Split along a line: pick the target grid, click points of a line across it on the map, double-click to finish; the side of fewer households becomes a new grid.",
    },
    "planner.need_target": {
        "zh": "请先在列表中选定目标网格",
        "en": "Pick the target grid in the list first",
    },
    "planner.legend_moved": {
        "zh": "对比中移动的建筑",
        "en": "Buildings moved between the versions",
    },
    "planner.legend_mismatch": {
        "zh": "与 v{v} 主要对应网格不一致的建筑",
        "en": "Buildings outside their grid's main counterpart in v{v}",
    },
}


#: Actor codes of the status history, by the Chinese labels older stores hold instead.
ACTORS = {
    "指挥中心": "command_centre",
    "上级指挥中心": "upper_command_centre",
    "网格长": "grid_leader",
    "处置单位": "handling_unit",
    "网格员核查": "grid_worker_check",
    "上报人": "reporter",
}


# the situation map and drill-down (issue 13: the map answers, hot spots, honest trends)
TEXT.update(
    {
        "summary.no_urban": {"zh": "无城镇网格", "en": "no urban grid"},
        "trend.partial": {"zh": "今日(未完)", "en": "today (so far)"},
        "legend.cases": {"zh": "事件", "en": "Cases"},
        "legend.case_overdue": {"zh": "红框: 超期未结", "en": "red ring: open, overdue"},
        "legend.case_cluster": {"zh": "圆内数字: 聚合的事件数", "en": "number: cases clustered"},
        "legend.camera_online": {"zh": "监控视域(在线)", "en": "camera view (online)"},
        "legend.camera_offline": {"zh": "监控视域(离线)", "en": "camera view (offline)"},
        "legend.uncovered": {
            "zh": "监控盲区道路(周边30日事件多)",
            "en": "street no camera sees (many cases near, 30 days)",
        },
        "legend.grid_edge": {"zh": "网格边界", "en": "grid boundary"},
        "legend.community_edge": {"zh": "社区/村界", "en": "community boundary"},
        "mapcard.grid": {"zh": "网格 {code}", "en": "Grid {code}"},
        "mapcard.households": {"zh": "户数", "en": "Households"},
        "mapcard.worker": {"zh": "网格员", "en": "Grid worker"},
        "mapcard.open": {"zh": "在办事件", "en": "Open cases"},
        "mapcard.overdue": {"zh": "其中超期", "en": "of which overdue"},
        "mapcard.cases30": {"zh": "近30日事件", "en": "Cases, 30 days"},
        "mapcard.drill": {"zh": "进入态势研判", "en": "Open in the drill-down"},
        "mapcard.close": {"zh": "关闭", "en": "Close"},
        "mapcard.hint": {
            "zh": "点击网格或事件查看详情",
            "en": "Click a grid or a case for its card",
        },
        "hot.period": {"zh": "热点时段", "en": "Hot-spot period"},
        "hot.category": {"zh": "事件类别(全部)", "en": "Case category (all)"},
        "hot.top": {"zh": "热点网格前10", "en": "Top 10 hot-spot grids"},
        "hot.none": {"zh": "无显著热点网格", "en": "No significant hot-spot grid"},
        "hot.col.grid": {"zh": "网格", "en": "Grid"},
        "hot.col.community": {"zh": "社区/村", "en": "Community"},
        "hot.col.cases": {"zh": "事件数", "en": "Cases"},
        "hot.col.z": {"zh": "Gi* z值", "en": "Gi* z"},
        "hot.col.bin": {"zh": "置信度", "en": "Confidence"},
        "hot.within.county": {
            "zh": "Gi* 在全县网格中计算",
            "en": "Gi* computed over the county's grids",
        },
        "hot.within.township": {
            "zh": "Gi* 在本乡镇网格中计算",
            "en": "Gi* computed over this township's grids",
        },
    }
)


def normalise_lang(lang: object, default: str = "zh") -> str:
    """``lang`` if it is a supported language code, else ``default``."""
    return lang if isinstance(lang, str) and lang in LANGS else default


def t(key: str, lang: str = "zh", **fmt: object) -> str:
    """The text of ``key`` in ``lang``, formatted with ``fmt``."""
    text = TEXT[key][normalise_lang(lang)]
    return text.format(**fmt) if fmt else text


def label(prefix: str, code: object, lang: str = "zh") -> str:
    """The text of ``prefix.code``; a code the table does not know (kinds of real data, free
    text) is shown as it is."""
    key = f"{prefix}.{code}"
    return t(key, lang) if key in TEXT else ("" if code is None else str(code))


def labels(prefix: str, lang: str = "zh") -> dict[str, str]:
    """Every code of ``prefix`` with its text (for the browser: tooltips, legends)."""
    head = prefix + "."
    return {k[len(head) :]: t(k, lang) for k in TEXT if k.startswith(head)}


def flags_label(flags: str, lang: str = "zh") -> str:
    """A grid's flags (codes joined by ``;``) in words."""
    return "; ".join(label("flag", f, lang) for f in str(flags).split(";") if f)


def actor_label(actor: str, lang: str = "zh") -> str:
    """Who changed a case's status: a known actor (code or older label) in words, else as
    stored (an API token's name, free text)."""
    return label("actor", ACTORS.get(actor, actor), lang)


def request_lang() -> str:
    """The language of the page being served: ``?lang=`` of the request, or of the page's URL
    while Dash routes to a page, else the settings' default language."""
    import dash
    from dash.exceptions import MissingCallbackContextException
    from flask import current_app, has_request_context, request

    if not has_request_context():
        return LANGS[0]
    lang = request.args.get("lang")
    if lang is None:
        try:
            search = dash.callback_context.inputs.get("_pages_location.search") or ""
        except (MissingCallbackContextException, LookupError):  # not in a callback
            search = ""
        lang = (parse_qs(search.lstrip("?")).get("lang") or [None])[0]
    settings = current_app.config.get("WANGGE_SETTINGS")
    return normalise_lang(lang, settings.lang if settings else LANGS[0])


def page_title(key: str) -> Callable[..., str]:
    """A page's title for ``dash.register_page``: the text of ``key`` in the request's language."""

    def title(**_path_variables: object) -> str:
        return t(key, request_lang())

    return title
