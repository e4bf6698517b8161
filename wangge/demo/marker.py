"""Whether a store holds the demo county: the one rule the demo feed and the dashboard follow.

A store holds the demo county when it carries the demo mark (meta ``demo_county``, the demo's
seed), which :func:`wangge.demo.setup.ensure_demo` sets once the demo county is loaded, grided
and simulated, and which the store removes when another hierarchy is loaded over it
(:meth:`wangge.store.Store.replace_admin_units`). Only such a store gets the live feed
(:mod:`wangge.demo.feed`, which writes synthetic cases) and the badge 虚构示范数据; a real
county never does.

This module imports nothing heavy, so that a page can ask on every request.

>>> class Meta:  # a stand-in for the store: only get_meta is asked
...     def __init__(self, **meta):
...         self.meta = meta
...     def get_meta(self, key, default=None):
...         return self.meta.get(key, default)
>>> is_demo_store(Meta(demo_county="20261122")), demo_seed(Meta(demo_county="20261122"))
(True, 20261122)
>>> is_demo_store(Meta()), demo_seed(Meta())
(False, None)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wangge.store import Store

__all__ = ["DEMO_MARK", "demo_seed", "is_demo_store", "mark_demo_store"]

#: The meta key that marks a store as the demo county; its value is the demo's seed.
DEMO_MARK = "demo_county"


def demo_seed(store: Store) -> int | None:
    """The seed of the demo county ``store`` holds, or None when it is not the demo county."""
    value = store.get_meta(DEMO_MARK)
    return int(value) if value else None


def is_demo_store(store: Store) -> bool:
    """True when ``store`` holds the demo county (the feed may run, the badge shows)."""
    return demo_seed(store) is not None


def mark_demo_store(store: Store, seed: int) -> None:
    """Mark ``store`` as holding the demo county of ``seed`` (done by ``ensure_demo`` only)."""
    store.set_meta(DEMO_MARK, str(seed))
