"""The nominal run of a plan: when each tranche is handed over and verified, and why.

Plain frozen data produced by `interlock.analysis.schedule` and read by every metric.

Invariants:
- every moment is timezone-aware UTC;
- `Moment.depth` counts causal hops from adoption (0): a delivery made possible by a moment
  of depth d has depth d + 1, and its verification keeps depth d + 1.  Two events at the
  same instant are simultaneous when their depths are equal, sequential otherwise;
- `Moment.prior` is the moment this one was derived from, so following `prior` from any
  event walks back to adoption (the critical path); `Moment.deps` names every tranche the
  moment waited on (all parts of an `all`, the earliest part of an `any`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

Mode = Literal["optimistic", "deadline"]
TrancheId = tuple[str, int]
"""(obligation id, tranche number).  Numbers start at 1; a proportional obligation's tranche
n answers its base's tranche n; a rate obligation's tranche n is the n-th whole period."""


@dataclass(frozen=True)
class Moment:
    """When something became true, how deep in the chain of causes, and why."""

    at: datetime
    depth: int
    label: str
    prior: Moment | None = None
    deps: frozenset[TrancheId] = frozenset()

    def __hash__(self) -> int:
        """Hashed once: a moment's chain of priors can be as long as the plan."""
        found: int | None = self.__dict__.get("_hash")
        if found is None:
            found = hash((self.at, self.depth, self.label, self.prior, self.deps))
            object.__setattr__(self, "_hash", found)
        return found

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the cached hash (string hashes differ between processes)."""
        state = dict(self.__dict__)
        state.pop("_hash", None)
        return state

    def chain(self) -> list[Moment]:
        """This moment and its priors, oldest first."""
        out: list[Moment] = []
        node: Moment | None = self
        while node is not None:
            out.append(node)
            node = node.prior
        return out[::-1]


@dataclass(frozen=True)
class Tranche:
    """One handover of (part of) an obligation in the run."""

    obligation: str
    number: int
    units: float
    at: datetime
    verified_at: datetime | None
    depth: int
    why: Moment
    """The delivery's own moment (label "X #n delivered"); `why.prior` is what allowed it."""
    verified: Moment | None = None
    categories: tuple[tuple[str, float], ...] = ()

    @property
    def id(self) -> TrancheId:
        return (self.obligation, self.number)

    def key(self) -> tuple[object, ...]:
        """What makes two schedules the same (used to detect the fixpoint)."""
        return (self.obligation, self.number, round(self.units, 9), self.at, self.verified_at, self.depth)


@dataclass(frozen=True)
class Breach:
    """An obligation breached in the run (in a counterfactual run, usually)."""

    obligation: str
    by: str
    at: datetime
    notify: tuple[str, ...]
    suspend: tuple[str, ...]


class Kept:
    """The tranches a stopping party still makes: of each of its obligations, the first
    `counts[obligation]` of the tranche numbers the nominal run delivered, in event order
    (`nominal[obligation]`).  Behaves as the set of those tranche ids."""

    def __init__(self, nominal: Mapping[str, tuple[int, ...]], counts: Mapping[str, int]) -> None:
        self.nominal = nominal
        self.counts = counts
        self._sets: dict[str, frozenset[int]] = {}

    def numbers(self, obligation: str) -> tuple[int, ...]:
        return self.nominal.get(obligation, ())[: self.counts.get(obligation, 0)]

    def __contains__(self, tranche: object) -> bool:
        if not isinstance(tranche, tuple) or len(tranche) != 2:
            return False
        oid, number = tranche
        found = self._sets.get(oid)
        if found is None:
            found = self._sets[oid] = frozenset(self.numbers(oid))
        return number in found


@dataclass(frozen=True)
class Scenario:
    """How the run is simulated.

    `allowed` is for counterfactuals: for each party listed, only the named tranches are
    delivered (a party that "stops after step k").  `horizon` bounds open-ended rate
    windows; without it the run's own end (its last non-rate event) is used.
    """

    start: datetime
    mode: Mode = "optimistic"
    lags: Mapping[str, timedelta] = field(default_factory=dict)
    default_lag: timedelta = timedelta(0)
    horizon: datetime | None = None
    allowed: Mapping[str, frozenset[TrancheId] | Kept] | None = None

    def lag(self, obligation: str) -> timedelta:
        return self.lags.get(obligation, self.default_lag)


@dataclass(frozen=True)
class Run:
    """The outcome of a simulation: tranches in event order plus the moments that matter."""

    scenario: Scenario
    adopted: Moment
    tranches: tuple[Tranche, ...]
    stage_opened: Mapping[str, Moment]
    stage_completed: Mapping[str, Moment]
    breaches: tuple[Breach, ...]
    suspended: Mapping[str, datetime]
    horizon: datetime
    settled: bool
    """False when the schedule did not reach a fixpoint (paradoxical breach conditions)."""
    notes: tuple[str, ...] = ()
    rounds: int = 0
    """Rounds of the fixpoint that found the run (the local rules', when the engine confirmed it)."""

    def of(self, obligation: str) -> list[Tranche]:
        return [t for t in self.tranches if t.obligation == obligation]
