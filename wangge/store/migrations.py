"""The numbered migrations that build and upgrade the schema (:mod:`wangge.store.schema`).

Migrations are numbered; :func:`migrate` applies the ones a database lacks in one transaction
and records each in ``schema_migrations(version, name, applied_at)``. A database newer than
this program (a higher recorded version than :data:`SCHEMA_VERSION`) is refused.

| version | adds |
| --- | --- |
| 1 | the initial schema (:data:`wangge.store.schema.INITIAL_SCHEMA`) |
| 2 | ``api_tokens`` |
| 3 | ``users`` |
| 4 | the index of patrol fixes by time |
| 5 | ``cases.h3_7`` ... ``cases.h3_10``, filled in for older rows |
| 6 | the demo feed's meta keys for demo stores set up before the feed existed |
| 7 | ``grid_versions.author``: who made a grid version (``wangge grids``, the planner) |
| 8 | ``sessions`` (server-side sign-in sessions) and ``sign_in_failures`` (the sign-in lock) |
| 9 | ``case_id_counters`` (the last sequence number of case ids per day), filled in from the
  stored ids; repairs of rows that older versions let in (:func:`repair_bad_rows`) |
| 10 | cases' ``address``, ``urgency``, ``assignee``, ``version``, ``seen_at``; events' ``action``, ``assignee`` |
| 11 | the planner: ``grid_versions.parent_id/summary/publish_reason``, ``grid_moves``,
``audit_log``, ``community_cells``, ``planner_autosave`` |
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from wangge import clock
from wangge.casework import deadline_for
from wangge.store.errors import StoreError
from wangge.store.schema import INITIAL_SCHEMA, PLANNER_SCHEMA, h3_cells

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Migration",
    "migrate",
    "repair_bad_rows",
    "schema_version",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    """One step of the schema: its number, a short name and its SQL script."""

    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", INITIAL_SCHEMA),
    Migration(
        2,
        "API tokens",
        """
        CREATE TABLE api_tokens (
            token_sha256 TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        """,
    ),
    Migration(
        3,
        "users",
        """
        CREATE TABLE users (
            username TEXT PRIMARY KEY,
            display_name TEXT NOT NULL DEFAULT '',
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('county', 'township', 'planner', 'wall')),
            scope TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0
        );
        """,
    ),
    Migration(
        4,
        "patrol fixes by time",
        """
        CREATE INDEX patrol_points_at ON patrol_points(at);
        """,
    ),
    Migration(
        5,
        "H3 cells of cases",
        """
        ALTER TABLE cases ADD COLUMN h3_7 TEXT;
        ALTER TABLE cases ADD COLUMN h3_8 TEXT;
        ALTER TABLE cases ADD COLUMN h3_9 TEXT;
        ALTER TABLE cases ADD COLUMN h3_10 TEXT;
        CREATE INDEX cases_reported_h3 ON cases(reported_at, h3_9);
        """,
    ),
    Migration(
        6,
        "demo feed bookkeeping",
        # stores set up as the demo before the live feed existed: mark them as the demo
        # (ensure_demo wrote demo_simulated) and take the newest simulated time as the point
        # where the simulation ended and the feed starts
        """
        INSERT OR IGNORE INTO meta (key, value)
            SELECT 'demo_county', value FROM meta WHERE key = 'demo_simulated';
        INSERT OR IGNORE INTO meta (key, value)
            SELECT 'demo_simulated_until', t FROM (
                SELECT MAX(t) AS t FROM (
                    SELECT MAX(reported_at) AS t FROM cases WHERE client_id LIKE 'sim:%'
                    UNION ALL SELECT MAX(at) FROM patrol_points
                    UNION ALL SELECT MAX(last_heartbeat) FROM cameras))
            WHERE t IS NOT NULL AND EXISTS (SELECT 1 FROM meta WHERE key = 'demo_simulated');
        INSERT OR IGNORE INTO meta (key, value)
            SELECT 'demo_fed_until', value FROM meta WHERE key = 'demo_simulated_until';
        """,
    ),
    Migration(
        7,
        "grid version authors",
        """
        ALTER TABLE grid_versions ADD COLUMN author TEXT NOT NULL DEFAULT '';
        """,
    ),
    Migration(
        8,
        "server-side sessions and the sign-in lock",
        """
        CREATE TABLE sessions (
            session_sha256 TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('user', 'wall')),
            username TEXT NOT NULL DEFAULT '',
            token_sha256 TEXT NOT NULL DEFAULT '',
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE INDEX sessions_username ON sessions(username);
        CREATE INDEX sessions_token ON sessions(token_sha256);
        CREATE TABLE sign_in_failures (
            key TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            last_failure_at TEXT NOT NULL,
            locked_until TEXT
        );
        """,
    ),
    Migration(
        9,
        "case id counters, repair of bad times and camera values",
        # the sequence numbers compared as numbers: past 99,999 a day a string maximum is wrong
        """
        CREATE TABLE case_id_counters (
            day TEXT PRIMARY KEY,
            last INTEGER NOT NULL
        );
        INSERT INTO case_id_counters (day, last)
            SELECT substr(case_id, 2, 8), MAX(CAST(substr(case_id, 11) AS INTEGER)) FROM cases
            WHERE case_id GLOB 'C[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-[0-9]*'
            GROUP BY substr(case_id, 2, 8);
        """,
    ),
    Migration(
        10,
        "case address, urgency, assignee, version",
        """
        ALTER TABLE cases ADD COLUMN address TEXT NOT NULL DEFAULT '';
        ALTER TABLE cases ADD COLUMN urgency TEXT NOT NULL DEFAULT 'normal'
            CHECK (urgency IN ('normal', 'urgent'));
        ALTER TABLE cases ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
        ALTER TABLE cases ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE cases ADD COLUMN seen_at TEXT;
        ALTER TABLE case_events ADD COLUMN action TEXT NOT NULL DEFAULT '';
        ALTER TABLE case_events ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
        CREATE INDEX cases_urgent_open ON cases(reported_at)
            WHERE urgency = 'urgent' AND closed_at IS NULL;
        CREATE INDEX cases_open_deadline ON cases(closed_at, deadline_at);
        """,
    ),
    Migration(11, "the planner: drafts, moves, audit log", PLANNER_SCHEMA),
    # the map's case layers (case_bins, case_points: a window of reported_at, a category or
    # status, the overdue judgement, the H3 cells and coordinates) read from this index alone,
    # without a look-up of each row in the table: 90 days of 208,953 cases binned in 220-300
    # instead of 600-930 ms, a 30-day category in 42 instead of 74 ms (benchmarks/callbacks.py
    # --sql, EXPLAIN QUERY PLAN: SEARCH cases USING COVERING INDEX cases_map)
    Migration(
        12,
        "covering index of the map's case layers",
        """
        CREATE INDEX cases_map ON cases(reported_at, category, status, township_code,
            closed_at, deadline_at, lon, lat, h3_7, h3_8, h3_9, h3_10, case_id);
        """,
    ),
)

#: The newest schema version this program knows.
SCHEMA_VERSION = MIGRATIONS[-1].version


def schema_version(con: sqlite3.Connection) -> int:
    """The newest migration applied to the database of ``con``, 0 for a new database."""
    exists = con.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
    ).fetchone()
    if not exists:
        return 0
    row = con.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def migrate(con: sqlite3.Connection, path: Path, *, upto: int | None = None) -> int:
    """Apply the migrations the database lacks inside the caller's transaction.

    Returns the resulting schema version; StoreError when the database (at ``path``, named in
    the message) is newer than this program. ``upto`` stops after that version (tests build
    an older database with it to check an upgrade).
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    done = {r[0] for r in con.execute("SELECT version FROM schema_migrations")}
    newer = max(done, default=0)
    if newer > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: the database has schema version {newer}, newer than this "
            f"program's {SCHEMA_VERSION}; upgrade wangge before opening it"
        )
    for m in MIGRATIONS:
        if m.version in done or (upto is not None and m.version > upto):
            continue
        log.info("applying migration %d (%s) to %s", m.version, m.name, path)
        for statement in _statements(m.sql):
            con.execute(statement)
        con.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, ?)",
            (m.version, m.name, clock.utc_now()),
        )
        if m.version == 5:
            _backfill_h3(con)
        if m.version == 9:
            repair_bad_rows(con)
    return schema_version(con)


def _backfill_h3(con: sqlite3.Connection) -> None:
    rows = con.execute("SELECT case_id, lon, lat FROM cases WHERE h3_10 IS NULL").fetchall()
    con.executemany(
        "UPDATE cases SET h3_7 = ?, h3_8 = ?, h3_9 = ?, h3_10 = ? WHERE case_id = ?",
        [(*h3_cells(r[1], r[2]).values(), r[0]) for r in rows],
    )


def _statements(sql: str) -> list[str]:
    """Split a migration script into statements (no semicolons inside our literals)."""
    return [s.strip() for s in sql.split(";") if s.strip()]


#: SQL: the stamp in column ``{c}`` is not one the store accepts now (not the stamp format, before
#: 2000-01-01 or more than a day after the parameter ``:ahead``).
_BAD_TIME = (
    "NOT ({c} GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z' "
    "AND {c} >= '2000-01-01T00:00:00Z' AND {c} <= :ahead)"
)


def repair_bad_rows(con: sqlite3.Connection) -> dict[str, int]:
    """Repair rows that versions before 9 stored without the checks of
    :mod:`wangge.validation`; returns how many rows of each kind were repaired (also logged).

    - a case's report time out of range: the earliest good time of its history, else now; its
      deadline follows;
    - a status change whose time is out of range or before the case's report: the report time,
      with ``[time repaired: was ...]`` added to its comment; a closed case's ``closed_at``
      follows its closing change;
    - GPS fixes with a time out of range are deleted; a camera's heartbeat time out of range is
      cleared; negative or zero field of view, range, mount height and accuracy take the
      defaults (90 degrees, 50 m, 4 m, unknown).
    """
    ahead = clock.stamp(clock.parse_stamp(clock.utc_now()) + clock.MAX_AHEAD)
    args = {"ahead": ahead}
    done: dict[str, int] = {}
    bad_cases = con.execute(
        f"SELECT case_id, category FROM cases WHERE {_BAD_TIME.format(c='reported_at')}", args
    ).fetchall()
    for case_id, category in bad_cases:
        first = con.execute(
            f"SELECT MIN(at) FROM case_events WHERE case_id = :id AND NOT {_BAD_TIME.format(c='at')}",
            {**args, "id": case_id},
        ).fetchone()[0]
        reported = first or clock.utc_now()
        con.execute(
            "UPDATE cases SET reported_at = ?, deadline_at = ? WHERE case_id = ?",
            (reported, deadline_for(category, reported), case_id),
        )
    done["case report times"] = len(bad_cases)
    done["case deadlines"] = con.execute(
        f"UPDATE cases SET deadline_at = reported_at WHERE {_BAD_TIME.format(c='deadline_at')}",
        args,
    ).rowcount
    done["status change times"] = con.execute(
        "UPDATE case_events SET "
        "comment = trim(comment || ' [time repaired: was ' || at || ']'), "
        "at = (SELECT c.reported_at FROM cases c WHERE c.case_id = case_events.case_id) "
        f"WHERE {_BAD_TIME.format(c='at')} OR at < "
        "(SELECT c.reported_at FROM cases c WHERE c.case_id = case_events.case_id)",
        args,
    ).rowcount
    done["closing times"] = con.execute(
        "UPDATE cases SET closed_at = (SELECT MAX(e.at) FROM case_events e "
        "WHERE e.case_id = cases.case_id AND e.to_status = 'closed') "
        f"WHERE closed_at IS NOT NULL AND ({_BAD_TIME.format(c='closed_at')} "
        "OR closed_at < reported_at)",
        args,
    ).rowcount
    done["GPS fixes deleted"] = con.execute(
        f"DELETE FROM patrol_points WHERE {_BAD_TIME.format(c='at')}", args
    ).rowcount
    done["heartbeats deleted"] = con.execute(
        f"DELETE FROM camera_heartbeats WHERE {_BAD_TIME.format(c='at')}", args
    ).rowcount
    done["heartbeat times"] = con.execute(
        "UPDATE cameras SET last_heartbeat = NULL WHERE last_heartbeat IS NOT NULL AND "
        + _BAD_TIME.format(c="last_heartbeat"),
        args,
    ).rowcount
    done["camera values"] = con.execute(
        "UPDATE cameras SET fov = CASE WHEN fov < 1 OR fov > 360 THEN 90 ELSE fov END, "
        "range_m = CASE WHEN range_m < 1 OR range_m > 1000 THEN 50 ELSE range_m END, "
        "mount_height = CASE WHEN mount_height < 0 OR mount_height > 200 THEN 4 "
        "ELSE mount_height END "
        "WHERE fov < 1 OR fov > 360 OR range_m < 1 OR range_m > 1000 "
        "OR mount_height < 0 OR mount_height > 200"
    ).rowcount
    done["GPS accuracies"] = con.execute(
        "UPDATE patrol_points SET accuracy = NULL WHERE accuracy < 0"
    ).rowcount
    for what, n in done.items():
        if n:
            log.warning("migration 9 repaired %d %s", n, what)
    return done
