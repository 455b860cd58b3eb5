"""The signed demo log of the fictional example: every signature verifies, and it regenerates."""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from types import ModuleType

import pytest

from conftest import ROOT
from interlock.agreement import load_agreement
from interlock.canonical import canonical_json
from interlock.errors import SignatureError
from interlock.statements import open_envelope, parse_entries, parse_statement, verify_signature
from interlock.statements.model import ClaimBody
from interlock.timeutil import parse_timestamp

AGREEMENT = ROOT / "examples" / "northland-southland.yaml"
ENTRIES = ROOT / "examples" / "northland-southland.entries.jsonl"


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo_entries", ROOT / "scripts" / "make_demo_entries.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_demo_entries", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_entry_verifies_with_its_authors_registered_key() -> None:
    agreement = load_agreement(AGREEMENT.read_bytes())
    owner = {k.id: (p.id, k.ed25519) for p in agreement.parties for k in p.keys}
    entries = parse_entries(ENTRIES.read_text())
    assert len(entries) > 50
    nonces = set()
    previous = None
    for entry in entries:
        assert entry.envelope is not None
        opened = open_envelope(entry.envelope)
        statement = parse_statement(opened.statement)
        assert statement.agreement == agreement.hash
        author, public = owner[opened.keyid]
        assert (statement.author, statement.key) == (author, opened.keyid)
        verify_signature(opened, base64.b64decode(public))
        assert statement.nonce not in nonces
        nonces.add(statement.nonce)
        assert parse_timestamp(statement.issued_at) <= entry.integrated_at
        if isinstance(statement.body, ClaimBody):
            assert parse_timestamp(statement.body.observed_at) <= entry.integrated_at
            assert agreement.obligation(statement.body.obligation) is not None
        assert previous is None or previous <= entry.integrated_at
        previous = entry.integrated_at


def test_a_tampered_entry_fails_its_signature() -> None:
    agreement = load_agreement(AGREEMENT.read_bytes())
    keys = {k.id: k.ed25519 for p in agreement.parties for k in p.keys}
    line = json.loads(ENTRIES.read_text().splitlines()[12])
    statement = json.loads(base64.b64decode(line["envelope"]["payload"]))
    statement["body"]["categories"] = {"civilian": 5}
    line["envelope"]["payload"] = base64.b64encode(canonical_json(statement)).decode()
    opened = open_envelope(line["envelope"])
    with pytest.raises(SignatureError):
        verify_signature(opened, base64.b64decode(keys[opened.keyid]))


def test_the_story_covers_every_statement_type_but_amend() -> None:
    types = [json.loads(base64.b64decode(json.loads(line)["envelope"]["payload"]))["type"]
             for line in ENTRIES.read_text().splitlines()]
    expected = {"adopt", "declare", "evidence", "attest", "incident", "impediment", "suspend",
                "dispute", "ruling", "extend", "note"}
    assert expected <= set(types)


def test_the_script_regenerates_the_committed_file_byte_for_byte() -> None:
    assert script().render() == ENTRIES.read_text()
