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

from dataclasses import dataclass
from datetime import timedelta

from wangge import clock
from wangge.validation import (
    CATEGORY_CODES,
    DEPARTMENT_CODES,
    LEVEL_CODES,
    NEW_CASE,
    SOURCE_CODES,
    STATUS_CODES,
    TRANSITION,
    URGENCY_CODES,
    Field,
    ValidationError,
)

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

# the codes are declared once, with the validation schema (wangge.validation)
if tuple(CATEGORIES) != CATEGORY_CODES:  # pragma: no cover - a programming error
    raise ImportError(f"wangge.validation.CATEGORY_CODES differ from {list(CATEGORIES)}")

STATUSES = STATUS_CODES

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

LEVELS = LEVEL_CODES

#: How urgent a case is (``urgent``: flashes on the wall until seen).
URGENCIES = URGENCY_CODES

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
if tuple(DEPARTMENTS) != DEPARTMENT_CODES:  # pragma: no cover - a programming error
    raise ImportError(f"wangge.validation.DEPARTMENT_CODES differ from {list(DEPARTMENTS)}")

#: Where cases come from.
SOURCES = SOURCE_CODES


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
    checked, problem = TRANSITION.field("assignee").check(value)
    if problem or not checked:
        raise ValidationError({"assignee": problem or "required"})
    return str(checked)


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
    """An ISO-8601 time (with offset or ``Z``; naive means UTC) from 2000-01-01 to one day after
    now -> ``YYYY-MM-DDTHH:MM:SSZ``; ValidationError naming ``field`` otherwise."""
    if value is None:
        raise ValidationError({field: "required"})
    stamped, problem = Field(field, "time").check(value)
    if problem:
        raise ValidationError({field: problem})
    return stamped


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


def validate_new_case(body: object, *, now: str) -> dict:
    """Check a new case's fields (:data:`wangge.validation.NEW_CASE`); return them normalised
    with the deadline, or raise ValidationError naming every bad field. ``now`` (a stamp) is the
    report time of a case that gives none."""
    case = NEW_CASE.validate(body)
    case["client_id"] = case["client_id"] or None
    case["reported_at"] = case["reported_at"] or now
    case["deadline_at"] = deadline_for(case["category"], case["reported_at"])
    return case


def validate_transition_request(body: object) -> dict:
    """Check a status change request (:data:`wangge.validation.TRANSITION`): ``to_status``,
    ``comment``, ``at`` (None: now), ``version`` (the case's version the request was made from:
    a stale one is a conflict; None: not checked), ``assignee`` (who handles a dispatched case,
    :func:`parse_assignee`; empty: unchanged) and the free-text ``actor`` of older clients,
    which is kept in the comment (the actor recorded is the authenticated principal)."""
    change = TRANSITION.validate(body)
    said = change.pop("actor")
    if said:
        change["comment"] = "; ".join(filter(None, (change["comment"], f"actor given: {said}")))
    return change
