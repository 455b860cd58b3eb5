"""`interlock serve`, `interlock register`, `interlock submit`: run the server, talk to it.

    interlock log keygen --name log.example.org --out log.skey
    interlock keygen --id operator --out operator.key          # prints the operator's public key
    interlock serve --db sqlite:///log.db --log-key log.skey --operator-key BASE64 --port 8000
    interlock register --server http://127.0.0.1:8000 --operator-key operator.key plan.yaml
    interlock submit --server http://127.0.0.1:8000 --key north.key --type adopt --body '{}'

`serve` prints `listening on http://HOST:PORT` once the socket is bound (`--port 0` picks a
free port).  SQLite serves with one worker process; several workers need PostgreSQL.
`submit` signs exactly as `interlock sign` does (`cli.keys.build_statement`), against the
agreement file given with `--agreement` or, without it, the document the server serves
(whose hash is checked against the server's claim).  Refusals print `error CODE: message`
and exit 1.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from interlock.cli.app import app, read_input, read_text
from interlock.errors import KeyIdMissingError, KeyMismatchError, ServerRefusedError, UnknownAgreementError

ServerOption = Annotated[str, typer.Option("--server", help="The interlock server, e.g. http://127.0.0.1:8000")]


def parse_witness(spec: str) -> tuple[str, str]:
    """`URL=VERIFIERKEY` → (url, vkey).  The split is at the first `=` after which a key parses."""
    from interlock.checkpoint import cosigner_verifier

    start = spec.find("://") + 3 if "://" in spec else 0
    pos = spec.find("=", start)
    while pos != -1:
        url, vkey = spec[:pos], spec[pos + 1 :]
        try:
            cosigner_verifier(vkey)
        except Exception:  # not a key yet: the '=' belonged to the URL
            pos = spec.find("=", pos + 1)
            continue
        return url, vkey
    raise typer.BadParameter(f"{spec[:80]!r} is not URL=VERIFIERKEY", param_hint="--witness")


def _duration(text: str, option: str) -> timedelta:
    from interlock.errors import DurationError
    from interlock.timeutil import parse_duration

    try:
        return parse_duration(text)
    except DurationError as err:
        raise typer.BadParameter(err.message, param_hint=option) from None


@app.command()
def serve(
    *,
    db: Annotated[str, typer.Option("--db", help="sqlite:///file.db (default) or postgresql://…")] = "sqlite:///interlock.db",
    log_key: Annotated[Path, typer.Option("--log-key", help="The log signer key file (interlock log keygen).")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free port).")] = 8000,
    witness: Annotated[
        list[str] | None, typer.Option("--witness", help="URL=VERIFIERKEY of a witness (repeat).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (more than 1 needs PostgreSQL).")] = 1,
    operator_key: Annotated[
        list[str] | None, typer.Option("--operator-key", help="Base64 Ed25519 public key allowed to register (repeat).")
    ] = None,
    origin_prefix: Annotated[
        str | None, typer.Option(help="Checkpoint origin prefix (default: the log key's name).")
    ] = None,
    max_body: Annotated[int, typer.Option(
        "--max-body-bytes", min=256, max=65_000, help="Largest statement body (an entry must fit a C2SP bundle).")
    ] = 60 * 1024,
    max_future_skew: Annotated[str, typer.Option(help="How far issued_at may be ahead of the clock.")] = "5m",
    max_past_skew: Annotated[str, typer.Option(help="How far issued_at may be behind the clock.")] = "24h",
    key_rate: Annotated[float, typer.Option(help="Statements per minute per signing key.")] = 120,
    key_burst: Annotated[int, typer.Option(help="Statements at once per signing key.")] = 60,
    address_rate: Annotated[float, typer.Option(help="Requests per minute per client address.")] = 1200,
    address_burst: Annotated[int, typer.Option(help="Requests at once per client address.")] = 300,
    witness_interval: Annotated[float, typer.Option(help="Seconds between witness sweeps.")] = 2.0,
    prepare_processes: Annotated[int, typer.Option(
        min=0, max=64, help="Processes per log that check submissions while the last batch commits (0: none).")] = 0,
) -> None:
    """Run the interlock HTTP server (API, C2SP tiles, dashboard) until interrupted."""
    from interlock.cli.log import read_signer_key
    from interlock.server.app import CONFIG_ENV, config_json
    from interlock.server.runner import bind
    from interlock.server.runner import serve as run
    from interlock.server.settings import RateLimit, ServerSettings, WitnessConfig
    from interlock.statements.keys import decode_public_key
    from interlock.store import parse_url

    if workers > 1 and parse_url(db).get_backend_name() == "sqlite":
        raise typer.BadParameter("SQLite serves one worker; use PostgreSQL for several", param_hint="--workers")
    skey = read_signer_key(log_key)
    _check_log_keys(db, skey)
    for key in operator_key or []:
        decode_public_key(key)
    settings = ServerSettings(
        origin_prefix=origin_prefix,
        max_body_bytes=max_body,
        max_future_skew=_duration(max_future_skew, "--max-future-skew"),
        max_past_skew=_duration(max_past_skew, "--max-past-skew"),
        key_rate=RateLimit(per_minute=key_rate, burst=key_burst),
        address_rate=RateLimit(per_minute=address_rate, burst=address_burst),
        operator_keys=tuple(operator_key or ()),
        witness_interval=witness_interval,
        prepare_processes=prepare_processes,
    )
    witnesses = {"*": [WitnessConfig(url=u, verifier_key=k) for u, k in map(parse_witness, witness or [])]}
    os.environ[CONFIG_ENV] = config_json(db, skey, witnesses, settings)
    sock = bind(host, port)
    run("interlock.server.app:app_from_env", sock, workers=workers, factory=True)


@app.command()
def register(
    agreement: Annotated[Path, typer.Argument(help="The agreement file (YAML or JSON).")],
    server: ServerOption,
    operator_key: Annotated[Path, typer.Option("--operator-key", help="The operator's private key file.")],
) -> None:
    """Register an agreement on a server (operator-signed); prints the log's id, origin and key."""
    from interlock.client import Client
    from interlock.statements.keys import parse_key_file

    document = read_input(agreement)
    seed, _ = parse_key_file(read_text(operator_key))
    with Client(server) as client:
        info = client.register(document, seed)
    sys.stdout.write(json.dumps(info, indent=2) + "\n")
    print(f"verifiers of {info.get('id')} must trust the log key {info.get('log_key')}", file=sys.stderr)


@app.command()
def submit(
    *,
    server: ServerOption,
    key_path: Annotated[Path, typer.Option("--key", help="Private key file written by `interlock keygen`.")],
    statement_type: Annotated[str, typer.Option("--type", help="Statement type, e.g. adopt, evidence, attest.")],
    body_option: Annotated[str, typer.Option("--body", help="The body as JSON, or @FILE (@- for stdin).")],
    agreement_path: Annotated[
        Path | None, typer.Option("--agreement", help="The agreement file (default: the server's copy).")
    ] = None,
    agreement_id: Annotated[str | None, typer.Option("--log", help="Agreement id on the server.")] = None,
    key_id: Annotated[str | None, typer.Option("--key-id", help="Key id, if the key file does not name it.")] = None,
    author: Annotated[str | None, typer.Option(help="Check that the key belongs to this participant.")] = None,
    nonce: Annotated[str | None, typer.Option(help="Default: 16 random bytes in hex.")] = None,
) -> None:
    """Sign a statement and submit it; prints the acknowledgement (index, time, checkpoint, proof)."""
    from interlock.agreement import load_agreement
    from interlock.cli.keys import build_statement, read_body
    from interlock.client import Client
    from interlock.statements import sign_statement
    from interlock.statements.keys import parse_key_file

    seed, named = parse_key_file(read_text(key_path))
    if key_id is not None and named is not None and key_id != named:
        raise KeyMismatchError(f"{key_path} names the key {named!r}, not {key_id!r}")
    chosen = key_id or named
    if chosen is None:
        raise KeyIdMissingError(f"{key_path} has no `# interlock key ID` line; pass --key-id")
    body = read_body(body_option)
    with Client(server) as client:
        local = load_agreement(read_input(agreement_path)) if agreement_path is not None else None
        target = agreement_id or (local.id if local is not None else _only_agreement(client))
        served = client.agreement(target)
        agreement = local if local is not None else load_agreement(served["document"].encode("utf-8"))
        if agreement.hash != served.get("agreement_hash"):
            raise ServerRefusedError(
                f"the server's log {target} is for agreement {served.get('agreement_hash')}, not {agreement.hash}",
                code="wrong-agreement", http_status=409,
            )
        statement = build_statement(
            agreement, statement_type=statement_type, body=body, key_id=chosen, seed=seed, author=author,
            issued_at=datetime.now(UTC).replace(microsecond=0),
            nonce=nonce if nonce is not None else secrets.token_hex(16),
        )
        ack = client.submit(target, sign_statement(statement, chosen, seed))
    sys.stdout.write(json.dumps(ack) + "\n")


def _check_log_keys(db: str, skey: str) -> None:
    """Refuse to start when the key cannot sign a log the database already holds."""
    from interlock.note import parse_signer_key
    from interlock.store import Store

    parse_signer_key(skey)
    with Store.open(db) as store:
        for info in store.list_logs():
            store.log(info.id, skey)  # LogKeyMismatchError names the log and its key


def _only_agreement(client: object) -> str:
    from interlock.client import Client

    assert isinstance(client, Client)
    ids = [a["id"] for a in client.agreements()]
    if len(ids) != 1:
        raise UnknownAgreementError(f"the server keeps {len(ids)} agreements; name one with --log ({', '.join(ids)})")
    return str(ids[0])
