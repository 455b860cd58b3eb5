"""Durations, timestamps and timezones as the agreement file writes them.

Pure: parsing only, no clock.  Durations are `90m`, `72h`, `42d`, `1w`, `30s` or ISO 8601
(`P1D`, `PT12H`, `P1DT6H`, `P2W`); years and months are refused because they have no fixed
length.  Timestamps are ISO 8601; one without an offset is read in the agreement's timezone.
All times leave this module timezone-aware in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from interlock.errors import DurationError, TimestampError, TimezoneError

_SHORT = re.compile(r"^(\d{1,9})(s|m|h|d|w)$")
_ISO = re.compile(
    r"^P(?:(?P<w>\d{1,9})W|(?:(?P<d>\d{1,9})D)?(?:T(?:(?P<h>\d{1,9})H)?(?:(?P<m>\d{1,9})M)?"
    r"(?:(?P<s>\d{1,9})S)?)?)$"
)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

DURATION_PATTERN = r"^(\d{1,9}(s|m|h|d|w)|P(\d{1,9}W|(\d{1,9}D)?(T(\d{1,9}H)?(\d{1,9}M)?(\d{1,9}S)?)?))$"
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"


def parse_duration(text: str) -> timedelta:
    """`72h` → timedelta(hours=72).  Raises `DurationError` on anything else."""
    if not isinstance(text, str):
        raise DurationError(f"duration must be a string like 72h, not {text!r}")
    short = _SHORT.match(text)
    if short:
        return timedelta(**{_UNITS[short.group(2)]: int(short.group(1))})
    iso = _ISO.match(text)
    if iso and text not in ("P", "PT") and not text.endswith("T"):
        parts = {k: int(v) for k, v in iso.groupdict().items() if v}
        if parts:
            return timedelta(
                weeks=parts.get("w", 0),
                days=parts.get("d", 0),
                hours=parts.get("h", 0),
                minutes=parts.get("m", 0),
                seconds=parts.get("s", 0),
            )
    raise DurationError(
        f"{text!r} is not a duration; write 90m, 72h, 42d, 1w or ISO 8601 such as P1DT12H"
    )


def format_duration(delta: timedelta) -> str:
    """The shortest exact short form: 86400s → `1d`, 5400s → `90m`."""
    seconds = int(delta.total_seconds())
    for suffix, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{suffix}"
    return f"{seconds}s"


def zone(name: str) -> ZoneInfo:
    """The IANA timezone `name`; raises `TimezoneError` if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise TimezoneError(f"unknown timezone {name!r}; use an IANA name such as UTC") from exc


def parse_timestamp(text: str, tz: str | ZoneInfo = "UTC") -> datetime:
    """ISO 8601 → aware UTC datetime; a time without offset is read in `tz`.

    Raises `TimestampError` for anything that is not a complete ISO 8601 date or date-time.
    """
    if isinstance(text, datetime):
        value = text
    else:
        if not isinstance(text, str) or not re.match(TIMESTAMP_PATTERN, text):
            raise TimestampError(f"{text!r} is not an ISO 8601 timestamp such as 2026-03-05T10:40:00Z")
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
        except ValueError as exc:
            raise TimestampError(f"{text!r} is not a valid date or time: {exc}") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(tz) if isinstance(tz, str) else tz)
    return value.astimezone(UTC)


def format_timestamp(moment: datetime) -> str:
    """Aware datetime → `2026-03-05T10:40:00Z` (UTC, seconds, fraction only when present)."""
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"
