"""`Terms`: one agreement version indexed for the engine's hot paths.

`Agreement`'s helpers scan lists; the fold looks up an obligation, a key or a party for every
entry, so `Terms` builds the dictionaries once per version.  Pure and immutable after
construction.

Who verifies: the participants in `verify.by`, or — when an obligation names no verifiers —
every `monitor` of the agreement, with quorum 1.  The debtor is never a verifier.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from functools import cached_property

from interlock.agreement.model import Agreement, Obligation, Party, Stage
from interlock.timeutil import parse_timestamp

BLOCKING_KINDS = frozenset({"deliver", "act"})


class Terms:
    """An agreement version with dictionaries for lookups.  `hash` names the version."""

    def __init__(self, agreement: Agreement) -> None:
        self.agreement = agreement
        self.hash = agreement.hash
        self.timezone = agreement.timezone
        self.max_report_delay: timedelta | None = agreement.max_report_delay
        self.parties: dict[str, Party] = {p.id: p for p in agreement.parties}
        self.stages: dict[str, Stage] = {s.id: s for s in agreement.stages}
        self.obligations: dict[str, Obligation] = {}
        self.stage_of: dict[str, str] = {}
        for stage in agreement.stages:
            for ob in stage.obligations:
                self.obligations[ob.id] = ob
                self.stage_of[ob.id] = stage.id
        self.keys: dict[str, tuple[str, bytes]] = {}
        for party in agreement.parties:
            for key in party.keys:
                self.keys[key.id] = (party.id, base64.b64decode(key.ed25519))
        self.names: dict[str, str] = {name: name for name in [*self.parties, *self.obligations]}
        self.required_adopters: frozenset[str] = frozenset(agreement.required_adopters())
        self.monitors: frozenset[str] = frozenset(
            p.id for p in agreement.parties if p.role == "monitor"
        )
        disputes = agreement.disputes
        self.resolvers: frozenset[str] = frozenset(disputes.ruled_by) if disputes else frozenset()
        self.ruling_quorum: int = disputes.quorum if disputes else 1
        self._verifiers: dict[str, frozenset[str]] = {}
        self._times: dict[str, datetime] = {}
        # proportional obligations answering each base obligation
        self.answers: dict[str, list[str]] = {}
        # obligations suspended by the breach of each obligation, and the reverse
        self.suspended_by: dict[str, list[str]] = {}
        for oid, ob in self.obligations.items():
            if ob.quantity is not None and ob.quantity.per is not None:
                self.answers.setdefault(ob.quantity.per, []).append(oid)
            if ob.on_breach is not None:
                for target in ob.on_breach.suspend:
                    self.suspended_by.setdefault(target, []).append(oid)

    def role(self, participant: str) -> str | None:
        party = self.parties.get(participant)
        return None if party is None else party.role

    def verifiers(self, obligation_id: str) -> frozenset[str]:
        """Who may verify `obligation_id` (never its debtor)."""
        cached = self._verifiers.get(obligation_id)
        if cached is not None:
            return cached
        ob = self.obligations[obligation_id]
        names = set(ob.verify.by) if ob.verify is not None else set(self.monitors)
        names.discard(ob.by)
        result = frozenset(names)
        self._verifiers[obligation_id] = result
        return result

    def quorum(self, obligation_id: str | None) -> int:
        if obligation_id is None:
            return 1
        ob = self.obligations.get(obligation_id)
        if ob is None or ob.verify is None:
            return 1
        return ob.verify.quorum

    def grace(self, obligation_id: str) -> timedelta:
        ob = self.obligations[obligation_id]
        if ob.on_breach is not None and ob.on_breach.grace is not None:
            return ob.on_breach.grace
        return timedelta(0)

    def time(self, text: str) -> datetime:
        """A timestamp as written in the agreement (`at:`), read in its timezone; cached."""
        cached = self._times.get(text)
        if cached is None:
            cached = parse_timestamp(text, self.timezone)
            self._times[text] = cached
        return cached

    def read(self, text: str) -> datetime:
        """A timestamp from a statement, read in the agreement's timezone (not cached)."""
        return parse_timestamp(text, self.timezone)

    @cached_property
    def obligation_order(self) -> tuple[str, ...]:
        return tuple(self.obligations)
