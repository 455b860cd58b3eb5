"""Sequencing findings on the event graph (`graph.Plan`): cycles, stages that cannot open,
stages that open only through a breach, obligations that cannot start or fall due, and one
side giving everything on credit.

- `condition-cycle` (error): a strongly connected part of the graph — a condition that waits
  on itself.  One finding per cycle, at the first reference written in it.
- `never-opens`: a stage whose `opens` can never hold (least fixpoint of "can happen").
- `opens-only-through-breach`: a stage that can open, but not if nothing is ever breached.
- `never-starts`: an obligation in a stage that can open, whose `starts` can never hold.
- `never-due`: an obligation that can start, whose `due` (deliver, act) or `window.from`
  (rate, refrain) can never hold: it can never be late, never be breached.
- `all-on-credit`: party A owes B something that can be verified (handed over), B owes A
  something that can be delivered, and every obligation B owes A can be delivered only
  after every such obligation A owes B is verified: A hands over everything before
  receiving anything.  "Only after" means on every path through `any`.
Pure; linear in the size of the graph except `all-on-credit` (bit sets, one per event).
"""

from __future__ import annotations

from collections import deque

from interlock.agreement.findings import Sink
from interlock.agreement.graph import Either, Expr, Need, Never, Node, Plan, describe, nodes_in
from interlock.agreement.refs import obligations_with_paths
from interlock.agreement.yamlsource import Path


def check_cycles(plan: Plan, sink: Sink) -> bool:
    """Report each condition that waits on itself; True when there is none."""
    clean = True
    for component in _components(plan):
        cycle = _one_cycle(plan, component)
        clean = False
        pairs = zip(cycle, cycle[1:] + cycle[:1], strict=True)
        written = [plan.written[pair] for pair in pairs if pair in plan.written]
        first = min(written, key=lambda p: _sortable(sink.position(p)), default=())
        steps = [describe(n) for n in cycle] + [describe(cycle[0])]
        message = f"a condition waits on itself: {steps[0]} waits on " + ", which waits on ".join(steps[1:])
        sink.error("condition-cycle", message, first)
    return clean


def _sortable(position: tuple[int | None, int | None]) -> tuple[int, int]:
    return (position[0] or 0, position[1] or 0)


def _components(plan: Plan) -> list[list[Node]]:
    """Tarjan's strongly connected components with a cycle (size > 1, or a self-loop)."""
    index: dict[Node, int] = {}
    low: dict[Node, int] = {}
    stack: list[Node] = []
    on_stack: set[Node] = set()
    found: list[list[Node]] = []
    for root in plan.exprs:
        if root in index:
            continue
        work: list[tuple[Node, int]] = [(root, 0)]
        while work:
            node, pos = work.pop()
            if pos == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            edges = plan.edges(node)
            if pos < len(edges):
                work.append((node, pos + 1))
                nxt = edges[pos]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                part: list[Node] = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    part.append(top)
                    if top == node:
                        break
                if len(part) > 1 or node in plan.edges(node):
                    found.append(part)
    return found


def _one_cycle(plan: Plan, component: list[Node]) -> list[Node]:
    """A shortest cycle inside `component`, starting at its first node in file order."""
    members = set(component)
    order = {node: k for k, node in enumerate(plan.exprs)}
    start = min(component, key=lambda n: order.get(n, len(order)))
    previous: dict[Node, Node] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in plan.edges(node):
            if nxt == start:
                cycle = [node]
                while cycle[-1] != start:
                    cycle.append(previous[cycle[-1]])
                return cycle[::-1]
            if nxt in members and nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return [start]


def possible(plan: Plan, forbid: frozenset[str] = frozenset()) -> set[Node]:
    """The events that can happen (least fixpoint); events of kinds in `forbid` never do."""
    waiting: dict[Node, list[Node]] = {}
    for node, expr in plan.exprs.items():
        for dep in set(nodes_in(expr)):
            waiting.setdefault(dep, []).append(node)
    done: set[Node] = set()
    queue = deque(plan.exprs)
    while queue:
        node = queue.popleft()
        if node in done or node[0] in forbid or not _holds(plan.exprs[node], done):
            continue
        done.add(node)
        queue.extend(n for n in waiting.get(node, []) if n not in done)
    return done


def _holds(expr: Expr, done: set[Node]) -> bool:
    if isinstance(expr, Need):
        return all(_holds(p, done) for p in expr.parts)
    if isinstance(expr, Either):
        return any(_holds(p, done) for p in expr.parts)
    if isinstance(expr, Never):
        return False
    return expr in done


def explain(plan: Plan, node: Node, done: set[Node], forbid: frozenset[str] = frozenset()) -> tuple[list[Node], str]:
    """Why `node` cannot happen: the chain of events it waits on, and the root reason."""
    chain: list[Node] = []
    seen: set[Node] = set()
    current = node
    while True:
        seen.add(current)
        if current[0] in forbid:
            return chain, f"{describe(current)} is a breach"
        failing = _failing(plan.exprs[current], done)
        if isinstance(failing, Never):
            return chain, failing.reason
        if failing in seen:
            return chain, f"{describe(failing)} waits on itself"
        chain.append(failing)
        current = failing


def _failing(expr: Expr, done: set[Node]) -> Never | Node:
    if isinstance(expr, Never):
        return expr
    if isinstance(expr, tuple):
        return expr
    for part in expr.parts:
        if not _holds(part, done):
            return _failing(part, done)
    return Never("it cannot happen")  # unreachable for an expression that does not hold


def _chain_text(chain: list[Node]) -> str:
    shown = [describe(n) for n in chain]
    if len(shown) > 5:
        shown = [*shown[:2], "…", *shown[-2:]]
    return ", which waits on ".join(shown)


def check_reachability(plan: Plan, sink: Sink) -> None:
    """`never-opens` and `opens-only-through-breach`, one finding per stage, at its `opens`."""
    can = possible(plan)
    calm = possible(plan, frozenset({"breached"}))
    for i, stage in enumerate(plan.agreement.stages):
        node: Node = ("open", stage.id)
        path: Path = ("stages", i, "opens")
        if node not in can:
            sink.warning("never-opens", f"stage `{stage.id}` can never open: {_never(plan, node, can)}", path)
        elif node not in calm:
            chain, _ = explain(plan, node, calm, frozenset({"breached"}))
            message = f"stage `{stage.id}` can open only through a breach: it waits on {_chain_text(chain)}"
            sink.warning("opens-only-through-breach", message, path)


def check_obligation_reach(plan: Plan, sink: Sink) -> None:
    """`never-starts` and `never-due`, at the condition that cannot hold.

    Only the first link that fails is reported: an obligation in a stage that never opens gets
    no `never-starts` (its stage has `never-opens`), and one that never starts no `never-due`.
    """
    can = possible(plan)
    for i, stage in enumerate(plan.agreement.stages):
        if ("open", stage.id) not in can:
            continue
        for j, ob in enumerate(stage.obligations):
            path: Path = ("stages", i, "obligations", j)
            if ("start", ob.id) not in can:
                text = _never(plan, ("start", ob.id), can)
                sink.warning("never-starts", f"`{ob.id}` can never start: {text}", (*path, "starts"))
                continue
            for event, where, what in _TIMING:
                node: Node = (event, ob.id)
                if node in plan.exprs and node not in can:
                    text = _never(plan, node, can)
                    sink.warning("never-due", f"{what.format(ob.id)}: {text}", (*path, *where))


# The events that make an obligation assessable: for deliver and act its deadline, for rate
# and refrain the opening of its window (a window that never closes is an open-ended one).
_TIMING: tuple[tuple[str, Path, str], ...] = (
    ("due", ("due",), "`{}` can never fall due, so it can never be late"),
    ("from", ("window", "from"), "the window of `{}` can never open, so it is never assessed"),
)


def _never(plan: Plan, node: Node, can: set[Node]) -> str:
    chain, reason = explain(plan, node, can)
    return f"it waits on {_chain_text(chain)}; {reason}" if chain else reason


def check_credit(plan: Plan, sink: Sink) -> None:
    """`all-on-credit` (see the module docstring); expects a graph without cycles."""
    agreement = plan.agreement
    can = possible(plan)
    gives: dict[tuple[str, str], list[str]] = {}
    for _, ob in agreement.obligations():
        for creditor in ob.to:
            gives.setdefault((ob.by, creditor), []).append(ob.id)
    bits = {ob.id: 1 << k for k, (_, ob) in enumerate(agreement.obligations())}
    before = _must_have_verified(plan, bits)
    paths = {ob.id: path for path, ob in obligations_with_paths(agreement)}
    for (giver, taker), owed in gives.items():
        given = [y for y in owed if ("verified", y) in can]  # a refrain is never handed over
        returned = [x for x in gives.get((taker, giver), []) if ("delivered", x) in can]
        if not given or not returned:
            continue
        all_given = 0
        for ident in given:
            all_given |= bits[ident]
        if all(before[("delivered", x)] & all_given == all_given for x in returned):
            message = (
                f"`{giver}` owes `{taker}` {_count(given)} and is owed {_count(returned)} in return, "
                f"but nothing `{taker}` owes `{giver}` can be delivered before everything "
                f"`{giver}` owes `{taker}` is verified: `{giver}` gives all on credit"
            )
            sink.warning("all-on-credit", message, paths[given[0]])


def _count(ids: list[str]) -> str:
    return "1 obligation" if len(ids) == 1 else f"{len(ids)} obligations"


def _must_have_verified(plan: Plan, bits: dict[str, int]) -> dict[Node, int]:
    """For each event, the obligations (bit set) verified on every path before it happens."""
    result: dict[Node, int] = {}
    everything = (1 << len(bits)) - 1
    for root in plan.exprs:
        work = [root]
        while work:
            node = work[-1]
            if node in result:
                work.pop()
                continue
            pending = [d for d in nodes_in(plan.exprs[node]) if d not in result and d in plan.exprs]
            if pending:
                work.extend(pending)
                continue
            work.pop()
            own = bits[node[1]] if node[0] == "verified" else 0
            result[node] = own | _need(plan.exprs[node], result, bits, everything)
    return result


def _need(expr: Expr, result: dict[Node, int], bits: dict[str, int], everything: int) -> int:
    if isinstance(expr, Never):
        return everything
    if isinstance(expr, tuple):
        return result.get(expr, 0)
    parts = [_need(p, result, bits, everything) for p in expr.parts]
    if isinstance(expr, Need):
        total = 0
        for part in parts:
            total |= part
        return total
    common = everything
    for part in parts:
        common &= part
    return common if parts else 0
