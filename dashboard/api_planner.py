"""The grid-version routes of ``/api/v1`` (the planner's API), on the API blueprint.

Registered on :data:`dashboard.api.blueprint` when this module is imported (by
:func:`dashboard.app.create_app`). Planners and the county write (:attr:`Action.EDIT_GRIDS`);
township leaders read versions, diffs and exports of their own township
(:attr:`Action.READ_GRID_VERSIONS`); everyone else gets 403. Errors are JSON ``{"error",
"detail"}`` (422 adds ``fields``), like the rest of the API.
"""

from __future__ import annotations

import re

from flask import Response, current_app, g, jsonify, request

import wangge.services.atlas  # noqa: F401  (registers the pdf and html exporters)
from dashboard.api import blueprint, requires
from wangge.access import Action
from wangge.services import planner
from wangge.services.planner_diff import diff_versions, version_rows
from wangge.services.planner_export import export_version
from wangge.services.planner_lines import with_line_split
from wangge.store import Store, StoreError

__all__ = [
    "audit",
    "create_version",
    "export",
    "list_versions",
    "publish_version",
    "relocate",
    "restore_version",
    "version_diff",
]

#: Formats made one community at a time over HTTP (a county's atlas is hundreds of pages:
#: `wangge grids export --format pdf` makes it offline).
PER_COMMUNITY = ("pdf", "html")

#: Most moves in one request.
MAX_MOVES = 50_000


def _store() -> Store:
    return current_app.config["WANGGE_STORE"]


def _answer(status: int, error: str, detail: str, fields: dict | None = None) -> Response:
    body: dict = {"error": error, "detail": detail}
    if fields:
        body["fields"] = fields
    resp = jsonify(body)
    resp.status_code = status
    return resp


def _failed(exc: Exception) -> Response:
    """A planner or store error as its answer: 404 for what does not exist, else 422."""
    if isinstance(exc, planner.PlannerError):
        return _answer(422, "invalid", str(exc), exc.fields)
    if "does not exist" in str(exc) or "no grids of version" in str(exc):
        return _answer(404, "not_found", str(exc))
    # the store's message starts with the field it refused ("format 'x': expected ...")
    first = str(exc).split(" ", 1)[0].rstrip(":")
    field = first if first in request.args else "body"
    return _answer(422, "invalid", str(exc), {field: str(exc)})


def _body() -> dict | Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _answer(422, "invalid", "expected a JSON object", {"body": "a JSON object"})
    return body


#: A version id as a path or query takes it: ASCII digits, within SQLite's integers.
_VERSION = re.compile(r"[0-9]{1,15}")


def _version(text: str) -> int | Response:
    """``text`` as a version id, or the 404 of a version that cannot exist (``abc``, ``-1``,
    a number past SQLite's integers)."""
    if not _VERSION.fullmatch(text):
        return _answer(404, "not_found", f"grid version {text[:40]!r} does not exist")
    return int(text)


def _version_request(version_id: str, *names: str) -> int | Response:
    """The version id of a route on one version whose query takes ``names``, or the answer
    refusing it (:func:`_unknown_args`, then :func:`_version`)."""
    refused = _unknown_args(*names)
    return refused if refused is not None else _version(version_id)


def _unknown_args(*names: str) -> Response | None:
    """422 naming every query parameter that is not one of ``names`` (a typo must not pass)."""
    unknown = sorted(set(request.args) - set(names))
    if not unknown:
        return None
    fields = {n[:40]: f"unknown query parameter; expected one of {list(names)}" for n in unknown}
    return _answer(422, "invalid", "unknown query parameter", fields)


def _int_field(body: dict, name: str) -> int | Response:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**15:
        return _answer(422, "invalid", f"{name}: expected a version id", {name: "an integer"})
    return value


@blueprint.get("/grid-versions")
@requires(Action.READ_GRID_VERSIONS)
def list_versions() -> Response:
    """Every grid version, newest first (with ``community``: whether each changed it)."""
    refused = _unknown_args("community")
    if refused is not None:
        return refused
    community = request.args.get("community") or None
    if community is not None and not g.principal.scope.contains(community):
        return _answer(404, "not_found", f"community {community}: not in your scope")
    return jsonify({"items": version_rows(_store(), scope=g.principal.scope, community=community)})


@blueprint.post("/grid-versions")
@requires(Action.EDIT_GRIDS)
def create_version() -> Response:
    """A draft from ``{"parent", "moves": [{"building", "to"}], "comment"}`` (and ``"split":
    {"grid", "line"}``: that grid split along a line after the moves): its tallies and
    violations."""
    refused = _unknown_args()
    if refused is not None:
        return refused
    body = _body()
    if isinstance(body, Response):
        return body
    parent = _int_field(body, "parent")
    if isinstance(parent, Response):
        return parent
    moves, comment = body.get("moves", []), body.get("comment", "")
    reason = body.get("reason", "")
    for name, value in (("comment", comment), ("reason", reason)):
        if not isinstance(value, str) or len(value) > 2000:
            return _answer(422, "invalid", f"{name}: expected text", {name: "text, 2000 max"})
    if isinstance(moves, list) and len(moves) > MAX_MOVES:
        return _answer(422, "invalid", f"moves: at most {MAX_MOVES}", {"moves": "too many"})
    try:
        if "split" in body:  # a grid split along a line, after the moves
            moves = with_line_split(_store(), parent, moves, body["split"], g.principal.scope)
        out = planner.save_draft(
            _store(),
            parent,
            moves,
            comment=comment,
            author=g.principal.name,
            scope=g.principal.scope,
            reason=reason,
        )
    except (planner.PlannerError, StoreError) as exc:
        return _failed(exc)
    resp = jsonify(out)
    resp.status_code = 201
    return resp


@blueprint.get("/grid-versions/<version_id>/diff")
@requires(Action.READ_GRID_VERSIONS)
def version_diff(version_id: str) -> Response:
    """Buildings moved, pairs, grids added/removed/changed between ``against`` and this."""
    vid = _version_request(version_id, "against")
    if isinstance(vid, Response):
        return vid
    against = request.args.get("against", "")
    if not _VERSION.fullmatch(against):
        return _answer(422, "invalid", "against: expected a version id", {"against": "integer"})
    try:
        return jsonify(diff_versions(_store(), vid, int(against), scope=g.principal.scope))
    except StoreError as exc:
        return _failed(exc)


@blueprint.post("/grid-versions/<version_id>/publish")
@requires(Action.EDIT_GRIDS)
def publish_version(version_id: str) -> Response:
    """Publish atomically; ``{"reason"}`` is required when the version has violations."""
    vid = _version_request(version_id)
    if isinstance(vid, Response):
        return vid
    body = request.get_json(silent=True) if request.get_data() else {}
    if not isinstance(body, dict):
        return _answer(422, "invalid", "expected a JSON object", {"body": "a JSON object"})
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        return _answer(422, "invalid", "reason: expected text", {"reason": "text"})
    try:
        return jsonify(planner.publish(_store(), vid, actor=g.principal.name, reason=reason))
    except (planner.PlannerError, StoreError) as exc:
        return _failed(exc)


@blueprint.post("/grid-versions/<version_id>/restore")
@requires(Action.EDIT_GRIDS)
def restore_version(version_id: str) -> Response:
    """A new draft equal to this version."""
    vid = _version_request(version_id)
    if isinstance(vid, Response):
        return vid
    try:
        out = planner.restore(_store(), vid, author=g.principal.name)
    except (planner.PlannerError, StoreError) as exc:
        return _failed(exc)
    resp = jsonify(out)
    resp.status_code = 201
    return resp


@blueprint.post("/grid-versions/relocate-open-cases")
@requires(Action.EDIT_GRIDS)
def relocate() -> Response:
    """Move every open case to its grid in the published version (one explicit action)."""
    refused = _unknown_args()
    if refused is not None:
        return refused
    try:
        return jsonify(planner.relocate_open_cases(_store(), actor=g.principal.name))
    except planner.PlannerError as exc:
        return _failed(exc)


@blueprint.get("/grid-versions/<version_id>/export")
@requires(Action.READ_GRID_VERSIONS)
def export(version_id: str) -> Response:
    """The version (inside the caller's scope, of one ``community``) as ``format``."""
    vid = _version_request(version_id, "format", "community", "encoding", "paper", "lang")
    if isinstance(vid, Response):
        return vid
    fmt = request.args.get("format", "")
    community = request.args.get("community") or None
    if fmt in PER_COMMUNITY and community is None:
        need = f"required for format {fmt}: the atlas or map of one community"
        return _answer(422, "invalid", "community required", {"community": need})
    try:
        out = export_version(
            _store(),
            vid,
            fmt,
            scope=g.principal.scope,
            community=community,
            options={k: request.args.get(k) for k in ("encoding", "paper", "lang")},
        )
    except StoreError as exc:
        return _failed(exc)
    resp = Response(out.content, content_type=out.media_type)
    resp.headers["Content-Disposition"] = f'attachment; filename="{out.filename}"'
    return resp


@blueprint.get("/audit")
@requires(Action.EDIT_GRIDS)
def audit() -> Response:
    """The newest rows of the audit log (``limit``, 1..1000; ``version``)."""
    refused = _unknown_args("limit", "version")
    if refused is not None:
        return refused
    try:
        limit = int(request.args.get("limit", 200))
        version = request.args.get("version")
        version_id = int(version) if version else None
        if version and not _VERSION.fullmatch(version):
            raise ValueError
        if not 1 <= limit <= 1000:
            raise ValueError
    except ValueError:
        return _answer(422, "invalid", "limit 1..1000 and version an integer", {"limit": "1..1000"})
    return jsonify({"items": _store().audit_log(limit=limit, version_id=version_id)})
