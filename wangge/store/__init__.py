"""The operational store: one SQLite database file in WAL mode (see :mod:`wangge.store.core`)."""

from __future__ import annotations

from wangge.store.core import (
    MIGRATIONS,
    REPO_ROOT,
    SCHEMA_VERSION,
    Store,
    StoreError,
    default_data_dir,
    utc_now,
)

__all__ = [
    "MIGRATIONS",
    "REPO_ROOT",
    "SCHEMA_VERSION",
    "Store",
    "StoreError",
    "default_data_dir",
    "utc_now",
]
