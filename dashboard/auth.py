"""Sign-in, sessions, and the principal of every request, made here once.

The guard before every request turns the request's identity into a
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
    The read-only wall display: only ``/wall`` and its aggregates. A wall screen signs in once
    with ``/wall?token=...`` (an API token of role ``wall``, ``wangge token create --role
    wall``); the token is then dropped from the address bar and a cookie of its own carries on.

Sessions
--------
Sessions live on the server (:mod:`wangge.store.users`): the cookie ``wangge_session`` carries
a random id only, and the session ends at sign-out, after 12 idle hours, and when the user's
password, role or scope changes (``wangge user ...``). A wall screen's session has its own
cookie, ``wangge_wall``: opening the wall's link in an operator's browser signs the wall in
beside the operator, never in the operator's place. A request from the wall page (its address,
or for its callbacks and layers the ``Referer``) is answered as the wall screen; any other as
the operator. Both cookies are ``HttpOnly`` and ``SameSite=Lax``, and ``Secure`` with
``WANGGE_SECURE_COOKIES=1``.

Sign-in is throttled per user name and per address (:meth:`wangge.store.Store.sign_in_lock`):
after repeated failures the name or address is locked for a time that grows with each further
failure, and the answer (HTTP 429) says how long in the page's language. Failures are logged
with the name and address, never the password. An unknown name costs the same password hash
as a known one.

The language (``?lang=en``) is kept through sign-in and through the wall's link.
"""

from __future__ import annotations

import functools
import html
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlparse

from dash.exceptions import PreventUpdate
from flask import Flask, Response, current_app, g, jsonify, redirect, request, session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from dashboard.i18n import normalise_lang, t
from dashboard.title import county_title
from wangge.access import Action, Principal, Scope, home, may, may_open
from wangge.demo import is_demo_store
from wangge.settings import Settings
from wangge.store import Store
from wangge.store.users import FREE_FAILURES, FREE_FAILURES_PER_ADDRESS

__all__ = [
    "SESSION_COOKIE",
    "WALL_COOKIE",
    "ServerSessionInterface",
    "current_principal",
    "current_scope",
    "current_user",
    "init_auth",
    "may_open_page",
    "page_callback",
    "principal_of",
]

log = logging.getLogger(__name__)

#: The operator's session cookie and the wall screen's (random ids; the sessions live on the
#: server).
SESSION_COOKIE = "wangge_session"
WALL_COOKIE = "wangge_wall"

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
    """``$WANGGE_SECRET_KEY``, or the key kept in ``data_dir/secret_key`` (created 0600; a key
    file readable by others is made 0600 again)."""
    if os.environ.get("WANGGE_SECRET_KEY"):
        return os.environ["WANGGE_SECRET_KEY"]
    path = Path(data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    elif path.stat().st_mode & 0o077:
        log.warning("%s was readable by others: made readable by its owner only", path)
        path.chmod(0o600)
    return path.read_text().strip()


class ServerSession(CallbackDict, SessionMixin):
    """A session whose data live in the store; ``sid`` is the cookie's random id ("" for a
    new one). ``rotate`` asks for a new id when it is saved (after sign-in)."""

    def __init__(self, initial: Mapping | None = None, sid: str = ""):
        def on_update(_self) -> None:
            _self.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.rotate = False
        self.modified = False


class ServerSessionInterface(SessionInterface):
    """Flask sessions kept in the store's ``sessions`` table; the cookie carries the id only."""

    def __init__(self, store: Store):
        self.store = store

    def open_session(self, app: Flask, request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app), "")
        data = self.store.session(sid) if sid else None
        return ServerSession(data, sid) if data is not None else ServerSession()

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        name = self.get_cookie_name(app)
        if not session.modified:
            return
        if not session:  # cleared: sign-out
            if session.sid:
                self.store.end_session(session.sid)
            response.delete_cookie(name, path="/")
            return
        if session.sid and not session.rotate:
            if not self.store.save_session(session.sid, dict(session)):
                response.delete_cookie(name, path="/")  # ended meanwhile: never revived
            return
        if session.sid:
            self.store.end_session(session.sid)
        _set_cookie(response, name, self.store.create_session(dict(session)))


def _set_cookie(response: Response, name: str, sid: str) -> None:
    response.set_cookie(
        name,
        sid,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        path="/",
    )


def _on_wall_page() -> bool:
    """Whether the request is the wall page's: its address, or (its callbacks and layers) the
    page that asks."""
    if request.path == "/wall":
        return True
    referer = request.headers.get("Referer")
    return bool(referer) and urlparse(referer).path == "/wall"


def _wall_identity() -> dict | None:
    if "wall_identity" not in g:
        sid = request.cookies.get(WALL_COOKIE, "")
        store = current_app.config["WANGGE_STORE"]
        data = store.session(sid, kind="wall") if sid else None
        g.wall_identity = data.get("user") if isinstance(data, Mapping) else None
    return g.wall_identity


def _identity() -> dict | None:
    """Who asks: the wall screen on the wall page (when one signed in here), else the signed-in
    operator, else the wall screen; None for nobody."""
    if "identity" not in g:
        user = session.get("user")
        user = user if isinstance(user, Mapping) else None
        wall = _wall_identity()
        g.identity = (wall or user) if _on_wall_page() else (user or wall)
    return g.identity


def current_user() -> dict | None:
    """The signed-in user {username, display_name, role, scope} (for display: the header)."""
    return _identity()


def principal_of(identity: Mapping[str, object], store: Store) -> Principal:
    """The :class:`Principal` of a session's user or a token's row. A township principal whose
    township is not one of the store's gets an empty scope (it may then do nothing)."""
    return Principal.from_identity(identity, known_townships=store.township_codes())


def current_principal() -> Principal | None:
    """The principal of this request: made once (by the guard, by the API's ``requires``, or
    here on first use from the session) and kept in ``g.principal``; None when nobody signed
    in."""
    if "principal" not in g:
        identity = _identity()
        store = current_app.config["WANGGE_STORE"]
        g.principal = principal_of(identity, store) if identity is not None else None
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
<h1>{html.escape(county_title(lang))}</h1>{badge}{err}
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


def _lang_in(url: str) -> str | None:
    """The ``lang`` of a same-site address's query, if any."""
    return (parse_qs(urlparse(url).query).get("lang") or [None])[0]


def _with_lang(url: str, lang: str | None) -> str:
    """``url`` with ``lang=`` added unless it has one or ``lang`` is None."""
    if lang is None or _lang_in(url) is not None:
        return url
    return url + ("&" if "?" in url else "?") + urlencode({"lang": lang})


def _sign_in_keys(username: str) -> dict[str, int]:
    """The sign-in lock's keys of this attempt -> the failures each may have free."""
    return {
        f"user:{username}": FREE_FAILURES,
        f"addr:{request.remote_addr or ''}": FREE_FAILURES_PER_ADDRESS,
    }


def _login(store: Store):
    settings: Settings = current_app.config["WANGGE_SETTINGS"]
    next_url = _safe_next(request.values.get("next"))
    lang = normalise_lang(request.values.get("lang") or _lang_in(next_url), settings.lang)
    if request.method == "GET":
        return _login_page(lang, next_url=next_url)
    username = request.form.get("username", "")
    keys = _sign_in_keys(username)
    wait = store.sign_in_lock(list(keys))
    if wait:
        log.warning(
            "sign-in of %r from %s refused: locked %d s", username[:64], request.remote_addr, wait
        )
        page = _login_page(lang, t("login.locked", lang, seconds=wait), next_url)
        return page, 429, {"Retry-After": str(wait)}
    user = store.check_password(username, request.form.get("password", ""))
    if user is None:
        store.record_sign_in_failure(keys)
        log.warning("failed sign-in of %r from %s", username[:64], request.remote_addr)
        return _login_page(lang, t("login.failed", lang), next_url), 401
    store.clear_sign_in_failures([next(iter(keys))])
    session.clear()
    session["user"] = user
    session.rotate = True  # a new id: a session id planted before sign-in is worth nothing
    log.info("%r signed in from %s", username[:64], request.remote_addr)
    return redirect(_with_lang(next_url, None if lang == settings.lang else lang))


def _logout(store: Store):
    """End the operator's session (or, in a browser with none, the wall screen's)."""
    lang = _lang_in(request.full_path)
    resp = redirect(_with_lang("/login", normalise_lang(lang) if lang else None))
    if session.get("user") is not None or not request.cookies.get(WALL_COOKIE):
        session.clear()
    else:
        store.end_session(request.cookies[WALL_COOKIE])
        resp.delete_cookie(WALL_COOKIE, path="/")
    return resp


def _wall_sign_in(store: Store) -> Response | None:
    """``?token=`` of a page's address: a wall screen signs in (in its own session, beside any
    operator's) and lands on its page, language kept; None when the token is no wall's."""
    token = request.args.get("token", "")
    ident = store.check_token(token)
    screen = principal_of(ident, store) if ident is not None else None
    if not may(screen, Action.LINK_SIGN_IN):
        return None
    old = request.cookies.get(WALL_COOKIE)
    if old:
        store.end_session(old)
    identity = {
        "username": screen.name,
        "display_name": screen.name,
        "role": screen.role,
        "scope": screen.township or "",
    }
    sid = store.create_session({"user": identity}, kind="wall", token=token)
    lang = request.args.get("lang")
    resp = redirect(_with_lang(home(screen) or "/login", normalise_lang(lang) if lang else None))
    _set_cookie(resp, WALL_COOKIE, sid)
    return resp


def init_auth(server: Flask, store: Store, data_dir: Path) -> None:
    """Install the sessions, the login/logout routes and the guard before every request."""
    server.secret_key = _secret_key(data_dir)
    settings: Settings = server.config["WANGGE_SETTINGS"]
    server.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
    )
    server.session_interface = ServerSessionInterface(store)
    server.add_url_rule(
        "/login", "login", functools.partial(_login, store), methods=["GET", "POST"]
    )
    server.add_url_rule("/logout", "logout", functools.partial(_logout, store))

    @server.before_request
    def guard():
        path = request.path
        if path.startswith(PUBLIC_PREFIXES):
            return None
        if path.startswith("/api/v1/") and request.headers.get("Authorization", "").startswith(
            "Bearer "
        ):
            return None  # the API checks its tokens itself
        if request.args.get("token") and not path.startswith(("/api/", "/_dash")):
            signed_in = _wall_sign_in(store)
            if signed_in is not None:
                return signed_in
        if _identity() is None:
            if path.startswith(("/_dash", "/api/")):
                resp = jsonify({"error": "unauthorized", "detail": "sign in first"})
                resp.status_code = 401
                return resp
            query = request.query_string.decode()
            return redirect("/login?next=" + quote(path + (f"?{query}" if query else ""), safe=""))
        principal = current_principal()
        landing = home(principal)
        if (
            landing is not None
            and not path.startswith(("/_dash", "/api/v1/"))
            and not may_open(principal, path)
        ):
            return redirect(landing)  # a wall screen opening another page gets the wall
        return None
