"""Signature verification of a whole log on all cores (`interlock.verification`)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DATA, seed_of
from engine_world import when
from interlock import parallel
from interlock.engine import evaluate
from interlock.errors import EnvelopeError
from interlock.statements import Entry, sign_statement
from interlock.statements.dsse import PAYLOAD_TYPE, open_envelope, open_exact
from interlock.verification import evaluate_log, fast_open, verify_signatures
from test_engine_scenarios import build, load


def test_parallel_verification_flags() -> None:
    world = build(load(DATA / "engine" / "03-quorum.yaml"))
    entries = list(world.entries)
    forged = dict(entries[4].envelope or {})
    forged["signatures"] = [{"keyid": "m3-1", "sig": entries[5].envelope["signatures"][0]["sig"]}]  # type: ignore[index]
    entries[4] = Entry(4, entries[4].integrated_at, envelope=forged)
    stranger = world.entry("1 13:30", world.statement("1 13:30", "m1", "note", {"text": "t"}, key="m9-1"), signer="m1")
    unsigned = Entry(0, when("1 13:40"), statement={"type": "note"})
    entries += [Entry(len(entries), stranger.integrated_at, envelope=stranger.envelope),
                Entry(len(entries) + 1, unsigned.integrated_at, statement=unsigned.statement)]
    expected = [True, True, True, True, False, True, True, True, None, None]
    assert verify_signatures(world.agreement, entries) == expected
    assert verify_signatures(world.agreement, entries, processes=2, parallel_from=1) == expected
    as_of = when("3 00:00")
    folded = evaluate_log(world.agreement, entries[:8], as_of, processes=2, parallel_from=1).to_json()
    assert folded == evaluate(world.agreement, entries[:8], as_of).to_json()
    assert folded["rejected"][0]["code"] == "bad-signature"  # the flag said False: the engine says why


def test_parallel_verification_flags_without_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the platform cannot fork, the envelopes and keys are pickled to the workers."""
    world = build(load(DATA / "engine" / "03-quorum.yaml"))
    entries = list(world.entries)
    forged = dict(entries[2].envelope or {})
    forged["signatures"] = [{"keyid": "m3-1", "sig": entries[3].envelope["signatures"][0]["sig"]}]  # type: ignore[index]
    entries[2] = Entry(2, entries[2].integrated_at, envelope=forged)
    monkeypatch.setattr(parallel.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert verify_signatures(world.agreement, entries, processes=2, parallel_from=1) == [
        True, True, False, True, True, True, True, True]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
renderings = st.sampled_from([
    rfc8785.dumps,
    lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode(),
    lambda v: json.dumps(v, separators=(",", ":"), sort_keys=True).encode(),
    lambda v: json.dumps(v, sort_keys=True).encode(),
    lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode(),
])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=5), renderings)
def test_the_fast_path_accepts_only_canonical_payloads(value: dict[str, Any], render: Any) -> None:
    try:
        payload = render(value)
    except (ValueError, UnicodeEncodeError, rfc8785.CanonicalizationError):
        return
    envelope = {"payload": base64.b64encode(payload).decode(), "payloadType": PAYLOAD_TYPE,
                "signatures": [{"keyid": "k", "sig": base64.b64encode(bytes(64)).decode()}]}
    if fast_open(envelope) is not None:
        assert open_exact(envelope).payload == payload  # the exact check agrees
        assert open_envelope(envelope) == open_exact(envelope)


def test_the_fast_path_takes_ordinary_statements() -> None:
    statement = {"type": "evidence", "agreement": "sha256:" + "0" * 64, "author": "m1", "key": "m1-1",
                 "issued_at": "2026-03-05T11:05:00Z", "nonce": "n1",
                 "body": {"obligation": "x", "units": 4, "observed_at": "2026-03-05T10:40:00Z", "place": "Crossing B"}}
    envelope = sign_statement(statement, "m1-1", seed_of("m1"))
    assert fast_open(envelope) is not None
    spaced = {**envelope, "payload": base64.b64encode(json.dumps(statement).encode()).decode()}
    assert fast_open(spaced) is None


def test_the_fast_path_leaves_integers_of_16_digits_or_more_to_the_exact_check() -> None:
    """RFC 8785 writes numbers as ECMAScript does; C `json` agrees for integers of up to 15
    digits, so longer ones (and any digits inside strings are no concern) go the exact way."""
    def envelope(value: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        return {"payload": base64.b64encode(payload).decode(), "payloadType": PAYLOAD_TYPE,
                "signatures": [{"keyid": "k", "sig": base64.b64encode(bytes(64)).decode()}]}

    assert fast_open(envelope({"n": 999_999_999_999_999, "m": -999_999_999_999_999})) is not None
    assert fast_open(envelope({"n": 1_000_000_000_000_000})) is None
    assert fast_open(envelope({"n": [-1_000_000_000_000_000]})) is None
    assert fast_open(envelope({"text": '":1234567890123456'})) is not None
    assert open_envelope(envelope({"n": 1_000_000_000_000_000})).statement == {"n": 10**15}  # exact path: fine
    with pytest.raises(EnvelopeError, match="canonicalisation refuses"):  # beyond 2**53: RFC 8785 has no form
        open_envelope(envelope({"n": 2**60}))
