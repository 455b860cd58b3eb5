"""Authorisation of one entry against the ledger: accepted (with its statement) or rejected.

The same rules bind the engine (offline audit) and the server (refused at the door).  Checks
run in this order and the first failure is the entry's one rejection:

1. `out-of-order` — integrated before the entry folded last (a log's times never go back).
2. `unsigned` (a bare statement outside a simulation), `bad-envelope`, `bad-statement`.
3. `key-mismatch` (envelope keyid ≠ statement key), `unknown-key`, `foreign-key` (the key of
   another participant), `bad-signature`.
4. `wrong-agreement` — the statement must name the version in force.
5. `reused-nonce` — an author's nonces are unique among its accepted entries.
6. `not-in-force` — before adoption only `adopt` and `note` are accepted.
7. The type's own rule: `wrong-role`, `unknown-obligation`, `wrong-kind`, `not-debtor`,
   `not-creditor`, `self-verification`, `not-resolver`, `bad-reference`, `not-disputable`,
   `no-deadline`, `bad-amendment`.

`signature_ok=True` (precomputed by the shell: the envelope opened, was canonical, and its
signature verified under the key its keyid names) skips the canonical and signature checks;
`False` makes the engine repeat them to say exactly what is wrong; `None` checks everything.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from interlock.engine.ledger import Accepted, Ledger
from interlock.engine.status import Rejection
from interlock.engine.terms import BLOCKING_KINDS, Terms
from interlock.errors import EnvelopeError, InterlockError, SignatureError, StatementError
from interlock.statements.dsse import Opened, open_envelope, verify_signature
from interlock.statements.entries import Entry
from interlock.statements.model import (
    AmendBody,
    AttestBody,
    ClaimBody,
    DisputeBody,
    ExtendBody,
    ImpedimentBody,
    IncidentBody,
    RulingBody,
    Statement,
    SuspendBody,
    WaiveBody,
    parse_statement,
)
from interlock.timeutil import format_timestamp


class RefusedError(Exception):
    """Internal: raised by a check, turned into a `Rejection`."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def authorise(
    entry: Entry, ledger: Ledger, *, unsigned: bool = False, signature_ok: bool | None = None,
    statement: Statement | None = None,
) -> Accepted | Rejection:
    """Decide whether `entry` may be folded; never changes `ledger`.

    `statement` (only with `signature_ok=True`): the entry's payload already parsed by the
    caller with `parse_statement`; the payload is then neither decoded nor validated again."""
    try:
        return _authorise(entry, ledger, unsigned, signature_ok, statement)
    except RefusedError as refused:
        return Rejection(entry.index, refused.code, refused.reason)


def _authorise(
    entry: Entry, ledger: Ledger, unsigned: bool, signature_ok: bool | None, parsed: Statement | None
) -> Accepted:
    if ledger.last_time is not None and entry.integrated_at < ledger.last_time:
        raise RefusedError(
            "out-of-order",
            f"integrated at {format_timestamp(entry.integrated_at)}, before the entry folded last "
            f"({format_timestamp(ledger.last_time)})",
        )
    st: Statement | None = None
    opened: Opened | None = None
    if parsed is not None and signature_ok and entry.envelope is not None:
        try:
            keyid: str | None = entry.envelope["signatures"][0]["keyid"]
            st = parsed
        except (KeyError, IndexError, TypeError):
            st = None
    if st is None:
        data, keyid, opened = _decode(entry, unsigned, signature_ok)
        try:
            st = parse_statement(data)
        except StatementError as exc:
            raise RefusedError("bad-statement", exc.message) from None
    terms = ledger.terms
    if keyid is not None and keyid != st.key:
        raise RefusedError("key-mismatch", f"signed with key {keyid!r} but the statement names key {st.key!r}")
    registered = terms.keys.get(st.key)
    if registered is None:
        raise RefusedError("unknown-key", f"key {st.key!r} is not registered in the agreement")
    owner, public = registered
    if owner != st.author:
        raise RefusedError("foreign-key", f"key {st.key!r} belongs to {owner}, not to {st.author}")
    if opened is not None:
        try:
            verify_signature(opened, public)
        except SignatureError as exc:
            raise RefusedError("bad-signature", exc.message) from None
    if st.agreement != terms.hash:
        raise RefusedError("wrong-agreement", _wrong_agreement(ledger, st.agreement))
    if ledger.nonce_used(st.author, st.nonce):
        raise RefusedError("reused-nonce", f"{st.author} already used nonce {st.nonce!r}")
    if ledger.adopted_at is None and st.type not in ("adopt", "note"):
        raise RefusedError("not-in-force", f"a {st.type} before the agreement is adopted has no effect")
    amendment = _check_type(st, entry.index, ledger, terms)
    return Accepted(entry.index, entry.integrated_at, st, amendment)


def _decode(
    entry: Entry, unsigned: bool, signature_ok: bool | None
) -> tuple[Any, str | None, Opened | None]:
    """(statement data, envelope keyid, opened envelope still to verify or None)."""
    if entry.envelope is None:
        if not unsigned:
            raise RefusedError("unsigned", "an unsigned statement is accepted only in a simulation (--unsigned)")
        return entry.statement, None, None
    if signature_ok:
        try:
            envelope = entry.envelope
            payload = base64.b64decode(envelope["payload"])
            return json.loads(payload), envelope["signatures"][0]["keyid"], None
        except (KeyError, IndexError, TypeError, ValueError):
            pass  # the flag was wrong; check properly below
    try:
        opened = open_envelope(entry.envelope)
    except EnvelopeError as exc:
        raise RefusedError("bad-envelope", exc.message) from None
    return opened.statement, opened.keyid, opened


def _wrong_agreement(ledger: Ledger, named: str) -> str:
    for at, index, terms in ledger.versions[:-1]:
        if terms.hash == named:
            return f"names {named}, superseded by the amendment in force since entry {ledger.versions[-1][1]}"
        del at, index
    return f"names {named}, not the agreement in force ({ledger.terms.hash})"


def _obligation(terms: Terms, oid: str) -> Any:
    ob = terms.obligations.get(oid)
    if ob is None:
        raise RefusedError("unknown-obligation", f"no obligation {oid!r} in the agreement")
    return ob


def _role(terms: Terms, author: str, wanted: tuple[str, ...], what: str) -> None:
    role = terms.role(author)
    if role not in wanted:
        raise RefusedError("wrong-role", f"{what} is written by a {' or '.join(wanted)}, and {author} is a {role}")


def _claim_target(ledger: Ledger, index: int, own: int) -> Any:
    claim = ledger.claims.get(index)
    if claim is None:
        raise RefusedError("bad-reference", _missing(ledger, index, own, "a claim (declare, evidence, incident)"))
    return claim


def _missing(ledger: Ledger, index: int, own: int, wanted: str) -> str:
    if index >= own:
        return f"entry {index} is not before this one"
    if index in ledger.rejected_index:
        return f"entry {index} was rejected"
    return f"entry {index} is not {wanted}"


def _check_type(st: Statement, index: int, ledger: Ledger, terms: Terms) -> Terms | None:
    body, author, kind = st.body, st.author, st.type
    if kind == "adopt":
        if author not in ledger.base.required_adopters:
            raise RefusedError("wrong-role", f"{author} is not among the required signers of the agreement")
    elif kind == "amend":
        assert isinstance(body, AmendBody)
        if author not in terms.required_adopters:
            raise RefusedError("wrong-role", f"{author} is not among the required signers of the agreement")
        return _amendment(body.document, terms)
    elif kind in ("declare", "evidence"):
        assert isinstance(body, ClaimBody)
        ob = _obligation(terms, body.obligation)
        if ob.kind == "refrain":
            raise RefusedError("wrong-kind", f"{ob.id} is a refrain obligation: report an incident instead")
        if kind == "declare" and author != ob.by:
            raise RefusedError("not-debtor", f"only {ob.by}, the debtor, declares deliveries of {ob.id}")
        if kind == "evidence":
            if author == ob.by:
                raise RefusedError(
                    "self-verification", f"{author} is the debtor of {ob.id} and cannot report evidence of it"
                )
            _role(terms, author, ("monitor",), "evidence")
    elif kind == "attest":
        assert isinstance(body, AttestBody)
        claim = _claim_target(ledger, body.entry, index)
        if claim.obligation is not None:
            ob = terms.obligations.get(claim.obligation)
            if ob is not None and ob.by == author:
                raise RefusedError(
                    "self-verification", f"{author} is the debtor of {ob.id} and cannot attest its claims"
                )
        _role(terms, author, ("monitor",), "an attestation")
    elif kind == "incident":
        assert isinstance(body, IncidentBody)
        if body.obligation is not None:
            ob = _obligation(terms, body.obligation)
            if ob.kind != "refrain":
                raise RefusedError("wrong-kind", f"an incident names a refrain obligation, and {ob.id} is {ob.kind}")
    elif kind == "impediment":
        assert isinstance(body, ImpedimentBody)
        _role(terms, author, ("monitor",), "an impediment")
        if body.obligation is not None:
            _obligation(terms, body.obligation)
    elif kind == "suspend":
        assert isinstance(body, SuspendBody)
        _role(terms, author, ("party",), "a suspension")
        ob = _obligation(terms, body.obligation)
        if author != ob.by:
            raise RefusedError("not-debtor", f"a party suspends only its own obligations; {ob.id} is owed by {ob.by}")
        for cited in body.cites:
            if cited >= index or cited in ledger.rejected_index or cited > ledger.last_index:
                raise RefusedError("bad-reference", _missing(ledger, cited, index, "an accepted entry"))
    elif kind == "dispute":
        assert isinstance(body, DisputeBody)
        _role(terms, author, ("party",), "a dispute")
        if not ledger.disputable(body.entry):
            if body.entry < index and body.entry <= ledger.last_index and body.entry not in ledger.rejected_index:
                raise RefusedError(
                    "not-disputable",
                    f"entry {body.entry} is not a claim, attestation, impediment, suspension, extension or waiver",
                )
            raise RefusedError("bad-reference", _missing(ledger, body.entry, index, "disputable"))
    elif kind == "ruling":
        assert isinstance(body, RulingBody)
        if author not in terms.resolvers:
            raise RefusedError("not-resolver", f"{author} is not among the dispute resolvers (disputes.ruled_by)")
        if body.dispute not in ledger.disputes:
            raise RefusedError("bad-reference", _missing(ledger, body.dispute, index, "a dispute"))
    elif kind in ("extend", "waive"):
        assert isinstance(body, ExtendBody | WaiveBody)
        ob = _obligation(terms, body.obligation)
        if author not in ob.to:
            owed = ", ".join(ob.to) or "nobody"
            raise RefusedError("not-creditor", f"only the creditor of {ob.id} ({owed}) may {kind} it")
        if kind == "extend" and (ob.kind not in BLOCKING_KINDS or ob.due is None):
            raise RefusedError("no-deadline", f"{ob.id} has no deadline to extend")
    return None


def _amendment(document: dict[str, Any], terms: Terms) -> Terms:
    from interlock.agreement.load import parse_document

    try:
        agreement = parse_document(document)
    except InterlockError as exc:
        message = f"the amended document is not a valid agreement: {exc.message}"
        raise RefusedError("bad-amendment", message) from None
    new = Terms(agreement)
    if agreement.id != terms.agreement.id:
        raise RefusedError("bad-amendment", f"an amendment keeps the agreement id {terms.agreement.id!r}")
    if new.hash == terms.hash:
        raise RefusedError("bad-amendment", "the amended document is the agreement already in force")
    for key_id, (owner, public) in new.keys.items():
        old = terms.keys.get(key_id)
        if old is not None and old != (owner, public):
            raise RefusedError(
                "bad-amendment", f"key id {key_id!r} cannot be given to another key or owner; add a new key id"
            )
    return new
