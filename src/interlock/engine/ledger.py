"""The `Ledger`: everything the fold has learnt from accepted entries, updated in O(1) each.

The ledger holds facts, not verdicts: who adopted, which version is in force, the claims and
their backings, disputes and rulings, extensions, waivers, unilateral suspensions and
impediments.  States are derived from it at a moment by `interlock.engine.resolve`.

Amendments: an `amend` names the version in force and carries a new document; it takes effect
at the entry where every required signer of the version in force has signed the same
document.  From then on statements must name the new hash; entries before keep their meaning
(their authorisation and whether their author was a verifier are fixed when they were folded),
and the status is computed under the terms now in force.  Taking an amendment re-settles every
claim (the quorum may have changed): O(claims), once per amendment.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from itertools import accumulate
from operator import attrgetter
from typing import Any, TypeVar, cast

from interlock.engine.claims import Backing, Claim, Dispute, Void, settle_claim
from interlock.engine.status import Rejection
from interlock.engine.terms import Terms
from interlock.statements.model import (
    STATEMENT_TYPES,
    AttestBody,
    ClaimBody,
    DisputeBody,
    ExtendBody,
    ImpedimentBody,
    IncidentBody,
    RulingBody,
    Statement,
    SuspendBody,
)

_T = TypeVar("_T")
TYPE_NAMES = {name: name for name in STATEMENT_TYPES}


@dataclass(frozen=True)
class Accepted:
    """An entry that passed authorisation, ready to fold.  `amendment` is the parsed new version."""

    index: int
    at: datetime
    statement: Statement
    amendment: Terms | None = None


@dataclass(frozen=True)
class Act:
    """An `extend`, `waive`, `suspend` or `impediment` entry about one obligation."""

    index: int
    type: str
    obligation: str | None
    author: str
    at: datetime
    due: datetime | None = None
    observed_at: datetime | None = None
    cites: tuple[int, ...] = ()


@dataclass
class Proposal:
    terms: Terms
    signers: dict[str, int] = field(default_factory=dict)


# Sort keys, as C-level getters (the views of a million claims are sorted on every change):
# (observed_at, index) and (counted_at, counted_by, index).
_by_observation = attrgetter("observed_at", "index")
_by_counting = attrgetter("counted_at", "counted_by", "index")


def _sorted_into(
    ordered: tuple[Claim, ...], new: list[Claim], key: Callable[[Claim], Any]
) -> tuple[Claim, ...]:
    """`ordered` (sorted by `key`, keys unique) with `new` added, sorted by `key`."""
    if len(new) > 16:  # many new claims: one sort (Timsort merges the sorted run it finds)
        return tuple(sorted([*ordered, *new], key=key))
    out = list(ordered)
    for claim in new:
        insort(out, claim, key=key)
    return tuple(out)


def _evidence_of(claims: Sequence[Claim]) -> tuple[int, ...]:
    """The claims and the entries that completed their verification, sorted, once each."""
    out: set[int] = set()
    for claim in claims:
        out.update(claim.evidence_entries())
    return tuple(sorted(out))


class ClaimView:
    """An obligation's claims sorted for the rules, with aggregates computed once per change.

    `counted` is in order of observation, `by_verification` in the order the claims came to
    count.  A view is immutable: the ledger builds a new one when a claim of the obligation
    changes, so everything derived from it (`memo`, the cached properties) stays valid.

    `ClaimView(claims, after=view)` is the view of `view`'s claims followed by `claims`, when
    those are new (higher indices, in index order) and none of `view`'s claims changed since:
    the same view as one built from all the claims, without a pass over the old ones in Python
    (the sort keys are unique, so inserting in order gives what sorting gives).
    """

    def __init__(self, claims: Sequence[Claim], *, after: ClaimView | None = None) -> None:
        counted: list[Claim] = []
        awaiting: list[Claim] = [] if after is None else list(after.awaiting)
        contested: list[Claim] = [] if after is None else list(after.contested)
        voided: list[Claim] = [] if after is None else list(after.voided)
        late: list[Claim] = [] if after is None else list(after.late_report)
        for c in claims:  # one pass (claims are in index order, and so is each list)
            if c.counted:
                counted.append(c)
            elif not c.contested and not c.voided:
                awaiting.append(c)
            if c.contested:
                contested.append(c)
            if c.voided:
                voided.append(c)
            elif c.late_report:
                late.append(c)
        before: tuple[Claim, ...] = () if after is None else after.counted
        by_counting: tuple[Claim, ...] = () if after is None else after.by_verification
        self.counted: tuple[Claim, ...] = _sorted_into(before, counted, _by_observation)
        self.by_verification: tuple[Claim, ...] = _sorted_into(by_counting, counted, _by_counting)
        self.awaiting: tuple[Claim, ...] = tuple(awaiting)
        self.contested: tuple[Claim, ...] = tuple(contested)
        self.voided: tuple[Claim, ...] = tuple(voided)
        self.late_report: tuple[Claim, ...] = tuple(late)
        self.memo: dict[object, object] = {}
        # What `after` had already summed up, and the claims that count since (never `after`
        # itself: a chain of views would keep every old view alive).
        self._new_counted: list[Claim] = [] if after is None else counted
        self._old_evidence: tuple[int, ...] | None = None
        self._old_sum: float | None = None
        if after is not None:
            self._old_evidence = after.__dict__.get("evidence")
            in_order = not before or not counted or min(map(_by_observation, counted)) > _by_observation(before[-1])
            if in_order:  # the new claims follow the old in order of observation: sums go on
                self._old_sum = after.__dict__.get("_sum")

    def remember(self, key: object, compute: Callable[[], _T]) -> _T:
        """`compute()`, once per view and key (the view never changes, so neither does it)."""
        if key not in self.memo:
            self.memo[key] = compute()
        return cast(_T, self.memo[key])

    @cached_property
    def evidence(self) -> tuple[int, ...]:
        """Every counted claim and the entries that completed their verification."""
        old = self._old_evidence
        if old is not None:
            new = _evidence_of(self._new_counted)
            if not old or not new or new[0] > old[-1]:  # the new entries all come after the old
                return old + new
        return _evidence_of(self.counted)

    @cached_property
    def _sum(self) -> float:
        """The counted claims' units, added in order of observation."""
        if self._old_sum is None:
            return sum(c.units for c in self.counted)
        return sum((c.units for c in self.counted[len(self.counted) - len(self._new_counted):]), self._old_sum)

    @cached_property
    def units(self) -> float:
        return float(self._sum)

    @cached_property
    def times(self) -> list[datetime]:
        """Observation times of the counted claims, ascending (for bisection)."""
        return [c.observed_at for c in self.counted]

    @cached_property
    def running(self) -> list[float]:
        """running[i] = units of the first i counted claims in order of observation."""
        return [0.0, *accumulate(c.units for c in self.counted)]


class Ledger:
    """Facts folded so far.  `terms` is the version in force; `base` the adopted one."""

    def __init__(self, base: Terms) -> None:
        self.base = base
        self.terms = base
        self.versions: list[tuple[datetime | None, int | None, Terms]] = [(None, None, base)]
        self.size = 0
        self.last_index = -1
        self.last_time: datetime | None = None
        self.adopters: dict[str, int] = {}
        self.adopted_at: datetime | None = None
        self.adopted_by: tuple[int, ...] = ()
        self.nonces: dict[str, set[str]] = {}
        self.rejected: list[Rejection] = []
        self.rejected_index: set[int] = set()
        self.claims: dict[int, Claim] = {}
        self.claims_of: dict[str, list[Claim]] = {}
        self.unattributed: list[Claim] = []
        self.attests: dict[int, int] = {}
        self.voids: dict[int, Void] = {}
        self.disputes: dict[int, Dispute] = {}
        self.disputes_of: dict[int, list[int]] = {}
        self.acts: dict[int, Act] = {}
        self.acts_of: dict[str, list[Act]] = {}
        self.proposals: dict[str, Proposal] = {}
        self.generation: dict[str, int] = {}
        self._views: dict[str, tuple[int, ClaimView]] = {}
        # Since an obligation's cached view was built: the claims added to it (`_fresh`), and
        # whether anything else touched it (`_changed`: an attestation, a ruling, …).  With
        # only new claims, the next view extends the cached one instead of re-sorting them all.
        self._fresh: dict[str, list[Claim]] = {}
        self._changed: set[str] = set()

    # --- queries used by authorisation and resolution -------------------------------------

    def nonce_used(self, author: str, nonce: str) -> bool:
        seen = self.nonces.get(author)
        return seen is not None and nonce in seen

    def obligation_of_entry(self, index: int) -> str | None:
        """The obligation an accepted entry rests on (claims, attests, acts), if any."""
        claim = self.claims.get(index)
        if claim is not None:
            return claim.obligation
        target = self.attests.get(index)
        if target is not None:
            return self.claims[target].obligation
        act = self.acts.get(index)
        return None if act is None else act.obligation

    def disputable(self, index: int) -> bool:
        return index in self.claims or index in self.attests or index in self.acts

    def view(self, obligation_id: str) -> ClaimView:
        """The obligation's claims, sorted; cached until one of them changes."""
        generation = self.generation.get(obligation_id, 0)
        cached = self._views.get(obligation_id)
        if cached is not None and cached[0] == generation:
            return cached[1]
        fresh = self._fresh.pop(obligation_id, None)
        if cached is not None and fresh is not None and obligation_id not in self._changed:
            view = ClaimView(fresh, after=cached[1])
        else:
            view = ClaimView(self.claims_of.get(obligation_id, []))
        self._changed.discard(obligation_id)
        self._views[obligation_id] = (generation, view)
        return view

    def touch(self, obligation_id: str | None) -> None:
        """Something about the obligation changed: its next view is built from all its claims."""
        if obligation_id is not None:
            self.generation[obligation_id] = self.generation.get(obligation_id, 0) + 1
            self._changed.add(obligation_id)

    def _touch_new(self, claim: Claim, obligation_id: str) -> None:
        """A new claim of the obligation (settled, with the highest index so far)."""
        self.generation[obligation_id] = self.generation.get(obligation_id, 0) + 1
        if obligation_id in self._views:  # remembered only while there is a view to extend
            self._fresh.setdefault(obligation_id, []).append(claim)

    def open_disputes(self, index: int) -> list[Dispute]:
        return [
            self.disputes[d] for d in self.disputes_of.get(index, ()) if self.disputes[d].settled is None
        ]

    # --- folding --------------------------------------------------------------------------

    def record_rejection(self, rejection: Rejection, at: datetime) -> None:
        self.rejected.append(rejection)
        self.rejected_index.add(rejection.index)
        self._advance(rejection.index, at)

    def _advance(self, index: int, at: datetime) -> None:
        self.size += 1
        self.last_index = index
        if self.last_time is None or at > self.last_time:
            self.last_time = at

    def apply(self, acc: Accepted) -> None:
        """Fold one accepted entry in.  O(1) except an amendment taking effect."""
        st = acc.statement
        self.nonces.setdefault(st.author, set()).add(st.nonce)
        self._advance(acc.index, acc.at)
        handler = getattr(self, "_on_" + st.type)
        handler(acc, st)

    def _on_adopt(self, acc: Accepted, st: Statement) -> None:
        self.adopters.setdefault(st.author, acc.index)
        if self.adopted_at is None and self.base.required_adopters <= set(self.adopters):
            self.adopted_at = acc.at
            self.adopted_by = tuple(sorted(self.adopters[a] for a in self.base.required_adopters))

    def _on_note(self, acc: Accepted, st: Statement) -> None:
        return None

    def _on_amend(self, acc: Accepted, st: Statement) -> None:
        assert acc.amendment is not None
        proposal = self.proposals.setdefault(acc.amendment.hash, Proposal(acc.amendment))
        proposal.signers.setdefault(st.author, acc.index)
        if self.terms.required_adopters <= set(proposal.signers):
            self.terms = proposal.terms
            self.versions.append((acc.at, acc.index, proposal.terms))
            self.proposals.clear()
            for claim in self.claims.values():
                settle_claim(claim, self.terms.quorum(claim.obligation), self.voids)
            for oid in list(self.generation) + list(self.terms.obligations):
                self.touch(oid)

    def _late_report(self, observed_at: datetime, at: datetime) -> bool:
        delay = self.terms.max_report_delay
        return observed_at > at or (delay is not None and at - observed_at > delay)

    def _on_declare(self, acc: Accepted, st: Statement) -> None:
        body = st.body
        assert isinstance(body, ClaimBody)
        self._new_claim(
            acc, st, obligation=body.obligation, units=body.amount, categories=body.categories,
            observed_text=body.observed_at,
        )

    _on_evidence = _on_declare

    def _on_incident(self, acc: Accepted, st: Statement) -> None:
        body = st.body
        assert isinstance(body, IncidentBody)
        self._new_claim(
            acc, st, obligation=body.obligation, units=1.0, categories=None, observed_text=body.observed_at
        )

    def _new_claim(
        self,
        acc: Accepted,
        st: Statement,
        *,
        obligation: str | None,
        units: float,
        categories: dict[str, Any] | None,
        observed_text: str,
    ) -> None:
        observed_at = self.terms.read(observed_text)
        cats = {k: float(v) for k, v in categories.items()} if categories else None
        names = self.terms.names  # share the agreement's strings: a log holds millions of claims
        obligation = None if obligation is None else names.get(obligation, obligation)
        claim = Claim(
            acc.index, type_=TYPE_NAMES[st.type], obligation=obligation, author=names.get(st.author, st.author),
            units=int(units) if float(units).is_integer() else units, categories=cats, observed_at=observed_at,
            integrated_at=acc.at, late_report=self._late_report(observed_at, acc.at),
            self_backed=obligation is not None and st.author in self.terms.verifiers(obligation),
        )
        self.claims[acc.index] = claim
        if obligation is None:
            self.unattributed.append(claim)
            return
        settle_claim(claim, self.terms.quorum(obligation), self.voids)
        self.claims_of.setdefault(obligation, []).append(claim)
        self._touch_new(claim, obligation)

    def _on_attest(self, acc: Accepted, st: Statement) -> None:
        body = st.body
        assert isinstance(body, AttestBody)
        claim = self.claims[body.entry]
        self.attests[acc.index] = claim.index
        if claim.obligation is None or st.author not in self.terms.verifiers(claim.obligation):
            return
        claim.attest(
            Backing(st.author, acc.index, acc.at, body.verdict == "confirm", body.attribution != "unconfirmed")
        )
        settle_claim(claim, self.terms.quorum(claim.obligation), self.voids)
        self.touch(claim.obligation)

    def _add_act(self, act: Act) -> None:
        self.acts[act.index] = act
        if act.obligation is not None:
            self.acts_of.setdefault(act.obligation, []).append(act)
            self.touch(act.obligation)

    def _on_impediment(self, acc: Accepted, st: Statement) -> None:
        body = st.body
        assert isinstance(body, ImpedimentBody)
        observed = self.terms.read(body.observed_at)
        self._add_act(Act(acc.index, "impediment", body.obligation, st.author, acc.at, observed_at=observed))

    def _on_suspend(self, acc: Accepted, st: Statement) -> None:
        body = st.body
        assert isinstance(body, SuspendBody)
        self._add_act(Act(acc.index, "suspend", body.obligation, st.author, acc.at, cites=tuple(body.cites)))

    def _on_extend(self, acc: Accepted, st: Statement) -> None:
        body = st.body
        assert isinstance(body, ExtendBody)
        due = self.terms.read(body.due)
        self._add_act(Act(acc.index, "extend", body.obligation, st.author, acc.at, due=due))

    def _on_waive(self, acc: Accepted, st: Statement) -> None:
        body = st.body
        self._add_act(Act(acc.index, "waive", getattr(body, "obligation", None), st.author, acc.at))

    def _on_dispute(self, acc: Accepted, st: Statement) -> None:
        body = st.body
        assert isinstance(body, DisputeBody)
        obligation = self.obligation_of_entry(body.entry)
        self.disputes[acc.index] = Dispute(acc.index, body.entry, st.author, acc.at, obligation)
        self.disputes_of.setdefault(body.entry, []).append(acc.index)
        self.touch(obligation)

    def _on_ruling(self, acc: Accepted, st: Statement) -> None:
        body = st.body
        assert isinstance(body, RulingBody)
        dispute = self.disputes[body.dispute]
        quorum = self.terms.ruling_quorum
        if not dispute.rule(st.author, body.decision, acc.index, acc.at, quorum):
            return
        self.touch(dispute.obligation)
        if dispute.settled != "upheld" or dispute.target in self.voids:
            return
        self.voids[dispute.target] = dispute.void()
        target = dispute.target
        claim = self.claims.get(target)
        if claim is None and target in self.attests:
            claim = self.claims[self.attests[target]]
        if claim is not None:
            settle_claim(claim, self.terms.quorum(claim.obligation), self.voids)
            self.touch(claim.obligation)
