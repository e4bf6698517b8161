"""The OpenAPI 3 document of ``/api/v1`` (served at ``/api/v1/openapi.json``).

The document is declarative data, kept in ``dashboard/openapi.json`` (shipped as package data);
the planner's routes (:mod:`dashboard.api_planner`) are described in ``openapi_planner.json``,
whose paths and schemas are added to it.
:func:`document` loads it and fills in what the code owns: the API version (from the store's
schema version), the enumerations of the case rules (:mod:`wangge.casework`), written in the
file as ``"$name"`` markers (see :data:`MARKERS`), and the request bodies, generated from the
validation schema (:mod:`wangge.validation`): ``"$record:Name"`` is the record ``Name``
(:data:`RECORDS`), ``"$batch:key:Name"`` a batch ``{key: [Name, ...]}``, ``"$params:Name"``
the record's fields as query parameters. The server validates
with the same declarations, so what the document allows is what the server accepts.

Kept true by ``tests/test_cases_api.py``: every route of the blueprint is described with its
methods, and every described operation exists.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from wangge.casework import CATEGORIES, LEVELS, SOURCES, STATUSES, URGENCIES
from wangge.store import SCHEMA_VERSION
from wangge.store.filters import VIEWS
from wangge.validation import (
    CAMERA,
    CASE_LIST,
    HEARTBEAT,
    NEW_CASE,
    NOTE_SEEN,
    NOTE_URGE,
    PATROL_POINT,
    TRANSITION,
    Record,
    batch_schema,
)

__all__ = ["MARKERS", "RECORDS", "document"]

#: The records of :mod:`wangge.validation` the document describes, by schema name.
RECORDS: dict[str, Record] = {
    r.name: r
    for r in (
        NEW_CASE,
        TRANSITION,
        NOTE_URGE,
        NOTE_SEEN,
        CAMERA,
        HEARTBEAT,
        PATROL_POINT,
        CASE_LIST,
    )
}

#: The markers of ``openapi.json`` and what they stand for.
MARKERS: dict[str, Any] = {
    "$api_version": f"1.{SCHEMA_VERSION}",
    "$statuses": list(STATUSES),
    # a transition goes to any status but the first (a case is created "reported")
    "$transition_targets": list(STATUSES[1:]),
    "$categories": list(CATEGORIES),
    "$levels": list(LEVELS),
    "$sources": list(SOURCES),
    "$urgencies": list(URGENCIES),
    "$views": list(VIEWS),
}


@cache
def _text() -> str:
    return files("dashboard").joinpath("openapi.json").read_text(encoding="utf-8")


def _fill(node: Any) -> Any:
    """``node`` with every marker string replaced by its value (a new object)."""
    if isinstance(node, dict):
        return {key: _fill(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(value) for value in node]
    if isinstance(node, str) and node in MARKERS:
        value = MARKERS[node]
        return list(value) if isinstance(value, list) else value
    if isinstance(node, str) and node.startswith("$record:"):
        return RECORDS[node.split(":")[1]].json_schema()
    if isinstance(node, str) and node.startswith("$params:"):
        return RECORDS[node.split(":")[1]].parameters()
    if isinstance(node, str) and node.startswith("$batch:"):
        _, key, name = node.split(":")
        return batch_schema(key, RECORDS[name])
    return node


def document() -> dict:
    """The OpenAPI 3.0 document as a new dict."""
    doc = json.loads(_text())
    extra = json.loads(files("dashboard").joinpath("openapi_planner.json").read_text("utf-8"))
    doc["paths"].update(extra["paths"])
    doc["components"]["schemas"].update(extra["schemas"])
    return _fill(doc)
