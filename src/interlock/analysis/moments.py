"""When each condition of a plan becomes true, given a schedule of deliveries (local rules).

This is the analyser's own reading of DESIGN.md's "Moments" for a *compliant* run: no
incidents, disputes, extensions or waivers — only deliveries and their verification.  It is
one seam of the scheduler (`interlock.analysis.schedule`); `interlock.analysis.synthetic`
turns the same schedule into unsigned statements so the engine can confirm every moment.

Pure.  An `Evaluator` is built for one schedule and memoises; a condition that refers back
to itself (a cycle) is never true.  Failure modes: none raised — unknown ids and cycles are
"never" (`None`); the checker and `interlock.analysis.structure` explain them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TypeVar

from interlock.agreement.conditions import ConditionFold, fold
from interlock.agreement.model import AfterEach, Agreement, Condition, Obligation
from interlock.analysis.run import Moment, Scenario, Tranche, TrancheId
from interlock.timeutil import format_duration, parse_timestamp, zone

EPS = 1e-9
MAX_PERIODS = 5000
BLOCKING = ("deliver", "act")
T = TypeVar("T")


def valid_verifiers(agreement: Agreement, ob: Obligation) -> list[str]:
    """Who can back a claim of `ob`: the named verifiers (every monitor when none are named)
    that are monitors — only monitors report evidence or attest — never the debtor."""
    monitors = {p.id for p in agreement.parties if p.role == "monitor"}
    named = set(ob.verify.by) if ob.verify is not None else monitors
    return sorted((named & monitors) - {ob.by})


def quorum(ob: Obligation) -> int:
    return ob.verify.quorum if ob.verify is not None else 1


def verifiable(agreement: Agreement, ob: Obligation) -> bool:
    """True when enough valid verifiers exist to reach the quorum."""
    return len(valid_verifiers(agreement, ob)) >= quorum(ob)


def base_categories(agreement: Agreement, ob: Obligation) -> dict[str, float]:
    q = ob.quantity
    if q is None:
        return {}
    if q.categories:
        return {k: float(v) for k, v in q.categories.items()}
    if q.per:
        base = agreement.obligation(q.per)
        if base is not None and base is not ob:
            return {
                k: v * _category_ratio(q.ratio, k) for k, v in base_categories(agreement, base).items()
            }
    return {}


def _category_ratio(ratio: float | int | Mapping[str, float | int] | None, category: str) -> float:
    if ratio is None:
        return 1.0
    if isinstance(ratio, Mapping):
        return float(ratio.get(category, 0.0))
    return float(ratio)


def answer_units(
    ob: Obligation, units: float, categories: Mapping[str, float]
) -> tuple[float, dict[str, float]]:
    """What a proportional obligation owes for one base claim of `units` (`categories`).

    A ratio per category applies to the claim's categories; when the claim has none, the
    smallest ratio is used (and the run notes it).
    """
    ratio = ob.quantity.ratio if ob.quantity is not None else None
    if isinstance(ratio, Mapping):
        if categories:
            owed = {k: v * float(ratio.get(k, 0.0)) for k, v in categories.items()}
            return sum(owed.values()), owed
        return units * float(min(ratio.values())), {}
    factor = 1.0 if ratio is None else float(ratio)
    return units * factor, {k: v * factor for k, v in categories.items()}


def periods(start: datetime, until: datetime, length: timedelta, tz: str) -> tuple[tuple[datetime, datetime], ...]:
    """Whole calendar periods of `length` inside [start, until], in the agreement's timezone.

    Weeks begin on Monday 00:00, days (and their multiples, and periods dividing a day) at
    local midnight, any other length at `start` — as the engine counts them.  Partial
    periods are left out.  Memoised: a pure function of its arguments.
    """
    return _periods(start, until, length, tz)


@lru_cache(maxsize=4096)
def _periods(start: datetime, until: datetime, length: timedelta, tz: str) -> tuple[tuple[datetime, datetime], ...]:
    if length <= timedelta(0) or until <= start:
        return ()
    local_tz = zone(tz)
    local = start.astimezone(local_tz).replace(tzinfo=None)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    day = timedelta(days=1)
    if length % timedelta(weeks=1) == timedelta(0):
        first = midnight - timedelta(days=midnight.weekday())
    elif length % day == timedelta(0) or day % length == timedelta(0):
        first = midnight
    else:
        first = local
    while first < local:
        first += length
    out: list[tuple[datetime, datetime]] = []
    begin = first
    while len(out) < MAX_PERIODS:
        end = begin + length
        b, e = _utc(begin, local_tz), _utc(end, local_tz)
        if e > until:
            break
        out.append((b, e))
        begin = end
    return tuple(out)


def _utc(naive: datetime, tz: object) -> datetime:
    return parse_timestamp(naive.isoformat(), tz)  # type: ignore[arg-type]


def latest(parts: Sequence[Moment]) -> Moment:
    """The latest of moments (ties: the deepest), carrying every part's dependencies."""
    top = max(parts, key=lambda m: (m.at, m.depth))
    deps = frozenset().union(*(m.deps for m in parts))
    return replace(top, depth=max(m.depth for m in parts), deps=deps)


class Evaluator:
    """Condition moments for one schedule (`obligation id → its tranches`)."""

    def __init__(
        self,
        agreement: Agreement,
        scenario: Scenario,
        schedule: Mapping[str, Sequence[Tranche]],
        horizon: datetime,
    ) -> None:
        self.agreement = agreement
        self.scenario = scenario
        self.schedule = schedule
        self.horizon = horizon
        self.adopted = Moment(scenario.start, 0, "adopted")
        self._memo: dict[tuple[str, str], object] = {}
        self._active: dict[tuple[str, str], int] = {}
        self._low = 1 << 30
        self.remarks: set[str] = set()
        """Anything the run's reader should know about how moments were found."""
        self._obs = {ob.id: ob for _, ob in agreement.obligations()}
        self._stage_of = {ob.id: st.id for st, ob in agreement.obligations()}
        self._suspenders: dict[str, list[str]] = {}
        """Obligation → those whose breach suspends it, in file order."""
        for ob in self._obs.values():
            for target in ob.on_breach.suspend if ob.on_breach is not None else ():
                self._suspenders.setdefault(target, []).append(ob.id)

    # --- memo with cycle guard ----------------------------------------------------------

    def _cached(self, kind: str, key: str, compute: Callable[[], T]) -> T | None:
        """Memoised `compute()`.  Asked again while it is being computed, a key answers None
        (a condition waiting on itself never holds).  A result that leaned on such an answer
        for a key further out is provisional and not cached (it is recomputed when asked)."""
        slot = (kind, key)
        if slot in self._memo:
            return self._memo[slot]  # type: ignore[return-value]
        if slot in self._active:
            self._low = min(self._low, self._active[slot])
            return None
        depth = len(self._active)
        self._active[slot] = depth
        outer_low, self._low = self._low, depth
        try:
            result = compute()
        finally:
            del self._active[slot]
        if self._low >= depth:
            self._memo[slot] = result
        self._low = min(outer_low, self._low)
        return result

    def probe(self, compute: Callable[[], T]) -> tuple[T, bool]:
        """`compute()`, and whether its result was provisional (leaned on a cycle guard)."""
        depth = len(self._active)
        outer, self._low = self._low, 1 << 30
        result = compute()
        provisional = self._low < depth
        self._low = min(outer, self._low)
        return result, provisional

    # --- conditions ---------------------------------------------------------------------

    def condition(self, cond: Condition) -> Moment | None:
        # A fresh adapter each call: one kept on the evaluator would be a reference cycle, leaving
        # every evaluator to the cyclic GC (the analysis benchmark ran ~20% slower).
        return fold(cond, _Moments(self))

    def stage_opened(self, stage_id: str) -> Moment | None:
        def compute() -> Moment | None:
            stage = self.agreement.stage(stage_id)
            if stage is None:
                return None
            m = self.condition(stage.opens)
            return None if m is None else Moment(m.at, m.depth, f"stage {stage_id} opens", prior=m, deps=m.deps)

        return self._cached("opened", stage_id, compute)

    def obligation_start(self, oid: str) -> Moment | None:
        def compute() -> Moment | None:
            ob = self._obs.get(oid)
            if ob is None:
                return None
            parts = [self.stage_opened(self._stage_of[oid])]
            if ob.starts is not None:
                parts.append(self.condition(ob.starts))
            if ob.window is not None and ob.kind in ("rate", "refrain"):
                parts.append(self.condition(ob.window.from_))
            known = [m for m in parts if m is not None]
            return latest(known) if len(known) == len(parts) else None

        return self._cached("start", oid, compute)

    def due(self, oid: str) -> Moment | None:
        ob = self._obs.get(oid)
        if ob is None or ob.due is None or isinstance(ob.due, AfterEach):
            return None
        return self._cached("due", oid, lambda: self.condition(ob.due))  # type: ignore[arg-type]

    def required(self, oid: str) -> float | None:
        """Units owed in full (None for rate and refrain obligations)."""
        ob = self._obs.get(oid)
        if ob is None or ob.kind in ("rate", "refrain"):
            return None
        if ob.kind == "act":
            return 1.0
        q = ob.quantity
        if q is None:
            return 1.0
        if q.per:
            base = self._cached("required", q.per, lambda: self.required(q.per or ""))
            if base is None:
                return None
            cats = base_categories(self.agreement, self._obs[q.per]) if q.per in self._obs else {}
            return answer_units(ob, base, cats)[0]
        if q.amount is not None:
            return float(q.amount)
        if q.categories:
            return float(sum(q.categories.values()))
        return 1.0

    def _reached(self, oid: str, threshold: float) -> Moment | None:
        counted = sorted(
            (t for t in self.schedule.get(oid, ()) if t.verified is not None),
            key=lambda t: (t.verified_at, t.depth, t.number),
        )
        total = 0.0
        deps: set[TrancheId] = set()
        for t in counted:
            total += t.units
            deps.add(t.id)
            assert t.verified is not None
            if total >= threshold - EPS * max(1.0, abs(threshold)):
                depth = max(x.depth for x in counted if x.id in deps)
                return replace(t.verified, depth=depth, deps=frozenset(deps) | t.verified.deps)
        return None

    def verified(self, oid: str) -> Moment | None:
        need = self.required(oid)
        return None if need is None else self._reached(oid, need)

    def delivered(self, oid: str, at_least: float) -> Moment | None:
        return self._reached(oid, at_least)

    def stage_complete(self, stage_id: str) -> Moment | None:
        def compute() -> Moment | None:
            stage = self.agreement.stage(stage_id)
            opened = self.stage_opened(stage_id)
            if stage is None or opened is None:
                return None
            parts = [opened]
            for ob in stage.obligations:
                if ob.kind not in BLOCKING:
                    continue
                done = self.verified(ob.id)
                if done is None:
                    return None
                parts.append(done)
            m = latest(parts)
            if any(self.breached_by(ob.id, m.at) for ob in stage.obligations):
                return None
            return Moment(m.at, m.depth, f"stage {stage_id} complete", prior=m, deps=m.deps)

        return self._cached("complete", stage_id, compute)

    def suspended(self, oid: str) -> Moment | None:
        """When `oid` became suspended by another obligation's breach (`on_breach.suspend`)."""

        def compute() -> Moment | None:
            hits = [b for b in (self.breached(o) for o in self._suspenders.get(oid, ())) if b is not None]
            return min(hits, key=lambda m: (m.at, m.depth)) if hits else None

        return self._cached("suspended", oid, compute)

    def breached(self, oid: str) -> Moment | None:
        """When `oid` became breached: owed units not delivered (and verified) by due + grace."""

        def compute() -> Moment | None:
            ob = self._obs.get(oid)
            if ob is None or ob.kind == "refrain" or self.obligation_start(oid) is None:
                return None
            grace = ob.on_breach.grace if ob.on_breach and ob.on_breach.grace else timedelta(0)
            found = self._first_shortfall(ob, grace)
            if found is None:
                return None
            stop = self.suspended(oid)
            if stop is not None and stop.at <= found.at:
                return None
            return found

        return self._cached("breached", oid, compute)

    def breached_by(self, oid: str, limit: datetime) -> bool:
        """Was `oid` breached at or before `limit`?  For a rate, only the periods that ended
        by `limit` are judged, so a window closing later (perhaps on this very stage's
        completion) is never needed."""
        ob = self._obs.get(oid)
        if ob is None or ob.kind != "rate":
            found = self.breached(oid)
            return found is not None and found.at <= limit
        if self.obligation_start(oid) is None:
            return False
        grace = ob.on_breach.grace if ob.on_breach and ob.on_breach.grace else timedelta(0)
        found = self._first_shortfall(ob, grace, limit)
        if found is None or found.at > limit:
            return False
        stop = self.suspended(oid)
        return stop is None or stop.at > found.at

    def _first_shortfall(self, ob: Obligation, grace: timedelta, limit: datetime | None = None) -> Moment | None:
        if ob.kind == "rate":
            start = self.obligation_start(ob.id)
            assert start is not None
            q = ob.quantity
            if q is None or q.per_period is None:
                return None
            if limit is None:
                spans: Sequence[tuple[datetime, datetime]] = self._rate_periods(ob, start)
            else:
                spans = periods(start.at, limit, q.per_period, self.agreement.timezone)
                until = self.rate_until(ob)
                if until is not None:
                    spans = [(b, e) for b, e in spans if e <= until.at]
            n = self._first_gap(ob.id, len(spans))
            if n is None:
                return None
            end = spans[n - 1][1]
            return Moment(end + grace, start.depth, f"{ob.id} breached (period {n} short)", prior=start)
        if ob.quantity is not None and ob.quantity.per:
            return self._proportional_shortfall(ob, grace)
        due = self.due(ob.id)
        need = self.required(ob.id)
        if due is None or need is None:
            return None
        limit = due.at + grace
        done = self._done_by(ob.id, limit)
        if done >= need - EPS * max(1.0, need):
            return None
        start = self.obligation_start(ob.id)
        if start is not None and start.at > limit:
            return Moment(start.at, start.depth, f"{ob.id} breached", prior=start, deps=start.deps)
        return Moment(limit, due.depth, f"{ob.id} breached", prior=due, deps=due.deps)

    # --- per-schedule primitives (the only loops over an obligation's tranches) -------------

    def _done_by(self, oid: str, limit: datetime) -> float:
        """Units of `oid`'s tranches handed over by `limit` and verified (summed in order)."""
        mine = {t.number: t for t in self.schedule.get(oid, ())}
        done = 0.0
        for t in mine.values():
            if t.verified is not None and t.at <= limit:
                done += t.units
        return done

    def _first_gap(self, oid: str, count: int) -> int | None:
        """The first number in 1..`count` with no verified tranche of `oid` (rate periods)."""
        mine = {t.number: t for t in self.schedule.get(oid, ())}
        for n in range(1, count + 1):
            got = mine.get(n)
            if got is None or got.verified is None:
                return n
        return None

    def _proportional_shortfall(self, ob: Obligation, grace: timedelta) -> Moment | None:
        """The earliest answer of `ob` missing or late for a verified base tranche."""
        mine = {t.number: t for t in self.schedule.get(ob.id, ())}
        base_id = ob.quantity.per if ob.quantity else None
        worst: Moment | None = None
        for base in self.schedule.get(base_id or "", ()):
            if base.verified is None:
                continue
            due = self.tranche_due(ob, base.verified)
            if due is None:
                continue
            got = mine.get(base.number)
            if got is not None and got.verified is not None and got.at <= due.at + grace:
                continue
            cand = Moment(due.at + grace, due.depth, f"{ob.id} #{base.number} breached", prior=due)
            if worst is None or (cand.at, cand.depth) < (worst.at, worst.depth):
                worst = cand
        return worst

    def tranche_due(self, ob: Obligation, base_verified: Moment) -> Moment | None:
        """The deadline of one proportional tranche: `after_each` from its base's verification
        (or from the obligation's start, if later)."""
        if isinstance(ob.due, AfterEach):
            each = ob.due.after_each
            start = self.obligation_start(ob.id)
            anchor = base_verified if start is None else latest([base_verified, start])
            return Moment(
                anchor.at + each, anchor.depth, f"{format_duration(each)} after {anchor.label}",
                prior=anchor, deps=anchor.deps,
            )
        return self.due(ob.id)

    def rate_until(self, ob: Obligation) -> Moment | None:
        if ob.window is None or ob.window.until is None:
            return None
        return self.condition(ob.window.until)

    def _rate_periods(self, ob: Obligation, start: Moment) -> Sequence[tuple[datetime, datetime]]:
        until = self.rate_until(ob)
        end = until.at if until is not None else self.horizon
        length = ob.quantity.per_period if ob.quantity else None
        if length is None:
            return ()
        return periods(start.at, end, length, self.agreement.timezone)

    def rate_periods(self, ob: Obligation) -> Sequence[tuple[datetime, datetime]]:
        start = self.obligation_start(ob.id)
        return () if start is None else self._rate_periods(ob, start)



class _Moments(ConditionFold[Moment | None]):
    """The evaluator's moment of each condition form: events from its schedule, `after` a
    labelled shift, `all` the latest part, `any` the earliest (ties: the shallowest)."""

    def __init__(self, ev: Evaluator) -> None:
        self.ev = ev

    def adopted(self) -> Moment | None:
        return self.ev.adopted

    def opened(self, stage_id: str) -> Moment | None:
        return self.ev.stage_opened(stage_id)

    def verified(self, obligation_id: str) -> Moment | None:
        return self.ev.verified(obligation_id)

    def delivered(self, obligation_id: str, at_least: float | int) -> Moment | None:
        return self.ev.delivered(obligation_id, float(at_least))

    def stage_complete(self, stage_id: str) -> Moment | None:
        return self.ev.stage_complete(stage_id)

    def breached(self, obligation_id: str) -> Moment | None:
        return self.ev.breached(obligation_id)

    def at(self, timestamp: str) -> Moment | None:
        return Moment(parse_timestamp(timestamp, self.ev.agreement.timezone), 0, f"at {timestamp}")

    def after(self, base: Moment | None, plus: timedelta) -> Moment | None:
        if base is None:
            return None
        return Moment(
            base.at + plus, base.depth, f"{format_duration(plus)} after {base.label}", prior=base, deps=base.deps,
        )

    def all_of(self, parts: list[Moment | None]) -> Moment | None:
        known = [m for m in parts if m is not None]
        return latest(known) if len(known) == len(parts) else None

    def any_of(self, parts: list[Moment | None]) -> Moment | None:
        known = [m for m in parts if m is not None]
        return min(known, key=lambda m: (m.at, m.depth)) if known else None
