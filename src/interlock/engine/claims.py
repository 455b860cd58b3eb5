"""Claims, their verification by quorum, contests, and disputes settled by rulings.

A claim is a `declare`, `evidence` or `incident` entry.  Its backers are the verifiers of its
obligation who authored it or confirmed it by `attest`; each verifier's latest verdict counts.
A claim counts once at least `quorum` verifiers back it and no verifier's latest verdict
rejects it; a rejection leaves it uncounted and `contested`.  An upheld dispute voids an
entry from the moment its ruling quorum is reached: a voided claim stops counting, a voided
attestation stops backing (or rejecting).

`settle_claim` replays a claim's small timeline (backings and voids in log order) and records
when it last *became* counted and by which entry — the moment `{verified: …}` conditions use.
For an incident, `attributed` additionally needs `quorum` backers who did not leave the
attribution `unconfirmed`; only an attributed incident can breach a `refrain` obligation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Backing:
    """A verifier's verdict on a claim: its own report (`confirm`) or an `attest`."""

    verifier: str
    index: int
    at: datetime
    confirm: bool
    attributed: bool = True


@dataclass(frozen=True, slots=True)
class Void:
    """An entry struck out by an upheld dispute: from `at`, settled by ruling entry `by`."""

    at: datetime
    by: int
    dispute: int
    rulings: tuple[int, ...]


class Claim:
    """One claim of units (or, for an incident, of a violation) and its derived verification."""

    __slots__ = (
        "attributed",
        "attributed_at",
        "attributed_by",
        "author",
        "backings",
        "categories",
        "contested",
        "counted",
        "counted_at",
        "counted_by",
        "index",
        "integrated_at",
        "late_report",
        "obligation",
        "observed_at",
        "rejected_by",
        "self_backed",
        "type",
        "units",
        "voided",
    )

    def __init__(
        self,
        index: int,
        *,
        type_: str,
        obligation: str | None,
        author: str,
        units: float,
        categories: dict[str, float] | None,
        observed_at: datetime,
        integrated_at: datetime,
        late_report: bool,
        self_backed: bool,
    ) -> None:
        self.index = index
        self.type = type_
        self.obligation = obligation
        self.author = author
        self.units = units
        self.categories = categories
        self.observed_at = observed_at
        self.integrated_at = integrated_at
        self.late_report = late_report
        self.self_backed = self_backed  # the author verifies this obligation: its report backs it
        self.backings: list[Backing] | None = None  # attestations by verifiers, when there are any
        self.counted = False
        self.counted_at: datetime | None = None
        self.counted_by: int | None = None
        self.contested = False
        self.rejected_by: tuple[int, ...] = ()
        self.attributed = False
        self.attributed_at: datetime | None = None
        self.attributed_by: int | None = None
        self.voided = False

    def __repr__(self) -> str:
        return f"Claim({self.index}, {self.type}, {self.obligation}, {self.units}, counted={self.counted})"

    def all_backings(self) -> list[Backing]:
        """The author's own backing (if a verifier) and the verifiers' attestations, in log order."""
        own = [Backing(self.author, self.index, self.integrated_at, True, True)] if self.self_backed else []
        return own + (self.backings or [])

    def attest(self, backing: Backing) -> None:
        if self.backings is None:
            self.backings = []
        self.backings.append(backing)

    def evidence_entries(self) -> tuple[int, ...]:
        """The claim and the entry that completed its verification."""
        if self.counted_by is None or self.counted_by == self.index:
            return (self.index,)
        return (self.index, self.counted_by)


def settle_claim(claim: Claim, quorum: int, voids: Mapping[int, Void]) -> None:
    """Recompute `claim`'s counted/contested/attributed state from its backings and voids."""
    claim_void = voids.get(claim.index)
    if claim_void is None and claim.backings is None:  # the common case: no attestation
        claim.voided = claim.contested = False
        claim.rejected_by = ()
        claim.counted = claim.attributed = claim.self_backed and quorum <= 1
        claim.counted_at = claim.attributed_at = claim.integrated_at if claim.counted else None
        claim.counted_by = claim.attributed_by = claim.index if claim.counted else None
        return
    backings = claim.all_backings()
    events: list[tuple[datetime, int, int, Backing | None]] = []
    for backing in backings:
        events.append((backing.at, backing.index, 0, backing))
        void = voids.get(backing.index)
        if void is not None:
            events.append((void.at, void.by, 1, backing))
    if claim_void is not None:
        events.append((claim_void.at, claim_void.by, 2, None))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    active: dict[str, list[Backing]] = {}
    voided = False
    counted = attributed = False
    counted_at: datetime | None = None
    counted_by: int | None = None
    attributed_at: datetime | None = None
    attributed_by: int | None = None
    rejects: list[Backing] = []
    for at, index, kind, event in events:
        if kind == 0 and event is not None:
            active.setdefault(event.verifier, []).append(event)
        elif kind == 1 and event is not None:
            active[event.verifier].remove(event)
        else:
            voided = True
        current = [lst[-1] for lst in active.values() if lst]
        confirms = [b for b in current if b.confirm]
        rejects = [b for b in current if not b.confirm]
        now_counted = not voided and len(confirms) >= quorum and not rejects
        now_attributed = now_counted and sum(1 for b in confirms if b.attributed) >= quorum
        if now_counted and not counted:
            counted_at, counted_by = at, index
        if now_attributed and not attributed:
            attributed_at, attributed_by = at, index
        counted, attributed = now_counted, now_attributed
    claim.voided = voided
    claim.counted = counted
    claim.counted_at = counted_at if counted else None
    claim.counted_by = counted_by if counted else None
    claim.attributed = attributed
    claim.attributed_at = attributed_at if attributed else None
    claim.attributed_by = attributed_by if attributed else None
    claim.contested = bool(rejects) and not voided
    claim.rejected_by = tuple(sorted(b.index for b in rejects)) if claim.contested else ()


@dataclass
class Dispute:
    """A party's dispute of entry `target`; settled when a decision reaches the ruling quorum."""

    index: int
    target: int
    author: str
    at: datetime
    obligation: str | None
    rulings: dict[str, tuple[str, int]] = field(default_factory=dict)
    settled: str | None = None
    settled_at: datetime | None = None
    settled_by: tuple[int, ...] = ()

    def rule(self, resolver: str, decision: str, index: int, at: datetime, quorum: int) -> bool:
        """Record `resolver`'s ruling (its latest counts); True when this ruling settles it."""
        if self.settled is not None:
            return False
        self.rulings[resolver] = (decision, index)
        backing = sorted(i for d, i in self.rulings.values() if d == decision)
        if len(backing) >= quorum:
            self.settled, self.settled_at, self.settled_by = decision, at, tuple(backing)
            return True
        return False

    def void(self) -> Void:
        assert self.settled_at is not None
        return Void(self.settled_at, self.settled_by[-1], self.index, self.settled_by)
