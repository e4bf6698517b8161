"""First-run set-up of the built-in demo county: files -> geo -> store.

:func:`ensure_demo` is idempotent: it builds the demo county's files when missing
(``wangge.demo.county``), loads its hierarchy, reference layers and buildings into the store, divides it
into grids with the grid engine (``geo.partition``), publishes that grid version, and simulates
90 days of cases, cameras and patrols (:mod:`wangge.demo.simulate`). A store that
already holds the demo county of the same seed is left as it is, so later runs start at once.
The store is marked as the demo county (:func:`wangge.demo.marker.mark_demo_store`): only such
a store is kept moving by the live feed (:mod:`wangge.demo.feed`) and shows the demo badge.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd

from wangge.access import Scope
from wangge.demo.marker import mark_demo_store
from wangge.store import Store

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_WALL_TOKEN",
    "DEMO_LAYERS",
    "demo_accounts",
    "ensure_demo",
    "load_demo_county",
]

#: Sign-in of the demo county's users (demo only: real deployments add their own users with
#: ``wangge user add`` and never use these).
DEMO_PASSWORD = "wangge-demo"
DEMO_WALL_TOKEN = "demo-wall-display"

log = logging.getLogger(__name__)

#: Reference layers copied from the demo GeoPackage to the store: layer -> kind column.
DEMO_LAYERS = {
    "roads": "road_class",
    "water": "kind",
    "railways": None,
    "hamlets": None,
    "pois": "kind",
}


def _read(gpkg: Path, layer: str) -> gpd.GeoDataFrame:
    return gpd.read_file(gpkg, layer=layer, engine="pyogrio")


def load_demo_county(store: Store, gpkg: Path) -> dict[str, int]:
    """Load the demo county's hierarchy, reference layers and buildings into ``store``."""
    county = _read(gpkg, "county").assign(level="county", kind="county", parent_code=None)
    townships = _read(gpkg, "townships").assign(level="township")
    townships = townships.rename(columns={"county_code": "parent_code"})
    communities = _read(gpkg, "communities").assign(level="community")
    communities = communities.rename(columns={"township_code": "parent_code"})
    cols = ["code", "name", "level", "kind", "parent_code", "geometry"]
    units = gpd.GeoDataFrame(
        pd.concat([county[cols], townships[cols], communities[cols]], ignore_index=True),
        crs=county.crs,
    )
    counts = {"admin_units": store.replace_admin_units(units)}
    for layer, kind_column in DEMO_LAYERS.items():
        counts[layer] = store.replace_basemap_layer(
            layer, _read(gpkg, layer), kind_column=kind_column
        )
    counts["buildings"] = store.replace_buildings(_read(gpkg, "buildings"))
    return counts


def partition_demo_county(store: Store, gpkg: Path, *, progress: bool = False) -> int:
    """Divide the demo county into grids with the grid engine; store and publish the version."""
    from geo.partition import partition

    buildings = _read(gpkg, "buildings")
    communities = _read(gpkg, "communities")
    barriers = [_read(gpkg, "roads"), _read(gpkg, "water"), _read(gpkg, "railways")]
    result = partition(
        buildings,
        households_column="households",
        communities=communities,
        community_id="code",
        barriers=barriers,
        progress=progress,
    )
    assignments = pd.DataFrame(
        {
            "building_id": buildings["building_id"].to_numpy()[
                result.buildings["source_index"].to_numpy()
            ],
            "grid_code": result.buildings["grid_code"].to_numpy(),
        }
    )
    return store.add_grid_version(
        result.grids,
        assignments,
        note="demo county, first division by the grid engine",
        params={"min_households": 300, "max_households": 500},
        publish=True,
    )


def demo_accounts(store: Store) -> list[tuple[str, str, str]]:
    """Create the demo users (county, planner, one leader per township) and the wall token.

    Returns (username, role, scope) rows; all users share :data:`DEMO_PASSWORD`.
    """
    rows = [("admin", "county", ""), ("planner", "planner", "")]
    for unit in store.admin_units("township", scope=Scope.county()).itertuples():
        rows.append((f"leader{unit.code[6:9]}", "township", unit.code))
    names = dict(
        zip(
            store.admin_units("township", scope=Scope.county())["code"],
            store.admin_units("township", scope=Scope.county())["name"],
            strict=True,
        )
    )
    for username, role, scope in rows:
        label = {"admin": "县指挥中心", "planner": "网格规划员"}.get(
            username
        ) or f"{names.get(scope, scope)}负责人"
        store.create_user(username, DEMO_PASSWORD, role, scope=scope, display_name=label)
    if store.check_token(DEMO_WALL_TOKEN) is None:
        store.create_token("demo wall display", "wall", token=DEMO_WALL_TOKEN)
    return rows


def ensure_demo(store: Store, boundaries_dir: Path, *, seed: int, progress: bool = True) -> bool:
    """Make sure ``store`` holds the demo county of ``seed`` with a published grid version.

    Returns True when something was built or loaded, False when all was already there.
    """
    from wangge.demo import county as demo

    store.migrate()
    gpkg = Path(boundaries_dir) / "demo_county.gpkg"
    loaded = store.get_meta("demo_seed") == str(seed)
    has_grids = store.published_grid_version() is not None
    simulated = store.get_meta("demo_simulated") == str(seed)
    if loaded and has_grids and simulated and gpkg.exists():
        return False
    t0 = time.perf_counter()
    if not gpkg.exists() or not loaded:
        log.info("building the demo county (seed %d) in %s", seed, boundaries_dir)
        demo.build_demo_county(Path(boundaries_dir), seed=seed, progress=progress)
    if not loaded:
        counts = load_demo_county(store, gpkg)
        log.info("loaded the demo county into %s: %s", store.path, counts)
    if not loaded or not has_grids:
        vid = partition_demo_county(store, gpkg, progress=progress)
        log.info("published grid version %d", vid)
    store.set_meta("demo_seed", str(seed))
    if not loaded or store.count("users") == 0:
        demo_accounts(store)
    if not simulated:
        from wangge.demo.simulate import DAYS, simulate

        counts = simulate(store, days=DAYS, seed=seed)
        store.set_meta("demo_simulated", str(seed))
        log.info("simulated operational data: %s", counts)
    # the store holds the demo county: the live feed (wangge.demo.feed) may write into it
    mark_demo_store(store, seed)
    log.info("demo county ready in %.1f s", time.perf_counter() - t0)
    return True
