"""Settings of the dashboard, read from the environment once, when the app is built.

| variable | meaning | default |
| --- | --- | --- |
| ``WANGGE_DATA_DIR`` | folder of the SQLite store and other run-time data | ``var/`` |
| ``HOST`` / ``PORT`` | where ``python app.py`` listens | ``127.0.0.1`` / ``8050`` |
| ``WANGGE_TILE_URL`` | optional raster tile URL template (an offline tile server, Tianditu, OSM); off by default, so the map draws only local vector layers | empty |
| ``WANGGE_TILE_CRS`` | datum of those tiles: ``wgs84`` (OSM, Tianditu's CGCS2000, offline servers) or ``gcj02`` (Gaode/AMap-style tiles: vectors are shifted to match) | ``wgs84`` |
| ``WANGGE_TILE_ATTRIBUTION`` | attribution text shown with those tiles | empty |
| ``WANGGE_LANG`` | default interface language, ``zh`` or ``en`` | ``zh`` |
| ``WANGGE_DEMO_SEED`` | seed of the built-in demo county | ``20261122`` |
| ``WANGGE_WALL_REFRESH`` | seconds between wall display refreshes | ``15`` |
| ``WANGGE_SECURE_COOKIES`` | ``1``: the session cookies are sent over HTTPS only (``Secure``; set it when the dashboard is served behind TLS); ``0``: also over plain HTTP | ``0`` |
| ``WANGGE_DEMO_FEED`` | ``1``: the served app keeps the demo county moving (new cases, case handling, camera heartbeats, patrol GPS; :mod:`wangge.demo.feed`); ``0``: off. Only ever runs on a store set up as the demo county | ``1`` |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from wangge.paths import REPO_ROOT, default_data_dir

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8050
    tile_url: str = ""
    tile_attribution: str = ""
    tile_crs: str = "wgs84"
    lang: str = "zh"
    demo_seed: int = 20261122
    wall_refresh: int = 15
    demo_feed: bool = True
    secure_cookies: bool = False
    boundaries_dir: Path = REPO_ROOT / "data" / "boundaries" / "demo"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "wangge.sqlite"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        lang = env.get("WANGGE_LANG", "zh")
        if lang not in ("zh", "en"):
            raise ValueError(f"WANGGE_LANG={lang!r}: expected 'zh' or 'en'")
        tile_crs = env.get("WANGGE_TILE_CRS", "wgs84").lower()
        if tile_crs not in ("wgs84", "gcj02"):
            raise ValueError(f"WANGGE_TILE_CRS={tile_crs!r}: expected 'wgs84' or 'gcj02'")
        port = env.get("PORT", "8050")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"PORT={port!r}: expected a TCP port number between 1 and 65535")
        return cls(
            data_dir=Path(env["WANGGE_DATA_DIR"])
            if env.get("WANGGE_DATA_DIR")
            else default_data_dir(),
            host=env.get("HOST", "127.0.0.1"),
            port=int(port),
            tile_url=env.get("WANGGE_TILE_URL", "").strip(),
            tile_attribution=env.get("WANGGE_TILE_ATTRIBUTION", "").strip(),
            tile_crs=tile_crs,
            lang=lang,
            demo_seed=int(env.get("WANGGE_DEMO_SEED", "20261122")),
            wall_refresh=_positive(env.get("WANGGE_WALL_REFRESH", "15"), "WANGGE_WALL_REFRESH"),
            demo_feed=_switch(env.get("WANGGE_DEMO_FEED", "1"), "WANGGE_DEMO_FEED"),
            secure_cookies=_switch(env.get("WANGGE_SECURE_COOKIES", "0"), "WANGGE_SECURE_COOKIES"),
        )


def _positive(text: str, name: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name}={text!r}: expected a whole number of seconds, 1 or more")
    return int(text)


def _switch(text: str, name: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "on", "true", "yes"):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    raise ValueError(f"{name}={text!r}: expected 1 (on) or 0 (off)")
