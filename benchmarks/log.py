"""Benchmark of the transparency log (not a test): one run, figures printed as Markdown.

    .venv/bin/python benchmarks/log.py [--entries 20000] [--tree 1000000] [--quick]

Reports, on this machine:
1. the limits — bare Ed25519 verifications/s (PyNaCl, one core, a real statement's DSSE
   PAE) and RFC 9162 node hashes/s (`interlock.tlog.node_hash`);
2. append throughput of signed statements through `LogWriter` (group commit, 8 submitting
   threads) on SQLite (WAL, synchronous=FULL) and on PostgreSQL (a throwaway cluster with
   PostgreSQL's durable defaults: fsync, synchronous_commit), preparing in worker processes
   (one per core, `processes=N`) and in the submitting threads (`processes=0`);
3. inclusion and consistency proof latency (p50, p99, through `Log.inclusion_proof` /
   `Log.consistency_proof`, i.e. one SQL query each) in a log of 1,000,000 entries — the
   tree's rows are bulk-loaded from synthetic leaves, since proofs read only the tree;
4. the full `verify` rate (audit of the appended SQLite log: leaves, tree, nodes,
   checkpoints, signatures on every core, authorisation, status).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from interlock import tlog  # noqa: E402
from interlock.checkpoint import Checkpoint, sign_checkpoint  # noqa: E402
from interlock.statements import open_envelope  # noqa: E402
from interlock.statements.dsse import PAYLOAD_TYPE, pae  # noqa: E402
from interlock.store import LogWriter, Store, log_signer  # noqa: E402
from interlock.store.audit import audit  # noqa: E402
from interlock.store.schema import checkpoints  # noqa: E402
from interlock.store.sources import DatabaseSource  # noqa: E402
from pg import PgCluster, adoptions, log_signer_key, northland_agreement, signed  # noqa: E402

T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def best_of(runs: int, work: Any) -> float:
    return min(work() for _ in range(runs))


# --- 1. the limits -----------------------------------------------------------------------------


def bare_verify_rate(samples: int = 5000) -> float:
    from nacl.signing import VerifyKey

    from interlock.statements.keys import public_key

    envelopes = [signed("observers", f"bare-{i}") for i in range(samples)]
    key = VerifyKey(public_key(hashlib.sha256(b"observers").digest()))
    opened = [open_envelope(e) for e in envelopes]
    messages = [(pae(PAYLOAD_TYPE, o.payload), o.sig) for o in opened]

    def run() -> float:
        start = time.perf_counter()
        for message, sig in messages:
            key.verify(message, sig)
        return time.perf_counter() - start

    return samples / best_of(3, run)


def node_hash_rate(samples: int = 300_000) -> float:
    left, right = hashlib.sha256(b"l").digest(), hashlib.sha256(b"r").digest()
    node_hash = tlog.node_hash

    def run() -> float:
        start = time.perf_counter()
        for _ in range(samples):
            node_hash(left, right)
        return time.perf_counter() - start

    return samples / best_of(3, run)


# --- 2. appends -----------------------------------------------------------------------------------


def append_rate(
    url: str, envelopes: list[dict[str, Any]], processes: int, threads: int = 8
) -> tuple[float, float, Any]:
    """(appends/s, mean batch size, the log) for `envelopes` submitted through a LogWriter
    (its worker processes are started and warm before the clock starts)."""
    store = Store.open(url, pool_size=4)
    info = store.register_log(northland_agreement(), log_signer_key(), T0)
    log = store.log(info.id, log_signer_key())
    log.append(adoptions(), T0)
    chunks = [envelopes[i::threads] for i in range(threads)]
    failures: list[Any] = []
    with LogWriter(log, lambda: datetime.now(UTC), processes=processes) as writer:
        writer.submit(signed("observers", "warm-up"))
        before = log.count_rows()["checkpoints"]
        start = time.perf_counter()

        def work(chunk: list[dict[str, Any]]) -> None:
            futures = [writer.submit_future(e) for e in chunk]
            failures.extend(r for r in (f.result() for f in futures) if not hasattr(r, "inclusion_proof"))

        workers = [threading.Thread(target=work, args=(c,)) for c in chunks]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - start
    if failures:
        raise SystemExit(f"refused during the benchmark: {failures[:3]}")
    batches = log.count_rows()["checkpoints"] - before
    return len(envelopes) / elapsed, len(envelopes) / batches, (store, log)


# --- 3. proofs at 1,000,000 entries ---------------------------------------------------------------


def load_big_tree(url: str, size: int) -> Any:
    """A log whose tree holds `size` synthetic leaves: every complete subtree row and a
    signed checkpoint, bulk-loaded (proofs read nothing else)."""
    store = Store.open(url)
    info = store.register_log(northland_agreement(), log_signer_key(), T0, log_id="big", origin="bench.test/big")
    border = tlog.CompactRange()
    rows: list[tuple[str, int, int, bytes]] = []
    for i in range(size):
        leaf = hashlib.sha256(b"\x00" + i.to_bytes(8, "big")).digest()
        rows.extend(("big", level, index, value) for level, index, value in border.append(leaf))
    root = border.root()
    note = sign_checkpoint(Checkpoint(info.origin, size, root), log_signer(log_signer_key(), info.origin)).decode()
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if store.engine.dialect.name == "postgresql":
            with cursor.copy("COPY nodes (log_id, level, idx, hash) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.execute("BEGIN")
            cursor.executemany("INSERT INTO nodes (log_id, level, idx, hash) VALUES (?, ?, ?, ?)", rows)
        raw.commit()
    finally:
        raw.close()
    with store.engine.begin() as conn:
        conn.execute(checkpoints.insert(), {"log_id": "big", "size": size, "root": root, "note": note,
                                            "created_at": "2026-03-03T08:00:00Z"})
        if store.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE nodes")
    return store, store.log("big"), root


def proof_latency(log: Any, size: int, root: bytes, samples: int = 2000, runs: int = 3) -> dict[str, float]:
    """p50/p99 in ms of `runs` runs of `samples` random proofs each; the best run counts (this
    machine is shared, and a neighbour's burst is not the log's latency).  The process's
    objects are frozen out of the garbage collector first, as a long-running server would."""
    gc.collect()
    gc.freeze()
    results = [_proof_latency(log, size, root, samples, seed) for seed in range(runs)]
    return {key: min(r[key] for r in results) for key in results[0]}


def _proof_latency(log: Any, size: int, root: bytes, samples: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    inclusion: list[float] = []
    consistency: list[float] = []
    for _ in range(samples):
        index = rng.randrange(size)
        start = time.perf_counter()
        proof = log.inclusion_proof(index, size)
        inclusion.append(time.perf_counter() - start)
        if len(inclusion) <= 20:
            leaf = hashlib.sha256(b"\x00" + index.to_bytes(8, "big")).digest()
            tlog.verify_inclusion(leaf, index, size, proof, root)
        old = rng.randrange(1, size)
        start = time.perf_counter()
        log.consistency_proof(old, size)
        consistency.append(time.perf_counter() - start)

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1] * 1000

    return {"incl_p50": pct(inclusion, 50), "incl_p99": pct(inclusion, 99),
            "cons_p50": pct(consistency, 50), "cons_p99": pct(consistency, 99)}


# --- 4. verify ------------------------------------------------------------------------------------


def verify_rate(url: str, log: Any, workers: int | None) -> float:
    source = DatabaseSource(url, log.id)
    try:
        start = time.perf_counter()
        report = audit(source, log_key=log.info.public_key, workers=workers)
        elapsed = time.perf_counter() - start
    finally:
        source.close()
    if not report.ok:
        raise SystemExit(f"the benchmark log does not verify: {report.problems[:3]}")
    return report.size / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=20_000, help="signed statements to append per backend")
    parser.add_argument("--tree", type=int, default=1_000_000, help="tree size for the proof latencies")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script works")
    args = parser.parse_args()
    if args.quick:
        args.entries, args.tree = 2000, 20_000
    cores = os.cpu_count() or 1
    print(f"# interlock log benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {cores} cores, "
          f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    verify_limit = bare_verify_rate()
    hash_limit = node_hash_rate()
    print(f"- bare Ed25519 verification (PyNaCl, 1 core): {verify_limit:,.0f}/s", flush=True)
    print(f"- RFC 9162 node hash (SHA-256): {hash_limit:,.0f}/s", flush=True)

    envelopes = [signed("observers", f"bench-{i}") for i in range(args.entries)]
    cluster = PgCluster(durable=True).start()
    results: dict[tuple[str, int], Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="interlock-bench-") as tmp:
            sqlite_url = f"sqlite:///{tmp}/bench.db"
            pg_url = cluster.create_database("bench")
            runs = [("SQLite", sqlite_url, cores), ("PostgreSQL", pg_url, cores),
                    ("SQLite", f"sqlite:///{tmp}/threads.db", 0),
                    ("PostgreSQL", cluster.create_database("threads"), 0)]
            for name, url, processes in runs:
                per_second, batch, (store, log) = append_rate(url, envelopes, processes)
                results[name, processes] = (per_second, batch)
                mode = f"{processes} worker processes" if processes else "prepared in the submitting threads"
                print(f"- append via LogWriter, {name}, {mode}: {per_second:,.0f}/s "
                      f"({per_second / verify_limit:.0%} of bare verification; mean batch {batch:.0f})", flush=True)
                if name == "SQLite" and processes:
                    all_cores = verify_rate(url, log, None)
                    one_core = verify_rate(url, log, 1)
                    print(f"- verify (audit of {args.entries + 3:,} entries), {cores} cores: {all_cores:,.0f}/s "
                          f"({all_cores / verify_limit:.0%} of bare verification); 1 core: {one_core:,.0f}/s",
                          flush=True)
                store.close()
            for name, url in (("SQLite", f"sqlite:///{tmp}/big.db"), ("PostgreSQL", cluster.create_database("big"))):
                start = time.perf_counter()
                store, log, root = load_big_tree(url, args.tree)
                loaded = time.perf_counter() - start
                lat = proof_latency(log, args.tree, root)
                print(f"- proofs at {args.tree:,} entries, {name} (tree loaded in {loaded:.0f} s): inclusion "
                      f"p50 {lat['incl_p50']:.3f} ms, p99 {lat['incl_p99']:.3f} ms; consistency p50 "
                      f"{lat['cons_p50']:.3f} ms, p99 {lat['cons_p99']:.3f} ms", flush=True)
                store.close()
    finally:
        cluster.stop()
    print(f"- load average {os.getloadavg()[0]:.2f} at the end (other work on this machine skews the figures)")


if __name__ == "__main__":
    main()
