"""Reading the GIS layers of a county import: any format :func:`geo.io.read_vector` reads, any
CRS (CGCS2000, EPSG:4490, included), GCJ-02 on request, and the checks every layer shares
(columns, codes, geometries), each problem recorded in an :class:`ImportReport`.

Everything read is returned in WGS84 (EPSG:4326), the store's CRS; the report notes each
conversion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import coords, io
from geo.errors import InputError
from geo.validate import require_crs
from wangge.ingest.problems import ImportReport

__all__ = [
    "WGS84",
    "LayerOptions",
    "check_columns",
    "check_geometries",
    "clean_codes",
    "code_problem",
    "describe",
    "read_layer",
]

WGS84 = "EPSG:4326"

_POLYGONS = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class LayerOptions:
    """How to read the files of one import.

    Parameters
    ----------
    encoding
        DBF encoding of shapefiles (GBK, GB18030, UTF-8); default: the ``.cpg`` file's, else
        UTF-8 or GB18030 detected (:func:`geo.io.detect_dbf_encoding`).
    gcj02
        The coordinates are GCJ-02 (digitised on Gaode/AMap or Tencent maps): convert them to
        WGS84.
    """

    encoding: str | None = None
    gcj02: bool = False


def describe(spec: str | Path) -> str:
    """How a ``FILE[:LAYER]`` is named in messages: the file's name and the layer."""
    path, layer = io.parse_source(spec)
    return f"{path.name}:{layer}" if layer else path.name


def read_layer(
    spec: str | Path, options: LayerOptions, report: ImportReport
) -> gpd.GeoDataFrame | None:
    """Read ``FILE[:LAYER]`` in WGS84; None (with the problem in ``report``) when it cannot be.

    Notes the CRS converted from, the DBF encoding of a shapefile and the GCJ-02 conversion.
    """
    label = describe(spec)
    path, layer = io.parse_source(spec)
    try:
        frame = io.read_vector(path, layer=layer, encoding=options.encoding)
        crs = require_crs(
            frame, "the layer", example="EPSG:4490 (CGCS2000) in a .prj beside a shapefile"
        )
    except (InputError, OSError) as exc:
        report.add(label, "", "", str(exc).removeprefix(f"{path}: ").removeprefix(f"{label}: "))
        return None
    if path.suffix.lower() == ".shp":
        encoding = options.encoding or io.detect_dbf_encoding(path)
        source = "given" if options.encoding else "from the .cpg file or detected"
        report.note(f"{label}: DBF read as {encoding} ({source})")
    epsg = crs.to_epsg()
    if epsg != 4326:
        name = f"{crs.name} (EPSG:{epsg})" if epsg else crs.name
        report.note(f"{label}: converted from {name} to WGS84")
        frame = frame.to_crs(WGS84)
    if options.gcj02:
        frame = frame.set_geometry(
            shapely.transform(
                frame.geometry.to_numpy(),
                lambda xy: np.column_stack(coords.gcj02_to_wgs84(xy[:, 0], xy[:, 1])),
            ),
            crs=WGS84,
        )
        report.note(f"{label}: coordinates converted from GCJ-02 (Gaode/Tencent) to WGS84")
    return frame.reset_index(drop=True)


def check_columns(
    frame: gpd.GeoDataFrame, label: str, columns: list[str | None], report: ImportReport
) -> bool:
    """Whether ``frame`` has every column named in ``columns`` (None entries are skipped);
    each missing one is a problem."""
    have = [c for c in frame.columns if c != frame.geometry.name]
    ok = True
    for column in columns:
        if column is not None and column not in frame.columns:
            report.add(label, "", column, f"no such column; the columns are {have}")
            ok = False
    return ok


def clean_codes(values: pd.Series) -> pd.Series:
    """Codes as text: numbers read from a DBF (341122100101.0) lose their decimal part, blanks
    become empty strings.

    Examples
    --------
    >>> clean_codes(pd.Series([341122100101.0, " 341122100102", None])).tolist()
    ['341122100101', '341122100102', '']
    """

    def one(value) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    return values.map(one).astype(str)


def check_geometries(
    frame: gpd.GeoDataFrame,
    label: str,
    features: pd.Series,
    report: ImportReport,
    *,
    polygons: bool = True,
) -> np.ndarray:
    """Which features have a usable geometry; each empty, missing, invalid or (with
    ``polygons``) non-polygon one is a problem naming the feature (``features``: its label)."""
    geoms = frame.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
    wrong = ~missing & ~np.isin(types, _POLYGONS) if polygons else np.zeros(len(geoms), bool)
    invalid = ~missing & ~wrong & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(missing):
        report.add(label, features.iloc[i], "geometry", "empty or missing geometry")
    for i in np.flatnonzero(wrong):
        report.add(label, features.iloc[i], "geometry", f"not a polygon ({types[i]})")
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        report.add(label, features.iloc[i], "geometry", f"invalid geometry ({reason})")
    return ~(missing | wrong | invalid)


def code_problem(code: str, digits: int) -> str | None:
    """What is wrong with a statistical area code of ``digits`` digits, or None.

    Examples
    --------
    >>> code_problem("34112210010", 12)
    "code '34112210010' is not 12 digits"
    >>> code_problem("341122100101", 12) is None
    True
    """
    if not code:
        return "the code is missing"
    if not re.fullmatch(rf"\d{{{digits}}}", code):
        return f"code {code!r} is not {digits} digits"
    return None
