"""The because-chain in words: why an obligation or a stage stands where it does.

`explain(agreement, status, ident)` returns lines a mediator can read aloud, built from the
`Fact`s the resolver attached to the status (each naming the log entries it rests on) and the
agreement's own conditions, e.g.::

    release-prisoners-first (south → north): breached at 2026-03-08T15:20:00Z: 240 persons due at
      2026-03-08T15:20:00Z (24h after entry 8 was verified), 0 verified

Pure: the status and the agreement in, strings out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from interlock.agreement.conditions import ConditionFold, fold
from interlock.agreement.model import AfterEach, Condition, Obligation
from interlock.engine.status import Fact, ObligationStatus, StageStatus, Status, number
from interlock.engine.terms import Terms
from interlock.timeutil import format_duration, format_timestamp


def when(moment: datetime | None) -> str:
    return "—" if moment is None else format_timestamp(moment)


def amount(value: float | None, unit: str | None = None) -> str:
    shown = "?" if value is None else str(number(value))
    return f"{shown} {unit}" if unit else shown


def entries(indices: tuple[int, ...] | list[int]) -> str:
    items = sorted(set(indices))
    if not items:
        return "no entry"
    word = "entry" if len(items) == 1 else "entries"
    return f"{word} {', '.join(str(i) for i in items)}"


def relative(moment: datetime, now: datetime) -> str:
    """`in 3h 20m` or `5h ago` (minutes resolution)."""
    seconds = int((moment - now).total_seconds())
    span = abs(seconds) // 60
    days, rest = divmod(span, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes and not days else ""]
    text = " ".join(p for p in parts if p) or "0m"
    return f"in {text}" if seconds >= 0 else f"{text} ago"


def span(delta: timedelta) -> str:
    """A duration as people say it: hours up to four days (`24h`, `72h`), else the short form."""
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0 and 0 < seconds <= 96 * 3600:
        return f"{seconds // 3600}h"
    return format_duration(delta)


class _Describe(ConditionFold[str]):
    """Each condition form as an event in the past tense."""

    def adopted(self) -> str:
        return "adoption"

    def opened(self, stage_id: str) -> str:
        return f"stage {stage_id} opened"

    def verified(self, obligation_id: str) -> str:
        return f"{obligation_id} was verified"

    def delivered(self, obligation_id: str, at_least: float | int) -> str:
        return f"{number(at_least)} of {obligation_id} were verified"

    def stage_complete(self, stage_id: str) -> str:
        return f"stage {stage_id} was complete"

    def breached(self, obligation_id: str) -> str:
        return f"{obligation_id} was breached"

    def at(self, timestamp: str) -> str:
        return timestamp

    def after(self, base: str, plus: timedelta) -> str:
        return f"{span(plus)} after {base}"

    def all_of(self, parts: list[str]) -> str:
        return "all of: " + "; ".join(parts)

    def any_of(self, parts: list[str]) -> str:
        return "the first of: " + "; ".join(parts)


_DESCRIBE = _Describe()


def describe(condition: Condition) -> str:
    """A condition as an event in the past tense: `72h after stage s2 opened`."""
    return fold(condition, _DESCRIBE)


def explain(terms: Terms, status: Status, ident: str) -> list[str]:
    """Lines explaining obligation or stage `ident`; KeyError if the agreement has neither."""
    if ident in status.obligations:
        return explain_obligation(terms, status, status.obligations[ident])
    if ident in status.stages:
        return explain_stage(terms, status, status.stages[ident])
    raise KeyError(ident)


def explain_stage(terms: Terms, status: Status, stage: StageStatus) -> list[str]:
    definition = terms.stages[stage.id]
    lines = [f"stage {stage.id}: {stage.state}"]
    if stage.opened_at is None:
        lines.append(f"  locked: it opens when {describe(definition.opens)}")
        return lines
    for fact in stage.facts:
        if fact.what == "opened":
            lines.append(f"  opened at {when(fact.at)} ({describe(definition.opens)}; {entries(fact.entries)})")
        elif fact.what == "stage-complete":
            done = entries(fact.entries)
            lines.append(f"  complete at {when(fact.at)}: every deliver and act obligation done ({done})")
        elif fact.what == "stage-breached":
            lines.append(f"  breached at {when(fact.at)}: {fact.ref} breached ({entries(fact.entries)})")
    for ob in definition.obligations:
        shown = status.obligations[ob.id]
        blocking = "" if ob.kind in ("deliver", "act") else " (does not block completion)"
        lines.append(f"  {ob.id}: {shown.state}{blocking}")
    return lines


def explain_obligation(terms: Terms, status: Status, ob: ObligationStatus) -> list[str]:
    definition = terms.obligations[ob.id]
    to = ", ".join(ob.to) or "—"
    lines = [f"{ob.id} ({ob.by} → {to}): {headline(definition, status, ob)}"]
    if definition.text:
        lines.append(f"  text: {definition.text}")
    lines.extend("  " + line for line in details(definition, status, ob))
    if definition.on_breach is not None:
        consequences = []
        if definition.on_breach.suspend:
            consequences.append("suspends " + ", ".join(definition.on_breach.suspend))
        if definition.on_breach.notify:
            consequences.append("notifies " + ", ".join(definition.on_breach.notify))
        if definition.on_breach.grace:
            consequences.append(f"after a grace of {span(definition.on_breach.grace)}")
        if consequences:
            lines.append("  on breach: " + "; ".join(consequences))
    if ob.because:
        lines.append(f"  because: {entries(ob.because)}")
    return lines


def _facts(ob: ObligationStatus, what: str) -> list[Fact]:
    return [f for f in ob.facts if f.what == what]


def _due_text(definition: Obligation) -> str:
    if definition.due is None:
        return ""
    if isinstance(definition.due, AfterEach):
        return f"{span(definition.due.after_each)} after each verified claim of {_base(definition)}"
    return describe(definition.due)


def _base(definition: Obligation) -> str:
    return definition.quantity.per if definition.quantity and definition.quantity.per else "?"


def _voids(ob: ObligationStatus) -> str:
    parts = []
    for fact in _facts(ob, "void"):
        claim, dispute, *rulings = fact.entries
        word = "ruling" if len(rulings) == 1 else "rulings"
        parts.append(f"entry {claim} no longer counts: dispute {dispute} upheld by {word} "
                     + ", ".join(str(r) for r in rulings))
    return "; ".join(parts)


def headline(definition: Obligation, status: Status, ob: ObligationStatus) -> str:
    """The state and its main reason in one sentence."""
    counted = _facts(ob, "counted")
    verified_by = entries([f.entries[0] for f in counted]) if counted else "nothing"
    if _facts(ob, "earlier-claims"):
        verified_by = f"{len(counted)} latest entries, {counted[-1].entries[0]} last" if counted else verified_by
    text = f"{ob.state}"
    if ob.state == "pending":
        stage = status.stages[ob.stage]
        if stage.opened_at is None:
            return f"pending: stage {ob.stage} has not opened"
        return f"pending: it starts when {describe(definition.starts) if definition.starts else 'its stage opens'}"
    if ob.since is not None:
        text += f" {'since' if ob.state == 'active' else 'at'} {when(ob.since)}"
    if ob.state == "breached":
        text += ": " + _breach_reason(definition, ob, verified_by)
    elif ob.state in ("fulfilled", "late"):
        done = _facts(ob, "completed")
        if done:
            text += (f": {amount(ob.verified, ob.unit)} verified by {verified_by}; "
                     f"the whole quantity was observed at {when(done[0].at)}")
            if ob.due is not None:
                text += f" (due {when(ob.due)})"
        elif ob.tranches:
            text += f": every tranche answered ({amount(ob.verified, ob.unit)} verified)"
        elif ob.kind in ("rate", "refrain"):
            text += ": the window closed without a breach"
    elif ob.state == "waived":
        waived = _facts(ob, "waived")
        text += f": released by the creditor ({entries(waived[0].entries) if waived else '?'})"
    elif ob.state == "suspended":
        suspended = _facts(ob, "suspended")
        if suspended:
            text += f": {suspended[0].ref} was breached ({entries(suspended[0].entries)})"
    elif ob.state == "active":
        if ob.kind == "refrain":
            text += ": no attributed incident so far"
        else:
            text += f": {amount(ob.verified)} of {amount(ob.required, ob.unit)} verified"
            if ob.due is not None:
                text += f", due {when(ob.due)} ({relative(ob.due, status.as_of)})"
    voids = _voids(ob)
    return text + (f"; {voids}" if voids else "")


def _breach_reason(definition: Obligation, ob: ObligationStatus, verified_by: str) -> str:
    if ob.tranches:
        for tranche in ob.tranches:
            if tranche.state == "breached":
                each = definition.due.after_each if isinstance(definition.due, AfterEach) else None
                basis = (f"{span(each)} after entry {tranche.base} was verified" if each
                         else _due_text(definition))
                got = [i for i in tranche.because if i != tranche.base]
                return (f"{amount(tranche.owed, ob.unit)} due at {when(tranche.due)} ({basis}), "
                        f"{amount(tranche.delivered)} verified" + (f" by {entries(got)}" if got else ""))
    if ob.periods:
        for period in ob.periods:
            if period.state == "short":
                return (f"the period {when(period.start)} – {when(period.end)} had "
                        f"{amount(period.units)} of {amount(period.required, ob.unit)}")
    if definition.kind == "refrain":
        incidents = [f for f in _facts(ob, "incident") if f.get("attributed")]
        if incidents:
            first, *rest = incidents[0].entries
            return (f"incident {first} (observed {when(incidents[0].at)}) attributed to {ob.by}"
                    + (f" by {entries(rest)}" if rest else ""))
    grace = definition.on_breach.grace if definition.on_breach and definition.on_breach.grace else timedelta(0)
    basis = _due_text(definition)
    text = f"{amount(ob.required, ob.unit)} due at {when(ob.due)}" + (f" ({basis})" if basis else "")
    if grace:
        text += f" with a grace of {span(grace)}"
    return text + f", {amount(ob.verified)} verified by {verified_by}"


def details(definition: Obligation, status: Status, ob: ObligationStatus) -> list[str]:
    """One line per fact beyond the headline."""
    lines: list[str] = []
    if ob.due is not None and not ob.tranches and definition.kind in ("deliver", "act"):
        lines.append(f"due {when(ob.due)}" + (f": {_due_text(definition)}" if _due_text(definition) else ""))
    for fact in ob.facts:
        line = _fact_line(fact, ob)
        if line:
            lines.append(line)
    for tranche in ob.tranches:
        lines.append(
            f"tranche for entry {tranche.base}: {amount(tranche.owed, ob.unit)} due {when(tranche.due)}, "
            f"{amount(tranche.delivered)} delivered: {tranche.state}"
        )
    for period in ob.periods:
        lines.append(f"period {when(period.start)} – {when(period.end)}: "
                     f"{amount(period.units)}/{amount(period.required, ob.unit)} {period.state}")
    for note in status.notifications:
        if note.obligation == ob.id:
            lines.append(f"notified {', '.join(note.notify)} of the breach at {when(note.at)}")
    return lines


def _fact_line(fact: Fact, ob: ObligationStatus) -> str | None:
    what = fact.what
    if what == "counted":
        claim, *verifier = fact.entries
        by = f", verified by entry {verifier[0]}" if verifier else ""
        return (f"entry {claim}: {amount(fact.amount, ob.unit)} observed {when(fact.get('observed_at'))} "
                f"({fact.get('type')} by {fact.get('author')}){by}, counted from {when(fact.at)}")
    if what == "awaiting":
        return f"entry {fact.entries[0]} awaits verification ({amount(fact.amount, ob.unit)} observed {when(fact.at)})"
    if what == "contested":
        claim, *rejections = fact.entries
        return f"entry {claim} is contested: rejected by {entries(rejections)}"
    if what == "disputed":
        target, dispute = fact.entries
        return f"entry {target} is disputed by {fact.ref} (dispute {dispute}), not yet settled"
    if what == "late_report":
        return (f"entry {fact.entries[0]} was reported late: observed {when(fact.at)}, "
                f"logged {when(fact.get('integrated_at'))}")
    if what == "excess_tranches":
        return f"{entries(fact.entries)} go beyond the {amount(fact.amount)} tranches agreed"
    if what == "impeded":
        return f"{fact.ref} reports being kept from verifying (entry {fact.entries[0]}, observed {when(fact.at)})"
    if what == "unilateral":
        own, *cites = fact.entries
        return (f"{fact.ref} announced it withholds this obligation (entry {own}"
                + (f", citing {entries(cites)}" if cites else "") + "); its deadlines keep running")
    if what == "extended":
        return f"{fact.ref} extended the deadline to {when(fact.at)} (entry {fact.entries[0]})"
    if what == "incident":
        first, *rest = fact.entries
        attributed = "attributed" if fact.get("attributed") else "verified, attribution unconfirmed"
        return f"incident {first} observed {when(fact.at)}: {attributed}" + (f" ({entries(rest)})" if rest else "")
    if what == "earlier-claims":
        return f"(and {amount(fact.amount)} earlier counted claims)"
    if what == "void":
        return None  # in the headline
    return None
