"""The built-in synthetic demo county, 示范县 (虚构示范数据: fictional, synthetic data).

:func:`build_demo_county` generates a small, realistic-looking Chinese county from a random
seed and writes it to one GeoPackage. Nothing in it is real: the place, its names, its streets
and its households are invented (a fictional county code 420999 placed in the Jianghan plain of
central China). It is the test bed for grid division, cases, cameras, patrols and the dashboard,
so it deliberately contains the awkward cases those features must handle.

What is in it
-------------
- A county seat (县城) inside a ring road, split by a river into two sub-districts (城关街道 to the
  west with the old town, 东城街道 to the east with the new town and an industrial park north of
  the railway), each with 8 to 12 urban communities (社区) whose boundaries follow streets, the
  river and the railway. Among them: an industrial-park community and an old-town community under
  300 households, and one between 500 and 600 households (no split into 300-500 grids exists).
- Three rural townships (青石镇, 双桥镇, 柳河乡) of administrative villages (行政村), each with several
  natural villages (自然村, ``hamlets``) of 20 to 150 houses strung along roads; each township seat
  has a government office, a school, a health centre and a market.
- Streets classed arterial / collector / local / lane on a rotated, gently curved grid with a
  diagonal old main street (老街), riverside roads, a provincial highway, county and village roads;
  a meandering river (柳河, 60 m wide) with ponds, a park lake, and a railway with a station.
- Residential compounds (小区) as real ones are laid out: blocks of compounds are separated by
  estate roads, and every compound over 1.5 ha has a grid of estate roads (小区路/组团路) from
  gate to gate on the surrounding streets, splitting it into courts (组团) of about two towers or
  eight to ten walk-ups (roughly 150 to 400 households); large old-town and urban-village blocks
  have lanes (巷) every 60 to 95 m.
- The countryside has a plain's field system: per township a grid of farm tracks (机耕路) every
  280 to 380 m both ways, ending at the edge of each hamlet and joining the village roads, so
  that neighbouring hamlets are separated by tracks as well as fields.

Household rules (the ``households`` column is explicit, never estimated)
-------------------------------------------------------------------------
- ``walkup``: 5 to 7 floors (mostly 6), 2 to 4 stairwells, 2 units per floor per stairwell:
  households = floors x 2 x stairwells.
- ``tower``: 18 to 33 floors, 4, 6 or 8 units per floor: households = floors x units; a few
  super-towers have 33 floors x 16 units = 528 households.
- ``house`` (old-town and urban-village houses, 1 to 3 floors) and ``shophouse`` (a shop below,
  2 to 3 floors, on arterials, collectors and 老街): 1 household, 2 for some multi-storey ones.
- ``rural_house``: 1 household; ``outbuilding`` (sheds beside rural houses): 0.
- Every other kind (school, hospital, market, government, commercial, industrial, warehouse,
  station, pavilion): 0 households.

Layers (EPSG:4326; ``code`` values are 12-digit statistical area codes)
------------------------------------------------------------------------
- ``county``: code, name, source, geometry.
- ``townships``: code (county 6 + township 3 + "000"), name, kind ("subdistrict", "town",
  "township"), county_code, geometry.
- ``communities``: code (township's first 9 digits + 3; 001-199 urban, 201-399 villages), name,
  township_code, kind ("urban" or "rural"), geometry (Polygon). They tile their township; the
  townships tile the county.
- ``hamlets``: hamlet_id, name, community_code, geometry (hull around its houses).
- ``buildings``: building_id ("B000001"...), community_code, kind, floors, height_m, households,
  special ("" or school / hospital / market / industrial / government / park: places that get a
  dedicated grid), compound_id ("" or the 小区's id), hamlet_id ("" or the hamlet's id), name,
  geometry (Polygon). Buildings never overlap, never touch a carriageway, the river or a pond,
  and each lies inside exactly one community.
- ``roads``: road_id, name, road_class ("arterial", "collector", "local", "lane", and in
  OpenStreetMap's vocabulary "service" for estate roads inside compounds and "track" for farm
  tracks), geometry (LineString, noded: roads that meet share the meeting vertex, and a
  community edge along a road has the road's vertices). ``name`` is empty for estate roads,
  farm tracks and the lanes laid through large blocks (unnamed, as they mostly are).
  Carriageway widths are in :data:`ROAD_WIDTHS_M`.
- ``water``: name, kind ("river", "pond", "lake"), geometry (Polygon).
- ``railways``: name, geometry (LineString).
- ``pois``: name, kind, community_code, geometry (Point): markets, schools, hospitals, government
  offices, stations, shops, restaurants, internet cafes, community service centres and village
  committees.

The same seed gives byte-identical files.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import shapely
from tqdm.auto import tqdm

from wangge.demo.county import fill, rural, town
from wangge.demo.county import layout as lay_mod
from wangge.demo.county.layers import (
    COUNTY_CODE,
    DEMO_CRS,
    SOURCE,
    assemble,
    number_units,
    write_gpkg,
)
from wangge.demo.county.layout import ROAD_CLEARANCE_M, ROAD_WIDTHS_M
from wangge.demo.county.names import NamePool

__all__ = ["COUNTY_CODE", "DEMO_CRS", "ROAD_WIDTHS_M", "SOURCE", "build_demo_county"]

log = logging.getLogger(__name__)

MAX_HOUSEHOLDS = 80_000

# --------------------------------------------------------------------------- buildings


def _cap_households(b, rng, cap):
    """Leave whole compounds unbuilt (land under development) until households <= ``cap``."""
    total = b["households"].sum()
    if total <= cap:
        return b
    cid = b["compound_id"]
    keep_ids = set(cid[(b["kind"] == "tower") & (b["households"] > 500)])
    drop = np.zeros(len(cid), bool)
    for c in rng.permutation(np.unique(cid[cid != ""])):
        m = cid == c
        if c in keep_ids or b["households"][m].sum() < 100:
            continue
        drop |= m
        total -= b["households"][m].sum()
        if total <= cap:
            break
    log.debug("left %d buildings unbuilt to keep households under %d", drop.sum(), cap)
    return {k: v[~drop] for k, v in b.items()}


def _shophouses(b, roads, rng) -> None:
    """Town houses fronting arterials, collectors and 老街 become shop-houses (in place)."""
    front = [
        shapely.buffer(g, ROAD_CLEARANCE_M[c] + 9)
        for g, c, _ in roads
        if c in ("arterial", "collector")
    ]
    tree = shapely.STRtree(front)
    idx = np.flatnonzero((b["kind"] == "house") & (b["unit"] < 100000))
    hit = np.unique(tree.query(b["geometry"][idx], predicate="intersects")[0])
    k = idx[hit]
    b["kind"][k] = "shophouse"
    b["floors"][k] = np.maximum(b["floors"][k], rng.choice([2, 3], size=len(k), p=[0.6, 0.4]))
    b["households"][k] = np.where(rng.random(len(k)) < 0.85, 1, 2)


def _trim(b, label, targets):
    """Remove outlying homes from communities built to a household range until they fit."""
    town = b["unit"] < 100000
    lab = np.where(town, label[np.minimum(b["unit"], len(label) - 1)], -1)
    drop = np.zeros(len(lab), bool)
    for c, (_, hi) in targets.items():
        idx = np.flatnonzero((lab == c) & (b["households"] > 0))
        total = b["households"][idx].sum()
        if total <= hi:
            continue
        xy = shapely.get_coordinates(shapely.centroid(b["geometry"][idx]))
        far = np.argsort(-np.hypot(*(xy - xy.mean(axis=0)).T), kind="stable")
        cum = np.cumsum(b["households"][idx][far])
        n = int(np.searchsorted(cum, total - hi)) + 1
        drop[idx[far[:n]]] = True
    return {k: v[~drop] for k, v in b.items()}


def _inner_lines(block, road_geoms, road_tree, min_area=20000.0):
    """A polygon 4 m around the roads inside a large block (dead-end lanes), else None."""
    if block.area < min_area:
        return None
    inner = shapely.intersection(road_geoms[road_tree.query(block)], block.buffer(-3))
    inner = inner[~shapely.is_empty(inner)]
    return shapely.union_all(shapely.buffer(inner, 4.0, quad_segs=2)) if len(inner) else None


# --------------------------------------------------------------------------- the build


class _CountyBuild:
    """The build's working state, with one method per step, called in this order:
    :meth:`lay_out`, :meth:`lay_roads`, :meth:`fill_town`, :meth:`fill_villages` (which
    ends with :meth:`lay_tracks`), :meth:`layers`. Each step draws from its own random streams, so the
    same seed gives the same county."""

    def __init__(self, seed: int):
        r_lay, r_names, r_town, r_rural, r_misc, r_group = (
            np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)
        )
        self.r_lay, self.r_town, self.r_rural = r_lay, r_town, r_rural
        self.r_misc, self.r_group = r_misc, r_group
        self.names = NamePool(r_names)
        self.out = fill.Buildings()

    def lay_out(self) -> None:
        """The county's layout, its townships' villages, and which faces are in town."""
        self.lay = lay = lay_mod.make_layout(self.r_lay, self.names)
        seeds, township, vlines, cells = lay_mod.village_cells(self.r_lay, lay, n_townships=3)
        faces, in_town = lay_mod.admin_faces(lay, vlines)
        self.tfaces, rfaces = faces[in_town], faces[~in_town]
        self.vpolys, self.vtown, self.vseed = rural.villages(
            self.r_rural, lay, rfaces, seeds, township, cells
        )
        self.seeds, self.township = seeds, township

    def lay_roads(self) -> None:
        """Village roads and hamlet sites, the noded road network, ponds and the barriers
        (river, railway, ponds, carriageways) that buildings keep clear of."""
        lay, names = self.lay, self.names
        rural_rd = lay_mod.rural_roads(self.r_lay, lay, self.seeds, self.township, 3, names)
        sites = rural.hamlet_sites(
            self.r_rural, lay, self.vpolys, self.vseed, self.seeds, 3, rural_rd
        )
        hamlet_names = [names.hamlet() for _ in sites]
        candidates, lanes = [], []
        for (_, ridx, s, n), hname in zip(sites, hamlet_names, strict=True):
            houses, sheds, owner, hl = fill.hamlet(self.r_rural, rural_rd[ridx][0], s, n)
            candidates.append((houses, sheds, owner))
            lanes += [(ln, "lane", f"{hname}巷") for ln in hl]
        ring_line = shapely.LineString(lay.ring.exterior.coords)
        sources = lay.town_lines + [(ring_line, "arterial", "环城路")] + rural_rd + lanes
        band = lay.ring.buffer(35).difference(lay.ring)  # where town streets overshoot the ring
        roads = lay_mod.road_network(sources, lay.county, stub_zone=band)
        site_xy = [
            tuple(shapely.get_coordinates(rural_rd[r][0].interpolate(s))[0]) for _, r, s, _ in sites
        ]
        ponds = rural.ponds(self.r_rural, lay, roads, site_xy)
        barrier = rural.barriers(
            roads,
            [
                lay.river_line.buffer(lay_mod.RIVER_HALF_WIDTH + 12),
                lay.railway.buffer(lay_mod.RAIL_CLEARANCE),
            ]
            + [p.buffer(4) for p in ponds],
        )
        self.rural_rd, self.sites, self.hamlet_names = rural_rd, sites, hamlet_names
        self.candidates, self.band, self.roads, self.ponds = candidates, band, roads, ponds
        self.barrier, self.btree = barrier, shapely.STRtree(barrier)

    def fill_town(self) -> None:
        """Plan the county seat's blocks and fill each with buildings (and estate roads)."""
        r_town, tfaces = self.r_town, self.tfaces
        counter = iter(range(1, 10**6))

        def next_cid() -> str:
            return f"C{next(counter):04d}"

        tbuild = np.array(
            [rural.buildable(f, self.barrier, self.btree) for f in tfaces], dtype=object
        )
        use, fnames, self.zone, east, self.rep = town.plan_town(r_town, self.lay, tfaces, tbuild)
        comp = np.flatnonzero((use == "compound") & east)
        super_faces = set(comp[np.argsort(-shapely.area(tbuild[comp]), kind="stable")[:4]].tolist())
        self.east, self.lakes, self.estate = east, [], []  # estate roads, lanes by fill_face
        road_geoms = np.array([g for g, _, _ in self.roads], dtype=object)
        road_tree = shapely.STRtree(road_geoms)
        n_ind = 0
        for k in range(len(tfaces)):
            dorm = use[k] == "industry" and (n_ind < 2 or r_town.random() < 0.3)
            n_ind += use[k] == "industry"
            fill.fill_face(
                self.out,
                tbuild[k],
                use[k],
                r_town,
                k,
                east=bool(east[k]),
                next_cid=next_cid,
                name=fnames[k],
                super_row=k in super_faces,
                dorm=dorm,
                extra_water=self.lakes,
                block=tfaces[k],
                roads=self.estate,
                avoid=_inner_lines(tfaces[k], road_geoms, road_tree),
            )

    def fill_villages(self) -> None:
        """Place each hamlet's houses and sheds (and the township seats' facilities), then lay
        the farm tracks between them."""
        self.twp_names = rural.township_names(self.lay, self.vpolys, self.vtown)
        self.hamlet_rows = []
        self.along = {}  # village road -> extents (s from, s to) of its hamlets
        for h, (site, cand) in enumerate(zip(self.sites, self.candidates, strict=True)):
            self._hamlet(h, site, cand)
        self.lay_tracks()

    def _hamlet(self, h: int, site: tuple, candidates: tuple) -> None:
        """Hamlet ``h`` on its village road, kept when at least 15 of its houses fit."""
        (v, ridx, s, n), (houses, sheds, owner) = site, candidates
        out, vpolys, rural_rd = self.out, self.vpolys, self.rural_rd
        region = rural.buildable(vpolys[v], self.barrier, self.btree)
        shapely.prepare(region)
        unit = 100000 + v
        blocked = np.array([], dtype=object)
        if int(self.vseed[v]) < 3 and n == 150:
            blocked = rural.seat_facilities(
                out, region, rural_rd[ridx][0], s, self.twp_names[self.vtown[v]], unit
            )
        ok = shapely.contains(region, houses)
        if len(blocked):
            ok &= ~shapely.intersects(shapely.union_all(blocked), houses)
        idx = np.flatnonzero(ok)
        idx = idx[rural.drop_overlaps(houses[idx], np.zeros(len(idx)))][:n]
        if len(idx) < 15:
            return
        hid = f"H{len(self.hamlet_rows) + 1:04d}"
        kept = np.zeros(len(houses), bool)
        kept[idx] = True
        sk = kept[owner] & shapely.contains(region, sheds)
        floors = self.r_rural.choice([1, 2, 3], size=len(idx), p=[0.3, 0.55, 0.15])
        out.add(
            houses[idx],
            unit=unit,
            kind="rural_house",
            floors=floors,
            households=1,
            hamlet_id=hid,
            priority=7,
        )
        out.add(
            sheds[sk],
            unit=unit,
            kind="outbuilding",
            floors=1,
            households=0,
            hamlet_id=hid,
            priority=8,
        )
        hull = shapely.convex_hull(shapely.union_all(np.r_[houses[idx], sheds[sk]])).buffer(8)
        hull = max(shapely.get_parts(hull.intersection(vpolys[v])), key=lambda g: g.area)
        self.hamlet_rows.append((hid, self.hamlet_names[h], v, hull))
        on_road = rural_rd[ridx][0].project(shapely.points(shapely.get_coordinates(hull)))
        self.along.setdefault(ridx, []).append((float(on_road.min()), float(on_road.max())))

    def lay_tracks(self) -> None:
        """Farm tracks through the fields; estate roads, lanes and tracks join the network."""
        lay, cols = self.lay, self.out.cols
        loose = np.concatenate(  # rural buildings outside hamlets: the township seats' facilities
            [
                g[h == ""]
                for g, u, h in zip(cols["geometry"], cols["unit"], cols["hamlet_id"], strict=True)
                if u[0] >= 100000
            ]
        )
        hulls = np.array([g for *_, g in self.hamlet_rows], dtype=object)
        keep_out = shapely.union_all(
            np.r_[
                shapely.buffer(loose, 10.0, quad_segs=2),
                shapely.buffer(hulls, 6.0, quad_segs=2),
                shapely.buffer(np.array(self.ponds, dtype=object), 6.0),
                np.array(
                    [
                        lay.river_line.buffer(lay_mod.RIVER_HALF_WIDTH + 6),
                        lay.railway.buffer(lay_mod.RAIL_CLEARANCE),
                        lay.ring.buffer(80),
                    ],
                    dtype=object,
                ),
            ]
        )
        vpolys, vtown = self.vpolys, self.vtown
        areas = [rural.union(vpolys[vtown == t]) for t in range(int(vtown.max()) + 1)]
        tracks = rural.field_tracks(
            self.r_rural, areas, keep_out, extra=rural.tracks_between(self.rural_rd, self.along)
        )
        # estate roads, lanes and tracks join the network built before (whose streets the
        # buildings were placed against): noded with it, their overshoots trimmed
        roads = self.roads
        self.roads = roads + lay_mod.road_network(
            list(roads) + self.estate + tracks,
            lay.county,
            stub_zone=self.band,
            only_from=len(roads),
        )

    def layers(self) -> dict:
        """Buildings without overlaps, shop-houses, the town's communities and every layer."""
        r_misc, tfaces = self.r_misc, self.tfaces
        b = self.out.arrays()
        keep = rural.drop_overlaps(b["geometry"], b["priority"])
        b = {k: v[keep] for k, v in b.items()}
        b = _cap_households(b, r_misc, MAX_HOUSEHOLDS)
        _shophouses(b, self.roads, r_misc)
        in_town = b["unit"] < 100000
        hh_face = np.bincount(
            b["unit"][in_town], weights=b["households"][in_town], minlength=len(tfaces)
        )
        label, targets = town.group_town(
            self.r_group, self.lay, tfaces, self.east, self.zone, self.rep, hh_face
        )
        b = _trim(b, label, targets)
        units = number_units(
            self.lay, self.names, tfaces, label, self.vpolys, self.vtown, self.twp_names
        )
        return assemble(
            self.lay, units, b, self.roads, self.hamlet_rows, self.ponds, self.lakes, r_misc
        )


def build_demo_county(
    out_dir: Path, *, seed: int = 20261122, progress: bool = True
) -> dict[str, Path]:
    """Generate the synthetic demo county and write ``out_dir/demo_county.gpkg``.

    Parameters
    ----------
    out_dir
        Folder to write into; created when missing. An existing file is replaced.
    seed
        Random seed. The same seed gives a byte-identical file.
    progress
        Show a progress bar (tqdm) on stderr.

    Returns
    -------
    dict of str to pathlib.Path
        ``{"gpkg": path}``.

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> out = build_demo_county(Path(tempfile.mkdtemp()), progress=False)  # doctest: +SKIP
    >>> gpd.read_file(out["gpkg"], layer="county").loc[0, "name"]  # doctest: +SKIP
    '示范县'
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    build = _CountyBuild(seed)
    bar = tqdm(total=6, desc="demo county", unit="step", disable=not progress)
    for label, step in (
        ("layout", build.lay_out),
        ("roads", build.lay_roads),
        ("town", build.fill_town),
        ("villages", build.fill_villages),
    ):
        bar.set_postfix_str(label)
        step()
        bar.update()
    bar.set_postfix_str("communities")
    layers = build.layers()
    bar.update()

    bar.set_postfix_str("write")
    path = out_dir / "demo_county.gpkg"
    write_gpkg(layers, path, seed)
    bar.update()
    bar.close()
    bld = layers["buildings"]
    com = layers["communities"]
    per = bld.groupby("community_code")["households"].sum().reindex(com["code"], fill_value=0)
    log.info(
        "demo county (seed %d): %d buildings, %d households, %d communities (%d-%d households "
        "each), %d hamlets, %d roads -> %s",
        seed,
        len(bld),
        bld["households"].sum(),
        len(com),
        per.min(),
        per.max(),
        len(layers["hamlets"]),
        len(layers["roads"]),
        path,
    )
    return {"gpkg": path}
