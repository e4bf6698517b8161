"""事件列表 (case list): the command centre's desk. Cases filtered, searched and sorted on the
server, page by page; a case's card beside the map, with the actions the user may take on it.

The grid uses AG Grid's infinite row model, so only the rows in view travel (200,000 cases stay
in the store). The views (全部, 在办, 超期未结, 今日上报, 紧急) are the store's
(:data:`wangge.store.filters.VIEWS`), defined with the wall's KPIs, so the open-overdue view
lists exactly the wall's 超期未结. Filters live in the URL (``?view=...&status=a,b&q=...``),
written back with ``history.replaceState`` so a link can be shared without reloading the page.
The filtered list exports to CSV and Excel (reporters' names and phones masked, as on screen).

Clicking a case flies the map to it and shows its card (:mod:`dashboard.components.case_detail`).
Its buttons move the case along its lifecycle (or urge it, 督办, or mark an urgent case seen)
through the store's case rules, under the signed-in user's name and in their scope; the action
carries the case's version, so a change made meanwhile by someone else is refused and the card
says who made it. The changed row is updated in place in the grid (no reload of the list).
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_leaflet as dl
import pandas as pd
from dash import (
    ALL,
    MATCH,
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    dcc,
    html,
)
from dash.exceptions import PreventUpdate
from flask import current_app

from dashboard import ids
from dashboard.auth import current_scope, may_open_page, page_callback
from dashboard.components.case_detail import (
    card_frame,
    card_id,
    case_marker,
)
from dashboard.components.geojson import display_point, fitted_view, geojson
from dashboard.components.header import header, message_page
from dashboard.desk import case_row, desk_card, perform_action, unit_names
from dashboard.i18n import normalise_lang, page_title, t
from wangge import clock
from wangge.casework import (
    CATEGORIES,
    STATUSES,
)
from wangge.services.metrics import WINDOWS, window_since
from wangge.store.filters import VIEWS

dash.register_page(__name__, path="/cases", name="cases", title=page_title("nav.cases"))

SORTABLE = {"reported_at", "deadline_at", "category", "status", "level", "case_id"}

#: The desk's views: everything (in the chosen window), or one of the store's views.
VIEW_KEYS = ("all", *VIEWS)

#: Most rows one export writes (the rest are left out, and the file name says so).
EXPORT_LIMIT = 50_000


def _options(values, prefix: str, lang: str) -> list[dict]:
    return [{"label": t(f"{prefix}.{v}", lang), "value": v} for v in values]


def _columns(lang: str) -> list[dict]:
    """The grid's columns, wide enough for their content in ``lang`` (English categories and
    statuses are longer; times are ``YYYY-MM-DD HH:MM``)."""
    en = lang == "en"

    def col(field: str, key: str, **extra) -> dict:
        return {"field": field, "headerName": t(key, lang), "sortable": field in SORTABLE, **extra}

    return [
        col("case_id", "cases.col.case_id", width=160, pinned="left"),
        col("urgency_label", "cases.col.urgency", width=95 if en else 90, colId="urgency"),
        col("reported_local", "cases.col.reported", width=160, sortable=True, colId="reported_at"),
        col("category_label", "cases.col.category", width=170 if en else 110, colId="category"),
        col("status_label", "cases.col.status", width=120 if en else 105, colId="status"),
        col("level_label", "cases.col.level", width=110 if en else 80, colId="level"),
        col("township_name", "cases.col.township", width=110),
        col("community_name", "cases.col.community", width=120),
        col("grid_code", "cases.col.grid", width=160),
        col("address", "cases.col.address", width=180),
        col("deadline_local", "cases.col.deadline", width=160, sortable=True, colId="deadline_at"),
        col("overdue_label", "cases.col.overdue", width=90),
        col("assignee_label", "cases.col.assignee", width=150),
        col("title", "cases.col.title", flex=1, minWidth=160),
        col("reporter_name", "cases.col.reporter", width=100),
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
        rowClassRules={
            "overdue-row": "params.data && params.data.overdue",
            "urgent-row": "params.data && params.data.urgency === 'urgent'",
        },
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


def _url_filters(
    view=None, status=None, category=None, township=None, window=None, q=None, overdue=None
) -> dict:
    """The URL's filters, checked: unknown values fall back to none (the old ``overdue=1``
    is the open-overdue view)."""
    statuses = [s for s in (status or "").split(",") if s in STATUSES]
    view = view if view in VIEW_KEYS else ("open_overdue" if overdue == "1" else "all")
    return {
        "view": view,
        "status": statuses,
        "category": category if category in CATEGORIES else None,
        "township": township,
        "window": window if window in WINDOWS else "30d",
        "q": (q or "")[:100],
    }


def _filter_bar(townships, query: dict, lang: str) -> html.Div:
    """The views, filters, search and export, set from the URL's ``query``."""
    pairs = zip(townships["code"], townships["name"], strict=True)
    township = query["township"] if query["township"] in set(townships["code"]) else None
    return html.Div(
        className="cases-filters",
        children=[
            dcc.RadioItems(
                id=ids.CASES_VIEW,
                options=_options(VIEW_KEYS, "cases.view", lang),
                value=query["view"],
                className="cases-views",
                inline=True,
            ),
            dcc.Input(
                id=ids.CASES_SEARCH,
                type="search",
                value=query["q"],
                placeholder=t("cases.search", lang),
                debounce=True,
                className="cases-search",
            ),
            dcc.Dropdown(
                id=ids.CASES_STATUS,
                options=_options(STATUSES, "status", lang),
                value=query["status"],
                placeholder=t("cases.filter.status", lang),
                multi=True,
                className="cases-status-filter",
            ),
            dcc.Dropdown(
                id=ids.CASES_CATEGORY,
                options=_options(CATEGORIES, "category", lang),
                value=query["category"],
                placeholder=t("cases.filter.category", lang),
            ),
            dcc.Dropdown(
                id=ids.CASES_TOWNSHIP,
                options=[{"label": n, "value": c} for c, n in pairs],
                value=township,
                placeholder=t("cases.filter.township", lang),
            ),
            dcc.Dropdown(
                id=ids.CASES_WINDOW,
                options=_options(WINDOWS, "window", lang),
                value=query["window"],
                clearable=False,
            ),
            html.Span(id=ids.CASES_COUNT, className="cases-count"),
            html.Button(t("cases.export.csv", lang), id=ids.CASES_EXPORT_CSV, n_clicks=0),
            html.Button(t("cases.export.xlsx", lang), id=ids.CASES_EXPORT_XLSX, n_clicks=0),
            dcc.Download(id=ids.CASES_DOWNLOAD),
        ],
    )


def _side(county, lang: str) -> html.Div:
    """The small map (communities, streets, the case shown) and the case's card."""
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
    view: str | None = None,
    status: str | None = None,
    category: str | None = None,
    township: str | None = None,
    window: str | None = None,
    q: str | None = None,
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
    query = _url_filters(view, status, category, township, window, q, overdue)
    return html.Div(
        className="page page-cases",
        children=[
            header(lang, "/cases"),
            dcc.Store(id=ids.CASES_LANG, data=lang),
            dcc.Store(id=ids.CASES_URL_SYNC),
            dcc.Store(id=ids.CASES_ROW_SYNC),
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


def _filter_group(kind) -> dict:
    """The filter components as one dict of ``kind`` (Input or State) for a callback."""
    return {
        "view": kind(ids.CASES_VIEW, "value"),
        "status": kind(ids.CASES_STATUS, "value"),
        "category": kind(ids.CASES_CATEGORY, "value"),
        "township": kind(ids.CASES_TOWNSHIP, "value"),
        "window": kind(ids.CASES_WINDOW, "value"),
        "q": kind(ids.CASES_SEARCH, "value"),
    }


def desk_filters(chosen: dict | None) -> dict:
    """The store's filters of the desk's ``chosen`` filters (view, status list, category,
    township, window, search). The window narrows the 全部 and 紧急 views only: the others are
    states at this instant (open, open overdue) or a window of their own (today)."""
    chosen = chosen or {}
    filters: dict = {}
    view = chosen.get("view")
    if view in VIEWS:
        filters["view"] = view
    statuses = [s for s in chosen.get("status") or [] if s in STATUSES]
    if statuses:
        filters["status"] = statuses
    if chosen.get("category"):
        filters["category"] = chosen["category"]
    if chosen.get("township"):
        filters["township_code"] = chosen["township"]
    if view in (None, "all", "urgent"):
        since = window_since(chosen.get("window"), "30d")
        if since:
            filters["since"] = since
    if (chosen.get("q") or "").strip():
        filters["q"] = chosen["q"].strip()
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


def rows_for(request: object, chosen: dict | None, lang: str) -> dict:
    """One block of rows for AG Grid's infinite model: {rowData, rowCount}."""
    start, end, order_by, descending = row_request(request)
    store = current_app.config["WANGGE_STORE"]
    scope = current_scope()
    items, total = store.list_cases(
        scope=scope,
        filters=desk_filters(chosen),
        limit=max(1, min(500, end - start)),
        offset=start,
        order_by=order_by,
        descending=descending,
    )
    names = unit_names(store, scope)
    return {"rowData": [case_row(c, names, lang) for c in items], "rowCount": total}


def export_frame(chosen: dict | None, lang: str) -> pd.DataFrame:
    """The filtered list (at most :data:`EXPORT_LIMIT` rows, newest first) as the grid shows
    it: translated headers, personal data masked."""
    store = current_app.config["WANGGE_STORE"]
    scope = current_scope()
    items, _ = store.list_cases(scope=scope, filters=desk_filters(chosen), limit=EXPORT_LIMIT)
    names = unit_names(store, scope)
    columns = _columns(lang)
    rows = [case_row(c, names, lang) for c in items]
    frame = pd.DataFrame(rows, columns=[c["field"] for c in columns])
    return frame.rename(columns={c["field"]: c["headerName"] for c in columns})


@callback(
    Output(ids.CASES_GRID, "getRowsResponse"),
    inputs={
        "request": Input(ids.CASES_GRID, "getRowsRequest"),
        "chosen": _filter_group(State),
        "lang": State(ids.CASES_LANG, "data"),
    },
)
@page_callback("/cases")
def get_rows(request, chosen, lang):
    return rows_for(request, chosen, normalise_lang(lang))


@callback(
    Output(ids.CASES_GRID_WRAP, "children"),
    Output(ids.CASES_COUNT, "children"),
    Output(ids.CASES_WINDOW, "disabled"),
    inputs={"chosen": _filter_group(Input), "lang": State(ids.CASES_LANG, "data")},
)
@page_callback("/cases")
def refilter(chosen, lang):
    """Filters set or changed: a new grid, and the number of matching cases (the window
    dropdown is off for views that are states at this instant)."""
    lang = normalise_lang(lang)
    store = current_app.config["WANGGE_STORE"]
    _, total = store.list_cases(scope=current_scope(), filters=desk_filters(chosen), limit=1)
    windowed = (chosen or {}).get("view") in (None, "all", "urgent")
    return case_grid(lang), t("cases.count", lang, n=f"{total:,}"), not windowed


@callback(
    Output(ids.CASES_DOWNLOAD, "data"),
    inputs={
        "csv_clicks": Input(ids.CASES_EXPORT_CSV, "n_clicks"),
        "xlsx_clicks": Input(ids.CASES_EXPORT_XLSX, "n_clicks"),
        "chosen": _filter_group(State),
        "lang": State(ids.CASES_LANG, "data"),
    },
    prevent_initial_call=True,
)
@page_callback("/cases")
def export_cases(csv_clicks, xlsx_clicks, chosen, lang):
    """The filtered list as a CSV (UTF-8 with a byte-order mark, for Excel) or Excel file."""
    if not (csv_clicks or xlsx_clicks):
        raise PreventUpdate
    lang = normalise_lang(lang)
    frame = export_frame(chosen, lang)
    name = f"{t('cases.export.file', lang)}-{clock.local_now():%Y%m%d-%H%M}"
    if ctx.triggered_id == ids.CASES_EXPORT_XLSX:
        return dcc.send_data_frame(frame.to_excel, f"{name}.xlsx", index=False)
    return dcc.send_data_frame(frame.to_csv, f"{name}.csv", index=False, encoding="utf-8-sig")


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
    """The clicked case's card; the map flies to it."""
    lang = normalise_lang(lang)
    if not selected:
        return html.Div(t("cases.pick", lang), className="muted"), [], dash.no_update
    case_id = (selected[0] or {}).get("case_id") if isinstance(selected[0], dict) else None
    case = current_app.config["WANGGE_STORE"].get_case(str(case_id), scope=current_scope())
    if case is None:
        return html.Div(t("cases.gone", lang), className="muted"), [], dash.no_update
    lon, lat = display_point(case["lon"], case["lat"])
    viewport = {"center": [lat, lon], "zoom": 17, "transition": "flyTo"}
    card = card_frame(desk_card(case["case_id"], lang, where="cases"), where="cases")
    return card, [case_marker(lat, lon)], viewport


@callback(
    Output(card_id(ids.CASE_CARD, MATCH), "children"),
    Output(card_id(ids.CASE_CARD_ROW, MATCH), "data"),
    Input({"type": ids.CASE_ACT, "where": MATCH, "action": ALL}, "n_clicks"),
    State(card_id(ids.CASE_ACT_COMMENT, MATCH), "value"),
    State(card_id(ids.CASE_ACT_ASSIGNEE, MATCH), "value"),
    State(card_id(ids.CASE_ACT_STATE, MATCH), "data"),
    prevent_initial_call=True,
)
@page_callback("/cases")
def act(clicks, comment, assignee, state):
    """A button of a case's card (here or on the map): do its action, refill the card with
    the case as it is now and the outcome; the changed row goes to the grid."""
    trigger = ctx.triggered_id
    if not any(clicks or []) or not isinstance(trigger, dict) or not isinstance(state, dict):
        raise PreventUpdate
    case, message = perform_action(trigger["action"], state, comment, assignee)
    lang = normalise_lang(state.get("lang"))
    if case is None:
        return [message], dash.no_update
    card = desk_card(case["case_id"], lang, where=trigger["where"], message=message)
    names = unit_names(current_app.config["WANGGE_STORE"], current_scope())
    return card, case_row(case, names, lang)


clientside_callback(
    ClientsideFunction(namespace="wangge_desk", function_name="syncUrl"),
    Output(ids.CASES_URL_SYNC, "data"),
    *_filter_group(Input).values(),
    State(ids.CASES_LANG, "data"),
)

clientside_callback(
    ClientsideFunction(namespace="wangge_desk", function_name="updateRow"),
    Output(ids.CASES_ROW_SYNC, "data"),
    Input(card_id(ids.CASE_CARD_ROW, "cases"), "data"),
    prevent_initial_call=True,
)
