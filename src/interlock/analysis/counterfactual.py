"""What happens when one side stops: the plan simulated again with its later tranches withheld.

`Counterfactuals(plan, run, valuation, totals)` answers defection's question "P keeps only
these of its steps — what does P still pay, what does it still receive, and which of its
obligations are then breached?" (`interlock.analysis.defection.Counterfactual`).  The
answer is a simulation of the plan, under the nominal run's scenario and horizon, in which
P delivers only the kept tranches: the stages that stay locked, the answers that never
come, the suspensions that follow — as the plan's own rules decide.

The simulations read the local rules (`interlock.analysis.moments`) through the shared
memo of `interlock.analysis.shared`, so that one simulation per cut stays cheap; the
nominal run itself is the engine's.  `oracle=` replaces them by plain simulations with any
oracle (the tests pass the engine's and compare).  Payments and receipts are summed per
obligation in the plan's order, from each tuple's running sums, with the same tranche
values as the nominal steps (`flows.Valuer`).  Pure; never raises.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import replace
from itertools import accumulate

from interlock.agreement.model import Agreement
from interlock.analysis.defection import Outcome
from interlock.analysis.flows import Valuer
from interlock.analysis.run import Breach, Kept, Run, Tranche, TrancheId
from interlock.analysis.schedule import Oracle, Schedule, breaches_of, round_limit, settle
from interlock.analysis.shared import Shared, Tables, View, Work
from interlock.analysis.values import Valuation

Sums = tuple[dict[str, list[float]], dict[str, list[float]]]
INF = float("inf")


class Counterfactuals:
    """Defection's counterfactual for one simulated plan (callable: party, kept steps)."""

    def __init__(
        self, agreement: Agreement, run: Run, valuation: Valuation, totals: Mapping[str, float], *,
        oracle: Oracle | None = None, work: Work | None = None,
    ) -> None:
        self.agreement = agreement
        self.scenario = replace(run.scenario, horizon=run.horizon)
        self.run_tranches = run.tranches
        self.tranche_of: list[TrancheId] = [t.id for t in run.tranches]
        self.nominal_breaches = frozenset(b.obligation for b in run.breaches)
        self.valuer = Valuer(agreement, valuation, totals)
        self.parties = tuple(p.id for p in agreement.parties)
        self.obligations = [ob for _, ob in agreement.obligations()]
        self.oracle = oracle
        self.shared = Shared(agreement, work)
        self._owned: dict[str, tuple[tuple[int, ...], dict[str, tuple[int, ...]], dict[str, list[int]]]] = {}
        self._history: list[Schedule] | None = None
        self._view: View | None = None
        self._needs: dict[str, dict[str, list[float]]] = {}

    @property
    def work(self) -> Work:
        return self.shared.work

    def nominal(self) -> Outcome:
        """The nominal run summed as every counterfactual is (no breach is new in it)."""
        by: dict[str, list[Tranche]] = {}
        for t in self.run_tranches:
            by.setdefault(t.obligation, []).append(t)
        return self._outcome({oid: tuple(ts) for oid, ts in by.items()}, None, ())

    def __call__(self, party: str, kept: frozenset[int]) -> Outcome:
        return self._simulate(party, frozenset(map(self.tranche_of.__getitem__, kept)))

    def stop_after(self, party: str, own: Sequence[int], count: int) -> Outcome:
        """The same question when the kept steps are the first `count` of `own` (the party's
        steps in event order): no set is built; each obligation keeps a prefix.

        The simulation does not replay the rounds in which it cannot differ from the plan
        run without any stop: it starts from the last round of that reference run (same
        memo, same frozen horizon) in which none of the withheld tranches had appeared yet,
        with the rounds already spent counted — the very sequence a run from scratch takes."""
        nominal, where = self._own(party, tuple(own))
        counts = {oid: bisect_left(at, count) for oid, at in where.items()}
        history, needs = self._reference(party, nominal)
        warm = len(history) - 1
        for oid, need in needs.items():
            warm = min(warm, bisect_right(need, counts.get(oid, 0)) - 1)
        return self._simulate(party, Kept(nominal, counts), history[warm] if warm > 0 else None, warm)

    def _reference(
        self, party: str, nominal: Mapping[str, tuple[int, ...]],
    ) -> tuple[list[Schedule], dict[str, list[float]]]:
        """The reference run's round-by-round schedules, and per obligation of `party` how
        many of its nominal tranches each round's schedule needs kept (a running maximum: the
        first round that needs more than are kept is where a stop starts to differ)."""
        if self._history is None:
            view = self.shared.view(self.scenario)
            history: list[Schedule] = []
            settle(self.agreement, self.scenario, view.oracle, view.plan, history=history)
            self._history, self._view = history, view
        found = self._needs.get(party)
        if found is None:
            needs: dict[str, list[float]] = {}
            for ob in self.obligations:
                if ob.by != party:
                    continue
                position = {n: i for i, n in enumerate(nominal.get(ob.id, ()))}
                top, need = 0.0, []
                for schedule in self._history:
                    for t in schedule.get(ob.id, ()):
                        top = max(top, position[t.number] + 1 if t.number in position else INF)
                    need.append(top)
                needs[ob.id] = need
            found = self._needs[party] = needs
        return self._history, found

    def _own(self, party: str, own: tuple[int, ...]) -> tuple[dict[str, tuple[int, ...]], dict[str, list[int]]]:
        """Per obligation of `party`: its tranche numbers in event order, and the positions in
        `own` of its steps."""
        found = self._owned.get(party)
        if found is None or found[0] != own:
            numbers: dict[str, list[int]] = {}
            where: dict[str, list[int]] = {}
            for k, i in enumerate(own):
                oid, number = self.tranche_of[i]
                numbers.setdefault(oid, []).append(number)
                where.setdefault(oid, []).append(k)
            found = self._owned[party] = (own, {o: tuple(n) for o, n in numbers.items()}, where)
        return found[1], found[2]

    def _simulate(
        self, party: str, kept: frozenset[TrancheId] | Kept, warm: Schedule | None = None, spent: int = 0,
    ) -> Outcome:
        scenario = replace(self.scenario, allowed={party: kept})
        if self.oracle is not None:
            fix = settle(self.agreement, scenario, self.oracle)
            view = None
        else:
            view = self.shared.view(scenario, self._view if warm is not None else None)
            start = (warm, self.scenario.horizon or self.scenario.start) if warm is not None else None
            fix = settle(self.agreement, scenario, view.oracle, view.plan, start=start,
                         max_rounds=round_limit(self.agreement) - spent)
        breaches = tuple(b for b in breaches_of(self.agreement, fix.ev) if b.obligation not in self.nominal_breaches)
        return self._outcome(fix.schedule, view, breaches)

    def _outcome(
        self, schedule: Mapping[str, Sequence[Tranche]], view: View | None, breaches: tuple[Breach, ...],
    ) -> Outcome:
        paid = dict.fromkeys(self.parties, 0.0)
        got = dict.fromkeys(self.parties, 0.0)
        for ob in self.obligations:
            tranches = schedule.get(ob.id, ())
            if not tranches:
                continue
            root, j = view.root_of(tranches) if view is not None else (tuple(tranches), len(tranches))
            gives, gets = self._sums(view, root)
            for p, running in gives.items():
                paid[p] += running[j]
            for p, running in gets.items():
                got[p] += running[j]
        return Outcome((), breaches, paid=paid, got=got)

    def _sums(self, view: View | None, root: tuple[Tranche, ...]) -> Sums:
        """Running sums over `root`: what each sender pays, what each party receives once verified."""
        tables = view.tables(root) if view is not None else Tables(root, self.work)
        return tables.memo("sums", lambda: self._running(root))

    def _running(self, root: Sequence[Tranche]) -> Sums:
        gives: dict[str, list[float]] = {}
        gets: dict[str, list[float]] = {}
        values = []
        ob = self.agreement.obligation(root[0].obligation) if root else None
        for t in root:
            assert ob is not None
            values.append((t, self.valuer.value(ob, t.units)))
        for p in {v.sender for _, v in values if v.sender is not None and v.paid}:
            gives[p] = list(accumulate((v.paid if v.sender == p else 0.0 for _, v in values), initial=0.0))
        for p in {q for _, v in values for q in v.receives}:
            gets[p] = list(accumulate(
                (v.receives.get(p, 0.0) if t.verified_at is not None else 0.0 for t, v in values), initial=0.0))
        return gives, gets


__all__ = ["Counterfactuals"]
