"""Login, roles and the township scope, enforced on the server.

Roles
-----
``county``
    Everything in the county.
``township``
    A township leader: only their township (``scope`` = its 12-digit code). Every page layout,
    Dash callback and API answer filters by :func:`scope`; nothing is merely hidden.
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

import html
import os
import secrets
from pathlib import Path
from urllib.parse import urlparse

from flask import Flask, current_app, g, jsonify, redirect, request, session

from dashboard.i18n import normalise_lang, t
from wangge.demo import is_demo_store
from wangge.store import Store

__all__ = ["allowed_page", "current_user", "init_auth", "scope", "within_scope"]

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
#: Pages each role may open (None: all).
ROLE_PAGES: dict[str, set[str] | None] = {
    "county": None,
    "township": None,
    "planner": None,
    "wall": {"/wall"},
}


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
    """The signed-in user {username, display_name, role, scope}, or the API token's identity."""
    token = getattr(g, "token", None)
    if token is not None:
        return {
            "username": token["name"],
            "display_name": token["name"],
            "role": token["role"],
            "scope": token["scope"],
        }
    return session.get("user")


def scope() -> str | None:
    """The township code the current user is bound to, or None for county-wide roles."""
    user = current_user()
    if user and user["role"] == "township":
        return user["scope"]
    return None


def within_scope(code: str | None) -> bool:
    """Whether a township/community/grid code lies inside the current user's township."""
    s = scope()
    return s is None or bool(code) and str(code).startswith(s[:9])


def allowed_page(path: str) -> bool:
    user = current_user()
    if user is None:
        return False
    pages = ROLE_PAGES.get(user["role"], set())
    return pages is None or path in pages


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
            if ident is not None and ident["role"] == "wall":
                session.clear()
                session["user"] = {
                    "username": ident["name"],
                    "display_name": ident["name"],
                    "role": "wall",
                    "scope": "",
                }
                return redirect("/wall")
        user = session.get("user")
        if user is None:
            if path.startswith(("/_dash", "/api/")):
                resp = jsonify({"error": "unauthorized", "detail": "sign in first"})
                resp.status_code = 401
                return resp
            query = request.query_string.decode()
            return redirect("/login?next=" + _quote(path + (f"?{query}" if query else "")))
        if user["role"] == "wall" and not path.startswith(("/_dash", "/api/v1/", "/wall")):
            return redirect("/wall")
        return None


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")
