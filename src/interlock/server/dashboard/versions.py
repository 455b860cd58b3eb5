"""Which version of the agreement is in force at a moment, and which amendments made it so.

Pure: `in_force(base, hash_in_force, entries)` → `Versions`.  The engine decides which version
is in force (the Status's `agreement` hash); this module only finds the document with that
hash among the logged `amend` entries and the chain of amendments that led to it, so that the
pages lay out the terms the states were judged under.

The chain is read backwards from the version in force: the amendment that put version H in
force is the last counted `amend` entry (before the next link) whose document hashes to H —
no later counted entry can sign H while H is in force (the engine refuses an amendment to the
version already in force) — and the version it replaced is the one that entry's statement
names (a counted statement names the version in force when it was logged).  Each step moves
to an earlier entry, so the walk ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from interlock.agreement import Agreement, parse_document
from interlock.canonical import document_hash
from interlock.errors import InterlockError
from interlock.server.dashboard.records import EntryView


@dataclass(frozen=True)
class Amendment:
    """One amendment that took effect: at entry `index`, from version `old` to version `new`.

    `signers` are the counted `amend` entries that signed the new document under the old
    version, up to and including `index` (the signature that completed it)."""

    index: int
    at: datetime | None
    old: str
    new: str
    signers: tuple[EntryView, ...]


@dataclass(frozen=True)
class Versions:
    """The version in force (`agreement`), the amendments that led to it, oldest first, and
    every version the log has been under (for the names of parties and obligations that an
    amendment removed).  `unknown` is the hash the engine named when it is a version this
    log's entries do not lead to (the registered agreement is laid out then)."""

    agreement: Agreement
    amendments: tuple[Amendment, ...]
    earlier: tuple[Agreement, ...]
    unknown: str | None = None

    @property
    def amended(self) -> bool:
        return bool(self.amendments)

    @property
    def all(self) -> tuple[Agreement, ...]:
        """The version in force first, then the earlier ones, newest first."""
        return (self.agreement, *reversed(self.earlier))


def _hash(entry: EntryView) -> str | None:
    """The hash that names the document an `amend` entry signs (None if it carries none)."""
    document: Any = entry.body.get("document")
    return document_hash(document) if isinstance(document, dict) else None


_PARSED: dict[str, Agreement | None] = {}  # document hash → its parse; amendments are few
_PARSED_MAX = 256


def _parse(entry: EntryView, named: str) -> Agreement | None:
    """The agreement an `amend` entry carries (parsed once per document hash)."""
    if named not in _PARSED:
        try:
            parsed: Agreement | None = parse_document(entry.body["document"])
        except InterlockError:
            parsed = None
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[named] = parsed
    return _PARSED[named]


def parse_amendment(entry: EntryView) -> Agreement | None:
    """The agreement an `amend` entry carries, or None if it carries no valid document."""
    named = _hash(entry)
    return None if named is None else _parse(entry, named)


def in_force(base: Agreement, hash_in_force: str | None, entries: Sequence[EntryView]) -> Versions:
    """The version named `hash_in_force` (the Status's `agreement`) and how it came to be in force.

    `entries` are the log's entries up to the moment, with the engine's rejections marked;
    `base` is the adopted agreement.  Without a hash, or with the base's hash and no
    amendment, the base is in force."""
    amends = [e for e in entries if e.type == "amend" and e.rejected is None and e.unreadable is None]
    if hash_in_force is None or (hash_in_force == base.hash and not amends):
        return Versions(base, (), ())
    hashes = {e.index: h for e in amends if (h := _hash(e)) is not None}
    chain: list[tuple[EntryView, Agreement]] = []
    wanted, limit = hash_in_force, None
    while True:
        link = next((e for e in reversed(amends) if (limit is None or e.index < limit)
                     and hashes.get(e.index) == wanted), None)
        document = _parse(link, wanted) if link is not None and link.names is not None else None
        if link is None or link.names is None or document is None or document.hash != wanted:
            break
        chain.append((link, document))
        wanted, limit = link.names, link.index
    if wanted != base.hash:  # the engine's version is not one this log's entries lead to
        return Versions(base, (), (), unknown=hash_in_force)
    chain.reverse()
    amendments = []
    previous = -1
    for entry, document in chain:
        signers = tuple(e for e in amends if previous < e.index <= entry.index and e.names == entry.names
                        and hashes.get(e.index) == document.hash)
        amendments.append(Amendment(entry.index, entry.integrated_at, entry.names or "", document.hash, signers))
        previous = entry.index
    versions = [base, *(document for _, document in chain)]
    return Versions(versions[-1], tuple(amendments), tuple(versions[:-1]))


def name_of(versions: Versions, party_id: str | None) -> str:
    """A party's name in the newest version that lists it (its id if none does)."""
    if party_id is None:
        return "—"
    for agreement in versions.all:
        party = agreement.party(party_id)
        if party is not None:
            return party.name
    return party_id


@dataclass(frozen=True)
class PartyChoice:
    """A party of some version the log has been under: its id, its name (`name_of`) and whether
    the version in force no longer lists it."""

    id: str
    name: str
    removed: bool


def parties_ever(versions: Versions) -> tuple[PartyChoice, ...]:
    """Every party of every version the log has been under: the original agreement's in its
    order, then each party a later version added, in the order the versions (and each version's
    party list) name them first.  The same order whoever is removed or added."""
    order: dict[str, None] = {}
    for agreement in (*versions.earlier, versions.agreement):  # oldest first
        order.update((p.id, None) for p in agreement.parties if p.id not in order)
    return tuple(PartyChoice(pid, name_of(versions, pid), versions.agreement.party(pid) is None) for pid in order)


def removed_by(versions: Versions, obligation_id: str) -> Amendment | None:
    """The amendment that removed `obligation_id`, when an earlier version had it and the one in
    force does not."""
    if versions.agreement.obligation(obligation_id) is not None:
        return None
    chain = [*versions.earlier, versions.agreement]
    found: Amendment | None = None
    for older, amendment, newer in zip(chain[:-1], versions.amendments, chain[1:], strict=True):
        if older.obligation(obligation_id) is not None and newer.obligation(obligation_id) is None:
            found = amendment
    return found
