"""The printed atlas of a grid version (挂图作战): one PDF, per community an overview page and one
page per grid, with the Chinese font embedded.

Each grid page draws the grid's boundary over its neighbours, the buildings (the grid's own in
colour), the streets with their names, the community boundary, a legend, a scale bar, a north
arrow, and in the side panel the grid's code, households, buildings and grid worker, the
version and its date. The overview page colours every grid of the community with its code and
households and lists them in a table.

Why fpdf2: measured with ``python benchmarks/atlas.py --libraries`` (one A4 page of the
demo community with the most buildings: 2,082 building polygons, 22 grid rings, 22 CJK labels,
the same merged font): fpdf2 2.8.9 0.21 s and 71 KB, reportlab 5.1.0 0.25 s and 126 KB,
matplotlib 3.11.2 (PdfPages, ``pdf.fonttype`` 42) 1.67 s and 120 KB. fpdf2 is pure Python with
fontTools as its one heavy dependency (which the font step needs anyway), embeds a *subset* of a
TrueType font as a Type0/CIDFontType2 font with a ToUnicode map (the text is searchable and
``pdffonts``/pypdf show the font embedded), and draws polygons, polylines, rotated text and
clipping rectangles directly. Same inputs give the same bytes: the creation date comes from the
version's date (``meta["date"]``), never from the clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.atlas.fonts import cjk_font
from geo.errors import InputError

__all__ = ["LABELS", "PAPERS", "atlas_pdf"]

log = logging.getLogger(__name__)

#: Paper sizes in mm, landscape: name -> (width, height).
PAPERS = {"a4": (297.0, 210.0), "a3": (420.0, 297.0)}

#: Words printed on the pages, per language.
LABELS = {
    "zh": {
        "atlas": "网格挂图",
        "overview": "社区网格总览",
        "grid": "网格",
        "community": "社区",
        "households": "户数",
        "buildings": "楼栋",
        "worker": "网格员",
        "none": "未配备",
        "legend": "图例",
        "this_grid": "本网格边界",
        "other_grids": "相邻网格",
        "own_buildings": "本网格楼栋",
        "other_buildings": "其他楼栋",
        "street": "街道",
        "community_line": "社区界",
        "version": "版本",
        "date": "日期",
        "page": "第 {n} 页 / 共 {total} 页",
        "north": "北",
        "grids": "网格数",
    },
    "en": {
        "atlas": "Grid atlas",
        "overview": "Grids of the community",
        "grid": "Grid",
        "community": "Community",
        "households": "Households",
        "buildings": "Buildings",
        "worker": "Grid worker",
        "none": "none",
        "legend": "Legend",
        "this_grid": "This grid",
        "other_grids": "Other grids",
        "own_buildings": "Its buildings",
        "other_buildings": "Other buildings",
        "street": "Street",
        "community_line": "Community boundary",
        "version": "Version",
        "date": "Date",
        "page": "page {n} of {total}",
        "north": "N",
        "grids": "Grids",
    },
}

_MARGIN = 10.0
_HEADER = 14.0
_FONT = "NotoSansSC"
_RED = (215, 48, 31)
_PALETTE = [
    (141, 211, 199),
    (255, 255, 179),
    (190, 186, 218),
    (251, 128, 114),
    (128, 177, 211),
    (253, 180, 98),
    (179, 222, 105),
    (252, 205, 229),
    (217, 217, 217),
    (188, 128, 189),
    (204, 235, 197),
    (255, 237, 111),
]


class _Frame:
    """The map frame of a page: metres of the page's extent -> mm on paper."""

    def __init__(self, box: tuple[float, float, float, float], bounds, pad: float = 0.06):
        self.x, self.y, self.w, self.h = box
        minx, miny, maxx, maxy = bounds
        dx, dy = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
        self.scale = min(self.w / (dx * (1 + 2 * pad)), self.h / (dy * (1 + 2 * pad)))
        self.cx, self.cy = (minx + maxx) / 2, (miny + maxy) / 2
        hw, hh = self.w / 2 / self.scale, self.h / 2 / self.scale
        self.extent = shapely.box(self.cx - hw, self.cy - hh, self.cx + hw, self.cy + hh)

    def points(self, coords: np.ndarray) -> list[tuple[float, float]]:
        px = self.x + self.w / 2 + (coords[:, 0] - self.cx) * self.scale
        py = self.y + self.h / 2 - (coords[:, 1] - self.cy) * self.scale
        return list(zip(px.round(3).tolist(), py.round(3).tolist(), strict=True))


def _check(grids: gpd.GeoDataFrame, meta: dict, paper: str, language: str) -> None:
    problems = []
    for col in ("grid_code", "community_code", "households"):
        if col not in grids.columns:
            problems.append(f"grids: no column {col!r}")
    if grids.crs is None:
        problems.append("grids: no CRS (set one with GeoDataFrame.set_crs)")
    for key in ("version", "date"):
        if key not in meta:
            problems.append(f"meta: no key {key!r}")
    if paper not in PAPERS:
        problems.append(f"paper {paper!r}: expected one of {sorted(PAPERS)}")
    if language not in LABELS:
        problems.append(f"language {language!r}: expected one of {sorted(LABELS)}")
    if problems:
        raise InputError("atlas: " + "; ".join(problems))


def _creation_date(meta: dict) -> dt.datetime:
    text = str(meta["date"])
    try:
        day = dt.datetime.fromisoformat(text[:19].replace(" ", "T"))
    except ValueError as exc:
        raise InputError(f"meta: date {text!r} is not an ISO date (YYYY-MM-DD)") from exc
    return day.replace(tzinfo=day.tzinfo or dt.UTC)


def _polygons(pdf, frame: _Frame, geoms: Iterable, style: str) -> None:
    for geom in geoms:
        for poly in shapely.get_parts(geom):
            if poly.geom_type != "Polygon" or poly.is_empty:
                continue
            pdf.polygon(frame.points(np.asarray(poly.exterior.coords)), style=style)


def _lines(pdf, frame: _Frame, geoms: Iterable) -> None:
    for geom in geoms:
        for part in shapely.get_parts(geom):
            if part.geom_type == "Polygon":
                part = part.exterior
            if part.is_empty:
                continue
            pdf.polyline(frame.points(np.asarray(part.coords)))


def _text_centered(pdf, x: float, y: float, text: str, size: float, angle: float = 0.0) -> None:
    pdf.set_font(_FONT, size=size)
    w = pdf.get_string_width(text)
    with pdf.rotation(angle, x, y):
        pdf.text(x - w / 2, y + size * 0.3528 * 0.35, text)


def _street_labels(pdf, frame: _Frame, streets: gpd.GeoDataFrame) -> None:
    """Each street name once, along the longest piece of that street inside the frame."""
    if streets.empty or "name" not in streets.columns:
        return
    named = streets[streets["name"].fillna("").astype(str).str.strip() != ""]
    pdf.set_text_color(70, 70, 70)
    for name, group in named.groupby("name", sort=True):
        inside = shapely.intersection(group.geometry.to_numpy(), frame.extent)
        parts = [p for g in inside for p in shapely.get_parts(g) if p.geom_type == "LineString"]
        if not parts:
            continue
        line = max(parts, key=lambda p: p.length)
        pdf.set_font(_FONT, size=6.5)
        if line.length * frame.scale < pdf.get_string_width(str(name)) * 1.2:
            continue
        a, m, b = (line.interpolate(f, normalized=True) for f in (0.45, 0.5, 0.55))
        angle = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
        if angle > 90:
            angle -= 180
        elif angle <= -90:
            angle += 180
        ((x, y),) = frame.points(np.array([[m.x, m.y]]))
        _text_centered(pdf, x, y, str(name), 6.5, angle)
    pdf.set_text_color(0, 0, 0)


def _scale_bar(pdf, frame: _Frame) -> None:
    """Two alternating segments of a round length, bottom left of the frame."""
    target = frame.w / 5 / frame.scale
    exp = 10 ** math.floor(math.log10(target))
    metres = max(m * exp for m in (1, 2, 5) if m * exp <= target)
    length = metres * frame.scale
    x, y = frame.x + 5, frame.y + frame.h - 7
    pdf.set_fill_color(255, 255, 255)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.rect(x - 2, y - 4.5, length + 16, 8.5, style="F")
    for i in range(2):
        pdf.set_fill_color(*((0, 0, 0) if i == 0 else (255, 255, 255)))
        pdf.rect(x + i * length / 2, y, length / 2, 1.6, style="DF")
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    pdf.set_font(_FONT, size=6.5)
    pdf.text(x - 0.8, y - 1, "0")
    pdf.text(x + length - 1, y - 1, label)


def _north_arrow(pdf, frame: _Frame, word: str) -> None:
    x, y = frame.x + frame.w - 10, frame.y + 7
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x - 5, y - 3, 10, 16, style="F")
    pdf.set_fill_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.polygon([(x, y), (x + 3, y + 8), (x, y + 6)], style="DF")
    pdf.set_fill_color(255, 255, 255)
    pdf.polygon([(x, y), (x - 3, y + 8), (x, y + 6)], style="DF")
    _text_centered(pdf, x, y + 11, word, 8)


def _header(pdf, meta: dict, labels: dict, title: str, width: float) -> None:
    pdf.set_font(_FONT, size=15)
    pdf.text(_MARGIN, _MARGIN + 6, title)
    pdf.set_font(_FONT, size=8)
    right = f"{meta.get('title', labels['atlas'])} · {labels['version']} {meta['version']}"
    right += f" · {labels['date']} {str(meta['date'])[:10]}"
    pdf.text(width - _MARGIN - pdf.get_string_width(right), _MARGIN + 6, right)
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.3)
    pdf.line(_MARGIN, _MARGIN + 9, width - _MARGIN, _MARGIN + 9)


def _footer(pdf, labels: dict, n: int, total: int, size: tuple[float, float]) -> None:
    pdf.set_font(_FONT, size=7)
    text = labels["page"].format(n=n, total=total)
    pdf.text(size[0] - _MARGIN - pdf.get_string_width(text), size[1] - 4, text)


def _legend(pdf, x: float, y: float, labels: dict) -> float:
    """The legend of a grid page from (x, y); returns the y below it."""
    pdf.set_font(_FONT, size=9)
    pdf.text(x, y, labels["legend"])
    y += 3
    entries = [
        ("line", _RED, 0.8, labels["this_grid"]),
        ("line", (120, 120, 120), 0.25, labels["other_grids"]),
        ("fill", (232, 163, 61), 0, labels["own_buildings"]),
        ("fill", (205, 205, 205), 0, labels["other_buildings"]),
        ("line", (156, 156, 156), 0.6, labels["street"]),
        ("dash", (40, 70, 150), 0.4, labels["community_line"]),
    ]
    pdf.set_font(_FONT, size=7.5)
    for kind, colour, width, text in entries:
        if kind == "fill":
            pdf.set_fill_color(*colour)
            pdf.set_draw_color(110, 110, 110)
            pdf.set_line_width(0.1)
            pdf.rect(x, y + 0.5, 7, 3, style="DF")
        else:
            pdf.set_draw_color(*colour)
            pdf.set_line_width(width)
            if kind == "dash":
                pdf.set_dash_pattern(dash=1.2, gap=0.8)
            pdf.line(x, y + 2, x + 7, y + 2)
            pdf.set_dash_pattern()
        pdf.text(x + 9, y + 3.2, text)
        y += 5
    return y


def _panel_rows(pdf, x: float, y: float, rows: list[tuple[str, str]], width: float) -> float:
    for key, value in rows:
        pdf.set_font(_FONT, size=8)
        pdf.set_text_color(90, 90, 90)
        pdf.text(x, y, key)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(_FONT, size=11)
        pdf.text(x + width * 0.38, y, value)
        y += 6.5
    return y


def _layout(paper: str) -> tuple[tuple[float, float], tuple[float, float, float, float], float]:
    size = PAPERS[paper]
    panel = 66.0 if paper == "a4" else 86.0
    top = _MARGIN + _HEADER
    box = (_MARGIN, top, size[0] - 2 * _MARGIN - panel - 4, size[1] - top - _MARGIN - 2)
    return size, box, panel


class _Atlas:
    """The projected layers of one atlas and their spatial indexes."""

    def __init__(self, grids, buildings, streets, communities, meta, paper, language):
        crs = grids.crs if grids.crs.is_projected else grids.estimate_utm_crs()
        self.grids = grids.to_crs(crs).reset_index(drop=True)
        empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=crs), crs=crs)
        self.buildings = empty if buildings is None else buildings.to_crs(crs)
        self.buildings = self.buildings.reset_index(drop=True)
        self.streets = empty if streets is None else streets.to_crs(crs).reset_index(drop=True)
        self.communities = (
            empty if communities is None else communities.to_crs(crs).reset_index(drop=True)
        )
        self.meta, self.labels = meta, LABELS[language]
        self.size, self.box, self.panel = _layout(paper)
        self.own = self._own_buildings()

    def _own_buildings(self) -> pd.Series:
        """The grid code of each building (its own column, else by where it stands)."""
        if "grid_code" in self.buildings.columns:
            return self.buildings["grid_code"].fillna("").astype(str)
        if self.buildings.empty:
            return pd.Series([], dtype=str)
        points = self.buildings.geometry.representative_point()
        hit = self.grids.sindex.query(points, predicate="within")
        codes = pd.Series("", index=self.buildings.index, dtype=object)
        codes.iloc[hit[0]] = self.grids["grid_code"].to_numpy()[hit[1]]
        return codes.astype(str)

    def near(self, frame: gpd.GeoDataFrame, extent) -> gpd.GeoDataFrame:
        if frame.empty:
            return frame
        return frame.iloc[np.sort(frame.sindex.query(extent, predicate="intersects"))]

    def community(self, code: str):
        """(name, geometry) of a community; the union of its grids when it is not given."""
        rows = self.communities
        if "code" in rows.columns and (rows["code"] == code).any():
            row = rows[rows["code"] == code].iloc[0]
            return str(row.get("name", code) or code), row.geometry
        grids = self.grids[self.grids["community_code"] == code]
        return code, shapely.union_all(grids.geometry.to_numpy())

    def texts(self) -> list[str]:
        """Every string the atlas may print (their characters choose the font slices)."""
        out = [*self.labels.values(), str(self.meta.get("title", "")), "0123456789 .,:-/·km"]
        out += [str(self.meta["version"]), str(self.meta["date"])]
        for frame, col in (
            (self.grids, "grid_code"),
            (self.grids, "worker"),
            (self.streets, "name"),
            (self.communities, "name"),
        ):
            if col in frame.columns:
                out += frame[col].fillna("").astype(str).unique().tolist()
        return out


def _map_frame(pdf, atlas: _Atlas, frame: _Frame) -> None:
    pdf.set_draw_color(60, 60, 60)
    pdf.set_line_width(0.3)
    pdf.rect(frame.x, frame.y, frame.w, frame.h)
    _scale_bar(pdf, frame)
    _north_arrow(pdf, frame, atlas.labels["north"])


def _streets_and_boundary(pdf, atlas: _Atlas, frame: _Frame, community) -> None:
    streets = atlas.near(atlas.streets, frame.extent)
    pdf.set_draw_color(156, 156, 156)
    pdf.set_line_width(0.6)
    _lines(pdf, frame, streets.geometry)
    pdf.set_draw_color(40, 70, 150)
    pdf.set_line_width(0.4)
    pdf.set_dash_pattern(dash=1.2, gap=0.8)
    _lines(pdf, frame, [community])
    pdf.set_dash_pattern()


def _grid_page(pdf, atlas: _Atlas, grid, community_name: str, community) -> None:
    labels, code = atlas.labels, str(grid.grid_code)
    pdf.add_page()
    _header(pdf, atlas.meta, labels, f"{labels['grid']} {code}", atlas.size[0])
    frame = _Frame(atlas.box, grid.geometry.bounds, pad=0.12)
    others = atlas.near(atlas.grids, frame.extent)
    others = others[others["grid_code"] != grid.grid_code]
    buildings = atlas.near(atlas.buildings, frame.extent)
    own = atlas.own.loc[buildings.index] == code
    with pdf.rect_clip(*atlas.box):
        pdf.set_fill_color(246, 246, 246)
        pdf.set_draw_color(120, 120, 120)
        pdf.set_line_width(0.25)
        _polygons(pdf, frame, others.geometry, "DF")
        pdf.set_fill_color(255, 246, 214)
        _polygons(pdf, frame, [grid.geometry], "F")
        _streets_and_boundary(pdf, atlas, frame, community)
        pdf.set_draw_color(110, 110, 110)
        pdf.set_line_width(0.1)
        pdf.set_fill_color(205, 205, 205)
        _polygons(pdf, frame, buildings.geometry[~own.to_numpy()], "DF")
        pdf.set_fill_color(232, 163, 61)
        _polygons(pdf, frame, buildings.geometry[own.to_numpy()], "DF")
        pdf.set_draw_color(*_RED)
        pdf.set_line_width(0.8)
        _lines(pdf, frame, [grid.geometry])
        pdf.set_text_color(110, 110, 110)
        for other in others.itertuples():
            point = shapely.intersection(other.geometry, frame.extent).representative_point()
            if not point.is_empty:
                ((x, y),) = frame.points(np.array([[point.x, point.y]]))
                _text_centered(pdf, x, y, str(other.grid_code), 7)
        pdf.set_text_color(0, 0, 0)
        _street_labels(pdf, frame, atlas.near(atlas.streets, frame.extent))
    _map_frame(pdf, atlas, frame)
    x = atlas.size[0] - _MARGIN - atlas.panel
    pdf.set_font(_FONT, size=13)
    pdf.text(x, atlas.box[1] + 6, code)
    rows = [
        (labels["community"], community_name),
        (labels["households"], f"{int(grid.households)}"),
        (labels["buildings"], f"{int(getattr(grid, 'buildings', own.sum()))}"),
        (labels["worker"], str(getattr(grid, "worker", "") or labels["none"])),
    ]
    y = _panel_rows(pdf, x, atlas.box[1] + 16, rows, atlas.panel)
    _legend(pdf, x, y + 6, labels)


def _grid_table(pdf, x: float, y: float, grids: pd.DataFrame, atlas: _Atlas) -> None:
    labels = atlas.labels
    bottom = atlas.size[1] - _MARGIN - 4
    row = min(5.0, (bottom - y) / max(len(grids) + 1, 1))
    size = min(7.5, row * 2.2)
    cols = [(0.0, labels["grid"]), (0.5, labels["households"]), (0.68, labels["worker"])]
    pdf.set_font(_FONT, size=size)
    pdf.set_text_color(90, 90, 90)
    for offset, text in cols:
        pdf.text(x + offset * atlas.panel, y, text)
    pdf.set_text_color(0, 0, 0)
    for i, g in enumerate(grids.itertuples()):
        yy = y + (i + 1) * row
        worker = str(getattr(g, "worker", "") or labels["none"])
        for offset, text in zip(
            (c[0] for c in cols), (str(g.grid_code), str(int(g.households)), worker), strict=True
        ):
            pdf.text(x + offset * atlas.panel, yy, text)


def _overview_page(pdf, atlas: _Atlas, code: str, name: str, community) -> None:
    labels = atlas.labels
    grids = atlas.grids[atlas.grids["community_code"] == code]
    pdf.add_page()
    _header(pdf, atlas.meta, labels, f"{name} · {labels['overview']}", atlas.size[0])
    frame = _Frame(atlas.box, community.bounds)
    buildings = atlas.near(atlas.buildings, frame.extent)
    with pdf.rect_clip(*atlas.box):
        pdf.set_draw_color(70, 70, 70)
        pdf.set_line_width(0.35)
        for i, grid in enumerate(grids.itertuples()):
            pdf.set_fill_color(*_PALETTE[i % len(_PALETTE)])
            _polygons(pdf, frame, [grid.geometry], "DF")
        _streets_and_boundary(pdf, atlas, frame, community)
        pdf.set_fill_color(150, 150, 150)
        _polygons(pdf, frame, buildings.geometry, "F")
        for grid in grids.itertuples():
            point = grid.geometry.representative_point()
            ((x, y),) = frame.points(np.array([[point.x, point.y]]))
            _text_centered(pdf, x, y - 1.6, str(grid.grid_code)[-3:], 9)
            _text_centered(pdf, x, y + 2.2, f"{int(grid.households)}", 6.5)
        # only the streets of the community are named: the frame's others would crowd it
        _street_labels(pdf, frame, atlas.near(atlas.streets, community))
    _map_frame(pdf, atlas, frame)
    x = atlas.size[0] - _MARGIN - atlas.panel
    rows = [
        (labels["community"], code),
        (labels["grids"], str(len(grids))),
        (labels["households"], str(int(grids["households"].sum()))),
    ]
    y = _panel_rows(pdf, x, atlas.box[1] + 6, rows, atlas.panel)
    _grid_table(pdf, x, y + 4, grids, atlas)


def atlas_pdf(
    grids: gpd.GeoDataFrame,
    out: str | Path,
    *,
    meta: dict,
    buildings: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    paper: str = "a4",
    language: str = "zh",
    progress: bool = False,
    font_dir: Path | None = None,
    font_cache: Path | None = None,
) -> Path:
    """Write the printed atlas of ``grids`` to ``out``: per community an overview page, then
    one page per grid (in code order).

    Parameters
    ----------
    grids
        Polygons with ``grid_code``, ``community_code``, ``households`` and optionally
        ``buildings`` (a count) and ``worker`` (the grid worker's name), in any CRS.
    out
        The PDF file to write.
    meta
        ``version`` and ``date`` (ISO, printed and used as the PDF's creation date), optionally
        ``title`` (e.g. the county's name).
    buildings
        Building polygons; a ``grid_code`` column says whose they are (else where they stand).
    streets
        Lines with a ``name`` column (the names are printed along them).
    communities
        Polygons with ``code`` and ``name``; without them a community is the union of its grids.
    paper
        ``"a4"`` or ``"a3"`` (landscape).
    language
        ``"zh"`` or ``"en"``: the words on the pages.
    progress
        Show a progress bar over the pages.
    font_dir, font_cache
        The Noto Sans SC slices and where merged fonts are kept (see
        :func:`geo.atlas.fonts.cjk_font`).

    Returns
    -------
    Path of the PDF.
    """
    from fpdf import FPDF
    from tqdm import tqdm

    _check(grids, meta, paper, language)
    if grids.empty:
        raise InputError("atlas: no grids to print")
    atlas = _Atlas(grids, buildings, streets, communities, meta, paper, language)
    pdf = FPDF(orientation="L", unit="mm", format=paper.upper())
    pdf.set_auto_page_break(False)
    pdf.set_creation_date(_creation_date(meta))
    pdf.set_title(f"{meta.get('title', '')} {atlas.labels['atlas']} v{meta['version']}".strip())
    pdf.add_font(_FONT, fname=str(cjk_font(atlas.texts(), font_dir=font_dir, cache_dir=font_cache)))
    codes = sorted(atlas.grids["community_code"].astype(str).unique())
    total = len(codes) + len(atlas.grids)
    bar = tqdm(total=total, unit="page", desc="atlas", disable=not progress)
    for code in codes:
        name, community = atlas.community(code)
        _overview_page(pdf, atlas, code, name, community)
        _footer(pdf, atlas.labels, pdf.page, total, atlas.size)
        bar.update()
        for grid in (
            atlas.grids[atlas.grids["community_code"] == code].sort_values("grid_code").itertuples()
        ):
            _grid_page(pdf, atlas, grid, name, community)
            _footer(pdf, atlas.labels, pdf.page, total, atlas.size)
            bar.update()
    bar.close()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out
