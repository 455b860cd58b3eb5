"""Walking and folding a condition: its parts, every sub-condition, the events it waits on.

The one place that knows the forms of a condition, how they nest (`after`, `all`, `any`) and
which name a stage or an obligation.  Other modules fold or search conditions with these
instead of their own `isinstance` ladders::

    from interlock.agreement.conditions import ConditionFold, fold, references, walk
    references(stage.opens)        # [("verified", "oa"), ("opened", "s1")]
    [c.at for c in walk(ob.due) if isinstance(c, At)]
    fold(stage.opens, Describe())  # a ConditionFold[str]: one method per form

`fold` gives each form's fields to the `ConditionFold` method of that form; `after`,
`all_of` and `any_of` receive their parts already folded.

A reference is `(key, id)`: `key` is the condition's own key, one of `REFERENCE_KEYS`
("opened", "stage_complete", "verified", "delivered", "breached"); `opened` and
`stage_complete` name a stage, the others an obligation (`target_kind`).  `adopted` and
`{at: …}` wait on nothing in the agreement.  Everything is in written order, depth first;
walks are iterative, so deep nesting cannot exhaust the stack.  Pure; never raises on a
value of `model.Condition`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import timedelta
from typing import Generic, Literal, TypeVar

from interlock.agreement.model import (
    After,
    AllOf,
    AnyOf,
    At,
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

T = TypeVar("T")

__all__ = [
    "REFERENCE_KEYS",
    "ConditionFold",
    "ReferenceKey",
    "fold",
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


class ConditionFold(ABC, Generic[T]):
    """What each form of condition means, for `fold`: one method per form of `model.Condition`.

    Leaves get the form's fields; `after`, `all_of` and `any_of` get their parts already
    folded (in written order).  A subclass that leaves a form out cannot be instantiated.
    """

    @abstractmethod
    def adopted(self) -> T:
        """`adopted`."""

    @abstractmethod
    def opened(self, stage_id: str) -> T:
        """`{opened: S}`."""

    @abstractmethod
    def verified(self, obligation_id: str) -> T:
        """`{verified: O}`."""

    @abstractmethod
    def delivered(self, obligation_id: str, at_least: float | int) -> T:
        """`{delivered: O, at_least: N}`."""

    @abstractmethod
    def stage_complete(self, stage_id: str) -> T:
        """`{stage_complete: S}`."""

    @abstractmethod
    def breached(self, obligation_id: str) -> T:
        """`{breached: O}`."""

    @abstractmethod
    def at(self, timestamp: str) -> T:
        """`{at: T}`, the timestamp as written."""

    @abstractmethod
    def after(self, base: T, plus: timedelta) -> T:
        """`{after: C, plus: D}`, with C folded as `base`."""

    @abstractmethod
    def all_of(self, parts: list[T]) -> T:
        """`{all: [...]}`, each part folded."""

    @abstractmethod
    def any_of(self, parts: list[T]) -> T:
        """`{any: [...]}`, each part folded."""


def fold(condition: Condition, by: ConditionFold[T]) -> T:
    """`condition` folded by `by`: every part first, depth first in written order, then the whole.

    Each sub-condition is folded exactly once, a part before the one it is in, left to right;
    iterative, so deep nesting cannot exhaust the stack.  TypeError on a value that is not a
    condition.  Forms are told apart by exact type, and the common shapes (a leaf, `after` a
    leaf) take no stack: `isinstance` on pydantic models is slow, and this is on the engine's
    and the analyser's hot paths.
    """
    if type(condition) not in _NESTED:
        return _leaf(condition, by)
    if type(condition) is After and type(condition.after) not in _NESTED:
        return by.after(_leaf(condition.after, by), condition.plus)
    done: list[T] = []
    work: list[tuple[Condition, int]] = [(condition, -1)]  # -1: to expand; n ≥ 0: combine its n parts
    while work:
        current, count = work.pop()
        if count >= 0:
            folded = done[len(done) - count:]
            del done[len(done) - count:]
            done.append(_combine(current, folded, by))
        elif type(current) in _NESTED:
            inside = _inside(current)
            work.append((current, len(inside)))
            work.extend((part, -1) for part in reversed(inside))
        else:
            done.append(_leaf(current, by))
    return done[0]


_NESTED = frozenset({After, AllOf, AnyOf})


def _inside(condition: Condition) -> list[Condition]:
    if type(condition) is After:
        return [condition.after]
    if type(condition) is AllOf:
        return condition.all_
    if type(condition) is AnyOf:
        return condition.any_
    return []


def _leaf(condition: Condition, by: ConditionFold[T]) -> T:
    if type(condition) is Opened:
        return by.opened(condition.opened)
    if type(condition) is Verified:
        return by.verified(condition.verified)
    if type(condition) is Delivered:
        return by.delivered(condition.delivered, condition.at_least)
    if type(condition) is StageComplete:
        return by.stage_complete(condition.stage_complete)
    if type(condition) is Breached:
        return by.breached(condition.breached)
    if type(condition) is At:
        return by.at(condition.at)
    if type(condition) is str and condition == "adopted":
        return by.adopted()
    raise TypeError(f"not a condition: {condition!r}")


def _combine(condition: Condition, folded: list[T], by: ConditionFold[T]) -> T:
    if type(condition) is After:
        return by.after(folded[0], condition.plus)
    if type(condition) is AllOf:
        return by.all_of(folded)
    return by.any_of(folded)
