"""Times and amounts in the words a reader expects: `3 d 4 h`, `in 5 h 20 min`, `12/12`.

Pure: every function takes the moment it is judged against (`now`) explicitly; nothing here
reads a clock.  Times are shown in UTC with an explicit `UTC` suffix so that readers in
different places see the same text; only the time-travel control and its banner also speak
the agreement's own time zone (`wall`, `zoned`), the zone in which `?as_of=` is read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from interlock.timeutil import parse_timestamp, zone

_UNITS = (("d", 86400), ("h", 3600), ("min", 60))


def span(delta: timedelta, *, parts: int = 2) -> str:
    """A non-negative length of time in at most `parts` units: `3 d 4 h`, `45 min`, `< 1 min`.

    Negative deltas are shown by their size.  Rounds down (a deadline "in 59 min" is never
    really in 60).
    """
    seconds = abs(int(delta.total_seconds()))
    if seconds < 60:
        return "< 1 min"
    amounts: list[tuple[int, str]] = []
    for name, size in _UNITS:
        amounts.append((seconds // size, name))
        seconds %= size
    first = next(i for i, (value, _) in enumerate(amounts) if value)
    kept: list[str] = []
    for value, name in amounts[first : first + parts]:
        if not value:  # `2 d 0 h 5 min` reads `2 d`, never `2 d 5 min`
            break
        kept.append(f"{value} {name}")
    return " ".join(kept)


def relative(moment: datetime, now: datetime) -> str:
    """`in 3 d 4 h` for the future, `2 h 5 min ago` for the past, `now` within a minute."""
    delta = moment - now
    if abs(delta) < timedelta(minutes=1):
        return "now"
    return f"in {span(delta)}" if delta > timedelta(0) else f"{span(delta)} ago"


def when(moment: datetime | None) -> str:
    """`5 Mar 2026 10:40 UTC`; `—` for no moment."""
    if moment is None:
        return "—"
    utc = moment.astimezone(UTC)
    return f"{utc.day} {utc:%b %Y %H:%M} UTC"


def iso(moment: datetime | None) -> str:
    """The machine form for `<time datetime=…>`: `2026-03-05T10:40:00Z`."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wall(moment: datetime | None, tz: str) -> str:
    """The wall-clock time of `moment` in the zone `tz`, to the minute and without an offset:
    `2026-03-05T12:40`, the value of a `datetime-local` control read in `tz`; `` for None."""
    if moment is None:
        return ""
    return moment.astimezone(zone(tz)).strftime("%Y-%m-%dT%H:%M")


def zoned(moment: datetime | None, tz: str) -> str:
    """`5 Mar 2026 12:40 Asia/Jerusalem (UTC+02:00)`: `moment` in `tz` with its offset then;
    `—` for no moment."""
    if moment is None:
        return "—"
    local = moment.astimezone(zone(tz))
    offset = local.strftime("%z") or "+0000"
    return f"{local.day} {local:%b %Y %H:%M} {tz} (UTC{offset[:3]}:{offset[3:5]})"


def moment(text: str | None) -> datetime | None:
    """A timestamp from Status JSON (always with offset) → aware datetime; None stays None."""
    if not text:
        return None
    return parse_timestamp(text)


def number(value: float | int | None) -> str:
    """`12`, `12.5`, `1,200` — integers without a trailing `.0`."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def percent(done: float | int | None, required: float | int | None) -> int:
    """Whole percent of `required` that `done` covers, clamped to 0–100; 0 when unknown."""
    if not required or done is None or required <= 0:
        return 0
    share = 100 * float(done) / float(required)
    return int(max(0.0, min(100.0, share)))  # clamp first: a huge share would overflow int()
