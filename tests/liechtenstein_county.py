"""Liechtenstein as a stand-in county, for the README's "Bring your own county" and its test.

Run ``python tests/liechtenstein_county.py ../shared/data/liechtenstein_osm.gpkg OUT_DIR``: it
writes ``OUT_DIR/liechtenstein_county.gpkg`` with the layers a county's GIS officer would bring:

- ``townships``: the two regions, Oberland and Unterland, each the union of its municipalities;
- ``communities``: the 11 municipalities (OSM ``admin_level`` 8);
- ``buildings``: the OSM building polygons inside the municipalities (the extract also holds
  a few line "buildings" and some across the Swiss and Austrian borders, left out here).

The codes are invented (Liechtenstein has no Chinese statistical area codes): county
:data:`COUNTY_CODE`, townships ``990101001000`` and ``990101002000``, communities the
township's first 9 digits and 001, 002, ... in alphabetical order. The roads, waterways and
railways are read from the OSM GeoPackage as they are.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

__all__ = ["COUNTY_CODE", "REGIONS", "TOWNSHIP_CODES", "prepare"]

#: The invented 6-digit county code.
COUNTY_CODE = "990101"

#: The two regions (townships) and their municipalities (communities).
REGIONS = {
    "Oberland": ["Vaduz", "Balzers", "Planken", "Schaan", "Triesen", "Triesenberg"],
    "Unterland": ["Eschen", "Gamprin", "Mauren", "Ruggell", "Schellenberg"],
}

#: The townships' invented 12-digit codes.
TOWNSHIP_CODES = {"Oberland": COUNTY_CODE + "001000", "Unterland": COUNTY_CODE + "002000"}


def prepare(osm_gpkg: str | Path, out_dir: str | Path) -> Path:
    """Write ``liechtenstein_county.gpkg`` (townships, communities, buildings) to ``out_dir``."""
    osm_gpkg, out_dir = Path(osm_gpkg), Path(out_dir)
    admin = gpd.read_file(osm_gpkg, layer="admin_boundaries")
    rows = []
    for region, names in REGIONS.items():
        for k, name in enumerate(sorted(names), start=1):
            rows.append(
                {"name": name, "region": region, "code": f"{TOWNSHIP_CODES[region][:9]}{k:03d}"}
            )
    table = pd.DataFrame(rows)
    level8 = admin[admin["admin_level"].astype(str) == "8"][["name", "geometry"]]
    communities = level8.merge(table, on="name")
    townships = communities.dissolve(by="region", as_index=False)[["region", "geometry"]]
    townships = townships.assign(
        code=townships["region"].map(TOWNSHIP_CODES), name=townships["region"]
    )[["code", "name", "geometry"]]
    buildings = gpd.read_file(osm_gpkg, layer="buildings")
    polygons = buildings[buildings.geom_type.isin(["Polygon", "MultiPolygon"])]
    country = shapely.union_all(communities.geometry.to_numpy())
    inside = shapely.intersects(country, shapely.point_on_surface(polygons.geometry.to_numpy()))
    buildings = polygons[inside][["id", "building", "building:levels", "name", "geometry"]]
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "liechtenstein_county.gpkg"
    if out.exists():
        out.unlink()
    townships.to_file(out, layer="townships", engine="pyogrio")
    communities[["code", "name", "geometry"]].to_file(out, layer="communities", engine="pyogrio")
    buildings.to_file(out, layer="buildings", engine="pyogrio")
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python tests/liechtenstein_county.py OSM_GPKG OUT_DIR")
    print(prepare(sys.argv[1], sys.argv[2]))
