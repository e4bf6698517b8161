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

import contextlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

__all__ = [
    "COUNTY_TZ",
    "COUNTY_UTC_OFFSET_HOURS",
    "EARLIEST",
    "MAX_AHEAD",
    "STAMP_FORMAT",
    "check_range",
    "local_day",
    "local_now",
    "parse_checked",
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


#: The earliest time the store accepts: no record of grid management is older.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

#: How far ahead of the server's clock a time may lie (clients' clocks drift; a day is generous).
MAX_AHEAD = timedelta(days=1)


def stamp(when: datetime | pd.Timestamp) -> str:
    """A time as the store writes it (``2026-11-22T00:30:00Z``); a naive time is taken as UTC."""
    if isinstance(when, pd.Timestamp):
        when = when.to_pydatetime()
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    # isoformat writes the year with four digits on every platform (strftime's %Y need not)
    return when.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"


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
    try:
        return when.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset that leaves the calendar
        raise ValueError(f"{text!r} lies outside the calendar") from None


def check_range(when: datetime, *, now: datetime | None = None) -> datetime:
    """``when`` (aware) when it lies from :data:`EARLIEST` to :data:`MAX_AHEAD` after ``now``
    (default: the current time); ValueError saying the range otherwise.

    >>> check_range(datetime(999, 6, 1, tzinfo=UTC))
    Traceback (most recent call last):
    ...
    ValueError: expected a time from 2000-01-01 on, found 0999-06-01T00:00:00+00:00
    """
    now = now or datetime.now(UTC)
    if when < EARLIEST:
        raise ValueError(f"expected a time from 2000-01-01 on, found {_show(when)}")
    if when > now + MAX_AHEAD:
        raise ValueError(
            f"expected a time at most one day after now ({stamp(now)}), found {_show(when)}"
        )
    return when


def _show(when: datetime) -> str:
    """A time for an error message, its year always written with four digits."""
    with contextlib.suppress(OverflowError):  # year 1 east of Greenwich: shown as given
        when = when.astimezone(UTC)
    return when.isoformat()


def parse_checked(text: str, *, now: datetime | None = None) -> str:
    """An ISO-8601 time (naive means UTC) in the accepted range (:func:`check_range`) -> stamp.

    ValueError saying what was expected: every time that reaches the store goes through here
    (the API, the imports, the command line, the demo feed).

    >>> parse_checked("2026-11-22T08:30:00+08:00")
    '2026-11-22T00:30:00Z'
    """
    return stamp(check_range(parse_iso(text), now=now))


def local_now() -> pd.Timestamp:
    """The current time in the county's time zone."""
    return pd.Timestamp.now(tz=COUNTY_TZ)


def local_day(stamped: str) -> str:
    """``YYYYMMDD`` of the county's day of a stored stamp (case ids carry it)."""
    return parse_stamp(stamped).astimezone(ZoneInfo(COUNTY_TZ)).strftime("%Y%m%d")
