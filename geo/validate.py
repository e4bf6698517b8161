"""Input checks shared by the engine and the analytics: frames, columns and CRSs.

One place for the checks that every public function of :mod:`geo` makes before it works: a
GeoDataFrame where one is needed, the columns it reads, a CRS at all, a projected CRS in
metres where distances are measured. Each check raises (or, for the ``*_problem`` forms,
returns) a message that names the input, what was found and how to fix it, so that callers
can collect all problems first and report them in one error (house style).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from geo.errors import CRSError, InputError

__all__ = [
    "column_problem",
    "frame_problem",
    "missing_columns",
    "require_column",
    "require_crs",
    "require_frame",
    "require_layer_crs",
    "require_metric_crs",
]


def frame_problem(frame: object, what: str, *, series: bool = True) -> str | None:
    """``"{what} must be a GeoDataFrame, got ..."`` unless ``frame`` is one (or a GeoSeries).

    Examples
    --------
    >>> import pandas as pd
    >>> frame_problem(pd.DataFrame(), "grids")
    'grids must be a GeoDataFrame, got DataFrame'
    """
    kinds = (gpd.GeoDataFrame, gpd.GeoSeries) if series else (gpd.GeoDataFrame,)
    if isinstance(frame, kinds):
        return None
    return f"{what} must be a GeoDataFrame, got {type(frame).__name__}"


def require_frame(frame: object, what: str, *, series: bool = True) -> None:
    """Raise :class:`InputError` unless ``frame`` is a GeoDataFrame (or a GeoSeries)."""
    problem = frame_problem(frame, what, series=series)
    if problem:
        raise InputError(problem)


def missing_columns(frame: pd.DataFrame, needed: Iterable[Hashable]) -> list[Hashable]:
    """The columns of ``needed`` that ``frame`` lacks, in the order asked.

    Examples
    --------
    >>> missing_columns(pd.DataFrame({"a": [1]}), ["a", "b"])
    ['b']
    """
    return [c for c in needed if c not in frame.columns]


def column_problem(frame: pd.DataFrame, column: Hashable, what: str) -> str | None:
    """``"{what}: no column ... (columns are [...])"`` unless ``frame`` has ``column``."""
    if column in frame.columns:
        return None
    return f"{what}: no column {column!r} (columns are {list(frame.columns)})"


def require_column(frame: pd.DataFrame, column: Hashable, what: str) -> None:
    """Raise :class:`InputError` unless ``frame`` has ``column``.

    Examples
    --------
    >>> require_column(pd.DataFrame({"code": []}), "id", "grids")
    Traceback (most recent call last):
    ...
    geo.errors.InputError: grids: no column 'id' (columns are ['code'])
    """
    problem = column_problem(frame, column, what)
    if problem:
        raise InputError(problem)


def require_layer_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries, name: str) -> CRS:
    """Return the CRS of the layer ``frame`` or raise :class:`CRSError` saying how to set one.

    The message is the one of the engine's inputs (a layer read from a file).

    Examples
    --------
    >>> from shapely import Point
    >>> require_layer_crs(gpd.GeoSeries([Point(0, 0)], crs=4326), "buildings").to_epsg()
    4326
    """
    if frame.crs is None:
        raise CRSError(
            f"{name}: the layer has no coordinate reference system (CRS). Set the one the "
            "coordinates are in, e.g. `frame.set_crs(4326)` for longitude/latitude or "
            "`frame.set_crs(4547)` for CGCS2000 Gauss-Kruger CM 114E, or add a .prj file "
            "beside a shapefile."
        )
    return CRS.from_user_input(frame.crs)


def require_crs(
    frame: gpd.GeoDataFrame | gpd.GeoSeries,
    what: str,
    *,
    plural: bool = False,
    need: str = "",
    example: str | None = None,
) -> CRS:
    """Return the CRS of ``frame`` or raise :class:`CRSError` saying how to set one.

    Parameters
    ----------
    what
        The name of the input in the message (``points``, ``area``...).
    plural
        ``what`` is a plural ("points have no CRS").
    need
        Why a CRS is needed, said before the fix ("H3 needs longitude/latitude").
    example
        The fix shown (default ``{what}.set_crs('EPSG:4326')``).

    Examples
    --------
    >>> from shapely import Point
    >>> require_crs(gpd.GeoSeries([Point(0, 0)]), "area")
    Traceback (most recent call last):
    ...
    geo.errors.CRSError: area has no CRS; set the CRS its coordinates are in, e.g. area.set_crs('EPSG:4326')
    """  # noqa: E501
    if frame.crs is not None:
        return CRS.from_user_input(frame.crs)
    fix = "the CRS its coordinates are in, e.g. " + (example or f"{what}.set_crs('EPSG:4326')")
    fix = f"{need}. Set {fix}" if need else f"set {fix}"
    raise CRSError(f"{what} {'have' if plural else 'has'} no CRS; {fix}")


def require_metric_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> CRS:
    """Return the CRS of ``frame`` or raise :class:`CRSError` unless it is projected in metres.

    The message says how to project: ``frame.to_crs(geo.crs.metric_crs(frame))``.

    Examples
    --------
    >>> from shapely import Point
    >>> require_metric_crs(gpd.GeoSeries([Point(0, 0)], crs=4326), "grids")
    Traceback (most recent call last):
    ...
    geo.errors.CRSError: grids is in a geographic CRS (WGS 84, degrees) but distances in metres are needed; project it first, e.g. grids = grids.to_crs(geo.crs.metric_crs(grids)) (CGCS2000 Gauss-Kruger in China, local UTM elsewhere)
    """  # noqa: E501
    crs = frame.crs
    fix = (
        f"project it first, e.g. {what} = {what}.to_crs(geo.crs.metric_crs({what})) "
        "(CGCS2000 Gauss-Kruger in China, local UTM elsewhere)"
    )
    if crs is None:
        raise CRSError(
            f"{what} has no CRS and distances in metres are needed; set the CRS its "
            f"coordinates are in ({what}.set_crs(...)) and {fix}"
        )
    if not crs.is_projected:
        raise CRSError(
            f"{what} is in a geographic CRS ({crs.name}, degrees) but distances in metres "
            f"are needed; {fix}"
        )
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if unit not in ("metre", "meter"):
        raise CRSError(f"{what} is in a projected CRS in {unit!r}, not metres; {fix}")
    return CRS.from_user_input(crs)
