"""The store's error: raised by every part of :mod:`wangge.store`."""

from __future__ import annotations

__all__ = ["StoreError"]


class StoreError(RuntimeError):
    """The store cannot do what was asked (bad state, missing data)."""
