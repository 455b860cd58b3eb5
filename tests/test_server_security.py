"""The security matrix: every refusal at the door, against a real server process.

Each test asserts the HTTP status, the error code, and — reading the database directly, not
through the server — that the log did not change (same rows in every table, same newest
checkpoint).  Rate limits run on a second server with tiny limits.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from interlock.server.operator import authorization_header
from interlock.store import Store
from interlock.timeutil import format_timestamp
from serverkit import (
    AGREEMENT,
    AGREEMENT_ID,
    OPERATOR_SEED,
    Proc,
    adoptions,
    check_ack,
    dumps,
    log_vkey,
    register_headers,
    seed_of,
    signed,
    start_server,
)

ENTRIES = f"/v1/agreements/{AGREEMENT_ID}/entries"
BODY_LIMIT = 4096


class Running:
    def __init__(self, proc: Proc, db_url: str) -> None:
        self.proc = proc
        self.http = httpx.Client(base_url=proc.url, timeout=30)
        self.store = Store.open(db_url)

    def snapshot(self) -> tuple[dict[str, int], str]:
        log = self.store.log(AGREEMENT_ID)
        return log.count_rows(), log.latest_checkpoint().signed_note

    def post(self, envelope: Any, **kwargs: Any) -> httpx.Response:
        return self.http.post(ENTRIES, content=dumps(envelope), headers={"Content-Type": "application/json"}, **kwargs)

    def close(self) -> None:
        self.http.close()
        self.store.close()
        self.proc.stop()


def _start(tmp: Path, *extra: str) -> Running:
    db_url = f"sqlite:///{tmp / 'log.db'}"
    running = Running(start_server(tmp, db_url, *extra), db_url)
    response = running.http.post("/v1/agreements", content=AGREEMENT, headers=register_headers())
    assert response.status_code == 201, response.text
    for envelope in adoptions():
        assert running.post(envelope).status_code == 201
    return running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = _start(tmp_path_factory.mktemp("security"), "--max-body-bytes", str(BODY_LIMIT),
                     "--max-future-skew", "5m", "--max-past-skew", "1h")
    yield running
    running.close()


def refused(server: Running, response: httpx.Response, status: int, code: str, before: Any) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert len(body["message"]) > 10  # a sentence for a person, not just the code
    assert server.snapshot() == before, "a refused request changed the log"
    return dict(body)


def test_accepted_statement_is_acknowledged_with_a_valid_proof(server: Running) -> None:
    envelope = signed("observers", "note")
    response = server.post(envelope)
    assert response.status_code == 201
    ack = response.json()
    assert check_ack(ack, envelope, log_vkey()) == ack["index"] + 1


def test_bad_signature(server: Running) -> None:
    before = server.snapshot()
    forged = signed("north", seed=seed_of("east"))  # names north's key, signed by someone else
    refused(server, server.post(forged), 403, "bad-signature", before)


def test_tampered_payload_breaks_the_signature(server: Running) -> None:
    before = server.snapshot()
    envelope = signed("north")
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["body"]["text"] = "something else"
    from interlock.canonical import canonical_json

    envelope["payload"] = base64.b64encode(canonical_json(statement)).decode()
    refused(server, server.post(envelope), 403, "bad-signature", before)


def test_unknown_key(server: Running) -> None:
    before = server.snapshot()
    refused(server, server.post(signed("north", key="north-9")), 403, "unknown-key", before)


def test_foreign_key(server: Running) -> None:
    before = server.snapshot()
    envelope = signed("north", key="south-1", seed=seed_of("south"))  # south's key, claiming to be north
    refused(server, server.post(envelope), 403, "foreign-key", before)


def test_wrong_role(server: Running) -> None:
    before = server.snapshot()
    envelope = signed("north", "evidence", {"obligation": "release-prisoners-first", "units": 5,
                                            "observed_at": format_timestamp(datetime.now(UTC))})
    refused(server, server.post(envelope), 403, "wrong-role", before)


def test_debtor_verifying_itself(server: Running) -> None:
    before = server.snapshot()
    envelope = signed("south", "evidence", {"obligation": "withdraw-line-a",
                                            "observed_at": format_timestamp(datetime.now(UTC))})
    refused(server, server.post(envelope), 403, "self-verification", before)


def test_wrong_agreement(server: Running) -> None:
    before = server.snapshot()
    refused(server, server.post(signed("north", agreement="sha256:" + "0" * 64)), 422, "wrong-agreement", before)


def test_reused_nonce(server: Running) -> None:
    first = signed("red-cross", nonce="once-only")
    assert server.post(first).status_code == 201
    before = server.snapshot()
    again = signed("red-cross", body={"text": "a different note, same nonce"}, nonce="once-only")
    refused(server, server.post(again), 409, "reused-nonce", before)


def test_issued_in_the_future(server: Running) -> None:
    before = server.snapshot()
    later = format_timestamp(datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30))
    refused(server, server.post(signed("north", issued_at=later)), 422, "issued-in-future", before)


def test_issued_too_long_ago(server: Running) -> None:
    before = server.snapshot()
    earlier = format_timestamp(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2))
    refused(server, server.post(signed("north", issued_at=earlier)), 422, "issued-too-long-ago", before)


@pytest.mark.parametrize("body", [b"{", b"", b'{"payload": NaN}', b'{"a": 1, "a": 2}', b"\xff\xfe{}"])
def test_malformed_json(server: Running, body: bytes) -> None:
    before = server.snapshot()
    response = server.http.post(ENTRIES, content=body, headers={"Content-Type": "application/json"})
    refused(server, response, 400, "malformed-json", before)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type(server: Running, content_type: str | None) -> None:
    before = server.snapshot()
    headers = {"Content-Type": content_type} if content_type else {}
    response = server.http.post(ENTRIES, content=dumps(signed("north")), headers=headers)
    refused(server, response, 415, "unsupported-media-type", before)


def test_body_over_the_limit_by_content_length(server: Running) -> None:
    before = server.snapshot()
    big = signed("north", body={"text": "x" * BODY_LIMIT})
    refused(server, server.post(big), 413, "body-too-large", before)


def test_body_over_the_limit_streamed_without_length(server: Running) -> None:
    before = server.snapshot()

    def chunks() -> Iterator[bytes]:
        for _ in range(8):
            yield b" " * 1024  # whitespace: valid JSON padding, but too much of it

    response = server.http.post(ENTRIES, content=chunks(), headers={"Content-Type": "application/json"})
    refused(server, response, 413, "body-too-large", before)


def _envelope(payload: bytes, keyid: str = "north-1") -> dict[str, Any]:
    sig = base64.b64encode(b"s" * 64).decode()
    return {"payload": base64.b64encode(payload).decode(), "payloadType": "application/vnd.interlock.statement+json",
            "signatures": [{"keyid": keyid, "sig": sig}]}


@pytest.mark.parametrize(("body", "code"), [
    (dumps(_envelope(b"[" * 2_000)), "bad-envelope"),  # deeper than the JSON parser's recursion limit
    (dumps(_envelope(b"[" * 100 + b"]" * 100)), "bad-envelope"),
    (dumps(_envelope(b'{"type": "note", "text": "\\ud800"}')), "bad-envelope"),  # unpaired surrogate inside
    (b'{"payload": "e30=", "signatures": [{"keyid": "\\udc80"}]}', "malformed-json"),
    (b'{"payload": ' + b"[" * 500 + b"]" * 500 + b"}", "malformed-json"),
])
def test_hostile_bodies_are_refused_at_the_door(server: Running, body: bytes, code: str) -> None:
    before = server.snapshot()
    response = server.http.post(ENTRIES, content=body, headers={"Content-Type": "application/json"})
    refused(server, response, 400, code, before)


def test_malformed_envelope(server: Running) -> None:
    before = server.snapshot()
    envelope = signed("north")
    del envelope["signatures"]
    refused(server, server.post(envelope), 400, "bad-envelope", before)


def test_malformed_statement(server: Running) -> None:
    before = server.snapshot()
    refused(server, server.post(signed("north", "surrender")), 400, "bad-statement", before)


def test_unknown_agreement(server: Running) -> None:
    before = server.snapshot()
    response = server.http.post("/v1/agreements/no-such-plan/entries", content=dumps(signed("north")),
                                headers={"Content-Type": "application/json"})
    refused(server, response, 404, "unknown-agreement", before)


def test_registration_needs_an_operator_signature(server: Running) -> None:
    before = server.snapshot()
    plain = server.http.post("/v1/agreements", content=AGREEMENT, headers={"Content-Type": "application/yaml"})
    refused(server, plain, 401, "operator-unauthorized", before)
    stranger = authorization_header(seed_of("north"), "POST", "/v1/agreements", int(time.time()), AGREEMENT)
    other = server.http.post("/v1/agreements", content=AGREEMENT,
                             headers={"Content-Type": "application/yaml", "Authorization": stranger})
    refused(server, other, 401, "operator-unauthorized", before)
    stale = authorization_header(OPERATOR_SEED, "POST", "/v1/agreements", int(time.time()) - 3600, AGREEMENT)
    old = server.http.post("/v1/agreements", content=AGREEMENT,
                           headers={"Content-Type": "application/yaml", "Authorization": stale})
    refused(server, old, 401, "operator-unauthorized", before)


def test_registering_twice_is_refused(server: Running) -> None:
    before = server.snapshot()
    again = server.http.post("/v1/agreements", content=AGREEMENT, headers=register_headers())
    refused(server, again, 409, "log-exists", before)


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = _start(tmp_path_factory.mktemp("limited"), "--key-rate", "1", "--key-burst", "2",
                     "--address-rate", "1", "--address-burst", "13")
    yield running
    running.close()


def test_rate_limits_per_key_then_per_address(limited: Running) -> None:
    # 4 requests so far: registration and three adoptions (address burst 13, key burst 2).
    for _ in range(3):  # forged signatures do not spend the key's allowance
        forged = limited.post(signed("observers", seed=seed_of("north")))
        assert forged.json()["code"] == "bad-signature"
    assert limited.post(signed("observers")).status_code == 201
    assert limited.post(signed("observers")).status_code == 201
    before = limited.snapshot()
    third = limited.post(signed("observers"))
    refused(limited, third, 429, "rate-limited-key", before)
    assert int(third.headers["Retry-After"]) >= 1
    assert limited.post(signed("red-cross")).status_code == 201  # another key still may
    before = limited.snapshot()
    statuses = [limited.http.get(f"/v1/agreements/{AGREEMENT_ID}/checkpoint").status_code for _ in range(2)]
    assert statuses == [200, 200]  # 13 requests so far: the address burst is spent
    refused(limited, limited.post(signed("red-cross")), 429, "rate-limited-address", before)
