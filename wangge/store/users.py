"""Dashboard users with their passwords, and the bearer tokens of API clients.

Passwords are stored as salted scrypt hashes only, tokens as their SHA-256 only: neither can be
read back from the store. What a user or token may see follows from its ``role`` and ``scope``.
"""

from __future__ import annotations

import hashlib
import secrets

import pandas as pd

from wangge import clock
from wangge.store.db import Database
from wangge.store.errors import StoreError

__all__ = ["USER_ROLES", "UserStore"]

#: Roles of dashboard users: ``county`` (everything), ``township`` (``scope`` = their township
#: code), ``planner`` or ``wall`` (read-only display).
USER_ROLES = ("county", "township", "planner", "wall")


class UserStore(Database):
    """Users and API tokens (see :class:`wangge.store.Store`)."""

    def create_user(
        self, username: str, password: str, role: str, *, scope: str = "", display_name: str = ""
    ) -> None:
        """Add or replace a dashboard user (the password is stored as a salted scrypt hash)."""
        if role not in USER_ROLES:
            raise StoreError(f"role {role!r}: expected one of {list(USER_ROLES)}")
        if role == "township" and not scope:
            raise StoreError("a township user needs the township code as scope")
        if len(password) < 8:
            raise StoreError("passwords need at least 8 characters")
        with self.transaction() as con:
            con.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT(username) DO UPDATE SET "
                "display_name = excluded.display_name, password_hash = excluded.password_hash, "
                "role = excluded.role, scope = excluded.scope, disabled = 0",
                (
                    username,
                    display_name or username,
                    _hash_password(password),
                    role,
                    scope,
                    clock.utc_now(),
                ),
            )

    def check_password(self, username: str, password: str) -> dict | None:
        """The user {username, display_name, role, scope} when the password is right, else None."""
        with self.connect() as con:
            row = con.execute(
                "SELECT username, display_name, password_hash, role, scope FROM users "
                "WHERE username = ? AND disabled = 0",
                (username,),
            ).fetchone()
        if row is None or not _verify_password(password, row["password_hash"]):
            return None
        return {k: row[k] for k in ("username", "display_name", "role", "scope")}

    def users(self) -> pd.DataFrame:
        with self.connect() as con:
            rows = con.execute(
                "SELECT username, display_name, role, scope, disabled FROM users ORDER BY username"
            ).fetchall()
        return pd.DataFrame(
            [tuple(r) for r in rows],
            columns=["username", "display_name", "role", "scope", "disabled"],
        )

    def create_token(
        self, name: str, role: str, *, scope: str = "", token: str | None = None
    ) -> str:
        """A new bearer token for ``role`` (returned once; only its hash is stored). ``token``
        sets its value (the demo county's published wall token); by default it is random."""
        token = token or secrets.token_urlsafe(32)
        with self.transaction() as con:
            con.execute(
                "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, NULL)",
                (_sha256(token), name, role, scope, clock.utc_now()),
            )
        return token

    def check_token(self, token: str) -> dict | None:
        """The token's {name, role, scope} if it exists and is not revoked, else None."""
        with self.connect() as con:
            row = con.execute(
                "SELECT name, role, scope FROM api_tokens WHERE token_sha256 = ? AND revoked_at IS NULL",
                (_sha256(token),),
            ).fetchone()
        return dict(row) if row else None

    def revoke_token(self, token: str) -> bool:
        with self.transaction() as con:
            cur = con.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE token_sha256 = ? AND revoked_at IS NULL",
                (clock.utc_now(), _sha256(token)),
            )
        return cur.rowcount > 0


def _hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _verify_password(password: str, stored: str) -> bool:
    try:
        kind, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return secrets.compare_digest(got.hex(), digest)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
