"""The agreement overview: stages as a track, each with its obligations, progress and time left.

Pure: `build_overview(agreement, facts, entries, now)` → `Overview`.  `now` is the moment the
page is judged at — the server clock for a live page, `as_of` for time travel.  Parties keep
the order the agreement lists them in; nothing here ranks one side above another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from interlock.agreement.model import AfterEach, Agreement, Obligation, Stage
from interlock.server.dashboard.conditions import ConditionView, describe, leaves, sentence, stage_label
from interlock.server.dashboard.facts import ObligationFacts, StatusFacts
from interlock.server.dashboard.humanize import moment, number, percent, relative, span, when
from interlock.server.dashboard.labels import KINDS, StateLabel, flag_text, obligation_state, stage_state
from interlock.server.dashboard.records import EntryView, adopters


@dataclass(frozen=True)
class PartyView:
    id: str
    name: str
    role: str


@dataclass(frozen=True)
class ObligationRow:
    id: str
    text: str
    kind: str
    kind_label: str
    debtor: str
    creditors: tuple[str, ...]
    state: StateLabel
    verified: float | None
    required: float | None
    unit: str
    percent: int
    progress_text: str
    due_text: str
    flags: tuple[tuple[str, str], ...]  # (flag, words)
    blocking: bool


@dataclass(frozen=True)
class StageCard:
    number: int
    id: str
    title: str
    state: StateLabel
    opened_at: datetime | None
    status_text: str
    opens: ConditionView
    opens_parts: tuple[ConditionView, ...]
    opens_sentence: str
    obligations: tuple[ObligationRow, ...]


@dataclass(frozen=True)
class Overview:
    id: str
    title: str
    hash: str
    clauses_source: str | None
    adoption_text: str
    adopted: bool
    parties: tuple[PartyView, ...]
    stages: tuple[StageCard, ...]
    next_text: str | None  # what the first locked stage waits for
    notifications: tuple[str, ...]
    rejected_count: int


def party_name(agreement: Agreement, party_id: str | None) -> str:
    if party_id is None:
        return "—"
    party = agreement.party(party_id)
    return party.name if party else party_id


def _grace(ob: Obligation) -> str:
    if ob.on_breach and ob.on_breach.grace:
        return f" (+{span(ob.on_breach.grace)} grace)"
    return ""


def due_text(ob: Obligation, facts: ObligationFacts, now: datetime, due_view: ConditionView | None = None) -> str:
    """Time left in words: `due in 3 d 4 h (7 Mar 2026 08:00 UTC)`, `was due …`, `no deadline`.

    `due_view` is the deadline condition in words, for a deadline that is not set yet."""
    state = facts.state
    if state == "pending":
        return "starts when its stage opens"
    if state == "waived":
        return "waived by its creditor"
    if ob.kind in ("rate", "refrain"):
        return "runs over its window" if state == "active" else ""
    if facts.due is None:
        if isinstance(ob.due, AfterEach):
            tranche_due = [t.due for t in facts.tranches if t.due is not None and t.state not in ("fulfilled", "late")]
            if tranche_due:
                nxt = min(tranche_due)
                return f"next tranche due {relative(nxt, now)} ({when(nxt)})"
            return "each tranche due after its base is verified"
        if due_view is not None:
            return f"deadline set when it is reached: {due_view.text}"
        return "no deadline"
    if state in ("fulfilled", "late"):
        return f"was due {when(facts.due)}"
    if facts.due > now:
        return f"due {relative(facts.due, now)} ({when(facts.due)}){_grace(ob)}"
    return f"deadline passed {relative(facts.due, now)} ({when(facts.due)}){_grace(ob)}"


def progress_text(ob: Obligation, facts: ObligationFacts) -> str:
    unit = facts.unit or (ob.quantity.unit if ob.quantity and ob.quantity.unit else "units")
    if ob.kind == "rate":
        assessed = [p for p in facts.periods if p.assessed]
        if not assessed:
            return "no full period assessed yet"
        last = assessed[-1]
        short = sum(1 for p in assessed if p.units is not None and p.required is not None and p.units < p.required)
        return (f"last full period: {number(last.units)} of {number(last.required)} {unit}; "
                f"{short} of {len(assessed)} periods short")
    if ob.kind == "refrain":
        return "violated" if facts.state == "breached" else "no verified violation"
    if ob.quantity is not None and ob.quantity.per and not facts.required:
        ratio = ob.quantity.ratio
        each = number(ratio) if isinstance(ratio, int | float) else "a set number"
        return f"owes {each} {unit} per unit of {ob.quantity.per} verified; nothing owed yet"
    if ob.kind == "act":
        done = facts.required is not None and (facts.verified or 0) >= facts.required
        return "done and verified" if done else "not verified as done yet"
    if facts.required is None:
        return f"{number(facts.verified or 0)} {unit} verified"
    return f"{number(facts.verified or 0)} of {number(facts.required)} {unit} verified"


def _due_view(agreement: Agreement, ob: Obligation, facts: StatusFacts, now: datetime) -> ConditionView | None:
    if ob.due is None or isinstance(ob.due, AfterEach):
        return None
    return describe(ob.due, agreement, facts, now)


def obligation_row(agreement: Agreement, ob: Obligation, facts: StatusFacts, now: datetime) -> ObligationRow:
    of = facts.obligation(ob.id)
    unit = of.unit or (ob.quantity.unit if ob.quantity and ob.quantity.unit else "")
    shows_bar = ob.kind == "deliver"
    return ObligationRow(
        id=ob.id,
        text=ob.text or ob.id,
        kind=ob.kind,
        kind_label=KINDS.get(ob.kind, ob.kind),
        debtor=party_name(agreement, ob.by),
        creditors=tuple(party_name(agreement, p) for p in ob.to),
        state=obligation_state(of.state),
        verified=of.verified if shows_bar else None,
        required=of.required if shows_bar else None,
        unit=unit,
        percent=percent(of.verified, of.required) if shows_bar else 0,
        progress_text=progress_text(ob, of),
        due_text=due_text(ob, of, now, _due_view(agreement, ob, facts, now)),
        flags=tuple((f, flag_text(f)) for f in of.flags),
        blocking=ob.kind in ("deliver", "act"),
    )


def _stage_status(stage: Stage, facts: StatusFacts, view: ConditionView, now: datetime) -> str:
    st = facts.stage(stage.id)
    if st.state == "locked":
        return "Opens when: " + sentence(view, now)
    if st.opened_at is not None:
        return f"Opened {when(st.opened_at)}"
    return ""


def build_overview(agreement: Agreement, facts: StatusFacts, entries: list[EntryView], now: datetime) -> Overview:
    cards = []
    for number_, stage in enumerate(agreement.stages, start=1):
        view = describe(stage.opens, agreement, facts, now)
        cards.append(
            StageCard(
                number=number_,
                id=stage.id,
                title=stage.title or stage.id,
                state=stage_state(facts.stage(stage.id).state),
                opened_at=facts.stage(stage.id).opened_at,
                status_text=_stage_status(stage, facts, view, now),
                opens=view,
                opens_parts=tuple(leaves(view)),
                opens_sentence=sentence(view, now),
                obligations=tuple(obligation_row(agreement, ob, facts, now) for ob in stage.obligations),
            )
        )
    nxt = next((c for c in cards if c.state.key == "locked"), None)
    required = agreement.required_adopters()
    signed = [p for p in adopters(entries) if p in required]
    if facts.adopted_at is not None:
        adoption = f"Adopted {when(facts.adopted_at)} by {', '.join(party_name(agreement, p) for p in required)}"
    else:
        waiting = [party_name(agreement, p) for p in required if p not in signed]
        adoption = f"Not yet adopted: {len(signed)} of {len(required)} signers; waiting for {', '.join(waiting)}"
    notes = tuple(
        f"{n.get('obligation')} breached {when(_at(n))}: notify "
        + ", ".join(party_name(agreement, p) for p in n.get("notify") or [])
        for n in facts.notifications
    )
    return Overview(
        id=agreement.id,
        title=agreement.title,
        hash=agreement.hash,
        clauses_source=agreement.clauses_source,
        adoption_text=adoption,
        adopted=facts.adopted_at is not None,
        parties=tuple(PartyView(p.id, p.name, p.role) for p in agreement.parties),
        stages=tuple(cards),
        next_text=f"{stage_label(agreement, nxt.id)} opens when: {nxt.opens_sentence}" if nxt else None,
        notifications=notes,
        rejected_count=len(facts.rejected),
    )


def _at(notification: dict[str, object]) -> datetime | None:
    at = notification.get("at")
    return moment(at) if isinstance(at, str) else None
