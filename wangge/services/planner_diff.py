"""The difference between two grid versions, and the versions' history as plain data.

Like the QGIS redistricting plugin's log: the buildings whose grid changed (from -> to, with
households), those summed per from -> to pair, and the grids added, removed and changed (whose
buildings differ). Computed in SQLite with one join of the two versions' assignments
(:meth:`wangge.store.Store.version_diff`), so a diff of two county versions takes well under a
second (``benchmarks/planner.py``).
"""

from __future__ import annotations

import pandas as pd

from wangge.access import Scope
from wangge.store import Store, StoreError

__all__ = ["diff_versions", "overlap_matrix", "version_rows"]


def diff_versions(store: Store, version_id: int, against: int, *, scope: Scope) -> dict:
    """What changed from ``against`` to ``version_id`` inside ``scope``: ``moved`` buildings
    (building, from, to, households), ``pairs`` (from, to, buildings, households), grids
    ``added``, ``removed`` and ``changed``."""
    for vid in (version_id, against):
        if not store.has_grid_version(vid):
            raise StoreError(f"grid version {vid} does not exist")
    moved = store.version_diff(version_id, against)
    keep = [
        scope.contains(f) or scope.contains(t)
        for f, t in zip(moved["from_code"], moved["to_code"], strict=True)
    ]
    moved = moved[keep] if len(moved) else moved
    old = set(store.grids(against, scope=scope)["grid_code"])
    new = set(store.grids(version_id, scope=scope)["grid_code"])
    touched = (set(moved["from_code"]) | set(moved["to_code"])) - {""}
    pairs = (
        moved.groupby(["from_code", "to_code"], sort=True)
        .agg(buildings=("building_id", "size"), households=("households", "sum"))
        .reset_index()
    )
    return {
        "version": version_id,
        "against": against,
        "moved": [
            {
                "building": r.building_id,
                "from": r.from_code,
                "to": r.to_code,
                "households": int(r.households),
            }
            for r in moved.itertuples()
        ],
        "pairs": [
            {
                "from": r.from_code,
                "to": r.to_code,
                "buildings": int(r.buildings),
                "households": int(r.households),
            }
            for r in pairs.itertuples()
        ],
        "added": sorted(new - old),
        "removed": sorted(old - new),
        "changed": sorted(touched & old & new),
        "households_moved": int(moved["households"].sum()),
    }


def overlap_matrix(store: Store, version_id: int, other_id: int, community: str) -> dict:
    """Households shared by each grid of ``version_id`` (rows) and each grid of ``other_id``
    (columns) in ``community`` (多网合一: another grid layer imported as a version, e.g. the old
    system's grids or police beats): ``rows``, ``columns``, ``households`` (a matrix) and
    ``mismatched`` (buildings whose row grid's largest overlap is another column grid than
    theirs)."""
    a = store.version_assignment(version_id, community_code=community)
    b = store.version_assignment(other_id, community_code=community)
    hh = store.community_buildings(community).set_index("building_id")["households"]
    both = a.merge(b, on="building_id", suffixes=("_a", "_b"))
    both["households"] = both["building_id"].map(hh).fillna(0).astype(int)
    table = both.pivot_table(
        index="grid_code_a", columns="grid_code_b", values="households", aggfunc="sum", fill_value=0
    )
    best = table.idxmax(axis=1) if len(table) else pd.Series(dtype=object)
    mismatched = both.loc[both["grid_code_b"] != both["grid_code_a"].map(best), "building_id"]
    return {
        "rows": [str(r) for r in table.index],
        "columns": [str(c) for c in table.columns],
        "households": table.to_numpy(dtype=int).tolist(),
        "mismatched": mismatched.tolist(),
    }


def version_rows(store: Store, *, community: str | None = None) -> list[dict]:
    """Every grid version, newest first: id, parent, status, created_at, author, comment,
    published_at, grids, violations (None when the planner never checked it) and, with
    ``community``, whether the version changed that community's grids."""
    versions = store.grid_versions()
    touched = store.versions_touching(community) if community else set()
    rows = []
    for v in versions.itertuples():
        info = store.grid_version_info(int(v.version_id))
        summary = info["summary"]
        rows.append(
            {
                "id": int(v.version_id),
                "parent": None if info["parent_id"] is None else int(info["parent_id"]),
                "status": v.status,
                "created_at": v.created_at,
                "author": v.author,
                "comment": v.note,
                "published_at": v.published_at,
                "grids": int(v.grids),
                "violations": None
                if summary is None
                else sum(len(c["violations"]) for c in summary.get("communities", {}).values()),
                "touches_community": int(v.version_id) in touched if community else None,
            }
        )
    return rows[::-1]
