"""The header bar shared by pages: title (with the county's name), demo badge, navigation,
language switch."""

from __future__ import annotations

from dash import dcc, html
from flask import current_app

from dashboard.i18n import TEXT, t
from dashboard.title import county_page_title, county_title
from wangge.access import Scope
from wangge.demo import is_demo_store

__all__ = [
    "county_page_title",
    "county_title",
    "demo_badge",
    "header",
    "message_page",
    "user_label",
]

#: (path, translation key) of the pages in the navigation bar.
NAV = (
    ("/", "nav.map"),
    ("/situation", "nav.situation"),
    ("/cases", "nav.cases"),
    ("/planner", "nav.planner"),
    ("/wall", "nav.wall"),
)


def demo_badge(lang: str) -> html.Span | None:
    """The badge 虚构示范数据, when the app's store holds the synthetic demo county."""
    if not is_demo_store(current_app.config["WANGGE_STORE"]):
        return None
    return html.Span(t("app.demo_badge", lang), className="demo-badge")


def message_page(lang: str, path: str, key: str) -> html.Div:
    """A page at ``path`` that only says the text of ``key`` (forbidden, not ready...)."""
    return html.Div([header(lang, path), html.Div(t(key, lang), className="panel")])


def user_label(user: dict | None, lang: str) -> str:
    """Who is signed in, in ``lang``: the role's name (a township leader's with the township's
    name) and the user name, e.g. 城关街道负责人 · leader001 / Leader, 城关街道 · leader001. The
    display name stored with the user is free text in one language, so it is not shown."""
    if not user:
        return ""
    role = str(user.get("role", ""))
    key = f"role.{role}"
    if role == "township":
        scope = Scope.of_township(user.get("scope"))
        units = current_app.config["WANGGE_STORE"].admin_units("township", scope=scope)
        name = str(units["name"].iloc[0]) if len(units) else ""
        text = t("role.township", lang, township=name)
    else:
        text = t(key, lang) if key in TEXT else role
    return f"{text} · {user.get('username', '')}"


def header(lang: str, path: str) -> html.Header:
    """The header for a page at ``path`` in ``lang``; links keep the language."""
    from dashboard.auth import current_user

    other = "en" if lang == "zh" else "zh"
    label = user_label(current_user(), lang)
    query = "" if lang == "zh" else "?lang=en"
    return html.Header(
        className="app-header",
        children=[
            html.Div(
                className="app-brand",
                children=[
                    html.Span(county_title(lang), className="app-title"),
                    demo_badge(lang),
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
            html.Span(label, className="user-label", id="user-label") if label else None,
            dcc.Link(
                t("lang.switch", lang),
                href=path + ("?lang=en" if other == "en" else ""),
                className="lang-switch",
                id="lang-switch",
            ),
            html.A(t("login.logout", lang), href="/logout", className="lang-switch")
            if label
            else None,
        ],
    )
