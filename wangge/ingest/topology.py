"""How a county's units fit together: communities inside their township, no overlaps and no
gaps between townships or between the communities of a township, each above a tolerance in
square metres (measured in a metric CRS, :func:`geo.crs.metric_crs`).

Every finding is a problem in the import's report naming the file, the features and
``geometry``, with the area found and the tolerance; a gap is located by a point inside it
(longitude, latitude).
"""

from __future__ import annotations

import geopandas as gpd
import shapely

from geo.crs import metric_crs
from wangge.ingest.layers import WGS84, describe
from wangge.ingest.problems import ImportReport

__all__ = ["check", "gaps", "overlaps"]


def _where(geom, crs) -> str:
    point = gpd.GeoSeries([shapely.point_on_surface(geom)], crs=crs).to_crs(WGS84).iloc[0]
    return f"near {point.x:.5f}, {point.y:.5f}"


def overlaps(
    units: gpd.GeoDataFrame, label: str, tolerance: float, report: ImportReport, what: str
) -> None:
    """Pairs of ``units`` (metric CRS) overlapping by more than ``tolerance`` m2."""
    geoms = units.geometry.to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    features = units["feature"].to_numpy()
    for i, j, area in zip(left, right, areas, strict=True):
        if area > tolerance:
            report.add(
                label,
                f"{features[i]} and {features[j]}",
                "geometry",
                f"{what} overlap by {area:,.0f} m2 (tolerance {tolerance:g} m2)",
            )


def gaps(area, parts, tolerance: float) -> list:
    """Pieces of ``area`` covered by none of ``parts`` and larger than ``tolerance`` m2."""
    rest = shapely.difference(area, shapely.union_all(parts)) if len(parts) else area
    pieces = shapely.get_parts(rest)
    return [p for p in pieces if p.area > tolerance]


def _township_gaps(townships: gpd.GeoDataFrame, label: str, tolerance: float, report) -> None:
    """Holes inside the union of the townships: land in the county that no township holds."""
    union = shapely.union_all(townships.geometry.to_numpy())
    for polygon in shapely.get_parts(union):
        for ring in polygon.interiors:
            hole = shapely.Polygon(ring)
            if hole.area > tolerance:
                report.add(
                    label,
                    "",
                    "geometry",
                    f"gap of {hole.area:,.0f} m2 between townships {_where(hole, townships.crs)} "
                    f"(tolerance {tolerance:g} m2)",
                )


def _containment(townships, communities, label: str, tolerance: float, report) -> None:
    """Each community inside its township; each township covered by its communities."""
    by_code = dict(zip(townships["code"], townships.geometry, strict=True))
    names = dict(zip(townships["code"], townships["name"], strict=True))
    for unit in communities.itertuples():
        township = by_code.get(unit.parent_code)
        if township is None:
            continue
        inside = shapely.intersection(unit.geometry, township).area
        outside = unit.geometry.area - inside
        if inside <= tolerance:
            report.add(
                label,
                unit.feature,
                "geometry",
                f"lies outside its township {unit.parent_code} ({names[unit.parent_code]})",
            )
        elif outside > tolerance:
            report.add(
                label,
                unit.feature,
                "geometry",
                f"crosses the boundary of its township {unit.parent_code}: {outside:,.0f} m2 lie "
                f"outside it (tolerance {tolerance:g} m2)",
            )
    for code, township in by_code.items():
        mine = communities.loc[communities["parent_code"] == code].geometry.to_numpy()
        for piece in gaps(township, mine, tolerance):
            report.add(
                label,
                f"township {code}",
                "geometry",
                f"gap of {piece.area:,.0f} m2 covered by none of its communities "
                f"{_where(piece, communities.crs)} (tolerance {tolerance:g} m2)",
            )


def check(townships: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, files, report) -> None:
    """All checks on the units with usable geometries (``ok``), in a metric CRS."""
    townships = townships[townships["ok"] & townships["code"].ne("")]
    communities = communities[communities["ok"] & communities["parent_code"].ne("")]
    if townships.empty:
        return
    crs = metric_crs(townships)
    townships, communities = townships.to_crs(crs), communities.to_crs(crs)
    tolerance = float(files.tolerance_m2)
    t_label, c_label = describe(files.townships), describe(files.communities)
    overlaps(townships, t_label, tolerance, report, "townships")
    overlaps(communities, c_label, tolerance, report, "communities")
    _township_gaps(townships, t_label, tolerance, report)
    _containment(townships, communities, c_label, tolerance, report)
