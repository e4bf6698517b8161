"""Atlas benchmark: the printed atlas (PDF) and the offline HTML map of a community of about
20 grids of the demo county (target of issue #14: the atlas of a community of 20 grids under
20 s).

    .venv/bin/python benchmarks/atlas.py [--data-dir DIR] [--grids 20] [--png DIR]

Reads the demo county from the store in ``--data-dir`` (default ``$WANGGE_DATA_DIR`` or
``var/``; built there with ``wangge demo setup`` when missing), takes the community with the
most buildings and divides it again with the grid engine into about ``--grids`` grids (the demo
communities have at most 14), then times: reading the layers from the store, the atlas on A4
with a cold font cache (the CJK font merged from the woff2 slices), again with a warm cache, on
A3, and the HTML map. Prints a table. With ``--png``, renders the first two pages to PNG with
pypdfium2 (the ``bench`` extra) to look at them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.atlas import atlas_pdf, write_html_map  # noqa: E402
from geo.partition import partition  # noqa: E402
from wangge.access import Scope  # noqa: E402
from wangge.demo.setup import ensure_demo  # noqa: E402
from wangge.services.atlas import atlas_layers  # noqa: E402
from wangge.store import Store  # noqa: E402


def _store(data_dir: Path) -> Store:
    store = Store(data_dir / "wangge.sqlite")
    if store.path.exists() and store.published_grid_version() is not None:
        return store
    from wangge.settings import Settings

    ensure_demo(store, ROOT / "data" / "boundaries" / "demo", seed=Settings.from_env().demo_seed)
    return store


def _regrid(layers: dict, target: int) -> gpd.GeoDataFrame:
    """The community divided again by the engine into about ``target`` grids."""
    buildings = layers["buildings"].drop(columns="grid_code")
    total = int(buildings["households"].sum())
    result = partition(
        buildings,
        households_column="households",
        communities=layers["communities"],
        community_id="code",
        min_households=total // (target + 2),
        max_households=total // (target - 2),
    )
    grids = result.grids.rename(columns={"community_id": "community_code"})
    return grids.assign(worker="")


def main() -> int:
    parser = argparse.ArgumentParser()
    default = os.environ.get("WANGGE_DATA_DIR") or str(ROOT / "var")
    parser.add_argument("--data-dir", type=Path, default=Path(default))
    parser.add_argument("--grids", type=int, default=20, help="about this many grids")
    parser.add_argument("--png", type=Path, help="render the first pages to PNG here")
    args = parser.parse_args()
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    store = _store(args.data_dir)
    version = store.published_grid_version()
    sizes = store.buildings(scope=Scope.county()).groupby("community_code").size()
    community = str(sizes.idxmax())
    t = time.perf_counter()
    layers = atlas_layers(store, version, community=community)
    read = time.perf_counter() - t
    grids = _regrid(layers, args.grids)
    print(f"community {community}: {len(layers['buildings']):,} buildings, {len(grids)} grids, "
          f"{len(layers['streets']):,} street features; read from the store in {read:.2f} s")  # fmt: skip
    print()
    print("| run | paper | pages | seconds | s/page | MB |")
    print("|---|---|---|---|---|---|")
    # the buildings' grids are those of the new division: where they stand, not the store's
    kw = {k: layers[k] for k in ("streets", "communities")}
    kw["buildings"] = layers["buildings"].drop(columns="grid_code")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "fonts"
        for run, paper in (("cold font cache", "a4"), ("warm font cache", "a4"), ("warm", "a3")):
            out = Path(tmp) / f"{paper}.pdf"
            t = time.perf_counter()
            atlas_pdf(grids, out, meta=layers["meta"], paper=paper, font_cache=cache, **kw)
            secs = time.perf_counter() - t
            pages = 1 + len(grids)
            print(f"| atlas, {run} | {paper.upper()} | {pages} | {secs:.1f} | "
                  f"{secs / pages:.2f} | {out.stat().st_size / 1e6:.2f} |")  # fmt: skip
            if args.png and paper == "a4":
                _render(out, args.png)
        t = time.perf_counter()
        html = write_html_map(
            grids, Path(tmp) / "map.html", buildings=kw["buildings"], streets=kw["streets"]
        )
        secs = time.perf_counter() - t
        print(f"| HTML map | - | - | {secs:.1f} | - | {html.stat().st_size / 1e6:.2f} |")
    return 0


def _render(pdf: Path, folder: Path) -> None:
    import pypdfium2

    folder.mkdir(parents=True, exist_ok=True)
    doc = pypdfium2.PdfDocument(str(pdf))
    for i in range(min(2, len(doc))):
        doc[i].render(scale=1.5).to_pil().save(folder / f"atlas-page-{i + 1}.png")


if __name__ == "__main__":
    sys.exit(main())
