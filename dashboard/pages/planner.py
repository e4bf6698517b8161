"""网格规划 (the planner's page): redraw one community's grids on whole buildings.

Planners and the county edit; township leaders see their own township's versions read-only.
The edit state lives in the browser (``assets/planner.js``): the assignment, per-grid tallies,
contiguity over the building adjacency shipped with the community, undo/redo and the
localStorage autosave; a move never waits for the server. The server is asked by the ``act``
callback, with a request the page's buttons build in the browser (``op``: save, split, rerun,
publish, restore, relocate, diff, and split-line, sent by the line tool);
its answer may carry moves for the browser to apply (split, split-line, re-run), buildings to
highlight and to mark as mismatches of the compared version with a legend (diff) or a version
to load (save, restore). The unsaved moves go to the server every 5 s through a callback of
their own (``autosave``): sharing ``act`` made each tick supersede the answer of a click still
in flight (a diff or a save seemed to do nothing).
"""

from __future__ import annotations

import json

import dash
import dash_leaflet as dl
import shapely
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html
from dash_extensions.javascript import Namespace
from flask import current_app

from dashboard import ids
from dashboard.auth import current_principal, current_scope, may_open_page, page_callback
from dashboard.components.geojson import display_bounds, fitted_view, geojson
from dashboard.components.header import header, message_page
from dashboard.i18n import normalise_lang, page_title, t
from wangge.access import Action, may
from wangge.services import planner
from wangge.services.planner_diff import diff_versions, overlap_matrix, version_rows
from wangge.services.planner_lines import line_split_moves
from wangge.store import StoreError

dash.register_page(__name__, path="/planner", name="planner", title=page_title("nav.planner"))

js = Namespace("wangge", "planner")

#: The buttons whose clicks become requests, in the order of the clientside function's inputs.
BUTTONS = (
    ids.PLANNER_SAVE,
    ids.PLANNER_SPLIT,
    ids.PLANNER_RERUN,
    ids.PLANNER_PUBLISH,
    ids.PLANNER_RESTORE,
    ids.PLANNER_RELOCATE,
    ids.PLANNER_DIFF,
    ids.PLANNER_UNDO,
    ids.PLANNER_REDO,
    ids.PLANNER_NEW_GRID,
    ids.PLANNER_MERGE,
)

_JS_TEXT = ("households", "over", "under", "noncontiguous", "empty", "lock", "need_target")


def _store():
    return current_app.config["WANGGE_STORE"]


def _may_edit() -> bool:
    return may(current_principal(), Action.EDIT_GRIDS)


def _version_options(lang: str, community: str | None = None) -> list[dict]:
    rows = version_rows(_store(), scope=current_scope(), community=community)
    out = []
    for v in rows:
        mark = " ✎" if v["touches_community"] else ""
        status = t(f"planner.status.{v['status']}", lang)
        label = f"v{v['id']} {status} {v['created_at'][:16]} {v['author']} {v['comment']}"[:90]
        out.append({"label": label + mark, "value": v["id"]})
    return out


def _button(component_id: str, key: str, lang: str, editable: bool, **props) -> html.Button:
    return html.Button(
        t(key, lang), id=component_id, n_clicks=0, disabled=not editable, className="btn", **props
    )


def _tools(lang: str, editable: bool) -> html.Div:
    """Editing tools: undo, redo, new grid, merge, split, re-run, save with comment and reason."""
    return html.Div(
        className="planner-tools",
        children=[
            html.Div(
                [
                    html.Span(t("planner.target", lang) + ": "),
                    html.B("-", id="planner-target"),
                ]
            ),
            html.Div(
                [
                    _button(ids.PLANNER_UNDO, "planner.undo", lang, editable),
                    _button(ids.PLANNER_REDO, "planner.redo", lang, editable),
                    _button(ids.PLANNER_NEW_GRID, "planner.new_grid", lang, editable),
                    _button(ids.PLANNER_MERGE, "planner.merge", lang, editable),
                    _button(ids.PLANNER_SPLIT, "planner.split", lang, editable),
                    dcc.Input(id=ids.PLANNER_PARTS, type="number", min=2, max=20, value=2),
                    html.Span(t("planner.parts", lang)),
                    _button(ids.PLANNER_RERUN, "planner.rerun", lang, editable),
                ],
                className="planner-row",
            ),
            html.Div(  # drawing modes, handled in assets/planner.js (no server callback)
                [
                    html.Button(
                        t(f"planner.{mode}", lang),
                        id=f"planner-{mode}",
                        disabled=not editable,
                        className="btn planner-mode",
                    )
                    for mode in ("lasso", "line")
                ],
                className="planner-row",
            ),
            html.Div(
                [
                    dcc.Input(id=ids.PLANNER_COMMENT, placeholder=t("planner.comment", lang)),
                    dcc.Input(id=ids.PLANNER_REASON, placeholder=t("planner.reason", lang)),
                    _button(ids.PLANNER_SAVE, "planner.save", lang, editable),
                ],
                className="planner-row",
            ),
        ],
    )


def _grid_table(lang: str) -> html.Table:
    heads = ["", "planner.grid", "planner.col.households", "planner.col.buildings"]
    heads += ["planner.col.flags", "planner.col.lock"]
    return html.Table(
        className="planner-table",
        children=[
            html.Thead(html.Tr([html.Th(t(k, lang) if k else "") for k in heads])),
            html.Tbody(id="planner-tallies"),
        ],
    )


def _versions(lang: str, editable: bool) -> html.Div:
    """History of versions: pick one to diff with, publish or restore; relocate open cases."""
    return html.Div(
        className="planner-versions",
        children=[
            html.H4(t("planner.history", lang)),
            dcc.Dropdown(id=ids.PLANNER_PICK, placeholder=t("planner.pick", lang)),
            html.Div(
                [
                    html.Button(t("planner.diff", lang), id=ids.PLANNER_DIFF, n_clicks=0),
                    _button(ids.PLANNER_PUBLISH, "planner.publish", lang, editable),
                    _button(ids.PLANNER_RESTORE, "planner.restore", lang, editable),
                    _button(ids.PLANNER_RELOCATE, "planner.relocate", lang, editable),
                ],
                className="planner-row",
            ),
            html.Div(id=ids.PLANNER_MESSAGE, className="planner-message"),
        ],
    )


def _map(county) -> dl.Map:
    return dl.Map(
        id=ids.PLANNER_MAP,
        **fitted_view(*county.total_bounds, width=900, height=760),
        preferCanvas=True,
        maxZoom=20,
        className="planner-map",
        eventHandlers={"load": js("mapReady")},
        children=[
            geojson(url="/api/v1/layers/roads.geojson", style={"color": "#c9b99a", "weight": 1.5}),
            geojson(id=ids.PLANNER_BUILDINGS, style=js("style"), onEachFeature=js("bind")),
            geojson(id=ids.PLANNER_GRIDS, style=js("gridStyle"), onEachFeature=js("gridLabel")),
        ],
    )


def layout(lang: str | None = None, community: str | None = None, **_query) -> html.Div:
    lang = normalise_lang(lang, current_app.config["WANGGE_SETTINGS"].lang)
    if not may_open_page("/planner"):
        return message_page(lang, "/planner", "error.forbidden")
    scope = current_scope()
    townships = _store().admin_units("township", scope=scope)
    county = current_app.config["WANGGE_LAYERS"].county(scope=scope)
    if len(county) == 0 or townships.empty:
        return message_page(lang, "/planner", "error.not_ready")
    editable = _may_edit()
    wanted = community if scope.contains(community) else None
    text = {k: t(f"planner.{k}", lang) for k in _JS_TEXT}
    side = [
        html.Div(t("planner.help" if editable else "planner.readonly", lang), className="muted"),
        html.Div(t("planner.help_tools", lang), className="muted", hidden=not editable),
        html.Div(id=ids.PLANNER_HEAD, className="planner-head"),
        html.Div(_tools(lang, editable), hidden=not editable),
        _grid_table(lang),
        html.Ul(id="planner-legend", className="planner-legend", hidden=True),
        html.H4(t("planner.violations", lang)),
        html.Ul(id="planner-violations", className="planner-violations"),
        _versions(lang, editable),
    ]
    pick = [
        dcc.Dropdown(
            id=ids.PLANNER_TOWNSHIP,
            options=[{"label": n, "value": c} for c, n in townships[["code", "name"]].to_numpy()],
            value=townships["code"].iloc[0],
            clearable=False,
        ),
        dcc.Dropdown(id=ids.PLANNER_COMMUNITY, placeholder=t("planner.pick_community", lang)),
        dcc.Dropdown(id=ids.PLANNER_VERSION, clearable=False),
    ]
    return html.Div(
        className="page page-planner",
        children=[
            header(lang, "/planner"),
            dcc.Store(id=ids.PLANNER_EDITABLE, data=editable),
            dcc.Store(id=ids.PLANNER_TEXT, data=text | {"lang": lang, "community": wanted}),
            dcc.Store(id=ids.PLANNER_STATE),
            dcc.Store(id=ids.PLANNER_READY),
            dcc.Store(id=ids.PLANNER_REQUEST),
            dcc.Store(id=ids.PLANNER_ANSWER),
            dcc.Interval(id=ids.PLANNER_TICK, interval=5000, disabled=not editable),
            dcc.Store(id=ids.PLANNER_AUTOSAVE),
            dcc.Store(id=ids.PLANNER_AUTOSAVED),
            html.Div(pick, className="planner-pick"),
            html.Div(
                [_map(county), html.Div(side, className="planner-side")], className="planner-body"
            ),
        ],
    )


# -- server callbacks ----------------------------------------------------------------------------


@callback(
    Output(ids.PLANNER_COMMUNITY, "options"),
    Output(ids.PLANNER_COMMUNITY, "value"),
    Output(ids.PLANNER_VERSION, "options"),
    Output(ids.PLANNER_VERSION, "value"),
    Input(ids.PLANNER_TOWNSHIP, "value"),
    State(ids.PLANNER_TEXT, "data"),
)
@page_callback("/planner")
def pick_township(township, text):
    """The township's communities (inside the principal's scope) and the versions."""
    scope = current_scope()
    if not scope.contains(township):  # another township's: nothing of it
        return [], None, dash.no_update, dash.no_update
    units = _store().admin_units("community", parent_code=township, scope=scope)
    options = [{"label": f"{n} ({c})", "value": c} for c, n in units[["code", "name"]].to_numpy()]
    wanted = (text or {}).get("community")
    value = wanted if wanted in set(units["code"]) else (options[0]["value"] if options else None)
    lang = normalise_lang((text or {}).get("lang"))
    return options, value, _version_options(lang), _store().published_grid_version()


def community_payload(community: str, version: int, lang: str) -> tuple:
    """The community's state for the browser, its buildings and grids as GeoJSON, a heading
    and the map's viewport fitted to the community."""
    store = _store()
    state = planner.community_state(store, version, community)
    principal = current_principal()
    state["autosave"] = store.autosave(principal.name, community) if _may_edit() else None
    buildings = store.community_buildings(community)
    features = [
        {"type": "Feature", "id": b, "properties": {"i": i, "id": b}, "geometry": g}
        for i, (b, g) in enumerate(
            zip(
                buildings["building_id"],
                map(shapely.geometry.mapping, buildings.geometry),
                strict=True,
            )
        )
    ]
    grids = store.grids(version, scope=current_scope())
    grids = grids[grids["community_code"] == community]
    grids = grids.assign(
        label=grids["grid_code"].str[12:] + " · " + grids["households"].astype(str)
    )
    info = store.grid_version_info(version)
    head = f"{t('planner.version', lang)}: v{version} · {t('planner.parent', lang)}: " + (
        f"v{info['parent_id']}" if info["parent_id"] else "-"
    )
    gj = json.loads(grids[["grid_code", "label", "geometry"]].to_json(drop_id=True))
    # a viewport, not the map's bounds: dash-leaflet reads ``bounds`` when it makes the map
    # only, and the page opened on the whole county with the community a speck at its centre
    view = {"bounds": display_bounds(*buildings.total_bounds), "transition": "fitBounds"}
    return state, {"type": "FeatureCollection", "features": features}, gj, head, view


@callback(
    Output(ids.PLANNER_STATE, "data"),
    Output(ids.PLANNER_BUILDINGS, "data"),
    Output(ids.PLANNER_GRIDS, "data"),
    Output(ids.PLANNER_HEAD, "children"),
    Output(ids.PLANNER_MAP, "viewport"),
    Output(ids.PLANNER_PICK, "options"),
    Input(ids.PLANNER_COMMUNITY, "value"),
    Input(ids.PLANNER_VERSION, "value"),
    State(ids.PLANNER_TEXT, "data"),
)
@page_callback("/planner")
def load_community(community, version, text):
    """A community of a version picked: what the browser edits."""
    nothing = (None, None, None, "", dash.no_update, dash.no_update)
    if not community or version is None or not current_scope().contains(community):
        return nothing
    lang = normalise_lang((text or {}).get("lang"))
    try:
        payload = community_payload(str(community), int(version), lang)
    except StoreError as exc:
        error = t("planner.error", lang, detail=str(exc))
        return None, None, None, error, dash.no_update, dash.no_update
    return *payload, _version_options(lang, str(community))


def _save(store, req: dict, user: str, lang: str) -> dict:
    if req.get("violations") and not str(req.get("reason") or "").strip():
        return {"message": t("planner.need_reason", lang, n=req["violations"])}
    out = planner.save_draft(
        store,
        int(req["version"]),
        req.get("moves") or [],
        comment=str(req.get("comment") or ""),
        author=user,
        reason=str(req.get("reason") or ""),
    )
    store.put_autosave(user, req["community"], int(req["version"]), [])
    n = len(out["violations"])
    msg = t("planner.saved", lang, id=out["id"], moved=out["moved"], violations=n)
    return {"message": msg, "saved": True, "load": out["id"], "versions": True}


def _diff(store, req: dict, lang: str) -> dict:
    d = diff_versions(store, int(req["version"]), int(req["picked"]), scope=current_scope())
    # 多网合一: the picked version as the compared layer, its mismatches drawn on the map
    m = overlap_matrix(store, int(req["version"]), int(req["picked"]), str(req["community"]))
    title = t(
        "planner.diff_title",
        lang,
        a=d["against"],
        b=d["version"],
        n=len(d["moved"]),
        hh=d["households_moved"],
    )
    rows = [
        html.Li(f"{p['from'] or '-'} → {p['to'] or '-'}: {p['buildings']} / {p['households']}")
        for p in d["pairs"]
    ]
    extra = [
        html.Div(f"{t(f'planner.diff_{k}', lang)}: {', '.join(d[k]) or '-'}")
        for k in ("added", "removed", "changed")
    ]
    return {
        "html": [
            html.B(title),
            html.Div(t("planner.moves", lang)),
            html.Ul(rows, className="planner-diff"),
            *extra,
            _overlap(m, req, lang),
        ],
        "highlight": [m["building"] for m in d["moved"]],
        "mismatched": m["mismatched"],
        "legend": [
            {"kind": "moved", "text": t("planner.legend_moved", lang), "n": len(d["moved"])},
            {
                "kind": "mismatch",
                "text": t("planner.legend_mismatch", lang, v=req["picked"]),
                "n": len(m["mismatched"]),
            },
        ],
    }


def _overlap(m: dict, req: dict, lang: str) -> html.Div:
    """The household overlap ``m`` of this version's grids (rows) with the picked one's
    (columns)."""
    corner = html.Th(f"v{req['version']} / v{req['picked']}")
    head = html.Tr([corner] + [html.Th(c[12:]) for c in m["columns"]])
    body = [
        html.Tr([html.Th(r[12:])] + [html.Td(v or "") for v in row])
        for r, row in zip(m["rows"], m["households"], strict=True)
    ]
    title = html.Div(t("planner.overlap", lang, n=len(m["mismatched"])))
    return html.Div([title, html.Table([head, *body], className="planner-table")])


def _publish(store, req: dict, user: str, lang: str) -> dict:
    try:
        planner.publish(store, int(req["picked"]), actor=user, reason=str(req.get("reason") or ""))
    except planner.PlannerError as exc:
        if "reason" in exc.fields:
            return {"message": t("planner.publish_reason", lang, id=req["picked"])}
        raise
    return {"message": t("planner.published", lang, id=req["picked"]), "versions": True}


def run_request(req: dict, lang: str) -> dict:
    """Do one request of the page (see the module docstring); the answer for the browser."""
    store, op = _store(), req.get("op")
    user = current_principal().name
    if op == "diff":
        return _diff(store, req, lang)
    if not _may_edit():
        return {"message": t("error.forbidden", lang)}
    if op == "save":
        return _save(store, req, user, lang)
    if op == "split":
        current = planner.current_assignment(
            store, int(req["version"]), req.get("moves") or [], req["community"]
        )
        return {
            "moves": planner.split_moves(
                store, int(req["version"]), str(req["grid"]), int(req["parts"]), current=current
            )
        }
    if op == "split-line":
        current = planner.current_assignment(
            store, int(req["version"]), req.get("moves") or [], req["community"]
        )
        line = line_split_moves(store, str(req["grid"]), req["line"], current, req["community"])
        return {"moves": line}
    if op == "rerun":
        moves = planner.rerun_moves(
            store, int(req["version"]), req["community"], req.get("locked") or [], req.get("moves")
        )
        return {"moves": moves, "reset": True}
    if op == "publish":
        return _publish(store, req, user, lang)
    if op == "restore":
        out = planner.restore(store, int(req["picked"]), author=user)
        return {
            "message": t("planner.restored", lang, id=out["id"]),
            "load": out["id"],
            "versions": True,
        }
    if op == "relocate":
        out = planner.relocate_open_cases(store, actor=user)
        return {"message": t("planner.relocated", lang, n=out["relocated"], m=out["changed_grid"])}
    raise dash.exceptions.PreventUpdate


@callback(
    Output(ids.PLANNER_ANSWER, "data"),
    Output(ids.PLANNER_MESSAGE, "children"),
    Output(ids.PLANNER_VERSION, "options", allow_duplicate=True),
    Input(ids.PLANNER_REQUEST, "data"),
    State(ids.PLANNER_TEXT, "data"),
    prevent_initial_call=True,
)
@page_callback("/planner")
def act(req, text):
    """A request from the page's buttons (built in the browser): its answer and message."""
    lang = normalise_lang((text or {}).get("lang"))
    if not isinstance(req, dict) or not current_scope().contains(req.get("community")):
        return dash.no_update, t("error.forbidden", lang), dash.no_update
    if req.get("op") in ("publish", "restore", "diff") and req.get("picked") is None:
        return dash.no_update, t("planner.no_pick", lang), dash.no_update
    try:
        answer = run_request(req, lang)
    except (planner.PlannerError, StoreError, KeyError, ValueError, TypeError) as exc:
        return dash.no_update, t("planner.error", lang, detail=str(exc)), dash.no_update
    message = answer.pop("html", None) or answer.get("message") or dash.no_update
    options = _version_options(lang, req["community"]) if answer.get("versions") else dash.no_update
    return answer, message, options


@callback(
    Output(ids.PLANNER_AUTOSAVED, "data"),
    Input(ids.PLANNER_AUTOSAVE, "data"),
    prevent_initial_call=True,
)
@page_callback("/planner")
def autosave(req):
    """Keep the unsaved moves of the signed-in planner (``{community, version, moves}``); the
    number of moves kept, None when nothing was kept (not an editor, another township's
    community, a malformed request)."""
    if not isinstance(req, dict) or not current_scope().contains(req.get("community")):
        return None
    if not _may_edit() or not isinstance(req.get("moves"), list):
        return None
    try:
        version = int(req["version"])
    except (KeyError, TypeError, ValueError):
        return None
    _store().put_autosave(current_principal().name, str(req["community"]), version, req["moves"])
    return len(req["moves"])


# -- clientside callbacks (assets/planner.js) ----------------------------------------------------

clientside_callback(
    ClientsideFunction(namespace="wangge_planner", function_name="init"),
    Output(ids.PLANNER_READY, "data"),
    Input(ids.PLANNER_STATE, "data"),
    State(ids.PLANNER_EDITABLE, "data"),
    State(ids.PLANNER_TEXT, "data"),
)

clientside_callback(
    ClientsideFunction(namespace="wangge_planner", function_name="request"),
    Output(ids.PLANNER_REQUEST, "data"),
    *[Input(b, "n_clicks") for b in BUTTONS],
    State(ids.PLANNER_COMMENT, "value"),
    State(ids.PLANNER_REASON, "value"),
    State(ids.PLANNER_PARTS, "value"),
    State(ids.PLANNER_PICK, "value"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="wangge_planner", function_name="autosave"),
    Output(ids.PLANNER_AUTOSAVE, "data"),
    Input(ids.PLANNER_TICK, "n_intervals"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="wangge_planner", function_name="respond"),
    Output(ids.PLANNER_VERSION, "value", allow_duplicate=True),
    Input(ids.PLANNER_ANSWER, "data"),
    prevent_initial_call=True,
)
