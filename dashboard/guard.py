"""The shape of a Dash callback request, checked before Dash parses it.

Dash's dispatcher (``POST /_dash-update-component``) answers a request it cannot parse or route
with a 500: JSON nested too deeply for the parser, a body that is not an object, an ``output``
no callback has, ``inputs`` that are not a list of ``{id, property, value}``. Strings with a lone
surrogate reach the callbacks and fail when the store encodes them. :func:`guard_callbacks`
refuses all of these with a 400 that says what is wrong, so that a malformed or hostile client
gets a clear 4xx and the callbacks only ever see well-formed input (each callback still parses
its own values: e.g. ``dashboard.pages.cases.row_request``).
"""

from __future__ import annotations

import json
from typing import Any

import dash
from flask import Response, jsonify, request

from wangge.validation import check_text

__all__ = ["callback_problem", "guard_callbacks"]

#: Dash's callback endpoint (after the app's URL prefix).
ENDPOINT = "_dash-update-component"


def _spec_problem(spec: Any, where: str) -> str | None:
    """What is wrong with one input/state spec (``{id, property, value}``, or a list of them
    for pattern-matching ALL), or None."""
    if isinstance(spec, list):
        for n, item in enumerate(spec):
            problem = _spec_problem(item, f"{where}[{n}]")
            if problem:
                return problem
        return None
    if not isinstance(spec, dict):
        return f"{where}: expected an object {{id, property, value}}"
    if not isinstance(spec.get("id"), str | dict) or not isinstance(spec.get("property"), str):
        return f"{where}: expected an id (string or object) and a property (string)"
    return None


def _strings(node: Any):
    """Every string of a JSON value, keys included."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def callback_problem(data: bytes, callbacks: dict) -> str | None:
    """What is wrong with the body ``data`` of a callback request to an app whose callbacks
    are ``callbacks`` (``app.callback_map``), or None when Dash may dispatch it."""
    try:
        body = json.loads(data)
    except RecursionError:
        return "body: the JSON is nested too deeply"
    except ValueError as exc:
        return f"body: not valid JSON ({exc})"
    if not isinstance(body, dict):
        return "body: expected a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callbacks:
        return f"output: no callback has the output {str(output)[:100]!r}"
    for key in ("inputs", "state"):
        if not isinstance(body.get(key, []), list):
            return f"{key}: expected a list"
        problem = _spec_problem(body.get(key, []), key)
        if problem:
            return problem
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds: expected a list of strings"
    for text in _strings(body):
        problem = check_text(text)
        if problem:
            return f"a string {problem}"
    for key in ("inputs", "state"):
        wanted, found = len(callbacks[output].get(key, [])), len(body.get(key, []))
        if found != wanted:
            return f"{key}: the callback of {output[:100]!r} takes {wanted}, found {found}"
    return None


def guard_callbacks(app: dash.Dash) -> None:
    """Check every callback request of ``app`` (:func:`callback_problem`) before Dash does;
    a malformed one is answered 400 ``{"error": "bad_callback_request", "detail": ...}``."""

    @app.server.before_request
    def _guard() -> Response | None:
        if request.method != "POST" or not request.path.endswith("/" + ENDPOINT):
            return None
        problem = callback_problem(request.get_data(cache=True), app.callback_map)
        if problem is None:
            return None
        resp = jsonify({"error": "bad_callback_request", "detail": problem})
        resp.status_code = 400
        return resp
