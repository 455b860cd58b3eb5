"""Amendments proposed but not (yet) in force, as the engine tracks them.

Pure: `pending(versions, entries)` → `Pending`s.  The engine's `Ledger` keeps the open
proposals (`Ledger.proposals`: document hash → the parsed version and each signer's first
signing entry) and drops them all when an amendment takes effect; the Status does not carry
them.  So this module folds, through a fresh engine `Ledger` whose terms are the version in
force, exactly the entries the live ledger folded into its proposals since they were last
dropped: the counted `amend` entries after the amendment that put the version in force (all
counted `amend` entries when none did).  Which entries count is the engine's word (its
`rejected` list); when a proposal is complete and the rule for it (every required signer of the
version in force signed the same document) are the engine's code (`Ledger.apply`), not
repeated here.  A proposal dropped because another document took effect is not among them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from interlock.engine.ledger import Accepted, Ledger
from interlock.engine.terms import Terms
from interlock.errors import InterlockError
from interlock.server.dashboard.records import EntryView
from interlock.server.dashboard.versions import Versions, parse_amendment
from interlock.statements import open_envelope
from interlock.statements.model import parse_statement


@dataclass(frozen=True)
class Pending:
    """One proposed amendment not in force: the document's `hash` and `title`, the entry that
    first signed it (`proposed`), each signer's first signing entry (`signed`) and the required
    signers of the version in force who have not signed (`missing`) — both in the order the
    version in force lists its parties."""

    hash: str
    title: str
    proposed: EntryView
    signed: tuple[EntryView, ...]
    missing: tuple[str, ...]


def _accepted(entry: EntryView) -> Accepted | None:
    """The counted `amend` entry as the engine folds it (None if it cannot be read again)."""
    if entry.integrated_at is None or "envelope" not in entry.raw:
        return None
    try:
        statement = parse_statement(open_envelope(entry.raw["envelope"]).statement)
    except InterlockError:
        return None
    document = parse_amendment(entry)
    return None if document is None else Accepted(entry.index, entry.integrated_at, statement, Terms(document))


def party_order(versions: Versions, ids: Sequence[str] | frozenset[str]) -> list[str]:
    """`ids` in the order the version in force lists its parties (any it does not list last, sorted)."""
    listed = [p.id for p in versions.agreement.parties if p.id in ids]
    return listed + sorted(set(ids) - set(listed))


def pending(versions: Versions, entries: Sequence[EntryView]) -> tuple[Pending, ...]:
    """The open proposals at the moment `entries` end, oldest proposal first.

    `versions` is the version in force there (`versions.in_force`), `entries` the log's entries
    up to the moment with the engine's rejections marked.  None when the engine's version is
    not one the log's entries lead to (`versions.unknown`)."""
    if versions.unknown is not None:
        return ()
    since = versions.amendments[-1].index if versions.amendments else -1
    ledger = Ledger(Terms(versions.agreement))
    by_index: dict[int, EntryView] = {}
    for entry in entries:
        if (entry.index > since and entry.type == "amend" and entry.rejected is None
                and entry.unreadable is None and (accepted := _accepted(entry)) is not None):
            ledger.apply(accepted)
            by_index[entry.index] = entry
    if ledger.terms is not ledger.base:  # a proposal completed: the engine's version says otherwise
        return ()
    required = ledger.terms.required_adopters
    out = []
    for proposal in ledger.proposals.values():
        signers = proposal.signers
        out.append(Pending(
            hash=proposal.terms.hash,
            title=proposal.terms.agreement.title,
            proposed=by_index[min(signers.values())],
            signed=tuple(by_index[signers[p]] for p in party_order(versions, frozenset(signers))),
            missing=tuple(party_order(versions, required - set(signers))),
        ))
    return tuple(sorted(out, key=lambda p: p.proposed.index))
