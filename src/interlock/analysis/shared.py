"""Many simulations of one plan, sharing what they have in common (the counterfactuals).

Defection asks, at every cut, what happens if one side stops there: the plan is simulated
again with that side's later tranches withheld (`interlock.analysis.counterfactual`).  Run
from scratch, each such simulation costs as much as the nominal run, and there is one per
cut: quadratic in the number of tranches.  Yet most of a counterfactual is unchanged, and
what changes has a simple shape:

- an obligation whose inputs — its start, its deadline (or its rate window's end), the base
  tranches it answers — are those of an earlier simulation gets the very same tuple of
  tranches back (`Shared`: planned once, keyed by those inputs);
- what a side that stops withholds, and what a suspension cuts off, is a *suffix*: the
  tranches kept are a prefix of the planned tuple.  A prefix is represented by its root
  tuple and a length (`View.prefix`), and answers to a prefix of base tranches are a prefix
  of the answers to the whole;
- every quantity the rules read from an obligation's tranches (`_reached`, `_done_by`,
  `_first_gap`, `_proportional_shortfall` in `interlock.analysis.moments`) is a table built
  once per root tuple; on a prefix it is a binary search in that table.

So a counterfactual costs about the number of obligations times the rounds of its fixpoint,
not the number of tranches.  Every shortcut has the plain computation as its fallback when
its precondition (tranches in time order, units not negative, numbers unique) does not hold,
and the results are exactly those of `schedule.plan_obligation` with the local
`moments.Evaluator` — the tests compare both on every plan.

Pure.  A `Shared` belongs to one plan and one scenario (apart from `allowed`); a `View` to
one simulation.  `Work` counts what was done, so tests can check the growth without a clock.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from interlock.agreement.model import AfterEach, Agreement, Obligation
from interlock.analysis.moments import EPS, Evaluator
from interlock.analysis.run import Kept, Moment, Scenario, Tranche, TrancheId
from interlock.analysis.schedule import plan_from

T = TypeVar("T")
Tranches = tuple[Tranche, ...]
INF = 1 << 62


@dataclass
class Work:
    """What the simulations did, in units that do not depend on the machine."""

    simulations: int = 0
    rounds: int = 0
    plans: int = 0
    """Obligations planned from scratch (each builds its tranches)."""
    tranches: int = 0
    """Tranches built by those plans."""
    scans: int = 0
    """Tranches visited by loops over a tuple (tables, filters, plain fallbacks)."""
    evaluations: int = 0
    """Synthetic logs the engine evaluated (the nominal run's rounds)."""
    folded: int = 0
    """Entries the engine folded."""


class Tables:
    """What the rules read from one root tuple, built on first use."""

    def __init__(self, tranches: Tranches, work: Work) -> None:
        self.tranches = tranches
        self.work = work
        self._memo: dict[Hashable, Any] = {}
        self.reached: dict[int, Moment] = {}
        """Threshold crossing at counted position c → the moment (shared across runs)."""

    def _get(self, name: Hashable, build: Callable[[], T]) -> T:
        if name not in self._memo:
            self.work.scans += len(self.tranches)
            self._memo[name] = build()
        return self._memo[name]  # type: ignore[no-any-return]

    @property
    def in_order(self) -> bool:
        """Handover moments never decrease and numbers are unique (a prefix is "before")."""
        def build() -> bool:
            ts = self.tranches
            unique = len({t.number for t in ts}) == len(ts)
            return unique and all(a.at <= b.at for a, b in itertools.pairwise(ts))
        return self._get("in_order", build)

    @property
    def ats(self) -> list[datetime]:
        return self._get("ats", lambda: [t.at for t in self.tranches])

    @property
    def ids(self) -> list[TrancheId]:
        return self._get("ids", lambda: [t.id for t in self.tranches])

    @property
    def done(self) -> list[float]:
        """done[k]: units of the verified tranches among the first k, added in order."""
        def build() -> list[float]:
            out, acc = [0.0], 0.0
            for t in self.tranches:
                if t.verified is not None:
                    acc += t.units
                out.append(acc)
            return out
        return self._get("done", build)

    @property
    def reach(self) -> tuple[list[int], list[float], list[int], list[TrancheId], list[int], bool, bool]:
        """Verified tranches by (verification, depth, number): their positions, cumulative
        units, running maximum depth, ids; verified count among the first k; and whether
        that order follows the tuple's (so a prefix's verified tranches lead it), and whether
        no units are negative (so the cumulative units never decrease)."""
        def build() -> tuple[list[int], list[float], list[int], list[TrancheId], list[int], bool, bool]:
            ts = self.tranches
            order = sorted((i for i, t in enumerate(ts) if t.verified is not None),
                           key=lambda i: (ts[i].verified_at, ts[i].depth, ts[i].number))
            cum: list[float] = []
            top: list[int] = []
            total, deepest = 0.0, -INF
            for i in order:
                total += ts[i].units
                deepest = max(deepest, ts[i].depth)
                cum.append(total)
                top.append(deepest)
            counts = [0]
            for t in ts:
                counts.append(counts[-1] + (t.verified is not None))
            monotone = all(a < b for a, b in itertools.pairwise(order))
            nonneg = all(ts[i].units >= 0 for i in order)
            return order, cum, top, [ts[i].id for i in order], counts, monotone, nonneg
        return self._get("reach", build)

    @property
    def first_unverified(self) -> int | None:
        """Index of the first unverified tranche (len if none); None unless numbered 1..len."""
        def build() -> int | None:
            ts = self.tranches
            if any(t.number != n for n, t in enumerate(ts, start=1)):
                return None
            return next((i for i, t in enumerate(ts) if t.verified is None), len(ts))
        return self._get("first_unverified", build)

    def memo(self, name: Hashable, build: Callable[[], T]) -> T:
        return self._get(name, build)


class Shared:
    """The memo of one plan under one scenario: planned tuples and their tables."""

    def __init__(self, agreement: Agreement, work: Work | None = None) -> None:
        self.agreement = agreement
        self.work = work if work is not None else Work()
        self._plans: dict[Hashable, tuple[Tranches, frozenset[str], Tranches | None]] = {}
        self._tables: dict[int, Tables] = {}
        self._derived: dict[Hashable, Any] = {}

    def canonical(self, tup: Tranches) -> bool:
        if not tup:
            return True
        t = self._tables.get(id(tup))
        return t is not None and t.tranches is tup

    def register(self, tup: Tranches) -> Tranches:
        if not self.canonical(tup):
            self._tables[id(tup)] = Tables(tup, self.work)
        return tup

    def tables(self, tup: Tranches) -> Tables | None:
        t = self._tables.get(id(tup))
        return t if t is not None and t.tranches is tup else None

    def view(self, scenario: Scenario, inherit: View | None = None) -> View:
        """A view for one simulation; `inherit`: the view whose schedules it starts from (its
        prefixes are known as such here too)."""
        self.work.simulations += 1
        return View(self, scenario, inherit)


class View:
    """One simulation's side of the memo: its prefixes, its filters, its oracle and planner."""

    def __init__(self, shared: Shared, scenario: Scenario, inherit: View | None = None) -> None:
        self.shared = shared
        self.scenario = scenario
        self.work = shared.work
        self._prefix: dict[tuple[int, int], Tranches] = dict(inherit._prefix) if inherit is not None else {}
        self._root: dict[int, tuple[Tranches, int, Tranches]] = dict(inherit._root) if inherit is not None else {}
        self._tables: dict[int, Tables] = {}
        self._memo: dict[Hashable, Any] = {}

    # --- tuples, prefixes and tables ----------------------------------------------------

    def prefix(self, root: Tranches, j: int) -> Tranches:
        """The first `j` tranches of `root`, as one object per (root, j) in this view."""
        root, offset = self.root_of(root)
        if offset != len(root):
            j = min(j, offset)
        if j >= len(root):
            return root
        if j <= 0:
            return ()  # the one empty tuple: never registered as anyone's prefix
        key = (id(root), j)
        found = self._prefix.get(key)
        if found is None:
            found = self._prefix[key] = root[:j]
            self._root[id(found)] = (root, j, found)
        return found

    def root_of(self, tup: Sequence[Tranche]) -> tuple[Tranches, int]:
        """(root, j): `tup` is the first `j` tranches of `root` (itself when not a prefix)."""
        entry = self._root.get(id(tup))
        if entry is not None and entry[2] is tup:
            return entry[0], entry[1]
        whole = tup if isinstance(tup, tuple) else tuple(tup)
        return whole, len(whole)

    def tables(self, root: Tranches) -> Tables:
        found = self.shared.tables(root)
        if found is not None:
            return found
        local = self._tables.get(id(root))
        if local is None or local.tranches is not root:
            local = self._tables[id(root)] = Tables(root, self.work)
        return local

    def memo(self, key: Hashable, roots: Sequence[Tranches], build: Callable[[], T]) -> T:
        """`build()` cached under `key` — across simulations when every root is shared."""
        store = self.shared._derived if all(self.shared.canonical(r) for r in roots) else self._memo
        if key not in store:
            store[key] = (tuple(roots), build())
        return store[key][1]  # type: ignore[no-any-return]

    # --- the seams of the fixpoint ------------------------------------------------------

    def oracle(
        self, agreement: Agreement, scenario: Scenario, schedule: Mapping[str, Sequence[Tranche]],
        horizon: datetime,
    ) -> Evaluator:
        self.work.rounds += 1
        return SharedEvaluator(self, agreement, scenario, schedule, horizon)

    def plan(self, ev: Evaluator, ob: Obligation, notes: set[str]) -> Tranches:
        """Exactly `schedule.plan_obligation(ev, ob, notes)`, from the memo where it can."""
        if ob.kind == "refrain":
            return ()
        start = ev.obligation_start(ob.id)
        if start is None:
            return ()
        planned, said = self._planned(ev, ob, start)
        notes |= said
        allowed = ev.scenario.allowed
        if allowed is not None and ob.by in allowed:
            planned = self._keep(ob, planned, allowed[ob.by])
        stop = ev.suspended(ob.id)
        if stop is not None:
            planned = self._before(planned, stop.at)
        return planned

    def _planned(self, ev: Evaluator, ob: Obligation, start: Moment) -> tuple[Tranches, frozenset[str]]:
        shared = self.shared
        bases: Tranches | None = None
        j = 0
        if ob.kind == "rate":
            until = ev.rate_until(ob)
            key: Hashable = ("rate", ob.id, start, until.at if until is not None else ev.horizon, until is None)
        elif ob.quantity is not None and ob.quantity.per:
            bases, j = self.root_of(ev.schedule.get(ob.quantity.per, ()))
            due = None if isinstance(ob.due, AfterEach) else ev.due(ob.id)
            key = ("per", ob.id, start, due, id(bases))
        else:
            key = ("deliver", ob.id, start, ev.due(ob.id))
        entry = shared._plans.get(key)
        if entry is None or (bases is not None and entry[2] is not bases):
            notes: set[str] = set()
            tup = tuple(plan_from(ev, ob, start, notes, bases))
            self.work.plans += 1
            self.work.tranches += len(tup)
            entry = (tup, frozenset(notes), bases)
            if bases is None or shared.canonical(bases):
                shared._plans[key] = entry
                shared.register(tup)
        tup, said, _ = entry
        if bases is not None and j < len(bases):
            found = self._answers_to_prefix(ob, tup, said, bases, j)
            if found is None:  # not the expected shape: plan the prefix itself
                notes = set()
                tup = tuple(plan_from(ev, ob, start, notes, bases[:j]))
                self.work.plans += 1
                self.work.tranches += len(tup)
                return tup, frozenset(notes)
            return found
        return tup, said

    def _answers_to_prefix(
        self, ob: Obligation, answers: Tranches, said: frozenset[str], bases: Tranches, j: int,
    ) -> tuple[Tranches, frozenset[str]] | None:
        """The answers to the first `j` of `bases`: a prefix of the answers to all of them
        (each answer depends on its own base only, and they come in base order)."""
        def build() -> list[int] | None:
            position = {b.number: i for i, b in enumerate(bases)}
            if len(position) != len(bases):
                return None
            at = [position.get(a.number, -1) for a in answers]
            if any(x < 0 for x in at) or any(a >= b for a, b in itertools.pairwise(at)):
                return None
            return at
        key = ("answers", id(answers), id(bases))
        at = self.memo(key, (answers, bases), build)
        if at is None:
            return None
        m = bisect_left(at, j)
        if m == 0:
            said = said - {_per_base_note(ob)}
        return self.prefix(answers, m), said

    def _keep(self, ob: Obligation, planned: Tranches, allowed: frozenset[TrancheId] | Kept) -> Tranches:
        """The tranches of `planned` whose ids are `allowed`, in order."""
        root, j = self.root_of(planned)
        if isinstance(allowed, Kept):
            nominal = allowed.nominal.get(ob.id, ())
            tables = self.tables(root)
            same = tables.memo(("numbers", id(nominal)), lambda: [t.number for t in root] == list(nominal))
            if same:  # the nominal numbering: what is kept is a prefix
                return self.prefix(root, min(j, allowed.counts.get(ob.id, 0)))
        key = ("keep", id(planned), id(allowed))
        found = self._memo.get(key)
        if found is not None and found[0][0] is planned and found[0][1] is allowed:
            return found[1]  # type: ignore[no-any-return]
        self.work.scans += j
        flags = [t.id in allowed for t in root[:j]]
        m = flags.index(False) if False in flags else j
        if True not in flags[m:]:
            out = self.prefix(root, m)
        else:
            out = tuple(t for t, ok in zip(root[:j], flags, strict=True) if ok)
        self._memo[key] = ((planned, allowed), out)
        return out

    def _before(self, planned: Tranches, stop: datetime) -> Tranches:
        """The tranches of `planned` handed over before `stop`."""
        root, j = self.root_of(planned)
        tables = self.tables(root)
        if tables.in_order:
            return self.prefix(root, bisect_left(tables.ats, stop, 0, j))
        self.work.scans += j
        return tuple(t for t in root[:j] if t.at < stop)


def _per_base_note(ob: Obligation) -> str:
    return f"{ob.id} has no deadline: the deadline schedule answers each tranche when its base is verified"


class SharedEvaluator(Evaluator):
    """The local rules (`moments.Evaluator`) reading tuples through the view's tables."""

    def __init__(
        self, view: View, agreement: Agreement, scenario: Scenario, schedule: Mapping[str, Sequence[Tranche]],
        horizon: datetime,
    ) -> None:
        super().__init__(agreement, scenario, schedule, horizon)
        self.view = view

    def _tuple(self, oid: str) -> tuple[Tranches, int, Tables]:
        root, j = self.view.root_of(self.schedule.get(oid, ()))
        return root, j, self.view.tables(root)

    def _reached(self, oid: str, threshold: float) -> Moment | None:
        root, j, tables = self._tuple(oid)
        order, cum, top, ids, counts, monotone, nonneg = tables.reach
        if not nonneg or (j < len(root) and not monotone):
            self.work_scan(j)
            return super()._reached(oid, threshold)
        mv = counts[j]
        limit = threshold - EPS * max(1.0, abs(threshold))
        c = bisect_left(cum, limit, 0, mv)
        if c >= mv:
            return None
        found = tables.reached.get(c)
        if found is None:
            t = root[order[c]]
            assert t.verified is not None
            found = replace(t.verified, depth=top[c], deps=frozenset(ids[: c + 1]) | t.verified.deps)
            tables.reached[c] = found
        return found

    def _done_by(self, oid: str, limit: datetime) -> float:
        _root, j, tables = self._tuple(oid)
        if not tables.in_order:
            self.work_scan(j)
            return super()._done_by(oid, limit)
        return tables.done[bisect_right(tables.ats, limit, 0, j)]

    def _first_gap(self, oid: str, count: int) -> int | None:
        _root, j, tables = self._tuple(oid)
        first = tables.first_unverified
        if first is None:
            self.work_scan(j)
            return super()._first_gap(oid, count)
        n = min(first, j) + 1
        return n if n <= count else None

    def _proportional_shortfall(self, ob: Obligation, grace: timedelta) -> Moment | None:
        base_id = ob.quantity.per if ob.quantity else None
        bases, jb = self.view.root_of(self.schedule.get(base_id or "", ()))
        mine, jm = self.view.root_of(self.schedule.get(ob.id, ()))
        start = self.obligation_start(ob.id)
        due = None if isinstance(ob.due, AfterEach) else self.due(ob.id)
        key = ("shortfall", ob.id, id(bases), id(mine), start, due, grace)
        table = self.view.memo(key, (bases, mine), lambda: self._shortfall_table(ob, grace, bases, mine))
        if table is None:
            self.work_scan(jb + jm)
            return super()._proportional_shortfall(ob, grace)
        index, position, first_bad, cands = table
        i = min(first_bad, bisect_left(position, jm))
        if i < len(index) and index[i] < jb:
            return cands[i]
        return None

    def _shortfall_table(
        self, ob: Obligation, grace: timedelta, bases: Tranches, mine: Tranches,
    ) -> tuple[list[int], list[int], int, list[Moment]] | None:
        """Per verified base (in order): its index, its answer's position in `mine` (INF if
        none), the first whose answer is missing or late, and each one's breach moment.
        None when the shortcut does not apply (answers not in base order, candidates not in
        time order, numbers not unique)."""
        self.work_scan(len(bases) + len(mine))
        where = {t.number: i for i, t in enumerate(mine)}
        if len(where) != len(mine):
            return None
        index: list[int] = []
        position: list[int] = []
        cands: list[Moment] = []
        first_bad = INF
        for i, base in enumerate(bases):
            if base.verified is None:
                continue
            due = self.tranche_due(ob, base.verified)
            if due is None:
                continue
            p = where.get(base.number, INF)
            got = mine[p] if p != INF else None
            ok = got is not None and got.verified is not None and got.at <= due.at + grace
            if not ok and first_bad == INF:
                first_bad = len(index)
            index.append(i)
            position.append(p)
            cands.append(Moment(due.at + grace, due.depth, f"{ob.id} #{base.number} breached", prior=due))
        if any(a > b for a, b in itertools.pairwise(position)):
            return None
        if any((a.at, a.depth) > (b.at, b.depth) for a, b in itertools.pairwise(cands)):
            return None
        return index, position, min(first_bad, len(index)), cands

    def work_scan(self, n: int) -> None:
        self.view.work.scans += n


__all__ = ["Shared", "SharedEvaluator", "Tables", "View", "Work"]
