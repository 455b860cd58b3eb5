"""Test kit for the server, witness and mirror tests: real processes on loopback, keys, statements.

Every process is the real `interlock` command started with `--port 0`; the kit reads the
`listening on http://…` line it prints, so no port is ever guessed.  Every wait is bounded.
Statements are the conformance world's (tests/data/northland, keys `seed_of(participant)`),
signed now, with fresh nonces.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import os
import queue
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from interlock.agreement import load_agreement
from interlock.checkpoint import open_checkpoint
from interlock.note import new_signer_key
from interlock.server.operator import authorization_header
from interlock.statements import Entry, sign_statement
from interlock.statements.keys import key_file_text, public_key_b64
from interlock.store import log_signer
from interlock.timeutil import format_timestamp, parse_timestamp
from interlock.tlog import leaf_hash, verify_inclusion

DATA = Path(__file__).parent / "data"
AGREEMENT = (DATA / "northland" / "agreement.yaml").read_bytes()
AGREEMENT_ID = "northland-southland-2026"
INTERLOCK = [sys.executable, "-c", "from interlock.cli import main; main()"]
LOG_SEED = hashlib.sha256(b"server tests log key").digest()
OPERATOR_SEED = hashlib.sha256(b"server tests operator").digest()
PARTIES = ("north", "south", "east", "observers", "red-cross")
_counter = itertools.count()


def seed_of(participant: str) -> bytes:
    return hashlib.sha256(participant.encode()).digest()


def log_skey(name: str = "log.test") -> str:
    return new_signer_key(name, seed=LOG_SEED)[0]


def log_vkey(origin: str = f"log.test/{AGREEMENT_ID}") -> str:
    """The verifier key of the log with `origin` signed by `log_skey()` (known before it exists)."""
    return log_signer(log_skey(), origin).verifier.vkey


def agreement_hash() -> str:
    return load_agreement(AGREEMENT).hash


def now_text() -> str:
    return format_timestamp(datetime.now(UTC).replace(microsecond=0))


def statement(author: str, kind: str = "note", body: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """The statement JSON (unsigned) with fresh nonce and issued_at now; `fields` override."""
    data: dict[str, Any] = {
        "type": kind, "agreement": agreement_hash(), "author": author, "key": f"{author}-1",
        "issued_at": now_text(), "nonce": f"n{next(_counter)}-{secrets.token_hex(6)}",
        "body": body if body is not None else ({"text": f"note by {author}"} if kind == "note" else {}),
    }
    data.update(fields)
    return data


def signed(author: str, kind: str = "note", body: dict[str, Any] | None = None, *, seed: bytes | None = None,
           key_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A DSSE envelope of `statement(...)`, signed with `seed` (default: the author's own)."""
    data = statement(author, kind, body, **fields)
    return sign_statement(data, key_id or data["key"], seed if seed is not None else seed_of(author))


def adoptions() -> list[dict[str, Any]]:
    return [signed(p, "adopt") for p in ("north", "south", "east")]


def write_keys(directory: Path) -> dict[str, Path]:
    """Key files: the log signer key, the operator key and each participant's key."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"log": directory / "log.skey", "operator": directory / "operator.key"}
    paths["log"].write_text(log_skey() + "\n")
    paths["operator"].write_text(key_file_text(OPERATOR_SEED, "operator"))
    for party in PARTIES:
        paths[party] = directory / f"{party}.key"
        paths[party].write_text(key_file_text(seed_of(party), f"{party}-1"))
    return paths


def operator_key() -> str:
    return public_key_b64(OPERATOR_SEED)


def register_headers(body: bytes = AGREEMENT) -> dict[str, str]:
    return {
        "Authorization": authorization_header(OPERATOR_SEED, "POST", "/v1/agreements", int(time.time()), body),
        "Content-Type": "application/yaml",
    }


class Proc:
    """An `interlock` sub-command as a real process; stdout lines are collected as they come."""

    def __init__(self, args: list[str], workdir: Path, name: str = "proc", env: dict[str, str] | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.stderr_path = workdir / f"{name}.stderr"
        self._stderr = self.stderr_path.open("w")
        self.popen = subprocess.Popen(
            [*INTERLOCK, *args], stdout=subprocess.PIPE, stderr=self._stderr, text=True, cwd=workdir,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.url = ""

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, prefix: str, timeout: float = 30.0) -> str:
        """The first stdout line starting with `prefix` (bounded wait; fails with stderr shown)."""
        for line in self.lines:
            if line.startswith(prefix):
                return line
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                got = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if got is None:
                break
            if got.startswith(prefix):
                return got
        raise AssertionError(f"{self.name} printed no {prefix!r} line; stderr:\n{self.stderr()[-3000:]}")

    def started(self, timeout: float = 30.0) -> Proc:
        self.url = self.wait_for("listening on ", timeout).removeprefix("listening on ").strip()
        return self

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def wait(self, timeout: float = 60.0) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        finally:
            self._stderr.close()

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=timeout)
        self._stderr.close()
        return self.popen.returncode


def run_cli(args: list[str], workdir: Path, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*INTERLOCK, *args], capture_output=True, text=True, cwd=workdir, timeout=timeout,
                          check=False)


def start_server(workdir: Path, db_url: str, *extra: str, name: str = "server") -> Proc:
    keys = write_keys(workdir / "keys")
    args = ["serve", "--db", db_url, "--log-key", str(keys["log"]), "--port", "0",
            "--operator-key", operator_key(), *extra]
    return Proc(args, workdir, name).started()


def until(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def check_ack(ack: dict[str, Any], envelope: dict[str, Any], vkey: str) -> int:
    """Verify an acknowledgement: its checkpoint's log signature and the entry's inclusion proof."""
    signed_cp = open_checkpoint(ack["checkpoint"], vkey)
    entry = Entry(ack["index"], parse_timestamp(ack["integrated_at"]), envelope=envelope)
    proof = [base64.b64decode(h) for h in ack["inclusion_proof"]]
    verify_inclusion(leaf_hash(entry.leaf_bytes()), ack["index"], signed_cp.checkpoint.size, proof,
                     signed_cp.checkpoint.root_hash)
    return signed_cp.checkpoint.size


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@contextlib.contextmanager
def registered_app(db: Path, agreement: bytes = AGREEMENT, clock: Any = None) -> Iterator[Any]:
    """A `TestClient` of a real app (API and dashboard) over SQLite at `db`, with `agreement`
    registered by the operator; `clock` is a dashboard `ScenarioClock`, or None for the real
    clock."""
    from fastapi.testclient import TestClient

    from interlock.server.app import create_app
    from interlock.server.settings import ServerSettings

    settings = ServerSettings(operator_keys=(operator_key(),))
    app = create_app(f"sqlite:///{db}", log_skey(), settings=settings, **({"clock": clock} if clock else {}))
    with TestClient(app) as client:
        signed_at = int(clock.now.timestamp()) if clock else int(time.time())
        auth = authorization_header(OPERATOR_SEED, "POST", "/v1/agreements", signed_at, agreement)
        registered = client.post("/v1/agreements", content=agreement,
                                 headers={"Authorization": auth, "Content-Type": "application/yaml"})
        assert registered.status_code == 201, registered.text
        yield client


@contextlib.contextmanager
def logged_app(
    db: Path, agreement: bytes, entries: Iterable[tuple[datetime, str, str, dict[str, Any], str]],
    clock: Any, now: datetime,
) -> Iterator[Any]:
    """`registered_app` on the test's `clock`, then each (time, author, type, body, agreement
    hash named) statement signed and posted at its time; the clock then reads `now`."""
    with registered_app(db, agreement, clock) as client:
        agreement_id = load_agreement(agreement).id
        for at, author, kind, body, version in entries:
            clock.now = at
            envelope = signed(author, kind, body, agreement=version, issued_at=format_timestamp(at))
            posted = client.post(f"/v1/agreements/{agreement_id}/entries", json=envelope)
            assert posted.status_code == 201, posted.text
        clock.now = now
        yield client
