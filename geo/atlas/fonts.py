"""A CJK TrueType font for the printed atlas, derived at run time from the woff2 slices.

A PDF needs a real font file to embed, and the project ships Noto Sans SC only as the Google
Fonts slicing for browsers: about 100 woff2 files per weight, each covering one unicode-range
(``assets/fonts/noto-sans-sc.css`` names them; OFL, see ``assets/fonts/OFL.txt``). Merging
all 100 slices of weight 400 gives a 4.5 MB TrueType font and took 47 s on this shared, loaded
machine (a fontTools ``Merger`` over every ``*-400-normal.woff2``): too slow to do per atlas,
and a second copy of the face to commit beside the slices. So :func:`cjk_font` merges only the slices that hold a character of the text to print: the
unicode-ranges come from the CSS (no font is opened to choose), the chosen slices are
decompressed (fontTools + brotli), stripped of the layout tables a PDF does not use and merged
into one TrueType font. The PDF library then embeds a subset of it. Decoding a woff2 slice
is pure Python in fontTools (its glyf transform), so the merged font is kept in a cache folder
keyed by the set of slices: a second atlas of the same community reuses it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from geo.errors import InputError

__all__ = ["FONT_DIR", "cjk_font", "font_slices"]

log = logging.getLogger(__name__)

#: Where the slices live in a checkout: ``assets/fonts`` beside the ``geo`` package.
FONT_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"

_CSS = "noto-sans-sc.css"
_RULE = re.compile(r"@font-face\s*{(?P<body>[^}]*)}", re.S)
_SRC = re.compile(r"url\(\./(?P<path>[^)]+\.woff2)\)")
_WEIGHT = re.compile(r"font-weight:\s*(?P<w>\d+)")
_RANGE = re.compile(r"unicode-range:\s*(?P<r>[^;]+);")
# tables a PDF renderer never reads; dropping them lets slices merge fast and cleanly
_DROP = ("GSUB", "GPOS", "BASE", "STAT", "vhea", "vmtx", "gasp", "prep", "DSIG")


def _ranges(spec: str) -> list[tuple[int, int]]:
    out = []
    for part in spec.split(","):
        part = part.strip().upper().removeprefix("U+")
        lo, _, hi = part.partition("-")
        out.append((int(lo, 16), int(hi or lo, 16)))
    return out


def font_slices(
    font_dir: Path | None = None, *, weight: int = 400
) -> list[tuple[Path, list[tuple[int, int]]]]:
    """The woff2 slices of ``weight`` with the code-point ranges each covers.

    Parameters
    ----------
    font_dir
        The folder holding ``noto-sans-sc.css`` and ``noto-sans-sc/`` (default :data:`FONT_DIR`).
    weight
        400 or 700.

    Returns
    -------
    list of (path, [(first, last), ...]) in the order of the CSS.
    """
    font_dir = Path(font_dir or FONT_DIR)
    css = font_dir / _CSS
    if not css.is_file():
        raise InputError(
            f"{css}: no such file; the atlas needs the Noto Sans SC slices "
            "(run `python scripts/fonts.py` in the checkout, or pass font_dir=)"
        )
    out = []
    for rule in _RULE.finditer(css.read_text(encoding="utf-8")):
        body = rule.group("body")
        src, w, rng = _SRC.search(body), _WEIGHT.search(body), _RANGE.search(body)
        if not (src and w and rng) or int(w.group("w")) != weight:
            continue
        out.append((font_dir / src.group("path"), _ranges(rng.group("r"))))
    if not out:
        raise InputError(f"{css}: no @font-face rule of weight {weight}")
    return out


def cjk_font(
    text: Iterable[str],
    *,
    font_dir: Path | None = None,
    weight: int = 400,
    cache_dir: Path | None = None,
) -> Path:
    """A TrueType file of Noto Sans SC holding every character of ``text`` that the slices have.

    Parameters
    ----------
    text
        The strings the document will print (their characters choose the slices).
    font_dir
        See :func:`font_slices`.
    weight
        400 or 700.
    cache_dir
        Where merged fonts are kept (default: ``wangge-fonts`` in the system's temporary folder).

    Returns
    -------
    Path of the ``.ttf`` file.
    """
    from fontTools.merge import Merger
    from fontTools.ttLib import TTFont

    chars = {ord(c) for s in text for c in s if not c.isspace()}
    chosen: list[Path] = []
    covered: set[int] = set()
    for path, ranges in font_slices(font_dir, weight=weight):
        hit = {c for c in chars if any(lo <= c <= hi for lo, hi in ranges)}
        if hit - covered or (not chosen and path.name.startswith("noto-sans-sc-latin-")):
            chosen.append(path)
            covered |= hit
    missing = sorted(chars - covered)
    if missing:
        log.warning("no glyph in Noto Sans SC for %s", "".join(map(chr, missing)))
    key = hashlib.sha256("\n".join(p.name for p in chosen).encode()).hexdigest()[:16]
    cache = Path(cache_dir or Path(tempfile.gettempdir()) / "wangge-fonts")
    out = cache / f"noto-sans-sc-{weight}-{key}.ttf"
    if out.is_file():
        return out
    with tempfile.TemporaryDirectory(prefix="wangge-font-") as tmp:
        parts = []
        for i, path in enumerate(chosen):
            if not path.is_file():
                raise InputError(f"{path}: font slice named by {_CSS} is missing")
            font = TTFont(path)
            font.flavor = None
            for tag in _DROP:
                if tag in font:
                    del font[tag]
            part = Path(tmp) / f"{i}.ttf"
            font.save(part)
            parts.append(str(part))
        merged = Merger().merge(parts) if len(parts) > 1 else TTFont(parts[0])
        style = "Bold" if weight >= 700 else "Regular"
        for record in merged["name"].names:
            if record.nameID in (2, 4, 6, 17):
                record.string = {2: style, 4: f"Noto Sans SC {style}",
                                 6: f"NotoSansSC-{style}", 17: style}[record.nameID]  # fmt: skip
        buf = io.BytesIO()
        merged.save(buf)
    cache.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(buf.getvalue())
    partial.replace(out)  # atomic: a concurrent reader never sees half a font
    log.debug("font %s: %d slices, %d bytes", out, len(chosen), len(buf.getvalue()))
    return out
