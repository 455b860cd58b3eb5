"""The nominal run of a plan: every obligation delivered on schedule, found as a fixpoint.

`simulate(agreement, scenario)` delivers each obligation at its earliest allowed moment
(`optimistic`: from the moment it starts) or at its deadline (`deadline`; an obligation
with no `due` at all is delivered when it starts, one whose `due` never comes is never
delivered), its tranches evenly spread between start and due, each verified `scenario.lag(obligation)` after its
handover (never, if nobody can verify it).  A proportional obligation answers each verified
base tranche; a rate obligation delivers its amount in every whole period of its window
(up to the run's end when the window is open-ended); a refrain obligation is not a transfer
and has no deliveries.

Why a fixpoint: whether a stage opens depends on deliveries, and deliveries depend on stages
opening.  Starting from "nothing delivered", the schedule is recomputed from the moments the
previous schedule implies until it no longer changes.  Each round settles at least one more
link of the plan's chain of conditions, so a plan needs at most about one round per stage
and obligation: `round_limit` allows `MAX_ROUNDS` plus two per stage and obligation.
Conditions on breaches can make a plan paradoxical (a stage that opens only if its own
obligation fails); then the run is marked `settled=False` after that many rounds and the
last schedule is used.

The condition rules are a seam: `Oracle` builds the evaluator from a schedule.  The default
is the local `Evaluator`; `interlock.analysis.synthetic` checks the same run with the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from interlock.agreement.model import Agreement, Obligation
from interlock.analysis.moments import (
    Evaluator,
    answer_units,
    base_categories,
    latest,
    verifiable,
)
from interlock.analysis.run import Breach, Moment, Run, Scenario, Tranche

MAX_ROUNDS = 60
"""Rounds allowed beyond the plan's own length (see `round_limit`)."""
Schedule = dict[str, tuple[Tranche, ...]]
Oracle = Callable[[Agreement, Scenario, Mapping[str, Sequence[Tranche]], datetime], Evaluator]
Planner = Callable[[Evaluator, Obligation, set[str]], tuple[Tranche, ...]]
"""(evaluator of the previous round's schedule, obligation, notes to add to) → its tranches."""


def local_oracle(
    agreement: Agreement, scenario: Scenario, schedule: Mapping[str, Sequence[Tranche]], horizon: datetime
) -> Evaluator:
    return Evaluator(agreement, scenario, schedule, horizon)


@dataclass(frozen=True)
class Settled:
    """The fixpoint: the schedule, the run's horizon, the evaluator of that schedule."""

    schedule: Schedule
    horizon: datetime
    ev: Evaluator
    settled: bool
    notes: frozenset[str]
    rounds: int


def round_limit(agreement: Agreement) -> int:
    """Rounds a fixpoint may take: `MAX_ROUNDS` plus two per stage and obligation."""
    return MAX_ROUNDS + 2 * (len(agreement.stages) + sum(1 for _ in agreement.obligations()))


def settle(
    agreement: Agreement, scenario: Scenario, oracle: Oracle = local_oracle, planner: Planner | None = None,
    *, start: tuple[Schedule, datetime] | None = None, max_rounds: int | None = None,
    history: list[Schedule] | None = None,
) -> Settled:
    """Iterate the schedule from "nothing delivered" (or from `start`: a schedule and its
    horizon) until it no
    longer changes, at most `max_rounds` times (default `round_limit`).  Once settled, the
    last round's evaluator already reads the final schedule, so it is the one returned (no
    extra evaluation).  An oracle with a `begin()` method is replaced by what it returns for
    the rounds of this fixpoint (the engine's keeps what it folded in the previous round).
    `history`, when given, receives the schedule each round started from."""
    plan = planner or plan_obligation
    begin = getattr(oracle, "begin", None)
    if callable(begin):  # an oracle that keeps state across the rounds of one fixpoint
        oracle = begin()
    schedule: Schedule = dict(start[0]) if start is not None else {}
    horizon = start[1] if start is not None else scenario.horizon or scenario.start
    settled = False
    notes: set[str] = set()
    rounds = 0
    ev: Evaluator | None = None
    for _ in range(round_limit(agreement) if max_rounds is None else max_rounds):
        rounds += 1
        if history is not None:
            history.append(schedule)
        ev = oracle(agreement, scenario, schedule, horizon)
        notes = set()
        new = {ob.id: plan(ev, ob, notes) for _, ob in agreement.obligations()}
        new_horizon = scenario.horizon or _end_of(agreement, ev, new)
        if _same(new, schedule) and new_horizon == horizon:
            settled = True
            break
        schedule, horizon = new, new_horizon
    if not settled or ev is None:
        ev = oracle(agreement, scenario, schedule, horizon)
    return Settled(schedule, horizon, ev, settled, frozenset(notes), rounds)


def simulate(
    agreement: Agreement, scenario: Scenario, oracle: Oracle = local_oracle, planner: Planner | None = None,
    *, confirm: bool = True,
) -> Run:
    """The run of `agreement` under `scenario`.  Pure; never raises for a valid agreement.

    With an oracle other than the local rules (the engine), the fixpoint is first found by
    the local rules (planned through `interlock.analysis.shared`'s memo) and the oracle
    *confirms* it: one round with the oracle on that schedule must give it back unchanged.
    If it does not (the two disagree, or the local run did not settle), the fixpoint is
    found again round by round with the oracle alone, as it is with `confirm=False`.
    Either way the run is a fixpoint of the oracle's rules.
    """
    fix: Settled | None = None
    rounds = 0
    if confirm and oracle is not local_oracle and planner is None:
        from interlock.analysis.shared import Shared  # builds on this module

        view = Shared(agreement).view(scenario)  # the local rules, planning only what changed
        local = settle(agreement, scenario, view.oracle, view.plan)
        rounds = local.rounds
        if local.settled:
            confirmed = settle(agreement, scenario, oracle, start=(local.schedule, local.horizon), max_rounds=1)
            fix = confirmed if confirmed.settled else None
    if fix is None:
        fix = settle(agreement, scenario, oracle, planner)
    rounds += fix.rounds
    schedule, horizon, ev, settled = fix.schedule, fix.horizon, fix.ev, fix.settled
    notes = set(fix.notes)
    order = {ob.id: i for i, (_, ob) in enumerate(agreement.obligations())}
    tranches = sorted(
        (t for ts in schedule.values() for t in ts),
        key=lambda t: (t.at, t.depth, order[t.obligation], t.number),
    )
    opened = {s.id: m for s in agreement.stages if (m := ev.stage_opened(s.id)) is not None}
    complete = {s.id: m for s in agreement.stages if (m := ev.stage_complete(s.id)) is not None}
    breaches = breaches_of(agreement, ev)
    suspended: dict[str, datetime] = {}
    for _, ob in agreement.obligations():
        stop = ev.suspended(ob.id)
        if stop is not None:
            suspended[ob.id] = stop.at
    notes |= ev.remarks
    if not settled:
        notes.add("the schedule did not settle: conditions on breaches contradict each other")
    return Run(
        scenario, ev.adopted, tuple(tranches), opened, complete, breaches, suspended,
        horizon, settled, tuple(sorted(notes)), rounds,
    )


def breaches_of(agreement: Agreement, ev: Evaluator) -> tuple[Breach, ...]:
    """Every obligation `ev` finds breached, by moment then file order."""
    order = {ob.id: i for i, (_, ob) in enumerate(agreement.obligations())}
    breaches: list[Breach] = []
    for _, ob in agreement.obligations():
        hit = ev.breached(ob.id)
        if hit is not None:
            on = ob.on_breach
            breaches.append(Breach(
                ob.id, ob.by, hit.at,
                tuple(on.notify) if on else (), tuple(on.suspend) if on else (),
            ))
    breaches.sort(key=lambda b: (b.at, order[b.obligation]))
    return tuple(breaches)


def _same(a: Mapping[str, Sequence[Tranche]], b: Mapping[str, Sequence[Tranche]]) -> bool:
    return all(_same_tranches(a.get(k, ()), b.get(k, ())) for k in set(a) | set(b))


def _same_tranches(x: Sequence[Tranche], y: Sequence[Tranche]) -> bool:
    return x is y or (len(x) == len(y) and all(s is t or s.key() == t.key() for s, t in zip(x, y, strict=True)))


def _end_of(agreement: Agreement, ev: Evaluator, schedule: Mapping[str, Sequence[Tranche]]) -> datetime:
    """The run's own end: its last non-rate event or stage opening (at least adoption)."""
    kinds = {ob.id: ob.kind for _, ob in agreement.obligations()}
    moments = [ev.adopted.at]
    for oid, ts in schedule.items():
        if kinds.get(oid) == "rate":
            continue
        for t in ts:
            moments.append(t.verified_at or t.at)
    for stage in agreement.stages:
        m = ev.stage_opened(stage.id)
        if m is not None:
            moments.append(m.at)
    return max(moments)


def _tranche(
    ev: Evaluator, ob: Obligation, number: int, units: float, cats: Mapping[str, float], *,
    at: datetime, cause: Moment, checkable: bool | None = None,
) -> Tranche:
    depth = cause.depth + 1
    why = Moment(at, depth, f"{ob.id} #{number} delivered", prior=cause, deps=cause.deps)
    verified: Moment | None = None
    if checkable if checkable is not None else verifiable(ev.agreement, ob):
        lag = ev.scenario.lag(ob.id)
        verified = Moment(at + lag, depth, f"{ob.id} #{number} verified", prior=why,
                          deps=cause.deps | {(ob.id, number)})
    return Tranche(
        ob.id, number, units, at, verified.at if verified else None, depth, why, verified,
        tuple(sorted(cats.items())),
    )


def plan_obligation(ev: Evaluator, ob: Obligation, notes: set[str]) -> tuple[Tranche, ...]:
    """`ob`'s tranches given the moments `ev` knows: planned from its start, then only those
    its debtor still makes (`scenario.allowed`) and those before its suspension."""
    if ob.kind == "refrain":
        return ()
    start = ev.obligation_start(ob.id)
    if start is None:
        return ()
    planned = tuple(plan_from(ev, ob, start, notes))
    allowed = ev.scenario.allowed
    if allowed is not None and ob.by in allowed:
        planned = tuple(t for t in planned if t.id in allowed[ob.by])
    stop = ev.suspended(ob.id)
    if stop is not None:
        planned = tuple(t for t in planned if t.at < stop.at)
    return planned


def plan_from(
    ev: Evaluator, ob: Obligation, start: Moment, notes: set[str], bases: Sequence[Tranche] | None = None,
) -> list[Tranche]:
    """Every tranche `ob` would deliver from `start` (no `allowed` or suspension filter).
    A proportional obligation answers `bases` (default: its base's tranches in `ev`)."""
    if ob.kind == "rate":
        return _plan_rate(ev, ob, start, notes)
    if ob.quantity is not None and ob.quantity.per:
        if bases is None:
            bases = ev.schedule.get(ob.quantity.per, ())
        return _plan_proportional(ev, ob, start, notes, bases)
    return _plan_deliver(ev, ob, start, notes)


def _spread(start: datetime, end: datetime, count: int, index: int, mode: str) -> datetime:
    """Tranche `index` (1-based) of `count` evenly spread over [start, end]."""
    step = (end - start) / count
    return start + step * (index - 1 if mode == "optimistic" else index)


def _plan_deliver(ev: Evaluator, ob: Obligation, start: Moment, notes: set[str]) -> list[Tranche]:
    count = 1 if ob.kind == "act" else (ob.tranches or 1)
    need = ev.required(ob.id) or 1.0
    cats = base_categories(ev.agreement, ob)
    due = ev.due(ob.id)
    mode = ev.scenario.mode
    if due is None and mode == "deadline":
        if ob.due is not None:
            return []  # its deadline never comes: a debtor who waits for it never delivers
        notes.add(f"{ob.id} has no deadline: the deadline schedule delivers it when it starts")
    spread = due is not None and due.at > start.at
    cause = due if (mode == "deadline" and due is not None and spread) else start
    out = []
    checkable = verifiable(ev.agreement, ob)
    for i in range(1, count + 1):
        at = _spread(start.at, due.at, count, i, mode) if spread and due is not None else start.at
        share = {k: v / count for k, v in cats.items()}
        out.append(_tranche(ev, ob, i, need / count, share, at=at, cause=cause, checkable=checkable))
    return out


def _plan_proportional(
    ev: Evaluator, ob: Obligation, start: Moment, notes: set[str], bases: Sequence[Tranche],
) -> list[Tranche]:
    base_id = ob.quantity.per if ob.quantity else None
    base_ob = ev.agreement.obligation(base_id or "")
    if base_ob is None:
        return []
    ratio = ob.quantity.ratio if ob.quantity else None
    if isinstance(ratio, Mapping) and not base_categories(ev.agreement, base_ob):
        notes.add(f"{ob.id} has a ratio per category but {base_ob.id} has no categories: "
                  "the smallest ratio is used")
    out = []
    checkable = verifiable(ev.agreement, ob)
    for base in bases:
        if base.verified is None:
            continue
        units, cats = answer_units(ob, base.units, dict(base.categories))
        cause = latest([base.verified, start])
        if ev.scenario.mode == "deadline":
            due = ev.tranche_due(ob, base.verified)
            if due is None and ob.due is not None:
                continue  # its deadline never comes
            if due is None:
                notes.add(f"{ob.id} has no deadline: the deadline schedule answers each tranche "
                          "when its base is verified")
            else:
                cause = latest([due, start])
        out.append(_tranche(ev, ob, base.number, units, cats, at=cause.at, cause=cause, checkable=checkable))
    return out


def _plan_rate(ev: Evaluator, ob: Obligation, start: Moment, notes: set[str]) -> list[Tranche]:
    q = ob.quantity
    if q is None or q.per_period is None:
        notes.add(f"{ob.id} is a rate without `per_period`: not modelled")
        return []
    amount = float(q.amount) if q.amount is not None else float(sum((q.categories or {}).values()))
    if ev.rate_until(ob) is None:
        notes.add(f"{ob.id} has an open-ended window: modelled up to the end of the run")
    out = []
    minute = timedelta(minutes=1)
    checkable = verifiable(ev.agreement, ob)
    for n, (begin, end) in enumerate(ev.rate_periods(ob), start=1):
        cause = Moment(begin, start.depth, f"period {n} of {ob.id} begins", prior=start, deps=start.deps)
        late = end - minute if end - begin > 2 * minute else begin
        at = begin if ev.scenario.mode == "optimistic" else late
        out.append(_tranche(ev, ob, n, amount, dict(q.categories or {}), at=at, cause=cause, checkable=checkable))
    return out


__all__ = [
    "MAX_ROUNDS",
    "Oracle",
    "Planner",
    "Schedule",
    "Settled",
    "breaches_of",
    "local_oracle",
    "plan_from",
    "plan_obligation",
    "round_limit",
    "settle",
    "simulate",
]
