"""The C2SP tlog-witness rules, status by status, and over HTTP through `interlock witness serve`.

Checkpoints are real Ed25519 signed notes over real RFC 9162 trees; a "fork" is the same
origin and key over different leaves.  Expected status codes are the spec's (see
/work/shared/reference/ledger.md §1.10), not the program's.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interlock.checkpoint import Checkpoint, cosigner_vkey, sign_checkpoint, verify_cosignature
from interlock.errors import (
    WitnessBadRequestError,
    WitnessConflictError,
    WitnessError,
    WitnessInconsistentError,
    WitnessUnknownLogError,
    WitnessUntrustedError,
)
from interlock.note import signer_from_seed, split_note
from interlock.tlog import EMPTY_ROOT, consistency_proof, root_hash
from interlock.witness.core import TrustedLog, Witness, parse_trusted_log
from interlock.witness.protocol import format_add_checkpoint, parse_add_checkpoint
from interlock.witness.state import WitnessState
from serverkit import Proc

ORIGIN = "log.test/witnessed"
LOG = signer_from_seed(ORIGIN, hashlib.sha256(b"witnessed log").digest())
WITNESS = signer_from_seed("witness-a", hashlib.sha256(b"witness a").digest())
MAIN = [b"entry %d" % i for i in range(40)]
FORK = [*MAIN[:5], *(b"forked %d" % i for i in range(35))]
NOW = 1_767_225_600


def note(size: int, leaves: list[bytes] = MAIN, signer: object = LOG, origin: str = ORIGIN) -> bytes:
    return sign_checkpoint(Checkpoint(origin, size, root_hash(leaves[:size])), signer)  # type: ignore[arg-type]


def body(old: int, new: int, leaves: list[bytes] = MAIN, **kwargs: object) -> bytes:
    proof = consistency_proof(leaves[:new], old) if 0 < old < new else []
    return format_add_checkpoint(old, proof, note(new, leaves, **kwargs))  # type: ignore[arg-type]


@pytest.fixture()
def witness(tmp_path: Path) -> Witness:
    return Witness(WITNESS, [TrustedLog(ORIGIN, LOG.verifier)], WitnessState(tmp_path / "w.db"), clock=lambda: NOW)


def stored(w: Witness) -> tuple[int, bytes] | None:
    found = w.state.get(ORIGIN)
    return None if found is None else (found.size, found.root)


def test_first_checkpoint_is_cosigned_with_a_verifiable_timestamped_line(witness: Witness) -> None:
    line = witness.add_checkpoint(body(0, 5))
    cosig = verify_cosignature(split_note(note(5))[0], line, cosigner_vkey(WITNESS))
    assert cosig.timestamp == NOW
    assert stored(witness) == (5, root_hash(MAIN[:5]))


def test_consistent_growth_is_cosigned(witness: Witness) -> None:
    witness.add_checkpoint(body(0, 5))
    witness.add_checkpoint(body(5, 17))
    witness.add_checkpoint(body(17, 32))
    assert stored(witness) == (32, root_hash(MAIN[:32]))


def test_same_checkpoint_again_is_cosigned_again(witness: Witness) -> None:
    witness.add_checkpoint(body(0, 8))
    assert witness.add_checkpoint(body(8, 8)).startswith("— witness-a ")
    assert stored(witness) == (8, root_hash(MAIN[:8]))


def test_wrong_old_size_is_409_with_the_stored_size(witness: Witness) -> None:
    witness.add_checkpoint(body(0, 9))
    with pytest.raises(WitnessConflictError) as caught:
        witness.add_checkpoint(body(5, 12))
    assert (caught.value.size, caught.value.http_status) == (9, 409)
    with pytest.raises(WitnessConflictError):
        witness.add_checkpoint(body(0, 12))
    assert stored(witness) == (9, root_hash(MAIN[:9]))


def test_a_fork_is_refused_422_and_the_witness_keeps_its_view(witness: Witness) -> None:
    witness.add_checkpoint(body(0, 9))
    proof_from_fork = consistency_proof(FORK[:20], 9)
    with pytest.raises(WitnessInconsistentError) as caught:
        witness.add_checkpoint(format_add_checkpoint(9, proof_from_fork, note(20, FORK)))
    assert caught.value.http_status == 422
    assert stored(witness) == (9, root_hash(MAIN[:9]))


def test_same_size_other_root_is_422(witness: Witness) -> None:
    witness.add_checkpoint(body(0, 9))
    with pytest.raises(WitnessInconsistentError):
        witness.add_checkpoint(format_add_checkpoint(9, [], note(9, FORK)))


def test_old_zero_needs_an_empty_proof_and_size_zero_the_empty_root(witness: Witness) -> None:
    with pytest.raises(WitnessInconsistentError):
        witness.add_checkpoint(format_add_checkpoint(0, [b"\x00" * 32], note(4)))
    bad_empty = sign_checkpoint(Checkpoint(ORIGIN, 0, b"\x01" * 32), LOG)
    with pytest.raises(WitnessInconsistentError):
        witness.add_checkpoint(format_add_checkpoint(0, [], bad_empty))
    good_empty = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), LOG)
    witness.add_checkpoint(format_add_checkpoint(0, [], good_empty))
    assert stored(witness) == (0, EMPTY_ROOT)


def test_old_larger_than_the_checkpoint_is_400(witness: Witness) -> None:
    with pytest.raises(WitnessBadRequestError):
        witness.add_checkpoint(format_add_checkpoint(6, [], note(5)))


def test_unknown_origin_is_404(witness: Witness) -> None:
    other = signer_from_seed("log.test/other", hashlib.sha256(b"other").digest())
    with pytest.raises(WitnessUnknownLogError) as caught:
        witness.add_checkpoint(body(0, 3, signer=other, origin="log.test/other"))
    assert caught.value.http_status == 404


def test_checkpoint_not_signed_by_the_log_key_is_403(witness: Witness) -> None:
    impostor = signer_from_seed(ORIGIN, hashlib.sha256(b"impostor").digest())  # same name, other key
    with pytest.raises(WitnessUntrustedError) as caught:
        witness.add_checkpoint(body(0, 3, signer=impostor))
    assert caught.value.http_status == 403
    text, sigs = split_note(note(3))
    corrupted = sigs[0].line[:-6] + ("AAAAA" if not sigs[0].line.endswith("AAAAA\n") else "BBBBB") + "\n"
    with pytest.raises(WitnessUntrustedError):
        witness.add_checkpoint(format_add_checkpoint(0, [], text + "\n" + corrupted))
    assert stored(witness) is None


@pytest.mark.parametrize("raw", [
    b"", b"old 1\n", b"old 01\n\nx", b"older 1\n\nx", b"old -1\n\nx", b"old 1\nnot base64!\n\nx",
    b"old 1\nAAAA\n\nx", b"old 0\n\nnot a note", b"old 0\n\n" + note(3).replace(b"\n", b"\r\n"),
])
def test_malformed_requests_are_400(witness: Witness, raw: bytes) -> None:
    with pytest.raises(WitnessBadRequestError):
        witness.add_checkpoint(raw)


@settings(max_examples=80, deadline=None)
@given(old=st.integers(min_value=0, max_value=2**40), n=st.integers(min_value=0, max_value=63),
       note_bytes=st.binary(min_size=1, max_size=200))
def test_request_bodies_round_trip(old: int, n: int, note_bytes: bytes) -> None:
    proof = [hashlib.sha256(b"%d" % i).digest() for i in range(n)]
    parsed = parse_add_checkpoint(format_add_checkpoint(old, proof, note_bytes))
    assert (parsed.old_size, list(parsed.proof), parsed.checkpoint) == (old, proof, note_bytes)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_garbage_is_a_witness_refusal_never_a_crash(raw: bytes) -> None:
    w = Witness(WITNESS, [TrustedLog(ORIGIN, LOG.verifier)], WitnessState(":memory:"), clock=lambda: NOW)
    try:
        w.add_checkpoint(raw)
    except WitnessError as err:
        assert 400 <= err.http_status < 500


def test_state_survives_a_restart(tmp_path: Path) -> None:
    first = Witness(WITNESS, [TrustedLog(ORIGIN, LOG.verifier)], WitnessState(tmp_path / "w.db"))
    first.add_checkpoint(body(0, 11))
    first.state.close()
    again = Witness(WITNESS, [TrustedLog(ORIGIN, LOG.verifier)], WitnessState(tmp_path / "w.db"))
    with pytest.raises(WitnessConflictError) as caught:
        again.add_checkpoint(body(0, 12))
    assert caught.value.size == 11


def test_concurrent_forks_cannot_both_win(witness: Witness) -> None:
    """The check-and-update is atomic: of two forks racing from the same size, exactly one wins."""
    witness.add_checkpoint(body(0, 5))
    for size in range(6, 26, 2):
        gate = threading.Barrier(2)
        outcomes: dict[str, object] = {}

        def push(name: str, leaves: list[bytes], s: int = size, gate: threading.Barrier = gate,
                 outcomes: dict[str, object] = outcomes) -> None:
            prev = stored(witness)
            assert prev is not None
            request = format_add_checkpoint(prev[0], consistency_proof(leaves[:s], prev[0]), note(s, leaves))
            gate.wait()
            try:
                outcomes[name] = witness.add_checkpoint(request)
            except WitnessError as err:
                outcomes[name] = err

        threads = [threading.Thread(target=push, args=(n, lv)) for n, lv in (("main", MAIN), ("fork", FORK))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        winners = [name for name, result in outcomes.items() if isinstance(result, str)]
        assert len(winners) == 1, outcomes  # the first round is a true race; later only its lineage fits
        leaves = MAIN if winners[0] == "main" else FORK
        assert stored(witness) == (size, root_hash(leaves[:size]))


def test_trusted_log_spec() -> None:
    vkey = LOG.verifier.vkey
    assert parse_trusted_log(vkey) == TrustedLog(ORIGIN, LOG.verifier)
    assert parse_trusted_log(f"example.org/other={vkey}") == TrustedLog("example.org/other", LOG.verifier)


def test_witness_over_http(tmp_path: Path) -> None:
    (tmp_path / "witness.skey").write_text(f"# a witness key\n{WITNESS.skey}\n")
    proc = Proc(["witness", "serve", "--key", "witness.skey", "--log-key", LOG.verifier.vkey, "--db", "w.db",
                 "--port", "0"], tmp_path, "witness")
    try:
        announced = proc.wait_for("witness ")
        assert announced.endswith(cosigner_vkey(WITNESS))
        proc.started()
        with httpx.Client(base_url=proc.url, timeout=20) as http:
            ok = http.post("/add-checkpoint", content=body(0, 7))
            assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/plain")
            verify_cosignature(split_note(note(7))[0], ok.text, cosigner_vkey(WITNESS))
            stale = http.post("/add-checkpoint", content=body(3, 9))
            assert (stale.status_code, stale.text, stale.headers["content-type"]) == (409, "7\n", "text/x.tlog.size")
            fork = http.post("/add-checkpoint", content=format_add_checkpoint(7, consistency_proof(FORK[:9], 7),
                                                                               note(9, FORK)))
            assert fork.status_code == 422
            assert http.post("/add-checkpoint", content=b"old x\n\n").status_code == 400
            assert http.post("/add-checkpoint", content=b"x" * 70_000).status_code == 413
            monitored = http.get(f"/{hashlib.sha256(ORIGIN.encode()).hexdigest()}/checkpoint")
            assert monitored.status_code == 200 and monitored.text.startswith(note(7).decode())
            about = http.get("/").json()
            assert about["follows"] == [ORIGIN] and about["witnessed"][0]["size"] == 7
    finally:
        proc.stop()
