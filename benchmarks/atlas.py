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
pypdfium2 (the ``bench`` extra) to look at them. With ``--libraries``, draws the same page (the
community's buildings, its grids and their CJK labels) with fpdf2, matplotlib (PdfPages,
fonttype 42) and reportlab, as installed, and prints seconds and bytes per library: the
measurement behind the choice of fpdf2 in :mod:`geo.atlas.pdf`.
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
    parser.add_argument("--libraries", action="store_true", help="compare PDF libraries")
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
            if run.startswith("cold"):
                fonts = sorted(cache.glob("*.ttf"))
                note = f"merged font {fonts[0].stat().st_size / 1e6:.2f} MB" if fonts else ""
            if args.png and paper == "a4":
                _render(out, args.png)
        t = time.perf_counter()
        html = write_html_map(
            grids, Path(tmp) / "map.html", buildings=kw["buildings"], streets=kw["streets"]
        )
        secs = time.perf_counter() - t
        print(f"| HTML map | - | - | {secs:.1f} | - | {html.stat().st_size / 1e6:.2f} |")
        print(f"\n{note} (the CJK font the cold run built from the woff2 slices)")
        if args.libraries:
            _compare_libraries(grids, kw["buildings"], cache, Path(tmp))
    return 0


def _page_shapes(grids, buildings) -> tuple[list, list, list]:
    """Buildings and grid rings in mm on an A4 landscape page, and (x, y, text) labels."""
    import numpy as np
    import shapely

    crs = grids.estimate_utm_crs()
    g, b = grids.to_crs(crs), buildings.to_crs(crs)
    minx, miny, maxx, maxy = g.total_bounds
    scale = min(270 / (maxx - minx), 180 / (maxy - miny))

    def ring(geom):
        xy = np.asarray(geom.exterior.coords)[:, :2]
        return list(
            zip(10 + (xy[:, 0] - minx) * scale, 200 - (xy[:, 1] - miny) * scale, strict=True)
        )

    parts = lambda frame: [p for x in frame.geometry for p in shapely.get_parts(x)]  # noqa: E731
    labels = []
    for row in g.itertuples():
        pt = row.geometry.representative_point()
        labels.append(
            (10 + (pt.x - minx) * scale, 200 - (pt.y - miny) * scale, f"网格{row.grid_code[-3:]}")
        )
    return [ring(p) for p in parts(b)], [ring(p) for p in parts(g)], labels


def _fpdf2(path, font, shapes) -> None:
    from fpdf import FPDF

    buildings, rings, labels = shapes
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.add_font("cjk", fname=str(font))
    pdf.add_page()
    pdf.set_font("cjk", size=8)
    for pts in buildings:
        pdf.polygon(pts, style="DF")
    for pts in rings:
        pdf.polyline(pts)
    for x, y, text in labels:
        pdf.text(x, y, text)
    pdf.output(str(path))


def _matplotlib(path, font, shapes) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    buildings, rings, labels = shapes
    matplotlib.rcParams["pdf.fonttype"] = 42
    prop = FontProperties(fname=str(font), size=8)
    fig = Figure(figsize=(297 / 25.4, 210 / 25.4))
    ax = fig.add_axes((0, 0, 1, 1), xlim=(0, 297), ylim=(210, 0))
    ax.set_axis_off()
    ax.add_collection(PolyCollection(buildings, facecolor="#e8a33d", edgecolor="#6e6e6e"))
    ax.add_collection(LineCollection(rings, colors="#d7301f"))
    for x, y, text in labels:
        ax.text(x, y, text, fontproperties=prop)
    with PdfPages(path) as pages:
        pages.savefig(fig)


def _reportlab(path, font, shapes) -> None:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    buildings, rings, labels = shapes
    pdfmetrics.registerFont(TTFont("cjk", str(font)))
    c = canvas.Canvas(str(path), pagesize=landscape(A4))
    c.setFont("cjk", 8)
    height = 210
    for pts, fill in [(p, 1) for p in buildings] + [(p, 0) for p in rings]:
        path_ = c.beginPath()
        path_.moveTo(pts[0][0] * mm, (height - pts[0][1]) * mm)
        for x, y in pts[1:]:
            path_.lineTo(x * mm, (height - y) * mm)
        path_.close()
        c.drawPath(path_, fill=fill)
    for x, y, text in labels:
        c.drawString(x * mm, (height - y) * mm, text)
    c.save()


def _compare_libraries(grids, buildings, cache: Path, tmp: Path) -> None:
    from geo.atlas import cjk_font

    shapes = _page_shapes(grids, buildings)
    font = cjk_font([t for *_, t in shapes[2]], cache_dir=cache)
    print()
    print(f"one A4 page: {len(shapes[0]):,} buildings, {len(shapes[1])} grid rings, "
          f"{len(shapes[2])} CJK labels; font {font.stat().st_size / 1e6:.2f} MB")  # fmt: skip
    print()
    print("| library | seconds | PDF KB |")
    print("|---|---|---|")
    for name, draw in (("fpdf2", _fpdf2), ("matplotlib", _matplotlib), ("reportlab", _reportlab)):
        out = tmp / f"{name}.pdf"
        try:
            t = time.perf_counter()
            draw(out, font, shapes)
            secs = time.perf_counter() - t
        except ImportError:
            print(f"| {name} | not installed | - |")
            continue
        print(f"| {name} | {secs:.2f} | {out.stat().st_size / 1e3:,.0f} |")


def _render(pdf: Path, folder: Path) -> None:
    import pypdfium2

    folder.mkdir(parents=True, exist_ok=True)
    doc = pypdfium2.PdfDocument(str(pdf))
    for i in range(min(2, len(doc))):
        doc[i].render(scale=1.5).to_pil().save(folder / f"atlas-page-{i + 1}.png")


if __name__ == "__main__":
    sys.exit(main())
