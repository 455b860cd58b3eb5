"""`interlock witness serve`: run a C2SP tlog-witness for one or more interlock logs.

    interlock log keygen --name witness.example --out witness.skey      # the witness's key
    interlock witness serve --key witness.skey --log-key 'example.org/agreement+1a2b3c4d+AQ…' \\
        --db witness.db --port 8001

`--log-key` is a log's verifier key as `interlock log init` or `GET /v1/agreements/{id}`
(`log_key`) prints it; its name is the checkpoint origin the witness follows (write
`ORIGIN=VKEY` if they differ).  On start the witness prints its cosigner verifier key — give
that to the log's operator (`interlock serve --witness URL=KEY`) and to verifiers
(`interlock verify --witness-key KEY`) — and then `listening on http://HOST:PORT`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from interlock.cli.app import app
from interlock.cli.log import read_signer_key

witness_app = typer.Typer(help="Witness interlock logs (C2SP tlog-witness): cosign consistent checkpoints.",
                          no_args_is_help=True)
app.add_typer(witness_app, name="witness")


@witness_app.command("serve")
def serve(
    key: Annotated[Path, typer.Option("--key", help="The witness's note signer key file (interlock log keygen).")],
    log_keys: Annotated[list[str], typer.Option("--log-key", help="A log to follow: VKEY or ORIGIN=VKEY (repeat).")],
    db: Annotated[Path, typer.Option("--db", help="SQLite file keeping the last checkpoint cosigned per log.")] = Path(
        "witness.db"
    ),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free port).")] = 8001,
) -> None:
    """Serve POST /add-checkpoint; cosign only checkpoints consistent with the last one cosigned."""
    from interlock.note import parse_signer_key
    from interlock.server.runner import bind
    from interlock.server.runner import serve as run
    from interlock.witness.app import create_witness_app
    from interlock.witness.core import Witness, parse_trusted_log
    from interlock.witness.state import WitnessState

    signer = parse_signer_key(read_signer_key(key))
    trusted = [parse_trusted_log(spec) for spec in log_keys]
    witness = Witness(signer, trusted, WitnessState(db))
    sock = bind(host, port)
    print(f"witness {signer.name}: cosigner key {witness.vkey}", flush=True)
    for log in trusted:
        print(f"following {log.origin}", file=sys.stderr, flush=True)
    run(create_witness_app(witness), sock)
