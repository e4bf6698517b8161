"""The planner's grid versions: drafts made of moves, tallies and violations, merge, split,
new grids, lock and re-run, restore, publish and the relocation of open cases.

A draft is its parent's building -> grid assignment plus moves (``{"building", "to"}``).
Saving one (:func:`save_draft`) resolves the moves, regenerates the polygons of the
communities it touches from the building cells (:mod:`wangge.services.planner_cells`: they
tile the community and never cut a building), computes tallies and violations there and stores
the version in one transaction with an audit row. ``to`` is a grid code of the parent in the
building's community or ``"new"``/``"new:LABEL"``: each label becomes a new grid whose number
counts on from the highest the community ever had, so no number is reused; grids keep their
codes otherwise.

Violations: households outside the version's band (``over``, ``under``), grids in more than
one part (``noncontiguous``) and grids left without buildings (``empty``, removed from the
draft). They are kept per community in the version's summary (communities a planner never
touched carry none: their grids are the engine's, with the engine's flags); publishing a
version that has violations needs a written reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wangge.access import Scope
from wangge.services.locate import Locator
from wangge.services.planner_cells import (
    Cells,
    cell_grids,
    community_cells,
    grid_parts,
    grid_polygons,
    outline_payload,
    rerun_community,
)
from wangge.store import Store, StoreError
from wangge.store.db import WGS84

__all__ = [
    "PlannerError",
    "band_of",
    "community_state",
    "current_assignment",
    "merge_moves",
    "publish",
    "relocate_open_cases",
    "rerun_moves",
    "restore",
    "save_draft",
    "split_moves",
    "summarise",
]

log = logging.getLogger(__name__)

_NEW = re.compile(r"new(:[\w\-]{1,40})?")
_DEFAULT_BAND = (300, 500)


class PlannerError(ValueError):
    """A planner's request that cannot be done; ``fields`` names the fields at fault."""

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.fields = fields or {}


def band_of(store: Store, version_id: int) -> tuple[int, int]:
    """The households band (min, max) ``version_id`` was made with (300..500 by default)."""
    params = store.grid_version_params(version_id)
    return (
        int(params.get("min_households", _DEFAULT_BAND[0])),
        int(params.get("max_households", _DEFAULT_BAND[1])),
    )


def _parent_assignment(store: Store, parent_id: int, community: str | None = None) -> pd.Series:
    """Building id -> grid code of ``parent_id`` (of one community)."""
    if not store.has_grid_version(parent_id):
        raise StoreError(f"grid version {parent_id} does not exist")
    frame = store.version_assignment(parent_id, community_code=community)
    return pd.Series(frame["grid_code"].to_numpy(), index=frame["building_id"].to_numpy())


def _resolve(store: Store, parent_id: int, moves: list, scope: Scope) -> pd.Series:
    """``moves`` -> building id -> target (a code, or ``COMMUNITY|new...`` for a new grid),
    checked against the parent version: every problem named by its move, all in one error."""
    if not isinstance(moves, list):
        raise PlannerError("moves: expected a list", {"moves": "expected a list"})
    wanted = [str(m.get("building")) for m in moves if isinstance(m, dict)]
    source = store.assignment_of(parent_id, wanted)
    codes = store.grid_kinds(parent_id)
    targets: dict[str, str] = {}
    problems: dict[str, str] = {}
    for i, move in enumerate(moves):
        where = f"moves[{i}]"
        if not isinstance(move, dict) or not {"building", "to"} <= set(move):
            problems[where] = 'expected {"building": ID, "to": GRID_CODE}'
            continue
        building, to = str(move["building"]), str(move["to"])
        grid = source.get(building)
        if grid is None:
            problems[f"{where}.building"] = f"{building!r} is in no grid of the parent version"
        elif not scope.contains(grid):
            problems[f"{where}.building"] = f"{building!r} is outside your township"
        elif _NEW.fullmatch(to):
            targets[building] = f"{grid[:12]}|{to}"
        elif to not in codes:
            problems[f"{where}.to"] = f"{to!r} is no grid of the parent version (or 'new')"
        elif to[:12] != grid[:12]:
            problems[f"{where}.to"] = (
                f"{to!r} is in community {to[:12]}, building {building!r} in {grid[:12]}"
            )
        else:
            targets[building] = to
    if problems:
        first = next(iter(problems.items()))
        raise PlannerError(f"{len(problems)} bad move(s), first {first[0]}: {first[1]}", problems)
    return pd.Series(targets, dtype=object)


def summarise(
    cells: Cells, grid_of: np.ndarray, band: tuple[int, int], pairs: np.ndarray | None = None
) -> dict:
    """Tallies (households, buildings per grid) and violations of one community's assignment
    ``grid_of`` (a code per building of ``cells``)."""
    frame = pd.DataFrame({"grid": grid_of, "hh": cells.households})
    tallies = frame.groupby("grid").agg(households=("hh", "sum"), buildings=("hh", "size"))
    parts = grid_parts(cells, grid_of, pairs)
    violations = []
    for code, row in tallies.iterrows():
        hh = int(row["households"])
        if hh > band[1]:
            violations.append({"kind": "over", "grid": code, "households": hh})
        elif hh < band[0]:
            violations.append({"kind": "under", "grid": code, "households": hh})
        if int(parts.get(code, 1)) > 1:
            violations.append({"kind": "noncontiguous", "grid": code, "parts": int(parts[code])})
    return {
        "tallies": [
            {"grid": str(c), "households": int(r.households), "buildings": int(r.buildings)}
            for c, r in tallies.iterrows()
        ],
        "violations": violations,
    }


def _numbered(store: Store, community: str, labels: Iterable[str]) -> dict[str, str]:
    """New grid labels of ``community`` -> fresh codes, counting on from its highest number."""
    last = store.last_grid_number(community)
    return {label: f"{community}{last + k:03d}" for k, label in enumerate(sorted(labels), 1)}


def _community_draft(store, parent_id, community, targets, band):
    """One touched community: grids to write (new or whose cells changed), grids removed,
    moves and summary."""
    cells = community_cells(store, community)
    assignment = _parent_assignment(store, parent_id, community)
    before = assignment.reindex(cells.building_id).fillna("").to_numpy(dtype=object)
    after = before.copy()
    position = cells.index
    mine = targets[targets.index.isin(position.index)]
    after[position[mine.index].to_numpy()] = mine.to_numpy()
    # buildings sharing a cell move together: each cell takes its last moved building's grid
    moved_cells = pd.Series(after[position[mine.index]], index=cells.cell_of[position[mine.index]])
    moved_cells = moved_cells[~moved_cells.index.duplicated(keep="last")]
    mates = np.isin(cells.cell_of, moved_cells.index)
    after[mates] = moved_cells.loc[cells.cell_of[mates]].to_numpy()
    labels = {c.split("|", 1)[1] for c in after if "|" in c}
    fresh = {f"{community}|{k}": v for k, v in _numbered(store, community, labels).items()}
    after = np.array([fresh.get(c, c) for c in after], dtype=object)
    summary = summarise(cells, after, band)
    # only grids whose cells changed get a new polygon; the others keep the parent's
    owner_before, owner_after = cell_grids(cells, before), cell_grids(cells, after)
    differ = owner_before != owner_after
    codes = sorted((set(owner_before[differ]) | set(owner_after[differ])) & set(after) - {""})
    rows = _grid_rows(store, parent_id, cells, community, after, codes, summary)
    gone = sorted(set(before) - set(after) - {""})
    summary["violations"] += [{"kind": "empty", "grid": c, "households": 0} for c in gone]
    changed = before != after
    moves = pd.DataFrame(
        {
            "building_id": cells.building_id[changed],
            "from_code": before[changed],
            "to_code": after[changed],
        }
    )
    return rows, gone, moves, summary


def _grid_rows(store, parent_id, cells, community, after, codes, summary) -> gpd.GeoDataFrame:
    """Rows of the grids ``codes`` (polygons from their cells, tallies, kind, flags)."""
    kinds = store.grid_kinds(parent_id, community)
    kind = max(set(kinds.values()), key=list(kinds.values()).count) if kinds else "urban"
    tallies = {t["grid"]: t for t in summary["tallies"]}
    flags: dict[str, list[str]] = {}
    for v in summary["violations"]:
        flags.setdefault(v["grid"], []).append(v["kind"])
    polygons = grid_polygons(cells, after, codes)
    return gpd.GeoDataFrame(
        {
            "grid_code": codes,
            "community_code": community,
            "households": [tallies[c]["households"] for c in codes],
            "buildings": [tallies[c]["buildings"] for c in codes],
            "kind": [kinds.get(c, kind) for c in codes],
            "flags": [";".join(flags.get(c, [])) for c in codes],
        },
        geometry=[polygons[c] for c in codes],
        crs=WGS84,
    )


def save_draft(
    store: Store,
    parent_id: int,
    moves: list,
    *,
    comment: str = "",
    author: str = "",
    scope: Scope | None = None,
    action: str = "save",
    reason: str = "",
) -> dict:
    """Save ``moves`` over ``parent_id`` as a new draft; return its id, parent, moved
    buildings, tallies and violations (of the communities the moves touch).

    PlannerError (naming each bad move) when a building is in no grid of the parent or
    outside ``scope``, or a target is no grid of the building's community.
    """
    scope = scope or Scope.county()
    if not store.has_grid_version(parent_id):
        raise StoreError(f"grid version {parent_id} does not exist")
    targets = _resolve(store, parent_id, moves, scope)
    band = band_of(store, parent_id)
    communities = sorted({t[:12] for t in targets})
    rows, removed, changes, summaries = [], [], [], {}
    for community in communities:
        grid_rows, gone, moved, summary = _community_draft(
            store, parent_id, community, targets, band
        )
        rows.append(grid_rows)
        removed += gone
        changes.append(moved)
        summaries[community] = summary
    old = (store.grid_version_info(parent_id)["summary"] or {}).get("communities", {})
    full = {"band": list(band), "communities": {**old, **summaries}}
    if reason.strip():
        full["reason"] = reason.strip()
    changed = (
        gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), crs=WGS84)
        if rows
        else gpd.GeoDataFrame({"grid_code": []}, geometry=[], crs=WGS84)
    )
    moved = (
        pd.concat(changes, ignore_index=True)
        if changes
        else pd.DataFrame(columns=["building_id", "from_code", "to_code"])
    )
    vid = store.save_grid_draft(
        parent_id,
        moves=moved,
        changed=changed,
        removed=removed,
        author=author,
        comment=comment,
        summary=full,
        action=action,
    )
    return {
        "id": vid,
        "parent": parent_id,
        "moved": int(len(moved)),
        "band": list(band),
        "tallies": [t | {"community": c} for c, s in summaries.items() for t in s["tallies"]],
        "violations": [v | {"community": c} for c, s in summaries.items() for v in s["violations"]],
    }


def current_assignment(
    store: Store, version_id: int, moves: list, community: str | None = None
) -> pd.Series:
    """Building id -> grid code (or ``new`` label) of ``version_id`` plus ``moves`` (of one
    community)."""
    assignment = _parent_assignment(store, version_id, community)
    targets = _resolve(store, version_id, moves, Scope.county())
    targets = targets[targets.index.isin(assignment.index)]
    labels = targets.map(lambda to: to.split("|", 1)[1] if "|" in to else to)
    assignment[labels.index] = labels.to_numpy()
    return assignment


def community_state(store: Store, version_id: int, community: str) -> dict:
    """What the planner's page holds for one community of a version: buildings (id,
    households, grid, centroid), the building adjacency (pairs of positions), the band, the
    grid codes, tallies and violations and the cell edges the outlines are drawn from
    (:func:`~wangge.services.planner_cells.outline_payload`)."""
    cells = community_cells(store, community)
    assignment = _parent_assignment(store, version_id, community)
    grid_of = assignment.reindex(cells.building_id).fillna("").to_numpy(dtype=object)
    pairs = cells.building_edges()
    band = band_of(store, version_id)
    return {
        "version": version_id,
        "community": community,
        "band": list(band),
        "buildings": cells.building_id.tolist(),
        "households": cells.households.tolist(),
        "grid": grid_of.tolist(),
        "cell": cells.cell_of.tolist(),
        "edges": pairs.ravel().tolist(),
        "next_number": store.last_grid_number(community) + 1,
        "centroid": _centroids(store, community, cells),
        **outline_payload(cells),
        **summarise(cells, grid_of, band, pairs),
    }


def _centroids(store: Store, community: str, cells: Cells) -> list[float]:
    """Each building's centroid (EPSG:4326) as a flat [lat, lon, ...] list, in ``cells``'
    order: what the lasso and the box select by."""
    geometry = store.community_buildings(community).set_index("building_id").geometry
    xy = shapely.get_coordinates(shapely.centroid(geometry.reindex(cells.building_id).to_numpy()))
    return np.round(xy[:, ::-1], 7).ravel().tolist()


def merge_moves(store: Store, version_id: int, keep: str, absorb: str) -> list[dict]:
    """Moves that give every building of grid ``absorb`` to grid ``keep`` (same community)."""
    if keep[:12] != absorb[:12] or keep == absorb:
        raise PlannerError(
            f"merge {absorb!r} into {keep!r}: expected two grids of one community",
            {"absorb": "a grid of the same community"},
        )
    frame = store.version_assignment(version_id, community_code=keep[:12])
    ids = frame.loc[frame["grid_code"] == absorb, "building_id"]
    if ids.empty or not (frame["grid_code"] == keep).any():
        raise PlannerError(f"merge {absorb!r} into {keep!r}: no such grids in version {version_id}")
    return [{"building": b, "to": keep} for b in ids]


def split_moves(
    store: Store, version_id: int, grid_code: str, parts: int, *, current: pd.Series | None = None
) -> list[dict]:
    """Moves that split grid ``grid_code`` into ``parts`` grids with the engine: the part of
    most households keeps the code, the others become new grids (``new:split-K``)."""
    from geo.partition import partition

    if not 2 <= int(parts) <= 20:
        raise PlannerError(f"parts {parts}: expected 2 to 20", {"parts": "2 to 20"})
    if current is None:
        current = _parent_assignment(store, version_id, grid_code[:12])
    assignment = current
    ids = assignment.index[assignment.to_numpy() == grid_code]
    if len(ids) < parts:
        raise PlannerError(f"grid {grid_code!r} has {len(ids)} building(s): cannot split it")
    buildings = store.community_buildings(grid_code[:12])
    buildings = buildings[buildings["building_id"].isin(ids)].reset_index(drop=True)
    total = int(buildings["households"].sum())
    lo, hi = total // (parts + 0.5) + 1, -(-total // (parts - 0.5)) - 1
    result = partition(
        buildings[["building_id", "households", "geometry"]],
        households_column="households",
        min_households=max(int(lo), 1),
        max_households=max(int(hi), int(lo) + 1),
        workers=1,
    )
    got = pd.Series(
        result.buildings["grid_code"].to_numpy(),
        index=buildings["building_id"].to_numpy()[result.buildings["source_index"].to_numpy()],
    )
    biggest = buildings.groupby(got.reindex(buildings["building_id"]).to_numpy())[
        "households"
    ].sum()
    order = biggest.sort_values(ascending=False, kind="stable").index
    label = f"new:split-{grid_code[12:]}"
    name = {code: grid_code if k == 0 else f"{label}-{k}" for k, code in enumerate(order)}
    return [{"building": b, "to": name[c]} for b, c in got.items() if name[c] != grid_code]


def rerun_moves(
    store: Store,
    version_id: int,
    community: str,
    locked: list[str],
    moves: list | None = None,
) -> list[dict]:
    """Moves (relative to ``version_id``) that re-run the engine on ``community`` with the
    ``locked`` grids kept, warm-started from the version plus ``moves`` (grids out of the
    band as the version has them are kept too). Each grid of the
    re-run takes the code of the current grid it shares most households with (each code
    once, the largest overlaps first; locked grids keep theirs); the others become new grids.
    """
    assignment = _parent_assignment(store, version_id, community)
    mine = current_assignment(store, version_id, moves or [], community)
    if mine.empty:
        raise PlannerError(f"community {community}: no grids in version {version_id}")
    kinds = list(store.grid_kinds(version_id, community).values())
    rural = kinds.count("rural") > len(kinds) / 2
    band = band_of(store, version_id)
    result = rerun_community(
        store,
        community,
        mine,
        list(locked),
        band=band,
        rural=rural,
        frozen=_kept_out_of_band(store, community, assignment, mine, band),
    )
    result = result[result != ""]
    name = _match_codes(store, community, result, mine, set(locked))
    final = result.map(name)
    changed = final[final.to_numpy() != assignment.reindex(final.index).to_numpy()]
    return [{"building": b, "to": to} for b, to in zip(changed.index, changed, strict=True)]


def _kept_out_of_band(
    store: Store, community: str, version: pd.Series, mine: pd.Series, band: tuple[int, int]
) -> frozenset[str]:
    """Grids out of ``band`` whose buildings are those of the version (the planner left them
    so): the re-run keeps them as they are."""
    hh = store.community_buildings(community).set_index("building_id")["households"]
    before = {code: frozenset(g.index) for code, g in version.groupby(version)}
    out = set()
    for code, group in mine.groupby(mine):
        total = int(hh.reindex(group.index).fillna(0).sum())
        if before.get(code) == frozenset(group.index) and not band[0] <= total <= band[1]:
            out.add(str(code))
    return frozenset(out)


def _match_codes(
    store: Store, community: str, result: pd.Series, mine: pd.Series, locked: set[str]
) -> dict[str, str]:
    """Label of the re-run -> grid code: the current grid sharing most households (a hair
    more per building, so that empty buildings count), each code once; else a new grid."""
    hh = store.community_buildings(community).set_index("building_id")["households"]
    frame = pd.DataFrame(
        {"label": result, "code": mine.reindex(result.index).fillna("")},
        index=result.index,
    )
    frame["weight"] = hh.reindex(frame.index).fillna(0).to_numpy() + 1e-3
    overlap = frame[frame["code"] != ""].groupby(["label", "code"])["weight"].sum()
    overlap = overlap.sort_values(ascending=False, kind="stable")
    name = {code: code for code in locked}
    used = set(locked)
    for (label, code), _ in overlap.items():
        if label not in name and code not in used:
            name[label] = code
            used.add(code)
    for label in sorted(set(result) - set(name)):
        name[label] = f"new:rerun-{len(name)}"
    return name


def restore(store: Store, version_id: int, *, author: str) -> dict:
    """A new draft equal to ``version_id`` (whose parent it names); audited as a restore."""
    return save_draft(
        store,
        version_id,
        [],
        comment=f"restore of version {version_id}",
        author=author,
        action="restore",
    )


def publish(store: Store, version_id: int, *, actor: str, reason: str = "") -> dict:
    """Publish ``version_id`` atomically (the dashboard and new cases use it from now on);
    a version with violations needs a written ``reason``."""
    info = store.grid_version_info(version_id)
    communities = (info["summary"] or {}).get("communities", {})
    count = sum(len(c["violations"]) for c in communities.values())
    if count and not str(reason or "").strip():
        raise PlannerError(
            f"grid version {version_id} has {count} violation(s): publishing it needs a "
            "written reason",
            {"reason": "required when the version has violations"},
        )
    store.publish_grid_version(version_id, actor=actor, reason=str(reason or "").strip())
    return {"id": version_id, "status": "published", "violations": count}


def relocate_open_cases(store: Store, *, actor: str) -> dict:
    """Give every open case located on an older version its grid in the published version
    (the one explicit action that moves open cases); how many were relocated and how many of
    them changed grid."""
    version = store.published_grid_version()
    if version is None:
        raise PlannerError("no grid version is published")
    cases = store.open_cases_off_version(version)
    if cases.empty:
        store.add_audit(actor, "relocate", version, {"cases": 0, "changed_grid": 0})
        return {"version": version, "relocated": 0, "changed_grid": 0}
    located = pd.DataFrame(
        Locator(store).locate_many(cases["lon"].to_numpy(), cases["lat"].to_numpy())
    )
    located["case_id"] = cases["case_id"].to_numpy()
    located["moved"] = located["grid_code"].to_numpy() != cases["grid_code"].to_numpy()
    n = store.relocate_cases(located, version, actor=actor)
    return {"version": version, "relocated": n, "changed_grid": int(located["moved"].sum())}
