"""The mirror verifies everything it copies: an honest server is copied exactly; a server that
lies about an entry, a proof, a checkpoint signature, its key or its status is caught.

The lies are told by a real server behind a tampering HTTP transport (the network, or a
compromised front end, altering one kind of answer); the mirror runs in-process against it.
`interlock mirror --serve` is exercised as a real process.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from interlock.client import Client
from interlock.errors import MirrorVerificationError
from interlock.mirror import Mirror
from interlock.note import new_signer_key
from interlock.store import Store
from serverkit import (
    AGREEMENT,
    AGREEMENT_ID,
    Proc,
    adoptions,
    dumps,
    log_vkey,
    register_headers,
    run_cli,
    signed,
    start_server,
    until,
)

Tamper = Callable[[httpx.Request, httpx.Response], httpx.Response]


class Tampering(httpx.BaseTransport):
    """Forwards to the real server, then lets `tamper` rewrite the answer."""

    def __init__(self, tamper: Tamper) -> None:
        self.inner = httpx.HTTPTransport()
        self.tamper = tamper

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        return self.tamper(request, response)


def rewrite(response: httpx.Response, content: bytes) -> httpx.Response:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
    return httpx.Response(response.status_code, headers=headers, content=content)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    tmp = tmp_path_factory.mktemp("mirrored")
    proc = start_server(tmp, f"sqlite:///{tmp / 'log.db'}")
    with httpx.Client(base_url=proc.url, timeout=30) as http:
        assert http.post("/v1/agreements", content=AGREEMENT, headers=register_headers()).status_code == 201
        for envelope in [*adoptions(), *(signed(p) for p in ("observers", "red-cross", "north", "east"))]:
            response = http.post(f"/v1/agreements/{AGREEMENT_ID}/entries", content=dumps(envelope),
                                 headers={"Content-Type": "application/json"})
            assert response.status_code == 201, response.text
    yield proc
    proc.stop()


def follow(server: Proc, tmp: Path, tamper: Tamper | None = None, **options: object) -> Store:
    store = Store.open(f"sqlite:///{tmp / 'mirror.db'}")
    transport = Tampering(tamper) if tamper is not None else None
    with Client(server.url, transport=transport) as client:
        Mirror(client, store, alarm_dir=tmp, **options).run(once=True, interval=0.05)  # type: ignore[arg-type]
    return store


def test_an_honest_server_is_copied_exactly(server: Proc, tmp_path: Path) -> None:
    store = follow(server, tmp_path, log_keys=[log_vkey()])
    copy = store.log(AGREEMENT_ID)
    with Client(server.url) as client:
        assert [e.to_json() for e in copy.entries(0, 100)] == [e.to_json() for e in client.iter_entries(AGREEMENT_ID)]
        assert copy.latest_checkpoint().note == client.checkpoint(AGREEMENT_ID)
    store.close()
    audit = run_cli(["verify", "--db", f"sqlite:///{tmp_path / 'mirror.db'}"], tmp_path)
    assert audit.returncode == 0, audit.stdout + audit.stderr  # the copy is a valid log in the store's format


def test_a_tampered_entry_is_caught(server: Proc, tmp_path: Path) -> None:
    def tamper(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path.endswith("/entries"):
            lines = response.text.splitlines()
            entry = json.loads(lines[4])
            entry["integrated_at"] = "2026-01-01T00:00:00Z"  # rewrite history: when it was logged
            lines[4] = json.dumps(entry)
            return rewrite(response, ("\n".join(lines) + "\n").encode())
        return response

    with pytest.raises(MirrorVerificationError, match="do not hash to the root"):
        follow(server, tmp_path, tamper)


def test_a_dropped_entry_is_caught(server: Proc, tmp_path: Path) -> None:
    def tamper(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path.endswith("/entries"):
            lines = response.text.splitlines()
            del lines[2]
            return rewrite(response, ("\n".join(lines) + "\n").encode())
        return response

    with pytest.raises(MirrorVerificationError, match="sent entry 3 where 2 belongs"):
        follow(server, tmp_path, tamper)


def test_a_forged_checkpoint_signature_is_caught(server: Proc, tmp_path: Path) -> None:
    def tamper(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path.endswith("/checkpoint"):
            text, _, sig = response.text.rpartition(" ")
            raw = bytearray(base64.b64decode(sig))
            raw[-1] ^= 1
            return rewrite(response, f"{text} {base64.b64encode(bytes(raw)).decode()}\n".encode())
        return response

    with pytest.raises(MirrorVerificationError, match="does not verify"):
        follow(server, tmp_path, tamper)


def test_a_lying_inclusion_proof_is_caught(server: Proc, tmp_path: Path) -> None:
    def tamper(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path.endswith("/proofs/inclusion"):
            data = response.json()
            data["proof"] = list(reversed(data["proof"]))
            return rewrite(response, json.dumps(data).encode())
        return response

    with pytest.raises(MirrorVerificationError, match="inclusion proof"):
        follow(server, tmp_path, tamper)


def test_a_false_status_is_caught(server: Proc, tmp_path: Path) -> None:
    def tamper(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path.endswith("/status"):
            data = response.json()
            data["stages"]["s1"]["state"] = "breached"
            return rewrite(response, json.dumps(data).encode())
        return response

    with pytest.raises(MirrorVerificationError, match=r"status .* differs"):
        follow(server, tmp_path, tamper)


def test_an_unexpected_log_key_is_refused(server: Proc, tmp_path: Path) -> None:
    stranger = new_signer_key(f"log.test/{AGREEMENT_ID}")[1]
    with pytest.raises(MirrorVerificationError, match="not among the trusted"):
        follow(server, tmp_path, log_keys=[stranger])


def test_mirror_serves_the_same_read_api(server: Proc, tmp_path: Path) -> None:
    mirror = Proc(["mirror", "--server", server.url, "--db", f"sqlite:///{tmp_path / 'm.db'}", "--serve",
                   "--port", "0", "--interval", "0.2"], tmp_path, "mirror").started()
    try:
        with httpx.Client(timeout=20) as http:
            def caught_up() -> bool:
                got = http.get(f"{mirror.url}/v1/agreements/{AGREEMENT_ID}/checkpoint")
                return got.status_code == 200 and got.text == http.get(
                    f"{server.url}/v1/agreements/{AGREEMENT_ID}/checkpoint").text

            until(caught_up)
            for path in ("/entries?start=0&limit=50", "/entries/3", "/proofs/inclusion?index=2&size=7",
                         "/proofs/consistency?old=3&new=7", "/status?as_of=2030-01-01T00:00:00Z", "/tile/0/000.p/7"):
                ours = http.get(f"{mirror.url}/v1/agreements/{AGREEMENT_ID}{path}")
                theirs = http.get(f"{server.url}/v1/agreements/{AGREEMENT_ID}{path}")
                assert (ours.status_code, ours.content) == (200, theirs.content), path
            refused = http.post(f"{mirror.url}/v1/agreements/{AGREEMENT_ID}/entries", content=dumps(signed("north")),
                                headers={"Content-Type": "application/json"})
            assert (refused.status_code, refused.json()["code"]) == (405, "read-only-mirror")
    finally:
        mirror.stop()
