"""The header bar shared by pages: title, demo badge, navigation, language switch."""

from __future__ import annotations

from dash import dcc, html

from dashboard.i18n import t

__all__ = ["header"]

#: (path, translation key) of the pages in the navigation bar.
NAV = (
    ("/", "nav.map"),
    ("/situation", "nav.situation"),
    ("/cases", "nav.cases"),
    ("/wall", "nav.wall"),
)


def header(lang: str, path: str, *, demo: bool = True) -> html.Header:
    """The header for a page at ``path`` in ``lang``; links keep the language."""
    other = "en" if lang == "zh" else "zh"
    query = "" if lang == "zh" else "?lang=en"
    return html.Header(
        className="app-header",
        children=[
            html.Div(
                className="app-brand",
                children=[
                    html.Span(t("app.title", lang), className="app-title"),
                    html.Span(t("app.demo_badge", lang), className="demo-badge") if demo else None,
                ],
            ),
            html.Nav(
                className="app-nav",
                children=[
                    dcc.Link(
                        t(key, lang),
                        href=href + query,
                        className="nav-link active" if href == path else "nav-link",
                    )
                    for href, key in NAV
                ],
            ),
            dcc.Link(
                t("lang.switch", lang),
                href=path + ("?lang=en" if other == "en" else ""),
                className="lang-switch",
                id="lang-switch",
            ),
        ],
    )
