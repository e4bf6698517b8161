"""geo: grid division and spatial analytics for community grid management.

A library of pure functions over GeoDataFrames. It never imports Dash, Flask, the store or
the demo county. Rooms: :mod:`geo.partition` (the grid division engine; ``from geo.partition
import partition``), :mod:`geo.analytics` (cameras, hot spots, patrols, H3 bins, KPIs), and
the shared :mod:`geo.io`, :mod:`geo.crs`, :mod:`geo.coords` and :mod:`geo.errors`.
"""

from __future__ import annotations

from geo.analytics.camera_tags import (
    CAMERA_DEFAULTS,
    camera_from_tags,
    cameras_from_osm,
    parse_direction,
)
from geo.analytics.cameras import (
    camera_coverage,
    camera_sectors,
    suggest_camera_sites,
    uncovered_streets,
)
from geo.analytics.hexes import h3_cell_polygons, h3_cells, h3_counts, h3_index
from geo.analytics.hotspots import (
    EMERGING_CLASSES,
    emerging_hotspot_classes,
    emerging_hotspots,
    gi_star,
    h3_weights,
    mann_kendall,
    spatial_weights,
)
from geo.analytics.kpis import KPI_LEVELS, case_kpis
from geo.analytics.patrols import patrol_coverage, patrol_sessions, sample_lines
from geo.coords import gcj02_to_wgs84, wgs84_to_gcj02
from geo.crs import metric_crs
from geo.errors import CRSError, GeoWarning, InputError
from geo.io import read_osm, read_vector, write_result
from geo.partition import PartitionResult
from geo.partition.households import HouseholdRules, building_households
from geo.partition.review import write_review_map

__all__ = [
    "CAMERA_DEFAULTS",
    "HouseholdRules",
    "PartitionResult",
    "building_households",
    "gcj02_to_wgs84",
    "metric_crs",
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
