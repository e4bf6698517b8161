"""The grid-version routes of ``/api/v1`` (the planner's API), on the API blueprint.

Registered on :data:`dashboard.api.blueprint` when this module is imported (by
:func:`dashboard.app.create_app`). Planners and the county write (:attr:`Action.EDIT_GRIDS`);
township leaders read versions, diffs and exports of their own township
(:attr:`Action.READ_GRID_VERSIONS`); everyone else gets 403. Errors are JSON ``{"error",
"detail"}`` (422 adds ``fields``), like the rest of the API.
"""

from __future__ import annotations

from flask import Response, current_app, g, jsonify, request

from dashboard.api import blueprint, requires
from wangge.access import Action
from wangge.services import planner
from wangge.services.planner_diff import diff_versions, version_rows
from wangge.services.planner_export import export_version
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
    return _answer(422, "invalid", str(exc))


def _body() -> dict | Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _answer(422, "invalid", "expected a JSON object", {"body": "a JSON object"})
    return body


def _int_field(body: dict, name: str) -> int | Response:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        return _answer(422, "invalid", f"{name}: expected a version id", {name: "an integer"})
    return value


@blueprint.get("/grid-versions")
@requires(Action.READ_GRID_VERSIONS)
def list_versions() -> Response:
    """Every grid version, newest first (with ``community``: whether each changed it)."""
    community = request.args.get("community") or None
    if community is not None and not g.principal.scope.contains(community):
        return _answer(404, "not_found", f"community {community}: not in your scope")
    return jsonify({"items": version_rows(_store(), community=community)})


@blueprint.post("/grid-versions")
@requires(Action.EDIT_GRIDS)
def create_version() -> Response:
    """A draft from ``{"parent", "moves": [{"building", "to"}], "comment"}``: its tallies and
    violations."""
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


@blueprint.get("/grid-versions/<int:version_id>/diff")
@requires(Action.READ_GRID_VERSIONS)
def version_diff(version_id: int) -> Response:
    """Buildings moved, pairs, grids added/removed/changed between ``against`` and this."""
    try:
        against = int(request.args.get("against", ""))
    except ValueError:
        return _answer(422, "invalid", "against: expected a version id", {"against": "integer"})
    try:
        return jsonify(diff_versions(_store(), version_id, against, scope=g.principal.scope))
    except StoreError as exc:
        return _failed(exc)


@blueprint.post("/grid-versions/<int:version_id>/publish")
@requires(Action.EDIT_GRIDS)
def publish_version(version_id: int) -> Response:
    """Publish atomically; ``{"reason"}`` is required when the version has violations."""
    body = request.get_json(silent=True) or {}
    reason = body.get("reason", "") if isinstance(body, dict) else ""
    if not isinstance(reason, str):
        return _answer(422, "invalid", "reason: expected text", {"reason": "text"})
    try:
        return jsonify(planner.publish(_store(), version_id, actor=g.principal.name, reason=reason))
    except (planner.PlannerError, StoreError) as exc:
        return _failed(exc)


@blueprint.post("/grid-versions/<int:version_id>/restore")
@requires(Action.EDIT_GRIDS)
def restore_version(version_id: int) -> Response:
    """A new draft equal to this version."""
    try:
        out = planner.restore(_store(), version_id, author=g.principal.name)
    except (planner.PlannerError, StoreError) as exc:
        return _failed(exc)
    resp = jsonify(out)
    resp.status_code = 201
    return resp


@blueprint.post("/grid-versions/relocate-open-cases")
@requires(Action.EDIT_GRIDS)
def relocate() -> Response:
    """Move every open case to its grid in the published version (one explicit action)."""
    try:
        return jsonify(planner.relocate_open_cases(_store(), actor=g.principal.name))
    except planner.PlannerError as exc:
        return _failed(exc)


@blueprint.get("/grid-versions/<int:version_id>/export")
@requires(Action.READ_GRID_VERSIONS)
def export(version_id: int) -> Response:
    """The version (inside the caller's scope, of one ``community``) as ``format``."""
    fmt = request.args.get("format", "")
    community = request.args.get("community") or None
    try:
        out = export_version(
            _store(),
            version_id,
            fmt,
            scope=g.principal.scope,
            community=community,
            options={"encoding": request.args.get("encoding")},
        )
    except StoreError as exc:
        return _failed(exc)
    resp = Response(out.content, mimetype=out.media_type)
    resp.headers["Content-Disposition"] = f'attachment; filename="{out.filename}"'
    return resp


@blueprint.get("/audit")
@requires(Action.EDIT_GRIDS)
def audit() -> Response:
    """The newest rows of the audit log (``limit``, 1..1000; ``version``)."""
    try:
        limit = int(request.args.get("limit", 200))
        version = request.args.get("version")
        version_id = int(version) if version else None
        if not 1 <= limit <= 1000:
            raise ValueError
    except ValueError:
        return _answer(422, "invalid", "limit 1..1000 and version an integer", {"limit": "1..1000"})
    return jsonify({"items": _store().audit_log(limit=limit, version_id=version_id)})
