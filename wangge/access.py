"""The one door for access decisions: who may read and write what, and where.

A :class:`Principal` is whoever asks: a signed-in user (county command centre, township leader,
planner, wall display) or an API token (the same roles plus ``writer``, a system that reports
cases). Every decision about it is taken here and nowhere else:

- :func:`may` answers whether the principal's role may do an :class:`Action` at all (``VIEW``
  aggregates and map layers, ``READ`` records, ``WRITE``, ``EDIT_GRIDS``, ``LINK_SIGN_IN``);
- :func:`may_open` whether it may open a page of the dashboard, :func:`home` the page it lands
  on;
- :attr:`Principal.scope` is the :class:`Scope` of data it may see. Every store query that
  returns or changes township data takes a scope; pages, callbacks, the API and the imports pass
  the principal's scope along and never build township filters themselves.

A scope is the whole county or one township (its 12-digit code; the township's communities
and grids share its first 9 digits). A township principal whose code is malformed, or names no
township of the county, gets :meth:`Scope.nothing`: an invalid unit never widens the scope,
and a principal whose scope is empty may do nothing and open no page.

>>> leader = Principal.from_identity({"username": "leader001", "role": "township",
...                                   "scope": "420999001000"})
>>> leader.scope.contains("420999001002003")
True
>>> leader.scope.contains("420999002001")
False
>>> Principal.from_identity({"username": "x", "role": "township", "scope": "4209"}).scope
Scope(township=None, empty=True)
>>> may(leader, Action.WRITE), may_open(leader, "/wall")
(True, True)
>>> wall = Principal("screen", "wall")
>>> may(wall, Action.VIEW), may(wall, Action.READ), may_open(wall, "/cases")
(True, False, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ROLES",
    "Action",
    "OutOfScope",
    "Principal",
    "Scope",
    "may",
    "home",
    "may_open",
]

_TOWNSHIP_CODE = re.compile(r"\d{9}000")


class OutOfScope(PermissionError):
    """A write that would create or change data outside the principal's scope (HTTP 403)."""


class Action(StrEnum):
    """What a principal may ask to do."""

    VIEW = "view"  #: aggregates and the map's layers: KPIs, rankings, boundaries (the wall's)
    READ = "read"  #: operational records: cases and their details, cameras, GPS tracks, buildings
    WRITE = "write"  #: cases and their transitions, cameras, heartbeats, GPS fixes, imports
    EDIT_GRIDS = "edit_grids"  #: draft, save and publish grid versions
    READ_GRID_VERSIONS = "read_grid_versions"  #: list, diff and export grid versions
    LINK_SIGN_IN = "link_sign_in"  #: a token in a page's address signs a screen in (the wall)


@dataclass(frozen=True)
class _Rules:
    actions: frozenset[Action]
    pages: frozenset[str] | None  # None: every page
    township_bound: bool = False


#: Each role's rules. ``writer`` exists for API tokens only (it has no pages).
_ROLE_RULES: dict[str, _Rules] = {
    # a token in a page's address signs in a wall screen only, never a county browser
    "county": _Rules(frozenset(Action) - {Action.LINK_SIGN_IN}, None),
    "township": _Rules(
        frozenset({Action.VIEW, Action.READ, Action.WRITE, Action.READ_GRID_VERSIONS}),
        None,
        township_bound=True,
    ),
    "planner": _Rules(
        frozenset({Action.VIEW, Action.READ, Action.EDIT_GRIDS, Action.READ_GRID_VERSIONS}), None
    ),
    "writer": _Rules(frozenset({Action.VIEW, Action.READ, Action.WRITE}), frozenset()),
    # the wall display reads its own aggregates only: no case, camera or worker record
    "wall": _Rules(frozenset({Action.VIEW, Action.LINK_SIGN_IN}), frozenset({"/wall"})),
}

#: Every role a user or a token may have.
ROLES = tuple(_ROLE_RULES)


@dataclass(frozen=True)
class Scope:
    """The data a principal may see: the county (``township`` None), one township, or nothing.

    >>> Scope.county().contains("420999002001"), Scope.nothing().contains("420999002001")
    (True, False)
    """

    township: str | None = None
    empty: bool = False

    @classmethod
    def county(cls) -> Scope:
        return cls()

    @classmethod
    def nothing(cls) -> Scope:
        return cls(None, True)

    @classmethod
    def of_township(cls, code: object) -> Scope:
        """One township's scope; nothing at all when ``code`` is not a township code."""
        if isinstance(code, str) and _TOWNSHIP_CODE.fullmatch(code):
            return cls(code)
        return cls.nothing()

    @property
    def county_wide(self) -> bool:
        return self.township is None and not self.empty

    @property
    def prefix(self) -> str:
        """The code prefix every unit, grid and case of the scope starts with ("" county-wide)."""
        return self.township[:9] if self.township else ""

    def contains(self, code: object) -> bool:
        """Whether a township, community or grid code lies inside the scope."""
        if self.empty:
            return False
        if self.township is None:
            return True
        return isinstance(code, str) and code.startswith(self.prefix)

    def keep(self, codes: Iterable[object]) -> list[bool]:
        """A mask over ``codes``: which lie inside the scope (to filter a frame's rows)."""
        return [self.contains(c) for c in codes]

    def within(self, known_townships: Iterable[str]) -> Scope:
        """This scope, or nothing when its township is not among ``known_townships``."""
        if self.township is not None and self.township not in set(known_townships):
            return Scope.nothing()
        return self


@dataclass(frozen=True)
class Principal:
    """Whoever asks: a signed-in user or an API token, with its role and township."""

    name: str
    role: str
    township: str | None = None

    @classmethod
    def from_identity(
        cls, identity: Mapping[str, object], *, known_townships: Iterable[str] | None = None
    ) -> Principal:
        """From a session's user or a token's row: ``{username|name, role, scope}``.

        An unknown role gets no action, no page and no data. With ``known_townships`` (the
        townships of the store), a township principal whose township is not among them keeps
        no township, so its scope is :meth:`Scope.nothing`.

        >>> p = Principal.from_identity({"name": "t", "role": "township", "scope": "420999009000"},
        ...                             known_townships=["420999001000"])
        >>> p.scope.empty
        True
        """
        name = str(identity.get("username") or identity.get("name") or "")
        role = str(identity.get("role") or "")
        township = identity.get("scope") or None
        principal = cls(name, role, township if isinstance(township, str) else None)
        if known_townships is not None and principal.scope.within(known_townships).empty:
            principal = cls(name, role, None)
        return principal

    @property
    def _rules(self) -> _Rules | None:
        return _ROLE_RULES.get(self.role)

    @property
    def scope(self) -> Scope:
        """The principal's scope: county-wide roles see the county, a township leader or token
        their township, a malformed township or an unknown role nothing."""
        rules = self._rules
        if rules is None:
            return Scope.nothing()
        if rules.township_bound:
            return Scope.of_township(self.township)
        return Scope.county()


def _rules_of(principal: Principal | None) -> _Rules | None:
    """The rules of ``principal``'s role; None for nobody, an unknown role or an empty scope."""
    if principal is None or principal.scope.empty:
        return None
    return principal._rules


def may(principal: Principal | None, action: Action) -> bool:
    """Whether ``principal``'s role may do ``action`` (within its scope; nothing at all when
    the scope is empty)."""
    rules = _rules_of(principal)
    return rules is not None and action in rules.actions


def may_open(principal: Principal | None, path: str) -> bool:
    """Whether ``principal`` may open the dashboard page at ``path``."""
    rules = _rules_of(principal)
    if rules is None:
        return False
    return rules.pages is None or path in rules.pages


def home(principal: Principal | None) -> str | None:
    """The page ``principal`` lands on: ``/`` when it may open every page, else the first it may
    open; None when it may open none.

    >>> home(Principal("w", "wall")), home(Principal("c", "county")), home(Principal("x", "writer"))
    ('/wall', '/', None)
    """
    rules = _rules_of(principal)
    if rules is None:
        return None
    if rules.pages is None:
        return "/"
    return min(rules.pages) if rules.pages else None
