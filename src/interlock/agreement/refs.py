"""Every reference an agreement makes, with where it is written.

A reference names a party, a stage or an obligation by id.  `references(agreement)` lists
them all in file order with the path of the id in the document, so that the checker can say
"line 14: unknown obligation `relase-first`".  Pure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from interlock.agreement.model import (
    After,
    AfterEach,
    Agreement,
    AllOf,
    AnyOf,
    Breached,
    Delivered,
    Opened,
    StageComplete,
    Verified,
)
from interlock.agreement.yamlsource import Path

Target = Literal["party", "stage", "obligation"]
Condition = object  # a value of `model.Condition` (str "adopted" or one of the condition models)


@dataclass(frozen=True)
class Ref:
    """`target` names a `kind` of thing; written at `path` as `form` (a key or a condition)."""

    kind: Target
    target: str
    path: Path
    form: str


def condition_refs(cond: Condition, path: Path) -> Iterator[Ref]:
    """The stages and obligations a condition mentions, depth first, in written order."""
    if isinstance(cond, Opened):
        yield Ref("stage", cond.opened, (*path, "opened"), "opened")
    elif isinstance(cond, StageComplete):
        yield Ref("stage", cond.stage_complete, (*path, "stage_complete"), "stage_complete")
    elif isinstance(cond, Verified):
        yield Ref("obligation", cond.verified, (*path, "verified"), "verified")
    elif isinstance(cond, Delivered):
        yield Ref("obligation", cond.delivered, (*path, "delivered"), "delivered")
    elif isinstance(cond, Breached):
        yield Ref("obligation", cond.breached, (*path, "breached"), "breached")
    elif isinstance(cond, After):
        yield from condition_refs(cond.after, (*path, "after"))
    elif isinstance(cond, AllOf):
        for i, part in enumerate(cond.all_):
            yield from condition_refs(part, (*path, "all", i))
    elif isinstance(cond, AnyOf):
        for i, part in enumerate(cond.any_):
            yield from condition_refs(part, (*path, "any", i))


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
            opath: Path = (*spath, "obligations", j)
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
