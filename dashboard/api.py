"""The HTTP API under ``/api/v1``, served by the dashboard's own Flask server.

Described by the OpenAPI document at ``/api/v1/openapi.json`` (:mod:`dashboard.openapi`).
Errors are JSON ``{"error": ..., "detail": ...}`` (422 adds ``fields``: field -> problem) with
the right status code; a bad request never reaches the store. Bodies are checked against the
declarations of :mod:`wangge.validation`, from which the OpenAPI document's request schemas are
generated; unknown fields and query parameters are refused. A write answers only after its
transaction is committed. Writers and readers of operational data authenticate with a bearer
token (``Authorization: Bearer ...``): 401 without a valid one, 403 when its role may not do it.
:func:`requires` makes the request's :class:`wangge.access.Principal` (from the token, or for
GET from the signed-in session) and asks :func:`wangge.access.may`; routes pass
``g.principal.scope`` to the store, which reads nothing and changes nothing outside it (a case,
camera or worker of another township is 404, or 403 for a write, never data).
Reporters' names and phone numbers are masked in every answer.
"""

from __future__ import annotations

import functools
import json
import math
import re

from flask import Blueprint, Response, current_app, g, jsonify, request

from dashboard.auth import current_principal, principal_of
from wangge.access import Action, OutOfScope, Principal, may
from wangge.casework import (
    STATUSES,
    ConflictError,
    TransitionError,
    ValidationError,
    parse_time,
    validate_new_case,
    validate_transition_request,
)
from wangge.clock import utc_now
from wangge.privacy import mask_name, mask_phone
from wangge.services.health import health_report
from wangge.services.layers import BUILDINGS_LIMIT, LAYERS, LayerService
from wangge.store import Store
from wangge.validation import (
    CAMERA,
    CASE_LIST,
    HEARTBEAT,
    NOTE_SEEN,
    NOTE_URGE,
    PATROL_POINT,
    validate_batch,
)

__all__ = ["blueprint", "layer_service"]

blueprint = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def layer_service() -> LayerService:
    """The app's :class:`LayerService` (set by ``dashboard.app.create_app``)."""
    return current_app.config["WANGGE_LAYERS"]


def _error(status: int, error: str, detail: str) -> Response:
    resp = jsonify({"error": error, "detail": detail})
    resp.status_code = status
    return resp


def parse_bbox(text: str | None) -> tuple[float, float, float, float]:
    """``minx,miny,maxx,maxy`` in degrees -> tuple; ValueError naming what is wrong."""
    if not text:
        raise ValueError("bbox is required: minx,miny,maxx,maxy in degrees (lon/lat)")
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError(f"bbox {text!r}: expected 4 comma-separated numbers minx,miny,maxx,maxy")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"bbox {text!r}: expected numbers, found {parts}") from None
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise ValueError(f"bbox {text!r}: numbers must be finite")
    if minx > maxx or miny > maxy:
        raise ValueError(f"bbox {text!r}: expected minx <= maxx and miny <= maxy")
    return minx, miny, maxx, maxy


# -- operational data ----------------------------------------------------------------------

#: Largest request body accepted, in bytes (HTTP 413 beyond it).
MAX_BODY = 2 * 1024 * 1024


def _store() -> Store:
    return current_app.config["WANGGE_STORE"]


def _request_principal() -> Principal | Response:
    """The principal of an API request: the bearer token's, or for GET without one the
    signed-in session's (the dashboard's own reads; never for writes); a 401 answer when
    there is neither."""
    header = request.headers.get("Authorization", "")
    if not header and request.method == "GET":
        principal = current_principal()  # the operator's or the wall screen's session
        if principal is not None:
            return principal
    if not header.startswith("Bearer ") or not header[7:].strip():
        return _error(401, "unauthorized", "an Authorization: Bearer <token> header is required")
    token = _store().check_token(header[7:].strip())
    if token is None:
        return _error(401, "unauthorized", "the token is unknown or revoked")
    return principal_of(token, _store())


def requires(action: Action):
    """Decorator: the request's principal (:func:`_request_principal`) may do ``action``
    (:func:`wangge.access.may`; 403 otherwise, also for a principal whose scope is empty); it
    goes to ``g.principal``."""

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            principal = _request_principal()
            if isinstance(principal, Response):
                return principal
            if not may(principal, action):
                return _error(403, "forbidden", f"role {principal.role!r} may not do this here")
            g.principal = principal
            return view(*args, **kwargs)

        return inner

    return wrap


def _scope():
    """The scope of the request's principal (set by :func:`requires`)."""
    return g.principal.scope


@blueprint.get("/health")
def health() -> Response:
    """Each component's state; ``degraded`` with the reasons when one failed
    (:mod:`wangge.services.health`)."""
    report, status = health_report(
        current_app.config["WANGGE_STORE"],
        current_app.config["WANGGE_ANALYTICS"],
        current_app.config.get("WANGGE_FEED_WATCH"),
    )
    resp = jsonify(report)
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


@blueprint.get("/layers/<name>.geojson")
@requires(Action.VIEW)
def layer(name: str) -> Response:
    if name not in LAYERS:
        return _error(
            404, "unknown_layer", f"layer {name!r} does not exist; expected one of {list(LAYERS)}"
        )
    text = layer_service().geojson(name, scope=_scope())
    resp = Response(text, mimetype="application/geo+json")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@blueprint.get("/buildings")
@requires(Action.READ)
def buildings() -> Response:
    _only_args("bbox", "limit")
    try:
        bbox = parse_bbox(request.args.get("bbox"))
    except ValueError as exc:
        raise ValidationError({"bbox": str(exc)}) from None
    raw = request.args.get("limit", str(BUILDINGS_LIMIT))
    if not _WHOLE.fullmatch(raw) or not 1 <= int(raw) <= BUILDINGS_LIMIT:
        raise ValidationError({"limit": f"limit {raw}: expected 1 to {BUILDINGS_LIMIT}"})
    limit = int(raw)
    text, n, capped = layer_service().buildings(bbox, limit=limit, scope=_scope())
    resp = Response(text, mimetype="application/geo+json")
    resp.headers["X-Feature-Count"] = str(n)
    resp.headers["X-Truncated"] = "true" if capped else "false"
    return resp


def _json_body():
    """The request's JSON body: 413 beyond :data:`MAX_BODY`, 422 naming ``body`` when it is not
    JSON (also JSON nested too deeply to parse, or text that is not UTF-8)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _TooLarge
    if not request.is_json:
        raise ValidationError({"body": "expected a JSON body (Content-Type: application/json)"})
    data = request.get_data(cache=True)
    if len(data) > MAX_BODY:  # a chunked body announces no length
        raise _TooLarge
    try:
        return json.loads(data)
    except RecursionError:
        raise ValidationError({"body": "the JSON is nested too deeply"}) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValidationError({"body": f"not valid JSON ({exc})"}) from None


class _TooLarge(Exception):
    pass


@blueprint.errorhandler(_TooLarge)
def _too_large(_exc) -> Response:
    return _error(413, "payload_too_large", f"request bodies are limited to {MAX_BODY} bytes")


@blueprint.errorhandler(ValidationError)
def _invalid(exc: ValidationError) -> Response:
    resp = jsonify({"error": "validation_error", "detail": str(exc), "fields": exc.errors})
    resp.status_code = 422
    return resp


@blueprint.errorhandler(OutOfScope)
def _out_of_scope(exc: OutOfScope) -> Response:
    return _error(403, "forbidden", str(exc))


@blueprint.errorhandler(TransitionError)
def _conflict(exc: TransitionError) -> Response:
    return _error(409, "invalid_transition", str(exc))


@blueprint.errorhandler(ConflictError)
def _stale(exc: ConflictError) -> Response:
    """409 for an action on a stale version: who changed the case, when, and its version now."""
    resp = jsonify(
        {
            "error": "conflict",
            "detail": str(exc),
            "version": exc.version,
            "status": exc.status,
            "changed_by": exc.actor,
            "changed_at": exc.at,
        }
    )
    resp.status_code = 409
    return resp


def public_case(case: dict) -> dict:
    """A case as the API shows it: personal data masked, overdue derived."""
    out = dict(case)
    out["reporter_name"] = mask_name(case.get("reporter_name"))
    out["reporter_phone"] = mask_phone(case.get("reporter_phone"))
    now = utc_now()
    closed = case.get("closed_at")
    out["overdue"] = bool(
        (closed is None and case["deadline_at"] < now) or (closed and closed > case["deadline_at"])
    )
    return out


@blueprint.post("/cases")
@requires(Action.WRITE)
def create_case() -> Response:
    case = validate_new_case(_json_body(), now=utc_now())
    location = current_app.config["WANGGE_LOCATOR"].locate(case["lon"], case["lat"])
    stored, created = _store().create_case(case, location, scope=_scope(), actor=g.principal.name)
    resp = jsonify(public_case(stored))
    resp.status_code = 201 if created else 200
    resp.headers["Location"] = f"/api/v1/cases/{stored['case_id']}"
    return resp


#: A whole number as paging takes it: ASCII digits only (``str.isdigit`` accepts "²").
_WHOLE = re.compile(r"[0-9]{1,12}")


def _only_args(*names: str) -> None:
    """422 naming every query parameter of the request that is not one of ``names`` (a typo
    in a filter must not silently widen the answer)."""
    unknown = sorted(set(request.args) - set(names))
    if unknown:
        raise ValidationError(
            {name: f"unknown query parameter; expected one of {list(names)}" for name in unknown}
        )


#: The query parameters of ``GET /cases`` (:data:`wangge.validation.CASE_LIST`).
_LIST_ARGS = CASE_LIST.names
_TEXT_ARGS = ("township_code", "community_code", "grid_code", "q")


def _list_filters(args) -> dict:
    errors: dict[str, str] = {}
    filters: dict = {}
    for field in ("category", "level", "urgency", "view", *_TEXT_ARGS):
        value = args.get(field)
        if value is not None:
            checked, problem = CASE_LIST.field(field).check(value)
            if problem:
                errors[field] = problem
            elif checked:  # an empty text filter filters nothing
                filters[field] = checked
    if args.get("status") is not None:  # one status, or several separated by commas
        wanted = args["status"].split(",")
        if set(wanted) - set(STATUSES):
            errors["status"] = f"expected statuses of {list(STATUSES)}, found {args['status']!r}"
        filters["status"] = wanted if len(wanted) > 1 else wanted[0]
    for field in ("since", "until"):
        if args.get(field) is not None:
            try:
                filters[field] = parse_time(args[field], field)
            except ValidationError as exc:
                errors.update(exc.errors)
    if args.get("overdue") is not None:
        if args["overdue"] not in ("true", "false"):
            errors["overdue"] = f"expected true or false, found {args['overdue']!r}"
        filters["overdue"] = args["overdue"] == "true"
    for field, lo, hi, default in (("limit", 1, 500, 50), ("offset", 0, 10**9, 0)):
        raw = args.get(field, str(default))
        if not _WHOLE.fullmatch(raw) or not lo <= int(raw) <= hi:
            errors[field] = f"expected a whole number from {lo} to {hi}, found {raw!r}"
        else:
            filters[field] = int(raw)
    if errors:
        raise ValidationError(errors)
    return filters


@blueprint.get("/cases")
@requires(Action.READ)
def list_cases() -> Response:
    _only_args(*_LIST_ARGS)
    filters = _list_filters(request.args)
    limit, offset = filters.pop("limit"), filters.pop("offset")
    items, total = _store().list_cases(scope=_scope(), filters=filters, limit=limit, offset=offset)
    return jsonify(
        {"items": [public_case(c) for c in items], "total": total, "limit": limit, "offset": offset}
    )


@blueprint.get("/cases/<case_id>")
@requires(Action.READ)
def get_case(case_id: str) -> Response:
    case = _store().get_case(case_id, scope=_scope())
    if case is None:
        return _error(404, "not_found", f"case {case_id!r} does not exist")
    return jsonify(public_case(case))


@blueprint.post("/cases/<case_id>/transitions")
@requires(Action.WRITE)
def transition_case(case_id: str) -> Response:
    change = validate_transition_request(_json_body())
    store = _store()
    case = store.get_case(case_id, scope=_scope())
    if case is None:
        return _error(404, "not_found", f"case {case_id!r} does not exist")
    updated = store.transition_case(
        case_id,
        change["to_status"],
        scope=_scope(),
        actor=g.principal.name,
        comment=change["comment"],
        at=change["at"],
        version=change["version"],
        assignee=change["assignee"],
    )
    return jsonify(public_case(updated))


@blueprint.post("/cases/<case_id>/urge")
@requires(Action.WRITE)
def urge_case(case_id: str) -> Response:
    """督办: a note in the case's history under the principal's name (409 for a closed case, or
    when ``version`` is stale)."""
    return _note(case_id, "urge", NOTE_URGE.validate(_json_body()))


@blueprint.post("/cases/<case_id>/seen")
@requires(Action.WRITE)
def mark_seen(case_id: str) -> Response:
    """An urgent case marked seen (it stops flashing on the wall); the body may be left out."""
    body = _json_body() if request.content_length or request.get_data(cache=True) else {}
    return _note(case_id, "seen", NOTE_SEEN.validate(body))


def _note(case_id: str, action: str, body: dict) -> Response:
    """A note (:meth:`wangge.store.Store.note_case`, as the desk makes it) on a case inside the
    principal's scope: 404 for a case outside it."""
    try:
        case = _store().note_case(
            case_id,
            action,
            scope=_scope(),
            actor=g.principal.name,
            comment=body["note"],
            version=body["version"],
        )
    except KeyError:
        return _error(404, "not_found", f"case {case_id!r} does not exist")
    return jsonify(public_case(case))


@blueprint.post("/patrols/points")
@requires(Action.WRITE)
def add_patrol_points() -> Response:
    points = validate_batch(_json_body(), "points", PATROL_POINT)
    rows = [(p["worker_id"], p["at"], p["lon"], p["lat"], p["accuracy"]) for p in points]
    stored = _store().add_patrol_points(rows, scope=_scope())
    return jsonify({"received": len(rows), "stored": stored, "duplicates": len(rows) - stored})


@blueprint.put("/cameras")
@requires(Action.WRITE)
def upsert_cameras() -> Response:
    import pandas as pd

    rows = validate_batch(_json_body(), "cameras", CAMERA)
    frame = pd.DataFrame(rows)
    located = current_app.config["WANGGE_LOCATOR"].locate_many(
        frame["lon"].to_numpy(), frame["lat"].to_numpy()
    )
    frame["grid_code"] = [loc["grid_code"] for loc in located]
    _store().upsert_cameras(frame, scope=_scope())
    return jsonify({"stored": len(frame)})


@blueprint.get("/cameras")
@requires(Action.READ)
def list_cameras() -> Response:
    cameras = _store().cameras(scope=_scope())
    return jsonify(
        {"items": cameras.astype(object).where(cameras.notna(), None).to_dict("records")}
    )


@blueprint.post("/cameras/heartbeats")
@requires(Action.WRITE)
def camera_heartbeats() -> Response:
    beats = [
        (b["camera_id"], b["at"], b["online"])
        for b in validate_batch(_json_body(), "heartbeats", HEARTBEAT)
    ]
    stored, unknown = _store().record_heartbeats(beats, scope=_scope())
    return jsonify({"stored": stored, "unknown_cameras": unknown})


@blueprint.post("/imports/<kind>")
@requires(Action.WRITE)
def import_file(kind: str) -> Response:
    """Import an uploaded file (multipart field ``file``) of cases, cameras or GPS fixes."""
    import tempfile
    from pathlib import Path

    from wangge.ingest import files as imports

    if kind not in ("cases", "cameras", "gps"):
        return _error(404, "not_found", f"no importer {kind!r}; expected cases, cameras or gps")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError({"file": "expected a multipart upload named 'file'"})
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in (
        ".csv",
        ".tsv",
        ".txt",
        ".xlsx",
        ".xlsm",
        ".gpx",
        ".geojson",
        ".json",
        ".gpkg",
    ):
        raise ValidationError({"file": f"unsupported file type {suffix!r}"})
    options = request.form.get("mapping") or "{}"
    try:
        mapping = json.loads(options)
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise ValueError
    except (ValueError, RecursionError):
        raise ValidationError(
            {"mapping": "expected a JSON object of source column -> field"}
        ) from None
    store = _store()
    locator = current_app.config["WANGGE_LOCATOR"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        upload.save(path)
        try:
            if kind == "cases":
                report = imports.import_cases(
                    path,
                    store,
                    scope=_scope(),
                    mapping=mapping,
                    actor=g.principal.name,
                    locator=locator,
                )
            elif kind == "cameras":
                report = imports.import_cameras(
                    path, store, scope=_scope(), mapping=mapping, locator=locator
                )
            else:
                report = imports.import_gps(
                    path,
                    store,
                    scope=_scope(),
                    mapping=mapping,
                    worker=request.form.get("worker"),
                )
        except ValueError as exc:
            raise ValidationError({"file": str(exc).replace(str(path), upload.filename)}) from None
    body = report.as_dict()
    body["file"] = upload.filename
    return jsonify(body)


@blueprint.get("/openapi.json")
def openapi() -> Response:
    from dashboard.openapi import document

    return jsonify(document())
