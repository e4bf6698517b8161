"""One place for time: the stored stamp format, parsing, formatting and the county's time zone.

Every time in the store is a UTC string ``YYYY-MM-DDTHH:MM:SSZ`` (:data:`STAMP_FORMAT`), which
sorts as text; every day the users see (case ids, "today", trends, the wall's clock) is a day
of the county's time zone (:data:`COUNTY_TZ`). Modules never write the format or the zone
themselves: they call these functions.

>>> stamp(datetime(2026, 11, 22, 8, 30, tzinfo=ZoneInfo(COUNTY_TZ)))
'2026-11-22T00:30:00Z'
>>> parse_stamp("2026-11-22T00:30:00Z").isoformat()
'2026-11-22T00:30:00+00:00'
>>> local_day("2026-11-21T16:30:00Z")
'20261122'
>>> summer = datetime(2026, 7, 1, tzinfo=ZoneInfo(COUNTY_TZ))
>>> summer.utcoffset().total_seconds() / 3600 == COUNTY_UTC_OFFSET_HOURS
True
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd

__all__ = [
    "COUNTY_TZ",
    "COUNTY_UTC_OFFSET_HOURS",
    "STAMP_FORMAT",
    "local_day",
    "local_now",
    "parse_iso",
    "parse_stamp",
    "stamp",
    "utc_now",
]

#: The stored time format: UTC, to the second, sortable as text.
STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

#: The command centre's clock: case ids carry the local report day, "today" is a local day.
COUNTY_TZ = "Asia/Shanghai"

#: Hours the county's clock is ahead of UTC, all year (China keeps no summer time); SQL that
#: groups stamps by local day shifts them by this much.
COUNTY_UTC_OFFSET_HOURS = 8


def stamp(when: datetime | pd.Timestamp) -> str:
    """A time as the store writes it (``2026-11-22T00:30:00Z``); a naive time is taken as UTC."""
    if isinstance(when, pd.Timestamp):
        when = when.to_pydatetime()
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime(STAMP_FORMAT)


def utc_now() -> str:
    """The current time as a stored stamp."""
    return stamp(datetime.now(UTC))


def parse_stamp(text: str) -> datetime:
    """A stored stamp -> an aware UTC datetime (ValueError when it is not one)."""
    return datetime.strptime(text, STAMP_FORMAT).replace(tzinfo=UTC)


def parse_iso(text: str) -> datetime:
    """An ISO-8601 time with offset or ``Z`` (naive means UTC) -> an aware UTC datetime.

    ValueError when ``text`` is not ISO-8601.
    """
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def local_now() -> pd.Timestamp:
    """The current time in the county's time zone."""
    return pd.Timestamp.now(tz=COUNTY_TZ)


def local_day(stamped: str) -> str:
    """``YYYYMMDD`` of the county's day of a stored stamp (case ids carry it)."""
    return parse_stamp(stamped).astimezone(ZoneInfo(COUNTY_TZ)).strftime("%Y%m%d")
