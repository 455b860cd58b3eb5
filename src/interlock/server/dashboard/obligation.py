"""The obligation page: its state explained in words, with links to the entries it rests on.

Pure: `build_obligation(agreement, oid, facts, entries, now)` → `ObligationPage`.  The
explanation restates what the engine's Status says (state, moments, `because`) in sentences;
it never reaches a different verdict.  Each sentence carries the entry indices it cites so
the template can link them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from interlock.agreement.model import Agreement, Obligation
from interlock.server.dashboard.chart import Chart, build_chart
from interlock.server.dashboard.conditions import ConditionView, describe, stage_label
from interlock.server.dashboard.facts import ObligationFacts, StatusFacts
from interlock.server.dashboard.humanize import number, span, when
from interlock.server.dashboard.labels import KINDS, StateLabel, flag_text, obligation_state
from interlock.server.dashboard.overview import ObligationRow, obligation_row, party_name
from interlock.server.dashboard.records import EntryView

CLAIM_TYPES = ("declare", "evidence", "incident")


@dataclass(frozen=True)
class Sentence:
    text: str
    entries: tuple[int, ...] = ()


@dataclass(frozen=True)
class ClaimRow:
    entry: EntryView
    units: str
    responses: tuple[EntryView, ...]  # attestations, disputes and rulings about it
    counted: bool  # listed in the obligation's `because`


@dataclass(frozen=True)
class TrancheRow:
    number: int
    state: StateLabel | None
    verified: str
    required: str
    due: str
    entries: tuple[int, ...]


@dataclass(frozen=True)
class ObligationPage:
    row: ObligationRow
    stage_id: str
    stage_label: str
    clause: str | None
    kind_label: str
    state: StateLabel
    explanation: tuple[Sentence, ...]
    because: tuple[int, ...]
    verifiers: str
    on_breach: tuple[str, ...]
    starts: ConditionView | None
    claims: tuple[ClaimRow, ...]
    tranches: tuple[TrancheRow, ...]
    chart: Chart | None
    disputes: tuple[EntryView, ...]
    other_entries: tuple[EntryView, ...]
    flags: tuple[tuple[str, str], ...]


def _names(agreement: Agreement, ids: list[str] | tuple[str, ...]) -> str:
    return ", ".join(party_name(agreement, p) for p in ids) or "nobody"


def explain(agreement: Agreement, ob: Obligation, of: ObligationFacts, facts: StatusFacts) -> tuple[Sentence, ...]:
    """The state in sentences, each citing its entries."""
    stage = agreement.stage_of(ob.id)
    st = facts.stage(stage.id) if stage else None
    out: list[Sentence] = []
    label = obligation_state(of.state)
    since = f" since {when(of.since)}" if of.since is not None and of.state != "pending" else ""
    out.append(Sentence(f"{label.text}{since}: {state_meaning(ob.kind, of.state, label.meaning)}."))
    if stage and st:
        if st.opened_at is not None:
            out.append(Sentence(f"{stage_label(agreement, stage.id)} opened {when(st.opened_at)}."))
        else:
            out.append(Sentence(f"{stage_label(agreement, stage.id)} has not opened yet.", ()))
    unit = of.unit or (ob.quantity.unit if ob.quantity and ob.quantity.unit else "units")
    if ob.kind in ("deliver", "act") and of.required is not None:
        out.append(Sentence(f"{number(of.verified or 0)} of {number(of.required)} {unit} verified so far.", ()))
    if ob.kind == "rate":
        assessed = [p for p in of.periods if p.assessed and p.state != "open"]
        short = [p for p in assessed if p.state == "short"
                 or (p.state is None and p.units is not None and p.required is not None and p.units < p.required)]
        per = f"{number(ob.quantity.amount)} {unit} per period" if ob.quantity and ob.quantity.amount else "the rate"
        out.append(Sentence(f"{len(short)} of {len(assessed)} assessed periods fell short of {per}. "
                            "A partial first or last period is reported but not assessed.", ()))
    if of.due is not None:
        grace = ob.on_breach.grace if ob.on_breach and ob.on_breach.grace else None
        text = f"Due {when(of.due)}"
        if grace:
            text += f", with {span(grace)} of grace until {when(of.due + grace)}"
        out.append(Sentence(text + ". Deadlines are judged on when the verifying evidence says it was observed.", ()))
    if of.breached_at is not None:
        out.append(Sentence(f"Breached {when(of.breached_at)}.", ()))
    for n in facts.notifications:
        if n.get("obligation") == ob.id:
            out.append(Sentence(f"On breach, {_names(agreement, n.get('notify') or [])} are to be notified.", ()))
    return tuple(out)


_KIND_MEANINGS = {
    ("rate", "active"): "its window is running and no assessed period has fallen short",
    ("rate", "fulfilled"): "its window has closed and every assessed period met the rate",
    ("rate", "breached"): "an assessed period fell short of the rate (after any grace)",
    ("refrain", "active"): "in force: no verified violation",
    ("refrain", "fulfilled"): "its window has closed without a verified violation",
    ("refrain", "breached"): "a verified incident inside its window violated it",
}


def state_meaning(kind: str, state: str, default: str) -> str:
    """What a state means for this kind of obligation (a rate is never "verified in full")."""
    return _KIND_MEANINGS.get((kind, state), default)


def _responses(entry: EntryView, entries: list[EntryView]) -> tuple[EntryView, ...]:
    direct = [e for e in entries if entry.index in e.refs and e.type in ("attest", "dispute")]
    disputes = {e.index for e in direct if e.type == "dispute"}
    rulings = [e for e in entries if e.type == "ruling" and set(e.refs) & disputes]
    return tuple(sorted(direct + rulings, key=lambda e: e.index))


def build_obligation(
    agreement: Agreement, oid: str, facts: StatusFacts, entries: list[EntryView], now: datetime
) -> ObligationPage | None:
    """The page for obligation `oid`, or None if the agreement has no such obligation."""
    ob = agreement.obligation(oid)
    stage = agreement.stage_of(oid)
    if ob is None or stage is None:
        return None
    of = facts.obligation(oid)
    unit = of.unit or (ob.quantity.unit if ob.quantity and ob.quantity.unit else "units")
    mine = [e for e in entries if e.obligation == oid]
    claims = tuple(
        ClaimRow(e, number(e.body.get("units")) if isinstance(e.body.get("units"), int | float) else "1",
                 _responses(e, entries), e.index in of.because)
        for e in mine if e.type in CLAIM_TYPES
    )
    in_claims = {r.index for c in claims for r in c.responses} | {c.entry.index for c in claims}
    tranches = tuple(
        TrancheRow(
            t.number, obligation_state(t.state) if t.state else None, number(t.verified or 0),
            number(t.required), when(t.due), t.because,
        )
        for t in of.tranches
    )
    amount = ob.quantity.amount if ob.quantity and ob.quantity.amount is not None else None
    verifiers = (
        f"{_names(agreement, ob.verify.by)} (quorum {ob.verify.quorum})" if ob.verify else "nobody is named to verify"
    )
    consequences = []
    if ob.on_breach:
        if ob.on_breach.suspend:
            consequences.append("suspends " + ", ".join(ob.on_breach.suspend))
        if ob.on_breach.notify:
            consequences.append("notifies " + _names(agreement, ob.on_breach.notify))
        if ob.on_breach.grace:
            consequences.append(f"after {span(ob.on_breach.grace)} of grace")
    return ObligationPage(
        row=obligation_row(agreement, ob, facts, now),
        stage_id=stage.id,
        stage_label=stage_label(agreement, stage.id),
        clause=ob.clause,
        kind_label=KINDS.get(ob.kind, ob.kind),
        state=obligation_state(of.state),
        explanation=explain(agreement, ob, of, facts),
        because=of.because,
        verifiers=verifiers,
        on_breach=tuple(consequences),
        starts=describe(ob.starts, agreement, facts, now) if ob.starts is not None else None,
        claims=claims,
        tranches=tranches,
        chart=build_chart(of.periods, amount, unit, oid) if ob.kind == "rate" else None,
        disputes=tuple(e for e in mine if e.type in ("dispute", "ruling")),
        other_entries=tuple(e for e in mine if e.index not in in_claims and e.type not in ("dispute", "ruling")),
        flags=tuple((f, flag_text(f)) for f in of.flags),
    )
