"""Every component id of the dashboard, once."""

from __future__ import annotations

URL = "url"
LANG_STORE = "lang-store"

MAP = "situation-map"
MAP_LAYERS = "situation-map-layers"
TOWNSHIPS = "layer-townships"
COMMUNITIES = "layer-communities"
GRIDS = "layer-grids"
ROADS = "layer-roads"
WATER = "layer-water"
RAILWAYS = "layer-railways"
BUILDINGS = "layer-buildings"
BUILDINGS_STATUS = "buildings-status"
SUMMARY = "area-summary"
