"""From the ledger's facts to a `Status` at one moment: stages, obligations, consequences.

Resolution reads the ledger and `as_of` only; it never changes the ledger, so a held
`Evaluator` can be asked for any moment at or after its last entry without refolding.

Order of rules for one obligation:
1. It starts when its stage opens (or at its own `starts`, if later); before that `pending`.
2. Its kind's rules give `fulfilled`, `late`, `breached` or `active` (obligations.py,
   windows.py), with extensions moving `due` later (never earlier).
3. A waiver (every creditor in `to` has waived it) makes it `waived` from then, unless it was
   already fulfilled or late; a breach before the waiver is forgiven.
4. A breach of another obligation whose `on_breach.suspend` names it makes it `suspended`
   from that moment, unless it was fulfilled, late or breached before.

Consequences can chain (a breach suspends an obligation whose own breach would have
suspended another), so breaches are found by iterating to a fixed point: each round uses the
previous round's breaches for suspensions.  Stages: `locked` until `opens` holds; `breached`
once any of their obligations is breached; `complete` when every deliver/act obligation is
fulfilled, late or waived (rate and refrain never block) — unless one of the stage's
obligations was breached first, in which case it never completes and stages waiting on it
stay locked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from interlock.agreement.model import Obligation
from interlock.engine.ledger import Act, ClaimView, Ledger
from interlock.engine.moments import Moment, earliest, latest, merge, moment
from interlock.engine.obligations import (
    Outcome,
    delivered_moment,
    evaluate_plain,
    evaluate_proportional,
    owed_for,
    required_amount,
    units_of,
    verified_moment,
    verified_units,
)
from interlock.engine.status import Fact, Notification, ObligationStatus, StageStatus, Status
from interlock.engine.terms import BLOCKING_KINDS, Terms
from interlock.engine.windows import evaluate_rate, evaluate_refrain

SETTLED = frozenset({"fulfilled", "late", "breached", "waived", "suspended"})
_NEVER = 1 << 30
_T = TypeVar("_T")


@dataclass(frozen=True)
class Evaluation:
    status: ObligationStatus
    done: Moment | None
    breach: Moment | None


@dataclass(frozen=True)
class StageEvaluation:
    status: StageStatus
    opened: Moment | None
    complete: Moment | None


def resolve(ledger: Ledger, as_of: datetime, *, simulation: bool = False) -> Status:
    """The status of every stage and obligation at `as_of` (≥ the last folded entry)."""
    terms = ledger.terms
    previous: dict[str, Moment] = {}
    resolver = Resolver(ledger, as_of, previous)
    for _round in range(len(terms.obligations) + 2):
        resolver = Resolver(ledger, as_of, previous)
        breaches = resolver.breaches()
        if not terms.suspended_by or breaches == previous:
            break
        previous = breaches
    return resolver.status(simulation)


class Resolver:
    """One round of resolution; memoised, with cycle guards (a cycle never becomes true)."""

    def __init__(self, ledger: Ledger, as_of: datetime, breaches: dict[str, Moment]) -> None:
        self.ledger = ledger
        self.terms: Terms = ledger.terms
        self.as_of = as_of
        self.previous = breaches
        self._stages: dict[str, StageEvaluation] = {}
        self._opened: dict[str, Moment | None] = {}
        self._obligations: dict[str, Evaluation] = {}
        self._depth: dict[str, int] = {}
        self._low = _NEVER
        self._open_disputes: dict[str, list[int]] = {}
        for dispute in ledger.disputes.values():
            if dispute.settled is None and dispute.obligation is not None:
                self._open_disputes.setdefault(dispute.obligation, []).append(dispute.index)

    # --- Context for condition moments ----------------------------------------------------

    def time(self, text: str) -> datetime:
        return self.terms.time(text)

    def adopted(self) -> Moment | None:
        at = self.ledger.adopted_at
        if at is None or at > self.as_of:
            return None
        return Moment(at, self.ledger.adopted_by)

    def opened(self, stage_id: str) -> Moment | None:
        stage = self.terms.stages.get(stage_id)
        if stage is None:
            return None

        def compute() -> Moment | None:
            found = moment(stage.opens, self)
            return found if found is not None and found.at <= self.as_of else None

        return self._memo(self._opened, "open:" + stage_id, stage_id, compute, lambda: None)

    def _memo(
        self, cache: dict[str, _T], key: str, name: str, compute: Callable[[], _T], cyclic: Callable[[], _T]
    ) -> _T:
        """Memoised `compute()`; inside its own computation a key answers `cyclic`.

        A result that leaned on the cyclic answer of a key still being computed further out
        is provisional and not cached; it is recomputed when asked again from outside.
        """
        if name in cache:
            return cache[name]
        depth = self._depth.get(key)
        if depth is not None:
            self._low = min(self._low, depth)
            return cyclic()
        depth = len(self._depth)
        self._depth[key] = depth
        outer, self._low = self._low, _NEVER
        try:
            result = compute()
        finally:
            del self._depth[key]
            inner = self._low
            self._low = min(outer, inner)
        if inner >= depth:
            cache[name] = result
        return result

    def stage_complete(self, stage_id: str) -> Moment | None:
        if stage_id not in self.terms.stages:
            return None
        return self.stage(stage_id).complete

    def verified(self, obligation_id: str) -> Moment | None:
        ob = self.terms.obligations.get(obligation_id)
        if ob is None:
            return None
        if ob.kind in BLOCKING_KINDS and (ob.quantity is None or ob.quantity.per is None):
            return verified_moment(ob, self.ledger.view(obligation_id))
        return self.obligation(obligation_id).done

    def delivered(self, obligation_id: str, at_least: float) -> Moment | None:
        ob = self.terms.obligations.get(obligation_id)
        if ob is None:
            return None
        return delivered_moment(ob, self.ledger.view(obligation_id), at_least)

    def breached(self, obligation_id: str) -> Moment | None:
        if obligation_id not in self.terms.obligations:
            return None
        return self.obligation(obligation_id).breach

    # --- obligations ----------------------------------------------------------------------

    def breaches(self) -> dict[str, Moment]:
        found = {}
        for oid in self.terms.obligations:
            breach = self.obligation(oid).breach
            if breach is not None:
                found[oid] = breach
        return found

    def obligation(self, oid: str) -> Evaluation:
        if oid in self._obligations:
            return self._obligations[oid]
        ob = self.terms.obligations[oid]

        def cyclic() -> Evaluation:
            return Evaluation(self._shell(ob, "pending", None, (), flags=set(), facts=()), None, None)

        return self._memo(self._obligations, "ob:" + oid, oid, lambda: self._evaluate(ob), cyclic)

    def _start(self, ob: Obligation) -> Moment | None:
        start = self.opened(self.terms.stage_of[ob.id])
        if start is None:
            return None
        if ob.starts is not None:
            own = moment(ob.starts, self)
            if own is None or own.at > self.as_of:
                return None
            start = start.later(own)
        return start

    def _creditors_act(self, oid: str, kind: str) -> list[Act] | None:
        """Each creditor's latest non-void act of `kind`, once every creditor has one."""
        ob = self.terms.obligations[oid]
        latest: dict[str, Act] = {}
        for act in self.ledger.acts_of.get(oid, ()):
            if act.type == kind and act.index not in self.ledger.voids and act.author in ob.to:
                latest[act.author] = act
        if not ob.to or set(latest) != set(ob.to):
            return None
        return list(latest.values())

    def _extension(self, oid: str) -> Moment | None:
        acts = self._creditors_act(oid, "extend")
        if not acts:
            return None
        due = min(a.due for a in acts if a.due is not None)
        return Moment(due, tuple(sorted(a.index for a in acts)))

    def _waiver(self, oid: str) -> Moment | None:
        acts = self._creditors_act(oid, "waive")
        if not acts:
            return None
        return Moment(max(a.at for a in acts), tuple(sorted(a.index for a in acts)))

    def _due(self, ob: Obligation, extension: Moment | None) -> Moment | None:
        if ob.due is None or not _is_condition(ob.due):
            return None
        due = moment(ob.due, self)  # type: ignore[arg-type]
        if due is not None and extension is not None and extension.at > due.at:
            return Moment(extension.at, merge(due.because, extension.because))
        return due

    def _window(self, ob: Obligation, start: Moment) -> tuple[Moment | None, Moment | None]:
        if ob.window is None:
            return start, None
        begin = moment(ob.window.from_, self)
        if begin is None:
            return None, None
        until = None if ob.window.until is None else moment(ob.window.until, self)
        return start.later(begin), until

    def _outcome(self, ob: Obligation, start: Moment, view: ClaimView) -> Outcome:
        grace = self.terms.grace(ob.id)
        extension = self._extension(ob.id)
        if ob.kind in BLOCKING_KINDS and ob.quantity is not None and ob.quantity.per is not None:
            base_ob = self.terms.obligations.get(ob.quantity.per)
            if base_ob is not None:
                base = self.obligation(base_ob.id)
                settled = None
                if base.status.state in SETTLED and base.status.since is not None:
                    settled = Moment(base.status.since, ())
                return evaluate_proportional(
                    ob, base_ob, view, self.ledger.view(base_ob.id), start=start, due=self._due(ob, None),
                    extension=extension, base_settled=settled, grace=grace, as_of=self.as_of,
                )
        if ob.kind in BLOCKING_KINDS:
            return evaluate_plain(ob, view, start, due=self._due(ob, extension), grace=grace, as_of=self.as_of)
        begin, until = self._window(ob, start)
        if begin is None or begin.at > self.as_of:
            return Outcome("pending")
        if ob.kind == "rate":
            return evaluate_rate(
                ob, view, window_from=begin, window_until=until, grace=grace, tz_name=self.terms.timezone,
                as_of=self.as_of,
            )
        return evaluate_refrain(ob, view, begin, until, self.as_of)

    def _evaluate(self, ob: Obligation) -> Evaluation:
        oid = ob.id
        view = self.ledger.view(oid)
        start = self._start(ob)
        outcome = Outcome("pending") if start is None else self._outcome(ob, start, view)
        if outcome.state == "pending":
            outcome.required, outcome.verified = self._display_amounts(ob, view)
        waiver = self._waiver(oid)
        if waiver is not None and waiver.at > self.as_of:
            waiver = None
        suspension = self._suspension(oid)
        state, since, because = outcome.state, outcome.since, outcome.because
        done, breach = outcome.done, outcome.breach
        facts = list(outcome.facts)
        if waiver is not None and not (done is not None and done.at <= waiver.at):
            state, since, done, breach = "waived", waiver.at, waiver, None
            because = merge(because, waiver.because)
            facts.append(Fact("waived", waiver.because, waiver.at))
        elif suspension is not None and done is None and not (breach is not None and breach.at <= suspension[1].at):
            by, when = suspension
            state, since, breach = "suspended", when.at, None
            because = merge(because, when.because)
            facts.append(Fact("suspended", when.because, when.at, ref=by))
        flags, flag_entries, flag_facts = self._flags(oid, view)
        flags |= outcome.flags
        if state in ("fulfilled", "late", "waived", "breached", "suspended"):
            flags.discard("overdue")
        facts.extend(flag_facts)
        everything = merge(because, flag_entries) if flag_entries else because  # `because` is sorted already
        status = self._shell(ob, state, since, everything, flags=flags, facts=tuple(facts))
        status = replace(
            status, required=outcome.required, verified=outcome.verified, due=outcome.due,
            tranches=outcome.tranches, periods=outcome.periods,
        )
        return Evaluation(status, done, breach)

    def _display_amounts(self, ob: Obligation, view: ClaimView) -> tuple[float | None, float]:
        verified = verified_units(ob, view)
        if ob.kind == "refrain":
            return None, 0.0
        if ob.kind == "rate":
            return float(ob.quantity.amount or 0) if ob.quantity else None, 0.0
        if ob.quantity is not None and ob.quantity.per is not None:
            base_ob = self.terms.obligations.get(ob.quantity.per)
            if base_ob is None:
                return 0.0, verified
            base = self.ledger.view(base_ob.id).counted
            return sum(owed_for(ob, c, base_ob) for c in base), verified
        return required_amount(ob)[0], verified

    def _suspension(self, oid: str) -> tuple[str, Moment] | None:
        """The first breach (of an obligation whose `on_breach.suspend` names `oid`)."""
        found = {
            other: breach for other in self.terms.suspended_by.get(oid, ())
            if (breach := self.previous.get(other)) is not None and breach.at <= self.as_of
        }
        first = earliest(list(found.values()))
        if first is None:
            return None
        return ",".join(sorted(o for o, b in found.items() if b.at == first.at)), first

    def _flags(self, oid: str, view: ClaimView) -> tuple[set[str], tuple[int, ...], list[Fact]]:
        flags: set[str] = set()
        entries: list[int] = []
        facts: list[Fact] = []
        ob = self.terms.obligations[oid]
        if view.late_report:
            flags.add("late_report")
            for c in view.late_report:
                entries.append(c.index)
                extra = (("integrated_at", c.integrated_at),)
                facts.append(Fact("late_report", (c.index,), c.observed_at, extra=extra))
        for c in view.contested:
            flags.add("contested")
            entries.extend((c.index, *c.rejected_by))
            facts.append(Fact("contested", (c.index, *c.rejected_by)))
        for c in view.awaiting:
            flags.add("awaiting_verification")
            entries.append(c.index)
            facts.append(Fact("awaiting", (c.index,), c.observed_at, amount=units_of(ob, c)))
        for c in view.voided:
            void = self.ledger.voids[c.index]
            entries.extend((c.index, void.dispute, *void.rulings))
            facts.append(Fact("void", (c.index, void.dispute, *void.rulings), void.at))
        for d in self._open_disputes.get(oid, ()):
            dispute = self.ledger.disputes[d]
            flags.add("disputed")
            entries.extend((dispute.target, d))
            facts.append(Fact("disputed", (dispute.target, d), dispute.at, ref=dispute.author))
        if ob.tranches is not None and len(view.counted) > ob.tranches:
            flags.add("excess_tranches")
            excess = view.by_verification[ob.tranches:]
            entries.extend(c.index for c in excess)
            facts.append(Fact("excess_tranches", tuple(c.index for c in excess), amount=float(ob.tranches)))
        for act in self.ledger.acts_of.get(oid, ()):
            if act.index in self.ledger.voids:
                continue
            if act.type == "impediment":
                flags.add("impeded")
                entries.append(act.index)
                facts.append(Fact("impeded", (act.index,), act.observed_at, ref=act.author))
            elif act.type == "suspend":
                flags.add("unilateral")
                entries.append(act.index)
                facts.append(Fact("unilateral", (act.index, *act.cites), act.at, ref=act.author))
            elif act.type == "extend":
                facts.append(Fact("extended", (act.index,), act.due, ref=act.author))
        return flags, tuple(entries), facts

    def _shell(
        self, ob: Obligation, state: str, since: datetime | None, because: tuple[int, ...],
        *, flags: set[str], facts: tuple[Fact, ...],
    ) -> ObligationStatus:
        unit = "incidents" if ob.kind == "refrain" else (ob.quantity.unit if ob.quantity else None)
        return ObligationStatus(
            id=ob.id, kind=ob.kind, state=state, stage=self.terms.stage_of[ob.id], by=ob.by,
            to=tuple(ob.to), required=None, verified=0.0, unit=unit, due=None,
            flags=tuple(sorted(flags)), because=because, since=since, facts=facts,
        )

    # --- stages ---------------------------------------------------------------------------

    def stage(self, sid: str) -> StageEvaluation:
        def cyclic() -> StageEvaluation:
            return StageEvaluation(StageStatus(sid, "locked", None, ()), None, None)

        return self._memo(self._stages, "stage:" + sid, sid, lambda: self._evaluate_stage(sid), cyclic)

    def _evaluate_stage(self, sid: str) -> StageEvaluation:
        opened = self.opened(sid)
        if opened is None:
            return StageEvaluation(StageStatus(sid, "locked", None, ()), None, None)
        facts = [Fact("opened", opened.because, opened.at)]
        evaluations = [(ob, self.obligation(ob.id)) for ob in self.terms.stages[sid].obligations]
        breaches = [(ev.breach, ob.id) for ob, ev in evaluations if ev.breach is not None]
        first_breach = None
        if breaches:
            breach = earliest([b for b, _ in breaches])
            assert breach is not None
            first_breach = (breach, ",".join(sorted(oid for b, oid in breaches if b.at == breach.at)))
        dones = [ev.done for ob, ev in evaluations if ob.kind in BLOCKING_KINDS]
        complete: Moment | None = None
        if all(done is not None for done in dones):
            done_moments = [done for done in dones if done is not None]
            complete = latest([opened, *done_moments]) if done_moments else opened
        if complete is not None and first_breach is not None and first_breach[0].at <= complete.at:
            complete = None
        if first_breach is not None:
            breach, by = first_breach
            facts.append(Fact("stage-breached", breach.because, breach.at, ref=by))
            status = StageStatus(sid, "breached", opened.at, merge(opened.because, breach.because),
                                 None if complete is None else complete.at, breach.at, tuple(facts))
        elif complete is not None:
            facts.append(Fact("stage-complete", complete.because, complete.at))
            status = StageStatus(sid, "complete", opened.at, complete.because, complete.at, None, tuple(facts))
        else:
            status = StageStatus(sid, "open", opened.at, opened.because, None, None, tuple(facts))
        return StageEvaluation(status, opened, complete)

    # --- the whole answer -----------------------------------------------------------------

    def status(self, simulation: bool) -> Status:
        stages = {sid: self.stage(sid).status for sid in self.terms.stages}
        obligations = {oid: self.obligation(oid).status for oid in self.terms.obligations}
        notifications = []
        for oid, ob in self.terms.obligations.items():
            breach = self.obligation(oid).breach
            if breach is not None and ob.on_breach is not None and ob.on_breach.notify:
                notifications.append(Notification(oid, tuple(ob.on_breach.notify), breach.at))
        notifications.sort(key=lambda n: (n.at, n.obligation))
        adopted = self.adopted()
        return Status(
            agreement=self.terms.hash,
            as_of=self.as_of,
            adopted_at=None if adopted is None else adopted.at,
            stages=stages,
            obligations=obligations,
            rejected=tuple(sorted(self.ledger.rejected, key=lambda r: r.index)),
            notifications=tuple(notifications),
            simulation=simulation,
            adopted_because=() if adopted is None else adopted.because,
        )


def _is_condition(due: object) -> bool:
    from interlock.agreement.model import AfterEach

    return not isinstance(due, AfterEach)
