"""Reading buildings, communities and barriers; writing partition results.

Supported: GeoJSON, GeoPackage, Shapefile (DBF in UTF-8 or GBK/GB18030, detected when no
``.cpg`` says), GeoParquet and OpenStreetMap files (``.osm.pbf``/``.osm``, through GDAL's OSM
driver: buildings, roads, water, railways and admin boundaries).
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.errors import InputError

__all__ = ["detect_dbf_encoding", "parse_source", "read_osm", "read_vector", "write_result"]

log = logging.getLogger(__name__)

_OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm")


def parse_source(spec: str | Path) -> tuple[Path, str | None]:
    """Split ``FILE[:LAYER]`` into a path and an optional layer name.

    Examples
    --------
    >>> parse_source("town.gpkg:roads")
    (PosixPath('town.gpkg'), 'roads')
    >>> parse_source("town.geojson")
    (PosixPath('town.geojson'), None)
    """
    text = str(spec)
    if Path(text).exists() or ":" not in text:
        return Path(text), None
    head, _, layer = text.rpartition(":")
    if not head or "/" in layer or "\\" in layer:
        return Path(text), None
    return Path(head), layer or None


def detect_dbf_encoding(path: str | Path) -> str:
    """Encoding of a shapefile's DBF: from its ``.cpg`` if present, else UTF-8 or GB18030.

    GB18030 is a superset of GBK and GB2312, so it reads files written by Chinese desktop GIS.
    """
    path = Path(path)
    cpg = path.with_suffix(".cpg")
    if cpg.exists():
        text = cpg.read_text(errors="replace").strip()
        if text:
            return text
    dbf = path.with_suffix(".dbf")
    if not dbf.exists():
        return "UTF-8"
    data = dbf.read_bytes()
    header_len = int.from_bytes(data[8:10], "little") if len(data) >= 10 else 0
    body = data[header_len:]
    names = data[32:header_len]
    try:
        body.decode("utf-8")
        names.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GB18030"


def _is_osm(path: Path) -> bool:
    return path.name.lower().endswith(_OSM_SUFFIXES)


def read_vector(
    path: str | Path, *, layer: str | None = None, encoding: str | None = None
) -> gpd.GeoDataFrame:
    """Read one vector layer from any supported format.

    Parameters
    ----------
    path
        A GeoJSON, GeoPackage, Shapefile, GeoParquet or OSM file. ``FILE:LAYER`` is accepted.
    layer
        Layer name (GeoPackage, OSM: ``buildings``, ``roads``, ``water``, ``railways``,
        ``boundaries``).
    encoding
        DBF encoding of a shapefile; detected when not given.
    """
    path = Path(path)
    if layer is None:
        path, layer = parse_source(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if _is_osm(path):
        layers = read_osm(path)
        name = layer or "buildings"
        if name not in layers:
            raise InputError(f"{path}: no OSM layer {name!r}; expected one of {sorted(layers)}")
        return layers[name]
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        return gpd.read_parquet(path)
    kwargs: dict = {}
    if path.suffix.lower() == ".shp":
        kwargs["encoding"] = encoding or detect_dbf_encoding(path)
    elif encoding:
        kwargs["encoding"] = encoding
    try:
        if layer is not None:
            available = [row[0] for row in pyogrio.list_layers(path)]
            if layer not in available:
                raise InputError(f"{path}: no layer {layer!r}; the file has {available}")
            kwargs["layer"] = layer
        return pyogrio.read_dataframe(path, **kwargs)
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(f"{path}: cannot read as a vector file ({exc})") from exc


def read_osm(path: str | Path) -> dict[str, gpd.GeoDataFrame]:
    """Read an OSM file (``.osm.pbf`` or ``.osm``) with GDAL's OSM driver.

    Returns ``buildings`` (polygons with a ``building`` tag), ``roads`` (``highway`` lines),
    ``water`` (``waterway`` lines and ``natural=water`` polygons), ``railways`` and
    ``boundaries`` (``boundary=administrative`` polygons), all in EPSG:4326.
    """
    path = Path(path)
    try:
        polys = pyogrio.read_dataframe(path, layer="multipolygons")
        lines = pyogrio.read_dataframe(path, layer="lines")
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(f"{path}: cannot read as OpenStreetMap ({exc})") from exc
    empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=4326))

    def pick(frame: gpd.GeoDataFrame, mask) -> gpd.GeoDataFrame:
        if frame.empty:
            return empty.copy()
        return frame.loc[mask].reset_index(drop=True)

    def col(frame: gpd.GeoDataFrame, name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name]
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)

    water_polys = pick(polys, col(polys, "natural").eq("water"))
    water_lines = pick(lines, col(lines, "waterway").notna())
    water = pd.concat([water_lines, water_polys], ignore_index=True)
    return {
        "buildings": pick(polys, col(polys, "building").notna()),
        "roads": pick(lines, col(lines, "highway").notna()),
        "water": gpd.GeoDataFrame(water, geometry="geometry", crs=4326),
        "railways": pick(lines, col(lines, "railway").notna()),
        "boundaries": pick(polys, col(polys, "boundary").eq("administrative")),
    }


def write_result(result, out: str | Path) -> Path:
    """Write a :class:`geo.partition.PartitionResult` to a GeoPackage (layers grids, buildings)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    pyogrio.write_dataframe(result.grids, out, layer="grids", driver="GPKG")
    pyogrio.write_dataframe(result.buildings, out, layer="buildings", driver="GPKG", append=True)
    return out
