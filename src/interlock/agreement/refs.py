"""Every reference an agreement makes, with where it is written; obligations with their paths.

A reference names a party, a stage or an obligation by id.  `references(agreement)` lists
them all in file order with the path of the id in the document, so that the checker can say
"line 14: unknown obligation `relase-first`".  Pure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from interlock.agreement.conditions import reference, target_kind, walk_paths
from interlock.agreement.model import AfterEach, Agreement, Condition, Obligation
from interlock.agreement.yamlsource import Path

Target = Literal["party", "stage", "obligation"]


@dataclass(frozen=True)
class Ref:
    """`target` names a `kind` of thing; written at `path` as `form` (a key or a condition)."""

    kind: Target
    target: str
    path: Path
    form: str


def obligations_with_paths(agreement: Agreement) -> Iterator[tuple[Path, Obligation]]:
    """Each obligation with its path in the document, in file order."""
    for i, stage in enumerate(agreement.stages):
        for j, ob in enumerate(stage.obligations):
            yield ("stages", i, "obligations", j), ob


def condition_refs(cond: Condition, path: Path) -> Iterator[Ref]:
    """The stages and obligations a condition mentions, depth first, in written order."""
    for where, part in walk_paths(cond, path):
        found = reference(part)
        if found is not None:
            key, ident = found
            yield Ref(target_kind(key), ident, (*where, key), key)


def _listed(kind: Target, ids: list[str], path: Path, form: str) -> Iterator[Ref]:
    for i, ident in enumerate(ids):
        yield Ref(kind, ident, (*path, i), form)


def references(agreement: Agreement) -> Iterator[Ref]:
    """Every reference in the agreement, in file order."""
    if agreement.adoption is not None:
        yield from _listed("party", agreement.adoption.requires, ("adoption", "requires"), "requires")
    if agreement.disputes is not None:
        yield from _listed("party", agreement.disputes.ruled_by, ("disputes", "ruled_by"), "ruled_by")
    for i, stage in enumerate(agreement.stages):
        spath: Path = ("stages", i)
        yield from condition_refs(stage.opens, (*spath, "opens"))
        for j, ob in enumerate(stage.obligations):
            yield from _obligation_refs(ob, (*spath, "obligations", j))


def _obligation_refs(ob: Obligation, opath: Path) -> Iterator[Ref]:
    yield Ref("party", ob.by, (*opath, "by"), "by")
    yield from _listed("party", ob.to, (*opath, "to"), "to")
    if ob.quantity is not None and ob.quantity.per is not None:
        yield Ref("obligation", ob.quantity.per, (*opath, "quantity", "per"), "per")
    if ob.starts is not None:
        yield from condition_refs(ob.starts, (*opath, "starts"))
    if ob.due is not None and not isinstance(ob.due, AfterEach):
        yield from condition_refs(ob.due, (*opath, "due"))
    if ob.window is not None:
        yield from condition_refs(ob.window.from_, (*opath, "window", "from"))
        if ob.window.until is not None:
            yield from condition_refs(ob.window.until, (*opath, "window", "until"))
    if ob.verify is not None:
        yield from _listed("party", ob.verify.by, (*opath, "verify", "by"), "verify.by")
    if ob.on_breach is not None:
        suspend, notify = ob.on_breach.suspend, ob.on_breach.notify
        yield from _listed("obligation", suspend, (*opath, "on_breach", "suspend"), "suspend")
        yield from _listed("party", notify, (*opath, "on_breach", "notify"), "notify")
