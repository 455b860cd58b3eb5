"""What waits on what: the agreement's events as a graph of conditions, and its analyses.

Each stage and obligation gives events (`Node`s): a stage `open`s and becomes `complete`;
an obligation `start`s, has a `due` moment, a window `from`/`until`, is `delivered` (some
verified units), `verified` (all of them) and `breached`.  Every event has an `Expr`: what
must have happened first (`Need` = all of, `Either` = any of, `Never` = cannot happen, with
the reason).  The expressions follow DESIGN.md's semantics:

- `open(S)` — S's `opens`; `complete(S)` — S open and every blocking (deliver, act)
  obligation of S verified; `rate` and `refrain` never block.
- `start(O)` — O's stage open, and O's `starts` if any.
- `delivered(O)` — O started, O has a verifier, and (if proportional) its base delivered.
- `verified(O)` — deliver/act: delivered (and, if proportional, its base verified), never
  for a deliver that does not say how many units; rate: started, verified, and its window
  closed (`until`); refrain: never (it forbids, it is never "done").
- `breached(O)` — deliver/act: started and its deadline passed (never without a `due`);
  rate: its window opened; refrain: its window opened and someone verifies incidents.

A cycle in this graph is a condition that waits on itself.  Besides the edges above, an
obligation's verification is judged against its own deadline, so `verified(O)` also waits on
`due(O)` for cycle detection (not for reachability: a deadline that never comes blocks
nothing).  Pure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from interlock.agreement.conditions import ReferenceKey, parts, reference, target_kind
from interlock.agreement.model import After, AfterEach, Agreement, AllOf, AnyOf, Condition, Delivered, Obligation
from interlock.agreement.yamlsource import Path

Node = tuple[str, str]  # (event, stage or obligation id)


@dataclass(frozen=True)
class Need:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Either:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Never:
    reason: str


Expr = Need | Either | Never | tuple[str, str]
ALWAYS = Need(())
# the event each form of reference waits on
EVENTS: dict[ReferenceKey, str] = {
    "opened": "open",
    "stage_complete": "complete",
    "verified": "verified",
    "delivered": "delivered",
    "breached": "breached",
}


def describe(node: Node) -> str:
    event, ident = node
    return {
        "open": f"stage `{ident}` opening",
        "complete": f"stage `{ident}` complete",
        "start": f"`{ident}` starting",
        "due": f"the deadline of `{ident}`",
        "from": f"the window of `{ident}` opening",
        "until": f"the window of `{ident}` closing",
        "delivered": f"`{ident}` delivered",
        "verified": f"`{ident}` verified",
        "breached": f"`{ident}` breached",
    }[event]


def fixed_total(ob: Obligation) -> float | None:
    """The units `ob` owes when that number is fixed in the file (acts owe one)."""
    if ob.kind == "act":
        return 1
    q = ob.quantity
    if ob.kind != "deliver" or q is None:
        return None
    if q.amount is not None:
        return q.amount
    return sum(q.categories.values()) if q.categories else None


def nodes_in(expr: Expr) -> Iterator[Node]:
    if isinstance(expr, Need | Either):
        for part in expr.parts:
            yield from nodes_in(part)
    elif isinstance(expr, tuple):
        yield expr


class Plan:
    """The event graph of one agreement: `exprs`, `written` (edge → path of the reference)."""

    def __init__(self, agreement: Agreement) -> None:
        self.agreement = agreement
        self.exprs: dict[Node, Expr] = {}
        self.written: dict[tuple[Node, Node], Path] = {}
        self.extra: dict[Node, list[Node]] = {}  # cycle-only edges
        self._stages = {s.id for s in agreement.stages}
        self._obligations = {ob.id: ob for _, ob in agreement.obligations()}
        for i, stage in enumerate(agreement.stages):
            opens = self._cond(stage.opens, ("stages", i, "opens"), ("open", stage.id))
            self.exprs.setdefault(("open", stage.id), opens)
            blocking = [("verified", ob.id) for ob in stage.obligations if ob.kind in ("deliver", "act")]
            self.exprs.setdefault(("complete", stage.id), Need((("open", stage.id), *blocking)))
        for i, stage in enumerate(agreement.stages):
            for j, ob in enumerate(stage.obligations):
                if ("start", ob.id) not in self.exprs:
                    self._obligation(stage.id, ob, ("stages", i, "obligations", j))

    def _cond(self, cond: Condition, path: Path, owner: Node) -> Expr:
        """A condition as an expression; records where each reference is written."""
        if isinstance(cond, AllOf | AnyOf):
            inner = tuple(self._cond(c, p, owner) for p, c in parts(cond, path))
            return Need(inner) if isinstance(cond, AllOf) else Either(inner)
        if isinstance(cond, After):
            ((after_path, after),) = parts(cond, path)
            return self._cond(after, after_path, owner)
        found = reference(cond)
        if found is None:  # `adopted` and `{at: …}` wait on nothing in the agreement
            return ALWAYS
        key, ident = found
        if target_kind(key) == "stage":
            if ident not in self._stages:
                return Never(f"there is no stage `{ident}`")
        else:
            ob = self._obligations.get(ident)
            if ob is None:
                return Never(f"there is no obligation `{ident}`")
            total = fixed_total(ob)
            if isinstance(cond, Delivered) and total is not None and cond.at_least > total:
                return Never(f"`{ident}` owes only {total:g} units, never {cond.at_least:g}")
        target: Node = (EVENTS[key], ident)
        self.written.setdefault((owner, target), (*path, key))
        return target

    def _obligation(self, stage_id: str, ob: Obligation, path: Path) -> None:
        me = ob.id
        start_parts: list[Expr] = [("open", stage_id)]
        if ob.starts is not None:
            start_parts.append(self._cond(ob.starts, (*path, "starts"), ("start", me)))
        self.exprs[("start", me)] = Need(tuple(start_parts))
        q = ob.quantity
        base = q.per if q is not None and q.per in self._obligations and q.per != me else None
        if isinstance(ob.due, AfterEach):
            self.exprs[("due", me)] = ("delivered", base) if base else Never("it has no base obligation")
        elif ob.due is not None:
            self.exprs[("due", me)] = self._cond(ob.due, (*path, "due"), ("due", me))
        if ob.window is not None:
            self.exprs[("from", me)] = self._cond(ob.window.from_, (*path, "window", "from"), ("from", me))
            if ob.window.until is not None:
                until = self._cond(ob.window.until, (*path, "window", "until"), ("until", me))
                self.exprs[("until", me)] = until
        checked: Expr = ALWAYS if ob.verify else Never(f"`{me}` has no verifier, so nothing can verify it")
        delivered: list[Expr] = [("start", me), checked]
        if base:
            delivered.append(("delivered", base))
        self.exprs[("delivered", me)] = Need(tuple(delivered))
        self.exprs[("verified", me)] = self._verified(ob, base, checked)
        self.exprs[("breached", me)] = self._breached(ob, checked)
        if ("due", me) in self.exprs:
            self.extra.setdefault(("verified", me), []).append(("due", me))

    def _verified(self, ob: Obligation, base: str | None, checked: Expr) -> Expr:
        me = ob.id
        if ob.kind == "refrain":
            return Never(f"`{me}` is a refrain obligation, which is never verified as done")
        if ob.kind == "rate":
            if ("until", me) not in self.exprs:
                return Never(f"`{me}` is a rate with an open-ended window, so it is never complete")
            return Need((("start", me), checked, ("from", me), ("until", me)))
        if base:
            return Need((("delivered", me), ("verified", base)))
        q = ob.quantity
        if ob.kind == "deliver" and (q is None or (q.amount is None and q.categories is None)):
            return Never(f"`{me}` does not say how many units it owes, so it is never complete")
        return ("delivered", me)

    def _breached(self, ob: Obligation, checked: Expr) -> Expr:
        me = ob.id
        if ob.kind in ("deliver", "act"):
            if ("due", me) not in self.exprs:
                return Never(f"`{me}` has no deadline, so it can never be breached")
            return Need((("start", me), ("due", me)))
        if ("from", me) not in self.exprs:
            return Never(f"`{me}` has no window, so it is never assessed")
        if ob.kind == "refrain":
            return Need((("start", me), ("from", me), checked))
        return Need((("start", me), ("from", me)))

    def edges(self, node: Node) -> list[Node]:
        """What `node` waits on, for cycle detection (reachability edges and cycle-only ones)."""
        expr = self.exprs.get(node)
        found = list(dict.fromkeys(nodes_in(expr))) if expr is not None else []
        return found + [n for n in self.extra.get(node, []) if n not in found]

