"""Walking a condition: its parts, every sub-condition, and the events it waits on.

The one place that knows how conditions nest (`after`, `all`, `any`) and which forms name a
stage or an obligation.  Other modules fold or search conditions with these instead of
their own `isinstance` ladders::

    from interlock.agreement.conditions import references, walk
    references(stage.opens)        # [("verified", "oa"), ("opened", "s1")]
    [c.at for c in walk(ob.due) if isinstance(c, At)]

A reference is `(key, id)`: `key` is the condition's own key, one of `REFERENCE_KEYS`
("opened", "stage_complete", "verified", "delivered", "breached"); `opened` and
`stage_complete` name a stage, the others an obligation (`target_kind`).  `adopted` and
`{at: …}` wait on nothing in the agreement.  Everything is in written order, depth first;
walks are iterative, so deep nesting cannot exhaust the stack.  Pure; never raises on a
value of `model.Condition`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from interlock.agreement.model import (
    After,
    AllOf,
    AnyOf,
    Breached,
    Condition,
    Delivered,
    Opened,
    StageComplete,
    Verified,
)
from interlock.agreement.yamlsource import Path

ReferenceKey = Literal["opened", "stage_complete", "verified", "delivered", "breached"]
REFERENCE_KEYS: tuple[ReferenceKey, ...] = ("opened", "stage_complete", "verified", "delivered", "breached")

__all__ = [
    "REFERENCE_KEYS",
    "ReferenceKey",
    "parts",
    "reference",
    "references",
    "target_kind",
    "walk",
    "walk_paths",
]


def parts(condition: Condition, path: Path = ()) -> list[tuple[Path, Condition]]:
    """The conditions directly inside `condition`, each with its path under `path`.

    `after` has one part, `all`/`any` one per item; every other form has none.
    """
    if isinstance(condition, After):
        return [((*path, "after"), condition.after)]
    if isinstance(condition, AllOf):
        return [((*path, "all", i), part) for i, part in enumerate(condition.all_)]
    if isinstance(condition, AnyOf):
        return [((*path, "any", i), part) for i, part in enumerate(condition.any_)]
    return []


def walk_paths(condition: Condition, path: Path = ()) -> Iterator[tuple[Path, Condition]]:
    """`condition` and every condition inside it, each with its path, depth first in written order."""
    work: list[tuple[Path, Condition]] = [(path, condition)]
    while work:
        where, current = work.pop()
        yield where, current
        work.extend(reversed(parts(current, where)))


def walk(condition: Condition) -> Iterator[Condition]:
    """`condition` and every condition inside it, depth first in written order."""
    for _, current in walk_paths(condition):
        yield current


def reference(condition: Condition) -> tuple[ReferenceKey, str] | None:
    """`(key, id)` when `condition` itself names a stage or obligation, else None."""
    if isinstance(condition, Opened):
        return "opened", condition.opened
    if isinstance(condition, StageComplete):
        return "stage_complete", condition.stage_complete
    if isinstance(condition, Verified):
        return "verified", condition.verified
    if isinstance(condition, Delivered):
        return "delivered", condition.delivered
    if isinstance(condition, Breached):
        return "breached", condition.breached
    return None


def references(condition: Condition) -> list[tuple[ReferenceKey, str]]:
    """The `(key, id)` pairs `condition` waits on, in written order, each once."""
    found = (reference(c) for c in walk(condition))
    return list(dict.fromkeys(ref for ref in found if ref is not None))


def target_kind(key: ReferenceKey) -> Literal["stage", "obligation"]:
    """What a reference key names: `opened` and `stage_complete` a stage, the rest an obligation."""
    return "stage" if key in ("opened", "stage_complete") else "obligation"
