"""Where the store's data come from, as far as the interface needs to say it.

The badge 虚构示范数据 (synthetic demo data) is shown only on a store that holds the demo county
(:func:`wangge.demo.is_demo_store`: the demo mark that ``wangge demo setup`` sets); a real
county's store shows none.
"""

from __future__ import annotations

from wangge import demo
from wangge.store import Store

__all__ = ["is_demo_store"]


def is_demo_store(store: Store) -> bool:
    """Whether ``store`` holds the synthetic demo county (the demo package's rule)."""
    return demo.is_demo_store(store)
