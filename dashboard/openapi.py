"""The OpenAPI 3 document of ``/api/v1`` (served at ``/api/v1/openapi.json``).

Kept true by ``tests/test_openapi.py``: every route of the blueprint is described here with its
methods, and every described operation exists.
"""

from __future__ import annotations

from wangge.casework import CATEGORIES, LEVELS, SOURCES, STATUSES
from wangge.store import SCHEMA_VERSION

__all__ = ["document"]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "401": _json(_ref("Error"), "missing, unknown or revoked token"),
    "403": _json(_ref("Error"), "the token's role or township may not do this"),
}
INVALID = {
    "422": _json(_ref("ValidationError"), "invalid fields, each named with what was expected")
}
TOO_LARGE = {"413": _json(_ref("Error"), "the request body is too large")}
GEOJSON = {
    "description": "GeoJSON FeatureCollection in EPSG:4326",
    "content": {"application/geo+json": {"schema": {"type": "object"}}},
}


def _batch(key: str, item: str) -> dict:
    """A JSON body ``{key: [item, ...]}`` (batches of up to 5,000)."""
    schema = {
        "type": "object",
        "required": [key],
        "properties": {key: {"type": "array", "items": _ref(item), "maxItems": 5000}},
    }
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _param(
    name: str, schema: dict, description: str, *, where: str = "query", required: bool = False
) -> dict:
    return {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": schema,
    }


def document() -> dict:
    """The OpenAPI 3.0 document as a dict."""
    case_id = _param(
        "case_id",
        {"type": "string"},
        "case id such as C20261122-00001",
        where="path",
        required=True,
    )
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "wangge command-centre API",
            "version": f"1.{SCHEMA_VERSION}",
            "description": "Cases, cameras, patrols and map layers of community grid management. "
            "Writes answer only after they are committed. Reporters' personal data is masked in answers.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/health": {
                "get": {
                    "summary": "liveness, schema version, and whether the start-up analytics are ready (warm)",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "ok")},
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "this document",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3 document")},
                }
            },
            "/api/v1/layers/{name}.geojson": {
                "get": {
                    "summary": "a whole map layer",
                    "security": [],
                    "parameters": [
                        _param(
                            "name",
                            {
                                "type": "string",
                                "enum": [
                                    "townships",
                                    "communities",
                                    "grids",
                                    "roads",
                                    "water",
                                    "railways",
                                    "hamlets",
                                    "pois",
                                ],
                            },
                            "layer name",
                            where="path",
                            required=True,
                        )
                    ],
                    "responses": {"200": GEOJSON, "404": _json(_ref("Error"), "unknown layer")},
                }
            },
            "/api/v1/buildings": {
                "get": {
                    "summary": "buildings in a bounding box (level of detail for the map)",
                    "security": [],
                    "parameters": [
                        _param(
                            "bbox",
                            {"type": "string"},
                            "minx,miny,maxx,maxy in degrees",
                            required=True,
                        ),
                        _param(
                            "limit",
                            {"type": "integer", "minimum": 1, "maximum": 4000},
                            "most features returned",
                        ),
                    ],
                    "responses": {"200": GEOJSON, **INVALID},
                }
            },
            "/api/v1/cases": {
                "post": {
                    "summary": "report a case (idempotent on client_id)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("NewCase")}},
                    },
                    "responses": {
                        "201": _json(_ref("Case"), "created"),
                        "200": _json(
                            _ref("Case"), "a case with this client_id existed: returned unchanged"
                        ),
                        **ERRORS,
                        **INVALID,
                        **TOO_LARGE,
                    },
                },
                "get": {
                    "summary": "list cases, newest first, with filters and paging",
                    "parameters": [
                        _param("status", {"type": "string", "enum": list(STATUSES)}, "status"),
                        _param(
                            "category", {"type": "string", "enum": list(CATEGORIES)}, "category"
                        ),
                        _param("level", {"type": "string", "enum": list(LEVELS)}, "handling level"),
                        _param("township_code", {"type": "string"}, "12-digit township code"),
                        _param("community_code", {"type": "string"}, "12-digit community code"),
                        _param("grid_code", {"type": "string"}, "15-digit grid code"),
                        _param(
                            "since",
                            {"type": "string", "format": "date-time"},
                            "reported at or after",
                        ),
                        _param(
                            "until", {"type": "string", "format": "date-time"}, "reported before"
                        ),
                        _param(
                            "overdue",
                            {"type": "boolean"},
                            "only overdue (true) or not overdue (false)",
                        ),
                        _param(
                            "limit",
                            {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                            "page size",
                        ),
                        _param(
                            "offset",
                            {"type": "integer", "minimum": 0, "default": 0},
                            "items to skip",
                        ),
                    ],
                    "responses": {
                        "200": _json(_ref("CasePage"), "one page of cases"),
                        **ERRORS,
                        **INVALID,
                    },
                },
            },
            "/api/v1/cases/{case_id}": {
                "get": {
                    "summary": "one case with its status history",
                    "parameters": [case_id],
                    "responses": {
                        "200": _json(_ref("Case"), "the case"),
                        "404": _json(_ref("Error"), "no such case"),
                        **ERRORS,
                    },
                }
            },
            "/api/v1/cases/{case_id}/transitions": {
                "post": {
                    "summary": "move a case along its lifecycle",
                    "parameters": [case_id],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("Transition")}},
                    },
                    "responses": {
                        "200": _json(_ref("Case"), "the case after the change"),
                        "404": _json(_ref("Error"), "no such case"),
                        "409": _json(_ref("Error"), "the lifecycle does not allow this change"),
                        **ERRORS,
                        **INVALID,
                        **TOO_LARGE,
                    },
                }
            },
            "/api/v1/cameras": {
                "put": {
                    "summary": "register or update cameras",
                    "requestBody": _batch("cameras", "Camera"),
                    "responses": {
                        "200": _json({"type": "object"}, "stored"),
                        **ERRORS,
                        **INVALID,
                        **TOO_LARGE,
                    },
                },
                "get": {
                    "summary": "the camera registry",
                    "responses": {"200": _json({"type": "object"}, "cameras"), **ERRORS},
                },
            },
            "/api/v1/cameras/heartbeats": {
                "post": {
                    "summary": "camera heartbeats (online/offline)",
                    "requestBody": _batch("heartbeats", "Heartbeat"),
                    "responses": {
                        "200": _json({"type": "object"}, "stored, with unknown camera ids"),
                        **ERRORS,
                        **INVALID,
                        **TOO_LARGE,
                    },
                }
            },
            "/api/v1/patrols/points": {
                "post": {
                    "summary": "a batch of patrol GPS fixes (a repeated fix is ignored)",
                    "requestBody": _batch("points", "PatrolPoint"),
                    "responses": {
                        "200": _json({"type": "object"}, "received, stored, duplicates"),
                        **ERRORS,
                        **INVALID,
                        **TOO_LARGE,
                    },
                }
            },
            "/api/v1/imports/{kind}": {
                "post": {
                    "summary": "import a file of cases (CSV/Excel), cameras (CSV/GeoJSON/GPKG) or GPS fixes (CSV/GPX)",
                    "parameters": [
                        _param(
                            "kind",
                            {"type": "string", "enum": ["cases", "cameras", "gps"]},
                            "what the file holds",
                            where="path",
                            required=True,
                        )
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file"],
                                    "properties": {
                                        "file": {"type": "string", "format": "binary"},
                                        "mapping": {
                                            "type": "string",
                                            "description": "JSON object: source column -> field",
                                        },
                                        "worker": {
                                            "type": "string",
                                            "description": "worker id for GPX tracks without a name",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(
                            _ref("ImportReport"),
                            "rows read, added, duplicates and bad rows with reasons",
                        ),
                        "404": _json(_ref("Error"), "no such importer"),
                        **ERRORS,
                        **INVALID,
                        **TOO_LARGE,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "detail"],
                    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
                },
                "ValidationError": {
                    "type": "object",
                    "required": ["error", "detail", "fields"],
                    "properties": {
                        "error": {"type": "string"},
                        "detail": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
                "NewCase": {
                    "type": "object",
                    "required": ["category", "lon", "lat"],
                    "additionalProperties": False,
                    "properties": {
                        "client_id": {
                            "type": "string",
                            "maxLength": 100,
                            "description": "the client's own id: retries never duplicate",
                        },
                        "category": {"type": "string", "enum": list(CATEGORIES)},
                        "source": {
                            "type": "string",
                            "enum": list(SOURCES),
                            "default": "grid_worker",
                        },
                        "lon": {"type": "number", "minimum": -180, "maximum": 180},
                        "lat": {"type": "number", "minimum": -90, "maximum": 90},
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "reporter_name": {"type": "string"},
                        "reporter_phone": {"type": "string"},
                        "reported_at": {"type": "string", "format": "date-time"},
                    },
                },
                "Case": {
                    "type": "object",
                    "properties": {
                        "case_id": {"type": "string"},
                        "client_id": {"type": "string", "nullable": True},
                        "category": {"type": "string", "enum": list(CATEGORIES)},
                        "status": {"type": "string", "enum": list(STATUSES)},
                        "level": {"type": "string", "enum": list(LEVELS)},
                        "lon": {"type": "number"},
                        "lat": {"type": "number"},
                        "grid_code": {"type": "string"},
                        "community_code": {"type": "string"},
                        "township_code": {"type": "string"},
                        "reporter_name": {"type": "string", "description": "masked"},
                        "reporter_phone": {"type": "string", "description": "masked"},
                        "reported_at": {"type": "string", "format": "date-time"},
                        "deadline_at": {"type": "string", "format": "date-time"},
                        "closed_at": {"type": "string", "format": "date-time", "nullable": True},
                        "overdue": {"type": "boolean"},
                        "events": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "CasePage": {
                    "type": "object",
                    "properties": {
                        "items": {"type": "array", "items": _ref("Case")},
                        "total": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "offset": {"type": "integer"},
                    },
                },
                "Transition": {
                    "type": "object",
                    "required": ["to_status", "actor"],
                    "additionalProperties": False,
                    "properties": {
                        "to_status": {"type": "string", "enum": list(STATUSES[1:])},
                        "actor": {"type": "string"},
                        "comment": {"type": "string"},
                        "at": {"type": "string", "format": "date-time"},
                    },
                },
                "Camera": {
                    "type": "object",
                    "required": ["camera_id", "lon", "lat"],
                    "properties": {
                        "camera_id": {"type": "string"},
                        "name": {"type": "string"},
                        "lon": {"type": "number"},
                        "lat": {"type": "number"},
                        "bearing": {
                            "type": "number",
                            "minimum": 0,
                            "maximum": 360,
                            "description": "degrees clockwise from north",
                        },
                        "fov": {"type": "number", "minimum": 1, "maximum": 360},
                        "range_m": {"type": "number"},
                        "mount_height": {"type": "number"},
                        "camera_type": {"type": "string", "enum": ["fixed", "panning", "dome"]},
                    },
                },
                "ImportReport": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string"},
                        "kind": {"type": "string"},
                        "total": {"type": "integer"},
                        "added": {"type": "integer"},
                        "duplicates": {"type": "integer"},
                        "bad_rows": {"type": "integer"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "row": {"type": "integer"},
                                    "reason": {"type": "string"},
                                },
                            },
                        },
                    },
                },
                "Heartbeat": {
                    "type": "object",
                    "required": ["camera_id", "at", "online"],
                    "properties": {
                        "camera_id": {"type": "string"},
                        "at": {"type": "string", "format": "date-time"},
                        "online": {"type": "boolean"},
                    },
                },
                "PatrolPoint": {
                    "type": "object",
                    "required": ["worker_id", "at", "lon", "lat"],
                    "properties": {
                        "worker_id": {"type": "string"},
                        "at": {"type": "string", "format": "date-time"},
                        "lon": {"type": "number"},
                        "lat": {"type": "number"},
                        "accuracy": {"type": "number", "description": "metres"},
                    },
                },
            },
        },
    }
