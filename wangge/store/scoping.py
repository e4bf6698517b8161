"""The one place where an access :class:`~wangge.access.Scope` becomes a filter of the store.

Every query of the store that returns or changes township data takes a ``scope`` (keyword,
required) and narrows itself with :func:`scope_sql` (SQL over an indexed code column) or
:func:`scoped` (a cached reference frame). Callers never build township filters: they pass the
principal's scope, or ``Scope.county()`` where the whole county is meant (the CLI, the demo
simulation and feed, the analytics warm-up).

A township scope keeps the codes that start with the township's 9 digits (its communities and
grids share them). The condition is a range over the column (``code >= '420999001' AND code <
'420999002'``), which SQLite answers from the column's index as it answered the ``LIKE`` and
prefix filters it replaces; cases are matched on their ``township_code`` exactly
(``cases_township`` index). An empty scope matches nothing.

>>> scope_sql(Scope.county(), "grid_code")
('1', ())
>>> scope_sql(Scope.of_township("420999001000"), "grid_code")
('(grid_code >= ? AND grid_code < ?)', ('420999001', '420999002'))
>>> scope_sql(Scope.of_township("420999001000"), "township_code", exact=True)
('township_code = ?', ('420999001000',))
>>> scope_sql(Scope.nothing(), "grid_code")
('0', ())
"""

from __future__ import annotations

import pandas as pd

from wangge.access import Scope

__all__ = ["check_scope", "scope_sql", "scoped"]


def check_scope(scope: object) -> Scope:
    """``scope`` itself; TypeError when it is not a :class:`~wangge.access.Scope` (a township
    code given as a string, or None, must never mean "everything" by accident)."""
    if not isinstance(scope, Scope):
        raise TypeError(
            f"scope must be a wangge.access.Scope (Scope.county(), Scope.of_township(code) or "
            f"a principal's scope), found {scope!r}"
        )
    return scope


def scope_sql(scope: Scope, column: str, *, exact: bool = False) -> tuple[str, tuple]:
    """A SQL condition keeping the rows of ``column`` (a township, community or grid code)
    inside ``scope``, and its arguments: ``"1"`` county-wide, ``"0"`` for an empty scope.

    ``exact`` matches the township code itself (for a column that holds township codes)."""
    check_scope(scope)
    if scope.empty:
        return "0", ()
    if scope.township is None:
        return "1", ()
    if exact:
        return f"{column} = ?", (scope.township,)
    prefix = scope.prefix
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return f"({column} >= ? AND {column} < ?)", (prefix, upper)


def scoped(frame: pd.DataFrame, scope: Scope, column: str) -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` lies inside ``scope`` (all of them county-wide)."""
    check_scope(scope)
    if scope.county_wide:
        return frame
    if scope.empty or frame.empty:
        return frame.iloc[0:0]
    return frame[frame[column].astype(str).str.startswith(scope.prefix)]
