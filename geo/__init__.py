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
from geo.coords import gcj02_to_wgs84, wgs84_to_gcj02
from geo.crs import metric_crs
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
from geo.households import HouseholdRules, building_households
from geo.io import read_osm, read_vector, write_result
from geo.kpis import KPI_LEVELS, case_kpis
from geo.partition import PartitionResult, partition
from geo.patrols import patrol_coverage, patrol_sessions, sample_lines
from geo.review import write_review_map

__all__ = [
    "CAMERA_DEFAULTS",
    "HouseholdRules",
    "PartitionResult",
    "building_households",
    "gcj02_to_wgs84",
    "metric_crs",
    "partition",
    "read_osm",
    "read_vector",
    "wgs84_to_gcj02",
    "write_result",
    "write_review_map",
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
