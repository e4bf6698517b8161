"""The facade: :class:`Store`, one object with every operation of the store.

Pages, the API, read services, the demo and ingestion hold a ``Store`` and call its methods;
each method lives in the module of its aggregate:

| module | aggregate |
| --- | --- |
| :mod:`wangge.store.db` | connections, transactions, migrations, the group commit |
| :mod:`wangge.store.reference` | meta, admin units, basemap layers, buildings, totals |
| :mod:`wangge.store.grids` | grid versions, grids, building assignments, workers |
| :mod:`wangge.store.cases` | cases, their status history, the figures computed from them |
| :mod:`wangge.store.cameras` | cameras, heartbeats |
| :mod:`wangge.store.patrols` | patrol GPS fixes, patrol day statistics |
| :mod:`wangge.store.users` | dashboard users, API tokens |

The schema is documented in :mod:`wangge.store.schema`, its migrations in
:mod:`wangge.store.migrations`. Every query of township data takes a ``scope``
(:class:`wangge.access.Scope`), made into a filter by :mod:`wangge.store.scoping` alone.
"""

from __future__ import annotations

from wangge.paths import default_data_dir
from wangge.store.cameras import CameraStore
from wangge.store.cases import CaseStore
from wangge.store.grids import GridStore
from wangge.store.patrols import PatrolStore
from wangge.store.users import UserStore

__all__ = ["Store"]


class Store(GridStore, CaseStore, CameraStore, PatrolStore, UserStore):
    """The SQLite store. Cheap to create; keeps a small pool of connections, one per operation.

    Parameters
    ----------
    path
        The database file. Its folder is created when missing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "wangge.sqlite")
    >>> store.migrate() == store.schema_version()
    True
    >>> from wangge.access import Scope
    >>> store.totals(scope=Scope.county())
    {'townships': 0, 'communities': 0, 'buildings': 0, 'households': 0}
    """

    @classmethod
    def from_env(cls) -> Store:
        """The store at ``$WANGGE_DATA_DIR/wangge.sqlite``."""
        return cls(default_data_dir() / "wangge.sqlite")
