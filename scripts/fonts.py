"""Rebuild the app's CJK web font (assets/fonts/) from the npm package @fontsource/noto-sans-sc.

The files are committed, so that a machine with no network and no CJK font still shows Chinese;
this script only says where they came from and makes them again:

    python scripts/fonts.py               # runs `npm pack @fontsource/noto-sans-sc@VERSION`
    python scripts/fonts.py --tarball fontsource-noto-sans-sc-5.3.1.tgz

It keeps the woff2 files of the weights in WEIGHTS (regular text and bold headings; the
browser picks 700 for the CSS's 600), split by unicode-range as Google Fonts slices the font
(about 100 files per weight, the browser downloads only the slices a page uses), writes
noto-sans-sc.css (one @font-face per slice, woff2 only, URLs relative to it) and copies the
SIL Open Font License 1.1 beside them.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@fontsource/noto-sans-sc"
VERSION = "5.3.1"
WEIGHTS = (400, 700)
OUT = Path(__file__).resolve().parents[1] / "assets" / "fonts"
FACES = "noto-sans-sc"  # folder of the woff2 files, beside the CSS

_SRC = re.compile(
    r"src: url\(\./files/([^)]+\.woff2)\) format\('woff2'\)(, url\([^)]*\) format\('woff'\))?;"
)


def _pack(workdir: Path) -> Path:
    subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(workdir)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return next(workdir.glob("*.tgz"))


def build(tarball: Path, out: Path = OUT) -> int:
    """Write the CSS, woff2 files and licence into ``out``; returns the number of faces."""
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        package = Path(tmp) / "package"
        shutil.rmtree(out / FACES, ignore_errors=True)
        (out / FACES).mkdir(parents=True)
        blocks = [
            f"/* Noto Sans SC (SIL Open Font License 1.1, OFL.txt) from the npm package "
            f"{PACKAGE} {VERSION}, made by scripts/fonts.py: do not edit */"
        ]
        for weight in WEIGHTS:
            css = (package / f"{weight}.css").read_text(encoding="utf-8")
            for name, _ in _SRC.findall(css):
                shutil.copyfile(package / "files" / name, out / FACES / name)
            blocks.append(_SRC.sub(rf"src: url(./{FACES}/\1) format('woff2');", css).strip())
        (out / "noto-sans-sc.css").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        shutil.copyfile(package / "LICENSE", out / "OFL.txt")
    return len(list((out / FACES).glob("*.woff2")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", type=Path, help=f"{PACKAGE}-{VERSION} as packed by npm")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or _pack(Path(tmp))
        n = build(tarball)
    size = sum(f.stat().st_size for f in (OUT / FACES).glob("*.woff2"))
    print(f"{n} woff2 files, {size / 2**20:.1f} MiB in {OUT / FACES}")


if __name__ == "__main__":
    main()
