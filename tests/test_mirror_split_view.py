"""Split view: one log key, two histories — caught by a witness and by a mirror.

The operator runs two servers from two databases with the same log key and agreement, so
both sign checkpoints for the same origin (a fork).  Witness W1 follows history A first; the
server of history B then asks W1 and a fresh witness W2 to cosign B.  W2 (which never saw A)
cosigns; W1 refuses and keeps A.  A mirror that copied A is then pointed at B: it stops with
exit 3, an ALARM line, and a proof file holding the two conflicting signed checkpoints — which
this test re-verifies on its own from the file.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import httpx
import pytest

from interlock.checkpoint import cosigner_vkey, open_checkpoint
from interlock.errors import ProofError
from interlock.note import parse_signer_key, signer_from_seed
from interlock.tlog import verify_consistency
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

W1 = signer_from_seed("witness-one", hashlib.sha256(b"witness one").digest())
W2 = signer_from_seed("witness-two", hashlib.sha256(b"witness two").digest())


def start_witness(tmp: Path, signer: object, name: str) -> Proc:
    key = parse_signer_key(signer.skey)  # type: ignore[attr-defined]
    (tmp / f"{name}.skey").write_text(key.skey + "\n")
    return Proc(["witness", "serve", "--key", f"{name}.skey", "--log-key", log_vkey(), "--db", f"{name}.db",
                 "--port", "0"], tmp, name).started()


def fill(server: Proc, texts: list[str]) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.post("/v1/agreements", content=AGREEMENT, headers=register_headers()).status_code == 201
        for envelope in [*adoptions(), *(signed("observers", body={"text": t}) for t in texts)]:
            response = http.post(f"/v1/agreements/{AGREEMENT_ID}/entries", content=dumps(envelope),
                                 headers={"Content-Type": "application/json"})
            assert response.status_code == 201, response.text


def cosigned_by(server: Proc, witness: str, size: int) -> bool:
    note = httpx.get(f"{server.url}/v1/agreements/{AGREEMENT_ID}/checkpoint", timeout=10).text
    return note.split("\n")[1] == str(size) and f"\n— {witness} " in note


def witness_view(witness: Proc) -> tuple[int, str]:
    origin_hash = hashlib.sha256(f"log.test/{AGREEMENT_ID}".encode()).hexdigest()
    note = httpx.get(f"{witness.url}/{origin_hash}/checkpoint", timeout=10).text
    lines = note.split("\n")
    return int(lines[1]), lines[2]


def mirror(tmp: Path, server: Proc) -> tuple[int, str]:
    result = run_cli(["mirror", "--server", server.url, "--db", f"sqlite:///{tmp / 'mirror.db'}", "--once",
                      "--log-key", log_vkey(), "--witness-key", cosigner_vkey(W1), "--witness-key",
                      cosigner_vkey(W2), "--min-cosignatures", "1", "--alarm-dir", str(tmp / "alarms"),
                      "--interval", "0.2"], tmp)
    return result.returncode, result.stderr


def test_a_forked_log_is_caught_by_the_witness_and_by_a_mirror(tmp_path: Path) -> None:
    w1 = start_witness(tmp_path, W1, "w1")
    w2 = start_witness(tmp_path, W2, "w2")
    procs = [w1, w2]
    try:
        a = start_server(tmp_path / "a", f"sqlite:///{tmp_path / 'a.db'}", "--witness", f"{w1.url}={cosigner_vkey(W1)}",
                         "--witness-interval", "0.2", name="server-a")
        procs.append(a)
        fill(a, ["history A, 1", "history A, 2"])
        until(lambda: cosigned_by(a, "witness-one", 5))
        code, stderr = mirror(tmp_path, a)
        assert code == 0, stderr

        b = start_server(tmp_path / "b", f"sqlite:///{tmp_path / 'b.db'}",
                         "--witness", f"{w1.url}={cosigner_vkey(W1)}", "--witness", f"{w2.url}={cosigner_vkey(W2)}",
                         "--witness-interval", "0.2", name="server-b")
        procs.append(b)
        fill(b, ["history B, 1", "history B, 2"])  # same size as A, other entries
        until(lambda: cosigned_by(b, "witness-two", 5))

        # caught by the witness: W1 refuses B's checkpoint and keeps A's view
        a_root = httpx.get(f"{a.url}/v1/agreements/{AGREEMENT_ID}/checkpoint").text.split("\n")[2]
        b_root = httpx.get(f"{b.url}/v1/agreements/{AGREEMENT_ID}/checkpoint").text.split("\n")[2]
        assert a_root != b_root
        assert witness_view(w1) == (5, a_root)
        assert witness_view(w2) == (5, b_root)
        described = httpx.get(f"{b.url}/v1/agreements/{AGREEMENT_ID}").json()["witnesses"]
        refusal = next(w for w in described if w["verifier_key"] == cosigner_vkey(W1))
        assert refusal["last_error"].startswith("422")
        assert not cosigned_by(b, "witness-one", 5)

        # caught by a mirror: same size, another root
        code, stderr = mirror(tmp_path, b)
        assert code == 3, stderr
        assert "ALARM split-view" in stderr
        check_evidence(tmp_path / "alarms", expect_sizes=(5, 5))

        # and when history B grows past A: the consistency proof fails
        fill_more(b, ["history B, 3"])
        until(lambda: cosigned_by(b, "witness-two", 6))
        for old in (tmp_path / "alarms").iterdir():
            old.unlink()
        code, stderr = mirror(tmp_path, b)
        assert code == 3, stderr
        check_evidence(tmp_path / "alarms", expect_sizes=(5, 6))
        assert witness_view(w1) == (5, a_root)
    finally:
        for proc in procs:
            proc.stop()


def fill_more(server: Proc, texts: list[str]) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for text in texts:
            response = http.post(f"/v1/agreements/{AGREEMENT_ID}/entries",
                                 content=dumps(signed("observers", body={"text": text})),
                                 headers={"Content-Type": "application/json"})
            assert response.status_code == 201


def check_evidence(alarms: Path, expect_sizes: tuple[int, int]) -> None:
    """The proof file alone shows two signed checkpoints that cannot both be true."""
    [path] = list(alarms.glob("split-view-*.json"))
    evidence = json.loads(path.read_text())
    held = open_checkpoint(evidence["held"]["checkpoint"], log_vkey(), [cosigner_vkey(W1)])
    served = open_checkpoint(evidence["served"]["checkpoint"], log_vkey(), [cosigner_vkey(W2)])
    assert (held.checkpoint.size, served.checkpoint.size) == expect_sizes
    assert held.checkpoint.origin == served.checkpoint.origin == f"log.test/{AGREEMENT_ID}"
    assert held.witnesses == ("witness-one",) and served.witnesses == ("witness-two",)
    old, new = held.checkpoint, served.checkpoint
    proof = [base64.b64decode(h) for h in evidence["consistency_proof"]]
    with pytest.raises(ProofError):
        verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof)
