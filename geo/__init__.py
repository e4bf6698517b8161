"""wangge.geo: grid division and spatial analytics for community grid management.

A library of pure functions over GeoDataFrames. It never imports Dash, Flask or the store.
"""

from __future__ import annotations

from geo.cameras import (
    CAMERA_DEFAULTS,
    camera_coverage,
    camera_from_tags,
    camera_sectors,
    cameras_from_osm,
    parse_direction,
    suggest_camera_sites,
    uncovered_streets,
)
from geo.demo import build_demo_county
from geo.errors import CRSError, GeoWarning, InputError
from geo.hexes import h3_cell_polygons, h3_cells, h3_counts, h3_index
from geo.hotspots import (
    EMERGING_CLASSES,
    emerging_hotspot_classes,
    emerging_hotspots,
    gi_star,
    h3_weights,
    mann_kendall,
    spatial_weights,
)
from geo.kpis import KPI_LEVELS, case_kpis
from geo.patrols import patrol_coverage, patrol_sessions, sample_lines

__all__ = [
    "CAMERA_DEFAULTS",
    "CRSError",
    "EMERGING_CLASSES",
    "GeoWarning",
    "InputError",
    "KPI_LEVELS",
    "build_demo_county",
    "camera_coverage",
    "camera_from_tags",
    "camera_sectors",
    "cameras_from_osm",
    "case_kpis",
    "emerging_hotspot_classes",
    "emerging_hotspots",
    "gi_star",
    "h3_cell_polygons",
    "h3_cells",
    "h3_counts",
    "h3_index",
    "h3_weights",
    "mann_kendall",
    "parse_direction",
    "patrol_coverage",
    "patrol_sessions",
    "sample_lines",
    "spatial_weights",
    "suggest_camera_sites",
    "uncovered_streets",
]
