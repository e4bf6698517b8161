"""One validation schema for every way data comes in: the HTTP API, the file imports (cases,
cameras, GPS fixes) and the OpenAPI document all read the declarations below.

A record (:class:`Record`) is a tuple of fields (:class:`Field`); a field is one declaration:
its name, kind (text, number, integer, boolean, choice, time), whether it is required, its
range, length or choices, its default and a description. :meth:`Record.validate` checks a
JSON-like body against it and returns the normalised values or raises
:class:`ValidationError` naming every bad field at once; :meth:`Record.json_schema` writes the
same rules as an OpenAPI 3.0 schema object (:mod:`dashboard.openapi` puts them in the
document), so the document and the server cannot drift apart.

Adding a field to a record is one line: ``Field("urgency", "choice", choices=("normal",
"urgent"), default="normal")`` in :data:`NEW_CASE` validates it in the API and the imports and
documents it in the OpenAPI document.

Why hand-written rather than pydantic or jsonschema: the rules are few (six kinds), the error
messages must name the field the way the imports name spreadsheet columns (``points[3].at``,
``受理时间``), and the range of a time depends on the current clock, which a static JSON schema
cannot say; neither library is a dependency today, and the whole module is about 400 lines.
Measured: validating the largest batch (5,000 patrol points) takes 99 ms
(``python -m timeit`` of :func:`validate_batch`, 2 cores shared with other work).

Text is refused when it is not valid Unicode (a lone surrogate cannot be stored as UTF-8) or
holds a NUL character; times go through :func:`wangge.clock.parse_checked` (from 2000-01-01 to
one day after now).

>>> NEW_CASE.validate({"category": "safety", "lon": 112.1, "lat": 30.2,
...                    "reported_at": "2026-11-22T08:30:00+08:00"})["reported_at"]
'2026-11-22T00:30:00Z'
>>> NEW_CASE.validate({"category": "x", "lon": 500, "lat": 30})
Traceback (most recent call last):
...
wangge.validation.ValidationError: category: expected one of ...; lon: expected -180 to 180, found 500
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from wangge import clock

__all__ = [
    "CAMERA",
    "CAMERA_TYPES",
    "CASE_LIST",
    "CATEGORY_CODES",
    "DEPARTMENT_CODES",
    "HEARTBEAT",
    "LEVEL_CODES",
    "MAX_BATCH",
    "MAX_TEXT",
    "NEW_CASE",
    "NOTE_SEEN",
    "NOTE_URGE",
    "PATROL_POINT",
    "SOURCE_CODES",
    "STATUS_CODES",
    "TRANSITION",
    "URGENCY_CODES",
    "VIEW_CODES",
    "Field",
    "Record",
    "ValidationError",
    "batch_schema",
    "check_text",
    "validate_batch",
]

#: Longest text field, in characters.
MAX_TEXT = 2000
#: Most items in one batch (heartbeats, patrol points, cameras).
MAX_BATCH = 5000

CATEGORY_CODES = ("dispute", "safety", "sanitation", "facilities", "order", "services")
STATUS_CODES = (
    "reported",
    "accepted",
    "dispatched",
    "in_progress",
    "resolved",
    "verified",
    "closed",
    "returned",
    "escalated",
)
LEVEL_CODES = ("grid", "community", "township", "county")
SOURCE_CODES = ("grid_worker", "hotline_12345", "citizen", "camera_ai", "inspection")
CAMERA_TYPES = ("fixed", "panning", "dome")
URGENCY_CODES = ("normal", "urgent")
#: The desk's views of the case list (:mod:`wangge.store.filters` says what each selects).
VIEW_CODES = ("open", "open_overdue", "today", "urgent")
#: The county departments a case can be dispatched to (named in :data:`wangge.casework.DEPARTMENTS`).
DEPARTMENT_CODES = (
    "urban_management",
    "housing",
    "emergency",
    "public_security",
    "environment",
    "market",
    "civil_affairs",
    "water",
)

KINDS = ("text", "number", "integer", "boolean", "choice", "time")


class ValidationError(ValueError):
    """A request whose fields are wrong; ``errors`` maps each field to what was expected."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def check_text(value: str) -> str | None:
    """What is wrong with a text (a lone surrogate, a NUL), or None when it can be stored."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"not valid Unicode text (a lone surrogate at position {exc.start})"
    return None


@dataclass(frozen=True)
class Field:
    """One field of a record: its rules, for validation and for the OpenAPI document.

    ``kind`` is one of text, number, integer, boolean, choice, time. An optional field that is
    absent or null takes ``default``. ``minimum``/``maximum`` bound numbers, ``max_length``
    text (``min_length`` 1 for a required text: it may not be blank), ``choices`` a choice;
    ``pattern`` (a regular expression, anchored) is the form a text must have, ``hint`` says it
    in words for the error message.
    """

    name: str
    kind: str
    required: bool = False
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int = 0
    max_length: int = MAX_TEXT
    choices: tuple[str, ...] = ()
    description: str = ""
    deprecated: bool = False
    pattern: str = ""
    hint: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"field {self.name}: kind {self.kind!r}; expected one of {KINDS}")

    def check(self, value: Any, *, now: Any = None) -> tuple[Any, str | None]:
        """(normalised value, None) or (None, what is wrong) for a present, non-null value."""
        kind = self.kind
        if kind == "text":
            return self._text(value)
        if kind in ("number", "integer"):
            return self._number(value)
        if kind == "boolean":
            if isinstance(value, bool):
                return value, None
            return None, f"expected true or false, found {_show(value)}"
        if kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value, None
            return None, f"expected one of {list(self.choices)}, found {_show(value)}"
        if not isinstance(value, str):
            return None, f"expected an ISO-8601 time string, found {type(value).__name__}"
        try:
            when = clock.parse_iso(value)
        except ValueError as exc:
            detail = "" if "Invalid isoformat" in str(exc) else f" ({exc})"
            return None, (
                "expected an ISO-8601 time such as 2026-11-22T08:30:00+08:00, "
                f"found {_show(value)}{detail}"
            )
        try:
            return clock.stamp(clock.check_range(when, now=now)), None
        except ValueError as exc:
            return None, str(exc)

    def _text(self, value: Any) -> tuple[Any, str | None]:
        if not isinstance(value, str):
            return None, f"expected a string, found {type(value).__name__}"
        problem = check_text(value)
        if problem:
            return None, problem
        if len(value) > self.max_length:
            return None, f"at most {self.max_length} characters, found {len(value)}"
        if self.pattern and not re.search(self.pattern, value):  # as a JSON schema reads it
            return None, f"expected {self.hint or self.pattern}, found {_show(value)}"
        value = value.strip()
        if len(value) < self.min_length:
            return None, "required: may not be blank"
        return value, None

    def _number(self, value: Any) -> tuple[Any, str | None]:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, f"expected a number, found {_show(value)}"
        if not math.isfinite(value):
            return None, f"expected a finite number, found {value}"
        if self.kind == "integer" and value != int(value):
            return None, f"expected a whole number, found {value}"
        low = -math.inf if self.minimum is None else self.minimum
        high = math.inf if self.maximum is None else self.maximum
        if not low <= value <= high:
            return None, f"expected {_num(low)} to {_num(high)}, found {_num(value)}"
        return (int(value) if self.kind == "integer" else float(value)), None

    def json_schema(self) -> dict:
        """The field's rules as an OpenAPI 3.0 schema object."""
        out: dict[str, Any] = {
            "text": {"type": "string", "maxLength": self.max_length},
            "number": {"type": "number"},
            "integer": {"type": "integer"},
            "boolean": {"type": "boolean"},
            "choice": {"type": "string", "enum": list(self.choices)},
            "time": {"type": "string", "format": "date-time"},
        }[self.kind]
        if self.kind == "text" and self.min_length:
            # blank (spaces only) is refused too; a pattern says it to the fuzzer
            out.update(minLength=self.min_length, pattern=r"\S")
        if self.kind == "text" and self.pattern:
            out["pattern"] = self.pattern
        if self.kind in ("number", "integer"):
            if self.minimum is not None:
                out["minimum"] = self.minimum
            if self.maximum is not None:
                out["maximum"] = self.maximum
        if not self.required:
            out["nullable"] = True
            if self.default is not None:
                out["default"] = self.default
        description = self.description
        if self.kind == "time":
            description = (description + "; " if description else "") + (
                "from 2000-01-01 to one day after now; a naive time is UTC"
            )
        if description:
            out["description"] = description
        if self.deprecated:
            out["deprecated"] = True
        return out


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Record:
    """A JSON object of declared fields; unknown fields are refused."""

    name: str
    fields: tuple[Field, ...]
    description: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        """The field called ``name`` (KeyError when there is none)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def problems(self, body: Any, *, prefix: str = "", now: Any = None) -> tuple[dict, dict]:
        """(normalised values, problems): each problem keyed by ``prefix`` + field name."""
        if not isinstance(body, dict):
            return {}, {prefix.rstrip(".") or "body": "expected a JSON object"}
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for f in self.fields:
            raw = body.get(f.name)
            if raw is None:
                if f.required:
                    errors[prefix + f.name] = "required"
                values[f.name] = f.default
                continue
            value, problem = f.check(raw, now=now)
            if problem:
                errors[prefix + f.name] = problem
            values[f.name] = value
        for name in sorted(set(body) - set(self.names), key=str):
            errors[prefix + str(name)] = "unknown field"
        return values, errors

    def validate(self, body: Any, *, now: Any = None) -> dict:
        """The body's values, normalised (defaults filled in); ValidationError naming every bad
        field otherwise. ``now`` (an aware datetime) bounds times; default the current time."""
        values, errors = self.problems(body, now=now)
        if errors:
            raise ValidationError(errors)
        return values

    def json_schema(self) -> dict:
        """The record as an OpenAPI 3.0 schema object."""
        out: dict[str, Any] = {"type": "object"}
        required = [f.name for f in self.fields if f.required]
        if required:
            out["required"] = required
        out["additionalProperties"] = False
        out["properties"] = {f.name: f.json_schema() for f in self.fields}
        if self.description:
            out["description"] = self.description
        return out

    def parameters(self) -> list[dict]:
        """The record's fields as OpenAPI 3.0 query parameters (each optional, not nullable:
        an absent parameter takes its default)."""
        out = []
        for f in self.fields:
            schema = f.json_schema()
            schema.pop("nullable", None)
            description = schema.pop("description", f.name)
            param = {"name": f.name, "in": "query", "required": f.required}
            out.append({**param, "description": description, "schema": schema})
        return out


def batch_schema(key: str, record: Record) -> dict:
    """The OpenAPI schema of a batch ``{key: [record, ...]}`` (1 to :data:`MAX_BATCH` items)."""
    return {
        "type": "object",
        "required": [key],
        "additionalProperties": False,
        "properties": {
            key: {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BATCH,
                "items": {"$ref": f"#/components/schemas/{record.name}"},
            }
        },
    }


def validate_batch(body: Any, key: str, record: Record) -> list[dict]:
    """The items of a batch ``{key: [...]}``, each validated against ``record``; one
    ValidationError naming every bad item's field (``key[i].field``)."""
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise ValidationError({key: f"expected a JSON object with a list {key!r}"})
    unknown = sorted(set(body) - {key}, key=str)
    if unknown:
        raise ValidationError({str(k): "unknown field" for k in unknown})
    items = body[key]
    if not 1 <= len(items) <= MAX_BATCH:
        raise ValidationError({key: f"expected 1 to {MAX_BATCH} items, found {len(items)}"})
    out, errors = [], {}
    for i, item in enumerate(items):
        values, problems = record.problems(item, prefix=f"{key}[{i}].")
        errors.update(problems)
        out.append(values)
    if errors:
        raise ValidationError(errors)
    return out


def _text(name: str, *, required: bool = False, max_length: int = MAX_TEXT, **kw: Any) -> Field:
    return Field(
        name,
        "text",
        required=required,
        min_length=1 if required else 0,
        max_length=max_length,
        **kw,
    )


#: A new case (``POST /api/v1/cases``, each row of a case import).
NEW_CASE = Record(
    "NewCase",
    (
        _text(
            "client_id", max_length=100, description="the client's own id: retries never duplicate"
        ),
        Field("category", "choice", required=True, choices=CATEGORY_CODES),
        Field("source", "choice", choices=SOURCE_CODES, default="grid_worker"),
        Field("lon", "number", required=True, minimum=-180, maximum=180, description="WGS84"),
        Field("lat", "number", required=True, minimum=-90, maximum=90, description="WGS84"),
        _text("title", default=""),
        _text("description", default=""),
        _text("reporter_name", max_length=100, default=""),
        _text("reporter_phone", max_length=50, default=""),
        Field("reported_at", "time", description="default: the time the server receives it"),
        _text("address", default="", description="where the case is, in words"),
        Field(
            "urgency",
            "choice",
            choices=URGENCY_CODES,
            default="normal",
            description="urgent cases flash on the wall until an operator marks them seen",
        ),
    ),
)

#: A status change (``POST /api/v1/cases/{id}/transitions``). The actor is the authenticated
#: principal; ``actor`` in the body is free text, kept in the comment.
TRANSITION = Record(
    "Transition",
    (
        Field("to_status", "choice", required=True, choices=STATUS_CODES[1:]),
        _text("comment", default=""),
        Field("at", "time", description="default: the time the server receives it"),
        _text(
            "actor",
            max_length=200,
            default="",
            deprecated=True,
            description="free text kept in the comment; the actor recorded is the signed-in "
            "user or the token",
        ),
        Field(
            "version",
            "integer",
            minimum=1,
            description="the case's version the change was decided on: 409 conflict when the "
            "case changed since",
        ),
        _text(
            "assignee",
            max_length=107,
            default="",
            # empty (nobody named), a worker id of 1-100 characters or a known department
            pattern=r"^(worker:\S(.{0,98}\S)?|dept:(" + "|".join(DEPARTMENT_CODES) + "))?$",
            hint=f"worker:<worker id> or dept:<one of {list(DEPARTMENT_CODES)}>",
            description="for a dispatch: worker:<worker id> or dept:<department>",
        ),
    ),
)


def _seen_version() -> Field:
    return Field(
        "version",
        "integer",
        minimum=1,
        description="the case's version the note was decided on: 409 conflict when the case's "
        "status changed since (a note leaves the version as it is)",
    )


#: 督办 (urge) of a case with a note (``POST /api/v1/cases/{id}/urge``, the desk's 督办).
NOTE_URGE = Record(
    "Urge",
    (
        _text("note", required=True, description="督办意见: what is expected, by when"),
        _seen_version(),
    ),
)

#: An urgent case marked seen (``POST /api/v1/cases/{id}/seen``, the desk's 标记已阅): it stops
#: flashing on the wall.
NOTE_SEEN = Record("Seen", (_text("note", default=""), _seen_version()))

#: A patrol GPS fix (``POST /api/v1/patrols/points``, each row of a GPS import).
PATROL_POINT = Record(
    "PatrolPoint",
    (
        _text("worker_id", required=True, max_length=100),
        Field("at", "time", required=True),
        Field("lon", "number", required=True, minimum=-180, maximum=180),
        Field("lat", "number", required=True, minimum=-90, maximum=90),
        Field("accuracy", "number", minimum=0, maximum=10000, description="metres"),
    ),
)

#: A camera (``PUT /api/v1/cameras``, each camera of a camera import).
CAMERA = Record(
    "Camera",
    (
        _text("camera_id", required=True, max_length=100),
        _text("name", max_length=200, default=""),
        Field("lon", "number", required=True, minimum=-180, maximum=180),
        Field("lat", "number", required=True, minimum=-90, maximum=90),
        Field(
            "bearing", "number", minimum=0, maximum=360, description="degrees clockwise from north"
        ),
        Field(
            "fov",
            "number",
            minimum=1,
            maximum=360,
            default=90.0,
            description="field of view, degrees",
        ),
        Field("range_m", "number", minimum=1, maximum=1000, default=50.0, description="metres"),
        Field("mount_height", "number", minimum=0, maximum=200, default=4.0, description="metres"),
        Field("camera_type", "choice", choices=CAMERA_TYPES, default="fixed"),
    ),
)

#: A camera's heartbeat (``POST /api/v1/cameras/heartbeats``).
HEARTBEAT = Record(
    "Heartbeat",
    (
        _text("camera_id", required=True, max_length=100),
        Field("at", "time", required=True),
        Field("online", "boolean", required=True),
    ),
)

#: The query parameters of the case list (``GET /api/v1/cases``); any other is refused. The
#: API reads them from the query string (:func:`dashboard.api`'s list filters) by these rules.
CASE_LIST = Record(
    "CaseList",
    (
        _text("status", description="status, or several separated by commas"),
        Field("category", "choice", choices=CATEGORY_CODES),
        Field("level", "choice", choices=LEVEL_CODES, description="handling level"),
        _text("township_code", description="12-digit township code"),
        _text("community_code", description="12-digit community code"),
        _text("grid_code", description="15-digit grid code"),
        Field("since", "time", description="reported at or after"),
        Field("until", "time", description="reported before"),
        Field("overdue", "boolean", description="only overdue (true) or not overdue (false)"),
        Field("urgency", "choice", choices=URGENCY_CODES),
        Field(
            "view",
            "choice",
            choices=VIEW_CODES,
            description="the desk's views at the time of the request: open (the KPI's open "
            "cases), open_overdue (open past the deadline, the wall's 超期未结), today (reported "
            "since local midnight), urgent (urgent and open)",
        ),
        _text(
            "q",
            description="search: a case number (or its start), words of the title, description "
            "or address, or the start of a grid code",
        ),
        Field("limit", "integer", minimum=1, maximum=500, default=50, description="page size"),
        Field(
            "offset", "integer", minimum=0, maximum=10**9, default=0, description="items to skip"
        ),
    ),
)
