"""Obligations over a window: `rate` (at least N units per period) and `refrain`.

Rate periods are whole calendar periods in the agreement's timezone: days from local
midnight, weeks from Monday 00:00, periods that divide a day from local midnight, any other
length from the window's start.  Boundaries follow the wall clock, so a day is 23 or 25 hours
across a daylight-saving change.  A partial first or last period is reported (`partial`) but
not assessed.  Units count toward the period their claim was *observed* in, whenever their
verification arrives.  A whole period is `met` once its units reach the amount, `short`
once its end + grace has passed without that, `open` before.  The first `short` period
breaches the obligation at its end + grace.  With no shortfall the obligation is
`fulfilled` when the window closes.

Refrain: a counted incident naming the obligation, observed inside the window and with its
attribution confirmed by the quorum, breaches the obligation at the moment it became
attributed.  An incident confirmed as fact but with attribution `unconfirmed` breaches
nothing; the obligation carries the flag `unattributed_incident`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

from interlock.agreement.model import Obligation
from interlock.engine.claims import Claim
from interlock.engine.ledger import ClaimView
from interlock.engine.moments import Moment, merge
from interlock.engine.obligations import CLAIMS_EXPLAINED, Outcome
from interlock.engine.status import Fact, PeriodStatus
from interlock.timeutil import zone

WEEK = timedelta(weeks=1)
DAY = timedelta(days=1)
MAX_PERIODS = 100_000


def boundaries(tz_name: str, period: timedelta, start: datetime) -> Iterator[datetime]:
    """Period boundaries (UTC) at or after `start`, on the agreement's wall clock."""
    tz = zone(tz_name)
    local = start.astimezone(tz)
    if period % WEEK == timedelta(0):
        anchor = datetime.combine(local.date() - timedelta(days=local.weekday()), time(0))
    elif period % DAY == timedelta(0) or DAY % period == timedelta(0):
        anchor = datetime.combine(local.date(), time(0))
    else:
        anchor = local.replace(tzinfo=None)
    step = 0
    while step < MAX_PERIODS * 8:
        boundary = (anchor + step * period).replace(tzinfo=tz).astimezone(UTC)
        if boundary >= start:
            yield boundary
        step += 1


def evaluate_rate(
    ob: Obligation,
    view: ClaimView,
    *,
    window_from: Moment,
    window_until: Moment | None,
    grace: timedelta,
    tz_name: str,
    as_of: datetime,
) -> Outcome:
    """Periods of a `rate` obligation and its state."""
    assert ob.quantity is not None and ob.quantity.per_period is not None
    amount = float(ob.quantity.amount or 0)
    counted, times, sums = view.counted, view.times, view.running

    def units_between(a: datetime, b: datetime) -> float:
        return sums[bisect_left(times, b)] - sums[bisect_left(times, a)]

    def evidence_between(a: datetime, b: datetime) -> tuple[int, ...]:
        return merge(*(c.evidence_entries() for c in counted[bisect_left(times, a):bisect_left(times, b)]))

    limit = window_until.at if window_until is not None else None
    periods: list[PeriodStatus] = []
    breach: Moment | None = None
    open_due: datetime | None = None
    cursor = window_from.at
    for boundary in boundaries(tz_name, ob.quantity.per_period, window_from.at):
        if boundary == cursor:
            continue
        if cursor > as_of or (limit is not None and cursor >= limit) or len(periods) >= MAX_PERIODS:
            break
        end = boundary if limit is None else min(boundary, limit)
        whole = end == boundary and (cursor != window_from.at or _on_boundary(tz_name, ob, cursor))
        units = units_between(cursor, end)
        if not whole:
            state = "partial"
        elif units + 1e-9 >= amount:
            state = "met"
        elif end + grace <= as_of:
            state = "short"
            if breach is None:
                breach = Moment(end + grace, evidence_between(cursor, end))
        else:
            state = "open"
            if open_due is None:
                open_due = end + grace
        periods.append(PeriodStatus(cursor, end, units, amount, state))
        cursor = boundary
    verified = periods[-1].units if periods else 0.0
    out = Outcome("active", required=amount, verified=verified, due=open_due, periods=tuple(periods))
    def window_evidence() -> tuple[int, ...]:
        if limit is not None:
            return evidence_between(window_from.at, limit)
        return merge(*(c.evidence_entries() for c in counted[bisect_left(times, window_from.at):]))

    out.because = view.remember(("window", window_from.at, limit), window_evidence)
    out.facts.append(Fact("rate", at=window_from.at, amount=amount, ref=ob.quantity.unit,
                          extra=(("period", ob.quantity.per_period),)))
    if breach is not None and breach.at <= as_of:
        out.state, out.since, out.breach = "breached", breach.at, breach
        out.because = merge(out.because, breach.because)
        out.facts.append(Fact("shortfall", breach.because, breach.at))
    elif window_until is not None and window_until.at <= as_of:
        out.state, out.since = "fulfilled", window_until.at
        out.done = Moment(window_until.at, window_until.because)
    else:
        out.since = window_from.at
    return out


def _on_boundary(tz_name: str, ob: Obligation, moment: datetime) -> bool:
    assert ob.quantity is not None and ob.quantity.per_period is not None
    first = next(boundaries(tz_name, ob.quantity.per_period, moment), None)
    return first == moment


def _incident_entries(claim: Claim) -> tuple[int, ...]:
    """The incident, the entry that verified it and the one that confirmed who did it."""
    extra = () if claim.attributed_by is None else (claim.attributed_by,)
    return tuple(sorted({*claim.evidence_entries(), *extra}))


def evaluate_refrain(
    ob: Obligation, view: ClaimView, window_from: Moment, window_until: Moment | None, as_of: datetime
) -> Outcome:
    """A prohibition: breached by the first attributed incident observed in the window."""
    limit = window_until.at if window_until is not None else None
    inside = [
        c for c in view.counted
        if c.observed_at >= window_from.at and (limit is None or c.observed_at < limit)
    ]
    attributed = [c for c in inside if c.attributed and c.attributed_at is not None]
    out = Outcome("active", required=None, verified=float(len(attributed)))
    out.because = merge(*(_incident_entries(c) for c in inside))
    for claim in inside[-CLAIMS_EXPLAINED:]:
        out.facts.append(Fact("incident", _incident_entries(claim), claim.observed_at,
                              extra=(("attributed", claim.attributed),)))
    if any(not c.attributed for c in inside):
        out.flags.add("unattributed_incident")
    first = None
    for claim in attributed:
        assert claim.attributed_at is not None
        at = max(claim.attributed_at, window_from.at)
        entries = (claim.index,) if claim.attributed_by is None else (claim.index, claim.attributed_by)
        if first is None or at < first.at:
            first = Moment(at, tuple(sorted(set(entries))))
    if first is not None and first.at <= as_of:
        out.state, out.since, out.breach = "breached", first.at, first
    elif window_until is not None and window_until.at <= as_of:
        out.state, out.since = "fulfilled", window_until.at
        out.done = Moment(window_until.at, window_until.because)
    else:
        out.since = window_from.at
    return out
