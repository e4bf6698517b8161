"""The one door for access decisions (wangge.access): roles, pages and scopes."""

from __future__ import annotations

import pytest

from wangge.access import ROLES, Action, Principal, Scope, may, may_open


def principal(role: str, scope: str = "") -> Principal:
    return Principal.from_identity({"username": "u", "role": role, "scope": scope})


@pytest.mark.parametrize("bad", ["", "4209", "420999001", "420999001001", "42099900100x", None])
def test_a_malformed_township_never_widens_the_scope(bad):
    scope = principal("township", bad).scope
    assert scope.empty and not scope.county_wide
    assert not scope.contains("420999001000")
    assert not scope.contains("420999001001002")


def test_a_township_sees_its_own_units_only():
    scope = principal("township", "420999001000").scope
    assert scope.contains("420999001000")  # the township
    assert scope.contains("420999001002")  # a community
    assert scope.contains("420999001002003")  # a grid
    assert not scope.contains("420999002001")
    assert not scope.contains(None)
    assert scope.keep(["420999001001", "420999002001"]) == [True, False]


def test_a_township_that_does_not_exist_sees_nothing():
    scope = principal("township", "420999009000").scope.within(["420999001000"])
    assert scope.empty
    assert principal("township", "420999001000").scope.within(["420999001000"]).township


@pytest.mark.parametrize("role", ["county", "planner", "writer", "wall"])
def test_county_wide_roles(role):
    assert principal(role).scope.county_wide


def test_an_unknown_role_gets_nothing():
    p = principal("admin")
    assert p.scope.empty
    assert not may(p, Action.READ)
    assert not may_open(p, "/")
    assert not may(None, Action.READ) and not may_open(None, "/wall")


def test_role_rules():
    assert set(ROLES) == {"county", "township", "planner", "writer", "wall"}
    assert may(principal("county"), Action.EDIT_GRIDS)
    assert may(principal("planner"), Action.EDIT_GRIDS)
    assert not may(principal("planner"), Action.WRITE)
    assert not may(principal("township", "420999001000"), Action.EDIT_GRIDS)
    assert not may(principal("wall"), Action.WRITE)
    assert may_open(principal("wall"), "/wall") and not may_open(principal("wall"), "/cases")
    assert not may_open(principal("writer"), "/")


def test_scope_constructors():
    assert Scope.county().contains("420999002001")
    assert not Scope.nothing().contains("420999002001")
    assert Scope.of_township("420999002000").prefix == "420999002"
    assert Scope.county().prefix == ""


def test_the_wall_views_aggregates_and_reads_no_record():
    wall = principal("wall")
    assert may(wall, Action.VIEW) and may(wall, Action.LINK_SIGN_IN)
    assert not may(wall, Action.READ) and not may(wall, Action.WRITE)
    for role in ("county", "township", "planner", "writer"):
        p = principal(role, "420999001000" if role == "township" else "")
        assert may(p, Action.VIEW) and may(p, Action.READ), role
        assert not may(p, Action.LINK_SIGN_IN), role
