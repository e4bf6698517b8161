"""Sign-in, and the principal of every request, made here once.

The guard before every request turns the session's user into a
:class:`wangge.access.Principal` (:func:`current_principal`, kept in ``g.principal``; the API's
bearer tokens get theirs in :func:`dashboard.api.requires`). A township principal whose
township is not among the store's townships gets an empty scope. Pages, callbacks and API
routes only read ``principal.scope`` and ask :func:`wangge.access.may` /
:func:`wangge.access.may_open`; the role table lives in :mod:`wangge.access`.

Roles
-----
``county``
    Everything in the county.
``township``
    A township leader: only their township (``scope`` = its 12-digit code). Every page layout,
    Dash callback and API answer passes the principal's scope to the store, which filters by
    it; nothing is merely hidden.
``planner``
    Reads everything (and will redraw grids on the planner's page).
``wall``
    The read-only wall display: only ``/wall``. A wall screen signs in once with
    ``/wall?token=...`` (an API token of role ``wall``, ``wangge token create --role wall``);
    the token is then dropped from the address bar and a session cookie carries on.

Sessions are Flask's signed cookies; the signing key is ``$WANGGE_SECRET_KEY`` or a random key
kept in ``$WANGGE_DATA_DIR/secret_key`` (created on first start, readable by the owner only).
"""

from __future__ import annotations

import functools
import html
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

from dash.exceptions import PreventUpdate
from flask import Flask, current_app, g, jsonify, redirect, request, session

from dashboard.i18n import normalise_lang, t
from wangge.access import Action, Principal, Scope, home, may, may_open
from wangge.demo import is_demo_store
from wangge.store import Store

__all__ = [
    "current_principal",
    "current_scope",
    "current_user",
    "init_auth",
    "may_open_page",
    "page_callback",
    "principal_of",
]

#: Paths served without a session (the login page, static files, the API with its own tokens).
PUBLIC_PREFIXES = (
    "/login",
    "/logout",
    "/assets/",
    "/_dash-component-suites/",
    "/_favicon.ico",
    "/api/v1/health",
    "/api/v1/openapi.json",
)


def _secret_key(data_dir: Path) -> str:
    if os.environ.get("WANGGE_SECRET_KEY"):
        return os.environ["WANGGE_SECRET_KEY"]
    path = Path(data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def current_user() -> dict | None:
    """The signed-in user {username, display_name, role, scope} (for display: the header)."""
    return session.get("user")


def principal_of(identity: Mapping[str, object], store: Store) -> Principal:
    """The :class:`Principal` of a session's user or a token's row. A township principal whose
    township is not one of the store's gets an empty scope (it may then do nothing)."""
    return Principal.from_identity(identity, known_townships=store.township_codes())


def current_principal() -> Principal | None:
    """The principal of this request: made once (by the guard, by the API's ``requires``, or
    here on first use from the session) and kept in ``g.principal``; None when nobody signed
    in."""
    if "principal" not in g:
        user = session.get("user")
        store = current_app.config["WANGGE_STORE"]
        g.principal = principal_of(user, store) if isinstance(user, Mapping) else None
    return g.principal


def current_scope() -> Scope:
    """The scope of this request's principal (nothing when nobody signed in)."""
    principal = current_principal()
    return principal.scope if principal is not None else Scope.nothing()


def may_open_page(path: str) -> bool:
    """Whether this request's principal may open the page at ``path``
    (:func:`wangge.access.may_open`)."""
    return may_open(current_principal(), path)


def page_callback(path: str):
    """Decorator of a page's Dash callbacks: they answer (with data inside the principal's
    scope) only a principal that may open the page at ``path``; anyone else gets no update (a
    wall screen asking the case list's callbacks, a leader of no real township)."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            if not may_open_page(path):
                raise PreventUpdate
            return fn(*args, **kwargs)

        return inner

    return wrap


def _login_page(lang: str, error: str = "", next_url: str = "/") -> str:
    err = f'<p class="login-error">{html.escape(error)}</p>' if error else ""
    badge = (
        f'<p class="demo-badge">{html.escape(t("app.demo_badge", lang))}</p>'
        if is_demo_store(current_app.config["WANGGE_STORE"])
        else ""
    )
    return f"""<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<title>{html.escape(t("login.title", lang))}</title><link rel="stylesheet" href="/assets/wangge.css"></head>
<body class="login-body"><form class="login-box" method="post" action="/login">
<h1>{html.escape(t("app.title", lang))}</h1>{badge}{err}
<label>{html.escape(t("login.username", lang))}<input name="username" id="username" autocomplete="username" required></label>
<label>{html.escape(t("login.password", lang))}<input name="password" id="password" type="password" autocomplete="current-password" required></label>
<input type="hidden" name="next" value="{html.escape(next_url)}"><input type="hidden" name="lang" value="{lang}">
<button type="submit" id="login-submit">{html.escape(t("login.submit", lang))}</button>
<a class="login-lang" href="/login?lang={"en" if lang == "zh" else "zh"}&amp;next={html.escape(next_url)}">{html.escape(t("lang.switch", lang))}</a>
</form></body></html>"""


def _safe_next(url: str | None) -> str:
    """Only same-site paths: never redirect off the server after login."""
    if not url:
        return "/"
    parsed = urlparse(url)
    if parsed.scheme or parsed.netloc or not url.startswith("/") or url.startswith("//"):
        return "/"
    return url


def init_auth(server: Flask, store: Store, data_dir: Path) -> None:
    """Install the session key, the login/logout routes and the guard before every request."""
    server.secret_key = _secret_key(data_dir)
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")

    def login():
        lang = normalise_lang(
            request.values.get("lang"), current_app.config["WANGGE_SETTINGS"].lang
        )
        next_url = _safe_next(request.values.get("next"))
        if request.method == "GET":
            return _login_page(lang, next_url=next_url)
        user = store.check_password(
            request.form.get("username", ""), request.form.get("password", "")
        )
        if user is None:
            return _login_page(lang, t("login.failed", lang), next_url), 401
        session.clear()
        session["user"] = user
        return redirect(next_url)

    def logout():
        session.clear()
        return redirect("/login")

    server.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", logout)

    @server.before_request
    def guard():
        path = request.path
        if path.startswith(PUBLIC_PREFIXES):
            return None
        if path.startswith("/api/v1/") and request.headers.get("Authorization", "").startswith(
            "Bearer "
        ):
            return None  # the API checks its tokens itself
        token = request.args.get("token")
        if token and not path.startswith(("/api/", "/_dash")):
            ident = store.check_token(token)
            screen = principal_of(ident, store) if ident is not None else None
            if may(screen, Action.LINK_SIGN_IN):
                session.clear()
                session["user"] = {
                    "username": screen.name,
                    "display_name": screen.name,
                    "role": screen.role,
                    "scope": screen.township or "",
                }
                g.pop("principal", None)
                return redirect(home(screen) or "/login")
        user = session.get("user")
        if user is None:
            if path.startswith(("/_dash", "/api/")):
                resp = jsonify({"error": "unauthorized", "detail": "sign in first"})
                resp.status_code = 401
                return resp
            query = request.query_string.decode()
            return redirect("/login?next=" + _quote(path + (f"?{query}" if query else "")))
        principal = current_principal()
        landing = home(principal)
        if (
            landing is not None
            and not path.startswith(("/_dash", "/api/v1/"))
            and not may_open(principal, path)
        ):
            return redirect(landing)  # a wall screen opening another page gets the wall
        return None


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")
