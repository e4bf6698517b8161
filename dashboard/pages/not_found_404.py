"""The page drawn for a path that is no page (Dash uses a module of this name for its 404):
the header, and a way back to the first page, in the chosen language. The server answers such
a path with status 404 (:mod:`dashboard.notfound`)."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard.components.header import header
from dashboard.i18n import normalise_lang, page_title, t

__all__ = ["layout"]

dash.register_page(__name__, path="/404", name="not_found", title=page_title("notfound.title"))


def layout(lang: str | None = None, **_query) -> html.Div:
    """The 404 page in ``lang`` (``?lang=``; the settings' language by default)."""
    from flask import current_app

    lang = normalise_lang(lang, current_app.config["WANGGE_SETTINGS"].lang)
    home = "/" if lang == "zh" else "/?lang=en"
    box = html.Div(
        className="notfound-box",
        children=[
            html.P("404", className="notfound-code"),
            html.H1(t("notfound.title", lang)),
            html.P(t("notfound.page", lang)),
            dcc.Link(t("notfound.home", lang), href=home, id="notfound-home"),
        ],
    )
    return html.Div(
        [header(lang, "/404"), html.Div(box, className="notfound-body")],
        className="page notfound-page",
        id="notfound-page",
    )
