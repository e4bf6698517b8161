"""The grid engine's contract: the independent checker, the engine's own check, real data.

Every check of ``tests/partition_checker.py`` is shown to fail on an output broken on
purpose (a building moved to a far grid, a bow-tie polygon, a changed household count, an
empty grid, ...), then run on the engine's written output: a synthetic town with buildings
across a community line, exclaves and a community without buildings, the demo county and
Liechtenstein (``../shared/data``).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from partition_checker import CHECKS, check_frames, check_written, read_written
from shapely.geometry import LineString, box

from geo.io import write_result
from geo.partition import contract, partition

CRS = "EPSG:32650"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(
    not (SHARED / "liechtenstein_osm.gpkg").exists(),
    reason="../shared/data (real OSM extracts) is not present in this checkout",
)


def town() -> dict:
    """Two communities split at x=200 with three buildings across the line, an exclave of B
    without buildings, a community C without buildings, a street, overlapping footprints."""
    rows = []
    for i in range(16):
        for j in range(8):
            x, y = 10 + i * 24, 10 + j * 24
            if abs(x + 6 - 200) < 14:
                continue
            rows.append({"geometry": box(x, y, x + 12, y + 12), "households": 7})
    # across the community line: 70% in A, 80% in B, 50.5% in A
    rows += [
        {"geometry": box(186, 200, 206, 210), "households": 30},
        {"geometry": box(196, 220, 216, 230), "households": 30},
        {"geometry": box(179.9, 240, 220, 250), "households": 30},
    ]
    # overlapping footprints and a duplicate
    rows += [
        {"geometry": box(30, 260, 50, 280), "households": 10},
        {"geometry": box(45, 265, 60, 285), "households": 10},
        {"geometry": box(30, 260, 50, 280), "households": 10},
    ]
    buildings = gpd.GeoDataFrame(rows, crs=CRS)
    buildings.insert(0, "building_id", [f"B{i:03d}" for i in range(len(buildings))])
    communities = gpd.GeoDataFrame(
        {"code": ["341122100101", "341122100102", "341122100103"]},
        geometry=[
            box(0, 0, 200, 300),
            shapely.MultiPolygon([box(200, 0, 400, 300), box(600, 600, 640, 640)]),
            box(400, 0, 500, 300),
        ],
        crs=CRS,
    )
    roads = gpd.GeoDataFrame(
        {"highway": ["residential", "residential"]},
        geometry=[LineString([(-10, 130), (410, 130)]), LineString([(100, 150), (100, 240)])],
        crs=CRS,
    )
    return {"buildings": buildings, "communities": communities, "roads": roads}


def run(data: dict, **kwargs):
    return partition(
        data["buildings"],
        communities=data["communities"],
        community_id="code",
        barriers=[data["roads"]],
        households_column="households",
        min_households=150,
        max_households=300,
        **kwargs,
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    data = town()
    with pytest.warns(Warning, match="duplicate footprint"):
        result = run(data)
    path = write_result(result, tmp_path_factory.mktemp("contract") / "out.gpkg")
    return data, result, path


def check(data: dict, grids, buildings) -> dict[str, list]:
    return check_frames(
        grids,
        buildings,
        data["buildings"],
        households_column="households",
        communities=data["communities"],
    )


# -------------------------------------------------------------------- the engine's output


def test_written_output_meets_the_contract(written):
    data, result, path = written
    found = check_written(
        path, data["buildings"], households_column="households", communities=data["communities"]
    )
    assert found == {k: [] for k in CHECKS}
    assert result.report["contract"]["breaches"] == {k: [] for k in contract.BREACHES}


def test_straddling_buildings_go_wholly_to_the_majority_community(written):
    _, result, _ = written
    rep = result.report["contract"]
    straddling = {s["building"]: s["community_id"] for s in rep["straddling_buildings"]}
    n = len(town()["buildings"])
    assert straddling == {
        f"B{n - 6:03d}": "341122100101",
        f"B{n - 5:03d}": "341122100102",
        f"B{n - 4:03d}": "341122100101",
    }
    grids = result.grids.set_index("grid_code")
    out = result.buildings.set_index("building_id")
    for bid in straddling:
        fp = out.geometry[bid]
        own = grids.geometry[out.loc[bid, "grid_code"]]
        assert shapely.area(shapely.difference(fp, own)) < 1e-6
        others = grids.drop(index=out.loc[bid, "grid_code"]).geometry
        assert shapely.area(shapely.intersection(others.to_numpy(), fp)).max() < 1e-6
    # the tiling figures count the footprints moved across the line
    assert result.report["tiling"]["max_community_area_difference_m2"] < 0.01


def test_empty_grids_are_flagged_empty_exclave_or_no_buildings(written):
    _, result, _ = written
    empty = result.grids[result.grids["buildings"] == 0].set_index("community_id")["flags"]
    assert empty.to_dict() == {"341122100102": "empty-exclave", "341122100103": "no-buildings"}
    # ``exclave`` alone is the flag of a detached part holding buildings: none here
    assert not result.grids["flags"].eq("exclave").any()
    assert result.report["contract"]["empty_grids"]["joined_a_neighbour"] == 0


def test_overlapping_and_duplicate_footprints_keep_households_and_share_a_grid(written):
    data, result, _ = written
    out = result.buildings.set_index("building_id")
    n = len(data["buildings"])
    group = [f"B{i:03d}" for i in range(n - 3, n)]
    assert out.loc[group, "households"].tolist() == [10, 10, 10]
    assert out.loc[group, "grid_code"].nunique() == 1


def test_grid_polygons_are_valid_in_the_metric_crs_and_in_4326():
    data = town()
    with pytest.warns(Warning, match="duplicate footprint"):
        result = run(data, output_crs=4326)
    assert shapely.is_valid(result.grids.geometry.to_numpy()).all()
    assert shapely.is_valid(result.grids.to_crs(CRS).geometry.to_numpy()).all()


# ------------------------------------------------------- every check fails on a broken output


def _far_grid(grids: gpd.GeoDataFrame, code: str) -> str:
    centre = grids.set_index("grid_code").geometry[code].centroid
    return str(grids.assign(d=grids.distance(centre)).sort_values("d")["grid_code"].iloc[-1])


def test_checker_sees_a_building_moved_to_a_far_grid(written):
    data, _, path = written
    grids, buildings = read_written(path)
    far = _far_grid(grids, buildings["grid_code"].iloc[5])
    buildings.loc[5, "grid_code"] = far
    assert check(data, grids, buildings)["outside_own_grid"] == [5]
    assert contract.breaches(grids, buildings, _given(data), CRS)["outside_own_grid"] == [5]


def test_checker_sees_a_cut_building(written):
    data, _, path = written
    grids, buildings = read_written(path)
    code = buildings["grid_code"].iloc[7]
    row = grids.index[grids["grid_code"] == code][0]
    cut = shapely.difference(
        grids.geometry[row], box(*buildings.geometry[7].centroid.buffer(1).bounds)
    )
    grids.loc[row, "geometry"] = cut
    assert 7 in check(data, grids, buildings)["outside_own_grid"]


def test_checker_sees_a_bow_tie_polygon(written):
    data, _, path = written
    grids, buildings = read_written(path)
    x0, y0, x1, y1 = grids.geometry[0].bounds
    grids.loc[0, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    found = check(data, grids, buildings)
    code = grids["grid_code"][0]
    assert found["invalid_written"] == [code] and found["invalid_4326"] == [code]
    assert contract.breaches(grids, buildings, _given(data), CRS)["invalid_polygons"] == [code]


def test_checker_sees_a_polygon_invalid_only_in_4326(written):
    data, _, path = written
    grids, buildings = read_written(path)
    # a near-spike: valid where written, crossing after reprojection (as the engine's grids
    # did before the contract, see geo.partition.contract)
    spike = _near_spike_polygon()
    assert spike.is_valid
    assert not gpd.GeoSeries([spike], crs=CRS).to_crs(4326).is_valid.iloc[0]
    grids.loc[0, "geometry"] = spike
    found = check(data, grids, buildings)
    assert found["invalid_written"] == [] and found["invalid_4326"] == [grids["grid_code"][0]]


def _near_spike_polygon() -> shapely.Polygon:
    """A ring whose vertex lies a hair's width off a non-adjacent edge, found by search."""
    rng = np.random.default_rng(7)
    for _ in range(2000):
        ax, ay = 500_000 + rng.uniform(0, 1000), 3_000_000 + rng.uniform(0, 1000)
        bx, by = ax + rng.uniform(50, 300), ay + rng.uniform(-300, 300)
        t = rng.uniform(0.2, 0.8)
        off = rng.uniform(-1e-9, 1e-9)
        nx, ny = -(by - ay), bx - ax
        norm = np.hypot(nx, ny)
        cx, cy = ax + t * (bx - ax) + off * nx / norm, ay + t * (by - ay) + off * ny / norm
        ring = [(ax, ay), (bx, by), (cx, cy), (ax - ny / norm * 50, ay + nx / norm * 50 * -1)]
        poly = shapely.Polygon(ring)
        if poly.is_valid and not gpd.GeoSeries([poly], crs=CRS).to_crs(4326).is_valid.iloc[0]:
            return poly
    raise AssertionError("no near-spike polygon found")


def test_checker_sees_a_changed_household_count(written):
    data, _, path = written
    grids, buildings = read_written(path)
    buildings.loc[3, "households"] += 1
    assert check(data, grids, buildings)["households"] == [3, f"grid:{buildings['grid_code'][3]}"]
    assert contract.breaches(grids, buildings, _given(data), CRS)["households_changed"] == [3]


def test_checker_sees_a_missing_building(written):
    data, _, path = written
    grids, buildings = read_written(path)
    assert 4 in check(data, grids, buildings.drop(index=4))["households"]


def test_checker_sees_an_empty_grid(written):
    data, _, path = written
    grids, buildings = read_written(path)
    # the buildings of one grid moved to a neighbour: the grid is empty in a peopled part
    code = buildings["grid_code"].iloc[0]
    mate = grids[(grids["grid_code"] != code) & (grids["buildings"] > 0)]["grid_code"].iloc[0]
    buildings.loc[buildings["grid_code"] == code, "grid_code"] = mate
    assert check(data, grids, buildings)["empty_grids"] == [code]
    assert contract.breaches(grids, buildings, _given(data), CRS)["empty_grids"] == [code]


def test_checker_sees_an_empty_grid_flagged_empty_exclave_in_a_peopled_part(written):
    data, _, path = written
    grids, buildings = read_written(path)
    code = buildings["grid_code"].iloc[0]
    mate = grids[(grids["grid_code"] != code) & (grids["buildings"] > 0)]["grid_code"].iloc[0]
    buildings.loc[buildings["grid_code"] == code, "grid_code"] = mate
    grids.loc[grids["grid_code"] == code, "flags"] = "empty-exclave"
    assert check(data, grids, buildings)["empty_grids"] == [code]


def test_an_empty_exclave_flagged_only_exclave_is_a_breach(written):
    """``exclave`` (a detached part holding buildings, kept below the band) does not excuse
    an empty grid: only ``empty-exclave`` and ``no-buildings`` do, for the checker and for
    the engine's own check."""
    data, _, path = written
    grids, buildings = read_written(path)
    assert check(data, grids, buildings)["empty_grids"] == []
    code = grids.loc[grids["flags"] == "empty-exclave", "grid_code"].iloc[0]
    grids.loc[grids["grid_code"] == code, "flags"] = "exclave"
    assert check(data, grids, buildings)["empty_grids"] == [code]
    assert contract.breaches(grids, buildings, _given(data), CRS)["empty_grids"] == [code]


def test_checker_sees_a_building_without_grid(written):
    data, _, path = written
    grids, buildings = read_written(path)
    buildings.loc[9, "grid_code"] = None
    assert check(data, grids, buildings)["unassigned"] == [9]


def test_checker_sees_overlapping_grids(written):
    data, _, path = written
    grids, buildings = read_written(path)
    extra = grids.iloc[[0]].assign(grid_code="341122100101099", buildings=0, households=0)
    grids = pd.concat([grids, extra], ignore_index=True)
    found = check(data, grids, buildings)
    assert found["overlaps"] == [f"{grids['grid_code'][0]}|341122100101099"]


def _given(data: dict) -> np.ndarray:
    return data["buildings"]["households"].to_numpy()


def test_a_footprint_given_to_its_grid_does_not_cut_a_building_of_the_other_grid():
    """Found on 1,000,000 synthetic buildings: B reaches 2 cm into A's grid and overlaps A
    by 0.0015 m2 (too little to make them one unit). B's grid takes B's whole footprint; A's
    grid gives way but keeps A whole, so both stay within 1 cm of their grid."""
    grids = np.array([box(0, 0, 10, 10), box(10, 0, 20, 10)], dtype=object)
    a = box(5, 2, 10, 8)
    b = shapely.Polygon([(9.98, 2), (15, 2), (15, 8), (10, 8), (10, 2.15)])
    assert 0 < shapely.area(shapely.intersection(a, b)) < contract.OVERLAP_M2
    footprints = np.array([a, b], dtype=object)
    geom, b_grid, moved_to, given = contract.give_footprints(grids, np.array([0, 1]), footprints)
    assert b_grid.tolist() == [0, 1] and given.tolist() == [1] and len(moved_to) == 0
    widened = shapely.buffer(geom, contract.TOLERANCE_M, join_style="mitre")
    assert shapely.covers(widened, footprints).all()
    assert shapely.is_valid(geom).all()
    assert shapely.area(shapely.intersection(geom[0], geom[1])) < contract.OVERLAP_M2


# ----------------------------------------------------------------------- the command line


def test_cli_exits_non_zero_with_one_line_per_breach_kind(tmp_path, capsys, monkeypatch):
    from geo.partition import quality
    from wangge.cli import main

    data = town()
    data["buildings"].to_file(tmp_path / "in.gpkg", layer="buildings")
    data["communities"].to_file(tmp_path / "in.gpkg", layer="communities")
    args = [
        "partition",
        f"{tmp_path / 'in.gpkg'}:buildings",
        "--households-column",
        "households",
        "--communities",
        f"{tmp_path / 'in.gpkg'}:communities",
        "--community-id",
        "code",
        "--quiet",
        "--out",
        str(tmp_path / "out.gpkg"),
        "--report",
        str(tmp_path / "report.json"),
        "--map",
        str(tmp_path / "review.html"),
    ]
    with pytest.warns(Warning, match="duplicate footprint"):
        assert main(args) == 0
    assert "contract: kept" in capsys.readouterr().out
    # the review map shows the contract's outcome in its legend
    html = (tmp_path / "review.html").read_text(encoding="utf-8")
    assert '"breaches":[],"straddling":3' in html and "contract kept 约定通过" in html
    real = contract.breaches

    def broken(grids, buildings, households_in, metric_crs):
        found = real(grids, buildings, households_in, metric_crs)
        found["empty_grids"] = ["341122100101009"]
        found["outside_own_grid"] = list(range(12))
        return found

    monkeypatch.setattr(quality.contract, "breaches", broken)
    with pytest.warns(Warning, match="duplicate footprint"):
        assert main(args) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "contract breach: 12 building(s) not wholly inside their grid "
        "(0, 1, 2, 3, 4, 5, 6, 7, 8, 9 ...)",
        "contract breach: 1 grid(s) without buildings in a part of a community that has "
        "buildings (341122100101009)",
    ]
    # the files and the report are written all the same, for the reviewer
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["contract"]["breaches"]["empty_grids"] == ["341122100101009"]
    html = (tmp_path / "review.html").read_text(encoding="utf-8")
    assert "contract breach: 12 building(s) not wholly inside their grid" in html


def test_grids_partition_exits_3_on_a_breach_and_keeps_the_draft(tmp_path, capsys, monkeypatch):
    """``wangge grids partition`` (the store's county) says what ``wangge partition`` says:
    one line per kind of breach on stderr and exit status 3, the draft saved all the same."""
    from county_files import county_files, write_county

    from geo.partition import quality
    from wangge.cli import main
    from wangge.ingest.county import import_county
    from wangge.services import grids as versions
    from wangge.store import Store

    store = Store(tmp_path / "data" / "wangge.sqlite")
    import_county(store, county_files(write_county(tmp_path / "files")))
    monkeypatch.setenv("WANGGE_DATA_DIR", str(store.path.parent))
    assert main(["grids", "partition", "--quiet", "--author", "t"]) == 0
    out = capsys.readouterr()
    assert "grid version 1 (draft)" in out.out and "contract: kept" in out.out
    assert "contract breach" not in out.err
    real = contract.breaches

    def broken(grids, buildings, households_in, metric_crs):
        found = real(grids, buildings, households_in, metric_crs)
        found["invalid_polygons"] = [str(grids["grid_code"].iloc[0])]
        found["households_changed"] = [0, 1]
        return found

    monkeypatch.setattr(quality.contract, "breaches", broken)
    assert main(["grids", "partition", "--quiet", "--author", "t"]) == 3
    out = capsys.readouterr()
    err = out.err.strip().splitlines()
    assert err[0].startswith("contract breach: 1 grid polygon(s) invalid in the written CRS")
    assert (
        err[1] == "contract breach: 2 building(s) whose households out differ from the input (0, 1)"
    )
    assert "grid version 2 is saved as a draft all the same" in err[2]
    assert "contract: kept" not in out.out
    rows = versions.grid_version_rows(store)
    assert [(r["id"], r["status"]) for r in rows] == [(1, "draft"), (2, "draft")]
    assert rows[1]["grids"] == rows[0]["grids"] > 0


# ------------------------------------------------------------------------------ real data


@pytest.mark.slow
def test_demo_county_meets_the_contract(tmp_path):
    from wangge.demo.county import build_demo_county

    gpkg = build_demo_county(tmp_path, progress=False)["gpkg"]

    def read(layer: str) -> gpd.GeoDataFrame:
        return gpd.read_file(gpkg, layer=layer, engine="pyogrio")

    buildings, communities = read("buildings"), read("communities")
    result = partition(
        buildings,
        households_column="households",
        communities=communities,
        community_id="code",
        barriers=[read("roads"), read("water"), read("railways")],
    )
    path = write_result(result, tmp_path / "grids.gpkg")
    found = check_written(path, buildings, households_column="households", communities=communities)
    assert found == {k: [] for k in CHECKS}
    assert result.report["contract"]["breaches"] == {k: [] for k in contract.BREACHES}


@pytest.mark.slow
@pytest.mark.shared_data
@needs_shared
def test_liechtenstein_meets_the_contract(tmp_path):
    from geo.crs import metric_crs
    from geo.partition.households import building_households

    path = SHARED / "liechtenstein_osm.gpkg"
    b = gpd.read_file(path, layer="buildings")
    b = b[b.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    # households estimated once and given as input, so that out = in can be checked
    hh = building_households(b, footprint_m2=b.to_crs(metric_crs(b)).area.to_numpy())
    b = b.assign(households=hh["households"].to_numpy())
    admin = gpd.read_file(path, layer="admin_boundaries")
    comm = admin[admin["admin_level"].astype(str) == "8"].reset_index(drop=True)
    bars = [gpd.read_file(path, layer=n) for n in ("roads", "waterways", "railways")]
    with pytest.warns(Warning):  # a duplicate, buildings across the borders
        result = partition(
            b,
            households_column="households",
            communities=comm,
            community_id="name",
            barriers=bars,
            output_crs=metric_crs(b),  # checked in the written (metric) CRS and in 4326
        )
    out = write_result(result, tmp_path / "grids.gpkg")
    found = check_written(out, b, households_column="households", communities=comm)
    assert found == {k: [] for k in CHECKS}
    rep = result.report["contract"]
    assert rep["breaches"] == {k: [] for k in contract.BREACHES}
    # 37 buildings touch two municipalities, 36 lie across the line (one only touches it)
    assert len(rep["straddling_buildings"]) == 36
    assert set(rep["empty_grids"]["empty-exclave"]) and not rep["empty_grids"]["joined_a_neighbour"]
