"""The planner's services: drafts of moves, tallies and violations, polygons from cells,
merge, split, lock and re-run, diff, restore, publish, relocation, exports and the audit log."""

from __future__ import annotations

import io
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from conftest import load_tiny_county

from wangge.access import Scope
from wangge.casework import validate_new_case
from wangge.services import planner
from wangge.services.locate import Locator
from wangge.services.planner_diff import diff_versions, version_rows
from wangge.services.planner_export import EXPORTERS, export_version, register_exporter
from wangge.store import Store, StoreError

COUNTY = Scope.county()
C1 = "420999001001"  # community of 8 buildings B00000..B00007, one grid C1 + "001"
G1 = C1 + "001"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A tiny store whose first community has two grids (4 + 4 buildings), published."""
    store = Store(tmp_path_factory.mktemp("planner") / "wangge.sqlite")
    load_tiny_county(store)
    made = planner.save_draft(
        store, 1, [{"building": f"B{i:05d}", "to": "new"} for i in (2, 3, 6, 7)], author="seed"
    )
    store.publish_grid_version(made["id"], actor="seed")
    return None, made["id"], store


@pytest.fixture
def store(base, tmp_path):
    """A copy of the base store for each test (tests write)."""
    _, _, src = base
    dst = Store(tmp_path / "wangge.sqlite")
    with src.connect() as con:
        con.execute("VACUUM INTO ?", (str(tmp_path / "wangge.sqlite"),))
    return dst


def test_a_new_grid_gets_the_next_number_and_polygons_tile_the_community(base, store):
    _, vid, _ = base
    grids = store.grids(vid, scope=COUNTY)
    mine = grids[grids["community_code"] == C1].set_index("grid_code")
    assert list(mine.index) == [G1, C1 + "002"]
    assert mine["buildings"].tolist() == [4, 4]
    assert mine.geometry.is_valid.all()
    assert mine["households"].tolist() == [24 + 25 + 28 + 29, 26 + 27 + 30 + 31]
    # the two polygons tile the community and each holds its own buildings whole
    community = store.admin_units("community", scope=COUNTY).set_index("code").geometry[C1]
    union = shapely.union_all(mine.geometry.to_numpy())
    assert abs(union.area - community.area) / community.area < 1e-6
    assert mine.geometry.iloc[0].intersection(mine.geometry.iloc[1]).area < 1e-12
    blds = store.community_buildings(C1).set_index("building_id")
    assignment = store.version_assignment(vid, community_code=C1).set_index("building_id")
    for b, code in assignment["grid_code"].items():
        assert mine.geometry[code].contains(blds.geometry[b].buffer(-1e-7)), b


def test_moves_give_tallies_and_violations_and_keep_other_codes(base, store):
    _, vid, _ = base
    out = planner.save_draft(store, vid, [{"building": "B00000", "to": C1 + "002"}], author="p")
    tallies = {t["grid"]: t for t in out["tallies"]}
    assert tallies[G1]["buildings"] == 3 and tallies[C1 + "002"]["buildings"] == 5
    assert tallies[G1]["households"] == 25 + 28 + 29
    kinds = {(v["kind"], v["grid"]) for v in out["violations"]}
    assert ("under", G1) in kinds  # 82 households < 300
    # other communities keep their grids, byte for byte
    old = store.grids(vid, scope=COUNTY).set_index("grid_code")
    new = store.grids(out["id"], scope=COUNTY).set_index("grid_code")
    for code in old.index.difference([G1, C1 + "002"]):
        assert old.geometry[code].equals_exact(new.geometry[code], 0)
    assert store.grid_moves(out["id"]).to_dict("records") == [
        {"building_id": "B00000", "from_code": G1, "to_code": C1 + "002"}
    ]


def test_a_grid_in_two_parts_and_an_emptied_grid_are_violations(base, store):
    _, vid, _ = base
    # B00000 and B00003 sit at opposite ends of the community's lower row
    out = planner.save_draft(store, vid, [{"building": "B00003", "to": G1}])
    assert {"kind": "noncontiguous", "grid": G1, "parts": 2, "community": C1} in out["violations"]
    rest = [{"building": f"B{i:05d}", "to": G1} for i in (2, 3, 6, 7)]
    out = planner.save_draft(store, vid, rest)
    assert {"kind": "empty", "grid": C1 + "002", "households": 0, "community": C1} in out[
        "violations"
    ]
    assert C1 + "002" not in set(store.grids(out["id"], scope=COUNTY)["grid_code"])


def test_bad_moves_are_named_all_at_once(base, store):
    _, vid, _ = base
    with pytest.raises(
        planner.PlannerError, match=r"3 bad move\(s\), first moves\[0\]\.building"
    ) as e:
        planner.save_draft(
            store,
            vid,
            [
                {"building": "NOPE", "to": G1},
                {"building": "B00000", "to": "420999002001001"},
                {"building": "B00001", "to": "999"},
            ],
        )
    assert set(e.value.fields) == {"moves[0].building", "moves[1].to", "moves[2].to"}
    assert "community 420999002001" in e.value.fields["moves[1].to"]
    with pytest.raises(StoreError, match="grid version 999 does not exist"):
        planner.save_draft(store, 999, [])


def test_numbers_of_removed_grids_are_never_reused(base, store):
    _, vid, _ = base
    gone = planner.save_draft(store, vid, planner.merge_moves(store, vid, G1, C1 + "002"))
    assert C1 + "002" not in set(store.grids(gone["id"], scope=COUNTY)["grid_code"])
    again = planner.save_draft(store, gone["id"], [{"building": "B00007", "to": "new"}])
    assert C1 + "003" in set(store.grids(again["id"], scope=COUNTY)["grid_code"])


def test_split_and_rerun_keep_codes_of_what_did_not_change(base, store):
    _, vid, _ = base
    moves = planner.split_moves(store, vid, G1, 2)
    assert moves and {m["to"] for m in moves} == {"new:split-001-1"}
    split = planner.save_draft(store, vid, moves)
    codes = set(store.grids(split["id"], scope=COUNTY)["grid_code"])
    assert {G1, C1 + "002", C1 + "003"} <= codes
    # locking both grids of the first community: the re-run moves nothing
    assert planner.rerun_moves(store, vid, C1, [G1, C1 + "002"]) == []
    # a building given to a locked grid stays there; the rest keeps its code
    moved = [{"building": "B00000", "to": C1 + "002"}]
    assert planner.rerun_moves(store, vid, C1, [C1 + "002"], moved) == moved


def test_diff_restore_publish_relocate_and_audit(base, store):
    _, vid, _ = base
    draft = planner.save_draft(store, vid, [{"building": "B00000", "to": C1 + "002"}], author="p")
    diff = diff_versions(store, draft["id"], vid, scope=COUNTY)
    assert diff["moved"] == [{"building": "B00000", "from": G1, "to": C1 + "002", "households": 24}]
    assert diff["changed"] == [G1, C1 + "002"] and diff["added"] == diff["removed"] == []
    assert (
        diff_versions(store, draft["id"], vid, scope=Scope.of_township("420999002000"))["moved"]
        == []
    )
    with pytest.raises(planner.PlannerError, match="needs a written reason"):
        planner.publish(store, draft["id"], actor="p")
    assert store.published_grid_version() == vid  # nothing changed
    # an open case in the moved building keeps its grid until relocated
    b0 = store.community_buildings(C1).set_index("building_id").geometry["B00000"].centroid
    case = validate_new_case(
        {"category": "safety", "lon": b0.x, "lat": b0.y}, now="2026-12-06T00:00:00Z"
    )
    stored, _ = store.create_case(case, Locator(store).locate(b0.x, b0.y), scope=COUNTY)
    assert stored["grid_code"] == G1
    planner.publish(store, draft["id"], actor="p", reason="road moved")
    assert store.published_grid_version() == draft["id"]
    restored = planner.restore(store, vid, author="p")
    assert store.version_assignment(restored["id"]).equals(store.version_assignment(vid))
    assert store.get_case(stored["case_id"], scope=COUNTY)["grid_code"] == G1
    moved = planner.relocate_open_cases(store, actor="p")
    assert moved["version"] == draft["id"] and moved["changed_grid"] >= 1
    after = store.get_case(stored["case_id"], scope=COUNTY)
    assert (after["grid_code"], after["grid_version_id"]) == (C1 + "002", draft["id"])
    actions = [(a["action"], a["version_id"], a["actor"]) for a in store.audit_log()]
    assert actions[:4] == [
        ("relocate", draft["id"], "p"),
        ("restore", restored["id"], "p"),
        ("publish", draft["id"], "p"),
        ("save", draft["id"], "p"),
    ]
    assert store.audit_log()[2]["detail"] == {"reason": "road moved"}
    rows = version_rows(store, community=C1)
    assert rows[0]["id"] == restored["id"] and rows[0]["parent"] == vid
    assert {r["id"]: r["touches_community"] for r in rows}[draft["id"]] is True


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "csv"])
def test_exports(base, store, fmt, tmp_path):
    _, vid, _ = base
    out = export_version(store, vid, fmt, scope=COUNTY, community=C1, options={"encoding": "GBK"})
    if fmt == "csv":
        frame = pd.read_csv(io.BytesIO(out.content), dtype=str)
        assert len(frame) == 8 and set(frame["grid_code"]) == {G1, C1 + "002"}
        return
    path = tmp_path / out.filename
    path.write_bytes(out.content)
    if fmt == "shp":
        with zipfile.ZipFile(path) as zf:
            assert zf.read("grids.cpg").decode().upper().startswith(("GBK", "936", "CP936"))
            zf.extractall(tmp_path / "shp")
        path = tmp_path / "shp" / "grids.shp"
    grids = gpd.read_file(path)
    assert sorted(grids["grid_code"]) == [G1, C1 + "002"]


def test_an_exporter_plugs_in_and_unknown_formats_are_named(base, store):
    _, vid, _ = base
    with pytest.raises(StoreError, match=r"format 'odt': expected one of \['csv', 'geojson'"):
        export_version(store, vid, "odt", scope=COUNTY)

    @register_exporter("txt")
    def _txt(store, vid, scope, community, options):
        from wangge.services.planner_export import Export

        return Export(b"x", "text/plain", "x.txt")

    try:
        assert export_version(store, vid, "txt", scope=COUNTY).content == b"x"
    finally:
        EXPORTERS.pop("txt")


def test_overlap_matrix_of_two_versions(base, store):
    _, vid, _ = base
    from wangge.services.planner_diff import overlap_matrix

    out = overlap_matrix(store, vid, 1, C1)  # two grids now against the one of version 1
    assert out["rows"] == [G1, C1 + "002"] and out["columns"] == [G1]
    assert out["households"] == [[24 + 25 + 28 + 29], [26 + 27 + 30 + 31]]
    assert out["mismatched"] == []  # each grid lies in the one old grid
    back = overlap_matrix(store, 1, vid, C1)  # the old grid spreads over both new ones
    assert back["households"] == [[106, 114]]
    assert sorted(back["mismatched"]) == ["B00000", "B00001", "B00004", "B00005"]
