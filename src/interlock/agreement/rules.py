"""The checker's errors after the shape is right: ids, references, roles, kinds, quantities.

Each rule reads a validated `Agreement` and reports into a `Sink`; none raises.  Stages and
obligations share one namespace of ids (a finding's `id` names either), parties another, key
ids a third (statements name keys alone).  Pure.
"""

from __future__ import annotations

from collections import Counter

from interlock.agreement.findings import Sink
from interlock.agreement.model import AfterEach, Agreement, Obligation, Quantity
from interlock.agreement.refs import Ref, obligations_with_paths, references
from interlock.agreement.yamlsource import Path
from interlock.errors import TimezoneError
from interlock.timeutil import zone


def check_rules(agreement: Agreement, sink: Sink) -> None:
    """Report every error of a shape-valid agreement."""
    _timezone(agreement, sink)
    _duplicates(agreement, sink)
    _references(agreement, sink)
    _quorums(agreement, sink)
    for path, ob in obligations_with_paths(agreement):
        _roles(agreement, ob, path, sink)
        _kind(ob, path, sink)
        _quantity(agreement, ob, path, sink)


def _timezone(agreement: Agreement, sink: Sink) -> None:
    try:
        zone(agreement.timezone)
    except TimezoneError as exc:
        sink.error("unknown-timezone", exc.message, ("timezone",))


def _duplicates(agreement: Agreement, sink: Sink) -> None:
    parties: dict[str, Path] = {}
    for k, party in enumerate(agreement.parties):
        _once(parties, party.id, ("parties", k, "id"), "party", sink)
    keys: dict[str, Path] = {}
    for k, party in enumerate(agreement.parties):
        for n, key in enumerate(party.keys):
            _once(keys, key.id, ("parties", k, "keys", n, "id"), "key", sink)
    steps: dict[str, Path] = {}
    for i, stage in enumerate(agreement.stages):
        _once(steps, stage.id, ("stages", i, "id"), "stage or obligation", sink, owner=stage.id)
    for path, ob in obligations_with_paths(agreement):
        _once(steps, ob.id, (*path, "id"), "stage or obligation", sink, owner=ob.id)


def _once(
    seen: dict[str, Path], ident: str, path: Path, what: str, sink: Sink, *, owner: str | None = None
) -> None:
    if ident in seen:
        first = sink.position(seen[ident])[0]
        where = f" (first at line {first})" if first else ""
        sink.error("duplicate-id", f"the {what} id `{ident}` is used twice{where}", path, owner)
    else:
        seen[ident] = path


def _references(agreement: Agreement, sink: Sink) -> None:
    known = {
        "party": {p.id for p in agreement.parties},
        "stage": {s.id for s in agreement.stages},
        "obligation": {ob.id for _, ob in agreement.obligations()},
    }
    lists: dict[Path, Counter[str]] = {}
    for ref in references(agreement):
        if ref.target not in known[ref.kind]:
            sink.error("unknown-reference", _unknown(ref, sorted(known[ref.kind])), ref.path)
        if isinstance(ref.path[-1], int):
            seen = lists.setdefault(ref.path[:-1], Counter())
            seen[ref.target] += 1
            if seen[ref.target] == 2:
                message = f"`{ref.target}` is listed twice in `{ref.form}`"
                sink.error("duplicate-reference", message, ref.path)


def _unknown(ref: Ref, known: list[str]) -> str:
    shown = ", ".join(known[:12]) + (", …" if len(known) > 12 else "")
    return f"`{ref.form}` names the {ref.kind} `{ref.target}`, which does not exist (known: {shown})"


def _quorums(agreement: Agreement, sink: Sink) -> None:
    if agreement.disputes is not None:
        quorum, resolvers = agreement.disputes.quorum, set(agreement.disputes.ruled_by)
        if quorum > len(resolvers):
            message = f"a quorum of {quorum} rulings, but only {len(resolvers)} can rule"
            sink.error("quorum-too-high", message, ("disputes", "quorum"))
    for path, ob in obligations_with_paths(agreement):
        if ob.verify is not None and ob.verify.quorum > len(set(ob.verify.by)):
            count = len(set(ob.verify.by))
            message = f"`{ob.id}` needs {ob.verify.quorum} verifiers to agree, but has only {count}"
            sink.error("quorum-too-high", message, (*path, "verify", "quorum"))


def _roles(agreement: Agreement, ob: Obligation, path: Path, sink: Sink) -> None:
    if ob.by in ob.to:
        sink.error("owed-to-self", f"`{ob.id}` is owed by `{ob.by}` to itself", (*path, "to"))
    if ob.verify is None:
        return
    for k, verifier in enumerate(ob.verify.by):
        where: Path = (*path, "verify", "by", k)
        if verifier == ob.by:
            message = f"`{ob.by}` owes `{ob.id}` and cannot be among its verifiers"
            sink.error("self-verification", message, where)
        party = agreement.party(verifier)
        if party is not None and party.role != "monitor":
            message = f"`{verifier}` verifies `{ob.id}` but is a {party.role}, not a monitor"
            sink.error("verifier-not-monitor", message, where)


def _kind(ob: Obligation, path: Path, sink: Sink) -> None:
    """Each kind has its own timing and measure; report the fields that do not fit it."""
    timed = ob.kind in ("deliver", "act")
    if not timed and ob.due is not None:
        message = f"a {ob.kind} obligation runs over a `window`; it has no `due`"
        sink.error("kind-mismatch", message, (*path, "due"))
    if timed and ob.window is not None:
        message = f"an {ob.kind} obligation has a `due` (and maybe `starts`), not a `window`"
        sink.error("kind-mismatch", message.replace("an deliver", "a deliver"), (*path, "window"))
    if ob.tranches is not None and ob.kind != "deliver":
        sink.error("kind-mismatch", f"`tranches` apply to deliver obligations, not {ob.kind}", (*path, "tranches"))
    if ob.quantity is not None and ob.kind in ("act", "refrain"):
        message = f"an {ob.kind} obligation has no quantity (an act is one action; a refrain forbids)"
        sink.error("kind-mismatch", message, (*path, "quantity"))
    quantity = ob.quantity
    if quantity is not None and quantity.per_period is not None and ob.kind != "rate":
        message = "`per_period` makes a rate; use `kind: rate`"
        sink.error("kind-mismatch", message, (*path, "quantity", "per_period"))


def _quantity(agreement: Agreement, ob: Obligation, path: Path, sink: Sink) -> None:
    q, qpath = ob.quantity, (*path, "quantity")
    if ob.kind == "rate" and q is not None and q.amount is not None and q.per_period is None:
        message = f"rate `{ob.id}` owes {q.amount:g} per what? add `per_period`, e.g. `1d`"
        sink.error("bad-quantity", message, qpath)
    if isinstance(ob.due, AfterEach) and (q is None or q.per is None):
        message = "`due: {after_each: …}` times the tranches of a proportional quantity (`per`)"
        sink.error("bad-proportional", message, (*path, "due"))
    if q is None:
        return
    if q.amount is not None and q.categories is not None and sum(q.categories.values()) != q.amount:
        total = sum(q.categories.values())
        message = f"the categories add up to {total:g}, but `amount` is {q.amount:g}"
        sink.error("bad-quantity", message, (*qpath, "categories"))
    _proportional(agreement, ob, q, qpath, sink)


def _proportional(agreement: Agreement, ob: Obligation, q: Quantity, qpath: Path, sink: Sink) -> None:
    if q.per is None and q.ratio is None:
        return
    if q.per is None or q.ratio is None:
        missing = "ratio" if q.ratio is None else "per"
        message = f"a proportional quantity needs both `per` and `ratio`; `{missing}` is missing"
        sink.error("bad-proportional", message, qpath)
        return
    if q.amount is not None or q.categories is not None:
        message = "a quantity is either fixed (`amount`/`categories`) or proportional (`per`), not both"
        sink.error("bad-proportional", message, qpath)
    if ob.kind != "deliver":
        sink.error("bad-proportional", f"only deliver obligations can be proportional, not {ob.kind}", qpath)
    base = agreement.obligation(q.per)
    if base is None:
        return  # reported as unknown-reference
    if base.id == ob.id:
        sink.error("bad-proportional", f"`{ob.id}` cannot be proportional to itself", (*qpath, "per"))
        return
    if base.kind != "deliver":
        message = f"`per` must name a deliver obligation; `{base.id}` is {base.kind}"
        sink.error("bad-proportional", message, (*qpath, "per"))
        return
    if isinstance(q.ratio, dict):
        base_categories = set((base.quantity.categories or {}) if base.quantity else {})
        stray = sorted(set(q.ratio) - base_categories)
        if stray:
            have = ", ".join(sorted(base_categories)) or "no categories"
            message = (
                f"the ratio counts categories {', '.join(stray)} of `{base.id}`, "
                f"whose quantity has {have}"
            )
            sink.error("unit-mismatch", message, (*qpath, "ratio"))
