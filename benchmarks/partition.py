"""Grid division benchmark: wangge against METIS, GerryChain, spopt max-p and H3 hexagons.

Every method divides the same communities; METIS, GerryChain and spopt work on wangge's own
cell graph (cells, households, shared boundaries), so the comparison is of the division
itself. Each baseline runs in a subprocess with a time limit and is reported as timed out
when it does not finish. Prints one table (markdown).

    .venv/bin/python benchmarks/partition.py --buildings 100000 --timeout 120
    .venv/bin/python benchmarks/partition.py --scaling   # one area, 10k..200k buildings

The baselines and the table need the ``bench`` extra (pymetis, gerrychain, networkx, spopt,
libpysal, tabulate): ``WANGGE_EXTRAS=bench bash -c 'source scripts/env.sh'``; a missing
baseline package is reported in the table.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from geo.partition import partition  # noqa: E402
from geo.partition.polygons import polsby_popper, union_groups  # noqa: E402

LO, HI = 300, 500
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


# ------------------------------------------------------------------------------ datasets


def synthetic(n: int) -> dict:
    from synthetic_town import synthetic_town

    t = synthetic_town(n)
    return {
        "buildings": t["buildings"],
        "communities": t["communities"],
        "community_id": "code",
        "barriers": [t["roads"], t["water"], t["railways"]],
        "households_column": "households",
    }


def demo_county(path: Path | None = None) -> dict | None:
    """The demo county: built by :mod:`wangge.demo.county`, or read from ``path`` (a GeoPackage it
    wrote), so that two versions of the engine can be compared on the same county."""
    if path is None:
        try:
            from wangge.demo import county as demo
        except ImportError:
            return None
        out = Path("/tmp/wangge_bench_demo")
        demo.build_demo_county(out, seed=20261122, progress=False)
        path = out / "demo_county.gpkg"
    layers = {
        n: gpd.read_file(path, layer=n)
        for n in ("buildings", "communities", "roads", "water", "railways")
    }
    return {
        "buildings": layers["buildings"],
        "communities": layers["communities"],
        "community_id": "code",
        "barriers": [layers["roads"], layers["water"], layers["railways"]],
        "households_column": "households",
    }


def liechtenstein() -> dict | None:
    path = SHARED / "liechtenstein_osm.gpkg"
    if not path.exists():
        return None
    admin = gpd.read_file(path, layer="admin_boundaries")
    return {
        "buildings": gpd.read_file(path, layer="buildings"),
        "communities": admin[admin["admin_level"].astype(str) == "8"],
        "community_id": "name",
        "barriers": [gpd.read_file(path, layer=n) for n in ("roads", "waterways", "railways")],
        "households_column": None,
    }


def shanghai() -> dict | None:
    path = SHARED / "china_osm_tiles_shanghai_wuhan.gpkg"
    if not path.exists():
        return None
    b = gpd.read_file(path, layer="shanghai_buildings")
    return {
        "buildings": b[b["kind"] == "building"],
        "communities": None,
        "community_id": None,
        "barriers": [gpd.read_file(path, layer=n) for n in ("shanghai_roads", "shanghai_water")],
        "households_column": None,
    }


# ------------------------------------------------------------------------------ evaluation


def evaluate_labels(
    cells: gpd.GeoDataFrame, edges: pd.DataFrame, labels: np.ndarray, shared: float = 0.0
) -> dict:
    """Band share, disconnected grids, compactness and barrier share of a cell labelling.

    ``disconnected``: grids whose cells form more than one connected piece (pieces of
    under 1 m2, rounding specks of the tessellation, not counted); ``pp_median``: median
    Polsby-Popper of the grid polygons, built for every method as
    wangge builds its own (:func:`geo.partition.polygons.union_groups`); ``on_barrier``: share of the
    boundary between grids of one community within 5 m of a street, river or railway;
    ``in_block``: share of it inside a block (between two cells of one block) and not near
    any barrier, the part that can never follow a street; ``on_barrier_or_community``: the
    issue's figure, all boundary between grids (``shared`` m of it between communities) on a
    barrier or community edge.
    """
    h = cells["households"].to_numpy()
    n = len(cells)
    k = int(labels.max()) + 1
    loads = np.bincount(labels, weights=h, minlength=k)
    used = np.bincount(labels, minlength=k) > 0
    i, j = edges["i"].to_numpy(), edges["j"].to_numpy()
    same = labels[i] == labels[j]
    g = sparse.coo_matrix((np.ones(int(same.sum())), (i[same], j[same])), shape=(n, n))
    _, comp = csgraph.connected_components(g, directed=False)
    # a rounding speck (a cell part of under 1 m2 sharing no edge, left by the tessellation
    # beside a footprint) is not a detached piece of its grid
    area = shapely.area(cells.geometry.to_numpy())
    part_area = pd.Series(area).groupby([labels, comp]).sum()
    real = part_area[part_area >= 1.0].reset_index()
    real.columns = ["grid", "comp", "area"]
    pieces = real.groupby("grid")["comp"].nunique().reindex(range(k)).fillna(0)
    # grid polygons as wangge builds its own (rounding seams between cells of different
    # blocks closed, pinholes filled): a plain union counts those slits as perimeter
    polys = union_groups(cells.geometry.to_numpy(), labels, k)[used]
    pp = polsby_popper(polys)
    between = ~same
    length = edges["length"].to_numpy()[between].sum()
    near = edges["near_barrier"].to_numpy()[between].sum()
    block = cells["block"].to_numpy()
    inner = between & (block[i] == block[j])
    in_block = (edges["length"] - edges["near_barrier"]).to_numpy()[inner].sum()
    inhabited = used & (loads > 0)
    return {
        "grids": int(used.sum()),
        "in_band": float(((loads >= LO) & (loads <= HI))[inhabited].mean()),
        "disconnected": int((pieces[used] > 1).sum()),
        "pp_median": float(np.median(pp)),
        "on_barrier": float(near / length) if length else float("nan"),
        "in_block": float(in_block / length) if length else float("nan"),
        "on_barrier_or_community": float((near + shared) / (length + shared))
        if length + shared
        else float("nan"),
    }


def shared_community_boundary(communities: gpd.GeoSeries | None) -> float:
    """Length of community boundary between two communities (the outer edge left out)."""
    if communities is None or len(communities) < 2:
        return 0.0
    geoms = communities.to_numpy()
    outer = shapely.length(shapely.union_all(geoms))
    return float((shapely.length(geoms).sum() - outer) / 2)


def _pieces(cells: gpd.GeoDataFrame, edges: pd.DataFrame):
    """Per community connected piece: cell positions and local CSR adjacency."""
    n = len(cells)
    i, j = edges["i"].to_numpy(), edges["j"].to_numpy()
    g = sparse.coo_matrix((edges["length"].to_numpy(), (i, j)), shape=(n, n)).tocsr()
    g = (g + g.T).tocsr()
    _, comp = csgraph.connected_components(g, directed=False)
    for c in np.unique(comp):
        nodes = np.flatnonzero(comp == c)
        yield nodes, g[nodes][:, nodes].tocsr()


def run_metis(cells, edges):
    import pymetis

    labels = np.zeros(len(cells), dtype=np.int64)
    h = cells["households"].to_numpy()
    nxt = 0
    for nodes, sub in _pieces(cells, edges):
        k = max(1, int(round(h[nodes].sum() / 400)))
        if k == 1 or len(nodes) < k:
            labels[nodes] = nxt
            nxt += 1
            continue
        _, parts = pymetis.part_graph(
            k,
            xadj=sub.indptr,
            adjncy=sub.indices,
            vweights=np.maximum(h[nodes], 0).astype(np.int64).tolist(),
        )
        labels[nodes] = nxt + np.asarray(parts)
        nxt += k
    return labels


def run_gerrychain(cells, edges):
    import networkx as nx
    from gerrychain import Graph
    from gerrychain.tree import recursive_tree_part

    labels = np.zeros(len(cells), dtype=np.int64)
    h = cells["households"].to_numpy()
    nxt = 0
    for nodes, sub in _pieces(cells, edges):
        total = h[nodes].sum()
        k = max(1, int(round(total / 400)))
        if k == 1:
            labels[nodes] = nxt
            nxt += 1
            continue
        nxg = nx.from_scipy_sparse_array(sub)
        for v in nxg.nodes:
            nxg.nodes[v]["pop"] = float(h[nodes][v])
        graph = Graph.from_networkx(nxg)
        assignment = recursive_tree_part(graph, range(k), total / k, "pop", 0.25)
        labels[nodes] = nxt + np.array([assignment[v] for v in range(len(nodes))])
        nxt += k
    return labels


def run_spopt(cells, edges):
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    labels = np.zeros(len(cells), dtype=np.int64)
    nxt = 0
    for nodes, sub in _pieces(cells, edges):
        frame = cells.iloc[nodes].reset_index(drop=True)
        coo = sub.tocoo()
        neighbours = {v: [] for v in range(len(nodes))}
        for a, b in zip(coo.row, coo.col, strict=True):
            neighbours[int(a)].append(int(b))
        w = W(neighbours, silence_warnings=True)
        frame["area"] = frame.area
        model = MaxPHeuristic(frame, w, ["area"], "households", LO, top_n=2)
        model.solve()
        lab = np.asarray(model.labels_)
        lab = np.unique(lab, return_inverse=True)[1]
        labels[nodes] = nxt + lab
        nxt += lab.max() + 1
    return labels


def run_h3(result, barriers_metric) -> dict:
    import h3

    b = result.buildings.dropna(subset=["grid_code"])
    pts = b.to_crs(4326).geometry.representative_point()
    hh = b["households"].to_numpy()
    best = None
    for res in range(6, 11):
        cells = np.array([h3.latlng_to_cell(p.y, p.x, res) for p in pts])
        loads = pd.Series(hh).groupby(cells).sum()
        score = abs(loads.mean() - 400)
        if best is None or score < best[0]:
            best = (score, res, cells, loads)
    _, res, cells, loads = best
    hexes = gpd.GeoSeries(
        [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in loads.index],
        crs=4326,
    ).to_crs(result.cells.crs)
    pp = polsby_popper(hexes.to_numpy())
    # boundary on barrier: points every 10 m along hexagon outlines within 5 m of a barrier
    outline = shapely.segmentize(shapely.boundary(hexes.to_numpy()), 10)
    xy = shapely.get_coordinates(outline)
    pts_b = shapely.points(xy)
    lines = barriers_metric
    near = 0.0
    if len(lines):
        tree = shapely.STRtree(lines)
        qi, _ = tree.query(pts_b, predicate="dwithin", distance=5.0)
        near = len(np.unique(qi)) / len(pts_b)
    return {
        "grids": int(len(loads)),
        "in_band": float(((loads >= LO) & (loads <= HI)).mean()),
        "disconnected": 0,
        "pp_median": float(np.median(pp)),
        "on_barrier": float(near),
        "note": f"resolution {res}",
    }


def _child(name, cells, edges, shared, queue):
    warnings.simplefilter("ignore")
    try:
        t0 = time.perf_counter()
        labels = {
            "METIS (pymetis)": run_metis,
            "GerryChain tree": run_gerrychain,
            "spopt max-p": run_spopt,
        }[name](cells, edges)
        seconds = time.perf_counter() - t0
        out = evaluate_labels(cells, edges, labels, shared)
        out["seconds"] = seconds
        queue.put(out)
    except ImportError as exc:
        queue.put({"note": f"not installed: {exc.name}"})
    except Exception as exc:  # report, do not crash the table
        queue.put({"note": f"failed: {type(exc).__name__}: {str(exc)[:80]}"})


def run_baseline(name, cells, edges, shared, timeout) -> dict:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(name, cells, edges, shared, queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return {"note": f"did not finish in {timeout:.0f} s"}
    return queue.get() if not queue.empty() else {"note": "crashed"}


def bench(name: str, data: dict, timeout: float, skip: set[str]) -> list[dict]:
    rows = []
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    result = partition(
        data["buildings"],
        communities=data["communities"],
        community_id=data["community_id"],
        barriers=data["barriers"],
        households_column=data["households_column"],
    )
    seconds = time.perf_counter() - t0
    rep = result.report
    cells, edges = result.cells, result.edges
    codes = cells["grid_code"].to_numpy()
    labels = np.unique(codes, return_inverse=True)[1]
    comm = data["communities"]
    shared = shared_community_boundary(
        None if comm is None else comm.to_crs(cells.crs).geometry.reset_index(drop=True)
    )
    ours = evaluate_labels(cells, edges, labels, shared)
    ours.update(
        seconds=seconds,
        note=f"reachable-band share {rep['in_band']['share_in_feasible_communities']:.3f}",
    )
    rows.append({"data": name, "method": "wangge", **ours})
    n_b = len(data["buildings"])
    for method in ("METIS (pymetis)", "GerryChain tree", "spopt max-p"):
        if method in skip:
            rows.append({"data": name, "method": method, "note": "skipped"})
            continue
        rows.append(
            {"data": name, "method": method, **run_baseline(method, cells, edges, shared, timeout)}
        )
    bar = [b.to_crs(cells.crs) for b in data["barriers"]]
    from geo.partition.tessellation import barrier_lines

    lines = barrier_lines(gpd.GeoDataFrame(pd.concat(bar, ignore_index=True), crs=cells.crs))
    t0 = time.perf_counter()
    try:
        h = run_h3(result, lines.geometry.to_numpy())
        h["seconds"] = time.perf_counter() - t0
    except ImportError:
        h = {"note": "h3 not installed"}
    rows.append({"data": name, "method": "H3 hexagons", **h})
    for r in rows:
        r["buildings"] = n_b
    return rows


def incremental(n: int) -> dict:
    """Add 2% more households (new buildings) to three urban communities; re-run warm."""
    from synthetic_town import synthetic_town

    town = synthetic_town(n)
    b, comm = town["buildings"], town["communities"]
    opts = dict(
        communities=comm,
        community_id="code",
        barriers=[town["roads"], town["water"], town["railways"]],
        households_column="households",
    )
    warnings.simplefilter("ignore")
    first = partition(b, **opts)
    hh = first.grids.groupby("community_id")["households"].sum()
    urban = comm.loc[comm["kind"] == "urban", "code"]
    chosen = [c for c in urban if hh.get(c, 0) >= 1200][:3]
    extra = []
    for code in chosen:
        poly = comm.loc[comm["code"] == code].geometry.iloc[0]
        add = int(round(0.02 * hh[code]))
        x0, y0 = poly.bounds[:2]
        for i in range(add):  # one-household houses in a row near the south-west corner
            x, y = x0 + 3 + (i % 20) * 6, y0 + 3 + (i // 20) * 5
            extra.append({"geometry": shapely.box(x, y, x + 3, y + 3), "households": 1})
    grown = pd.concat([b, gpd.GeoDataFrame(extra, crs=b.crs)], ignore_index=True)
    t0 = time.perf_counter()
    second = partition(grown, previous=first, **opts)
    seconds = time.perf_counter() - t0
    old = first.grids.set_index("grid_code")
    new = second.grids.set_index("grid_code")
    others = old[~old["community_id"].isin(chosen)]
    same = others.index.isin(new.index)
    b_old = first.buildings.set_index("source_index")["grid_code"]
    b_new = second.buildings.set_index("source_index")["grid_code"].loc[b_old.index]
    in_others = b_old.str[:-3].isin(set(others["community_id"])).fillna(False)
    buildings_kept = bool((b_old[in_others] == b_new[in_others]).all())
    geometry_kept = bool(
        same.all()
        and (
            new.loc[others.index].geometry.to_wkb().to_numpy()
            == others.geometry.to_wkb().to_numpy()
        ).all()
    )
    return {
        "buildings": len(b),
        "added_households": int(sum(e["households"] for e in extra)),
        "communities_grown": len(chosen),
        "share_households_changed_grid": second.report["incremental"][
            "share_households_changed_grid"
        ],
        "other_communities_same_buildings_and_codes": buildings_kept,
        "other_communities_same_polygons_wkb": geometry_kept,
        "seconds_warm": round(seconds, 2),
    }


# ------------------------------------------------------------------------------ scaling

SCALING_DIR = Path("/tmp/wangge_scaling")
ROOT = Path(__file__).resolve().parents[1]


def _peak_tree_rss(proc) -> tuple[float, float]:
    """Wait for ``proc``; return its wall seconds and the peak RSS (GB) of its process tree,
    sampled every 50 ms (the workers included)."""
    import psutil

    t0 = time.perf_counter()
    top = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [top, *top.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    return time.perf_counter() - t0, peak / 2**30


def run_cli(path: Path, barriers: bool, out: Path, workers_env: dict | None = None) -> dict:
    """``wangge partition`` on the town at ``path`` as ONE area (no community layer):
    read GeoPackage -> grids written to a GeoPackage; wall seconds and peak memory."""
    import json
    import os
    import subprocess

    cmd = [
        sys.executable,
        "-c",
        "import sys; from wangge.cli import main; sys.exit(main(sys.argv[1:]))",
        "partition",
        f"{path}:buildings",
        "--households-column",
        "households",
        "--out",
        str(out),
        "--report",
        str(out.with_suffix(".json")),
        "--quiet",
    ]
    if barriers:
        cmd += [f"--barriers={path}:{n}" for n in ("roads", "water", "railways")]
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(workers_env or {})}
    load = os.getloadavg()[0]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds, peak = _peak_tree_rss(proc)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        return {"note": f"failed: {err.strip().splitlines()[-1][:80] if err.strip() else '?'}"}
    report = json.loads(out.with_suffix(".json").read_text())
    return {
        "seconds": seconds,
        "peak_gb": peak,
        "load": load,
        "reachable": report["in_band"]["share_in_feasible_communities"],
    }


def complete_edges(cells: gpd.GeoDataFrame, edges: pd.DataFrame, lines: np.ndarray) -> pd.DataFrame:
    """``edges`` with the cell pairs touching across a piece boundary added.

    Pieces of a large community are tessellated in separate jobs, so the engine's graph has
    no edge across a piece boundary. Baselines must divide the whole community's graph (and
    boundaries between grids along a seam must count), so those pairs are found here:
    cells sharing boundary length, not yet an edge; ``near_barrier`` from points every 2 m
    along the shared line within 5 m of a barrier.
    """
    geoms = cells.geometry.to_numpy()
    n = len(geoms)
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    have = (
        np.minimum(edges["i"], edges["j"]).to_numpy() * n
        + np.maximum(edges["i"], edges["j"]).to_numpy()
    )
    new = ~np.isin(i * n + j, have)
    i, j = i[new], j[new]
    seam = shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j]))
    length = shapely.length(seam)
    ok = length > 1e-6
    i, j, seam, length = i[ok], j[ok], seam[ok], length[ok]
    near = np.zeros(len(seam))
    if len(lines) and len(seam):
        xy, which = shapely.get_coordinates(shapely.segmentize(seam, 2.0), return_index=True)
        pts = shapely.points(xy)
        hit = np.zeros(len(pts), bool)
        hit[np.unique(shapely.STRtree(lines).query(pts, predicate="dwithin", distance=5.0)[0])] = (
            True
        )
        share = np.bincount(which, weights=hit, minlength=len(seam)) / np.maximum(
            np.bincount(which, minlength=len(seam)), 1
        )
        near = share * length
    extra = pd.DataFrame({"i": i, "j": j, "length": length, "near_barrier": near, "weight": 1.0})
    return pd.concat([edges, extra], ignore_index=True)


def scaling(sizes: list[int], timeout: float, metis: bool) -> pd.DataFrame:
    """The synthetic town as one area at each size, with and without barriers: the CLI run
    (seconds, peak memory of the process tree), the division's quality (in-band share,
    disconnected grids, median Polsby-Popper of grids built from the cells), METIS beside it
    on the whole area's cell graph (:func:`complete_edges`)."""
    SCALING_DIR.mkdir(exist_ok=True)
    from synthetic_town import synthetic_town, write_town

    rows = []
    for n in sizes:
        path = SCALING_DIR / f"town{n}.gpkg"
        if not path.exists():
            write_town(path, n)
        town = synthetic_town(n)
        for barriers in (False, True):
            label = "streets, river, railway" if barriers else "none"
            row = {"buildings": len(town["buildings"]), "barriers": label, "method": "wangge"}
            row.update(run_cli(path, barriers, SCALING_DIR / f"out{n}_{int(barriers)}.gpkg"))
            print(f"{n} {label}: {row.get('seconds', 0):.1f} s", file=sys.stderr)
            if "note" in row and "seconds" not in row:
                rows.append(row)
                continue
            warnings.simplefilter("ignore")
            result = partition(
                town["buildings"],
                barriers=[town["roads"], town["water"], town["railways"]] if barriers else None,
                households_column="households",
            )
            cells = result.cells
            lines = np.array([], dtype=object)
            if barriers:
                bar = [
                    b.to_crs(cells.crs) for b in (town["roads"], town["water"], town["railways"])
                ]
                from geo.partition.tessellation import barrier_lines

                lines = barrier_lines(
                    gpd.GeoDataFrame(pd.concat(bar, ignore_index=True), crs=cells.crs)
                ).geometry.to_numpy()
            edges = complete_edges(cells, result.edges, lines)
            labels = np.unique(cells["grid_code"].to_numpy(), return_inverse=True)[1]
            row.update(evaluate_labels(cells, edges, labels))
            rows.append(row)
            if metis:
                m = run_baseline("METIS (pymetis)", cells, edges, 0.0, timeout)
                rows.append(
                    {"buildings": row["buildings"], "barriers": label, "method": "METIS", **m}
                )
    table = pd.DataFrame(rows)
    for _label, part in table[table["method"] == "wangge"].groupby("barriers"):
        ok = part.dropna(subset=["seconds"])
        if len(ok) >= 2:
            slope = np.polyfit(np.log(ok["buildings"]), np.log(ok["seconds"]), 1)[0]
            table.loc[part.index, "exponent"] = round(float(slope), 2)
    return table


def print_scaling(table: pd.DataFrame) -> None:
    cols = [
        "buildings",
        "barriers",
        "method",
        "seconds",
        "peak_gb",
        "load",
        "exponent",
        "grids",
        "in_band",
        "reachable",
        "disconnected",
        "pp_median",
        "on_barrier",
        "note",
    ]
    print(table.reindex(columns=cols).to_markdown(index=False, floatfmt=".3f"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--skip", action="append", default=[], help="method name to skip")
    parser.add_argument(
        "--only", choices=["synthetic", "demo", "liechtenstein", "shanghai"], action="append"
    )
    parser.add_argument("--incremental", action="store_true", help="only the incremental run")
    parser.add_argument(
        "--scaling",
        type=int,
        nargs="*",
        metavar="N",
        help="the scaling table: the synthetic town as ONE area of N buildings (default "
        "10k 20k 50k 100k 200k), read GPKG -> written GPKG, with and without barriers",
    )
    parser.add_argument("--no-metis", action="store_true", help="scaling without METIS rows")
    parser.add_argument(
        "--demo-gpkg", type=Path, help="read the demo county from this file instead of building it"
    )
    args = parser.parse_args()
    if args.scaling is not None:
        sizes = args.scaling or [10_000, 20_000, 50_000, 100_000, 200_000]
        print_scaling(scaling(sizes, args.timeout, not args.no_metis))
        return
    if args.incremental:
        for key, value in incremental(args.buildings).items():
            print(f"| {key} | {value} |")
        return
    sets = args.only or ["synthetic", "demo", "liechtenstein", "shanghai"]
    rows = []
    for name in sets:
        data = {
            "synthetic": lambda: synthetic(args.buildings),
            "demo": lambda: demo_county(args.demo_gpkg),
            "liechtenstein": liechtenstein,
            "shanghai": shanghai,
        }[name]()
        if data is None:
            print(f"{name}: not available, skipped")
            continue
        rows += bench(name, data, args.timeout, set(args.skip))
        print(f"{name}: done", file=sys.stderr)
    table = pd.DataFrame(rows)
    cols = [
        "data",
        "buildings",
        "method",
        "seconds",
        "grids",
        "in_band",
        "disconnected",
        "pp_median",
        "on_barrier",
        "on_barrier_or_community",
        "in_block",
        "note",
    ]
    table = table.reindex(columns=cols)
    print(table.to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
