"""Structure: deadlocks, stages that can never open, obligations nobody can verify, and the
critical path of the nominal run.

*Possible* is a least fixpoint over the plan's conditions: adoption and fixed times are
possible; a stage is possible when its `opens` is; an obligation can start when its stage
(and its `starts`, its window's `from`) can; `verified`/`delivered` need an obligation that
can start and can be verified; `stage_complete` needs every blocking obligation of the stage
to be verifiable; `breached` needs an obligation that can start and can fail (a deadline, a
rate, a refrain, a proportional `after_each`).  Everything starts impossible and becomes
possible only through something already possible, so a cycle of waiting with no way in stays
impossible: that is a deadlock.  Pure; never raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from interlock.agreement.conditions import ConditionFold, ReferenceKey, fold, references
from interlock.agreement.model import Agreement, Condition, Obligation
from interlock.analysis.moments import BLOCKING, quorum, valid_verifiers
from interlock.analysis.run import Moment, Run


@dataclass(frozen=True)
class Unverifiable:
    obligation: str
    reason: str


@dataclass(frozen=True)
class NeverOpens:
    stage: str
    reason: str


@dataclass(frozen=True)
class Deadlock:
    cycle: tuple[str, ...]
    """Nodes in waiting order: `stage:S`, `obligation:O`, `complete:S`; the last waits on the first."""


@dataclass(frozen=True)
class PathStep:
    at: datetime
    offset: timedelta
    what: str


@dataclass(frozen=True)
class Structure:
    deadlocks: tuple[Deadlock, ...]
    never_open: tuple[NeverOpens, ...]
    not_in_run: tuple[str, ...]
    """Stages that can open but do not in the nominal run (e.g. they open only on a breach)."""
    unverifiable: tuple[Unverifiable, ...]
    unkeyed_verifiers: tuple[str, ...]
    critical_path: tuple[PathStep, ...]
    duration: timedelta | None
    """Adoption to the last verified deliver/act tranche (None if there is none)."""
    span: timedelta
    """Adoption to the run's last event of any kind (rates included)."""


def unverifiable(agreement: Agreement) -> list[Unverifiable]:
    """Obligations whose claims can never count: too few monitors to reach the quorum.

    Only monitors report evidence or attest (DESIGN.md, Statements); an obligation without
    `verify` is verified by every monitor with quorum 1; the debtor never verifies itself.
    """
    roles = {p.id: p.role for p in agreement.parties}
    out = []
    for _, ob in agreement.obligations():
        valid = valid_verifiers(agreement, ob)
        need = quorum(ob)
        if len(valid) >= need:
            continue
        if ob.verify is None:
            out.append(Unverifiable(ob.id, "no `verify`, and the agreement has no monitor to verify it"))
            continue
        why = []
        for v in ob.verify.by:
            if v == ob.by:
                why.append(f"{v} is the debtor")
            elif v not in roles:
                why.append(f"{v} is not a participant")
            elif roles[v] != "monitor":
                why.append(f"{v} is a {roles[v]}, and only monitors report evidence or attest")
        detail = f" ({'; '.join(why)})" if why else ""
        out.append(Unverifiable(ob.id, f"quorum {need} but {len(valid)} monitor(s) can verify it{detail}"))
    return out


class _Possible(ConditionFold[bool]):
    def __init__(self, agreement: Agreement) -> None:
        self.a = agreement
        self.stage: dict[str, bool] = {s.id: False for s in agreement.stages}
        self.start: dict[str, bool] = {ob.id: False for _, ob in agreement.obligations()}
        self.checkable = {ob.id: ob.id not in {u.obligation for u in unverifiable(agreement)}
                          for _, ob in agreement.obligations()}
        self.obs = {ob.id: ob for _, ob in agreement.obligations()}
        self.stage_of = {ob.id: st.id for st, ob in agreement.obligations()}

    def solve(self) -> None:
        changed = True
        while changed:
            changed = False
            for s in self.a.stages:
                if not self.stage[s.id] and self.cond(s.opens):
                    self.stage[s.id] = changed = True
            for oid, ob in self.obs.items():
                if not self.start[oid] and self._can_start(ob):
                    self.start[oid] = changed = True

    def _can_start(self, ob: Obligation) -> bool:
        ok = self.stage[self.stage_of[ob.id]]
        ok = ok and (ob.starts is None or self.cond(ob.starts))
        if ob.window is not None and ob.kind in ("rate", "refrain"):
            ok = ok and self.cond(ob.window.from_)
        if ob.quantity is not None and ob.quantity.per:
            ok = ok and self.verifiable_delivery(ob.quantity.per)
        return ok

    def verifiable_delivery(self, oid: str) -> bool:
        return self.start.get(oid, False) and self.checkable.get(oid, False)

    def complete(self, stage_id: str) -> bool:
        stage = self.a.stage(stage_id)
        return stage is not None and self.stage[stage.id] and all(
            self.verifiable_delivery(ob.id) for ob in stage.obligations if ob.kind in BLOCKING
        )

    def cond(self, c: Condition) -> bool:
        return fold(c, self)

    # --- what each condition form needs (ConditionFold) ------------------------------------

    def adopted(self) -> bool:
        return True

    def opened(self, stage_id: str) -> bool:
        return self.stage.get(stage_id, False)

    def verified(self, obligation_id: str) -> bool:
        ob = self.obs.get(obligation_id)
        return ob is not None and ob.kind in BLOCKING and self.verifiable_delivery(ob.id)

    def delivered(self, obligation_id: str, at_least: float | int) -> bool:
        return self.verifiable_delivery(obligation_id)

    def stage_complete(self, stage_id: str) -> bool:
        return self.complete(stage_id)

    def breached(self, obligation_id: str) -> bool:
        ob = self.obs.get(obligation_id)
        if ob is None or not self.start[ob.id]:
            return False
        if ob.kind == "refrain":
            return self.checkable[ob.id]
        return ob.kind == "rate" or ob.due is not None

    def at(self, timestamp: str) -> bool:
        return True

    def after(self, base: bool, plus: timedelta) -> bool:
        return base

    def all_of(self, parts: list[bool]) -> bool:
        return all(parts)

    def any_of(self, parts: list[bool]) -> bool:
        return any(parts)


_NODE: dict[ReferenceKey, str] = {
    "opened": "stage", "stage_complete": "complete", "verified": "obligation", "delivered": "obligation",
    "breached": "obligation",
}
"""The wait-graph node kind each reference key names."""


def _refs(c: Condition) -> list[str]:
    """The wait-graph nodes `c` waits on, in written order (a node may repeat, from two keys)."""
    return [f"{_NODE[key]}:{ident}" for key, ident in references(c)]


def wait_graph(agreement: Agreement) -> dict[str, list[str]]:
    """Who waits on whom: node → the nodes it needs first."""
    g: dict[str, list[str]] = {}
    for stage in agreement.stages:
        g[f"stage:{stage.id}"] = list(dict.fromkeys(_refs(stage.opens)))
        g[f"complete:{stage.id}"] = [f"stage:{stage.id}"] + [
            f"obligation:{ob.id}" for ob in stage.obligations if ob.kind in BLOCKING
        ]
        for ob in stage.obligations:
            need = [f"stage:{stage.id}"]
            window = ob.window.from_ if ob.window and ob.kind in ("rate", "refrain") else None
            for c in (ob.starts, window):
                if c is not None:
                    need.extend(_refs(c))
            if ob.quantity is not None and ob.quantity.per:
                need.append(f"obligation:{ob.quantity.per}")
            g[f"obligation:{ob.id}"] = list(dict.fromkeys(need))
    return g


def _sccs(g: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in g:
        if root in index:
            continue
        work = [(root, iter(g.get(root, [])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        x = stack.pop()
                        on.discard(x)
                        comp.append(x)
                        if x == node:
                            break
                    out.append(comp)
            elif nxt not in g:
                continue
            elif nxt not in index:
                index[nxt] = low[nxt] = counter
                counter += 1
                stack.append(nxt)
                on.add(nxt)
                work.append((nxt, iter(g.get(nxt, []))))
            elif nxt in on:
                low[node] = min(low[node], index[nxt])
    return out


def _cycle(g: dict[str, list[str]], comp: list[str]) -> tuple[str, ...]:
    """One cycle through the component, in waiting order, starting at its smallest node."""
    members = set(comp)
    start = min(comp)
    stack = [(start, [start])]
    seen = {start}
    while stack:
        node, path = stack.pop()
        for nxt in sorted(g.get(node, []), reverse=True):
            if nxt == start:
                return tuple(path)
            if nxt in members and nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return tuple(sorted(comp))


def critical_path(run: Run, agreement: Agreement) -> tuple[tuple[PathStep, ...], timedelta | None]:
    kinds = {ob.id: ob.kind for _, ob in agreement.obligations()}
    last: Moment | None = None
    for t in run.tranches:
        if kinds.get(t.obligation) not in BLOCKING:
            continue
        m = t.verified or t.why
        if last is None or (m.at, m.depth) > (last.at, last.depth):
            last = m
    if last is None:
        return (), None
    start = run.adopted.at
    steps = tuple(PathStep(m.at, m.at - start, m.label) for m in last.chain())
    return steps, last.at - start


def analyse(agreement: Agreement, run: Run) -> Structure:
    possible = _Possible(agreement)
    possible.solve()
    g = wait_graph(agreement)
    stuck = {f"stage:{s}" for s, ok in possible.stage.items() if not ok}
    stuck |= {f"obligation:{o}" for o, ok in possible.start.items() if not ok}
    deadlocks = []
    for comp in _sccs(g):
        looped = len(comp) > 1 or comp[0] in g.get(comp[0], [])
        if looped and any(n in stuck for n in comp):
            deadlocks.append(Deadlock(_cycle(g, comp)))
    deadlocks.sort(key=lambda d: d.cycle)
    in_cycle = {n for d in deadlocks for n in d.cycle}
    never = []
    for stage in agreement.stages:
        if not possible.stage[stage.id]:
            never.append(NeverOpens(stage.id, _why_not(stage.id, g, possible, in_cycle)))
    not_in_run = tuple(s.id for s in agreement.stages if possible.stage[s.id] and s.id not in run.stage_opened)
    unkeyed = sorted({
        v for _, ob in agreement.obligations() for v in valid_verifiers(agreement, ob)
        if (p := agreement.party(v)) is not None and not p.keys
    })
    path, duration = critical_path(run, agreement)
    last_event = max([run.adopted.at] + [t.verified_at or t.at for t in run.tranches])
    return Structure(
        tuple(deadlocks), tuple(never), not_in_run, tuple(unverifiable(agreement)), tuple(unkeyed),
        path, duration, last_event - run.adopted.at,
    )


def _why_not(stage_id: str, g: dict[str, list[str]], possible: _Possible, in_cycle: set[str]) -> str:
    node = f"stage:{stage_id}"
    if node in in_cycle:
        return "it waits, through a cycle, on itself (deadlock)"
    blockers = []
    for dep in g.get(node, []):
        kind, _, ident = dep.partition(":")
        if kind == "obligation" and not possible.checkable.get(ident, True):
            blockers.append(f"{ident} can never be verified")
        elif kind == "obligation" and not possible.start.get(ident, True):
            blockers.append(f"{ident} can never start")
        elif kind == "stage" and not possible.stage.get(ident, True):
            blockers.append(f"stage {ident} can never open")
        elif kind == "complete" and not possible.complete(ident):
            blockers.append(f"stage {ident} can never complete")
        elif dep in in_cycle:
            blockers.append(f"{ident} is in a deadlock")
    unknown = [d for d in g.get(node, []) if d not in g]
    blockers += [f"{d.partition(':')[2]} does not exist" for d in unknown]
    return "; ".join(blockers) or "its opening condition can never be met"


__all__ = ["Deadlock", "NeverOpens", "Structure", "Unverifiable", "analyse", "wait_graph"]
