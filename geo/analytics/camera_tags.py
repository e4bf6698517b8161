"""Cameras from OpenStreetMap tags: type, bearing(s), field of view and range.

OSM describes a surveillance camera with ``camera:type`` (fixed, panning, dome),
``camera:direction`` or ``direction`` (degrees clockwise from north, a cardinal such as
``NE``, or several separated by ``;``), ``camera:angle`` and ``height``. This module reads
those tags into the columns :func:`geo.analytics.cameras.camera_sectors` works with; the
defaults of each type are :data:`CAMERA_DEFAULTS`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Hashable, Mapping
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np

from geo.errors import InputError

__all__ = ["CAMERA_DEFAULTS", "camera_from_tags", "cameras_from_osm", "parse_direction"]


#: Horizontal field of view (degrees) and range (metres) by OSM ``camera:type``. A fixed
#: camera with a 2.8-4 mm lens on a 1/2.5" sensor sees 70-98 degrees; 50 m is the distance
#: at which a face or plate is still recognisable. Panning cameras sweep all around.
CAMERA_DEFAULTS: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "fixed": MappingProxyType({"fov_deg": 90.0, "range_m": 50.0}),
        "panning": MappingProxyType({"fov_deg": 360.0, "range_m": 80.0}),
        "dome": MappingProxyType({"fov_deg": 360.0, "range_m": 30.0}),
    }
)

_CARDINALS = {
    name: i * 22.5
    for i, name in enumerate(
        [
            "N",
            "NNE",
            "NE",
            "ENE",
            "E",
            "ESE",
            "SE",
            "SSE",
            "S",
            "SSW",
            "SW",
            "WSW",
            "W",
            "WNW",
            "NW",
            "NNW",
        ]
    )
}
_NUMBER = re.compile(r"^[+-]?\d+(\.\d*)?$")


def _bearing(token: str) -> float | None:
    token = token.strip()
    if _NUMBER.match(token):
        return float(token) % 360.0
    return _CARDINALS.get(token.upper())


def parse_direction(value: Any) -> list[tuple[float, float | None]]:
    """Parse an OSM ``camera:direction``/``direction`` value into (bearing, fov) pairs.

    Accepted forms: degrees (``"180"``, ``"-90"`` = 270, ``"360"`` = 0), 16-wind cardinals
    (``"NE"``, ``"ssw"``), clockwise ranges (``"90-270"`` looks south with a 180 degree field of
    view, ``"350-10"`` looks north with 20 degrees), and several of these separated by ``;``
    (``"180;160;170"``: one camera head, or one sector, each).

    Parameters
    ----------
    value
        The tag value: a string, a number, a list of numbers, or None/NaN/empty.

    Returns
    -------
    list of (float, float or None)
        Bearing in [0, 360) and the field of view a range implies (None for single bearings);
        empty when there is no value.

    Examples
    --------
    >>> parse_direction("180;160;170")
    [(180.0, None), (160.0, None), (170.0, None)]
    >>> parse_direction("NE")
    [(45.0, None)]
    >>> parse_direction("90-270")
    [(180.0, 180.0)]
    """
    if value is None:
        return []
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return [] if math.isnan(float(value)) else [(float(value) % 360.0, None)]
    if isinstance(value, list | tuple | np.ndarray):
        out: list[tuple[float, float | None]] = []
        for v in value:
            out += parse_direction(v)
        return out
    if not isinstance(value, str):
        raise InputError(
            f"direction {value!r}: expected text or a number, got {type(value).__name__}"
        )
    out = []
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        single = _bearing(part)
        if single is not None:
            out.append((single, None))
            continue
        m = re.match(r"^\s*(\S+?)\s*-\s*(\S+)\s*$", part)
        a = _bearing(m.group(1)) if m else None
        b = _bearing(m.group(2)) if m else None
        if a is None or b is None:
            raise InputError(
                f"direction {value!r}: {part!r} is not a bearing in degrees, a cardinal such "
                "as 'NE' or a range such as '90-270'"
            )
        width = (b - a) % 360.0 or 360.0
        out.append(((a + width / 2.0) % 360.0, width))
    return out


def camera_from_tags(tags: Mapping[str, Any] | str) -> dict[str, Any]:
    """Camera fields from OSM tags: type, bearings, field of view and range.

    ``camera:direction`` is read, or ``direction`` when it is absent; ``camera:type`` gives the
    type (``fixed`` when absent or not one of fixed/panning/dome, reported in
    ``type_tag``). ``camera:angle`` is not used: in the wild it means the tilt as often as the
    field of view. Field of view and range come from :data:`CAMERA_DEFAULTS` unless a
    direction range implies the field of view.

    Parameters
    ----------
    tags
        The node's tags, as a mapping or a JSON object string.

    Returns
    -------
    dict
        ``camera_type``, ``type_tag`` (the raw tag or None), ``bearings`` (list of float),
        ``fov_deg`` (list, one per bearing), ``range_m`` (float) and ``direction`` (the raw
        value or None).

    Examples
    --------
    >>> camera_from_tags({"camera:type": "fixed", "direction": "180;160"})["bearings"]
    [180.0, 160.0]
    """
    if isinstance(tags, str):
        text = tags
        try:
            tags = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"tags {text[:60]!r} are not a JSON object: {exc}") from None
    if not isinstance(tags, Mapping):
        raise InputError(f"tags must be a mapping or a JSON object, got {type(tags).__name__}")
    raw_type = tags.get("camera:type")
    kind = str(raw_type) if raw_type in CAMERA_DEFAULTS else "fixed"
    direction = tags.get("camera:direction", tags.get("direction"))
    pairs = parse_direction(direction)
    defaults = CAMERA_DEFAULTS[kind]
    if not pairs and kind != "fixed":
        pairs = [(0.0, defaults["fov_deg"])]
    return {
        "camera_type": kind,
        "type_tag": raw_type,
        "direction": direction,
        "bearings": [b for b, _ in pairs],
        "fov_deg": [f if f is not None else defaults["fov_deg"] for _, f in pairs],
        "range_m": defaults["range_m"],
    }


def cameras_from_osm(
    cameras: gpd.GeoDataFrame, *, tags: Hashable = "tags_json"
) -> gpd.GeoDataFrame:
    """Add ``camera_type`` and ``direction`` columns read from OSM tags.

    Parameters
    ----------
    cameras
        OSM ``man_made=surveillance`` nodes with a column of tags (JSON strings or mappings).
    tags
        The tags column.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``camera_type`` (fixed/panning/dome; fixed when the tag is absent or
        another value), ``type_tag`` (the raw ``camera:type``) and ``direction`` (the raw
        ``camera:direction`` or ``direction`` value) columns, ready for :func:`camera_sectors`.
        Index and CRS are kept. Values that cannot be parsed are reported together.
    """
    if tags not in cameras.columns:
        raise InputError(f"cameras have no column {tags!r}; columns are {list(cameras.columns)}")
    kinds: list[str | None] = []
    type_tags: list[str | None] = []
    directions: list[str | None] = []
    problems: list[str] = []
    for idx, value in cameras[tags].items():
        try:
            info = camera_from_tags(value if value is not None else {})
        except InputError as exc:
            problems.append(f"row {idx!r}: {exc}")
            kinds.append(None)
            type_tags.append(None)
            directions.append(None)
            continue
        kinds.append(info["camera_type"])
        type_tags.append(info["type_tag"])
        directions.append(info["direction"])
    if problems:
        raise InputError(
            f"{len(problems)} cameras have unusable tags in column {tags!r}: "
            + "; ".join(problems[:10])
            + (" ..." if len(problems) > 10 else "")
        )
    out = cameras.copy()
    out["camera_type"] = kinds
    out["type_tag"] = type_tags
    out["direction"] = directions
    return out
