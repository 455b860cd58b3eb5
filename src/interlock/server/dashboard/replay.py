"""Replay a signed scenario into a fresh log through the real HTTP API, on the scenario's clock.

`interlock demo` uses this to build its log: the server (`create_app`, the same application
`interlock serve` runs) listens on a loopback port with a clock that reads the time the
scenario says each entry was integrated; the agreement is registered with an operator-signed
request and every envelope is POSTed to `/v1/agreements/{id}/entries` like any client would.
So every statement passes admission and the engine's authorisation exactly as a live one
does, and the log ends byte-identical to the entries file — which `replay` checks by
comparing the served checkpoint's root with the root computed from the file.

I/O: a database, a socket, a thread running uvicorn.  Raises `InterlockError` subclasses.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from interlock.errors import InterlockError, ReplayError
from interlock.statements import Entry, parse_entries

#: How long before its first entry the scenario's agreement is registered.
REGISTER_LEAD = timedelta(hours=1)


@dataclass(frozen=True)
class ReplayResult:
    agreement_id: str
    size: int
    root: bytes
    last_time: datetime | None


class ScenarioClock:
    """A clock the replay moves forward by hand (thread-safe reads of one attribute)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def replay(db_url: str, log_key: str, agreement_source: bytes, entries_text: str, operator_seed: bytes) -> ReplayResult:
    """Register `agreement_source` in the (empty) store at `db_url` and append every entry of
    `entries_text` through HTTP, each at its own `integrated_at`.  Raises `ReplayError` when the
    server refuses an entry or the resulting log differs from the file."""
    import uvicorn

    from interlock.client import Client
    from interlock.server.app import create_app
    from interlock.server.runner import bind, url_of
    from interlock.server.settings import RateLimit, ServerSettings
    from interlock.statements.keys import public_key_b64
    from interlock.tlog import root_hash

    entries = parse_entries(entries_text)
    start = (entries[0].integrated_at if entries else datetime.now().astimezone()) - REGISTER_LEAD
    clock = ScenarioClock(start)
    generous = RateLimit(per_minute=1_000_000, burst=100_000)  # the replay is one fast client
    settings = ServerSettings(
        operator_keys=(public_key_b64(operator_seed),), key_rate=generous, address_rate=generous,
    )
    app = create_app(db_url, log_key, settings=settings, clock=clock)
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="demo-replay", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise ReplayError("the replay server did not start")
            time.sleep(0.02)
        with Client(url_of(sock)) as client:
            info = client.register(agreement_source, operator_seed, now=start.timestamp())
            agreement_id = str(info["id"])
            for entry in entries:
                _append(client, clock, agreement_id, entry)
            served = client.checkpoint(agreement_id)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
    expected = root_hash([e.leaf_bytes() for e in entries])
    lines = served.split("\n")
    if len(lines) < 3 or lines[1] != str(len(entries)) or base64.b64decode(lines[2]) != expected:
        raise ReplayError("the replayed log does not match the entries file (size or root differs)")
    return ReplayResult(agreement_id, len(entries), expected, entries[-1].integrated_at if entries else None)


def _append(client: object, clock: ScenarioClock, agreement_id: str, entry: Entry) -> None:
    from interlock.client import Client

    assert isinstance(client, Client)
    if entry.envelope is None:
        raise ReplayError(f"entry {entry.index} is unsigned; only signed scenarios can be replayed")
    clock.now = entry.integrated_at
    try:
        ack = client.submit(agreement_id, entry.envelope)
    except InterlockError as err:
        raise ReplayError(f"the server refused entry {entry.index}: {err.message}") from None
    if ack.get("index") != entry.index:
        raise ReplayError(f"entry {entry.index} was logged as {ack.get('index')}: the log was not empty")
