"""Which grid, community and township a point falls in, from the published grid version.

Built once per store data version (an STRtree over the published grids, with the communities
as a fall-back for points outside every grid) and reused by every write.
"""

from __future__ import annotations

import threading

import numpy as np
import shapely

from wangge.access import Scope
from wangge.store import Store

__all__ = ["Locator"]


class Locator:
    """Point -> {grid_code, community_code, township_code, grid_version_id}."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._version: int | None = None
        self._index: dict | None = None

    def _load(self) -> dict:
        version = self.store.data_version()
        with self._lock:
            if self._index is not None and self._version == version:
                return self._index
        # every point of the county is located; writes then check the result against the
        # writer's scope
        grids = self.store.grids(scope=Scope.county())
        communities = self.store.admin_units("community", scope=Scope.county())
        parent = dict(zip(communities["code"], communities["parent_code"], strict=True))
        index = {
            "version_id": self.store.published_grid_version(),
            "grid_tree": shapely.STRtree(grids.geometry.to_numpy()),
            "grid_codes": grids["grid_code"].to_numpy(),
            "grid_communities": grids["community_code"].to_numpy(),
            "community_tree": shapely.STRtree(communities.geometry.to_numpy()),
            "community_codes": communities["code"].to_numpy(),
            "parent": parent,
        }
        with self._lock:
            self._index, self._version = index, version
        return index

    def locate(self, lon: float, lat: float) -> dict:
        return self.locate_many(np.array([lon]), np.array([lat]))[0]

    def locate_many(self, lon: np.ndarray, lat: np.ndarray) -> list[dict]:
        """Locate many points at once (vectorised STRtree query)."""
        ix = self._load()
        points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        out = [
            {
                "grid_code": "",
                "community_code": "",
                "township_code": "",
                "grid_version_id": ix["version_id"],
            }
            for _ in range(len(points))
        ]
        p, g = ix["grid_tree"].query(points, predicate="intersects")
        for i, j in zip(p[::-1], g[::-1], strict=True):  # first match wins
            out[i]["grid_code"] = str(ix["grid_codes"][j])
            out[i]["community_code"] = str(ix["grid_communities"][j])
        missing = np.array([i for i, o in enumerate(out) if not o["community_code"]], dtype=int)
        if len(missing):
            p, c = ix["community_tree"].query(points[missing], predicate="intersects")
            for i, j in zip(p[::-1], c[::-1], strict=True):
                out[missing[i]]["community_code"] = str(ix["community_codes"][j])
        for o in out:
            o["township_code"] = ix["parent"].get(o["community_code"]) or ""
        return out
