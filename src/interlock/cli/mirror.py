"""`interlock mirror`: keep a verified copy of a server's logs; optionally serve it.

    interlock mirror --server http://log.example:8000 --db sqlite:///mirror.db \\
        --log-key 'log.example/plan+1a2b3c4d+AQ…' --witness-key 'witness-a+…' --serve --port 8100

Follows every agreement on the server (or those named with `--log`), verifying every
entry, proof, checkpoint and status as it copies (see `interlock.mirror`).  `--once` stops
when caught up.  `--serve` also serves the same read API (and dashboard) from the copy,
printing `listening on http://HOST:PORT`.  Exit codes: 0 caught up (`--once`) or stopped;
1 something did not verify; 3 ALARM — the server showed two histories; the evidence (both
signed checkpoints) is saved as `split-view-*.json` in `--alarm-dir`.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from interlock.cli.app import app, report_error
from interlock.errors import InterlockError, MirrorContradictionError

ALARM_EXIT = 3


@app.command()
def mirror(
    *,
    server: Annotated[str, typer.Option("--server", help="The interlock server to copy.")],
    db: Annotated[str, typer.Option("--db", help="The mirror's database: sqlite:///mirror.db or postgresql://…")],
    agreement: Annotated[list[str] | None, typer.Option("--log", help="Only this agreement id (repeat).")] = None,
    log_key: Annotated[
        list[str] | None, typer.Option("--log-key", help="Trusted log verifier key (repeat); default: pin the first.")
    ] = None,
    witness_key: Annotated[
        list[str] | None, typer.Option("--witness-key", help="A witness's verifier key (repeat).")
    ] = None,
    min_cosignatures: Annotated[int, typer.Option(min=0, help="Take only checkpoints this well cosigned.")] = 0,
    alarm_dir: Annotated[Path, typer.Option("--alarm-dir", help="Where split-view evidence is written.")] = Path("."),
    interval: Annotated[float, typer.Option(min=0.05, help="Seconds between rounds when nothing is new.")] = 2.0,
    once: Annotated[bool, typer.Option("--once", help="Stop when caught up.")] = False,
    serve: Annotated[bool, typer.Option("--serve", help="Also serve the read API from the copy.")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on with --serve.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port with --serve (0: any free port).")] = 8100,
) -> None:
    """Copy and verify a server's logs; stop with an ALARM (exit 3) if the server contradicts itself."""
    from interlock.client import Client
    from interlock.mirror import Mirror
    from interlock.store import Store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    store = Store.open(db)
    client = Client(server)
    follower = Mirror(
        client, store, only=agreement or (), log_keys=log_key or (), witness_keys=witness_key or (),
        min_cosignatures=min_cosignatures, alarm_dir=alarm_dir,
    )
    if not serve:
        try:
            follower.run(interval=interval, once=once)
        except MirrorContradictionError as err:
            _alarm(err)
        finally:
            client.close()
            store.close()
        return
    _follow_and_serve(follower, db, host, port, interval)


def _alarm(err: MirrorContradictionError) -> None:
    print(f"ALARM {err.code}: {err.message}", file=sys.stderr, flush=True)
    raise typer.Exit(ALARM_EXIT)


def _follow_and_serve(follower: object, db: str, host: str, port: int, interval: float) -> None:
    from interlock.mirror import Mirror
    from interlock.server.app import create_mirror_app
    from interlock.server.runner import bind
    from interlock.server.runner import serve as run

    assert isinstance(follower, Mirror)
    failure: list[InterlockError] = []
    stop = threading.Event()

    def follow() -> None:
        try:
            follower.run(interval=interval, should_stop=stop.is_set)
        except InterlockError as err:
            failure.append(err)
            os.kill(os.getpid(), signal.SIGTERM)  # stop serving a copy that can no longer be trusted

    sock = bind(host, port)
    thread = threading.Thread(target=follow, name="mirror-follower", daemon=True)
    thread.start()
    run(create_mirror_app(db), sock)
    stop.set()
    if failure:
        err = failure[0]
        if isinstance(err, MirrorContradictionError):
            _alarm(err)
        report_error(err)
        raise typer.Exit(1)
