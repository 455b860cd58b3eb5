"""Exposure: what each side has irreversibly handed over minus what it has verifiably received.

For party P after each group of simultaneous events (steps at one instant with one depth):

    handed(P)   = Σ cost of P's handovers and released deposits so far (at `at`)
    escrowed(P) = Σ cost of P's deposits still held by a guarantor
    received(P) = Σ P's value of steps verified so far (at `verified_at`)
    secured(P)  = Σ P's value of escrowed deposits earmarked for P, not yet released
    E(P)        = max(0, handed − received − secured)   the exposure
    gross(P)    = max(0, handed + escrowed − received)  the exposure if escrow were not there

Every figure is in P's own scale; percentages are of P's total handover (`total_cost`).
Each metric carries its witness: the step, the moment, and the obligations behind it.
Pure; never raises (an empty step list gives zeros and `None` percentages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby, pairwise

from interlock.analysis.steps import Step, Terms, total_cost

EPS = 1e-9
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Point:
    """One party's position after one group of events."""

    at: datetime
    depth: int
    steps: tuple[int, ...]
    exposure: float
    gross: float
    handed: float
    escrowed: float
    received: float
    secured: float = 0.0


@dataclass(frozen=True)
class Witness:
    step: int | None
    at: datetime | None
    obligations: tuple[str, ...] = ()
    """What the figure consists of (e.g. the obligations handed over so far)."""
    awaiting: tuple[str, ...] = ()
    """Obligations owed to the party that had not yet been verified."""


@dataclass(frozen=True)
class Wait:
    """An obligation a party waits on while exposed, lacking a deadline or a consequence."""

    obligation: str
    missing: tuple[str, ...]
    at: datetime
    exposure: float


@dataclass(frozen=True)
class PartyExposure:
    party: str
    total: float
    curve: tuple[Point, ...]
    max: float
    max_pct: float | None
    max_witness: Witness
    integral: float
    """value × days at risk (net exposure integrated over the run)."""
    integral_pct: float | None
    final: float
    trust_steps: tuple[int, ...]
    longest_unreciprocated: tuple[int, ...]
    largest_step: float
    largest_step_pct: float | None
    largest_witness: Witness
    escrow_coverage: float | None
    """Share of the gross exposure integral held in a guarantor's escrow."""
    watched_coverage: float | None
    """Share of the exposure integral during which every awaited obligation notifies a guarantor."""
    waits: tuple[Wait, ...]
    asymmetry_pct: float | None = None
    asymmetry_witness: Witness | None = None
    asymmetry_integral_pct: float | None = None


def pct(value: float, total: float) -> float | None:
    return None if total <= EPS else 100.0 * value / total


def _events(steps: Sequence[Step]) -> list[tuple[tuple[datetime, int], str, Step]]:
    ev: list[tuple[tuple[datetime, int], int, str, Step]] = []
    for s in steps:
        ev.append(((s.at, s.depth), 0, "hand", s))
        if s.verified_at is not None:
            ev.append(((s.verified_at, s.depth), 1, "verify", s))
    ev.sort(key=lambda e: (e[0], e[1], e[3].index))
    return [(k, what, s) for k, _, what, s in ev]


def curves(steps: Sequence[Step], parties: Sequence[str]) -> dict[str, list[Point]]:
    """Each party's position after every group of simultaneous events."""
    handed = dict.fromkeys(parties, 0.0)
    escrowed = dict.fromkeys(parties, 0.0)
    received = dict.fromkeys(parties, 0.0)
    secured = dict.fromkeys(parties, 0.0)
    out: dict[str, list[Point]] = {p: [] for p in parties}
    for (at, depth), group in groupby(_events(steps), key=lambda e: e[0]):
        members = list(group)
        for _, what, s in members:
            if what == "verify":
                for p, v in s.receives.items():
                    if p in received:
                        received[p] += v
                        if s.kind == "release":
                            secured[p] -= v
                continue
            if s.kind == "deposit":
                for p, v in s.earmarked.items():
                    if p in secured:
                        secured[p] += v
            if s.sender in handed:
                if s.kind == "handover":
                    handed[s.sender] += s.cost
                elif s.kind == "deposit":
                    escrowed[s.sender] += s.cost
                elif s.kind == "release":
                    escrowed[s.sender] -= s.cost
                    handed[s.sender] += s.cost
        ids = tuple(sorted({s.index for _, _, s in members}))
        for p in parties:
            h, e, r, c = handed[p], escrowed[p], received[p], max(0.0, secured[p])
            out[p].append(Point(at, depth, ids, _pos(h - r - c), _pos(h + e - r), h, e, r, c))
    return out


def _pos(x: float) -> float:
    return x if x > EPS else 0.0


def peak_exposures(steps: Sequence[Step], parties: Sequence[str]) -> dict[str, float]:
    """max over `curves(steps, parties)[p]` of the exposure, for each party (0 when none):
    the same sums in the same order, without building the curves (for searches that score
    many candidates)."""
    events: list[tuple[datetime, int, int, int, Step]] = []
    for s in steps:
        events.append((s.at, s.depth, 0, s.index, s))
        if s.verified_at is not None:
            events.append((s.verified_at, s.depth, 1, s.index, s))
    events.sort(key=lambda e: e[:4])
    handed = dict.fromkeys(parties, 0.0)
    received = dict.fromkeys(parties, 0.0)
    secured = dict.fromkeys(parties, 0.0)
    top = dict.fromkeys(parties, 0.0)
    for k, (at, depth, what, _, s) in enumerate(events):
        if what == 1:
            for p, v in s.receives.items():
                if p in received:
                    received[p] += v
                    if s.kind == "release":
                        secured[p] -= v
        else:
            if s.kind == "deposit":
                for p, v in s.earmarked.items():
                    if p in secured:
                        secured[p] += v
            if s.sender in handed and s.kind in ("handover", "release"):
                handed[s.sender] += s.cost
        if k + 1 == len(events) or events[k + 1][:2] != (at, depth):  # the end of a group
            for p in parties:
                e = _pos(handed[p] - received[p] - max(0.0, secured[p]))
                top[p] = max(top[p], e)
    return top


def integral(curve: Sequence[Point], gross: bool = False) -> float:
    """Σ value × days between consecutive points (nothing after the last)."""
    total = 0.0
    for a, b in pairwise(curve):
        total += (a.gross if gross else a.exposure) * ((b.at - a.at) / DAY)
    return total


def analyse_party(
    steps: Sequence[Step], party: str, curve: Sequence[Point],
    terms: Mapping[str, Terms] | None = None,
) -> PartyExposure:
    """All single-party exposure metrics for `party` from its `curve`."""
    terms = terms or {}
    by_index = {s.index: s for s in steps}
    total = total_cost(steps, party)
    mine = [s for s in steps if s.sender == party and s.kind in ("handover", "deposit")]

    peak_i = max(range(len(curve)), key=lambda i: (curve[i].exposure, -i), default=None)
    if peak_i is None or curve[peak_i].exposure <= EPS:
        peak, peak_w = 0.0, Witness(None, None)
    else:
        point = curve[peak_i]
        peak = point.exposure
        peak_w = _witness_at(steps, by_index, party, point)

    trust: list[int] = []
    longest: list[int] = []
    run: list[int] = []
    for i, point in enumerate(curve):
        before = curve[i - 1] if i else None
        ours = [j for j in point.steps if by_index[j].sender == party and by_index[j].kind == "handover"
                and (by_index[j].at, by_index[j].depth) == (point.at, point.depth)]
        got = point.received > (before.received if before else 0.0) + EPS
        if before is not None and before.exposure > EPS:
            trust.extend(ours)
        run = [] if got else run + ours
        if len(run) > len(longest):
            longest = list(run)

    big = max(mine, key=lambda s: (s.cost, -s.index), default=None)
    big_w = Witness(big.index, big.at, (big.obligation,)) if big else Witness(None, None)

    area, gross_area = integral(curve), integral(curve, gross=True)
    escrow_cov = None if gross_area <= EPS else max(0.0, 1.0 - area / gross_area)
    watched_area = 0.0
    waits: dict[str, Wait] = {}
    awaiting = _Awaiting(steps, party)
    for i, a in enumerate(curve):
        if a.exposure <= EPS:
            continue
        pending = awaiting.after(a)
        span = ((curve[i + 1].at if i + 1 < len(curve) else a.at) - a.at) / DAY
        if pending and all(terms.get(o, Terms()).guarded for o in pending):
            watched_area += a.exposure * span
        for o in pending:
            t = terms.get(o, Terms())
            missing = tuple(m for m, ok in (("deadline", t.deadline), ("consequence", t.consequence)) if not ok)
            if missing and o not in waits:
                waits[o] = Wait(o, missing, a.at, a.exposure)
    return PartyExposure(
        party=party, total=total, curve=tuple(curve),
        max=peak, max_pct=pct(peak, total), max_witness=peak_w,
        integral=area, integral_pct=pct(area, total), final=curve[-1].exposure if curve else 0.0,
        trust_steps=tuple(trust), longest_unreciprocated=tuple(longest),
        largest_step=big.cost if big else 0.0, largest_step_pct=pct(big.cost, total) if big else None,
        largest_witness=big_w,
        escrow_coverage=escrow_cov,
        watched_coverage=None if area <= EPS else watched_area / area,
        waits=tuple(sorted(waits.values(), key=lambda w: (w.at, w.obligation))),
    )


def _awaiting(steps: Sequence[Step], party: str, point: Point) -> list[str]:
    """Obligations owed to `party` that are not yet verified after `point`."""
    key = (point.at, point.depth)
    seen: dict[str, None] = {}
    for s in steps:
        if s.receives.get(party, 0.0) <= EPS:
            continue
        if s.verified_at is None or (s.verified_at, s.depth) > key:
            seen.setdefault(s.obligation, None)
    return list(seen)


class _Awaiting:
    """`_awaiting(steps, party, point)` for points in event order, in one sweep: a step owed
    to the party stops being awaited once verified, so the awaited set only shrinks."""

    def __init__(self, steps: Sequence[Step], party: str) -> None:
        owed = [(i, s) for i, s in enumerate(steps) if s.receives.get(party, 0.0) > EPS]
        self.positions: dict[str, list[int]] = {}
        for i, s in owed:
            self.positions.setdefault(s.obligation, []).append(i)
        self.first = dict.fromkeys(self.positions, 0)
        self.done: set[int] = set()
        self.queue = sorted(((s.verified_at, s.depth), i, s.obligation) for i, s in owed if s.verified_at is not None)
        self.next = 0
        self.steps = steps
        self.party = party
        self.last: tuple[datetime, int] | None = None

    def after(self, point: Point) -> list[str]:
        key = (point.at, point.depth)
        if self.last is not None and key < self.last:
            return _awaiting(self.steps, self.party, point)
        self.last = key
        while self.next < len(self.queue) and self.queue[self.next][0] <= key:
            _, i, ob = self.queue[self.next]
            self.next += 1
            self.done.add(i)
            where, j = self.positions[ob], self.first[ob]
            while j < len(where) and where[j] in self.done:
                j += 1
            self.first[ob] = j
        pending = [(where[j], ob) for ob, where in self.positions.items() if (j := self.first[ob]) < len(where)]
        return [ob for _, ob in sorted(pending)]


def _witness_at(steps: Sequence[Step], by_index: Mapping[int, Step], party: str, point: Point) -> Witness:
    key = (point.at, point.depth)
    handed: dict[str, None] = {}
    for s in steps:
        if s.sender == party and s.kind in ("handover", "release") and (s.at, s.depth) <= key:
            handed.setdefault(s.obligation, None)
    ours = [i for i in point.steps if by_index[i].sender == party]
    step = ours[-1] if ours else point.steps[-1]
    return Witness(step, point.at, tuple(handed), tuple(_awaiting(steps, party, point)))


def analyse(
    steps: Sequence[Step], parties: Sequence[str], terms: Mapping[str, Terms] | None = None,
) -> dict[str, PartyExposure]:
    """Every party's exposure metrics, including asymmetry against the others."""
    cs = curves(steps, parties)
    result = {p: analyse_party(steps, p, cs[p], terms) for p in parties}
    if len(parties) < 2:
        return result
    totals = {p: result[p].total for p in parties}
    for p in parties:
        others = [q for q in parties if q != p]
        best: tuple[float, int] | None = None
        for i in range(len(cs[p])):
            mine = pct(cs[p][i].exposure, totals[p]) or 0.0
            theirs = max(pct(cs[q][i].exposure, totals[q]) or 0.0 for q in others)
            if best is None or mine - theirs > best[0] + EPS:
                best = (mine - theirs, i)
        mine_area = result[p].integral_pct or 0.0
        theirs_area = max(result[q].integral_pct or 0.0 for q in others)
        witness = None
        value = None
        if best is not None:
            point = cs[p][best[1]]
            value = best[0]
            witness = _witness_at(steps, {s.index: s for s in steps}, p, point)
        result[p] = _with(result[p], value, witness, mine_area - theirs_area)
    return result


def _with(
    r: PartyExposure, value: float | None, witness: Witness | None, area: float
) -> PartyExposure:
    from dataclasses import replace

    return replace(r, asymmetry_pct=value, asymmetry_witness=witness, asymmetry_integral_pct=area)
