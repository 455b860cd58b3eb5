"""The `Log` service on SQLite and PostgreSQL: acknowledgements, refusals, proofs, checkpoints.

Expected values come from independent computations: leaves are rebuilt here from the entries
with RFC 8785 and SHA-256, proofs are compared with `interlock.tlog`'s list functions (which
follow the RFC's recursive definitions) and checked with the RFC verifiers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from interlock import tlog
from interlock.checkpoint import cosign_checkpoint, cosigner_vkey, open_checkpoint
from interlock.errors import (
    AgreementError,
    CosignatureError,
    LogExistsError,
    LogKeyMismatchError,
    ProofRequestError,
    UnknownEntryError,
    UnknownLogError,
)
from interlock.note import new_signer_key, split_note
from interlock.store import Ack, LogWriter, Refusal, Store
from interlock.store.prepare import canonical_envelope, leaf_bytes
from interlock.store.tree import batch_inclusion_proofs
from pg import T0, adoptions, log_signer_key, northland_agreement, signed

EMPTY = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def leaf_of(integrated_at: str, envelope: dict[str, Any]) -> bytes:
    """The leaf hash as DESIGN.md defines it, computed without the store's code."""
    data = rfc8785.dumps({"integrated_at": integrated_at, "envelope": envelope})
    return hashlib.sha256(b"\x00" + data).digest()


def notes(prefix: str, count: int, author: str = "observers") -> list[dict[str, Any]]:
    return [signed(author, f"{prefix}-{i}") for i in range(count)]


def test_register_makes_a_signed_empty_checkpoint(store: Store) -> None:
    info = store.register_log(northland_agreement(), log_signer_key(), T0)
    assert info.id == "northland-southland-2026"
    assert info.origin == "log.test/northland-southland-2026"
    assert info.public_key.startswith("log.test/northland-southland-2026+")
    assert [i.id for i in store.list_logs()] == [info.id]
    head = store.log(info.id).latest_checkpoint()
    assert (head.size, head.root) == (0, EMPTY)
    opened = open_checkpoint(head.note, info.public_key, origin=info.origin)
    assert opened.checkpoint.size == 0
    empty_root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="  # base64 of SHA-256("")
    assert head.note.startswith(f"log.test/northland-southland-2026\n0\n{empty_root}\n\n")
    with pytest.raises(LogExistsError):
        store.register_log(northland_agreement(), log_signer_key(), T0)
    with pytest.raises(AgreementError):
        store.register_log(b"interlock: 1\nid: [unclosed", log_signer_key(), T0, log_id="broken")
    assert [i.id for i in store.list_logs()] == [info.id]
    with pytest.raises(UnknownLogError):
        store.log("no-such-log")
    other_key = new_signer_key("log.test", seed=b"\x01" * 32)[0]
    with pytest.raises(LogKeyMismatchError):
        Store(store.engine).log(info.id, other_key)


def test_acks_carry_a_verifiable_proof_and_checkpoint(log: Any) -> None:
    envelopes = adoptions()
    acks = log.append(envelopes, datetime(2026, 3, 3, 9, 0, 0, 654321, tzinfo=UTC))
    assert [a.index for a in acks] == [0, 1, 2]
    assert all(isinstance(a, Ack) and a.integrated_at == "2026-03-03T09:00:00Z" for a in acks)
    for ack, envelope in zip(acks, envelopes, strict=True):
        opened = open_checkpoint(ack.checkpoint, log.info.public_key, origin=log.info.origin)
        assert opened.checkpoint.size == 3
        proof = [base64.b64decode(h) for h in ack.to_json()["inclusion_proof"]]
        tlog.verify_inclusion(leaf_of(ack.integrated_at, envelope), ack.index, 3, proof, opened.checkpoint.root_hash)
    # the entry as stored is the envelope as signed
    assert log.entry(1).envelope == envelopes[1]
    assert log.entries(0, 10)[2].to_json()["integrated_at"] == "2026-03-03T09:00:00Z"
    with pytest.raises(UnknownEntryError):
        log.entry(3)


def test_refused_statements_leave_nothing(log: Any) -> None:
    log.append(adoptions(), T0)
    before = log.count_rows()
    head = log.latest_checkpoint()
    forged = signed("north", "forged")
    forged["signatures"] = [{"keyid": "north-1", "sig": signed("north", "other")["signatures"][0]["sig"]}]
    spaced = signed("north", "spaced")
    statement = json.loads(base64.b64decode(spaced["payload"]))
    spaced["payload"] = base64.b64encode(json.dumps(statement, indent=1).encode()).decode()
    bad = [
        {"payload": "not base64!", "payloadType": "x", "signatures": []},  # malformed envelope
        spaced,  # a payload not in RFC 8785 form
        forged,  # signature of another statement
        signed("north", "adopt-north", "adopt"),  # reused nonce
        signed("north", "elsewhere", agreement_hash="sha256:" + "0" * 64),  # another agreement
        signed("mallory", "m-1"),  # nobody the agreement knows
        signed("north", "x", "attest", {"entry": 0, "verdict": "confirm"}),  # a party is no monitor
    ]
    results = log.append(bad, T0 + timedelta(hours=2))
    assert all(isinstance(r, Refusal) for r in results), results
    assert results[0].code == results[1].code == "bad-envelope"
    assert "canonical" in results[1].message
    assert len({r.code for r in results}) >= 4  # each fault has its own code
    assert log.count_rows() == before
    assert log.latest_checkpoint() == head
    # a mixed batch keeps only the good statements, in order
    mixed = log.append([bad[2], signed("south", "fine-1"), bad[3], signed("east", "fine-2")], T0)
    assert [type(r).__name__ for r in mixed] == ["Refusal", "Ack", "Refusal", "Ack"]
    assert [r.index for r in mixed if isinstance(r, Ack)] == [3, 4]
    assert log.count_rows()["entries"] == 5


def test_integration_time_never_goes_back(log: Any) -> None:
    [first] = log.append([signed("observers", "t-1")], datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    [second] = log.append([signed("observers", "t-2")], datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    [third] = log.append([signed("observers", "t-3")], datetime(2026, 3, 3, 11, 30, 15, tzinfo=UTC))
    assert [first.integrated_at, second.integrated_at, third.integrated_at] == [
        "2026-03-03T10:00:00Z", "2026-03-03T10:00:00Z", "2026-03-03T11:30:15Z",
    ]
    with pytest.raises(ValueError, match="timezone-aware"):
        log.append([signed("observers", "t-4")], datetime(2026, 3, 3, 12, 0))


def test_proofs_roots_and_subtrees_match_the_rfc(log: Any) -> None:
    envelopes = notes("p", 37)
    batches = [1, 2, 5, 1, 8, 3, 16, 1]  # 37 entries, checkpoints at every batch end
    position, sizes = 0, []
    for i, count in enumerate(batches):
        log.append(envelopes[position : position + count], T0 + timedelta(minutes=i))
        position += count
        sizes.append(position)
    stored = log.entries(0, 100)
    assert [e.index for e in stored] == list(range(37))
    leaves = [e.leaf_bytes() for e in stored]
    assert [leaf_of(e.to_json()["integrated_at"], e.envelope) for e in stored] == [tlog.leaf_hash(x) for x in leaves]
    for size in range(1, 38):
        root = tlog.root_hash(leaves[:size])
        assert log.root(size) == root
        for index in range(size):
            assert log.inclusion_proof(index, size) == tlog.inclusion_proof(leaves[:size], index)
        for old in range(1, size + 1):
            proof = log.consistency_proof(old, size)
            assert proof == tlog.consistency_proof(leaves[:size], old)
            tlog.verify_consistency(old, size, tlog.root_hash(leaves[:old]), root, proof)
    for size in sizes:
        checkpoint = log.checkpoint(size)
        assert checkpoint is not None and checkpoint.root == tlog.root_hash(leaves[:size])
    assert log.checkpoint(4) is None  # no batch ended at 4
    hashes = [tlog.leaf_hash(x) for x in leaves]
    assert log.subtrees(0, 0, 256) == hashes
    assert log.subtrees(1, 0, 256) == [tlog.node_hash(hashes[2 * i], hashes[2 * i + 1]) for i in range(18)]
    assert log.subtree(5, 0) == tlog.root_hash(leaves[:32])
    with pytest.raises(ProofRequestError):
        log.subtree(5, 1)  # leaves 32..63 are not all there
    with pytest.raises(ProofRequestError):
        log.inclusion_proof(37, 37)
    with pytest.raises(ProofRequestError):
        log.consistency_proof(5, 38)
    assert log.inclusion_proof(36) == tlog.inclusion_proof(leaves, 36)  # default: newest size


def test_cosignatures_are_stored_and_verify(log: Any) -> None:
    log.append(adoptions(), T0)
    head = log.latest_checkpoint()
    witness_skey, _ = new_signer_key("witness.test", seed=b"\x02" * 32)
    witness_vkey = cosigner_vkey(witness_skey)
    text = split_note(head.note)[0]
    line = cosign_checkpoint(text, witness_skey, 1_772_524_800)
    log.add_cosignature(3, line, T0, witness_key=witness_vkey)
    stored = log.latest_checkpoint()
    assert [c.key_name for c in stored.cosignatures] == ["witness.test"]
    opened = open_checkpoint(stored.signed_note, log.info.public_key, [witness_vkey])
    assert opened.witnesses == ("witness.test",)
    assert opened.cosignatures[0].timestamp == 1_772_524_800
    # the same witness again replaces its line; a line for another checkpoint is refused
    newer = cosign_checkpoint(text, witness_skey, 1_772_524_900)
    log.add_cosignature(3, newer, T0, witness_key=witness_vkey)
    assert [c.line for c in log.latest_checkpoint().cosignatures] == [newer]
    old_text = split_note(log.checkpoint(0).note)[0]
    with pytest.raises(CosignatureError):
        log.add_cosignature(3, cosign_checkpoint(old_text, witness_skey, 5), T0, witness_key=witness_vkey)
    with pytest.raises(ProofRequestError):
        log.add_cosignature(2, line, T0)
    assert log.count_rows()["cosignatures"] == 1


def test_log_writer_commits_queued_submissions_together(log: Any) -> None:
    clock_calls: list[datetime] = []

    def clock() -> datetime:
        clock_calls.append(T0)
        return T0

    with LogWriter(log, clock, max_batch=10, max_delay=0.5) as writer:
        futures = [writer.submit_future(e) for e in notes("g", 10)]
        results = [f.result(timeout=30) for f in futures]
    assert all(isinstance(r, Ack) for r in results)
    assert [r.index for r in results] == list(range(10))
    assert {r.size for r in results} == {10}  # one batch, one checkpoint
    assert len(clock_calls) == 1
    assert log.count_rows()["checkpoints"] == 2  # the empty one and the batch's


def test_log_writer_from_many_threads(log: Any) -> None:
    results: list[Any] = []
    lock = threading.Lock()

    with LogWriter(log, lambda: T0) as writer:
        def worker(n: int) -> None:
            for i in range(12):
                result = writer.submit(signed("observers", f"w{n}-{i}"), timeout=60)
                with lock:
                    results.append(result)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        refusal = writer.submit(signed("observers", "w0-0"))  # a repeat, refused at the door of the batch
    assert isinstance(refusal, Refusal)
    assert sorted(r.index for r in results) == list(range(72))
    stored = log.entries(0, 100)
    for ack in results:
        cp = open_checkpoint(ack.checkpoint, log.info.public_key).checkpoint
        leaf = leaf_of(ack.integrated_at, stored[ack.index].envelope)
        tlog.verify_inclusion(leaf, ack.index, cp.size, list(ack.inclusion_proof), cp.root_hash)


def test_a_failed_commit_leaves_memory_in_step_with_the_database(log: Any) -> None:
    """A write that fails (here: a row planted behind the log's back collides with the
    statement's nonce) raises, logs nothing, and the next append gets the right index."""
    from sqlalchemy import delete, insert

    from interlock.store.schema import entries

    log.append(adoptions(), T0)
    with log.engine.begin() as conn:
        conn.execute(insert(entries), {
            "log_id": log.id, "idx": 1000, "integrated_at": "2026-03-03T08:00:00Z", "envelope": "{}",
            "leaf_hash": b"\0" * 32, "author": "observers", "key_id": "observers-1", "nonce": "clash", "type": "note",
        })
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        log.append([signed("observers", "clash")], T0)
    with log.engine.begin() as conn:
        conn.execute(delete(entries).where(entries.c.idx == 1000))
    assert log.size() == 3
    [ack] = log.append([signed("observers", "after")], T0)
    assert ack.index == 3
    assert log.root(4) == tlog.root_hash([e.leaf_bytes() for e in log.entries(0, 10)])


def test_logs_in_one_database_are_separate(store: Store) -> None:
    document = northland_agreement()
    first = store.register_log(document, log_signer_key(), T0)
    second = store.register_log(document, log_signer_key(), T0, log_id="copy", origin="log.test/copy")
    assert second.public_key != first.public_key  # the key name is the origin
    a, b = store.log(first.id, log_signer_key()), store.log("copy", log_signer_key())
    a.append(adoptions(), T0)
    [ack] = b.append([signed("observers", "only-in-b")], T0)
    assert ack.index == 0
    assert (a.size(), b.size()) == (3, 1)
    assert b.entry(0).envelope["signatures"][0]["keyid"] == "observers-1"
    with pytest.raises(LogExistsError):
        store.register_log(document, log_signer_key(), T0, log_id="bad id!")


def test_a_second_process_view_catches_up(db_url: str, log: Any) -> None:
    """Two `Store`s on one database (as two server workers): each sees the other's entries,
    and the engine state kept in memory follows."""
    log.append(adoptions(), T0)
    with Store.open(db_url) as other_store:
        other = other_store.log(log.id, log_signer_key())
        [ack] = other.append([signed("observers", "from-other")], T0 + timedelta(hours=1))
        assert ack.index == 3
    [mine] = log.append([signed("observers", "from-first")], T0 + timedelta(hours=2))
    assert mine.index == 4
    assert log.refresh() == 5
    status = log.status(T0 + timedelta(days=1))
    assert status.to_json()["adopted_at"] == "2026-03-03T08:00:00Z"
    # a moment before the newest entry: the prefix is evaluated afresh
    assert log.status(T0 - timedelta(hours=1)).to_json()["adopted_at"] is None
    assert log.status(T0 + timedelta(minutes=90)).to_json()["adopted_at"] == "2026-03-03T08:00:00Z"


@settings(max_examples=300, deadline=None)
@given(
    payload=st.text(max_size=40), kind=st.text(max_size=20), keyid=st.text(max_size=20), sig=st.text(max_size=20),
    extra=st.booleans(),
)
def test_canonical_envelope_is_rfc8785(payload: str, kind: str, keyid: str, sig: str, extra: bool) -> None:
    """The store's fast path writes exactly what the RFC 8785 library writes, for any strings."""
    envelope: dict[str, Any] = {"payload": payload, "payloadType": kind, "signatures": [{"keyid": keyid, "sig": sig}]}
    if extra:
        envelope["signatures"][0]["extra"] = [1, "é"]
    text = canonical_envelope(envelope)
    assert text.encode() == rfc8785.dumps(envelope)
    when = "2026-03-03T08:00:00Z"
    assert leaf_bytes(text, when) == rfc8785.dumps({"integrated_at": when, "envelope": envelope})


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, 300), data=st.data())
def test_batch_inclusion_proofs_are_the_rfc_paths(size: int, data: st.DataObject) -> None:
    """The proofs of a batch, built with each node once, are RFC 9162's PATH for each leaf."""
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    indices = data.draw(st.lists(st.integers(0, size - 1), max_size=40))
    proofs = batch_inclusion_proofs(tlog.MemoryTree(tlog.leaf_hash(x) for x in leaves), indices, size)
    assert sorted(proofs) == sorted(set(indices))
    for index in indices:
        assert proofs[index] == tlog.inclusion_proof(leaves, index)
    with pytest.raises(ProofRequestError):
        batch_inclusion_proofs(tlog.MemoryTree(), [size], size)
