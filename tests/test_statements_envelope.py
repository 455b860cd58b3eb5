"""Hostile DSSE envelopes are refused with `bad-envelope`, never an uncaught exception."""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import seed_of
from interlock.errors import EnvelopeError
from interlock.statements import open_envelope, sign_statement
from interlock.statements.dsse import PAYLOAD_TYPE

STATEMENT = {"type": "note", "agreement": "sha256:" + "0" * 64, "author": "north", "key": "north-1",
             "issued_at": "2026-03-05T10:00:00Z", "nonce": "n1", "body": {"text": "hello"}}


def envelope(payload: bytes, keyid: str = "north-1") -> dict[str, object]:
    return {"payload": base64.b64encode(payload).decode(), "payloadType": PAYLOAD_TYPE,
            "signatures": [{"keyid": keyid, "sig": base64.b64encode(b"\0" * 64).decode()}]}


def test_a_signed_statement_opens() -> None:
    opened = open_envelope(sign_statement(STATEMENT, "north-1", seed_of("north")))
    assert opened.statement == STATEMENT and opened.keyid == "north-1"


@pytest.mark.parametrize(
    ("env", "words"),
    [
        (envelope(b"[" * 100_000 + b"]" * 100_000), "nests too deeply"),
        (envelope(b'{"a":"\\ud800"}'), "canonicalisation"),
        (envelope(json.dumps(STATEMENT, indent=1).encode()), "canonical form"),
        (envelope(b"\xff\xfe"), "UTF-8"),
        (envelope(json.dumps(STATEMENT, separators=(",", ":"), sort_keys=True).encode(), keyid="\ud800"), "keyid"),
        (envelope(b"{}", keyid="../etc"), "keyid"),
        ({**envelope(b"{}"), "payloadType": "text/plain"}, "payloadType"),
        ({**envelope(b"{}"), "extra": 1}, "unknown envelope fields"),
        ([], "JSON object"),
    ],
)
def test_hostile_envelopes_are_refused_with_a_reason(env: object, words: str) -> None:
    with pytest.raises(EnvelopeError, match=words):
        open_envelope(env)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
)


@given(JSON_VALUES)
def test_any_json_value_as_envelope_is_refused_or_opened_never_crashes(value: object) -> None:
    with contextlib.suppress(EnvelopeError):  # any other exception fails the test
        open_envelope(value)
