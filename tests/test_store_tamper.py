"""Tampering behind the log's back, and split views: `interlock verify` must notice each.

A log of 26 entries in 7 batches (7 signed checkpoints after the empty one, the newest
cosigned by a trusted witness) is mutated directly in its tables — entries, nodes,
checkpoints, cosignatures, the log row — by every kind of mutation once and then by
randomly chosen ones; after each, the audit must report a problem, and after the tables are
restored it must pass again.  Deleting a checkpoint that is neither the newest nor cosigned
is not detectable from the database alone (nothing signed refers to it); docs/storage.md
says so, and it is not among the mutations.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, delete, insert, select, update

from interlock import tlog
from interlock.canonical import canonical_json
from interlock.checkpoint import Checkpoint, cosign_checkpoint, cosigner_vkey, sign_checkpoint
from interlock.note import new_signer_key, split_note
from interlock.store import Store, log_signer
from interlock.store.audit import Report, audit
from interlock.store.schema import checkpoints, cosignatures, entries, logs, nodes
from interlock.store.sources import DatabaseSource
from pg import T0, adoptions, log_signer_key, northland_agreement, signed

WITNESS_SKEY = new_signer_key("witness.test", seed=b"\x03" * 32)[0]
WITNESS = cosigner_vkey(WITNESS_SKEY)
TABLES = (entries, nodes, checkpoints, cosignatures)
BATCHES = (3, 1, 4, 2, 8, 1, 7)  # 26 entries
INTERLOCK = str(Path(sys.executable).parent / "interlock")


def build(store: Store) -> Any:
    info = store.register_log(northland_agreement(), log_signer_key(), T0)
    log = store.log(info.id, log_signer_key())
    envelopes = adoptions() + [signed("observers", f"n-{i}") for i in range(23)]
    position = 0
    for i, count in enumerate(BATCHES):
        log.append(envelopes[position : position + count], T0 + timedelta(minutes=10 * i))
        position += count
    head = log.latest_checkpoint()
    log.add_cosignature(head.size, cosign_checkpoint(split_note(head.note)[0], WITNESS_SKEY, 1_772_600_000),
                        T0, witness_key=WITNESS)
    return log


def check(url: str, log: Any, **options: Any) -> Report:
    source = DatabaseSource(url, log.id)
    try:
        return audit(source, **{"log_key": log.info.public_key, "witness_keys": [WITNESS], "min_cosignatures": 1,
                                "workers": 1, **options})
    finally:
        source.close()


def snapshot(conn: Connection, log_id: str) -> dict[str, Any]:
    saved: dict[str, Any] = {t.name: [dict(r._mapping) for r in conn.execute(select(t).where(t.c.log_id == log_id))]
                             for t in TABLES}
    saved["logs"] = dict(conn.execute(select(logs).where(logs.c.id == log_id)).one()._mapping)
    return saved


def restore(conn: Connection, log_id: str, saved: dict[str, Any]) -> None:
    for table in reversed(TABLES):
        conn.execute(delete(table).where(table.c.log_id == log_id))
    for table in TABLES:
        if saved[table.name]:
            conn.execute(insert(table), saved[table.name])
    conn.execute(update(logs).where(logs.c.id == log_id).values(saved["logs"]))


# --- the mutations: each changes the tables the way an intruder with database access could ---


def _rows(conn: Connection, table: Any, log_id: str, *order: Any) -> list[Any]:
    return list(conn.execute(select(table).where(table.c.log_id == log_id).order_by(*order)))


def _entry_values(envelope: dict[str, Any], integrated_at: str) -> dict[str, Any]:
    statement = json.loads(__import__("base64").b64decode(envelope["payload"]))
    leaf = tlog.leaf_hash(canonical_json({"integrated_at": integrated_at, "envelope": envelope}))
    return {"envelope": canonical_json(envelope).decode(), "integrated_at": integrated_at, "leaf_hash": leaf,
            "author": statement["author"], "key_id": statement["key"], "nonce": statement["nonce"],
            "type": statement["type"]}


def _set_entry(conn: Connection, log_id: str, at: int, **values: Any) -> None:
    conn.execute(update(entries).where(entries.c.log_id == log_id, entries.c.idx == at).values(**values))


def replace_entry_consistently(conn: Connection, log_id: str, rng: random.Random) -> None:
    """Another validly signed statement in an entry's place, leaf hash and columns updated."""
    row = rng.choice(_rows(conn, entries, log_id, entries.c.idx))
    _set_entry(conn, log_id, row.idx, **_entry_values(signed("observers", f"evil-{rng.random()}"), row.integrated_at))


def flip_signature(conn: Connection, log_id: str, rng: random.Random) -> None:
    row = rng.choice(_rows(conn, entries, log_id, entries.c.idx))
    envelope = json.loads(row.envelope)
    sig = envelope["signatures"][0]["sig"]
    envelope["signatures"][0]["sig"] = ("B" if sig[0] == "A" else "A") + sig[1:]
    _set_entry(conn, log_id, row.idx, **_entry_values(envelope, row.integrated_at))


def shift_time(conn: Connection, log_id: str, rng: random.Random) -> None:
    row = rng.choice(_rows(conn, entries, log_id, entries.c.idx))
    _set_entry(conn, log_id, row.idx, integrated_at=row.integrated_at.replace(":00Z", ":01Z"))


def shift_time_and_rehash(conn: Connection, log_id: str, rng: random.Random) -> None:
    row = rng.choice(_rows(conn, entries, log_id, entries.c.idx))
    later = row.integrated_at.replace(":00Z", ":01Z")
    _set_entry(conn, log_id, row.idx, **_entry_values(json.loads(row.envelope), later))


def change_leaf_hash(conn: Connection, log_id: str, rng: random.Random) -> None:
    row = rng.choice(_rows(conn, entries, log_id, entries.c.idx))
    _set_entry(conn, log_id, row.idx, leaf_hash=bytes(32))


def change_column(conn: Connection, log_id: str, rng: random.Random) -> None:
    row = rng.choice(_rows(conn, entries, log_id, entries.c.idx))
    column = rng.choice(["author", "key_id", "nonce", "type"])
    _set_entry(conn, log_id, row.idx, **{column: getattr(row, column) + "x"})


def reformat_envelope(conn: Connection, log_id: str, rng: random.Random) -> None:
    row = rng.choice(_rows(conn, entries, log_id, entries.c.idx))
    _set_entry(conn, log_id, row.idx, envelope=json.dumps(json.loads(row.envelope), indent=1))


def delete_entry(conn: Connection, log_id: str, rng: random.Random) -> None:
    row = rng.choice(_rows(conn, entries, log_id, entries.c.idx))
    conn.execute(delete(entries).where(entries.c.log_id == log_id, entries.c.idx == row.idx))


def swap_entries(conn: Connection, log_id: str, rng: random.Random) -> None:
    a, b = rng.sample(_rows(conn, entries, log_id, entries.c.idx), 2)
    keep = ("envelope", "integrated_at", "leaf_hash", "author", "key_id", "nonce", "type")
    _set_entry(conn, log_id, a.idx, nonce="swapping")
    _set_entry(conn, log_id, b.idx, **{k: getattr(a, k) for k in keep})
    _set_entry(conn, log_id, a.idx, **{k: getattr(b, k) for k in keep})


def append_entry(conn: Connection, log_id: str, rng: random.Random) -> None:
    rows = _rows(conn, entries, log_id, entries.c.idx)
    values = _entry_values(signed("observers", f"extra-{rng.random()}"), rows[-1].integrated_at)
    conn.execute(insert(entries), {"log_id": log_id, "idx": len(rows), **values})


def insert_entry(conn: Connection, log_id: str, rng: random.Random) -> None:
    rows = _rows(conn, entries, log_id, entries.c.idx)
    at = rng.randrange(1, len(rows))
    for row in reversed(rows[at:]):
        _set_entry(conn, log_id, row.idx, idx=row.idx + 1)
    values = _entry_values(signed("observers", f"inserted-{rng.random()}"), rows[at].integrated_at)
    conn.execute(insert(entries), {"log_id": log_id, "idx": at, **values})


def change_node(conn: Connection, log_id: str, rng: random.Random) -> None:
    row = rng.choice(_rows(conn, nodes, log_id, nodes.c.level, nodes.c.idx))
    conn.execute(update(nodes).where(nodes.c.log_id == log_id, nodes.c.level == row.level, nodes.c.idx == row.idx)
                 .values(hash=bytes(b ^ 1 for b in row.hash)))


def delete_node(conn: Connection, log_id: str, rng: random.Random) -> None:
    row = rng.choice(_rows(conn, nodes, log_id, nodes.c.level, nodes.c.idx))
    conn.execute(delete(nodes).where(nodes.c.log_id == log_id, nodes.c.level == row.level, nodes.c.idx == row.idx))


def insert_node(conn: Connection, log_id: str, rng: random.Random) -> None:
    level = rng.randrange(0, 5)
    conn.execute(insert(nodes), {"log_id": log_id, "level": level, "idx": 26 >> level, "hash": rng.randbytes(32)})


def swap_nodes(conn: Connection, log_id: str, rng: random.Random) -> None:
    level = rng.randrange(0, 4)
    a, b = rng.sample([r for r in _rows(conn, nodes, log_id, nodes.c.idx) if r.level == level], 2)
    for row, other in ((a, b), (b, a)):
        conn.execute(update(nodes).where(nodes.c.log_id == log_id, nodes.c.level == level, nodes.c.idx == row.idx)
                     .values(hash=other.hash))


def _set_checkpoint(conn: Connection, log_id: str, size: int, **values: Any) -> None:
    conn.execute(update(checkpoints).where(checkpoints.c.log_id == log_id, checkpoints.c.size == size).values(**values))


def change_checkpoint_note(conn: Connection, log_id: str, rng: random.Random) -> None:
    row = rng.choice(_rows(conn, checkpoints, log_id, checkpoints.c.size))
    text, rest = row.note.split("\n\n", 1)
    lines = text.split("\n")
    lines[2] = __import__("base64").b64encode(rng.randbytes(32)).decode()
    _set_checkpoint(conn, log_id, row.size, note="\n".join(lines) + "\n\n" + rest)


def change_checkpoint_size(conn: Connection, log_id: str, rng: random.Random) -> None:
    row = rng.choice(_rows(conn, checkpoints, log_id, checkpoints.c.size)[1:-1])
    conn.execute(update(checkpoints).where(checkpoints.c.log_id == log_id, checkpoints.c.size == row.size)
                 .values(size=row.size + 100))


def change_checkpoint_root(conn: Connection, log_id: str, rng: random.Random) -> None:
    row = rng.choice(_rows(conn, checkpoints, log_id, checkpoints.c.size))
    _set_checkpoint(conn, log_id, row.size, root=rng.randbytes(32))


def delete_latest_checkpoint(conn: Connection, log_id: str, rng: random.Random) -> None:
    size = _rows(conn, checkpoints, log_id, checkpoints.c.size)[-1].size
    conn.execute(delete(cosignatures).where(cosignatures.c.log_id == log_id, cosignatures.c.size == size))
    conn.execute(delete(checkpoints).where(checkpoints.c.log_id == log_id, checkpoints.c.size == size))


def swap_checkpoint_notes(conn: Connection, log_id: str, rng: random.Random) -> None:
    a, b = rng.sample(_rows(conn, checkpoints, log_id, checkpoints.c.size), 2)
    _set_checkpoint(conn, log_id, a.size, note=b.note)
    _set_checkpoint(conn, log_id, b.size, note=a.note)


def forge_checkpoint(conn: Connection, log_id: str, rng: random.Random) -> None:
    """A checkpoint for 27 entries, signed by a key that is not the log's."""
    forger = new_signer_key("log.test/northland-southland-2026", seed=rng.randbytes(32))[0]
    root = rng.randbytes(32)
    note = sign_checkpoint(Checkpoint("log.test/northland-southland-2026", 27, root), forger).decode()
    conn.execute(insert(checkpoints), {"log_id": log_id, "size": 27, "root": root, "note": note,
                                       "created_at": "2026-03-03T09:00:00Z"})


def equivocate(conn: Connection, log_id: str, rng: random.Random) -> None:
    """The log's own key signs a different root for an existing size (a split view)."""
    row = rng.choice(_rows(conn, checkpoints, log_id, checkpoints.c.size)[1:])
    root = rng.randbytes(32)
    signer = log_signer(log_signer_key(), "log.test/northland-southland-2026")
    note = sign_checkpoint(Checkpoint("log.test/northland-southland-2026", row.size, root), signer).decode()
    _set_checkpoint(conn, log_id, row.size, note=note, root=root)


def change_cosignature(conn: Connection, log_id: str, rng: random.Random) -> None:
    row = _rows(conn, cosignatures, log_id, cosignatures.c.size)[0]
    name, sig = row.line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(__import__("base64").b64decode(sig))
    raw[rng.randrange(12, len(raw))] ^= 0x10
    line = f"{name} {__import__('base64').b64encode(bytes(raw)).decode()}\n"
    conn.execute(update(cosignatures).where(cosignatures.c.log_id == log_id).values(line=line))


def change_agreement(conn: Connection, log_id: str, rng: random.Random) -> None:
    document = northland_agreement().replace(b"max_report_delay: 24h", b"max_report_delay: 25h")
    conn.execute(update(logs).where(logs.c.id == log_id).values(agreement=document))


def change_log_key(conn: Connection, log_id: str, rng: random.Random) -> None:
    other = log_signer(new_signer_key("x", seed=rng.randbytes(32))[0], "log.test/northland-southland-2026")
    conn.execute(update(logs).where(logs.c.id == log_id).values(public_key=other.verifier.vkey))


MUTATIONS: list[Callable[[Connection, str, random.Random], None]] = [
    replace_entry_consistently, flip_signature, shift_time, shift_time_and_rehash, change_leaf_hash,
    change_column, reformat_envelope, delete_entry, swap_entries, append_entry, insert_entry,
    change_node, delete_node, insert_node, swap_nodes,
    change_checkpoint_note, change_checkpoint_size, change_checkpoint_root, delete_latest_checkpoint,
    swap_checkpoint_notes, forge_checkpoint, equivocate, change_cosignature, change_agreement, change_log_key,
]


def test_every_mutation_is_detected(db_url: str, store: Store) -> None:
    log = build(store)
    assert check(db_url, log).problems == []
    with store.engine.begin() as conn:
        saved = snapshot(conn, log.id)
    rng = random.Random(20260303)
    plan = MUTATIONS + [rng.choice(MUTATIONS) for _ in range(15)]
    missed: list[str] = []
    for mutation in plan:
        with store.engine.begin() as conn:
            mutation(conn, log.id, rng)
        report = check(db_url, log)
        if report.ok:
            missed.append(mutation.__name__)
        with store.engine.begin() as conn:
            restore(conn, log.id, saved)
    assert missed == [], f"undetected: {missed}"
    assert check(db_url, log).ok  # restored exactly
    assert len(plan) == 40


@pytest.mark.parametrize(("mutation", "first_bad"), [
    (lambda conn, log_id: _set_entry(conn, log_id, 7, leaf_hash=bytes(32)), 7),
    (lambda conn, log_id: conn.execute(delete(entries).where(entries.c.log_id == log_id, entries.c.idx == 12)), 12),
    (lambda conn, log_id: _set_entry(conn, log_id, 20, nonce="other"), 20),
])
def test_the_first_bad_entry_is_named(db_url: str, store: Store, mutation: Any, first_bad: int) -> None:
    log = build(store)
    with store.engine.begin() as conn:
        mutation(conn, log.id)
    report = check(db_url, log)
    first = report.first_problem()
    assert first is not None and first.index == first_bad, report.problems


def test_split_views_are_detected(db_url: str, store: Store) -> None:
    log = build(store)
    genuine = log.checkpoint(8)
    assert genuine is not None
    assert check(db_url, log, saved_checkpoint=genuine.note).ok
    # same size, different root
    signer = log_signer(log_signer_key(), log.info.origin)
    fake_root = tlog.root_hash([b"another history"] * 8)
    same_size = sign_checkpoint(Checkpoint(log.info.origin, 8, fake_root), signer).decode()
    report = check(db_url, log, saved_checkpoint=same_size)
    assert not report.ok and "not consistent" in str(report.first_problem())
    # a smaller checkpoint that is not a prefix of the log
    smaller = sign_checkpoint(Checkpoint(log.info.origin, 5, tlog.root_hash([b"x"] * 5)), signer).decode()
    report = check(db_url, log, saved_checkpoint=smaller)
    assert not report.ok and "different history" in str(report.first_problem())
    # a checkpoint larger than the log: the log has lost entries
    larger = sign_checkpoint(Checkpoint(log.info.origin, 40, fake_root), signer).decode()
    assert not check(db_url, log, saved_checkpoint=larger).ok
    # a checkpoint by another key is no evidence at all
    stranger = new_signer_key(log.info.origin, seed=b"\x09" * 32)[0]
    report = check(db_url, log, saved_checkpoint=sign_checkpoint(Checkpoint(log.info.origin, 8, genuine.root),
                                                                  stranger).decode())
    assert not report.ok


def test_audit_checks_entries_in_a_process_pool(db_url: str, store: Store) -> None:
    """With enough entries for the pool (≥ 256 a chunk) and two workers, verdicts come back
    in order: a forged signature is found at its own index."""
    info = store.register_log(northland_agreement(), log_signer_key(), T0)
    log = store.log(info.id, log_signer_key())
    log.append(adoptions() + [signed("observers", f"pool-{i}") for i in range(297)], T0)
    source = DatabaseSource(db_url, log.id)
    try:
        report = audit(source, log_key=log.info.public_key, workers=2)
    finally:
        source.close()
    assert report.ok and report.size == 300
    with store.engine.begin() as conn:
        row = _rows(conn, entries, log.id, entries.c.idx)[211]
        envelope = json.loads(row.envelope)
        envelope["signatures"][0]["sig"] = signed("observers", "pool-0")["signatures"][0]["sig"]
        _set_entry(conn, log.id, 211, **_entry_values(envelope, row.integrated_at))
    source = DatabaseSource(db_url, log.id)
    try:
        report = audit(source, log_key=log.info.public_key, workers=2)
    finally:
        source.close()
    first = report.first_problem()
    assert first is not None and first.index == 211 and "bad-signature" in first.message


def test_a_log_that_grows_during_the_audit_verifies(db_url: str, store: Store) -> None:
    """The audit reads one snapshot: appends committed meanwhile neither hide nor break it."""
    import threading

    info = store.register_log(northland_agreement(), log_signer_key(), T0)
    log = store.log(info.id, log_signer_key())
    log.append(adoptions() + [signed("observers", f"live-{i}") for i in range(200)], T0)
    stop = threading.Event()
    appended: list[int] = []

    def grow() -> None:
        i = 0
        while not stop.is_set() and i < 400:
            log.append([signed("observers", f"more-{i + j}") for j in range(5)], T0)
            appended.append(i)
            i += 5

    grower = threading.Thread(target=grow)
    grower.start()
    try:
        reports = [check(db_url, log, witness_keys=[], min_cosignatures=0) for _ in range(3)]
    finally:
        stop.set()
        grower.join()
    assert appended, "the log did not grow during the audit"
    assert [r.problems for r in reports] == [[], [], []]
    assert reports[-1].size >= 203


def test_interlock_verify_detects_mutations(tmp_path: Path) -> None:
    """The same mutations through the command a person runs (`interlock verify --db`, a real
    process, SQLite): a random eight of them, each must exit 1 naming what the audit names
    first (the bad entry, or the checkpoint/key that is wrong); the restored log exits 0."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    store = Store.open(url)
    try:
        log = build(store)
        with store.engine.begin() as conn:
            saved = snapshot(conn, log.id)

        def verify() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [INTERLOCK, "verify", "--db", url, "--log", log.id, "--log-key", log.info.public_key,
                 "--witness-key", WITNESS, "--min-cosignatures", "1", "--workers", "1"],
                capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
                env={**os.environ, "COLUMNS": "80"},
            )

        clean = verify()
        assert clean.returncode == 0, clean.stderr
        assert "26 entries" in clean.stdout and "8 checkpoints" in clean.stdout
        rng = random.Random(20260420)
        for mutation in rng.sample(MUTATIONS, 8):
            with store.engine.begin() as conn:
                mutation(conn, log.id, rng)
            first = check(url, log).first_problem()
            assert first is not None, mutation.__name__
            result = verify()
            assert result.returncode == 1, (mutation.__name__, result.stdout, result.stderr)
            assert "error log-unverified:" in result.stderr, mutation.__name__
            assert f"log {log.id} in " in result.stderr and str(first) in result.stderr, (mutation.__name__,
                                                                                            result.stderr)
            if first.index is not None:
                assert f"entry {first.index}: " in result.stderr
            assert "Traceback" not in result.stderr and "verified" not in result.stdout
            with store.engine.begin() as conn:
                restore(conn, log.id, saved)
        assert verify().returncode == 0
    finally:
        store.close()
