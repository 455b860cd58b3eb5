"""`deliver` and `act` obligations: quantities, categories, deadlines, tranches, proportions.

Deadlines are judged on `observed_at` (DESIGN.md, "Deadlines"): the obligation is delivered
at the observation that completed its quantity (and every required category) among the
claims counted as of the evaluation; by `due` → `fulfilled`, by `due + grace` → `late`,
otherwise → `breached` at `due + grace` (a delivery observed after that still shows in
`verified`, but the breach stands).  It *became* fulfilled when the log first showed the
whole quantity verified: the verification moment of the completing claim (never before the
obligation started).

A proportional obligation (`quantity: {per: O, ratio: r}`) owes r × each counted claim of O,
in tranches ordered by when those claims were verified; each tranche is due `after_each`
after its base claim was verified (or after the obligation started, if later).  Its own
counted claims fill the tranches first-in first-out in order of observation.  Its state is
the worst of its tranches; with every tranche met it stays `active` until the base
obligation is settled (fulfilled, late, breached, waived or suspended).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from interlock.agreement.model import AfterEach, Obligation
from interlock.engine.claims import Claim
from interlock.engine.ledger import ClaimView
from interlock.engine.moments import Moment, earliest, latest, merge
from interlock.engine.status import Fact, PeriodStatus, TrancheStatus

CLAIMS_EXPLAINED = 25  # facts for at most the latest 25 counted claims (explanations stay short)


@dataclass
class Outcome:
    """An obligation's verdict by its own rules, before waivers and suspensions apply."""

    state: str
    since: datetime | None = None
    required: float | None = None
    verified: float = 0.0
    due: datetime | None = None
    because: tuple[int, ...] = ()
    done: Moment | None = None  # when it became fulfilled or late
    breach: Moment | None = None  # when it became breached
    flags: set[str] = field(default_factory=set)
    tranches: tuple[TrancheStatus, ...] = ()
    periods: tuple[PeriodStatus, ...] = ()
    facts: list[Fact] = field(default_factory=list)


def judge(
    delivered: datetime | None, due: datetime | None, grace: timedelta, start: datetime, as_of: datetime
) -> tuple[str, datetime | None]:
    """State by the deadline rule, and the breach time when breached."""
    if delivered is not None and (due is None or delivered <= due):
        return "fulfilled", None
    if delivered is not None and due is not None and delivered <= due + grace:
        return "late", None
    if due is not None and max(due + grace, start) <= as_of:
        return "breached", max(due + grace, start)
    return "active", None


def required_amount(ob: Obligation) -> tuple[float, dict[str, float]]:
    """Total units required and the per-category minimums (act: one unit)."""
    if ob.kind == "act" or ob.quantity is None:
        return 1.0, {}
    cats = {k: float(v) for k, v in (ob.quantity.categories or {}).items()}
    if ob.quantity.amount is not None:
        return float(ob.quantity.amount), cats
    return (sum(cats.values()) if cats else 1.0), cats


def units_of(ob: Obligation, claim: Claim) -> float:
    return 1.0 if ob.kind == "act" else claim.units


def verified_units(ob: Obligation, view: ClaimView) -> float:
    return float(len(view.counted)) if ob.kind == "act" else view.units


class _Tally:
    """Running totals of units and categories against a requirement."""

    def __init__(self, ob: Obligation, required: float, cats: dict[str, float]) -> None:
        self.ob, self.required, self.cats = ob, required, cats
        self.total = 0.0
        self.by_cat: dict[str, float] = dict.fromkeys(cats, 0.0)

    def add(self, claim: Claim) -> bool:
        """Count `claim`; True once every requirement is met."""
        self.total += units_of(self.ob, claim)
        for cat, amount in (claim.categories or {}).items():
            if cat in self.by_cat:
                self.by_cat[cat] += amount
        return self.met()

    def met(self) -> bool:
        eps = 1e-9
        return self.total + eps >= self.required and all(
            self.by_cat[c] + eps >= need for c, need in self.cats.items()
        )


def completion(ob: Obligation, claims: Sequence[Claim]) -> Claim | None:
    """The claim (in the given order) at which the whole quantity is first reached."""
    required, cats = required_amount(ob)
    tally = _Tally(ob, required, cats)
    for claim in claims:
        if tally.add(claim):
            return claim
    return None


def delivered_moment(ob: Obligation, view: ClaimView, at_least: float) -> Moment | None:
    """When the verified units of `ob` first reached `at_least` (memoised on the view)."""
    return view.remember(("delivered", ob.id, at_least), lambda: _delivered(ob, view, at_least))


def _delivered(ob: Obligation, view: ClaimView, at_least: float) -> Moment | None:
    total = 0.0
    for claim in view.by_verification:
        total += units_of(ob, claim)
        if total + 1e-9 >= at_least:
            assert claim.counted_at is not None
            return Moment(claim.counted_at, claim.evidence_entries())
    return None


def verified_moment(ob: Obligation, view: ClaimView) -> Moment | None:
    """`{verified: O}` for a plain deliver/act: the entry that completed verification."""
    def compute() -> Moment | None:
        claim = completion(ob, view.by_verification)
        if claim is None or claim.counted_at is None:
            return None
        return Moment(claim.counted_at, claim.evidence_entries())

    return view.remember(("verified", ob.id), compute)


def delivered_claim(ob: Obligation, view: ClaimView) -> Claim | None:
    """The counted claim whose observation completed the quantity (memoised on the view)."""
    return view.remember(("delivered-by", ob.id), lambda: completion(ob, view.counted))


def evaluate_plain(
    ob: Obligation, view: ClaimView, start: Moment, *, due: Moment | None, grace: timedelta, as_of: datetime
) -> Outcome:
    """A deliver or act obligation without proportion."""
    required, _cats = required_amount(ob)
    verified = verified_units(ob, view)
    evidence = view.evidence
    done_claim = delivered_claim(ob, view)
    delivered_at = None if done_claim is None else done_claim.observed_at
    due_at = None if due is None else due.at
    state, breach_at = judge(delivered_at, due_at, grace, start.at, as_of)
    out = Outcome(state, required=required, verified=verified, due=due_at)
    out.facts.append(Fact("required", amount=required, ref=ob.quantity.unit if ob.quantity else None))
    if due is not None:
        out.facts.append(Fact("due", due.because, due.at, text="due"))
    out.facts.extend(view.remember(("facts", ob.id), lambda: _claim_facts(ob, view)))
    if state in ("fulfilled", "late"):
        assert done_claim is not None
        complete = verified_moment(ob, view)
        assert complete is not None
        since = max(complete.at, start.at)
        out.since = since
        out.done = Moment(since, complete.because)
        out.because = evidence
        out.facts.append(Fact("completed", done_claim.evidence_entries(), done_claim.observed_at, amount=verified))
    elif state == "breached":
        assert breach_at is not None
        out.since = breach_at
        out.breach = Moment(breach_at, merge(evidence, due.because if due else ()))
        out.because = out.breach.because
        out.facts.append(Fact("deadline-passed", out.breach.because, breach_at, amount=verified))
    else:
        out.since = start.at
        out.because = evidence
        if due_at is not None and due_at < as_of:
            out.flags.add("overdue")
    return out


def _claim_facts(ob: Obligation, view: ClaimView) -> tuple[Fact, ...]:
    """Facts for the latest counted claims (at most `CLAIMS_EXPLAINED`), once per view."""
    shown = view.counted[-CLAIMS_EXPLAINED:]
    earlier = len(view.counted) - len(shown)
    head = (Fact("earlier-claims", amount=float(earlier)),) if earlier else ()
    return head + tuple(_claim_fact(ob, claim) for claim in shown)


def _claim_fact(ob: Obligation, claim: Claim) -> Fact:
    return Fact(
        "counted", claim.evidence_entries(), claim.counted_at, amount=units_of(ob, claim),
        extra=(("observed_at", claim.observed_at), ("type", claim.type), ("author", claim.author)),
    )


def owed_for(ob: Obligation, base_claim: Claim, base_ob: Obligation) -> float:
    """Units a proportional obligation owes for one counted claim of its base."""
    assert ob.quantity is not None
    ratio = ob.quantity.ratio if ob.quantity.ratio is not None else 1
    units = units_of(base_ob, base_claim)
    if not isinstance(ratio, dict):
        return float(ratio) * units
    lowest = min(float(r) for r in ratio.values())
    owed, named = 0.0, 0.0
    for cat, amount in (base_claim.categories or {}).items():
        if cat in ratio:
            owed += float(ratio[cat]) * amount
            named += amount
    return owed + lowest * max(units - named, 0.0)


@dataclass
class _Tranche:
    base: Claim
    owed: float
    due: Moment | None
    got: float = 0.0
    done: Claim | None = None
    claims: list[Claim] = field(default_factory=list)


def allocate(ob: Obligation, rows: list[_Tranche], answers: Sequence[Claim]) -> None:
    """First in, first out: answers in order of observation fill the tranches in order."""
    position = 0
    for claim in answers:
        left = units_of(ob, claim)
        while left > 1e-9 and position < len(rows):
            row = rows[position]
            take = min(left, row.owed - row.got)
            row.got += take
            row.claims.append(claim)
            left -= take
            if row.got + 1e-9 >= row.owed:
                row.done = claim
                position += 1


def evaluate_proportional(
    ob: Obligation,
    base_ob: Obligation,
    view: ClaimView,
    base_view: ClaimView,
    *,
    start: Moment,
    due: Moment | None,
    extension: Moment | None,
    base_settled: Moment | None,
    grace: timedelta,
    as_of: datetime,
) -> Outcome:
    """A proportional obligation: tranches per base claim, FIFO allocation, worst state."""
    assert ob.quantity is not None
    each = ob.due.after_each if isinstance(ob.due, AfterEach) else None
    rows: list[_Tranche] = []
    for base in base_view.by_verification:
        assert base.counted_at is not None
        tranche_due = due
        if each is not None:
            tranche_due = Moment(max(base.counted_at, start.at) + each, base.evidence_entries())
        if extension is not None and tranche_due is not None and extension.at > tranche_due.at:
            tranche_due = Moment(extension.at, merge(tranche_due.because, extension.because))
        rows.append(_Tranche(base, owed_for(ob, base, base_ob), tranche_due))
    allocate(ob, rows, view.counted)
    out = Outcome("active", required=sum(r.owed for r in rows), verified=verified_units(ob, view))
    tranches: list[TrancheStatus] = []
    breaches: list[Moment] = []
    done_moments: list[Moment] = []
    any_late = any_open = False
    first_open_due: datetime | None = None
    for row in rows:
        delivered_at = None if row.done is None else row.done.observed_at
        due_at = None if row.due is None else row.due.at
        state, breach_at = judge(delivered_at, due_at, grace, start.at, as_of)
        because = merge(row.base.evidence_entries(), *(c.evidence_entries() for c in row.claims))
        tranches.append(TrancheStatus(row.base.index, row.owed, row.got, due_at, state, because))
        if state == "breached":
            assert breach_at is not None
            breaches.append(Moment(breach_at, because))
        elif state in ("fulfilled", "late"):
            any_late = any_late or state == "late"
            counted = [c.counted_at for c in row.claims if c.counted_at is not None]
            done_at = max([start.at, row.base.counted_at or start.at, *counted])
            done_moments.append(Moment(done_at, because))
        else:
            any_open = True
            if first_open_due is None:
                first_open_due = due_at
    out.tranches = tuple(tranches)
    out.due = first_open_due if first_open_due is not None else (tranches[-1].due if tranches else None)
    out.because = merge(*(t.because for t in tranches))
    out.facts.append(Fact("proportional", ref=ob.quantity.per, amount=out.required))
    if breaches:
        first = earliest(breaches)
        assert first is not None
        out.state, out.since, out.breach = "breached", first.at, first
    elif any_open or base_settled is None:
        out.state, out.since = "active", start.at
        if out.due is not None and out.due < as_of and any_open:
            out.flags.add("overdue")
    else:
        last = latest([base_settled, *done_moments]) if done_moments else base_settled
        out.state = "late" if any_late else "fulfilled"
        out.since = max(last.at, start.at)
        out.done = Moment(out.since, last.because)
    return out
