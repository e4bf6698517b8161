"""The HTTP API under ``/api/v1``, served by the dashboard's own Flask server.

Errors are JSON ``{"error": ..., "detail": ...}`` with the right status code; a bad request
never reaches the store.
"""

from __future__ import annotations

import math

from flask import Blueprint, Response, current_app, jsonify, request

from dashboard.layers import BUILDINGS_LIMIT, LAYERS, LayerService
from dashboard.store import SCHEMA_VERSION

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


@blueprint.get("/health")
def health() -> Response:
    service = layer_service()
    return jsonify(
        {
            "status": "ok",
            "schema_version": SCHEMA_VERSION,
            "data_version": service.store.data_version(),
        }
    )


@blueprint.get("/layers/<name>.geojson")
def layer(name: str) -> Response:
    if name not in LAYERS:
        return _error(
            404, "unknown_layer", f"layer {name!r} does not exist; expected one of {list(LAYERS)}"
        )
    text = layer_service().geojson(name)
    resp = Response(text, mimetype="application/geo+json")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@blueprint.get("/buildings")
def buildings() -> Response:
    try:
        bbox = parse_bbox(request.args.get("bbox"))
        limit = int(request.args.get("limit", BUILDINGS_LIMIT))
        if not 1 <= limit <= BUILDINGS_LIMIT:
            raise ValueError(f"limit {limit}: expected 1 to {BUILDINGS_LIMIT}")
    except ValueError as exc:
        return _error(422, "invalid_parameter", str(exc))
    text, n, capped = layer_service().buildings(bbox, limit=limit)
    resp = Response(text, mimetype="application/geo+json")
    resp.headers["X-Feature-Count"] = str(n)
    resp.headers["X-Truncated"] = "true" if capped else "false"
    return resp
