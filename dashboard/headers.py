"""Security headers on every answer of the dashboard's server.

- ``Content-Security-Policy``: scripts only from this server plus Dash's own inline scripts,
  allowed by their hashes (:meth:`dash.Dash.csp_hashes`, taken once the pages are registered);
  no plug-ins; images from this server (and the optional tile server of
  ``WANGGE_TILE_URL``); no framing (``frame-ancestors 'none'``). Styles allow ``'unsafe-inline'``
  because Dash and Leaflet set ``style`` attributes on the elements they draw; no script runs
  through it.
- ``X-Frame-Options: DENY`` for browsers that do not know ``frame-ancestors``.
- ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin`` (the wall page's
  callbacks send their page's path as ``Referer``, which :mod:`dashboard.auth` reads; nothing
  goes to other sites).

``tests/test_browser.py`` loads every page in Chromium under this policy and finds no
violation in the console.
"""

from __future__ import annotations

from urllib.parse import urlparse

import dash
from flask import Response

from wangge.settings import Settings

__all__ = ["content_security_policy", "init_headers"]


def _origin(url_template: str) -> str:
    """``scheme://host[:port]`` of a tile URL template ("" when there is none)."""
    if not url_template:
        return ""
    parsed = urlparse(url_template.replace("{s}", "a"))
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return ""
    host = parsed.netloc if "{s}" not in url_template else "*." + parsed.netloc.split(".", 1)[1]
    return f"{parsed.scheme}://{host}"


def content_security_policy(app: dash.Dash, settings: Settings) -> str:
    """The policy for ``app``: its inline scripts' hashes and the tile server's origin."""
    tiles = _origin(settings.tile_url)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *app.csp_hashes()],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *([tiles] if tiles else [])],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def init_headers(app: dash.Dash, settings: Settings) -> None:
    """Add the security headers to every answer of ``app``'s server."""
    policy: list[str] = []  # made on the first answer, once every page has been registered

    @app.server.after_request
    def secure(resp: Response) -> Response:
        if not policy:
            policy.append(content_security_policy(app, settings))
        resp.headers.setdefault("Content-Security-Policy", policy[0])
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp
