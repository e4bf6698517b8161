"""Paths that are not there: a real 404, styled and in the chosen language.

Dash answers every path it does not know with its app shell (status 200) and then draws its own
bare English "404 - Page not found". Here a request for a path that is neither a page nor a
route gets status 404: the app shell for a page path (the browser then draws
:mod:`dashboard.pages.not_found_404`, the header and a way back, in ``?lang=``'s language), a
JSON error under ``/api/`` (as the API's own errors), and a small styled HTML page for any other
missing file (an asset, a component's script).
"""

from __future__ import annotations

import html

import dash
from flask import Response, jsonify, request

from dashboard.i18n import request_lang, t

__all__ = ["init_not_found", "is_page_path", "not_found_html"]

#: Dash's catch-all route: every path no other rule matched.
_CATCH_ALL = "/<path:path>"


def is_page_path(path: str) -> bool:
    """Whether ``path`` is the path of a registered page (trailing slash aside)."""
    wanted = path.rstrip("/") or "/"
    return any(
        (page.get("path") or "").rstrip("/") == wanted.rstrip("/")
        for page in dash.page_registry.values()
    )


def not_found_html(path: str, lang: str) -> str:
    """The styled 404 page of a missing file at ``path``, without the app's scripts."""
    home = "/" if lang == "zh" else "/?lang=en"
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(t('notfound.title', lang))}</title>"
        '<link rel="stylesheet" href="/assets/wangge.css"></head>'
        '<body><div class="notfound-page"><div class="notfound-body"><div class="notfound-box">'
        '<p class="notfound-code">404</p>'
        f"<h1>{html.escape(t('notfound.title', lang))}</h1>"
        f"<p>{html.escape(t('notfound.text', lang, path=path))}</p>"
        f'<a href="{home}">{html.escape(t("notfound.home", lang))}</a>'
        "</div></div></div></body></html>"
    )


def _api_not_found(path: str) -> Response:
    resp = jsonify({"error": "not_found", "detail": f"no such API route: {request.method} {path}"})
    resp.status_code = 404
    return resp


def init_not_found(app: dash.Dash) -> None:
    """Answer paths that are neither pages nor routes of ``app`` with status 404."""
    server = app.server

    @server.before_request
    def unknown_path():
        rule = request.url_rule
        if rule is None or rule.rule != _CATCH_ALL or is_page_path(request.path):
            return None
        if request.path.startswith("/api/"):
            return _api_not_found(request.path)
        # the app shell: the browser's router draws the 404 page (pages/not_found_404.py)
        return Response(app.index(), status=404, mimetype="text/html")

    @server.errorhandler(404)
    def missing(_error):
        if request.path.startswith("/api/"):
            return _api_not_found(request.path)
        return Response(not_found_html(request.path, request_lang()), 404, mimetype="text/html")
