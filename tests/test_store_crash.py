"""Crash safety: a writer process is killed with SIGKILL at random moments, many times.

The writer (this file run as a script) appends continuously through `LogWriter` from
several threads and prints each acknowledgement to its stdout pipe only after `submit`
returned it.  The test kills it 15 times at random moments — mostly in the middle of a
batch — and then checks, on each backend, that every acknowledged entry is in the log at
its index, every acknowledged checkpoint is signed and consistent with the tree, every
acknowledged inclusion proof verifies, the whole log passes the audit, and appending goes
on.  A second test runs two writer processes against one log at the same time.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
KILLS = 15


def writer_main(url: str, log_id: str, run: str, threads: int, limit: int, *, processes: int = 0) -> None:
    """Append until killed (or `limit` statements); print one JSON line per acknowledgement."""
    sys.path.insert(0, str(HERE))
    from interlock.store import Ack, LogWriter, Store
    from pg import log_signer_key, signed

    store = Store.open(url)
    log = store.log(log_id, log_signer_key())
    out = threading.Lock()
    per_thread = limit // threads

    def clock() -> datetime:
        return datetime.now(UTC)

    with LogWriter(log, clock, max_delay=0.003, processes=processes) as writer:
        def work(t: int) -> None:
            for i in range(per_thread):
                envelope = signed("observers", f"{run}-{t}-{i}")
                result = writer.submit(envelope)
                if not isinstance(result, Ack):
                    raise SystemExit(f"refused: {result}")
                line = json.dumps({**result.to_json(), "size": result.size, "nonce": f"{run}-{t}-{i}"})
                with out:
                    sys.stdout.write(line + "\n")
                    sys.stdout.flush()

        workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()


def start_writer(url: str, log_id: str, run: str, threads: int = 4, limit: int = 100_000, *,
                 processes: int = 0) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, str(Path(__file__)), url, log_id, run, str(threads), str(limit), str(processes)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def collect(process: subprocess.Popen[str], sink: list[dict[str, Any]], started: threading.Event) -> threading.Thread:
    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.endswith("\n"):  # a line cut by the kill is not an acknowledgement
                sink.append(json.loads(line))
                started.set()
        started.set()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def check_acknowledged(url: str, log_id: str, acks: list[dict[str, Any]]) -> None:
    import base64

    from interlock import tlog
    from interlock.checkpoint import open_checkpoint
    from interlock.store import Ack, Store
    from interlock.store.audit import audit
    from interlock.store.sources import DatabaseSource
    from pg import log_signer_key, signed

    with Store.open(url) as store:
        log = store.log(log_id, log_signer_key())
        size = log.size()
        stored = {e.index: e for e in log.entries(0, size + 1)}
        assert len(stored) == size
        roots: dict[int, bytes] = {}
        for ack in acks:
            entry = stored[ack["index"]]
            statement = json.loads(base64.b64decode(entry.envelope["payload"]))
            assert statement["nonce"] == ack["nonce"]
            assert entry.to_json()["integrated_at"] == ack["integrated_at"]
            checkpoint = open_checkpoint(ack["checkpoint"], log.info.public_key, origin=log.info.origin).checkpoint
            assert checkpoint.size == ack["size"] <= size
            if checkpoint.size not in roots:
                roots[checkpoint.size] = checkpoint.root_hash
                assert log.root(checkpoint.size) == checkpoint.root_hash
                if checkpoint.size < size:
                    tlog.verify_consistency(checkpoint.size, size, checkpoint.root_hash, log.root(size),
                                            log.consistency_proof(checkpoint.size, size))
            proof = [base64.b64decode(h) for h in ack["inclusion_proof"]]
            tlog.verify_inclusion(tlog.leaf_hash(entry.leaf_bytes()), ack["index"], checkpoint.size, proof,
                                  checkpoint.root_hash)
        source = DatabaseSource(url, log_id)
        try:
            report = audit(source, log_key=log.info.public_key, workers=1)
        finally:
            source.close()
        assert report.ok, report.problems
        [after] = log.append([signed("observers", "after-the-crashes")], datetime.now(UTC) + timedelta(seconds=1))
        assert isinstance(after, Ack) and after.index == size


def children(pid: int) -> set[int]:
    """The processes `pid` started (Linux: /proc/PID/task/*/children)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # the task ended meanwhile
            found.update(int(p) for p in (task / "children").read_text().split())
    return found


def test_acknowledged_entries_survive_sigkill(db_url: str) -> None:
    kill_repeatedly(db_url, KILLS, processes=0)


def test_acknowledged_entries_survive_sigkill_with_prepare_workers(db_url: str) -> None:
    """The same with `LogWriter(processes=2)`; the killed writer's workers exit on their own
    (their pipe closes) instead of lingering."""
    kill_repeatedly(db_url, 5, processes=2)


def kill_repeatedly(db_url: str, kills: int, processes: int) -> None:
    from interlock.store import Store
    from pg import T0, adoptions, log_signer_key, northland_agreement

    with Store.open(db_url) as store:
        info = store.register_log(northland_agreement(), log_signer_key(), T0)
        store.log(info.id, log_signer_key()).append(adoptions(), T0)
    seed = int(time.time())
    print(f"kill timing seed {seed}")  # shown by pytest if the test fails
    rng = random.Random(seed)
    acks: list[dict[str, Any]] = []
    for run in range(kills):
        started = threading.Event()
        process = start_writer(db_url, info.id, f"r{run}", processes=processes)
        reader = collect(process, acks, started)
        started.wait(timeout=60)  # the writer is up and acknowledging
        time.sleep(rng.uniform(0.0, 0.25))
        helpers = children(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        reader.join(timeout=30)
        assert process.returncode == -signal.SIGKILL, process.stderr.read() if process.stderr else ""
        if processes:
            assert len(helpers) >= processes  # the workers (and multiprocessing's resource tracker)
            deadline = time.monotonic() + 20
            while any(Path(f"/proc/{pid}").exists() for pid in helpers) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not [pid for pid in helpers if Path(f"/proc/{pid}").exists()], "a worker outlived its writer"
    assert len(acks) >= kills
    check_acknowledged(db_url, info.id, acks)


def test_two_writer_processes_share_one_log(db_url: str) -> None:
    from interlock.store import Store
    from pg import T0, adoptions, log_signer_key, northland_agreement

    with Store.open(db_url) as store:
        info = store.register_log(northland_agreement(), log_signer_key(), T0)
        store.log(info.id, log_signer_key()).append(adoptions(), T0)
    acks: list[dict[str, Any]] = []
    processes = [start_writer(db_url, info.id, f"p{n}", threads=3, limit=60) for n in range(2)]
    readers = [collect(p, acks, threading.Event()) for p in processes]
    for process, reader in zip(processes, readers, strict=True):
        assert process.wait(timeout=120) == 0, process.stderr.read() if process.stderr else ""
        reader.join(timeout=30)
    assert len(acks) == 120
    assert sorted(a["index"] for a in acks) == list(range(3, 123))
    check_acknowledged(db_url, info.id, acks)


if __name__ == "__main__":
    writer_main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), processes=int(sys.argv[6]))
