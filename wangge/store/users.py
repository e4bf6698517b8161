"""Dashboard users with their passwords, their sessions, the sign-in lock, and the bearer
tokens of API clients.

Passwords are stored as salted scrypt hashes only, tokens and session ids as their SHA-256 only:
none can be read back from the store. What a user or token may see follows from its ``role`` and
``scope``.

Sessions live here, not in the cookie: the cookie carries a random id, so a session can end on
the server. It ends at sign-out, when it has been idle too long (:data:`SESSION_IDLE`), and for
every session of a user whose password, role or scope changes (:meth:`UserStore.create_user`,
:meth:`UserStore.set_password`, :meth:`UserStore.set_role`, :meth:`UserStore.disable_user`)
or whose wall token is revoked.

Failed sign-ins are counted per user name and per address (:meth:`UserStore.sign_in_lock`,
:meth:`UserStore.record_sign_in_failure`): from the :data:`FREE_FAILURES`-th failure on, the key
is locked for :data:`FIRST_LOCK` seconds, doubling with each further failure up to
:data:`LONGEST_LOCK`; a success clears the user's count. A user name that does not exist costs
the same scrypt hash as one that does (:meth:`UserStore.check_password`), so the answer time
does not tell which names exist.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta

import pandas as pd

from wangge import clock
from wangge.store.db import Database
from wangge.store.errors import StoreError

__all__ = [
    "FIRST_LOCK",
    "FREE_FAILURES",
    "FREE_FAILURES_PER_ADDRESS",
    "LONGEST_LOCK",
    "SESSION_IDLE",
    "USER_ROLES",
    "UserStore",
]

#: Roles of dashboard users: ``county`` (everything), ``township`` (``scope`` = their township
#: code), ``planner`` or ``wall`` (read-only display).
USER_ROLES = ("county", "township", "planner", "wall")

#: A session ends after this long without a request: an operator's, a wall screen's.
SESSION_IDLE = {"user": timedelta(hours=12), "wall": timedelta(days=30)}
#: A session's last use is written at most this often (not on every request).
_SEEN_EVERY = timedelta(minutes=1)
#: Failed sign-ins of one user name answered without a lock; the next ones lock it.
FREE_FAILURES = 5
#: The same for one address (several people may sign in from one office).
FREE_FAILURES_PER_ADDRESS = 20
#: Seconds of the first lock; each further failure doubles it, up to LONGEST_LOCK.
FIRST_LOCK = 30
LONGEST_LOCK = 15 * 60
#: A count of failures is forgotten after this long without a new failure.
_FORGET_FAILURES = timedelta(hours=1)
#: Hashed for an unknown user name, so that it takes as long as a known one.
_DUMMY_HASH = "scrypt$" + "00" * 16 + "$" + "00" * 64


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
            # replacing a user (its password, role or scope) ends every session it had
            con.execute("DELETE FROM sessions WHERE kind = 'user' AND username = ?", (username,))

    def check_password(self, username: str, password: str) -> dict | None:
        """The user {username, display_name, role, scope} when the password is right, else None."""
        with self.connect() as con:
            row = con.execute(
                "SELECT username, display_name, password_hash, role, scope FROM users "
                "WHERE username = ? AND disabled = 0",
                (username,),
            ).fetchone()
        # an unknown name hashes a dummy password: the answer takes as long as for a known one
        right = _verify_password(password, row["password_hash"] if row else _DUMMY_HASH)
        if row is None or not right:
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
        """Revoke ``token``; the wall screens it signed in are signed out."""
        with self.transaction() as con:
            cur = con.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE token_sha256 = ? AND revoked_at IS NULL",
                (clock.utc_now(), _sha256(token)),
            )
            con.execute("DELETE FROM sessions WHERE token_sha256 = ?", (_sha256(token),))
        return cur.rowcount > 0

    # -- changes that end sessions -------------------------------------------------------

    def _change_user(self, username: str, sql: str, args: tuple) -> None:
        with self.transaction() as con:
            cur = con.execute(sql, (*args, username))
            if cur.rowcount == 0:
                raise StoreError(f"user {username!r} does not exist")
            con.execute("DELETE FROM sessions WHERE kind = 'user' AND username = ?", (username,))

    def set_password(self, username: str, password: str) -> None:
        """Change a user's password; every session of the user ends."""
        if len(password) < 8:
            raise StoreError("passwords need at least 8 characters")
        self._change_user(
            username,
            "UPDATE users SET password_hash = ? WHERE username = ?",
            (_hash_password(password),),
        )

    def set_role(self, username: str, role: str, *, scope: str = "") -> None:
        """Change a user's role and township scope; every session of the user ends."""
        if role not in USER_ROLES:
            raise StoreError(f"role {role!r}: expected one of {list(USER_ROLES)}")
        if role == "township" and not scope:
            raise StoreError("a township user needs the township code as scope")
        self._change_user(
            username, "UPDATE users SET role = ?, scope = ? WHERE username = ?", (role, scope)
        )

    def disable_user(self, username: str) -> None:
        """Stop a user from signing in; every session of the user ends."""
        self._change_user(username, "UPDATE users SET disabled = 1 WHERE username = ?", ())

    # -- sessions --------------------------------------------------------------------------

    def create_session(
        self, data: dict, *, kind: str = "user", token: str = "", now: datetime | None = None
    ) -> str:
        """A new session holding ``data`` (JSON): its random id, returned once (the cookie's
        value; only its hash is stored). ``kind`` ``wall`` is a wall screen signed in by
        ``token``; ``user`` sessions belong to ``data["user"]["username"]``."""
        now = now or datetime.now(UTC)
        sid = secrets.token_urlsafe(32)
        user = data.get("user") if kind == "user" else None
        username = str(user.get("username", "")) if isinstance(user, dict) else ""
        with self.transaction() as con:
            con.execute("DELETE FROM sessions WHERE expires_at <= ?", (clock.stamp(now),))
            con.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _sha256(sid),
                    kind,
                    username,
                    _sha256(token) if token else "",
                    json.dumps(data, ensure_ascii=False),
                    clock.stamp(now),
                    clock.stamp(now),
                    clock.stamp(now + SESSION_IDLE[kind]),
                ),
            )
        return sid

    def session(self, sid: str, *, kind: str = "user", now: datetime | None = None) -> dict | None:
        """The data of the live session ``sid`` of ``kind``, or None (unknown, ended, expired).
        Using it moves its expiry on (written at most once a minute)."""
        if not sid:
            return None
        now = now or datetime.now(UTC)
        key = _sha256(sid)
        with self.connect() as con:
            row = con.execute(
                "SELECT data, seen_at, expires_at FROM sessions "
                "WHERE session_sha256 = ? AND kind = ?",
                (key, kind),
            ).fetchone()
        if row is None or row["expires_at"] <= clock.stamp(now):
            return None
        if clock.parse_stamp(row["seen_at"]) + _SEEN_EVERY <= now:
            with self.transaction() as con:
                con.execute(
                    "UPDATE sessions SET seen_at = ?, expires_at = ? WHERE session_sha256 = ?",
                    (clock.stamp(now), clock.stamp(now + SESSION_IDLE[kind]), key),
                )
        return json.loads(row["data"])

    def save_session(self, sid: str, data: dict) -> bool:
        """Replace the data of session ``sid``; False when it no longer exists."""
        with self.transaction() as con:
            cur = con.execute(
                "UPDATE sessions SET data = ? WHERE session_sha256 = ?",
                (json.dumps(data, ensure_ascii=False), _sha256(sid)),
            )
        return cur.rowcount > 0

    def end_session(self, sid: str) -> None:
        """End session ``sid`` (sign-out)."""
        with self.transaction() as con:
            con.execute("DELETE FROM sessions WHERE session_sha256 = ?", (_sha256(sid),))

    def end_sessions(self, username: str) -> int:
        """End every session of ``username``; how many there were."""
        with self.transaction() as con:
            cur = con.execute(
                "DELETE FROM sessions WHERE kind = 'user' AND username = ?", (username,)
            )
        return cur.rowcount

    # -- the sign-in lock ------------------------------------------------------------------

    def sign_in_lock(self, keys: list[str], *, now: datetime | None = None) -> int:
        """Seconds until the most locked of ``keys`` (``user:NAME``, ``addr:IP``) may try
        again; 0 when none is locked."""
        now = now or datetime.now(UTC)
        marks = ",".join("?" * len(keys))
        with self.connect() as con:
            rows = con.execute(
                f"SELECT locked_until FROM sign_in_failures WHERE key IN ({marks}) "
                "AND locked_until IS NOT NULL",
                keys,
            ).fetchall()
        waits = [(clock.parse_stamp(r[0]) - now).total_seconds() for r in rows]
        return max([int(w) + 1 for w in waits if w > 0], default=0)

    def record_sign_in_failure(self, keys: dict[str, int], *, now: datetime | None = None) -> None:
        """Count a failed sign-in against each key (-> the failures it may have free): from
        the free ones on, the key is locked for FIRST_LOCK seconds, doubling each time."""
        now = now or datetime.now(UTC)
        forget = clock.stamp(now - _FORGET_FAILURES)
        with self.transaction() as con:
            con.execute(  # counts forgotten and locks over: nothing to keep
                "DELETE FROM sign_in_failures WHERE last_failure_at < ? "
                "AND (locked_until IS NULL OR locked_until < ?)",
                (forget, clock.stamp(now)),
            )
            for key, free in keys.items():
                row = con.execute(
                    "SELECT failures, last_failure_at FROM sign_in_failures WHERE key = ?", (key,)
                ).fetchone()
                failures = 1 if row is None or row[1] < forget else row[0] + 1
                locked = None
                if failures >= free:
                    seconds = min(FIRST_LOCK * 2 ** (failures - free), LONGEST_LOCK)
                    locked = clock.stamp(now + timedelta(seconds=seconds))
                con.execute(
                    "INSERT INTO sign_in_failures VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE "
                    "SET failures = excluded.failures, last_failure_at = excluded.last_failure_at, "
                    "locked_until = excluded.locked_until",
                    (key, failures, clock.stamp(now), locked),
                )

    def clear_sign_in_failures(self, keys: list[str]) -> None:
        """Forget the failures of ``keys`` (after a successful sign-in)."""
        with self.transaction() as con:
            con.executemany("DELETE FROM sign_in_failures WHERE key = ?", [(k,) for k in keys])


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
