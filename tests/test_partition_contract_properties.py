"""Property-based tests of the grid engine's contract on messy generated towns (hypothesis).

Every generated town is divided, written to a GeoPackage and checked from the written files
by the independent checker (``tests/partition_checker.py``) and by the engine's own report:
no breach, ever. The towns mix what real data holds: a lattice of identical buildings (turned
off the axes), overlapping and duplicate footprints, buildings across the community line,
a multipart community with an exclave (with or without buildings), a hole in a community
(a lake, or an island community), slivers, tiny and huge buildings, streets ending inside
blocks.

The example count is modest for CI (``WANGGE_CONTRACT_EXAMPLES``, default 6, derandomised:
the same examples every run); for a longer hunt::

    WANGGE_CONTRACT_EXAMPLES=300 WANGGE_CONTRACT_RANDOM=1 \\
        .venv/bin/python -m pytest tests/test_partition_contract_properties.py -p no:cacheprovider
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.affinity
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from partition_checker import CHECKS, check_written
from shapely.geometry import LineString, box

from geo.io import write_result
from geo.partition import contract, partition

CRS = "EPSG:32650"
W, H = 240.0, 160.0
EXAMPLES = int(os.environ.get("WANGGE_CONTRACT_EXAMPLES", "6"))
RANDOM = os.environ.get("WANGGE_CONTRACT_RANDOM", "") not in ("", "0")

pytestmark = pytest.mark.slow

coord = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def messy_town(draw) -> dict:
    """A town of two or three communities and 40-200 buildings with every kind of mess."""
    s1, s2 = draw(st.floats(90, 150)), draw(st.floats(90, 150))
    a = shapely.Polygon([(0, 0), (s1, 0), (s2, H), (0, H)])
    b = shapely.Polygon([(s1, 0), (W, 0), (W, H), (s2, H)])
    comms, codes = [], ["341122100101", "341122100102"]
    hole = box(20, 100, 45, 125) if draw(st.booleans()) else None
    if hole is not None:
        a = a.difference(hole)
    exclave = box(W + 80, 0, W + 110, 30)
    comms += [a, shapely.MultiPolygon([b, exclave]) if draw(st.booleans()) else b]
    if hole is not None and draw(st.booleans()):
        comms.append(hole)  # an island community in the lake
        codes.append("341122100103")
    communities = gpd.GeoDataFrame({"code": codes}, geometry=comms, crs=CRS)
    rows = _lattice(draw) + _mess(draw, s1, s2)
    if draw(st.booleans()):  # houses in the exclave
        rows += [box(W + 85 + 8 * i, 5, W + 90 + 8 * i, 10) for i in range(3)]
    hh = draw(st.lists(st.integers(0, 25), min_size=len(rows), max_size=len(rows)))
    buildings = gpd.GeoDataFrame({"households": hh}, geometry=rows, crs=CRS)
    buildings.insert(0, "building_id", [f"B{i:03d}" for i in range(len(buildings))])
    return {"buildings": buildings, "communities": communities, "roads": _streets(draw)}


def _lattice(draw) -> list:
    """Identical buildings on a lattice, turned by any angle about the town's centre."""
    step = draw(st.floats(12, 22))
    size = step * draw(st.floats(0.3, 0.8))
    nx, ny = int(W // step) - 1, int(H // step) - 1
    keep = draw(st.floats(0.3, 1.0))
    angle = draw(st.sampled_from([0.0, 15.0, 37.0, draw(st.floats(0, 90))]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    out = []
    for i in range(nx):
        for j in range(ny):
            if rng.random() < keep and len(out) < 150:
                x, y = 6 + i * step, 6 + j * step
                g = box(x, y, x + size, y + size)
                out.append(shapely.affinity.rotate(g, angle, origin=(W / 2, H / 2)))
    return out


def _mess(draw, s1: float, s2: float) -> list:
    """Overlapping, duplicate, straddling, tiny, sliver and huge footprints."""
    out = []
    for _ in range(draw(st.integers(0, 4))):  # across the community line
        t, w, h = draw(coord), draw(st.floats(4, 40)), draw(st.floats(4, 20))
        x, y = s1 + t * (s2 - s1), t * H
        off = draw(st.floats(-0.45, 0.45)) * w
        out.append(box(x - w / 2 + off, y, x + w / 2 + off, y + h))
    for _ in range(draw(st.integers(0, 3))):  # two footprints overlapping, and a duplicate
        x, y = draw(coord) * (W - 30), draw(coord) * (H - 30)
        g = box(x, y, x + draw(st.floats(5, 20)), y + draw(st.floats(5, 20)))
        dx, dy = draw(st.floats(0.05, 6)), draw(st.floats(0.05, 6))
        out += [g, shapely.affinity.translate(g, dx, dy)]
        if draw(st.booleans()):
            out.append(g)
    for _ in range(draw(st.integers(0, 2))):  # tiny sheds and slivers
        x, y = draw(coord) * (W - 20), draw(coord) * (H - 20)
        out += [box(x, y, x + 0.3, y + 0.3), box(x + 2, y, x + 2.2, y + 15)]
    if draw(st.booleans()):  # a huge building (a school, a mall)
        x, y = draw(coord) * (W - 70), draw(coord) * (H - 45)
        out.append(box(x, y, x + 60, y + 40))
    return out


def _streets(draw) -> gpd.GeoDataFrame:
    """A through street, streets ending inside blocks and a diagonal lane."""
    y = draw(st.floats(20, H - 20))
    lines = [LineString([(-10, y), (W + 10, y)])]
    for _ in range(draw(st.integers(0, 3))):  # dead ends
        x0, y0 = draw(coord) * W, draw(coord) * H
        lines.append(LineString([(x0, y0), (x0 + draw(st.floats(-60, 60)), y0 + 40)]))
    if draw(st.booleans()):
        lines.append(LineString([(0, 0), (W, H)]))
    kinds = ["residential"] + ["service"] * (len(lines) - 1)
    return gpd.GeoDataFrame({"highway": kinds}, geometry=lines, crs=CRS)


def _as_text(town: dict) -> str:
    """The town as WKT, to rebuild a failing example."""
    parts = []
    for name, frame in town.items():
        rows = frame.drop(columns=frame.geometry.name).to_dict("records")
        parts += [f"{name} {r} {g.wkt}" for r, g in zip(rows, frame.geometry, strict=True)]
    return "\n".join(parts)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    # shrinking a town takes minutes: the failing town is printed whole instead (note)
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(town=messy_town(), output_crs=st.sampled_from([None, 4326]))
def test_every_messy_town_meets_the_contract(town, output_crs):
    note(_as_text(town))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicates, buildings outside: warned, not breaches
        result = partition(
            town["buildings"],
            communities=town["communities"],
            community_id="code",
            barriers=[town["roads"]],
            households_column="households",
            min_households=60,
            max_households=120,
            output_crs=output_crs,
            workers=1,
        )
    assert result.report["contract"]["breaches"] == {k: [] for k in contract.BREACHES}
    with tempfile.TemporaryDirectory() as tmp:
        path = write_result(result, Path(tmp) / "out.gpkg")
        found = check_written(
            path,
            town["buildings"],
            households_column="households",
            communities=town["communities"],
        )
    assert found == {k: [] for k in CHECKS}
