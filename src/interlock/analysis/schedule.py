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
previous schedule implies until it no longer changes.  Conditions on breaches can make a plan
paradoxical (a stage that opens only if its own obligation fails); then the run is marked
`settled=False` after `MAX_ROUNDS` and the last schedule is used.

The condition rules are a seam: `Oracle` builds the evaluator from a schedule.  The default
is the local `Evaluator`; `interlock.analysis.synthetic` checks the same run with the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
Schedule = dict[str, tuple[Tranche, ...]]
Oracle = Callable[[Agreement, Scenario, Mapping[str, Sequence[Tranche]], datetime], Evaluator]


def local_oracle(
    agreement: Agreement, scenario: Scenario, schedule: Mapping[str, Sequence[Tranche]], horizon: datetime
) -> Evaluator:
    return Evaluator(agreement, scenario, schedule, horizon)


def simulate(agreement: Agreement, scenario: Scenario, oracle: Oracle = local_oracle) -> Run:
    """The run of `agreement` under `scenario`.  Pure; never raises for a valid agreement."""
    schedule: Schedule = {}
    horizon = scenario.horizon or scenario.start
    settled = False
    notes: set[str] = set()
    for _ in range(MAX_ROUNDS):
        ev = oracle(agreement, scenario, schedule, horizon)
        notes = set()
        new = {ob.id: tuple(_plan(ev, ob, notes)) for _, ob in agreement.obligations()}
        new_horizon = scenario.horizon or _end_of(agreement, ev, new)
        if _same(new, schedule) and new_horizon == horizon:
            settled = True
            break
        schedule, horizon = new, new_horizon
    ev = oracle(agreement, scenario, schedule, horizon)
    order = {ob.id: i for i, (_, ob) in enumerate(agreement.obligations())}
    tranches = sorted(
        (t for ts in schedule.values() for t in ts),
        key=lambda t: (t.at, t.depth, order[t.obligation], t.number),
    )
    opened = {s.id: m for s in agreement.stages if (m := ev.stage_opened(s.id)) is not None}
    complete = {s.id: m for s in agreement.stages if (m := ev.stage_complete(s.id)) is not None}
    breaches: list[Breach] = []
    suspended: dict[str, datetime] = {}
    for _, ob in agreement.obligations():
        hit = ev.breached(ob.id)
        if hit is not None:
            on = ob.on_breach
            breaches.append(Breach(
                ob.id, ob.by, hit.at,
                tuple(on.notify) if on else (), tuple(on.suspend) if on else (),
            ))
        stop = ev.suspended(ob.id)
        if stop is not None:
            suspended[ob.id] = stop.at
    notes |= ev.remarks
    if not settled:
        notes.add("the schedule did not settle: conditions on breaches contradict each other")
    breaches.sort(key=lambda b: (b.at, order[b.obligation]))
    return Run(
        scenario, ev.adopted, tuple(tranches), opened, complete, tuple(breaches), suspended,
        horizon, settled, tuple(sorted(notes)),
    )


def _same(a: Mapping[str, Sequence[Tranche]], b: Mapping[str, Sequence[Tranche]]) -> bool:
    keys = set(a) | set(b)
    return all([t.key() for t in a.get(k, ())] == [t.key() for t in b.get(k, ())] for k in keys)


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
    at: datetime, cause: Moment,
) -> Tranche:
    depth = cause.depth + 1
    why = Moment(at, depth, f"{ob.id} #{number} delivered", prior=cause, deps=cause.deps)
    verified: Moment | None = None
    if verifiable(ev.agreement, ob):
        lag = ev.scenario.lag(ob.id)
        verified = Moment(at + lag, depth, f"{ob.id} #{number} verified", prior=why,
                          deps=cause.deps | {(ob.id, number)})
    return Tranche(
        ob.id, number, units, at, verified.at if verified else None, depth, why, verified,
        tuple(sorted(cats.items())),
    )


def _plan(ev: Evaluator, ob: Obligation, notes: set[str]) -> list[Tranche]:
    if ob.kind == "refrain":
        return []
    start = ev.obligation_start(ob.id)
    if start is None:
        return []
    if ob.kind == "rate":
        planned = _plan_rate(ev, ob, start, notes)
    elif ob.quantity is not None and ob.quantity.per:
        planned = _plan_proportional(ev, ob, start, notes)
    else:
        planned = _plan_deliver(ev, ob, start, notes)
    allowed = ev.scenario.allowed
    if allowed is not None and ob.by in allowed:
        planned = [t for t in planned if t.id in allowed[ob.by]]
    stop = ev.suspended(ob.id)
    if stop is not None:
        planned = [t for t in planned if t.at < stop.at]
    return planned


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
    for i in range(1, count + 1):
        at = _spread(start.at, due.at, count, i, mode) if spread and due is not None else start.at
        share = {k: v / count for k, v in cats.items()}
        out.append(_tranche(ev, ob, i, need / count, share, at=at, cause=cause))
    return out


def _plan_proportional(ev: Evaluator, ob: Obligation, start: Moment, notes: set[str]) -> list[Tranche]:
    base_id = ob.quantity.per if ob.quantity else None
    base_ob = ev.agreement.obligation(base_id or "")
    if base_ob is None:
        return []
    ratio = ob.quantity.ratio if ob.quantity else None
    if isinstance(ratio, Mapping) and not base_categories(ev.agreement, base_ob):
        notes.add(f"{ob.id} has a ratio per category but {base_ob.id} has no categories: "
                  "the smallest ratio is used")
    out = []
    for base in ev.schedule.get(base_ob.id, ()):
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
        out.append(_tranche(ev, ob, base.number, units, cats, at=cause.at, cause=cause))
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
    for n, (begin, end) in enumerate(ev.rate_periods(ob), start=1):
        cause = Moment(begin, start.depth, f"period {n} of {ob.id} begins", prior=start, deps=start.deps)
        late = end - minute if end - begin > 2 * minute else begin
        at = begin if ev.scenario.mode == "optimistic" else late
        out.append(_tranche(ev, ob, n, amount, dict(q.categories or {}), at=at, cause=cause))
    return out


__all__ = ["MAX_ROUNDS", "Oracle", "Schedule", "local_oracle", "simulate"]
