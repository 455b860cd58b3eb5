"""A small signing world for engine tests: agreements with `seed_of` keys, signed entries.

Times may be written compactly as `"D HH:MM"` — day D of March 2026, UTC — anywhere in an
agreement, a statement body or an expected value; `iso()` expands them.  Every participant
gets one key, `<id>-1`, whose seed is `seed_of(<id>)` (the conformance convention).
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import Any

from conftest import seed_of
from interlock.agreement import Agreement, parse_document
from interlock.canonical import document_hash
from interlock.engine import Evaluator, Status, evaluate
from interlock.statements import Entry, sign_statement
from interlock.statements.keys import public_key_b64
from interlock.timeutil import parse_timestamp

COMPACT = re.compile(r"^(\d{1,2}) (\d\d):(\d\d)$")


def iso(value: Any) -> Any:
    """Expand compact times (`"5 10:40"`) in any JSON-like value."""
    if isinstance(value, str):
        match = COMPACT.match(value)
        if match:
            day, hour, minute = (int(g) for g in match.groups())
            return f"2026-03-{day:02d}T{hour:02d}:{minute:02d}:00Z"
        return value
    if isinstance(value, dict):
        return {k: iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [iso(v) for v in value]
    return value


def when(text: str) -> datetime:
    return parse_timestamp(iso(text))


def with_keys(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with compact times expanded and a `<id>-1` key for every participant."""
    out = iso(copy.deepcopy(doc))
    out.setdefault("interlock", 1)
    out.setdefault("title", "Test agreement")
    for party in out["parties"]:
        party.setdefault("name", party["id"].title())
        party.setdefault("keys", [{"id": f"{party['id']}-1", "ed25519": public_key_b64(seed_of(party["id"]))}])
    return out


class World:
    """An agreement and a growing log of signed (or unsigned) entries."""

    def __init__(self, doc: dict[str, Any], documents: dict[str, dict[str, Any]] | None = None) -> None:
        self.doc = with_keys(doc)
        self.agreement: Agreement = parse_document(self.doc)
        self.documents = {name: with_keys(d) for name, d in (documents or {}).items()}
        self.hashes = {"base": self.agreement.hash}
        self.hashes.update({name: document_hash(d) for name, d in self.documents.items()})
        self.entries: list[Entry] = []
        self._nonce = 0

    def statement(
        self, at: str, author: str, type_: str, body: dict[str, Any] | None = None, *,
        names: str = "base", nonce: str | None = None, key: str | None = None,
    ) -> dict[str, Any]:
        self._nonce += 1
        body = iso(body or {})
        if type_ == "amend" and isinstance(body.get("document"), str):
            body = {**body, "document": self.documents[body["document"]]}
        return {
            "type": type_,
            "agreement": self.hashes.get(names, names),
            "author": author,
            "key": key or f"{author}-1",
            "issued_at": iso(at),
            "nonce": nonce or f"n{self._nonce}",
            "body": body,
        }

    def add(
        self, at: str, author: str, type_: str, body: dict[str, Any] | None = None, *,
        names: str = "base", nonce: str | None = None, key: str | None = None,
        signer: str | None = None, signed: bool = True, envelope_key: str | None = None,
    ) -> Entry:
        """Append a statement signed by `signer` (default: the author) and return its entry."""
        statement = self.statement(at, author, type_, body, names=names, nonce=nonce, key=key)
        entry = self.entry(at, statement, signer=signer or author, signed=signed, envelope_key=envelope_key)
        self.entries.append(entry)
        return entry

    def entry(
        self, at: str, statement: dict[str, Any], *, signer: str, signed: bool = True,
        envelope_key: str | None = None,
    ) -> Entry:
        index = len(self.entries)
        if not signed:
            return Entry(index, when(at), statement=statement)
        envelope = sign_statement(statement, envelope_key or statement["key"], seed_of(signer))
        return Entry(index, when(at), envelope=envelope)

    def status(self, as_of: str, *, unsigned: bool = False) -> Status:
        return evaluate(self.agreement, self.entries, when(as_of), unsigned=unsigned)

    def json(self, as_of: str, *, unsigned: bool = False) -> dict[str, Any]:
        return self.status(as_of, unsigned=unsigned).to_json()

    def evaluator(self, *, unsigned: bool = False) -> Evaluator:
        evaluator = Evaluator(self.agreement, unsigned=unsigned)
        for entry in self.entries:
            evaluator.append(entry)
        return evaluator


def lookup(status: dict[str, Any], dotted: str) -> Any:
    """`stages.s2.state`, `obligations.x.tranches`, `notifications`, `rejected_codes`…"""
    if dotted == "rejected_indices":
        return sorted(r["index"] for r in status["rejected"])
    if dotted == "rejected_codes":
        return {r["index"]: r["code"] for r in status["rejected"]}
    head, _, rest = dotted.partition(".")
    node = status[head]
    if head in ("stages", "obligations") and rest:
        ident, _, field = rest.partition(".")
        node = node[ident]
        for part in field.split(".") if field else []:
            node = node[int(part)] if isinstance(node, list) else node[part]
    return node
