"""From a simulated run to valued steps: who hands what to whom, at what cost and value.

Rules (docs/analysis.md, "Modelling"):
- the receivers of an obligation are the parties in its `to` (never its debtor); an
  obligation whose `to` names no party and no guarantor benefits every other party;
- a party's obligation whose `to` names only guarantors is an escrow *deposit*: covered,
  not yet in the other side's hands;
- a guarantor's obligation is the *release* of a deposit when its quantity is `per` that
  deposit, or when exactly one party deposits with that guarantor in the same unit; the
  depositor's covered value then becomes exposed, in proportion to the units released.
  Each deposit tranche is earmarked, in proportion to its units, for the receivers of the
  releases of its deposit (their own value of those releases);
  Any other guarantor (or monitor, mediator) obligation is a *contribution*;
- refrain obligations are not transfers and never become steps;
- costs count `1 − reversible` of the giver's value; values are each receiver's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from interlock.agreement.model import Agreement, Obligation
from interlock.analysis.run import Run, TrancheId
from interlock.analysis.steps import Step, StepKind, Terms
from interlock.analysis.values import Valuation


def recipients(agreement: Agreement, ob: Obligation) -> tuple[list[str], list[str]]:
    """(receiving parties, receiving guarantors) of `ob`."""
    roles = {p.id: p.role for p in agreement.parties}
    to = [x for x in ob.to if x != ob.by]
    parties = [x for x in to if roles.get(x) == "party"]
    guarantors = [x for x in to if roles.get(x) == "guarantor"]
    if not parties and not guarantors:
        parties = [p.id for p in agreement.parties if p.role == "party" and p.id != ob.by]
    return parties, guarantors


def receivers_of(agreement: Agreement, ob: Obligation) -> list[str]:
    """The parties that gain value from `ob` (none for an escrow deposit)."""
    parties, guarantors = recipients(agreement, ob)
    if _role(agreement, ob.by) == "party" and not parties and guarantors:
        return []
    return parties


def is_deposit(agreement: Agreement, ob: Obligation) -> bool:
    parties, guarantors = recipients(agreement, ob)
    return _role(agreement, ob.by) == "party" and not parties and bool(guarantors)


def released_deposit(agreement: Agreement, ob: Obligation) -> Obligation | None:
    """The deposit a guarantor's obligation releases, if it is a release (see module doc)."""
    if _role(agreement, ob.by) != "guarantor" or ob.kind == "refrain":
        return None
    deposits = [
        d for _, d in agreement.obligations()
        if is_deposit(agreement, d) and ob.by in d.to and d.id != ob.id
    ]
    if ob.quantity is not None and ob.quantity.per:
        return next((d for d in deposits if d.id == ob.quantity.per), None)
    unit = ob.quantity.unit if ob.quantity is not None else None
    same = [d for d in deposits if d.quantity is not None and d.quantity.unit == unit and unit]
    return same[0] if len({d.by for d in same}) == 1 and len(same) == 1 else None


def _role(agreement: Agreement, pid: str) -> str | None:
    party = agreement.party(pid)
    return party.role if party else None


def unit_totals(run: Run) -> dict[str, float]:
    """Units each obligation delivers in the run (the equal-weights denominator)."""
    totals: dict[str, float] = {}
    for t in run.tranches:
        totals[t.obligation] = totals.get(t.obligation, 0.0) + t.units
    return totals


def equal_shares(agreement: Agreement, totals: Mapping[str, float]) -> dict[tuple[str, str], float]:
    """(party, obligation) → the obligation's share of what the party gives, or receives.

    Only obligations the nominal run delivers (`totals`) count; refrains never do.  A deposit
    counts among its depositor's gifts, its release among its receiver's receipts.
    """
    gives: dict[str, list[str]] = {}
    gets: dict[str, list[str]] = {}
    roles = {p.id: p.role for p in agreement.parties}
    for _, ob in agreement.obligations():
        if totals.get(ob.id, 0.0) <= 0:
            continue
        if roles.get(ob.by) == "party":
            gives.setdefault(ob.by, []).append(ob.id)
        for p in receivers_of(agreement, ob):
            gets.setdefault(p, []).append(ob.id)
    out: dict[tuple[str, str], float] = {}
    for table in (gives, gets):
        for party, obs in table.items():
            for oid in obs:
                out[(party, oid)] = 1.0 / len(obs)
    return out


@dataclass(frozen=True)
class TrancheValue:
    """What one tranche of an obligation moves, as a step does (see `interlock.analysis.steps`)."""

    kind: StepKind
    sender: str | None
    cost: float
    receives: dict[str, float]
    escrow: str | None = None
    earmarked: dict[str, float] = field(default_factory=dict)

    @property
    def paid(self) -> float:
        """The sender's cost when it counts as handed over (handover, release)."""
        return self.cost if self.kind in ("handover", "release") else 0.0


class Valuer:
    """Values tranches of one plan: the same figures for the nominal run and every
    counterfactual (`totals` fixes the equal-weights denominators)."""

    def __init__(self, agreement: Agreement, valuation: Valuation, totals: Mapping[str, float]) -> None:
        self.agreement = agreement
        self.valuation = valuation
        self.totals = dict(totals)
        self.shares = equal_shares(agreement, self.totals)
        self._statics: dict[str, tuple[str | None, list[str], list[str], Obligation | None, float | None]] = {}

    def _static(self, ob: Obligation) -> tuple[str | None, list[str], list[str], Obligation | None, float | None]:
        """(debtor's role, receiving parties, receiving guarantors, released deposit, the
        depositor's whole cost of that deposit) — what does not depend on the units."""
        found = self._statics.get(ob.id)
        if found is None:
            parties, guarantors = recipients(self.agreement, ob)
            deposit = released_deposit(self.agreement, ob)
            whole = None if deposit is None else _released_cost(self.valuation, deposit, self.totals, self.shares)
            found = self._statics[ob.id] = (_role(self.agreement, ob.by), parties, guarantors, deposit, whole)
        return found

    def value(self, ob: Obligation, units: float) -> TrancheValue:
        agreement, valuation, totals, shares = self.agreement, self.valuation, self.totals, self.shares
        total = totals.get(ob.id, 0.0) or units
        role, parties, guarantors, deposit, whole = self._static(ob)
        kind: StepKind
        sender: str | None
        escrow: str | None = None
        earmarked: dict[str, float] = {}
        cost = 0.0
        if role == "party":
            sender = ob.by
            cost = valuation.worth(ob.by, ob.id, units, total, shares.get((ob.by, ob.id), 1.0))
            cost *= valuation.keep(ob.id)
            if parties:
                kind = "handover"
            else:
                kind, escrow, parties = "deposit", guarantors[0], []
                earmarked = _earmarked(agreement, valuation, ob, totals, share=units / total, shares=shares)
        elif deposit is not None and whole is not None:
            kind, sender = "release", deposit.by
            parties = [p for p in parties if p != deposit.by] or parties
            cost = whole * (units / total)
        else:
            kind, sender = "contribution", None
        receives = {p: valuation.worth(p, ob.id, units, total, shares.get((p, ob.id), 1.0)) for p in parties}
        return TrancheValue(kind, sender, cost, receives, escrow, earmarked)


def build_steps(
    agreement: Agreement, run: Run, valuation: Valuation,
    totals: Mapping[str, float] | None = None,
) -> list[Step]:
    """The run's tranches as valued steps, in event order.

    `totals` fixes the equal-weights denominators (pass the nominal run's for a
    counterfactual, so that weights do not change when fewer tranches are delivered).
    """
    valuer = Valuer(agreement, valuation, totals if totals is not None else unit_totals(run))
    index_of: dict[TrancheId, int] = {t.id: i for i, t in enumerate(run.tranches)}
    obs = {ob.id: ob for _, ob in agreement.obligations()}
    steps: list[Step] = []
    for i, t in enumerate(run.tranches):
        ob = obs[t.obligation]
        v = valuer.value(ob, t.units)
        requires = frozenset(index_of[d] for d in t.why.deps if d in index_of and index_of[d] != i)
        steps.append(Step(
            index=i, obligation=ob.id, tranche=t.number, giver=ob.by, sender=v.sender, kind=v.kind,
            cost=v.cost, receives=v.receives, at=t.at, verified_at=t.verified_at, depth=t.depth,
            units=t.units, unit=ob.quantity.unit if ob.quantity else None, escrow=v.escrow,
            earmarked=v.earmarked, requires=requires,
        ))
    return steps


def _earmarked(
    agreement: Agreement, valuation: Valuation, deposit: Obligation, totals: Mapping[str, float], *,
    share: float, shares: Mapping[tuple[str, str], float],
) -> dict[str, float]:
    """Each eventual receiver's value of `share` of all releases of `deposit`."""
    out: dict[str, float] = {}
    for _, ob in agreement.obligations():
        source = released_deposit(agreement, ob)
        if source is None or source.id != deposit.id:
            continue
        total = totals.get(ob.id, 0.0)
        if total <= 0:
            continue
        for p in recipients(agreement, ob)[0]:
            if p != deposit.by:
                out[p] = out.get(p, 0.0) + valuation.worth(p, ob.id, total, total, shares.get((p, ob.id), 1.0)) * share
    return out


def _released_cost(
    valuation: Valuation, deposit: Obligation, totals: Mapping[str, float],
    shares: Mapping[tuple[str, str], float],
) -> float:
    """The depositor's whole cost of `deposit` (what releasing all of it exposes)."""
    total = totals.get(deposit.id, 0.0)
    if total <= 0:
        return 0.0
    worth = valuation.worth(deposit.by, deposit.id, total, total, shares.get((deposit.by, deposit.id), 1.0))
    return worth * valuation.keep(deposit.id)


def obligation_terms(agreement: Agreement) -> dict[str, Terms]:
    """Per obligation: does it have a deadline, a consequence, a guarantor watching?"""
    roles = {p.id: p.role for p in agreement.parties}
    out: dict[str, Terms] = {}
    for _, ob in agreement.obligations():
        on = ob.on_breach
        deadline = ob.due is not None or ob.kind == "rate"
        consequence = on is not None and bool(on.suspend or on.notify)
        guarded = on is not None and any(roles.get(n) == "guarantor" for n in on.notify)
        out[ob.id] = Terms(deadline, consequence, guarded)
    return out


def steps_of(steps: Sequence[Step], party: str) -> list[Step]:
    return [s for s in steps if s.sender == party]
