"""Condition moments (DESIGN.md, "Moments"): when a condition became true, and why.

A `Moment` is a time plus the log indices it rests on.  Event conditions (`adopted`,
`opened`, `verified`, `delivered`, `stage_complete`, `breached`) have a moment only once the
event has happened at or before `as_of`; `{at: T}` always has its moment T (in the future it
is simply not yet reached); `{after: C, plus: D}` is moment(C) + D; `all` the latest of its
parts once every part has a moment; `any` the earliest part that has one.  So a deadline such
as `{after: {opened: s2}, plus: 72h}` is known as soon as s2 has opened, even though it lies
ahead.

The events themselves are answered by a `Context` (the resolver), which guards against
cycles: a condition that depends on itself never becomes true.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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


@dataclass(frozen=True, slots=True)
class Moment:
    """When something became (or becomes) true, and the log indices it rests on."""

    at: datetime
    because: tuple[int, ...] = ()

    def later(self, other: Moment | None) -> Moment:
        """The later of two moments (self when other is None), because of both."""
        if other is None:
            return self
        at = max(self.at, other.at)
        return Moment(at, merge(self.because, other.because))


def earliest(moments: list[Moment]) -> Moment | None:
    """The earliest of `moments`, because of every one of them at that time (order-free)."""
    if not moments:
        return None
    first = min(m.at for m in moments)
    return Moment(first, merge(*(m.because for m in moments if m.at == first)))


def merge(*groups: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """Sorted union of index groups."""
    out: set[int] = set()
    for group in groups:
        out.update(group)
    return tuple(sorted(out))


class Context(Protocol):
    """What a condition's events mean at the moment of evaluation."""

    def adopted(self) -> Moment | None: ...
    def opened(self, stage_id: str) -> Moment | None: ...
    def stage_complete(self, stage_id: str) -> Moment | None: ...
    def verified(self, obligation_id: str) -> Moment | None: ...
    def delivered(self, obligation_id: str, at_least: float) -> Moment | None: ...
    def breached(self, obligation_id: str) -> Moment | None: ...
    def time(self, text: str) -> datetime: ...


def moment(condition: Condition, ctx: Context) -> Moment | None:
    """The moment `condition` became (or will become) true, or None if not known to."""
    if condition == "adopted":
        return ctx.adopted()
    if isinstance(condition, Opened):
        return ctx.opened(condition.opened)
    if isinstance(condition, Verified):
        return ctx.verified(condition.verified)
    if isinstance(condition, Delivered):
        return ctx.delivered(condition.delivered, float(condition.at_least))
    if isinstance(condition, StageComplete):
        return ctx.stage_complete(condition.stage_complete)
    if isinstance(condition, Breached):
        return ctx.breached(condition.breached)
    if isinstance(condition, At):
        return Moment(ctx.time(condition.at))
    if isinstance(condition, After):
        inner = moment(condition.after, ctx)
        return None if inner is None else Moment(inner.at + condition.plus, inner.because)
    if isinstance(condition, AllOf):
        parts = [moment(part, ctx) for part in condition.all_]
        known = [p for p in parts if p is not None]
        if len(known) != len(parts):
            return None
        return Moment(max(p.at for p in known), merge(*(p.because for p in known)))
    if isinstance(condition, AnyOf):
        found = [p for p in (moment(part, ctx) for part in condition.any_) if p is not None]
        if not found:
            return None
        return min(found, key=lambda p: (p.at, p.because))
    raise TypeError(f"not a condition: {condition!r}")
