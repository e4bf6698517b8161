"""The schema of the store: its tables, what their columns mean, and the column lists the
aggregates share. The numbered migrations that build it are in :mod:`wangge.store.migrations`.

Geometry
--------
Geometries are stored as WKB in EPSG:4326 (lon/lat), with their bounding boxes in an R*Tree
index where a layer is queried by viewport (buildings, basemap features).

Schema (version 1)
------------------
``meta(key, value)``
    Free key/value settings: ``county_code``, ``county_name`` and ``county_imported_at``
    (set by ``wangge county import``), ``demo_seed``, ``data_version`` (bumped on every load of reference
    data: hierarchy, layers, buildings, grid versions, workers); for the demo county (version 6)
    ``demo_county`` (its seed: set by ``wangge demo setup``, removed when the hierarchy is
    replaced, so that the live demo feed never writes into a real county),
    ``demo_simulated_until`` (where the set-up simulation ended) and ``demo_fed_until`` (how
    far the live feed, :mod:`wangge.demo.feed`, has written; UTC strings).
``admin_units(code, name, level, kind, parent_code, geometry)``
    The hierarchy county -> township -> community/village. ``code`` is the 12-digit
    statistical area code; ``level`` is ``county``, ``township`` or ``community``; ``kind`` is
    ``subdistrict``/``town``/``township`` for townships and ``urban``/``rural`` for communities.
``basemap_features(fid, layer, name, kind, geometry)`` + R*Tree ``basemap_rtree``
    Reference layers drawn on the map: ``roads`` (kind = road class), ``water``,
    ``railways``, ``hamlets``, ``pois``.
``buildings(building_id, community_code, kind, floors, households, special, name, compound_id,
hamlet_id, geometry)``
    + R*Tree ``buildings_rtree`` (keyed by the integer ``rowid``).
``grid_versions(version_id, created_at, status, note, params, published_at)``
    ``status`` is ``draft``, ``published`` or ``archived``; at most one is published.
``grids(version_id, grid_code, community_code, households, buildings, kind, flags, geometry)``
``building_grids(version_id, building_id, grid_code)``
    Which grid each building belongs to, per version.
``workers(worker_id, name, phone, grid_code, active)``
    Grid workers (网格员). ``phone`` is personal data: masked in the interface, never logged.
``cases(case_id, client_id, category, title, description, source, status, level, lon, lat,
grid_code, community_code, township_code, grid_version_id, reporter_name, reporter_phone,
reported_at, deadline_at, closed_at, updated_at)``
    ``client_id`` is unique: creating a case twice with the same client id returns the first.
    Times are ISO-8601 UTC strings (``2026-11-22T07:30:00Z``), which sort as text.
``case_events(event_id, case_id, at, from_status, to_status, actor, comment)``
    The status history: one row per transition.
``cameras(camera_id, name, lon, lat, bearing, fov, range_m, mount_height, camera_type,
grid_code, status, last_heartbeat)`` and ``camera_heartbeats(camera_id, at, online)``.
``patrol_points(worker_id, at, lon, lat, accuracy)``
    GPS fixes of grid workers' patrols, one row per fix, unique per worker and time.

``api_tokens(token_sha256, name, role, scope, created_at, revoked_at)`` (version 2)
    Bearer tokens of API clients; only their SHA-256 is stored. ``scope`` is a township code
    for township-bound roles, empty otherwise.

``users(username, display_name, password_hash, role, scope, created_at, disabled)`` (version 3)
    Dashboard users. ``role`` is ``county`` (everything), ``township`` (``scope`` = their
    township code), ``planner`` or ``wall`` (read-only display). Passwords are stored as
    salted scrypt hashes only.

``cases.h3_7`` ... ``cases.h3_10`` (version 5)
    The case's H3 cell at resolutions 7 to 10, set on every write (and filled in for older
    rows by the migration), so that the map bins cases with a GROUP BY.

Version 6 adds no table: it fills in the demo feed's meta keys for demo stores set up before.

``grid_versions.author`` (version 7)
    Who made the version (``wangge grids`` takes the login name or ``--author``); the version's
    ``note`` is its comment.

``sessions(session_sha256, kind, username, token_sha256, data, created_at, seen_at,
expires_at)`` (version 8)
    Sign-in sessions kept on the server: the browser's cookie carries a random id, the table its
    SHA-256 only. ``kind`` is ``user`` (an operator, ``username``) or ``wall`` (a wall screen
    signed in by the token whose hash is ``token_sha256``). A session ends when it expires, at
    sign-out, and when its user's password, role or scope changes or its token is revoked.
``sign_in_failures(key, failures, last_failure_at, locked_until)`` (version 8)
    Failed sign-ins per user (``user:NAME``) and per address (``addr:IP``), and the lock they
    earned; no password is stored.
``cases.address``, ``cases.urgency``, ``cases.assignee``, ``cases.version``, ``cases.seen_at``,
``case_events.action``, ``case_events.assignee`` (version 10)
    ``address``: where the case is, in words; ``urgency``: ``normal`` or ``urgent``;
    ``assignee``: who handles it since its last dispatch (``worker:<id>`` or ``dept:<code>``);
    ``version``: 1 when created, +1 on every change of status (an action carrying an older
    version is refused as a conflict); ``seen_at``: when an operator acknowledged an urgent
    case (NULL: still pinned on the wall). An event's ``action`` is ``''`` for a status change,
    or ``urge`` (督办) / ``seen``, which leave the status as it was. Indexes: the open urgent cases, and
    ``(closed_at, deadline_at)`` for the desk's open and open-overdue views.
The planner (version 11)
    ``grid_versions.parent_id`` (the version a draft was made from), ``summary`` (JSON: the
    tallies and violations computed when the planner saved it; empty for engine and imported
    versions) and ``publish_reason`` (the written reason for publishing with violations).
``grid_moves(version_id, building_id, from_code, to_code)``
    The buildings a planner's draft moved relative to its parent.
``audit_log(event_id, at, actor, action, version_id, detail)``
    Every save, publish, restore and relocation of open cases: who, when, what (``detail`` JSON).
``community_cells(community_code, signature, made_at, cells)``
    The engine's building cells of a community (GeoParquet bytes, EPSG:4326) with their
    adjacency, kept until the community's buildings change (``signature``).
``planner_autosave(username, community_code, parent_id, moves, saved_at)``
    The planner's unsaved edits, so that a closed tab or a restarted server loses nothing.

The schema is built and upgraded only by :mod:`wangge.store.migrations`; every SQL statement of
the project lives in :mod:`wangge.store`.
"""

from __future__ import annotations

import h3

__all__ = [
    "CASE_COLUMNS",
    "CASE_DEFAULTS",
    "CASE_INSERT",
    "H3_RESOLUTIONS",
    "INITIAL_SCHEMA",
    "PLANNER_SCHEMA",
    "TABLES",
    "h3_cells",
]

#: Version 1 of the schema, as the first migration creates it.
INITIAL_SCHEMA = """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE admin_units (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            level TEXT NOT NULL CHECK (level IN ('county', 'township', 'community')),
            kind TEXT NOT NULL DEFAULT '',
            parent_code TEXT REFERENCES admin_units(code),
            geometry BLOB NOT NULL
        );
        CREATE INDEX admin_units_parent ON admin_units(parent_code);
        CREATE TABLE basemap_features (
            fid INTEGER PRIMARY KEY,
            layer TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL DEFAULT '',
            geometry BLOB NOT NULL
        );
        CREATE INDEX basemap_features_layer ON basemap_features(layer);
        CREATE VIRTUAL TABLE basemap_rtree USING rtree(fid, minx, maxx, miny, maxy);
        CREATE TABLE buildings (
            rid INTEGER PRIMARY KEY,
            building_id TEXT NOT NULL UNIQUE,
            community_code TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL DEFAULT '',
            floors INTEGER NOT NULL DEFAULT 0,
            households INTEGER NOT NULL DEFAULT 0 CHECK (households >= 0),
            special TEXT NOT NULL DEFAULT '',
            name TEXT NOT NULL DEFAULT '',
            compound_id TEXT NOT NULL DEFAULT '',
            hamlet_id TEXT NOT NULL DEFAULT '',
            geometry BLOB NOT NULL
        );
        CREATE INDEX buildings_community ON buildings(community_code);
        CREATE VIRTUAL TABLE buildings_rtree USING rtree(rid, minx, maxx, miny, maxy);
        CREATE TABLE grid_versions (
            version_id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
            note TEXT NOT NULL DEFAULT '',
            params TEXT NOT NULL DEFAULT '{}',
            published_at TEXT
        );
        CREATE UNIQUE INDEX grid_versions_one_published ON grid_versions(status)
            WHERE status = 'published';
        CREATE TABLE grids (
            version_id INTEGER NOT NULL REFERENCES grid_versions(version_id) ON DELETE CASCADE,
            grid_code TEXT NOT NULL,
            community_code TEXT NOT NULL,
            households INTEGER NOT NULL,
            buildings INTEGER NOT NULL,
            kind TEXT NOT NULL,
            flags TEXT NOT NULL DEFAULT '',
            geometry BLOB NOT NULL,
            PRIMARY KEY (version_id, grid_code)
        );
        CREATE TABLE building_grids (
            version_id INTEGER NOT NULL REFERENCES grid_versions(version_id) ON DELETE CASCADE,
            building_id TEXT NOT NULL,
            grid_code TEXT NOT NULL,
            PRIMARY KEY (version_id, building_id)
        );
        CREATE TABLE workers (
            worker_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            phone TEXT NOT NULL DEFAULT '',
            grid_code TEXT NOT NULL DEFAULT '',
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE cases (
            case_id TEXT PRIMARY KEY,
            client_id TEXT UNIQUE,
            category TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            level TEXT NOT NULL DEFAULT 'grid',
            lon REAL NOT NULL,
            lat REAL NOT NULL,
            grid_code TEXT NOT NULL DEFAULT '',
            community_code TEXT NOT NULL DEFAULT '',
            township_code TEXT NOT NULL DEFAULT '',
            grid_version_id INTEGER,
            reporter_name TEXT NOT NULL DEFAULT '',
            reporter_phone TEXT NOT NULL DEFAULT '',
            reported_at TEXT NOT NULL,
            deadline_at TEXT NOT NULL,
            closed_at TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX cases_reported ON cases(reported_at);
        CREATE INDEX cases_township ON cases(township_code, reported_at);
        CREATE INDEX cases_grid ON cases(grid_code);
        CREATE INDEX cases_status ON cases(status);
        CREATE TABLE case_events (
            event_id INTEGER PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases(case_id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT NOT NULL,
            actor TEXT NOT NULL DEFAULT '',
            comment TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX case_events_case ON case_events(case_id, at);
        CREATE TABLE cameras (
            camera_id TEXT PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            lon REAL NOT NULL,
            lat REAL NOT NULL,
            bearing REAL,
            fov REAL NOT NULL DEFAULT 90,
            range_m REAL NOT NULL DEFAULT 50,
            mount_height REAL NOT NULL DEFAULT 4,
            camera_type TEXT NOT NULL DEFAULT 'fixed',
            grid_code TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'unknown',
            last_heartbeat TEXT
        );
        CREATE TABLE camera_heartbeats (
            camera_id TEXT NOT NULL REFERENCES cameras(camera_id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            online INTEGER NOT NULL,
            PRIMARY KEY (camera_id, at)
        );
        CREATE TABLE patrol_points (
            worker_id TEXT NOT NULL,
            at TEXT NOT NULL,
            lon REAL NOT NULL,
            lat REAL NOT NULL,
            accuracy REAL,
            PRIMARY KEY (worker_id, at)
        );
"""

#: Version 11: the planner's drafts, moves, audit log, cell cache and autosaves.
PLANNER_SCHEMA = """
        ALTER TABLE grid_versions ADD COLUMN parent_id INTEGER;
        ALTER TABLE grid_versions ADD COLUMN summary TEXT NOT NULL DEFAULT '';
        ALTER TABLE grid_versions ADD COLUMN publish_reason TEXT NOT NULL DEFAULT '';
        CREATE TABLE grid_moves (
            version_id INTEGER NOT NULL REFERENCES grid_versions(version_id) ON DELETE CASCADE,
            building_id TEXT NOT NULL,
            from_code TEXT NOT NULL,
            to_code TEXT NOT NULL,
            PRIMARY KEY (version_id, building_id)
        );
        CREATE TABLE audit_log (
            event_id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            version_id INTEGER,
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_log_at ON audit_log(at);
        CREATE TABLE community_cells (
            community_code TEXT PRIMARY KEY,
            signature TEXT NOT NULL,
            made_at TEXT NOT NULL,
            cells BLOB NOT NULL
        );
        CREATE TABLE planner_autosave (
            username TEXT NOT NULL,
            community_code TEXT NOT NULL,
            parent_id INTEGER NOT NULL,
            moves TEXT NOT NULL,
            saved_at TEXT NOT NULL,
            PRIMARY KEY (username, community_code)
        );
"""

#: Tables whose rows :meth:`wangge.store.Store.count` may count.
TABLES = frozenset(
    {
        "users",
        "api_tokens",
        "sessions",
        "sign_in_failures",
        "admin_units",
        "basemap_features",
        "buildings",
        "grid_versions",
        "grids",
        "building_grids",
        "workers",
        "cases",
        "case_events",
        "cameras",
        "camera_heartbeats",
        "patrol_points",
        "meta",
        "grid_moves",
        "audit_log",
    }
)

#: H3 resolutions stored with every case (cases.h3_7 ... cases.h3_10), for map binning in SQL.
H3_RESOLUTIONS = (7, 8, 9, 10)

#: The public columns of a case, in the order reads return them.
CASE_COLUMNS = (
    "case_id",
    "client_id",
    "category",
    "title",
    "description",
    "source",
    "status",
    "level",
    "lon",
    "lat",
    "grid_code",
    "community_code",
    "township_code",
    "grid_version_id",
    "reporter_name",
    "reporter_phone",
    "reported_at",
    "deadline_at",
    "closed_at",
    "updated_at",
    "address",
    "urgency",
    "assignee",
    "version",
    "seen_at",
)
#: Values of the version 10 columns for a case written without them (simulations, imports).
CASE_DEFAULTS = {"address": "", "urgency": "normal", "assignee": "", "version": 1}
#: Columns written for a new case: the public ones and its H3 cells.
CASE_INSERT = (*CASE_COLUMNS, "h3_7", "h3_8", "h3_9", "h3_10")


def h3_cells(lon: float, lat: float) -> dict[str, str]:
    """The H3 cells of a point at :data:`H3_RESOLUTIONS`, keyed by column name.

    Examples
    --------
    >>> sorted(h3_cells(114.3, 30.6))
    ['h3_10', 'h3_7', 'h3_8', 'h3_9']
    """
    cell = h3.latlng_to_cell(lat, lon, max(H3_RESOLUTIONS))
    return {
        f"h3_{r}": (h3.cell_to_parent(cell, r) if r < max(H3_RESOLUTIONS) else cell)
        for r in H3_RESOLUTIONS
    }
