"""The built-in demo county (示范县): its generator, the set-up into a store, the simulation of
90 days of cases, cameras and patrols, and the live feed that keeps it moving. Uses :mod:`geo`
and the store, never Dash.

:func:`is_demo_store` says whether a store holds the demo county (:mod:`wangge.demo.marker`).
"""

from wangge.demo.marker import is_demo_store

__all__ = ["is_demo_store"]
