"""The operational store: one SQLite database file in WAL mode, behind one facade, :class:`Store`.

Every SQL statement of the project lives in this package, so that another backend (PostgreSQL
with PostGIS) can be added behind the same methods without touching pages or the API. The
package is split by aggregate (see :mod:`wangge.store.facade`); the schema and its migrations
are documented in :mod:`wangge.store.schema` and :mod:`wangge.store.migrations`.
"""

from __future__ import annotations

from wangge.store.errors import StoreError
from wangge.store.facade import Store
from wangge.store.migrations import MIGRATIONS, SCHEMA_VERSION

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Store",
    "StoreError",
]
