"""A small synthetic county as a GIS officer would bring it (for the county and grid import
tests): two townships of two communities each, in CGCS2000 / 3-degree Gauss-Kruger CM 114E
(EPSG:4547), 1 km squares, 12 buildings of 40 households per community, a road between the
townships.

``county_frames()`` returns the frames, ``write_county(folder, **changes)`` writes them to
``county.gpkg`` (layers townships, communities, buildings, roads) after applying the changes
(a frame per layer name) and returns the folder.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely import LineString, box

__all__ = ["CRS", "X0", "Y0", "county_files", "county_frames", "write_county"]

CRS = "EPSG:4547"
X0, Y0 = 500_000.0, 3_400_000.0


def _buildings(code: str, x: float, y: float) -> list[dict]:
    rows = []
    for i in range(4):
        for j in range(3):
            bx, by = x + 150 + i * 200, y + 200 + j * 250
            rows.append(
                {
                    "bid": f"{code}-{i}{j}",
                    "hh": 40,
                    "building": "apartments",
                    "geometry": box(bx, by, bx + 30, by + 20),
                }
            )
    return rows


def county_frames() -> dict[str, gpd.GeoDataFrame]:
    """townships, communities, buildings, roads of the synthetic county (EPSG:4547)."""
    townships = gpd.GeoDataFrame(
        {"TCODE": ["341122100000", "341122101000"], "TNAME": ["城关镇", "东山乡"]},
        geometry=[box(X0, Y0, X0 + 2000, Y0 + 1000), box(X0 + 2000, Y0, X0 + 4000, Y0 + 1000)],
        crs=CRS,
    )
    codes = ["341122100001", "341122100002", "341122101001", "341122101002"]
    communities = gpd.GeoDataFrame(
        {
            "CCODE": codes,
            "CNAME": ["东街社区", "西街社区", "东山村", "南山村"],
            "CKIND": ["社区", "社区", "行政村", "行政村"],
        },
        geometry=[box(X0 + k * 1000, Y0, X0 + (k + 1) * 1000, Y0 + 1000) for k in range(4)],
        crs=CRS,
    )
    rows = []
    for k, code in enumerate(codes):
        rows += _buildings(code, X0 + k * 1000, Y0)
    buildings = gpd.GeoDataFrame(rows, crs=CRS)
    roads = gpd.GeoDataFrame(
        {"name": ["人民路"], "highway": ["primary"]},
        geometry=[LineString([(X0 + 2000, Y0 - 10), (X0 + 2000, Y0 + 1010)])],
        crs=CRS,
    )
    return {
        "townships": townships,
        "communities": communities,
        "buildings": buildings,
        "roads": roads,
    }


def write_county(folder: Path, **changes: gpd.GeoDataFrame) -> Path:
    """Write the county (with ``changes``) to ``folder / 'county.gpkg'``; return the file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "county.gpkg"
    if path.exists():
        path.unlink()
    for layer, frame in {**county_frames(), **changes}.items():
        frame.to_file(path, layer=layer, engine="pyogrio")
    return path


def county_files(path: Path, **changes):
    """The import options of the county :func:`write_county` wrote to ``path`` (a GeoPackage),
    with ``changes`` to any field of :class:`wangge.ingest.county.CountyFiles`."""
    from dataclasses import replace

    from wangge.ingest.county import CountyFiles

    files = CountyFiles(
        county_code="341122",
        county_name="测试县",
        townships=f"{path}:townships",
        communities=f"{path}:communities",
        township_code="TCODE",
        township_name="TNAME",
        community_code="CCODE",
        community_name="CNAME",
        community_kind="CKIND",
        buildings=f"{path}:buildings",
        households_column="hh",
        building_id="bid",
        references={"roads": f"{path}:roads"},
    )
    return replace(files, **changes)
