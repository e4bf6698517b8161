"""The app's title with the store's county name, shared by the page header, the browser
tab and the sign-in page (a module of its own: the header imports :mod:`dashboard.auth`, which
needs the title too)."""

from __future__ import annotations

from flask import current_app

from dashboard.i18n import request_lang, t
from wangge.access import Scope

__all__ = ["county_page_title", "county_title"]


def county_title(lang: str) -> str:
    """The app's title with the store's county name (admin unit of level county), e.g.
    示范县网格化管理指挥中心; the bare title before a county is loaded."""
    # the county's name titles every page, for every principal (and the sign-in page)
    county = current_app.config["WANGGE_STORE"].admin_units("county", scope=Scope.county())
    if len(county) == 0 or not str(county["name"].iloc[0]).strip():
        return t("app.title", lang)
    return t("app.county_title", lang, county=str(county["name"].iloc[0]).strip())


def county_page_title(**_path_variables: object) -> str:
    """:func:`county_title` in the request's language, for ``dash.register_page(title=...)``."""
    return county_title(request_lang())
