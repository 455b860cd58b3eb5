"""Incidents and disputes: attributed, unattributed and disputed, both sides side by side.

Pure.  The fact of an incident and the finding of a breach are kept apart (DESIGN.md,
Refrain): an incident is *attributed* when it names an obligation and no monitor's
attestation left its attribution unconfirmed; *unattributed* otherwise.  Whether it breached
anything is the engine's word (the obligation's state and `because`), shown beside it.

Side by side: the two columns follow the order in which the agreement lists the authors,
never who spoke first, so no side is always on the left.
"""

from __future__ import annotations

from dataclasses import dataclass

from interlock.agreement.model import Agreement
from interlock.server.dashboard.facts import StatusFacts
from interlock.server.dashboard.overview import party_name
from interlock.server.dashboard.records import EntryView


@dataclass(frozen=True)
class Side:
    heading: str  # `Northland — disputed statement, entry 5`
    entry: EntryView
    author_name: str


@dataclass(frozen=True)
class IncidentCard:
    entry: EntryView
    author_name: str
    accused: str | None  # the debtor of the named obligation
    attribution: str  # attributed | unattributed
    verification: str  # words: `confirmed by Joint observer team`, `not yet confirmed`
    responses: tuple[EntryView, ...]
    breach: str | None  # `the engine counts it as a breach of ceasefire-north`
    disputed: bool


@dataclass(frozen=True)
class DisputeCard:
    dispute: EntryView
    target: EntryView | None
    sides: tuple[Side, ...]
    rulings: tuple[EntryView, ...]
    outcome: str  # `open`, `upheld`, `rejected`, `upheld by 1 of 2 needed`


@dataclass(frozen=True)
class IncidentsPage:
    attributed: tuple[IncidentCard, ...]
    unattributed: tuple[IncidentCard, ...]
    disputes: tuple[DisputeCard, ...]
    impediments: tuple[EntryView, ...]
    suspensions: tuple[EntryView, ...]


def _order(agreement: Agreement, author: str) -> int:
    ids = [p.id for p in agreement.parties]
    return ids.index(author) if author in ids else len(ids)


def _incident(agreement: Agreement, e: EntryView, entries: list[EntryView], facts: StatusFacts) -> IncidentCard:
    attests = [x for x in entries if x.type == "attest" and e.index in x.refs and not x.rejected]
    disputes = [x for x in entries if x.type == "dispute" and e.index in x.refs and not x.rejected]
    confirms = [x for x in attests if x.body.get("verdict") == "confirm"]
    rejects = [x for x in attests if x.body.get("verdict") == "reject"]
    oid = e.body.get("obligation") if isinstance(e.body.get("obligation"), str) else None
    ob = agreement.obligation(oid) if oid else None
    unconfirmed = any(x.body.get("attribution") == "unconfirmed" for x in confirms)
    attributed = ob is not None and not unconfirmed
    parts = []
    if confirms:
        parts.append("confirmed by " + ", ".join(party_name(agreement, x.author) for x in confirms))
    if rejects:
        parts.append("rejected by " + ", ".join(party_name(agreement, x.author) for x in rejects))
    if not parts:
        parts.append("not confirmed by another monitor")
    of = facts.obligation(oid) if oid else None
    breach = None
    if of is not None and of.state == "breached" and e.index in of.because:
        breach = f"the engine counts it as a breach of {oid}"
    return IncidentCard(
        entry=e,
        author_name=party_name(agreement, e.author),
        accused=party_name(agreement, ob.by) if ob else None,
        attribution="attributed" if attributed else "unattributed",
        verification="; ".join(parts),
        responses=tuple(sorted(attests + disputes, key=lambda x: x.index)),
        breach=breach,
        disputed=bool(disputes),
    )


def _dispute(
    agreement: Agreement, d: EntryView, by_index: dict[int, EntryView], entries: list[EntryView]
) -> DisputeCard:
    target = by_index.get(d.refs[0]) if d.refs else None
    author = party_name(agreement, d.author)
    sides = [Side(f"{author} — the dispute, entry {d.index}", d, author)]
    if target is not None:
        sides.append(Side(f"{party_name(agreement, target.author)} — the disputed {target.type_label.lower()}, "
                          f"entry {target.index}", target, party_name(agreement, target.author)))
    sides.sort(key=lambda s: (_order(agreement, s.entry.author), s.entry.index))
    rulings = tuple(x for x in entries if x.type == "ruling" and d.index in x.refs and not x.rejected)
    quorum = agreement.disputes.quorum if agreement.disputes else 1
    upheld = {x.author for x in rulings if x.body.get("decision") == "upheld"}
    rejected = {x.author for x in rulings if x.body.get("decision") == "rejected"}
    if len(upheld) >= quorum:
        outcome = "upheld: the disputed entry no longer counts"
    elif len(rejected) >= quorum:
        outcome = "rejected: the disputed entry keeps counting"
    elif rulings:
        outcome = f"open: {len(upheld)} upheld, {len(rejected)} rejected, {quorum} needed"
    else:
        outcome = "open: no ruling yet; the disputed entry keeps counting"
    return DisputeCard(d, target, tuple(sides), rulings, outcome)


def build_incidents(agreement: Agreement, facts: StatusFacts, entries: list[EntryView]) -> IncidentsPage:
    by_index = {e.index: e for e in entries}
    cards = [_incident(agreement, e, entries, facts) for e in entries if e.type == "incident"]
    return IncidentsPage(
        attributed=tuple(c for c in cards if c.attribution == "attributed"),
        unattributed=tuple(c for c in cards if c.attribution == "unattributed"),
        disputes=tuple(_dispute(agreement, d, by_index, entries) for d in entries if d.type == "dispute"),
        impediments=tuple(e for e in entries if e.type == "impediment"),
        suspensions=tuple(e for e in entries if e.type == "suspend"),
    )
