"""The conformance agreement hash and signed entries (shared/conformance/northland)."""

from __future__ import annotations

import base64
import json

from conftest import DATA, seed_of
from interlock.agreement import load_agreement
from interlock.statements import open_envelope, parse_entries, parse_statement, verify_signature
from interlock.statements.keys import public_key_b64


def test_conformance_agreement_hash(northland_bytes: bytes) -> None:
    expected = json.loads((DATA / "northland" / "expected.json").read_text())["agreement_hash"]
    assert load_agreement(northland_bytes).hash == expected


def test_conformance_entries_verify_with_registered_keys(
    northland_bytes: bytes, northland_entries_text: str
) -> None:
    agreement = load_agreement(northland_bytes)
    keys = {k.id: k.ed25519 for p in agreement.parties for k in p.keys}
    entries = parse_entries(northland_entries_text)
    assert [e.index for e in entries] == list(range(9))
    for entry in entries:
        assert entry.envelope is not None
        opened = open_envelope(entry.envelope)
        statement = parse_statement(opened.statement)
        assert statement.agreement == agreement.hash
        assert keys[opened.keyid] == public_key_b64(seed_of(statement.author))
        verify_signature(opened, base64.b64decode(keys[opened.keyid]))
