"""Grid codes: the community's 12-digit statistical code plus a 3-digit sequence.

As in DB11/T 2157-2023 (Beijing) and DB6101/T 3185-2024 (Xi'an): grids of a community are
numbered from west to east, then north to south (rows of roughly one grid's height, read like
text). When a previous version exists, a grid keeps the code of the previous grid it shares
most households with (one to one); new grids get numbers after the highest one in use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["grid_code", "reading_order", "assign_codes"]


def grid_code(community: str, sequence: int) -> str:
    """``community`` followed by a zero-padded 3-digit ``sequence``.

    Examples
    --------
    >>> grid_code("341122100101", 7)
    '341122100101007'
    """
    return f"{community}{sequence:03d}"


def reading_order(x: np.ndarray, y: np.ndarray, row_height: float) -> np.ndarray:
    """Positions sorted north to south in rows of ``row_height``, west to east in a row.

    Examples
    --------
    >>> reading_order(np.array([5.0, 0.0, 0.0]), np.array([10.0, 10.0, 0.0]), 5.0).tolist()
    [1, 0, 2]
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if len(x) == 0:
        return np.array([], dtype=np.int64)
    row = np.floor((y.max() - y) / max(row_height, 1e-9)).astype(np.int64)
    return np.lexsort((y * -1, x, row))


def assign_codes(
    community: str,
    x: np.ndarray,
    y: np.ndarray,
    row_height: float,
    *,
    overlap: pd.DataFrame | None = None,
) -> list[str]:
    """Codes for the grids of one community, given each grid's label point ``x``, ``y``.

    ``overlap`` (optional) has columns ``grid`` (position), ``previous_code`` and ``households``
    (households the grid shares with that previous grid); matched grids keep their previous
    code, the others are numbered after the highest previous sequence in reading order.
    """
    n = len(x)
    codes: list[str | None] = [None] * n
    used: set[str] = set()
    highest = 0
    if overlap is not None and len(overlap):
        prev = overlap[overlap["previous_code"].astype(str).str.startswith(community)]
        for code in prev["previous_code"].astype(str).unique():
            tail = code[len(community) :]
            if tail.isdigit():
                highest = max(highest, int(tail))
        ranked = prev.sort_values(
            ["households", "grid", "previous_code"], ascending=[False, True, True], kind="stable"
        )
        for grid, code, hh in ranked[["grid", "previous_code", "households"]].itertuples(
            index=False
        ):
            if hh <= 0 or codes[grid] is not None or code in used:
                continue
            codes[grid] = str(code)
            used.add(str(code))
    order = reading_order(x, y, row_height)
    seq = highest
    for pos in order:
        if codes[pos] is None:
            seq += 1
            code = grid_code(community, seq)
            while code in used:
                seq += 1
                code = grid_code(community, seq)
            codes[pos] = code
            used.add(code)
    return [str(c) for c in codes]
