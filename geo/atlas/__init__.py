"""Printed atlas (PDF, 挂图作战) and offline interactive HTML map of a grid version."""

from geo.atlas.fonts import cjk_font
from geo.atlas.html import html_map, leaflet_assets, write_html_map
from geo.atlas.pdf import PAPERS, atlas_pdf

__all__ = ["PAPERS", "atlas_pdf", "cjk_font", "html_map", "leaflet_assets", "write_html_map"]
