"""A gate condition in words, with how far along it is: "release-first verified (10/12) and
42 d after Stage 2 opened — in 3 d 4 h".

Pure: reads the agreement's condition, the engine's Status facts and an explicit `now`.  It
never decides compliance — whether a part is met comes from the Status (stage and obligation
states, moments); only `at` / `after … plus` are placed on the clock, which is arithmetic
on moments the Status already gives.  A part whose moment the Status does not report is shown
as met without a time, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from interlock.agreement.conditions import ConditionFold, fold
from interlock.agreement.model import Agreement, Condition
from interlock.server.dashboard.facts import StatusFacts
from interlock.server.dashboard.humanize import number, relative, span, when
from interlock.timeutil import parse_timestamp


@dataclass(frozen=True)
class ConditionView:
    """One condition or part of one.

    `ref` names what to link to: `("stage", id)`, `("obligation", id)` or None.  `eta` is the
    clock time at which the part becomes true by time alone (for `at` and `after … plus`
    whose base is met), else None.
    """

    text: str
    met: bool
    met_at: datetime | None = None
    eta: datetime | None = None
    progress: str | None = None
    ref: tuple[str, str] | None = None
    joiner: str | None = None
    parts: tuple[ConditionView, ...] = ()
    blocked: str | None = None  # why it may never come true, when the Status shows it

    def state_text(self, now: datetime) -> str:
        """`met 4 Mar 2026 08:00 UTC`, `met`, `in 3 d 4 h`, or `not yet`."""
        if self.met:
            return f"met {when(self.met_at)}" if self.met_at else "met"
        if self.eta is not None:
            return relative(self.eta, now)
        return f"not yet: {self.blocked}" if self.blocked else "not yet"


def stage_label(agreement: Agreement, stage_id: str) -> str:
    """`Stage 2 (First releases)`, numbered in the agreement's own order."""
    for number_, stage in enumerate(agreement.stages, start=1):
        if stage.id == stage_id:
            return f"Stage {number_} ({stage.title})" if stage.title else f"Stage {number_}"
    return f"stage {stage_id}"


def describe(cond: Condition, agreement: Agreement, facts: StatusFacts, now: datetime) -> ConditionView:
    """The condition `cond` (an agreement model condition) as a `ConditionView` at `now`."""
    return fold(cond, _Describe(agreement, facts, now))


class _Describe(ConditionFold[ConditionView]):
    """Each condition form as a `ConditionView` at `now`: met or not from the Status facts."""

    def __init__(self, agreement: Agreement, facts: StatusFacts, now: datetime) -> None:
        self.agreement = agreement
        self.facts = facts
        self.now = now

    def adopted(self) -> ConditionView:
        adopted_at = self.facts.adopted_at
        met = adopted_at is not None and adopted_at <= self.now
        return ConditionView("the agreement is adopted", met, adopted_at if met else None)

    def opened(self, stage_id: str) -> ConditionView:
        st = self.facts.stage(stage_id)
        met = st.opened_at is not None or st.state != "locked"
        return ConditionView(
            f"{stage_label(self.agreement, stage_id)} opened", met, st.opened_at, ref=("stage", stage_id)
        )

    def verified(self, obligation_id: str) -> ConditionView:
        ob = self.facts.obligation(obligation_id)
        done = ob.required is not None and ob.verified is not None and ob.verified >= ob.required > 0
        met = done or ob.state in ("fulfilled", "late")
        progress = f"{number(ob.verified or 0)}/{number(ob.required)}" if ob.required else None
        return ConditionView(
            f"{obligation_id} verified", met, ob.verified_at if met else None,
            progress=progress, ref=("obligation", obligation_id),
        )

    def delivered(self, obligation_id: str, at_least: float | int) -> ConditionView:
        ob = self.facts.obligation(obligation_id)
        met = ob.verified is not None and ob.verified >= at_least
        return ConditionView(
            f"at least {number(at_least)} {ob.unit or 'units'} of {obligation_id} verified",
            met, None, progress=f"{number(ob.verified or 0)}/{number(at_least)}",
            ref=("obligation", obligation_id),
        )

    def stage_complete(self, stage_id: str) -> ConditionView:
        st = self.facts.stage(stage_id)
        met = st.state == "complete" or st.completed_at is not None
        return ConditionView(
            f"{stage_label(self.agreement, stage_id)} complete", met, st.completed_at,
            ref=("stage", stage_id), blocked="that stage is breached" if st.state == "breached" else None,
        )

    def breached(self, obligation_id: str) -> ConditionView:
        ob = self.facts.obligation(obligation_id)
        met = ob.state == "breached" or ob.breached_at is not None
        return ConditionView(f"{obligation_id} breached", met, ob.breached_at, ref=("obligation", obligation_id))

    def at(self, timestamp: str) -> ConditionView:
        at = parse_timestamp(timestamp, self.agreement.timezone)
        return ConditionView(when(at), at <= self.now, at if at <= self.now else None, eta=at)

    def after(self, base: ConditionView, plus: timedelta) -> ConditionView:
        text = f"{span(plus, parts=3)} after {_lower(base.text)}"
        if base.met and base.met_at is not None:
            at = base.met_at + plus
            met = at <= self.now
            return ConditionView(text, met, at if met else None, eta=at, ref=base.ref, parts=(base,))
        return ConditionView(text, False, None, ref=base.ref, parts=(base,))

    def all_of(self, parts: list[ConditionView]) -> ConditionView:
        return _combine(tuple(parts), "and")

    def any_of(self, parts: list[ConditionView]) -> ConditionView:
        return _combine(tuple(parts), "or")


def _lower(text: str) -> str:
    return text[0].lower() + text[1:] if text.startswith("Stage ") else text


def _combine(parts: tuple[ConditionView, ...], joiner: str) -> ConditionView:
    text = f" {joiner} ".join(p.text for p in parts)
    if joiner == "and":
        met = all(p.met for p in parts)
        times = [p.met_at for p in parts if p.met_at is not None]
        met_at = max(times) if met and len(times) == len(parts) else None
        etas = [p.eta for p in parts if not p.met and p.eta is not None]
        unmet = sum(1 for p in parts if not p.met)
        eta = max(etas) if unmet and len(etas) == unmet else None
    else:
        met = any(p.met for p in parts)
        met_times = [p.met_at for p in parts if p.met and p.met_at is not None]
        met_at = min(met_times) if met and met_times else None
        etas = [p.eta for p in parts if p.eta is not None]
        eta = min(etas) if not met and etas else None
    return ConditionView(text, met, met_at, eta=eta, joiner=joiner, parts=parts)


def leaves(view: ConditionView) -> list[ConditionView]:
    """The parts a reader checks one by one: the top-level `all`/`any` parts, or the view itself."""
    return list(view.parts) if view.joiner else [view]


def sentence(view: ConditionView, now: datetime) -> str:
    """One line: `release-first verified (10/12) and 42 d after stage 2 opened — in 3 d 4 h`.

    The time after the dash is when the clock-only parts still waiting will be met.
    """
    words = []
    for part in leaves(view):
        text = part.text + (f" ({part.progress})" if part.progress and not part.met else "")
        if part.met:
            text += " (met)"
        words.append(text)
    line = f" {view.joiner} ".join(words) if view.joiner else words[0]
    if view.met:
        return line
    waiting = [p for p in leaves(view) if not p.met]
    clocks = [p.eta for p in waiting if p.eta is not None]
    if clocks:
        line += f" — {relative(max(clocks), now)}"
        if len(clocks) < len(waiting):
            line += " at the earliest"
    return line
