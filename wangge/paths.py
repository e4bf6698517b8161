"""Where things are on disk: the checkout and the run-time data folder.

Used by the settings and by the store, so that neither imports the other.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["REPO_ROOT", "default_data_dir"]

#: The checkout (the folder holding ``wangge/``, ``geo/``, ``dashboard/`` and ``data/``).
REPO_ROOT = Path(__file__).resolve().parents[1]


def default_data_dir() -> Path:
    """The data folder: ``$WANGGE_DATA_DIR`` or ``var/`` in the checkout."""
    return Path(os.environ.get("WANGGE_DATA_DIR") or REPO_ROOT / "var")
