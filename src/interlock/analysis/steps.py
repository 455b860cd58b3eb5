"""The analyser's unit: a step that moves value, with who bears its cost and who gains.

Every metric in `exposure`, `defection` and `suggest` reads a sequence of `Step`s, so they can
be tested on hand-made lists as well as on a simulated plan (`interlock.analysis.flows`).

A step's kind says how it moves the *sender's* exposure:

- `handover`: the sender hands value to parties (irreversible `cost`, counted at `at`);
- `deposit`: the sender hands value to a guarantor's escrow (`escrow` names it); it is not
  yet in the other side's hands, so it is covered, not exposed.  `earmarked` gives each
  eventual receiver's value of what the escrow will release to it: from the deposit until
  that release is verified, it *secures* the receiver's own handovers (the guarantor, not
  the depositor, pays it out);
- `release`: the guarantor hands escrowed value on; `sender` is the depositor, whose covered
  value becomes exposed (`cost` moves from escrow to handed over);
- `contribution`: value from someone who is not a side (a guarantor's own money): nobody's
  exposure rises.

`receives` maps each receiving party to *its own* value of the step, credited when the step is
verified (`verified_at`; never when None).  Steps are ordered by (`at`, `depth`, `index`);
events at one instant with one depth are simultaneous (see `interlock.analysis.run`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

StepKind = Literal["handover", "deposit", "release", "contribution"]


@dataclass(frozen=True)
class Step:
    index: int
    obligation: str
    tranche: int
    giver: str
    sender: str | None
    kind: StepKind
    cost: float
    receives: Mapping[str, float]
    at: datetime
    verified_at: datetime | None
    depth: int = 0
    units: float = 1.0
    unit: str | None = None
    escrow: str | None = None
    earmarked: Mapping[str, float] = field(default_factory=dict)
    requires: frozenset[int] = field(default_factory=frozenset)
    """Indices of the steps whose verification this step waited on (for counterfactuals)."""

    @property
    def moves(self) -> bool:
        """True when the step changes its sender's handed-over value."""
        return self.sender is not None and self.kind in ("handover", "release")

    def label(self) -> str:
        return f"{self.obligation} #{self.tranche}"


@dataclass(frozen=True)
class Terms:
    """What stands behind an obligation another side waits on."""

    deadline: bool = True
    consequence: bool = True
    guarded: bool = False
    """A guarantor is notified of its breach."""


def sides_of(steps: Sequence[Step], parties: Sequence[str] | None = None) -> list[str]:
    """The sides (parties) the steps concern, in first-appearance order unless given."""
    if parties is not None:
        return list(parties)
    seen: dict[str, None] = {}
    for s in steps:
        if s.sender is not None:
            seen.setdefault(s.sender, None)
        for p in s.receives:
            seen.setdefault(p, None)
    return list(seen)


def total_cost(steps: Sequence[Step], party: str) -> float:
    """All value `party` hands over (to the other side or into escrow)."""
    return sum(s.cost for s in steps if s.sender == party and s.kind in ("handover", "deposit"))


def renumber(steps: Sequence[Step]) -> list[Step]:
    """Steps sorted by (at, depth, index) and renumbered 0.., with `requires` remapped."""
    ordered = sorted(steps, key=lambda s: (s.at, s.depth, s.index))
    new_index = {s.index: i for i, s in enumerate(ordered)}
    out = []
    for i, s in enumerate(ordered):
        req = frozenset(new_index[r] for r in s.requires if r in new_index)
        out.append(_replace(s, index=i, requires=req))
    return out


def _replace(step: Step, **changes: object) -> Step:
    from dataclasses import replace

    return replace(step, **changes)  # type: ignore[arg-type]


def by_index(steps: Sequence[Step]) -> Mapping[int, Step]:
    return {s.index: s for s in steps}
