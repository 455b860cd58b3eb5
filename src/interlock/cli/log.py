"""`interlock log keygen | init | append | list`: run a log in a database without a server.

keygen writes a note signer key (`PRIVATE+KEY+name+hexid+base64`, mode 0600) and prints its
verifier key.  init registers an agreement's log (signed empty checkpoint) and prints the
log's verifier key — the key everyone who verifies the log must trust.  append logs signed
envelopes through the same `Log` service the server uses and prints one JSON line per
envelope: the acknowledgement or the refusal (exit 1 if any was refused).  The store is
imported lazily so that `interlock --help` stays fast.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from interlock.cli.app import app, read_input, read_text
from interlock.errors import InputFileError, NoteKeyError

log_app = typer.Typer(help="Run a transparency log in a database (SQLite or PostgreSQL).", no_args_is_help=True)
app.add_typer(log_app, name="log")

DbOption = Annotated[str, typer.Option("--db", help="sqlite:///file.db or postgresql://user@host/db")]
LogIdOption = Annotated[str | None, typer.Option("--log", help="Log id (default: the only log in the database).")]


def read_signer_key(path: Path) -> str:
    """The note signer key in a key file (first line that is not a `#` comment)."""
    for line in read_text(path).splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.strip()
    raise NoteKeyError(f"{path} holds no note signer key (PRIVATE+KEY+name+hexid+base64)")


def read_verifier_key(value: str) -> str:
    """A verifier key given inline (name+hexid+base64) or as a file holding it."""
    path = Path(value)
    if "+" not in value or path.is_file():
        for line in read_text(path).splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                return line.strip()
        raise NoteKeyError(f"{path} holds no verifier key (name+hexid+base64)")
    return value


def _only_log(store: Any, log_id: str | None) -> str:
    if log_id is not None:
        return log_id
    from interlock.errors import UnknownLogError

    ids = [info.id for info in store.list_logs()]
    if len(ids) != 1:
        raise UnknownLogError(f"the database holds {len(ids)} logs; name one with --log ({', '.join(ids) or 'none'})")
    return str(ids[0])


def read_envelopes(path: Path) -> list[Any]:
    """One JSON envelope per file, or JSON lines of envelopes (or entries-file lines)."""
    text = read_input(path).decode("utf-8", errors="strict") if str(path) == "-" else read_text(path)
    stripped = text.strip()
    try:
        values = [json.loads(stripped)] if stripped.startswith("{") and "\n{" not in stripped else [
            json.loads(line) for line in text.splitlines() if line.strip()
        ]
    except ValueError as exc:
        raise InputFileError(f"{path}: not JSON ({exc})") from None
    return [v["envelope"] if isinstance(v, dict) and "envelope" in v and "payload" not in v else v for v in values]


@log_app.command("keygen")
def keygen(
    name: Annotated[str, typer.Option("--name", help="Key name, e.g. the server's host name (no spaces or '+').")],
    out: Annotated[Path | None, typer.Option("--out", help="Signer key file to create (default: NAME.skey).")] = None,
) -> None:
    """Make a log signer key (C2SP note key): write the private file, print the verifier key."""
    from interlock.cli.keys import write_new_file
    from interlock.note import new_signer_key

    skey, vkey = new_signer_key(name)
    path = out if out is not None else Path(re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".skey")
    write_new_file(path, f"# interlock log signer key {name}\n{skey}\n")
    print(f"wrote {path} (log signer key, mode 0600; keep it secret)", file=sys.stderr)
    sys.stdout.write(vkey + "\n")


@log_app.command("init")
def init(
    db: DbOption,
    agreement: Annotated[Path, typer.Option("--agreement", help="The agreement file (YAML).")],
    log_key: Annotated[Path, typer.Option("--log-key", help="The operator's log signer key file.")],
    origin: Annotated[
        str | None, typer.Option("--origin", help="Checkpoint origin (default KEYNAME/AGREEMENT-ID).")
    ] = None,
    log_id: Annotated[str | None, typer.Option("--id", help="Log id (default: the agreement's id).")] = None,
) -> None:
    """Register the log of an agreement; prints its id, origin and verifier key."""
    from interlock.store import Store

    document = read_input(agreement)
    skey = read_signer_key(log_key)
    with Store.open(db) as store:
        info = store.register_log(document, skey, datetime.now(UTC), log_id=log_id, origin=origin)
    sys.stdout.write(json.dumps(info.to_json(), indent=2) + "\n")
    print(f"log {info.id} created; verifiers must trust the log key {info.public_key}", file=sys.stderr)


@log_app.command("append")
def append(
    db: DbOption,
    files: Annotated[
        list[Path], typer.Argument(help="Envelope files (one JSON envelope, or JSON lines); - for stdin.")
    ],
    log_key: Annotated[Path, typer.Option("--log-key", help="The operator's log signer key file.")],
    log_id: LogIdOption = None,
) -> None:
    """Append signed statements; prints one JSON acknowledgement or refusal per envelope."""
    from interlock.store import Ack, Store

    envelopes = [env for path in files for env in read_envelopes(path)]
    skey = read_signer_key(log_key)
    with Store.open(db) as store:
        log = store.log(_only_log(store, log_id), skey)
        results = log.append(envelopes, datetime.now(UTC))
    refused = 0
    for result in results:
        sys.stdout.write(json.dumps(result.to_json(), separators=(",", ":")) + "\n")
        refused += not isinstance(result, Ack)
    sys.stdout.flush()
    if refused:
        print(f"{refused} of {len(results)} statements refused; nothing of them was logged", file=sys.stderr)
        raise typer.Exit(1)


@log_app.command("list")
def list_logs(db: DbOption) -> None:
    """List the logs in a database with their sizes and verifier keys."""
    from interlock.store import Store

    with Store.open(db) as store:
        for info in store.list_logs():
            size = store.log(info.id).size()
            sys.stdout.write(json.dumps({**info.to_json(), "size": size}) + "\n")
