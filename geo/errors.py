"""Errors and warnings raised by :mod:`geo`.

Messages name the file, the feature id or row, the field, what was found and what was
expected, so that a planner can fix the input without reading code.
"""

from __future__ import annotations

__all__ = ["CRSError", "GeoWarning", "InputError"]


class InputError(ValueError):
    """Input data that cannot be used as given (bad file, field, geometry or value)."""


class CRSError(InputError):
    """A missing or unsuitable coordinate reference system."""


class GeoWarning(UserWarning):
    """A lossy but recoverable step (repaired geometry, dropped sliver, estimated value)."""
