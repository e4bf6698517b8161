"""wangge.geo: grid division and spatial analytics for community grid management.

A library of pure functions over GeoDataFrames. It never imports Dash, Flask or the store.
"""

from __future__ import annotations

from geo.errors import CRSError, GeoWarning, InputError

__all__ = [
    "CRSError",
    "GeoWarning",
    "InputError",
]
