"""`--suggest`: orders and changes that lower the sides' maximum exposure.

Four kinds of proposal, each evaluated with the full exposure metrics:

- **split** — an obligation delivered in more, smaller tranches (the plan simulated again
  with `tranches` × 2, 3, 4, so that proportional answers follow);
- **escrow** — an obligation handed to a guarantor instead, released to its receiver when the
  receiver's next delivery back is verified (needs a guarantor in the plan);
- **swap** — two adjacent handovers of different sides exchanged although one waits on the
  other: it needs that condition changed, and says which;
- **reorder** — another order of the handovers that the plan's own constraints allow (a step
  never precedes a step it waits on, nor an earlier tranche of its own obligation, and takes
  only a moment between its obligation's start and its due date + grace).  The
  run keeps its pace: the new order takes the old order's moments slot by slot, each step
  keeping its own verification lag.  Every allowed order is tried when there are at most
  `EXHAUSTIVE_LIMIT` of them; above that a beam search (width `beam`) scores prefixes.

The search is bounded by explicit arguments, never by a clock: `beam` (the beam's width)
and `budget` (units of work in all: evaluating a candidate costs as many as the candidate
has steps, a split's simulation `ROUND_COST` per obligation and round of the nominal run's
fixpoint, listing orders one per placement tried).  The cheap proposals
come first, the reorders last with what is left; whatever the budget cut short is named in
`Search.cut_short`, so the output can say so.  The same arguments give the same answer.

A proposal is kept when no side's maximum exposure rises and at least one side's falls;
`lowers_all` marks those that lower the peak of every side that had one.  Pure; never raises.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, Literal

from interlock.agreement.model import Agreement
from interlock.analysis import exposure
from interlock.analysis.exposure import EPS, PartyExposure, pct
from interlock.analysis.flows import build_steps, obligation_terms, unit_totals
from interlock.analysis.moments import Evaluator
from interlock.analysis.pipeline import Analysis
from interlock.analysis.report import num
from interlock.analysis.run import Tranche
from interlock.analysis.schedule import simulate
from interlock.analysis.steps import Step, total_cost

EXHAUSTIVE_LIMIT = 2000
BEAM = 8
BUDGET = 1_000_000
"""Units of work one search may spend: about a step scored each (2–3 s on a 2-vCPU VM; the
worked cases use under a quarter)."""
ROUND_COST = 10
"""Units one round of the fixpoint costs per obligation (a split simulates the plan again)."""
KEEP = 10
Kind = Literal["reorder", "split", "escrow", "swap"]


@dataclass
class Search:
    """How far the search may look, and how far it looked (plain data, no clock)."""

    beam: int = BEAM
    budget: int = BUDGET
    used: int = 0
    cut_short: list[str] = field(default_factory=list)
    """The kinds of proposal the budget stopped before they were all tried."""

    def afford(self, cost: int, kind: str) -> bool:
        """Spend `cost` if it is left; otherwise record that `kind` was cut short."""
        if self.used + cost > self.budget:
            if kind not in self.cut_short:
                self.cut_short.append(kind)
            return False
        self.used += cost
        return True


@dataclass(frozen=True)
class Suggestions:
    found: list[Suggestion]
    search: Search


@dataclass(frozen=True)
class Suggestion:
    kind: Kind
    description: str
    steps: tuple[Step, ...]
    exposure: Mapping[str, PartyExposure]
    lowers_all: bool
    needs_change: tuple[str, ...] = ()

    def max_pct(self) -> dict[str, float | None]:
        return {p: e.max_pct for p, e in self.exposure.items()}


def peaks(steps: Sequence[Step], parties: Sequence[str]) -> dict[str, float]:
    """Each side's maximum exposure in % of its own total (0 when it hands over nothing)."""
    top = exposure.peak_exposures(steps, parties)
    return {p: pct(top[p], total_cost(steps, p)) or 0.0 for p in parties}


def _improves(base: Mapping[str, float], new: Mapping[str, float]) -> tuple[bool, bool]:
    """(Pareto improvement, lowers every exposed side)."""
    worse = any(new[p] > base[p] + 1e-6 for p in base)
    better = [new[p] < base[p] - 1e-6 for p in base if base[p] > EPS]
    return (not worse and any(better)), (not worse and bool(better) and all(better))


def _objective(values: Mapping[str, float]) -> tuple[float, float]:
    return (max(values.values(), default=0.0), sum(values.values()))


# --- reorder -------------------------------------------------------------------------------


def _closure(steps: Sequence[Step], movable: Sequence[int]) -> dict[int, int]:
    """For each movable step, the movable steps that must come before it (a bit mask over
    positions in `movable`): the steps it waits on, transitively, and the earlier tranches
    of its own obligation."""
    by = {s.index: s for s in steps}
    bit = {i: 1 << k for k, i in enumerate(movable)}
    ancestors: dict[int, int] = {}
    for i in sorted(by):  # a step waits on earlier steps: one pass in index order
        mask = 0
        for r in by[i].requires:
            known = ancestors.get(r)
            mask |= (known if known is not None else _ancestors(by, r, bit)) | bit.get(r, 0)
        ancestors[i] = mask
    before: dict[int, int] = {}
    last: dict[str, int] = {}
    for i in sorted(movable, key=lambda j: (by[j].obligation, by[j].tranche)):
        s = by[i]
        before[i] = ancestors[i] | last.get(s.obligation, 0)
        last[s.obligation] = last.get(s.obligation, 0) | bit[i]
    return before


def _ancestors(by: Mapping[int, Step], start: int, bit: Mapping[int, int]) -> int:
    """The mask of `start`'s movable ancestors, walked without recursion (a step that
    waits on a later one: never for a simulated run, possible in a hand-made list)."""
    mask, seen, todo = 0, {start}, [start]
    while todo:
        node = todo.pop()
        for r in by[node].requires if node in by else ():
            if r not in seen:
                seen.add(r)
                mask |= bit.get(r, 0)
                todo.append(r)
    return mask


def _retime(steps: Sequence[Step], movable: Sequence[int], order: Sequence[int]) -> list[Step]:
    by = {s.index: s for s in steps}
    slots = [(by[i].at, by[i].depth) for i in movable]
    changed = {}
    for (at, depth), i in zip(slots, order, strict=True):
        s = by[i]
        lag = (s.verified_at - s.at) if s.verified_at is not None else None
        changed[i] = replace(s, at=at, depth=depth, verified_at=None if lag is None else at + lag)
    return [changed.get(s.index, s) for s in steps]


Window = tuple[datetime, datetime | None]


def _windows(a: Analysis, movable: Sequence[int]) -> dict[int, Window]:
    """Each movable step's allowed moments: from its obligation's start to its due + grace."""
    schedule: dict[str, list[Tranche]] = {}
    for t in a.run.tranches:
        schedule.setdefault(t.obligation, []).append(t)
    ev = Evaluator(a.plan, a.run.scenario, schedule, a.run.horizon)
    by = {s.index: s for s in a.steps}
    out: dict[int, Window] = {}
    for i in movable:
        step = by[i]
        ob = a.plan.obligation(step.obligation)
        start = ev.obligation_start(step.obligation) if ob is not None else None
        due = ev.due(step.obligation) if ob is not None else None
        grace = ob.on_breach.grace if ob is not None and ob.on_breach and ob.on_breach.grace else None
        latest = None if due is None else due.at + (grace or timedelta(0))
        out[i] = (start.at if start is not None else step.at, latest)
    return out


def _fits(window: Window, at: datetime) -> bool:
    return window[0] <= at and (window[1] is None or at <= window[1])


def _orders(
    before: Mapping[int, int], items: Sequence[int], limit: int,
    windows: Mapping[int, Window], slots: Sequence[datetime], *, search: Search,
) -> list[list[int]] | None:
    """Linear extensions that put every step in a slot its window allows, in lexicographic
    order: at most `limit` + 1 of them (more than `limit` means "too many to try them all").
    Each placement tried costs one unit of the budget; None when it runs out first."""
    bit = {i: 1 << k for k, i in enumerate(items)}
    out: list[list[int]] = []
    path: list[int] = []
    placed = 0
    nxt = [0]  # per depth: the next candidate to try
    tried = 0
    allowance = search.budget - search.used
    while nxt:
        depth = len(path)
        if depth == len(items):
            out.append(list(path))
            if len(out) > limit:
                break
            nxt.pop()
            placed &= ~bit[path.pop()]
            continue
        k = nxt[-1]
        while k < len(items):
            i = items[k]
            tried += 1
            if tried > allowance:
                search.afford(tried, "reorder")  # records the cut
                return None
            if not placed & bit[i] and not before[i] & ~placed and _fits(windows[i], slots[depth]):
                break
            k += 1
        if k == len(items):
            nxt.pop()
            if path:
                placed &= ~bit[path.pop()]
            continue
        nxt[-1] = k + 1
        path.append(items[k])
        placed |= bit[items[k]]
        nxt.append(0)
    if not search.afford(tried, "reorder"):
        return None
    return out


def _beam(steps: Sequence[Step], parties: Sequence[str], movable: Sequence[int],
          before: Mapping[int, int], windows: Mapping[int, Window], *, search: Search) -> list[list[int]]:
    moving = set(movable)
    fixed = [s for s in steps if s.index not in moving]
    by = {s.index: s for s in steps}
    bit = {i: 1 << k for k, i in enumerate(movable)}
    slots = [(by[i].at, by[i].depth) for i in movable]
    beam: list[tuple[list[int], int]] = [([], 0)]
    for depth in range(len(movable)):
        if not search.afford(len(beam) * len(movable), "reorder"):
            return []
        scored = []
        for prefix, placed in beam:
            for i in movable:
                if placed & bit[i] or before[i] & ~placed or not _fits(windows[i], slots[depth][0]):
                    continue
                cand = [*prefix, i]
                trial = list(fixed)
                for (at, d), j in zip(slots[: depth + 1], cand, strict=True):
                    s = by[j]
                    lag = (s.verified_at - s.at) if s.verified_at is not None else None
                    trial.append(replace(s, at=at, depth=d, verified_at=None if lag is None else at + lag))
                if not search.afford(len(trial), "reorder"):
                    return []
                scored.append((_objective(peaks(trial, parties)), cand, placed | bit[i]))
        scored.sort(key=lambda x: (x[0], x[1]))
        beam = [(c, m) for _, c, m in scored[: search.beam]]
    return [b for b, _ in beam if len(b) == len(movable)]


def reorders(
    a: Analysis, fixed_kinds: Sequence[str] = ("rate",), search: Search | None = None,
) -> list[tuple[list[Step], list[int]]]:
    search = search if search is not None else Search()
    kinds = {ob.id: ob.kind for _, ob in a.plan.obligations()}
    movable = [s.index for s in a.steps if s.kind == "handover" and kinds.get(s.obligation) not in fixed_kinds]
    if len(movable) < 2:
        return []
    if not search.afford(len(a.steps) + len(movable), "reorder"):
        return []
    before = _closure(a.steps, movable)
    windows = _windows(a, movable)
    by = {s.index: s for s in a.steps}
    slots = [by[i].at for i in movable]
    orders = _orders(before, movable, EXHAUSTIVE_LIMIT, windows, slots, search=search)
    if orders is None:
        return []
    if len(orders) > EXHAUSTIVE_LIMIT:
        orders = _beam(a.steps, a.sides, movable, before, windows, search=search)
    out = []
    for order in orders:
        if order != movable:
            out.append((_retime(a.steps, movable, order), order))
    return out


# --- split, escrow, swap ---------------------------------------------------------------------


def _with_tranches(agreement: Agreement, oid: str, count: int) -> Agreement:
    stages = []
    for st in agreement.stages:
        obs = [ob.model_copy(update={"tranches": count}) if ob.id == oid else ob for ob in st.obligations]
        stages.append(st.model_copy(update={"obligations": obs}))
    return agreement.model_copy(update={"stages": stages})


def splits(a: Analysis, search: Search | None = None) -> Iterator[tuple[str, list[Step]]]:
    search = search if search is not None else Search()
    obligations = [ob for _, ob in a.plan.obligations()]
    for ob in obligations:
        q = ob.quantity
        if ob.kind != "deliver" or q is None or q.per or q.amount is None:
            continue
        now = ob.tranches or 1
        for factor in (2, 3, 4):
            count = now * factor
            if q.amount < count:
                break
            cost = ROUND_COST * max(1, a.run.rounds) * len(obligations) + 2 * len(a.steps) * factor
            if not search.afford(cost, "split"):  # a simulation of the variant, then its steps
                return
            variant = _with_tranches(a.plan, ob.id, count)
            run = simulate(variant, a.run.scenario, a.oracle)
            steps = build_steps(variant, run, a.valuation, unit_totals(run))
            yield f"deliver {ob.id} in {count} tranches instead of {now}", steps


def escrows(a: Analysis) -> Iterator[tuple[str, list[Step]]]:
    guarantor = next((p.id for p in a.plan.parties if p.role == "guarantor"), None)
    if guarantor is None:
        return
    ordered = sorted(a.steps, key=lambda r: (r.at, r.depth, r.index))
    place = {r.index: k for k, r in enumerate(ordered)}
    for oid in dict.fromkeys(s.obligation for s in a.steps if s.kind == "handover" and s.sender):
        steps = list(a.steps)
        extra: list[Step] = []
        ok = True
        for s in [x for x in steps if x.obligation == oid]:
            back = next((r for r in ordered[place[s.index] + 1:]
                         if r.sender in s.receives and s.sender in r.receives and r.verified_at), None)
            if back is None or back.verified_at is None:
                ok = False
                break
            lag = (s.verified_at - s.at) if s.verified_at else timedelta(0)
            steps[s.index] = replace(s, kind="deposit", escrow=guarantor, receives={}, earmarked=s.receives)
            extra.append(replace(s, index=len(steps) + len(extra), kind="release", giver=guarantor,
                                 at=back.verified_at, verified_at=back.verified_at + lag,
                                 depth=back.depth + 1, requires=frozenset({back.index})))
        if ok and extra:
            yield f"hand {oid} to {guarantor} in escrow, released when the receiver's next delivery is verified", \
                steps + extra


def swaps(a: Analysis) -> Iterator[tuple[str, list[Step], tuple[str, ...]]]:
    moving = [s for s in a.steps if s.kind == "handover"]
    for x, y in pairwise(moving):
        if x.sender == y.sender or x.obligation == y.obligation:
            continue
        if x.index not in y.requires:
            continue
        steps = list(a.steps)
        steps[x.index] = replace(x, at=y.at, depth=y.depth,
                                 verified_at=(y.at + (x.verified_at - x.at)) if x.verified_at else None)
        steps[y.index] = replace(y, at=x.at, depth=x.depth, requires=y.requires - {x.index},
                                 verified_at=(x.at + (y.verified_at - y.at)) if y.verified_at else None)
        yield (f"let {y.label()} precede {x.label()} (it now waits for it)", steps, (y.obligation,))


def suggest(a: Analysis, *, beam: int = BEAM, budget: int = BUDGET) -> list[Suggestion]:
    """Proposals that lower a side's maximum exposure without raising another's, best first."""
    return search(a, beam=beam, budget=budget).found


def search(a: Analysis, *, beam: int = BEAM, budget: int = BUDGET) -> Suggestions:
    """`suggest`, with what the search did (`Search`): how much of the budget it used, and
    which kinds of proposal the budget cut short."""
    done = Search(beam=max(1, beam), budget=max(0, budget))
    base = peaks(a.steps, a.sides)
    terms = obligation_terms(a.plan)
    found: list[tuple[tuple[bool, tuple[float, float], str], Suggestion]] = []
    seen: set[tuple[Any, ...]] = set()

    def consider(kind: Kind, text: str, steps: Sequence[Step], needs: tuple[str, ...] = ()) -> bool:
        if not done.afford(len(steps), kind):
            return False
        new = peaks(steps, a.sides)
        keep, both = _improves(base, new)
        signature = (kind, tuple(round(new[p], 6) for p in a.sides))
        if not keep or signature in seen:
            return True
        seen.add(signature)
        full = exposure.analyse(steps, a.sides, terms)
        found.append(((not both, _objective(new), text), Suggestion(kind, text, tuple(steps), full, both, needs)))
        return True

    for text, steps in splits(a, done):
        if not consider("split", text, steps):
            break
    for text, steps in escrows(a):
        if not consider("escrow", text, steps):
            break
    for text, steps, needs in swaps(a):
        if not consider("swap", text, steps, needs):
            break
    labels = {s.index: s.label() for s in a.steps}
    for steps, order in reorders(a, search=done):
        if not consider("reorder", "order the handovers as: " + ", ".join(labels[i] for i in order), steps):
            break
    found.sort(key=lambda x: x[0])
    return Suggestions([s for _, s in found[:KEEP]], done)


def search_json(done: Search) -> dict[str, Any]:
    """The search's bounds and what it used (`interlock analyze --suggest --format json`)."""
    return {"beam": done.beam, "budget": done.budget, "used": done.used, "cut_short": list(done.cut_short)}


def suggestions_json(found: Sequence[Suggestion]) -> list[dict[str, Any]]:
    return [
        {"kind": s.kind, "description": s.description, "lowers_every_exposed_side": s.lowers_all,
         "needs_condition_change_for": list(s.needs_change),
         "max_exposure_pct": {p: num(v) for p, v in s.max_pct().items()},
         "integral_pct_days": {p: num(e.integral_pct) for p, e in s.exposure.items()},
         "trust_steps": {p: len(e.trust_steps) for p, e in s.exposure.items()}}
        for s in found
    ]
