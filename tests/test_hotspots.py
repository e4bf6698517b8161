"""Tests for geo.analytics.hotspots: Gi* with FDR, Mann-Kendall and emerging hot spots."""

from __future__ import annotations

from pathlib import Path

import esda
import geopandas as gpd
import h3
import libpysal
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from shapely.geometry import Point, box

from geo.analytics.hexes import h3_cell_polygons, h3_counts
from geo.analytics.hotspots import (
    EMERGING_CLASSES,
    _space_time_gi,
    emerging_hotspot_classes,
    emerging_hotspots,
    gi_star,
    h3_weights,
    mann_kendall,
    spatial_weights,
)
from geo.errors import InputError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CHICAGO = DATA / "chicago_incidents_cameras.gpkg"
N = 15


def _lattice(values: np.ndarray) -> gpd.GeoDataFrame:
    cells = [box(x, y, x + 1, y + 1) for y in range(N) for x in range(N)]
    return gpd.GeoDataFrame({"count": values}, geometry=cells, crs="EPSG:4547")


@pytest.fixture
def planted() -> gpd.GeoDataFrame:
    """Poisson(2) background, a 3x3 cluster of 12s in the centre, a lone 20 at cell 16."""
    y = np.random.default_rng(0).poisson(2, N * N).astype(float)
    for r in range(6, 9):
        for c in range(6, 9):
            y[r * N + c] = 12
    y[16] = 20
    frame = _lattice(y)
    frame.index = frame.index + 1000  # a non-default index must survive
    return frame


def test_planted_cluster_is_99_percent_hot_and_fdr_removes_lone_positive(planted):
    raw = gi_star(planted, column="count", fdr=False)
    fdr = gi_star(planted, column="count")
    centre, lone = 1000 + 7 * N + 7, 1000 + 16
    assert raw.loc[centre, "gi_bin"] == 3
    assert fdr.loc[centre, "gi_bin"] == 3
    assert raw.loc[lone, "gi_bin"] == 2  # p = 0.029 alone
    assert fdr.loc[lone, "gi_bin"] == 0  # not once the false discovery rate is controlled
    assert (fdr["gi_bin"] != 0).sum() < (raw["gi_bin"] != 0).sum()
    # index, CRS and input untouched
    assert list(fdr.index) == list(planted.index)
    assert fdr.crs == planted.crs
    assert "gi_z" not in planted.columns


def test_gi_star_matches_esda_and_two_sided_p(planted):
    out = gi_star(planted, column="count", fdr=False)
    w = libpysal.weights.Queen.from_dataframe(
        planted.reset_index(drop=True), use_index=True, silence_warnings=True
    )
    g = esda.G_Local(planted["count"].to_numpy(), w, star=True, transform="B", permutations=0)
    np.testing.assert_allclose(out["gi_z"], g.Zs)
    np.testing.assert_allclose(out["gi_p"], 2 * g.p_norm)
    # bins follow the 90/95/99 % thresholds of |z| 1.645/1.960/2.576
    z = out["gi_z"].abs()
    assert (out.loc[z > 2.576, "gi_bin"].abs() == 3).all()
    assert (out.loc[z < 1.644, "gi_bin"] == 0).all()


def test_gi_star_with_permutations_runs(planted):
    out = gi_star(planted, column="count", permutations=999, seed=1)
    assert out.loc[1000 + 7 * N + 7, "gi_bin"] > 0
    assert ((out["gi_p"] > 0) & (out["gi_p"] <= 1)).all()


def test_constant_values_are_never_significant():
    out = gi_star(_lattice(np.ones(N * N)), column="count")
    assert (out["gi_bin"] == 0).all()


def test_gi_star_on_h3_cells():
    centre = h3.latlng_to_cell(31.23, 121.47, 9)
    cells = sorted(h3.grid_disk(centre, 6))
    hot = set(h3.grid_disk(centre, 1))
    counts = pd.Series(
        [10 if c in hot else 1 for c in cells], index=pd.Index(cells, name="h3_cell")
    )
    frame = gpd.GeoDataFrame({"count": counts}, geometry=h3_cell_polygons(cells).values, crs=4326)
    out = gi_star(frame, weights="h3")
    assert out.loc[centre, "gi_bin"] == 3
    assert (out.loc[list(set(cells) - set(h3.grid_disk(centre, 2))), "gi_bin"] <= 0).all()
    w = h3_weights(cells, k=1)
    assert w.cardinalities[cells.index(centre)] == 6
    assert len(h3_weights(cells, k=2).neighbors[cells.index(centre)]) == 18


def test_mann_kendall():
    up = np.arange(10.0)
    res = mann_kendall(np.vstack([up, up[::-1], np.ones(10)]))
    assert list(res["s"]) == [45, -45, 0]
    assert list(res["tau"]) == [1.0, -1.0, 0.0]
    assert res["p"].iloc[0] < 0.001 and res["p"].iloc[2] == 1.0
    # variance with ties: S = 1 for [1, 1, 2] has var 8/18*... computed by hand
    tied = mann_kendall(np.array([[1.0, 1.0, 2.0, 3.0]]))
    var = (4 * 3 * 13 - 2 * 1 * 9) / 18
    assert tied["z"].iloc[0] == pytest.approx((5 - 1) / np.sqrt(var))


def _series(pattern: str) -> tuple[np.ndarray, np.ndarray]:
    """'H' hot, 'C' cold, '.' not significant; z grows along the series for trend tests."""
    z = np.array([3.0 if c == "H" else -3.0 if c == "C" else 0.0 for c in pattern])
    return z, np.array([c != "." for c in pattern])


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (".........H", "new_hot"),
        ("......HHHH", "consecutive_hot"),
        ("HHHHHHHHHH", "persistent_hot"),
        (".HHHHHHHHH", "persistent_hot"),
        ("HH.H...H.H", "sporadic_hot"),
        ("CC.H...H.H", "oscillating_hot"),
        ("HHHHHHHHH.", "historical_hot"),
        (".........C", "new_cold"),
        ("......CCCC", "consecutive_cold"),
        ("CCCCCCCCCC", "persistent_cold"),
        ("C..C.C...C", "sporadic_cold"),
        ("H..C.C...C", "oscillating_cold"),
        (".CCCCCCCCC", "persistent_cold"),
        ("CCCCCCCCC.", "historical_cold"),
        ("..H.H.H...", "no_pattern"),
        ("..........", "no_pattern"),
    ],
)
def test_emerging_classes_on_constructed_series(pattern, expected):
    z, sig = _series(pattern)
    assert emerging_hotspot_classes(z[None, :], sig[None, :])[0] == expected
    assert expected in EMERGING_CLASSES


def test_intensifying_and_diminishing():
    sig = np.ones((2, 12), dtype=bool)
    z = np.vstack([np.linspace(2, 8, 12), np.linspace(8, 2, 12)])
    assert list(emerging_hotspot_classes(z, sig)) == ["intensifying_hot", "diminishing_hot"]
    assert list(emerging_hotspot_classes(-z, sig)) == ["intensifying_cold", "diminishing_cold"]


def test_space_time_gi_reduces_to_esda_on_one_step(planted):
    w = spatial_weights(planted, weights="queen")
    x = planted["count"].to_numpy()[:, None]
    z, p = _space_time_gi(x, sp.csr_matrix(w.sparse), time_window=0)
    g = esda.G_Local(x[:, 0], w, star=True, transform="B", permutations=0)
    np.testing.assert_allclose(z[:, 0], g.Zs)


def _cube(n_steps: int, hot_from: int) -> gpd.GeoDataFrame:
    """H3 disk with a cluster that turns hot from step ``hot_from`` on."""
    centre = h3.latlng_to_cell(31.23, 121.47, 8)
    cells = sorted(h3.grid_disk(centre, 5))
    hot = set(h3.grid_disk(centre, 1))
    rng = np.random.default_rng(3)
    rows = []
    for c in cells:
        for t in range(n_steps):
            base = rng.poisson(1)
            rows.append((c, t, base + (12 if c in hot and t >= hot_from else 0)))
    frame = pd.DataFrame(rows, columns=["h3_cell", "step", "count"]).set_index(["h3_cell", "step"])
    geoms = h3_cell_polygons(cells).reindex(frame.index.get_level_values(0)).values
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=4326), centre


def test_emerging_hotspots_finds_new_and_consecutive():
    cube, centre = _cube(12, hot_from=11)
    out = emerging_hotspots(cube, weights="h3", time_window=0)
    assert out.loc[centre, "category"] == "new_hot"
    assert out.crs.equals("EPSG:4326")
    cube, centre = _cube(12, hot_from=8)
    out = emerging_hotspots(cube, weights="h3", time_window=0)
    assert out.loc[centre, "category"] == "consecutive_hot"
    assert out.loc[centre, "n_hot"] == 4
    assert set(out["category"]) <= set(EMERGING_CLASSES)


def test_errors(planted):
    with pytest.raises(InputError, match="frame has no column 'cases'"):
        gi_star(planted, column="cases")
    bad = planted.copy()
    bad.loc[1003, "count"] = np.nan
    with pytest.raises(InputError, match=r"column 'count' must be finite numbers; rows \[1003\]"):
        gi_star(bad)
    with pytest.raises(InputError, match="at least 3 locations, got 2"):
        gi_star(planted.iloc[:2])
    with pytest.raises(InputError, match="weights must be 'queen', 'rook', 'h3' or a libpysal W"):
        gi_star(planted, weights="knn")
    w = libpysal.weights.lat2W(3, 3)
    with pytest.raises(InputError, match="weights cover 9 locations but frame has 225 rows"):
        gi_star(planted, weights=w)
    pts = gpd.GeoDataFrame({"count": [1, 2, 3]}, geometry=[Point(0, 0)] * 3, crs=4547)
    with pytest.raises(InputError, match=r"queen contiguity needs polygons; found .*'Point'"):
        gi_star(pts)
    with pytest.raises(InputError, match="k \\(H3 ring distance\\) must be a positive integer"):
        h3_weights(["8931aa42803ffff"], k=0)
    with pytest.raises(InputError, match="must share one resolution; found resolutions \\[8, 9\\]"):
        h3_weights(["8931aa42803ffff", "8831aa4281fffff"])
    with pytest.raises(InputError, match="H3 cell ids must be unique"):
        h3_weights(["8931aa42803ffff", "8931aa42803ffff"])
    with pytest.raises(InputError, match="not valid H3 cell ids"):
        h3_weights(["x"])
    with pytest.raises(InputError, match="at least 3 time steps, got 2"):
        mann_kendall(np.ones((1, 2)))
    with pytest.raises(InputError, match=r"z has shape \(1, 3\) but significant has shape"):
        emerging_hotspot_classes(np.ones((1, 3)), np.ones((1, 4), dtype=bool))
    with pytest.raises(InputError, match="two-level MultiIndex"):
        emerging_hotspots(planted)
    cube, _ = _cube(12, hot_from=8)
    with pytest.raises(InputError, match="cube has no column 'n'"):
        emerging_hotspots(cube, column="n")
    with pytest.raises(InputError, match="time_window must be 0 or more"):
        emerging_hotspots(cube, time_window=-1)
    with pytest.raises(InputError, match="cube is not complete: 1 .* bins are missing"):
        emerging_hotspots(cube.iloc[1:])
    short, _ = _cube(5, hot_from=2)
    with pytest.raises(InputError, match="at least 10 time steps .* got 5"):
        emerging_hotspots(short)
    with pytest.raises(InputError, match="weights cover 9 locations but the cube has"):
        emerging_hotspots(cube, weights=w)


def _chicago(layer: str) -> gpd.GeoDataFrame:
    if not CHICAGO.exists():
        pytest.skip(f"shared data folder absent: {CHICAGO} (only in the project workspace and CI)")
    return gpd.read_file(CHICAGO, layer=layer)


@pytest.mark.shared_data
def test_chicago_h3_gi_star_with_fdr_finds_real_hot_spots():
    pts = _chicago("aggravated_assaults_2010_2019")
    districts = _chicago("police_districts")
    counts = h3_counts(pts, resolution=9, area=districts)
    out = gi_star(counts, weights="h3")
    hot = out[out["gi_bin"] == 3]
    none = out[out["gi_bin"] == 0]
    assert len(hot) > 100 and len(none) > 1000
    # hot spots sit where the counts are high: median hot cell has several times the cases
    assert hot["count"].median() >= 3 * max(none["count"].median(), 1)
    # the top 1 % of cells by count are all hot at 99 %
    top = out.nlargest(len(out) // 100, "count")
    assert (top["gi_bin"] == 3).mean() > 0.9
    # FDR only removes significance
    raw = gi_star(counts, weights="h3", fdr=False)
    assert (out["gi_bin"] != 0).sum() <= (raw["gi_bin"] != 0).sum()


@pytest.mark.shared_data
def test_chicago_districts_gi_star_on_polygons():
    pts = _chicago("aggravated_assaults_2010_2019")
    districts = _chicago("police_districts").to_crs(26916)
    per_district = pts.groupby("district").size()
    frame = districts.assign(count=districts["district"].astype(int).map(per_district).fillna(0))
    out = gi_star(frame, column="count", weights="queen", fdr=False)
    assert out.crs == districts.crs and list(out.index) == list(districts.index)
    hot = out[out["gi_bin"] > 0]
    assert len(hot) >= 1
    assert hot["count"].mean() > out.loc[out["gi_bin"] <= 0, "count"].mean()
    assert (out["gi_bin"] == 0).any()


@pytest.mark.shared_data
def test_chicago_emerging_yearly():
    pts = _chicago("aggravated_assaults_2010_2019")
    pts = pts.assign(year=pts["date"].dt.year)
    cube = h3_counts(pts, resolution=7, by="year")
    out = emerging_hotspots(cube, weights="h3")
    assert set(out["category"]) <= set(EMERGING_CLASSES)
    assert out["category"].str.endswith("_hot").any()
    assert (out["category"] == "no_pattern").any()


def test_emerging_hotspots_on_grid_polygons_with_queen():
    lattice = _lattice(np.zeros(N * N))
    rng = np.random.default_rng(5)
    rows, geoms = [], []
    centre = 7 * N + 7
    block = {centre + dr * N + dc for dr in (-1, 0, 1) for dc in (-1, 0, 1)}
    for i, geom in enumerate(lattice.geometry):
        for t in range(10):
            rows.append((f"G{i:03d}", t, rng.poisson(1) + (15 if i in block and t == 9 else 0)))
            geoms.append(geom)
    frame = pd.DataFrame(rows, columns=["grid_code", "week", "count"])
    cube = gpd.GeoDataFrame(frame.set_index(["grid_code", "week"]), geometry=geoms, crs=lattice.crs)
    out = emerging_hotspots(cube, weights="queen", time_window=0)
    assert out.loc[f"G{centre:03d}", "category"] == "new_hot"
    assert out.crs == lattice.crs
    assert len(out) == N * N


def _grid_lattice(x0: float, n: int, prefix: str, counts) -> tuple[list[dict], dict[str, int]]:
    """An n x n lattice of 0.002-degree grids from longitude ``x0`` and their case counts."""
    from shapely.geometry import box

    rows, cases = [], {}
    for i in range(n):
        for j in range(n):
            code = f"{prefix}{i:02d}{j:02d}"
            cell = box(x0 + i * 0.002, 30 + j * 0.002, x0 + (i + 1) * 0.002, 30 + (j + 1) * 0.002)
            rows.append({"grid_code": code, "geometry": cell})
            cases[code] = counts(i, j)
    return rows, cases


def test_gi_within_a_township_shows_its_own_hot_and_cold_spots():
    """A busy town beside a rural township: computed over the county's grids every significant
    rural grid is cold; computed over the township's own grids (a township leader's view) its
    busy corner is hot and its empty corner cold."""
    import geopandas as gpd

    from wangge.services.analytics import grid_hotspots

    town, town_cases = _grid_lattice(114.0, 6, "A", lambda i, j: 200)

    def rural(i: int, j: int) -> int:
        return 30 if i < 3 and j < 3 else 0 if i >= 5 and j >= 5 else 8

    farm, farm_cases = _grid_lattice(114.012, 8, "B", rural)
    grids = gpd.GeoDataFrame(town + farm, crs="EPSG:4326")
    county = grid_hotspots(grids, {**town_cases, **farm_cases})
    county = county[county["grid_code"].str.startswith("B")]
    own = grid_hotspots(grids[grids["grid_code"].str.startswith("B")], farm_cases)
    assert (county["gi_bin"] < 0).any() and not (county["gi_bin"] > 0).any()
    bins = dict(zip(own["grid_code"], own["gi_bin"], strict=True))
    assert bins["B0101"] == 3  # the middle of the busy corner
    assert bins["B0707"] < 0 and min(bins.values()) <= -2  # the empty corner
    assert set(own.columns) == {"grid_code", "cases", "gi_z", "gi_bin"}
