"""Several writers at once, on SQLite (one worker) and PostgreSQL (two worker processes).

Every acknowledged entry must be in the log exactly once at the index its acknowledgement
names, the indices dense, every acknowledgement's inclusion proof valid for the checkpoint
it carries, and every such checkpoint consistent with the final one.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from interlock.checkpoint import open_checkpoint
from interlock.client import Client
from interlock.tlog import root_hash, verify_consistency
from serverkit import (
    AGREEMENT,
    AGREEMENT_ID,
    PARTIES,
    adoptions,
    check_ack,
    dumps,
    log_vkey,
    register_headers,
    signed,
    start_server,
    until,
)

WRITERS = 6
EACH = 12
LIMITS = ("--key-rate", "100000", "--key-burst", "100000", "--address-rate", "100000", "--address-burst", "100000")


def prepare_workers(server_pid: int) -> set[int]:
    """Pids of the processes `multiprocessing` spawned under a server, directly or under a
    uvicorn worker: with one uvicorn worker, exactly the `--prepare-processes` workers (the
    resource tracker is started another way)."""
    found: set[int] = set()
    parents = {server_pid}
    for _ in range(2):
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) in parents:
                pid = int(stat.parent.name)
                parents.add(pid)
                if b"spawn_main" in cmdline:
                    found.add(pid)
    return found


@pytest.mark.parametrize(("backend", "prepare"), [("sqlite", 0), ("postgresql", 0), ("sqlite", 2)])
def test_concurrent_writers_every_ack_once_dense_and_provable(
    backend: str, prepare: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """With `--prepare-processes 2` the same holds, the workers exist while the server runs
    and are gone once it stops."""
    if backend == "sqlite":
        db_url, workers = f"sqlite:///{tmp_path / 'log.db'}", "1"
    else:
        db_url, workers = request.getfixturevalue("pg_cluster").create_database(), "2"
    server = start_server(tmp_path, db_url, "--workers", workers, "--prepare-processes", str(prepare), *LIMITS)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            assert http.post("/v1/agreements", content=AGREEMENT, headers=register_headers()).status_code == 201
            for envelope in adoptions():
                post = http.post(f"/v1/agreements/{AGREEMENT_ID}/entries", content=dumps(envelope),
                                 headers={"Content-Type": "application/json"})
                assert post.status_code == 201, post.text
        acks: list[tuple[dict[str, Any], dict[str, Any]]] = []
        failures: list[str] = []
        lock = threading.Lock()

        def writer(number: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                for i in range(EACH):
                    envelope = signed(PARTIES[(number + i) % len(PARTIES)], body={"text": f"writer {number} #{i}"})
                    response = http.post(f"/v1/agreements/{AGREEMENT_ID}/entries", content=dumps(envelope),
                                         headers={"Content-Type": "application/json"})
                    with lock:
                        if response.status_code == 201:
                            acks.append((response.json(), envelope))
                        else:
                            failures.append(response.text)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not failures
        assert len(acks) == WRITERS * EACH

        with Client(server.url) as client:
            entries = list(client.iter_entries(AGREEMENT_ID, page=37))
            final = open_checkpoint(client.checkpoint(AGREEMENT_ID), log_vkey()).checkpoint
            total = 3 + WRITERS * EACH
            assert [e.index for e in entries] == list(range(total))  # dense, each once
            assert final.size == total
            leaves = [e.leaf_bytes() for e in entries]
            assert root_hash(leaves) == final.root_hash
            assert len({ack["index"] for ack, _ in acks}) == len(acks)
            sizes = set()
            for ack, envelope in acks:
                assert entries[ack["index"]].envelope == envelope  # the acknowledged statement, there
                sizes.add(check_ack(ack, envelope, log_vkey()))
            assert len(sizes) > 1  # group commit made several checkpoints
            for size in sorted(sizes - {total}):
                proof = client.consistency_proof(AGREEMENT_ID, size, total)
                verify_consistency(size, total, root_hash(leaves[:size]), final.root_hash, proof)
        helpers = prepare_workers(server.popen.pid)
        if workers == "1":
            assert len(helpers) == prepare
    finally:
        server.stop()
    if prepare:
        until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in helpers), timeout=15)
