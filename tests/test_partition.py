"""Grid division: tiling, band, contiguity, barriers, codes, determinism, flags, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import LineString, box

from geo.errors import CRSError, GeoWarning, InputError
from geo.partition import partition

CRS = "EPSG:32650"
SIDE = 400.0


def _grid_buildings(x0, y0, nx, ny, hh, *, step=40.0, size=20.0, start=10.0) -> list[dict]:
    rows = []
    for i in range(nx):
        for j in range(ny):
            x, y = x0 + start + i * step, y0 + start + j * step
            rows.append({"geometry": box(x, y, x + size, y + size), "households": hh})
    return rows


def small_town() -> dict[str, gpd.GeoDataFrame]:
    """Community A (urban, 800 households, a street down its middle), B (rural, 2 hamlets)."""
    a = _grid_buildings(0, 0, 10, 10, 8)  # 100 buildings x 8 = 800 households
    hamlet1 = _grid_buildings(SIDE + 20, 20, 4, 4, 3, step=25, size=10)
    hamlet2 = _grid_buildings(SIDE + 280, 280, 4, 4, 3, step=25, size=10)
    rows = a + hamlet1 + hamlet2
    buildings = gpd.GeoDataFrame(rows, crs=CRS)
    buildings.insert(0, "building_id", [f"B{i:03d}" for i in range(len(buildings))])
    communities = gpd.GeoDataFrame(
        {"code": ["341122100101", "341122100102"], "kind": ["urban", "rural"]},
        geometry=[box(0, 0, SIDE, SIDE), box(SIDE, 0, 2 * SIDE, SIDE)],
        crs=CRS,
    )
    roads = gpd.GeoDataFrame(
        {"highway": ["residential"]},
        geometry=[LineString([(205, -50), (205, SIDE + 50)])],
        crs=CRS,
    )
    return {"buildings": buildings, "communities": communities, "roads": roads}


def run(town=None, **kwargs):
    town = town or small_town()
    options = dict(
        communities=town["communities"],
        community_id="code",
        barriers=[town["roads"]],
        households_column="households",
    )
    options.update(kwargs)
    return partition(town["buildings"], **options)


@pytest.fixture(scope="module")
def result():
    return run()


def _community(result, code):
    return result.grids[result.grids["community_id"] == code]


def test_grids_tile_each_community(result):
    town = small_town()
    grids = result.grids.to_crs(CRS)
    for code, poly in zip(town["communities"]["code"], town["communities"].geometry, strict=True):
        g = grids[grids["community_id"] == code]
        union = shapely.union_all(g.geometry.to_numpy())
        assert abs(union.area - poly.area) < 1.0 * len(g)  # no gaps
        assert abs(g.area.sum() - union.area) < 1.0 * len(g)  # no overlaps
        assert union.symmetric_difference(poly).area < 1.0


def test_every_building_once_inside_its_grid(result):
    b = result.buildings
    assert b["source_index"].tolist() == list(range(len(small_town()["buildings"])))
    assert b["grid_code"].notna().all()
    grids = result.grids.set_index("grid_code").to_crs(CRS)
    own = grids.geometry.loc[b["grid_code"]].to_numpy()
    share = shapely.area(shapely.intersection(b.to_crs(CRS).geometry.to_numpy(), own)) / b.area
    assert (share > 0.99).all()
    per_grid = b.groupby("grid_code")["households"].sum()
    assert (grids["households"] == per_grid.loc[grids.index]).all()


def test_urban_grids_in_band_and_contiguous(result):
    urban = _community(result, "341122100101")
    assert len(urban) == 2
    assert urban["households"].between(300, 500).all()
    assert (result.grids.geom_type == "Polygon").all()
    assert (urban["kind"] == "urban").all() and (urban["flags"] == "").all()


def test_boundary_follows_the_street(result):
    urban = _community(result, "341122100101").to_crs(CRS)
    a, b = urban.geometry.to_numpy()
    shared = shapely.intersection(a.boundary, b.boundary)
    street = small_town()["roads"].geometry.iloc[0]
    assert shared.length > 350
    assert shapely.intersection(shared, street.buffer(1.0)).length / shared.length > 0.95


def test_rural_one_grid_per_hamlet(result):
    rural = _community(result, "341122100102")
    assert len(rural) == 2
    assert (rural["kind"] == "rural").all()
    assert sorted(rural["buildings"]) == [16, 16]


def test_codes_west_to_east_north_to_south():
    rows = []
    for cx in range(2):
        for cy in range(2):
            rows += _grid_buildings(cx * 200, cy * 200, 4, 4, 25, step=45, size=20, start=15)
    buildings = gpd.GeoDataFrame(rows, crs=CRS)
    communities = gpd.GeoDataFrame(
        {"code": ["341122100101"]}, geometry=[box(0, 0, SIDE, SIDE)], crs=CRS
    )
    roads = gpd.GeoDataFrame(
        {"highway": ["primary", "primary"]},
        geometry=[LineString([(200, -1), (200, 401)]), LineString([(-1, 200), (401, 200)])],
        crs=CRS,
    )
    r = partition(
        buildings,
        communities=communities,
        community_id="code",
        barriers=roads,
        households_column="households",
    )
    g = r.grids.to_crs(CRS)
    assert g["households"].tolist() == [400] * 4
    pts = g.geometry.representative_point()
    quadrant = [("N" if p.y > 200 else "S") + ("W" if p.x < 200 else "E") for p in pts]
    assert dict(zip(g["grid_code"], quadrant, strict=True)) == {
        "341122100101001": "NW",
        "341122100101002": "NE",
        "341122100101003": "SW",
        "341122100101004": "SE",
    }


def test_compound_road_inside_a_large_block_becomes_the_boundary():
    # 800 households in one block but for a compound road (highway=service) off the middle:
    # 480 households west of it, 320 east, so the grid boundary follows it; a driveway and a
    # dead-end compound road cut no block
    town = small_town()
    town["roads"] = gpd.GeoDataFrame(
        {"highway": ["service", "service", "service"], "service": [None, "driveway", None]},
        geometry=[
            LineString([(245, -50), (245, SIDE + 50)]),
            LineString([(0, 100), (150, 100)]),
            LineString([(60, 300), (180, 300)]),
        ],
        crs=CRS,
    )
    r = run(town)
    urban = _community(r, "341122100101").to_crs(CRS)
    assert sorted(urban["households"]) == [320, 480]
    a, b = urban.geometry.to_numpy()
    shared = shapely.intersection(a.boundary, b.boundary)
    road = town["roads"].geometry.iloc[0]
    assert shapely.intersection(shared, road.buffer(1.0)).length / shared.length > 0.95
    # and the quality report counts it as on a street
    code = r.cells["grid_code"].to_numpy()
    e = r.edges
    between = (code[e["i"]] != code[e["j"]]) & pd.Series(code[e["i"]]).str.startswith(
        "341122100101"
    ).to_numpy()
    assert e["near_barrier"][between].sum() / e["length"][between].sum() > 0.95
    assert r.report["counts"]["blocks"] == 2 + 1  # the urban block in two, the rural one


def test_boundary_through_a_block_without_streets_is_short():
    # 800 households in a block of 800 x 200 m with no street: the boundary between the two
    # grids crosses the narrow side (about 200 m), not the long one
    rows = _grid_buildings(0, 0, 20, 5, 8)
    buildings = gpd.GeoDataFrame(rows, crs=CRS)
    communities = gpd.GeoDataFrame(
        {"code": ["341122100101"]}, geometry=[box(0, 0, 800, 200)], crs=CRS
    )
    r = partition(
        buildings,
        communities=communities,
        community_id="code",
        households_column="households",
    )
    g = r.grids.to_crs(CRS)
    assert g["households"].tolist() == [400, 400]
    a, b = g.geometry.to_numpy()
    assert shapely.intersection(a.boundary, b.boundary).length < 1.1 * 200


def test_deterministic():
    a, b = run(), run()
    assert_geodataframe_equal(a.grids, b.grids)
    assert_geodataframe_equal(a.buildings, b.buildings)


def test_flags_undersize_no_split_and_indivisible():
    town = small_town()
    b = town["buildings"].copy()
    urban = (b.geometry.centroid.x < SIDE).to_numpy()
    # 100 urban buildings: 2 households each = 200 < 300
    r = run({**town, "buildings": b.assign(households=np.where(urban, 2, b["households"]))})
    g = _community(r, "341122100101")
    assert g["flags"].tolist() == ["undersize-community"]
    # 5.5 each = 550: no whole number of grids in 300-500
    hh = b["households"].to_numpy().copy()
    hh[np.flatnonzero(urban)] = np.r_[np.full(50, 5), np.full(50, 6)]
    r = run({**town, "buildings": b.assign(households=hh)})
    g = _community(r, "341122100101")
    assert g["flags"].tolist() == ["no-integer-split"]
    assert g["households"].sum() == 550
    # one tower of 700 households: its own grid, flagged
    hh = np.where(urban, 8, b["households"])
    hh[0] = 700
    r = run({**town, "buildings": b.assign(households=hh)})
    g = _community(r, "341122100101")
    tower = r.buildings.loc[0, "grid_code"]
    flagged = g.set_index("grid_code").loc[tower]
    assert flagged["flags"] == "indivisible-building" and flagged["buildings"] == 1
    rest = g[g["grid_code"] != tower]
    assert rest["households"].between(300, 500).all()


def test_towers_that_fit_no_grid_are_flagged_no_building_split():
    # three towers of 256 households in one compound: 768 admits two grids of 384 by the
    # totals, but one tower is too few and two are too many
    comm = gpd.GeoDataFrame({"code": ["341122100101"]}, geometry=[box(0, 0, 300, 200)], crs=CRS)
    towers = gpd.GeoDataFrame(
        {"households": [256, 256, 256]},
        geometry=[box(40 + 90 * i, 80, 70 + 90 * i, 110) for i in range(3)],
        crs=CRS,
    )
    r = partition(towers, communities=comm, community_id="code", households_column="households")
    assert r.grids["households"].sum() == 768
    assert set(r.grids["flags"]) == {"no-building-split"}
    band = r.report["in_band"]
    assert band["grids_where_band_reachable"] == 0
    assert r.report["flagged"]["reasons"] == {"no-building-split": len(r.grids)}
    # with three small buildings of 50 the band is reachable: three grids of 256 + 50
    small = gpd.GeoDataFrame(
        {"households": [50, 50, 50]},
        geometry=[box(40 + 90 * i, 20, 60 + 90 * i, 40) for i in range(3)],
        crs=CRS,
    )
    r = partition(
        pd.concat([towers, small], ignore_index=True),
        communities=comm,
        community_id="code",
        households_column="households",
    )
    assert sorted(r.grids["households"]) == [306, 306, 306]
    assert set(r.grids["flags"]) == {""}


def test_special_buildings_get_dedicated_grids():
    town = small_town()
    b = town["buildings"].copy()
    b["special"] = ""
    b.loc[[0, 1, 10, 11], "special"] = "school"  # four adjacent buildings: one campus
    b.loc[[0, 1, 10, 11], "households"] = 0
    r = run({**town, "buildings": b})
    special = r.grids[r.grids["kind"] == "special"]
    assert len(special) == 1 and special["buildings"].iloc[0] == 4
    codes = r.buildings.loc[[0, 1, 10, 11], "grid_code"].unique()
    assert codes.tolist() == special["grid_code"].tolist()
    assert r.grids.loc[r.grids["kind"] == "urban", "households"].between(300, 500).all()


def test_hamlet_id_column_is_used():
    town = small_town()
    b = town["buildings"].copy()
    b["hamlet_id"] = np.where(b.geometry.centroid.x > SIDE, "H1", None)
    r = run({**town, "buildings": b})
    assert len(_community(r, "341122100102")) == 1


def test_whole_input_is_one_area_without_communities():
    town = small_town()
    urban = town["buildings"][town["buildings"].geometry.centroid.x < SIDE]
    r = partition(urban, households_column="households", barriers=town["roads"])
    assert r.grids["community_id"].unique().tolist() == ["000000000000"]
    assert r.grids["households"].tolist() == [400, 400]


def test_estimated_households_are_marked():
    town = small_town()
    b = town["buildings"].drop(columns="households").assign(building="apartments", floors=4)
    r = partition(b, communities=town["communities"], community_id="code")
    assert r.buildings["households_estimated"].all()
    big = (b.area == 400).to_numpy()
    assert (r.buildings["households"][big] == round(400 * 4 / 90)).all()


def test_output_in_input_crs_or_wgs84():
    town = small_town()
    b = town["buildings"].to_crs(4326)
    r = run({**town, "buildings": b})
    assert r.grids.crs == b.crs and r.buildings.crs == b.crs
    r = run(output_crs=4326)
    assert r.grids.crs.to_epsg() == 4326


# ---------------------------------------------------------------------------- incremental


def _grow(town, n_new, hh=8):
    """Add ``n_new`` buildings of ``hh`` households in the free strip of community A."""
    rows = [
        {"geometry": box(12 + 40 * i, 395 - 3, 12 + 40 * i + 6, 395), "households": hh}
        for i in range(n_new)
    ]
    extra = gpd.GeoDataFrame(rows, crs=CRS)
    extra.insert(0, "building_id", [f"N{i:03d}" for i in range(n_new)])
    return {**town, "buildings": pd.concat([town["buildings"], extra], ignore_index=True)}


def test_incremental_keeps_unchanged_grids_and_codes(result):
    town = _grow(small_town(), 3)
    r = run(town, previous=result)
    old = result.buildings.set_index("building_id")["grid_code"]
    new = r.buildings.set_index("building_id")["grid_code"]
    moved = (new.loc[old.index] != old).sum()
    assert moved <= 2  # 1% of 132 buildings
    rural_old = _community(result, "341122100102").reset_index(drop=True)
    rural_new = _community(r, "341122100102").reset_index(drop=True)
    assert_geodataframe_equal(rural_old, rural_new)
    assert set(r.grids["grid_code"]) == set(result.grids["grid_code"])
    assert r.report["incremental"]["share_households_changed_grid"] <= 0.02


def test_incremental_splits_a_grown_community(result):
    town = _grow(small_town(), 9, hh=60)  # 800 + 540 households: 3 grids now
    r = run(town, previous=result)
    urban = _community(r, "341122100101")
    assert len(urban) == 3 and urban["households"].between(300, 500).all()
    kept = set(_community(result, "341122100101")["grid_code"])
    assert kept <= set(urban["grid_code"])  # the two old codes stay, one new code
    assert (r.grids.geom_type == "Polygon").all()


def _six_communities():
    """Six urban communities of 816 households in two clusters with empty land between."""
    rows, comms = [], []
    for c in range(6):
        x0, y0 = (c % 3) * SIDE, (c // 3) * SIDE
        comms.append(box(x0, y0, x0 + SIDE, y0 + SIDE))
        rows += _grid_buildings(x0, y0, 8, 8, 6, step=15, size=10)  # 384 in the west
        rows += _grid_buildings(x0 + 250, y0 + 100, 6, 6, 12, step=20, size=12)  # 432 east
    buildings = gpd.GeoDataFrame(rows, crs=CRS)
    buildings.insert(0, "building_id", [f"B{i:04d}" for i in range(len(buildings))])
    # an exclave without buildings far north: an empty grid, numbered first
    comms[1] = shapely.MultiPolygon([comms[1], box(SIDE, 3 * SIDE, SIDE + 20, 3 * SIDE + 20)])
    comms.append(box(3 * SIDE, 0, 4 * SIDE, SIDE))  # and a community without buildings
    communities = gpd.GeoDataFrame(
        {"code": [f"34112210{c:04d}" for c in range(7)]}, geometry=comms, crs=CRS
    )
    roads = gpd.GeoDataFrame(
        {"highway": ["residential"] * 3},
        geometry=[
            LineString([(380 + i * SIDE, -50), (380 + i * SIDE, 2 * SIDE + 50)]) for i in range(3)
        ],
        crs=CRS,
    )
    return {"buildings": buildings, "communities": communities, "roads": roads}


def test_incremental_growth_leaves_other_communities_untouched(tmp_path):
    from geo.io import write_result
    from geo.partition import PartitionResult

    town = _six_communities()
    first = run(town)
    # the previous result as the command line reads it back from its GeoPackage
    path = write_result(first, tmp_path / "first.gpkg")
    previous = PartitionResult(
        grids=gpd.read_file(path, layer="grids"),
        buildings=gpd.read_file(path, layer="buildings"),
        report={},
    )
    grown = [town["communities"]["code"].iloc[c] for c in (0, 2, 4)]
    extra = []
    for c in (0, 2, 4):  # 2% more households: 16 in new houses on the empty land
        x0, y0 = (c % 3) * SIDE, (c // 3) * SIDE
        extra += [
            {
                "geometry": box(x0 + 250 + 20 * i, y0 + 30, x0 + 260 + 20 * i, y0 + 40),
                "households": 4,
                "building_id": f"N{c}{i}",
            }
            for i in range(4)
        ]
    town2 = {
        **town,
        "buildings": pd.concat(
            [town["buildings"], gpd.GeoDataFrame(extra, crs=CRS)], ignore_index=True
        ),
    }
    second = run(town2, previous=previous)
    assert second.report["incremental"]["share_households_changed_grid"] <= 0.01
    old = previous.grids[~previous.grids["community_id"].isin(grown)].set_index("grid_code")
    new = second.grids.set_index("grid_code").loc[old.index]
    assert len(old) == 8
    assert old["flags"].value_counts()[["empty-exclave", "no-buildings"]].tolist() == [1, 1]
    assert (new.geometry.to_wkb() == old.geometry.to_wkb()).all()  # byte for byte
    assert (new["households"] == old["households"]).all()
    b_old = previous.buildings.set_index("source_index")["grid_code"]
    b_new = second.buildings.set_index("source_index")["grid_code"].loc[b_old.index]
    assert (b_old == b_new).mean() >= 0.99
    assert (second.grids.geom_type == "Polygon").all()


def test_locked_grid_is_frozen(result):
    code = _community(result, "341122100101")["grid_code"].iloc[0]
    town = _grow(small_town(), 9, hh=60)
    r = run(town, previous=result, locked=[code])
    before = result.buildings.loc[result.buildings["grid_code"] == code, "building_id"]
    after = r.buildings.loc[r.buildings["grid_code"] == code, "building_id"]
    assert sorted(before) == sorted(after)


def test_locked_without_previous_is_an_error():
    with pytest.raises(InputError, match="locked: grid codes can only be kept frozen"):
        run(locked=["341122100101001"])


# ---------------------------------------------------------------------------- bad input


def test_missing_crs_is_a_clear_error():
    town = small_town()
    b = town["buildings"].set_crs(None, allow_override=True)
    with pytest.raises(
        CRSError, match=r"buildings: the layer has no coordinate reference .*set_crs"
    ):
        run({**town, "buildings": b})


def test_all_problems_reported_in_one_message():
    town = small_town()
    b = town["buildings"].copy()
    b["households"] = b["households"].astype(object)
    b.loc[3, "households"] = "many"
    c = town["communities"].assign(code=["X", "X"])
    with pytest.raises(InputError, match=r"duplicate 'code' values \['X'\]"):
        run({**town, "buildings": b, "communities": c})
    with pytest.raises(
        InputError,
        match=r"non-numeric value\(s\) in 'households' at feature id\(s\) B003 \('many'\)",
    ):
        run({**town, "buildings": b})


def test_missing_community_id_column():
    with pytest.raises(InputError, match=r"communities: no id column 'nope'"):
        run(community_id="nope")


def test_bad_kind_and_band():
    town = small_town()
    c = town["communities"].assign(kind=["urban", "城市"])
    with pytest.raises(InputError, match=r"'kind' must be 'urban' or 'rural'; found \['城市'\]"):
        run({**town, "communities": c})
    with pytest.raises(InputError, match=r"expected 0 < min <= max"):
        run(min_households=500, max_households=300)


def test_invalid_empty_duplicate_outside_and_non_polygon_are_reported():
    town = small_town()
    b = town["buildings"].copy()
    bowtie = shapely.Polygon([(12, 12), (28, 28), (28, 12), (12, 28)])
    b.loc[0, "geometry"] = bowtie
    b.loc[1, "geometry"] = shapely.Polygon()
    b.loc[2, "geometry"] = b.loc[3, "geometry"]
    b.loc[4, "geometry"] = box(5000, 5000, 5010, 5010)
    b.loc[5, "geometry"] = shapely.Point(15, 15)
    with pytest.warns(GeoWarning) as record:
        r = run({**town, "buildings": b})
    text = "\n".join(str(w.message) for w in record)
    assert re.search(r"repaired 1 invalid .*B000", text)
    assert re.search(r"1 feature\(s\) with empty geometry are left out \(id\(s\) B001\)", text)
    assert re.search(r"1 duplicate footprint.*B003", text)
    assert re.search(r"outside every community .*B004", text)
    assert re.search(r"not polygons \(Point\) .*B005", text)
    out = r.buildings.set_index("building_id")
    assert len(out) == len(b)  # nothing dropped silently
    assert pd.isna(out.loc["B001", "grid_code"]) and pd.isna(out.loc["B004", "grid_code"])
    # households out = households in: the duplicate keeps its 8 and shares B002's grid
    assert out.loc["B003", "households"] == 8
    assert out.loc["B003", "grid_code"] == out.loc["B002", "grid_code"]
    assert r.report["problems"]["buildings"]["outside_communities"] == [4]


# ---------------------------------------------------------------------------- CLI and map


def test_cli_writes_layers_report_and_offline_map(tmp_path, capsys):
    from wangge.cli import main

    town = small_town()
    town["buildings"].to_file(tmp_path / "b.geojson")
    town["communities"].to_file(tmp_path / "town.gpkg", layer="communities")
    town["roads"].to_file(tmp_path / "town.gpkg", layer="roads")
    out, rep, html = tmp_path / "out.gpkg", tmp_path / "r.json", tmp_path / "m.html"
    code = main(
        [
            "partition",
            str(tmp_path / "b.geojson"),
            "--households-column",
            "households",
            "--communities",
            f"{tmp_path / 'town.gpkg'}:communities",
            "--community-id",
            "code",
            "--barriers",
            f"{tmp_path / 'town.gpkg'}:roads",
            "--out",
            str(out),
            "--report",
            str(rep),
            "--map",
            str(html),
            "--quiet",
        ]
    )
    assert code == 0
    grids = gpd.read_file(out, layer="grids")
    assert {"grid_code", "community_id", "households", "buildings", "kind", "flags"} <= set(
        grids.columns
    )
    b = gpd.read_file(out, layer="buildings")
    assert {"source_index", "grid_code", "households", "households_estimated"} <= set(b.columns)
    report = json.loads(rep.read_text())
    assert report["in_band"]["share_in_feasible_communities"] == 1.0
    assert report["contiguity"]["disconnected_grids"] == 0
    assert set(report["seconds"]) >= {"tessellate", "partition"}
    text = html.read_text()
    assert "<canvas" in text and "341122100101001" in text
    assert not re.search(r"https?://", text)
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", text)


def test_cli_reports_bad_input_without_traceback(tmp_path, capsys):
    from wangge.cli import main

    town = small_town()
    town["buildings"].to_file(tmp_path / "b.geojson")
    code = main(
        [
            "partition",
            str(tmp_path / "b.geojson"),
            "--households-column",
            "nope",
            "--out",
            str(tmp_path / "o.gpkg"),
            "--quiet",
        ]
    )
    assert code == 2
    assert "no households column 'nope'" in capsys.readouterr().err


# ---------------------------------------------------------------------------- real data

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(
    not (SHARED / "liechtenstein_osm.gpkg").exists(),
    reason="../shared/data (real OSM extracts) is not present in this checkout",
)


@pytest.mark.shared_data
@needs_shared
def test_liechtenstein_municipalities():
    path = SHARED / "liechtenstein_osm.gpkg"
    b = gpd.read_file(path, layer="buildings")
    admin = gpd.read_file(path, layer="admin_boundaries")
    comm = admin[admin["admin_level"].astype(str) == "8"]
    bars = [gpd.read_file(path, layer=n) for n in ("roads", "waterways", "railways")]
    with pytest.warns(GeoWarning):  # 2 line "buildings", a duplicate, some outside
        r = partition(b, communities=comm, community_id="name", barriers=bars)
    rep = r.report
    assert rep["contiguity"]["disconnected_grids"] == 0
    assert rep["in_band"]["share_in_feasible_communities"] >= 0.9
    assert rep["tiling"]["max_area_difference_per_grid_m2"] < 1.0
    assert len(r.buildings) == len(b)
    assert rep["boundaries"]["share_all_on_barrier_or_community"] > 0.7


@pytest.mark.shared_data
@needs_shared
def test_shanghai_one_area_with_streets_and_water():
    path = SHARED / "china_osm_tiles_shanghai_wuhan.gpkg"
    b = gpd.read_file(path, layer="shanghai_buildings")
    b = b[b["kind"] == "building"]
    bars = [gpd.read_file(path, layer=n) for n in ("shanghai_roads", "shanghai_water")]
    with pytest.warns(GeoWarning) as record:  # a point "building" and a duplicate
        r = partition(b, barriers=bars)
    assert any("not polygons (Point)" in str(w.message) for w in record)
    assert r.report["metric_crs"] in ("EPSG:4549", "EPSG:4550")  # CGCS2000 GK, CM 120/123E
    assert r.report["contiguity"]["disconnected_grids"] == 0
    assert r.report["tiling"]["max_area_difference_per_grid_m2"] < 1.0
    assert r.buildings["grid_code"].notna().sum() == len(b) - 1  # all but the point


def test_parallel_workers_give_the_same_grids():
    one, two = run(workers=1), run(workers=2)
    assert_geodataframe_equal(one.grids, two.grids)
    assert_geodataframe_equal(one.buildings, two.buildings)


def test_grouping_communities_into_jobs_does_not_change_the_result(monkeypatch):
    import geo.partition.community as community

    town = _six_communities()
    monkeypatch.setattr(community, "JOB_BUILDINGS", 10**6)  # one job for all
    whole = run(town)
    monkeypatch.setattr(community, "JOB_BUILDINGS", 50)  # one job per community
    split = run(town, workers=2)
    assert_geodataframe_equal(whole.grids, split.grids)
    assert_geodataframe_equal(whole.buildings, split.buildings)


def test_cli_previous_keeps_unchanged_polygons(tmp_path):
    from wangge.cli import main

    town = _six_communities()
    town["buildings"].to_file(tmp_path / "b.gpkg", layer="buildings")
    town["communities"].to_file(tmp_path / "b.gpkg", layer="communities")
    args = [
        "partition",
        f"{tmp_path / 'b.gpkg'}:buildings",
        "--households-column",
        "households",
        "--communities",
        f"{tmp_path / 'b.gpkg'}:communities",
        "--community-id",
        "code",
        "--quiet",
    ]
    assert main([*args, "--out", str(tmp_path / "one.gpkg")]) == 0
    one = tmp_path / "one.gpkg"
    assert main([*args, "--previous", str(one), "--out", str(tmp_path / "two.gpkg")]) == 0
    a = gpd.read_file(one, layer="grids")
    b = gpd.read_file(tmp_path / "two.gpkg", layer="grids")
    assert (a["grid_code"] == b["grid_code"]).all()
    assert (a.geometry.to_wkb() == b.geometry.to_wkb()).all()


@pytest.mark.parametrize("angle", [15, 37])
def test_planned_estate_of_identical_blocks_turned_off_the_axes(angle):
    # a regular lattice of identical buildings has cocircular Voronoi sites; turned off
    # the axes, the tessellation raised a GEOS TopologyException
    import shapely.affinity

    def turn(g):
        return shapely.affinity.rotate(g, angle, origin=(100, 400))

    rows = [
        {"geometry": turn(box(x * 20 + 4, y * 40 + 5, x * 20 + 16, y * 40 + 35)), "households": 8}
        for x in range(10)
        for y in range(20)
    ]
    town = {
        "buildings": gpd.GeoDataFrame(rows, crs=CRS),
        "communities": gpd.GeoDataFrame(
            {"code": ["341122100101"], "kind": ["urban"]},
            geometry=[turn(box(0, 0, 200, 800))],
            crs=CRS,
        ),
        "roads": gpd.GeoDataFrame(
            {"highway": ["residential"]},
            geometry=[turn(LineString([(-10, 400), (210, 400)]))],
            crs=CRS,
        ),
    }
    res = run(town, workers=1)
    assert res.grids["households"].sum() == 1600
    assert abs(res.grids.area.sum() - 160_000) < 1e-3
    assert res.buildings["grid_code"].ne("").all()
