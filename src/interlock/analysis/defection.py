"""Defection: what if one side stops after step k?

Cuts are the ends of groups of simultaneous handovers (steps sharing an instant and a
depth): nobody can stop halfway through a simultaneous exchange.  After cut k:

- **standing** of P: Σ P's value of the steps up to k that are ever verified − Σ P's cost of
  its handovers and releases up to k.  Deposits still in escrow go back to their depositor,
  so they do not count.  Negative standing = P is worse off than at the start if everything
  stops after k (the other side's defection leaves P out of pocket);
- **temptation** of Q: what Q saves by stopping after k (its costs that no longer happen)
  − what Q forgoes (its receipts that no longer happen, *as the plan's own rules decide*: the
  stages that stay locked, the obligations that `on_breach.suspend` withholds) − the penalty
  Q has valued for a guarantor's being notified of its breach.  Positive = stopping pays:
  the plan is not self-enforcing for Q at k.

What no longer happens comes from a `Counterfactual`: for a plan, the run simulated again
with Q's later tranches withheld (`interlock.analysis.pipeline`); for a bare step list,
`drop_dependants` removes Q's later steps and every step that waited on one of them.
Pure; never raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from interlock.analysis.exposure import EPS, Witness, pct
from interlock.analysis.run import Breach
from interlock.analysis.steps import Step, total_cost


@dataclass(frozen=True)
class Outcome:
    """What happens when a party stops: the steps still made, and the breaches that follow.

    `paid` and `got`, when given, are each party's totals (what it hands over, what it
    verifiably receives) and stand for summing `steps`."""

    steps: tuple[Step, ...]
    breaches: tuple[Breach, ...] = ()
    paid: Mapping[str, float] | None = None
    got: Mapping[str, float] | None = None

    def paid_by(self, party: str) -> float:
        return self.paid.get(party, 0.0) if self.paid is not None else _paid(self.steps, party)

    def got_by(self, party: str) -> float:
        return self.got.get(party, 0.0) if self.got is not None else _got(self.steps, party)


Counterfactual = Callable[[str, frozenset[int]], Outcome]
"""(party that stops, indices of its own steps still made) → outcome."""


@dataclass(frozen=True)
class Temptation:
    party: str
    after: int
    at: datetime
    saves: float
    forgoes: float
    penalty: float
    breached: tuple[str, ...]
    notified: tuple[str, ...]
    suspended: tuple[str, ...]

    @property
    def value(self) -> float:
        return self.saves - self.forgoes - self.penalty


@dataclass(frozen=True)
class PartyDefection:
    party: str
    standing: tuple[tuple[int, float], ...]
    """(cut, standing) for every cut."""
    worse_off_after: tuple[int, ...]
    worst: float
    worst_pct: float | None
    worst_witness: Witness
    temptations: tuple[Temptation, ...]
    gains_by_stopping_after: tuple[int, ...]
    max_temptation: Temptation | None


def cuts(steps: Sequence[Step]) -> list[int]:
    """The last step index of each group of simultaneous handovers, in order."""
    out: list[int] = []
    ordered = sorted(steps, key=lambda s: (s.at, s.depth, s.index))
    for i, s in enumerate(ordered):
        nxt = ordered[i + 1] if i + 1 < len(ordered) else None
        if nxt is None or (nxt.at, nxt.depth) != (s.at, s.depth):
            out.append(s.index)
    return out


def _position(steps: Sequence[Step]) -> dict[int, int]:
    ordered = sorted(steps, key=lambda s: (s.at, s.depth, s.index))
    return {s.index: i for i, s in enumerate(ordered)}


def standing(steps: Sequence[Step], party: str, upto: int) -> float:
    pos = _position(steps)
    limit = pos[upto]
    got = sum(s.receives.get(party, 0.0) for s in steps if pos[s.index] <= limit and s.verified_at is not None)
    paid = sum(s.cost for s in steps if pos[s.index] <= limit and s.sender == party
               and s.kind in ("handover", "release"))
    return got - paid


def drop_dependants(steps: Sequence[Step]) -> Counterfactual:
    """The step-level counterfactual: drop the stopper's later steps and all that waited on them."""

    def run(party: str, kept: frozenset[int]) -> Outcome:
        removed = {s.index for s in steps if s.giver == party and s.index not in kept}
        changed = True
        while changed:
            changed = False
            for s in steps:
                if s.index not in removed and s.requires & removed:
                    removed.add(s.index)
                    changed = True
        return Outcome(tuple(s for s in steps if s.index not in removed))

    return run


def _paid(steps: Sequence[Step], party: str) -> float:
    return sum(s.cost for s in steps if s.sender == party and s.kind in ("handover", "release"))


def _got(steps: Sequence[Step], party: str) -> float:
    return sum(s.receives.get(party, 0.0) for s in steps if s.verified_at is not None)


def _standings(steps: Sequence[Step], party: str, marks: Sequence[int], pos: Mapping[int, int]) -> list[float]:
    """`standing(steps, party, k)` for every cut k, in one pass when the steps are listed in
    event order (as a simulated plan's are), else cut by cut."""
    if any(pos[s.index] != i for i, s in enumerate(steps)):
        return [standing(steps, party, k) for k in marks]
    got, paid = [0.0], [0.0]
    g = p = 0.0
    for s in steps:
        if s.verified_at is not None:
            g += s.receives.get(party, 0.0)
        if s.sender == party and s.kind in ("handover", "release"):
            p += s.cost
        got.append(g)
        paid.append(p)
    return [got[pos[k] + 1] - paid[pos[k] + 1] for k in marks]


def analyse(
    steps: Sequence[Step], parties: Sequence[str], counterfactual: Counterfactual | None = None,
    penalties: Mapping[str, float] | None = None, nominal: Outcome | None = None,
) -> dict[str, PartyDefection]:
    """Standing and temptation of every party at every cut.

    `nominal` is the run as planned, summed the way `counterfactual` sums its outcomes (what
    a party saves or forgoes is the difference); by default the steps themselves.  Each
    distinct set of kept steps is asked of `counterfactual` once — through its
    `stop_after(party, own, count)` if it has one (the kept steps are the first `count` of
    `own`, the party's steps in event order), so that no set has to be built.
    """
    counterfactual = counterfactual or drop_dependants(steps)
    penalties = penalties or {}
    nominal = nominal or Outcome(tuple(steps))
    marks = cuts(steps)
    pos = _position(steps)
    at_of = {s.index: s.at for s in steps}
    result: dict[str, PartyDefection] = {}
    for p in parties:
        total = total_cost(steps, p)
        stand = list(zip(marks, _standings(steps, p, marks, pos), strict=True))
        worse = tuple(k for k, v in stand if v < -EPS)
        worst_k, worst_v = min(stand, key=lambda kv: (kv[1], pos[kv[0]]), default=(None, 0.0))
        if worst_k is None or worst_v >= -EPS:
            worst_w, worst_v = Witness(None, None), 0.0
        else:
            handed = tuple(dict.fromkeys(
                s.obligation for s in steps
                if s.sender == p and s.kind in ("handover", "release") and pos[s.index] <= pos[worst_k]
            ))
            worst_w = Witness(worst_k, at_of[worst_k], handed)
        paid, got = nominal.paid_by(p), nominal.got_by(p)
        own = sorted((s.index for s in steps if s.giver == p), key=pos.__getitem__)
        outcomes: dict[int, Outcome] = {}
        temptations = []
        count = 0
        stop_after = getattr(counterfactual, "stop_after", None)
        for k in marks:
            while count < len(own) and pos[own[count]] <= pos[k]:
                count += 1
            out = outcomes.get(count)
            if out is None:
                out = outcomes[count] = (
                    stop_after(p, own, count) if callable(stop_after) else counterfactual(p, frozenset(own[:count]))
                )
            mine = [b for b in out.breaches if b.by == p]
            notified = tuple(sorted({n for b in mine for n in b.notify}))
            penalty = penalties.get(p, 0.0) if notified else 0.0
            temptations.append(Temptation(
                p, k, at_of[k],
                saves=paid - out.paid_by(p), forgoes=got - out.got_by(p), penalty=penalty,
                breached=tuple(b.obligation for b in mine), notified=notified,
                suspended=tuple(sorted({x for b in mine for x in b.suspend})),
            ))
        gains = tuple(t.after for t in temptations if t.value > EPS)
        top = max(temptations, key=lambda t: (t.value, -pos[t.after]), default=None)
        result[p] = PartyDefection(
            p, tuple(stand), worse, worst_v, pct(-worst_v, total) if worst_v < 0 else None, worst_w,
            tuple(temptations), gains, top if top is not None and top.value > EPS else None,
        )
    return result
