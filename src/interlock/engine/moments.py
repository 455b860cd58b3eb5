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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from interlock.agreement.conditions import ConditionFold, fold
from interlock.agreement.model import Condition


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


def latest(moments: Sequence[Moment]) -> Moment:
    """The latest of (non-empty) `moments`, because of every one of them.

    Folding `Moment.later` over them gives the same, but re-sorts the growing union once
    per moment (quadratic); this merges once.
    """
    return Moment(max(m.at for m in moments), merge(*(m.because for m in moments)))


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
    return fold(condition, _Moments(ctx))


class _Moments(ConditionFold[Moment | None]):
    """Events from the context; `at` its time; `after` shifts; `all` the latest, `any` the earliest."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def adopted(self) -> Moment | None:
        return self.ctx.adopted()

    def opened(self, stage_id: str) -> Moment | None:
        return self.ctx.opened(stage_id)

    def verified(self, obligation_id: str) -> Moment | None:
        return self.ctx.verified(obligation_id)

    def delivered(self, obligation_id: str, at_least: float | int) -> Moment | None:
        return self.ctx.delivered(obligation_id, float(at_least))

    def stage_complete(self, stage_id: str) -> Moment | None:
        return self.ctx.stage_complete(stage_id)

    def breached(self, obligation_id: str) -> Moment | None:
        return self.ctx.breached(obligation_id)

    def at(self, timestamp: str) -> Moment | None:
        return Moment(self.ctx.time(timestamp))

    def after(self, base: Moment | None, plus: timedelta) -> Moment | None:
        return None if base is None else Moment(base.at + plus, base.because)

    def all_of(self, parts: list[Moment | None]) -> Moment | None:
        known = [p for p in parts if p is not None]
        if len(known) != len(parts):
            return None
        return latest(known)

    def any_of(self, parts: list[Moment | None]) -> Moment | None:
        found = [p for p in parts if p is not None]
        if not found:
            return None
        return min(found, key=lambda p: (p.at, p.because))
