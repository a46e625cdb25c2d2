"""Time as the domain sees it: aware UTC datetimes, rendered ISO-8601 with milliseconds and Z.

Why here: every dialect renders dates the same way (`2015-12-26T19:00:00.000Z`, api-notes §1.7),
and every stored time is UTC; one place keeps naive datetimes from leaking in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# api-notes §1.7: ISO-8601 UTC, optional milliseconds, literal Z.
_ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Treat a naive datetime (SQLite returns them) as UTC; convert aware ones to UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_iso(moment: datetime) -> str:
    """`2015-12-26T19:00:00.000Z`: the only date format the eGain dialects emit."""
    # Not strftime: glibc's %Y does not pad years before 1000 to four digits.
    return as_utc(moment).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_iso(text: str) -> datetime | None:
    """Parse the eGain date format; None when the text is not in it (callers name the field)."""
    if not _ISO_UTC.match(text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None
