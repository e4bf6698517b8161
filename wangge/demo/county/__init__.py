"""The synthetic demo county's generator (deterministic: same seed, same bytes)."""

from __future__ import annotations

from wangge.demo.county.build import COUNTY_CODE, DEMO_CRS, ROAD_WIDTHS_M, SOURCE, build_demo_county

__all__ = ["COUNTY_CODE", "DEMO_CRS", "ROAD_WIDTHS_M", "SOURCE", "build_demo_county"]
