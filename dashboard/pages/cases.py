"""事件列表 (case list): every case, filtered and sorted on the server, page by page.

The grid uses AG Grid's infinite row model, so only the rows in view travel (200,000 cases stay
in the store). Filters live in the URL (``?status=...&category=...``), written back with
``history.replaceState`` so a link can be shared without reloading the page. Clicking a case
flies the map to it and shows its status history. Reporters' names and phones are masked.
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_leaflet as dl
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html
from flask import current_app

from dashboard import ids
from dashboard.api import public_case
from dashboard.auth import current_scope, may_open_page, page_callback
from dashboard.components.case_detail import case_detail, case_marker, local_time
from dashboard.components.geojson import display_point, fitted_view, geojson
from dashboard.components.header import header, message_page
from dashboard.i18n import normalise_lang, page_title, t
from wangge.casework import CATEGORIES, STATUSES
from wangge.services.metrics import WINDOWS, window_since

dash.register_page(__name__, path="/cases", name="cases", title=page_title("nav.cases"))

SORTABLE = {"reported_at", "deadline_at", "category", "status", "level", "case_id"}


def _options(values, prefix: str, lang: str) -> list[dict]:
    return [{"label": t(f"{prefix}.{v}", lang), "value": v} for v in values]


def _columns(lang: str) -> list[dict]:
    def col(field: str, key: str, **extra) -> dict:
        return {"field": field, "headerName": t(key, lang), "sortable": field in SORTABLE, **extra}

    return [
        col("case_id", "cases.col.case_id", width=150, pinned="left"),
        col("reported_local", "cases.col.reported", width=140, sortable=True, colId="reported_at"),
        col("category_label", "cases.col.category", width=110, colId="category", sortable=True),
        col("status_label", "cases.col.status", width=100, colId="status", sortable=True),
        col("level_label", "cases.col.level", width=80, colId="level", sortable=True),
        col("township_name", "cases.col.township", width=100),
        col("community_name", "cases.col.community", width=110),
        col("grid_code", "cases.col.grid", width=150),
        col("deadline_local", "cases.col.deadline", width=140, colId="deadline_at", sortable=True),
        col("overdue_label", "cases.col.overdue", width=80),
        col("title", "cases.col.title", flex=1, minWidth=140),
        col("reporter_name", "cases.col.reporter", width=90),
        col("reporter_phone", "cases.col.phone", width=130),
    ]


def case_grid(lang: str) -> dag.AgGrid:
    """A fresh grid (a new one per filter change, so the infinite model starts over)."""
    return dag.AgGrid(
        id=ids.CASES_GRID,
        columnDefs=_columns(lang),
        defaultColDef={"resizable": True, "suppressHeaderMenuButton": True},
        rowModelType="infinite",
        getRowId="params.data.case_id",
        rowClassRules={"overdue-row": "params.data && params.data.overdue"},
        dashGridOptions={
            "rowSelection": {
                "mode": "singleRow",
                "checkboxes": False,
                "enableClickSelection": True,
            },
            "cacheBlockSize": 100,
            "maxBlocksInCache": 20,
            "rowBuffer": 10,
            "localeText": {"noRowsToShow": t("wall.none", lang)},
        },
        className="cases-grid",
        style={"height": "100%"},
    )


def _filter_bar(townships, query: dict, lang: str) -> html.Div:
    """The filters, set from the URL's ``query`` where its values are known."""
    codes = set(townships["code"])
    pairs = zip(townships["code"], townships["name"], strict=True)

    def dropdown(component_id, options, value, key: str | None, **props) -> dcc.Dropdown:
        placeholder = {"placeholder": t(key, lang)} if key else {}
        return dcc.Dropdown(id=component_id, options=options, value=value, **placeholder, **props)

    return html.Div(
        className="cases-filters",
        children=[
            dropdown(
                ids.CASES_STATUS,
                _options(STATUSES, "status", lang),
                query["status"] if query["status"] in STATUSES else None,
                "cases.filter.status",
                clearable=True,
            ),
            dropdown(
                ids.CASES_CATEGORY,
                _options(CATEGORIES, "category", lang),
                query["category"] if query["category"] in CATEGORIES else None,
                "cases.filter.category",
                clearable=True,
            ),
            dropdown(
                ids.CASES_TOWNSHIP,
                [{"label": n, "value": c} for c, n in pairs],
                query["township"] if query["township"] in codes else None,
                "cases.filter.township",
                clearable=True,
            ),
            dropdown(
                ids.CASES_WINDOW,
                _options(WINDOWS, "window", lang),
                query["window"] if query["window"] in WINDOWS else "30d",
                None,
                clearable=False,
            ),
            dcc.Checklist(
                id=ids.CASES_OVERDUE,
                options=[{"label": t("cases.filter.overdue", lang), "value": "1"}],
                value=["1"] if query["overdue"] == "1" else [],
                className="overdue-check",
            ),
            html.Span(id=ids.CASES_COUNT, className="cases-count"),
        ],
    )


def _side(county, lang: str) -> html.Div:
    """The small map (communities, streets, the case shown) and the case's detail."""
    small_map = dl.Map(
        id=ids.CASES_MAP,
        **fitted_view(*county.total_bounds, width=480, height=380),
        preferCanvas=True,
        minZoom=8,
        maxZoom=19,
        className="cases-map",
        children=[
            geojson(
                url="/api/v1/layers/communities.geojson",
                style={"color": "#7a4fa3", "weight": 1, "fillOpacity": 0},
            ),
            geojson(url="/api/v1/layers/roads.geojson", style={"color": "#c9b99a", "weight": 1.5}),
            dl.LayerGroup(id=ids.CASES_MARKER),
        ],
    )
    detail = html.Div(
        id=ids.CASES_DETAIL,
        className="case-detail",
        children=html.Div(t("cases.pick", lang), className="muted"),
    )
    return html.Div([small_map, detail], className="cases-side")


def layout(
    lang: str | None = None,
    status: str | None = None,
    category: str | None = None,
    township: str | None = None,
    window: str | None = None,
    overdue: str | None = None,
    **_query,
) -> html.Div:
    settings = current_app.config["WANGGE_SETTINGS"]
    lang = normalise_lang(lang, settings.lang)
    if not may_open_page("/cases"):
        return message_page(lang, "/cases", "error.forbidden")
    store = current_app.config["WANGGE_STORE"]
    townships = store.admin_units("township", scope=current_scope())
    county = current_app.config["WANGGE_LAYERS"].county(scope=current_scope())
    if len(county) == 0:
        return message_page(lang, "/cases", "error.not_ready")
    query = {
        "status": status,
        "category": category,
        "township": township,
        "window": window,
        "overdue": overdue,
    }
    return html.Div(
        className="page page-cases",
        children=[
            header(lang, "/cases"),
            dcc.Store(id=ids.CASES_LANG, data=lang),
            dcc.Store(id=ids.CASES_URL_SYNC),
            _filter_bar(townships, query, lang),
            html.Div(
                className="cases-body",
                children=[
                    html.Div(id=ids.CASES_GRID_WRAP, className="cases-grid-wrap"),
                    _side(county, lang),
                ],
            ),
        ],
    )


def _filters(status, category, township, window, overdue) -> dict:
    filters: dict = {}
    if status:
        filters["status"] = status
    if category:
        filters["category"] = category
    if township:
        filters["township_code"] = township
    since = window_since(window, "30d")
    if since:
        filters["since"] = since
    if overdue:
        filters["overdue"] = True
    return filters


def _whole(value: object, default: int) -> int:
    """A row index from the grid's request: a whole number from 0, else ``default``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return default
    try:
        number = int(value)
    except (ValueError, OverflowError):
        return default
    return number if 0 <= number <= _LAST_ROW else default


#: The largest row index a request may name (SQLite's OFFSET takes a 64-bit integer).
_LAST_ROW = 10**9


def row_request(request: object) -> tuple[int, int, str, bool]:
    """(start, end, order_by, descending) of AG Grid's infinite-row request; anything malformed
    (not an object, rows that are not whole numbers, an unknown sort) takes the default
    (rows 0-100, newest first) rather than failing the callback."""
    request = request if isinstance(request, dict) else {}
    start = _whole(request.get("startRow"), 0)
    end = _whole(request.get("endRow"), start + 100)
    if end <= start:
        end = start + 100
    models = request.get("sortModel")
    sort = models[0] if isinstance(models, list) and models and isinstance(models[0], dict) else {}
    col = sort.get("colId")
    order_by = col if isinstance(col, str) and col in SORTABLE else "reported_at"
    return start, end, order_by, sort.get("sort", "desc") != "asc"


def rows_for(request: dict | None, status, category, township, window, overdue, lang) -> dict:
    """One block of rows for AG Grid's infinite model: {rowData, rowCount}."""
    start, end, order_by, descending = row_request(request)
    store = current_app.config["WANGGE_STORE"]
    scope = current_scope()
    names = {
        **dict(store.admin_units("community", scope=scope)[["code", "name"]].to_numpy()),
        **dict(store.admin_units("township", scope=scope)[["code", "name"]].to_numpy()),
    }
    items, total = store.list_cases(
        scope=scope,
        filters=_filters(status, category, township, window, overdue),
        limit=max(1, min(500, end - start)),
        offset=start,
        order_by=order_by,
        descending=descending,
    )
    rows = []
    for case in items:
        c = public_case(case)
        c.update(
            reported_local=local_time(c["reported_at"]),
            deadline_local=local_time(c["deadline_at"]),
            category_label=t(f"category.{c['category']}", lang),
            status_label=t(f"status.{c['status']}", lang),
            level_label=t(f"level.{c['level']}", lang),
            township_name=names.get(c["township_code"], c["township_code"]),
            community_name=names.get(c["community_code"], c["community_code"]),
            overdue_label=t("cases.overdue", lang) if c["overdue"] else "",
        )
        rows.append(c)
    return {"rowData": rows, "rowCount": total}


@callback(
    Output(ids.CASES_GRID, "getRowsResponse"),
    Input(ids.CASES_GRID, "getRowsRequest"),
    State(ids.CASES_STATUS, "value"),
    State(ids.CASES_CATEGORY, "value"),
    State(ids.CASES_TOWNSHIP, "value"),
    State(ids.CASES_WINDOW, "value"),
    State(ids.CASES_OVERDUE, "value"),
    State(ids.CASES_LANG, "data"),
)
@page_callback("/cases")
def get_rows(request, status, category, township, window, overdue, lang):
    return rows_for(request, status, category, township, window, overdue, normalise_lang(lang))


@callback(
    Output(ids.CASES_GRID_WRAP, "children"),
    Output(ids.CASES_COUNT, "children"),
    Input(ids.CASES_STATUS, "value"),
    Input(ids.CASES_CATEGORY, "value"),
    Input(ids.CASES_TOWNSHIP, "value"),
    Input(ids.CASES_WINDOW, "value"),
    Input(ids.CASES_OVERDUE, "value"),
    State(ids.CASES_LANG, "data"),
)
@page_callback("/cases")
def refilter(status, category, township, window, overdue, lang):
    """Filters set or changed: a new grid, and the number of matching cases."""
    lang = normalise_lang(lang)
    store = current_app.config["WANGGE_STORE"]
    _, total = store.list_cases(
        scope=current_scope(),
        filters=_filters(status, category, township, window, overdue),
        limit=1,
    )
    return case_grid(lang), t("cases.count", lang, n=f"{total:,}")


@callback(
    Output(ids.CASES_DETAIL, "children"),
    Output(ids.CASES_MARKER, "children"),
    Output(ids.CASES_MAP, "viewport"),
    Input(ids.CASES_GRID, "selectedRows"),
    State(ids.CASES_LANG, "data"),
    prevent_initial_call=True,
)
@page_callback("/cases")
def show_case(selected, lang):
    """The clicked case's status history; the map flies to it."""
    lang = normalise_lang(lang)
    if not selected:
        return html.Div(t("cases.pick", lang), className="muted"), [], dash.no_update
    case_id = (selected[0] or {}).get("case_id") if isinstance(selected[0], dict) else None
    case = current_app.config["WANGGE_STORE"].get_case(str(case_id), scope=current_scope())
    if case is None:
        return html.Div(t("cases.gone", lang), className="muted"), [], dash.no_update
    case = public_case(case)
    lon, lat = display_point(case["lon"], case["lat"])
    viewport = {"center": [lat, lon], "zoom": 17, "transition": "flyTo"}
    return case_detail(case, lang), [case_marker(lat, lon)], viewport


clientside_callback(
    ClientsideFunction(namespace="wangge_cases", function_name="syncUrl"),
    Output(ids.CASES_URL_SYNC, "data"),
    Input(ids.CASES_STATUS, "value"),
    Input(ids.CASES_CATEGORY, "value"),
    Input(ids.CASES_TOWNSHIP, "value"),
    Input(ids.CASES_WINDOW, "value"),
    Input(ids.CASES_OVERDUE, "value"),
    State(ids.CASES_LANG, "data"),
)
