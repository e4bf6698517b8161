"""Case rules: categories with their deadlines, the status lifecycle, levels and validation.

Lifecycle (GB/T 30428 digital city management, adapted to grid management)::

    reported -> accepted -> dispatched -> in_progress -> resolved -> verified -> closed
                   |            |              |            |
                   +-- escalated (上报: to the next level, then accepted there)
    returned (退回) from reported, accepted, dispatched, in_progress or resolved (verification
    failed); a returned case is accepted or dispatched again.

Besides its status a case has an ``address`` (free text, as the reporter gave it) and an
``urgency`` (:data:`URGENCIES`: ``normal`` or ``urgent``; an urgent open case is pinned on the
wall until an operator marks it seen). Two more things happen to a case without changing its
status (:data:`NOTES`): 督办 (``urge``, a supervisor presses for action, with a note) and
``seen`` (an operator acknowledged an urgent case). A dispatch names who handles the case
(:func:`parse_assignee`): a grid worker (``worker:<id>``) or a county department
(``dept:<code>``, :data:`DEPARTMENTS`).

Escalation moves a case one level up: grid -> community -> township -> county; a county case
cannot be escalated further. Overdue is derived, never stored: a case is overdue when it is open
past its deadline, or was closed after it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from wangge import clock

__all__ = [
    "ACTIONS",
    "CATEGORIES",
    "DEPARTMENTS",
    "NOTES",
    "URGENCIES",
    "ConflictError",
    "Department",
    "action_choices",
    "parse_assignee",
    "LEVELS",
    "case_day",
    "SOURCES",
    "STATUSES",
    "TRANSITIONS",
    "Category",
    "TransitionError",
    "ValidationError",
    "deadline_for",
    "next_level",
    "parse_time",
    "validate_new_case",
    "validate_transition_request",
]


@dataclass(frozen=True)
class Category:
    code: str
    zh: str
    en: str
    deadline_hours: int


#: Case categories and their handling deadlines (hours from the report).
CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in (
        Category("dispute", "矛盾纠纷", "Dispute", 72),
        Category("safety", "安全隐患", "Safety hazard", 24),
        Category("sanitation", "环境卫生", "Sanitation", 48),
        Category("facilities", "市政设施", "Public facilities", 120),
        Category("order", "治安秩序", "Public order", 24),
        Category("services", "民生服务", "Livelihood services", 120),
    )
}

STATUSES = (
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

#: Allowed transitions: from status -> statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    "reported": frozenset({"accepted", "returned"}),
    "accepted": frozenset({"dispatched", "escalated", "returned"}),
    "dispatched": frozenset({"in_progress", "escalated", "returned"}),
    "in_progress": frozenset({"resolved", "escalated", "returned"}),
    "resolved": frozenset({"verified", "returned"}),
    "verified": frozenset({"closed"}),
    "returned": frozenset({"accepted", "dispatched"}),
    "escalated": frozenset({"accepted"}),
    "closed": frozenset(),
}

LEVELS = ("grid", "community", "township", "county")

#: How urgent a case is (``urgent``: flashes on the wall until seen).
URGENCIES = ("normal", "urgent")

#: The action (verb) that moves a case into each status, as the desk names its buttons.
ACTIONS: dict[str, str] = {
    "accepted": "accept",
    "dispatched": "dispatch",
    "in_progress": "start",
    "resolved": "resolve",
    "verified": "verify",
    "closed": "close",
    "returned": "return",
    "escalated": "escalate",
}

#: Things recorded in a case's history that do not change its status: 督办 and "seen".
NOTES = ("urge", "seen")


@dataclass(frozen=True)
class Department:
    code: str
    zh: str
    en: str


#: The county departments a case can be dispatched to (besides the grid's worker).
DEPARTMENTS: dict[str, Department] = {
    d.code: d
    for d in (
        Department("urban_management", "县城市管理局", "Urban management bureau"),
        Department("housing", "县住房和城乡建设局", "Housing and construction bureau"),
        Department("emergency", "县应急管理局", "Emergency management bureau"),
        Department("public_security", "县公安局", "Public security bureau"),
        Department("environment", "县生态环境局", "Ecology and environment bureau"),
        Department("market", "县市场监督管理局", "Market regulation bureau"),
        Department("civil_affairs", "县民政局", "Civil affairs bureau"),
        Department("water", "县水务局", "Water bureau"),
    )
}

#: Where cases come from.
SOURCES = ("grid_worker", "hotline_12345", "citizen", "camera_ai", "inspection")

MAX_TEXT = 2000


class ValidationError(ValueError):
    """A request whose fields are wrong; ``errors`` maps each field to what was expected."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class TransitionError(ValueError):
    """A status change the lifecycle does not allow (HTTP 409)."""


class ConflictError(TransitionError):
    """An action based on a stale view of a case: someone changed it since (HTTP 409).

    ``version`` is the case's current version, ``status`` its status, ``actor`` and ``at``
    who made the last change and when (UTC string)."""

    def __init__(self, case_id: str, *, version: int, status: str, actor: str, at: str):
        self.case_id, self.version, self.status = case_id, version, status
        self.actor, self.at = actor, at
        super().__init__(
            f"case {case_id} was changed by {actor or 'someone'} at {at} (now {status}, "
            f"version {version}); reload it and try again"
        )


def parse_assignee(value: object) -> str:
    """``worker:<id>`` or ``dept:<code>`` (a known department), checked; ValidationError else.

    >>> parse_assignee("dept:emergency")
    'dept:emergency'
    """
    if isinstance(value, str):
        kind, _, key = value.partition(":")
        if (kind == "worker" and 0 < len(key) <= 100) or (kind == "dept" and key in DEPARTMENTS):
            return value
    raise ValidationError(
        {
            "assignee": f"expected worker:<worker id> or dept:<one of {sorted(DEPARTMENTS)}>, "
            f"found {value!r}"
        }
    )


def action_choices(status: str, level: str) -> list[str]:
    """The statuses a case of ``status`` at ``level`` can be moved to, in lifecycle order
    (no escalation above the county).

    >>> action_choices("accepted", "county")
    ['dispatched', 'returned']
    """
    return [
        s
        for s in STATUSES
        if s in TRANSITIONS[status] and not (s == "escalated" and level == LEVELS[-1])
    ]


def parse_time(value: object, field: str) -> str:
    """An ISO-8601 time (with offset or ``Z``; naive means UTC) -> ``YYYY-MM-DDTHH:MM:SSZ``."""
    if not isinstance(value, str):
        raise ValidationError(
            {field: f"expected an ISO-8601 time string, found {type(value).__name__}"}
        )
    try:
        when = clock.parse_iso(value)
    except ValueError:
        raise ValidationError(
            {field: f"expected an ISO-8601 time such as 2026-11-22T08:30:00+08:00, found {value!r}"}
        ) from None
    return clock.stamp(when)


def case_day(reported_at: str) -> str:
    """``YYYYMMDD`` of the local (China) day of a UTC time string, for case ids.

    >>> case_day("2026-11-21T16:30:00Z")
    '20261122'
    """
    return clock.local_day(reported_at)


def deadline_for(category: str, reported_at: str) -> str:
    """The deadline of a case of ``category`` reported at ``reported_at`` (both UTC strings).

    >>> deadline_for("safety", "2026-11-22T00:30:00Z")
    '2026-11-23T00:30:00Z'
    """
    end = clock.parse_stamp(reported_at) + timedelta(hours=CATEGORIES[category].deadline_hours)
    return clock.stamp(end)


def next_level(level: str) -> str:
    """The level above ``level``; TransitionError at the county."""
    i = LEVELS.index(level)
    if i == len(LEVELS) - 1:
        raise TransitionError("a county-level case cannot be escalated further")
    return LEVELS[i + 1]


def _text(body: dict, field: str, errors: dict, *, required: bool = False) -> str:
    value = body.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = f"expected a string, found {type(value).__name__}"
        return ""
    if required and not value.strip():
        errors[field] = "required"
    if len(value) > MAX_TEXT:
        errors[field] = f"at most {MAX_TEXT} characters, found {len(value)}"
    return value.strip()


def _coordinate(body: dict, field: str, lo: float, hi: float, errors: dict) -> float:
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors[field] = f"expected a number, found {value!r}"
        return math.nan
    if not lo <= value <= hi:
        errors[field] = f"expected {lo} to {hi} degrees (WGS84), found {value}"
    return float(value)


def _urgency(body: dict, errors: dict) -> str:
    value = body.get("urgency")
    if value is None or value == "":
        return "normal"
    if value not in URGENCIES:
        errors["urgency"] = f"expected one of {list(URGENCIES)}, found {value!r}"
    return str(value)


def validate_new_case(body: object, *, now: str) -> dict:
    """Check a new case's fields; return them normalised or raise ValidationError (all problems)."""
    if not isinstance(body, dict):
        raise ValidationError({"body": "expected a JSON object"})
    errors: dict[str, str] = {}
    client_id = _text(body, "client_id", errors)
    if client_id and len(client_id) > 100:
        errors["client_id"] = "at most 100 characters"
    category = body.get("category")
    if category not in CATEGORIES:
        errors["category"] = f"expected one of {sorted(CATEGORIES)}, found {category!r}"
    source = body.get("source", "grid_worker")
    if source not in SOURCES:
        errors["source"] = f"expected one of {list(SOURCES)}, found {source!r}"
    lon = _coordinate(body, "lon", -180, 180, errors)
    lat = _coordinate(body, "lat", -90, 90, errors)
    reported_at = now
    if body.get("reported_at") is not None:
        try:
            reported_at = parse_time(body["reported_at"], "reported_at")
        except ValidationError as exc:
            errors.update(exc.errors)
    case = {
        "client_id": client_id or None,
        "category": category,
        "source": source,
        "lon": lon,
        "lat": lat,
        "title": _text(body, "title", errors),
        "description": _text(body, "description", errors),
        "reporter_name": _text(body, "reporter_name", errors),
        "reporter_phone": _text(body, "reporter_phone", errors),
        "address": _text(body, "address", errors),
        "urgency": _urgency(body, errors),
        "reported_at": reported_at,
    }
    unknown = set(body) - {*case, "reported_at"}
    for field in sorted(unknown):
        errors[field] = "unknown field"
    if errors:
        raise ValidationError(errors)
    case["deadline_at"] = deadline_for(category, reported_at)
    return case


def validate_transition_request(body: object) -> dict:
    """Check a status change request {to_status, actor, comment, at?, version?, assignee?}.

    ``version``: the case's version the request was made from (a stale one is a conflict);
    ``assignee``: who handles a dispatched case (:func:`parse_assignee`)."""
    if not isinstance(body, dict):
        raise ValidationError({"body": "expected a JSON object"})
    errors: dict[str, str] = {}
    to_status = body.get("to_status")
    if to_status not in STATUSES or to_status == "reported":
        errors["to_status"] = f"expected one of {list(STATUSES[1:])}, found {to_status!r}"
    actor = _text(body, "actor", errors, required=True)
    comment = _text(body, "comment", errors)
    at = None
    if body.get("at") is not None:
        try:
            at = parse_time(body["at"], "at")
        except ValidationError as exc:
            errors.update(exc.errors)
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        errors["version"] = f"expected a whole number, found {version!r}"
    elif version is not None and version < 1:
        errors["version"] = f"expected 1 or more, found {version}"
    assignee = ""
    if body.get("assignee") not in (None, ""):
        try:
            assignee = parse_assignee(body["assignee"])
        except ValidationError as exc:
            errors.update(exc.errors)
    known = {"to_status", "actor", "comment", "at", "version", "assignee"}
    for field in sorted(set(body) - known):
        errors[field] = "unknown field"
    if errors:
        raise ValidationError(errors)
    return {
        "to_status": to_status,
        "actor": actor,
        "comment": comment,
        "at": at,
        "version": version,
        "assignee": assignee,
    }
