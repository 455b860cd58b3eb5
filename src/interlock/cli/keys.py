"""`interlock keygen` and `interlock sign`: make a key, sign a statement with it.

keygen writes a private key file (PKCS#8 PEM with a `# interlock key ID` line, mode 0600,
never over an existing file) and prints the public key line to paste into an agreement.
sign builds a statement for an agreement (its hash, the author registered for the key, a
fresh nonce, `issued_at` now), validates it against the statement model, and prints the
DSSE envelope — or, given `--entry-index` and `--integrated-at`, a whole entries-file line
for offline use and simulation.  The file format is documented in docs/keys.md.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from interlock.agreement import Agreement, load_agreement
from interlock.cli.app import app, read_input, read_text
from interlock.errors import (
    AuthorMismatchError,
    InputFileError,
    KeyFileExistsError,
    KeyIdMissingError,
    KeyMismatchError,
    StatementError,
    UnknownKeyIdError,
    UnknownObligationError,
)
from interlock.statements import STATEMENT_TYPES, Entry, parse_statement, sign_statement
from interlock.statements.keys import key_file_text, new_seed, parse_key_file, public_key_b64
from interlock.timeutil import format_timestamp, parse_timestamp

KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _echo(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- keygen ---------------------------------------------------------------------------------


def write_new_file(path: Path, text: str, mode: int = 0o600) -> None:
    """Create `path` with `mode` and write `text`; refuse an existing path (even a symlink).

    The file is created with O_EXCL, so two keygens racing for one path cannot both win, and
    it never exists with wider permissions than `mode`.  On a failed write it is removed.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise KeyFileExistsError(f"{path} already exists; keygen never overwrites a key file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed it further; never wider
        data = text.encode("ascii")
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
    except OSError as exc:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise InputFileError(f"{path}: {exc.strerror or exc}") from None
    os.close(fd)


def public_key_line(key_id: str, seed: bytes) -> str:
    """The YAML flow mapping an agreement lists under a participant's `keys`."""
    return f'{{id: {key_id}, ed25519: "{public_key_b64(seed)}"}}'


@app.command()
def keygen(
    key_id: Annotated[str, typer.Option("--id", help="Key id, e.g. north-1 (letters, digits, . _ -).")],
    out: Annotated[Path | None, typer.Option("--out", help="Private key file to create (default: ID.key).")] = None,
) -> None:
    """Make an Ed25519 key: write the private key file (mode 0600) and print the public key line."""
    if not KEY_ID.match(key_id):
        raise typer.BadParameter(
            "a key id is 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit",
            param_hint="--id",
        )
    path = out if out is not None else Path(f"{key_id}.key")
    seed = new_seed()
    write_new_file(path, key_file_text(seed, key_id))
    print(f"wrote {path} (private key, mode 0600; keep it secret)", file=sys.stderr)
    print("add this to the participant's `keys:` in the agreement:", file=sys.stderr)
    _echo(public_key_line(key_id, seed))


# --- sign -----------------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise StatementError(f"--body: the key {key!r} appears twice")
        seen[key] = value
    return seen


def _refuse_constant(name: str) -> Any:
    raise StatementError(f"--body: {name} is not a JSON number")


def parse_body(text: str) -> dict[str, Any]:
    """The `--body` JSON text → a JSON object; raises `StatementError`."""
    try:
        body = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise StatementError(f"--body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise StatementError("--body must be a JSON object, e.g. '{}' for adopt")
    return body


def read_body(option: str) -> dict[str, Any]:
    """`--body` is JSON text, or `@FILE` (`@-` for stdin)."""
    if option.startswith("@"):
        return parse_body(read_text(Path(option[1:])))
    return parse_body(option)


def author_of(agreement: Agreement, key_id: str) -> str:
    """The participant who registers `key_id`; raises `UnknownKeyIdError`."""
    for party in agreement.parties:
        if any(key.id == key_id for key in party.keys):
            return party.id
    known = ", ".join(key.id for party in agreement.parties for key in party.keys) or "none"
    raise UnknownKeyIdError(f"no participant of {agreement.id} registers the key {key_id!r} (keys: {known})")


def registered_key(agreement: Agreement, key_id: str) -> str:
    return next(k.ed25519 for p in agreement.parties for k in p.keys if k.id == key_id)


def build_statement(
    agreement: Agreement,
    *,
    statement_type: str,
    body: dict[str, Any],
    key_id: str,
    seed: bytes,
    author: str | None,
    issued_at: datetime,
    nonce: str,
) -> dict[str, Any]:
    """The statement JSON to sign, checked against the model and the agreement.

    Raises `StatementError` (bad type or body), `UnknownKeyIdError`, `KeyMismatchError`,
    `AuthorMismatchError`, `UnknownObligationError`.  Whether the author's role may make this
    statement is the engine's and the server's decision, not this function's.
    """
    if statement_type not in STATEMENT_TYPES:
        raise StatementError(
            f"unknown statement type {statement_type!r}; one of: {', '.join(STATEMENT_TYPES)}"
        )
    owner = author_of(agreement, key_id)
    if public_key_b64(seed) != registered_key(agreement, key_id):
        raise KeyMismatchError(
            f"the private key does not match the public key {agreement.id} registers as {key_id!r}"
        )
    if author is not None and author != owner:
        raise AuthorMismatchError(f"the key {key_id!r} is registered to {owner!r}, not {author!r}")
    statement = {
        "type": statement_type,
        "agreement": agreement.hash,
        "author": owner,
        "key": key_id,
        "issued_at": format_timestamp(issued_at),
        "nonce": nonce,
        "body": body,
    }
    try:
        parsed = parse_statement(statement)
    except StatementError as exc:
        raise StatementError(f"not a valid {statement_type} statement: {exc.message}") from None
    obligation = getattr(parsed.body, "obligation", None)
    if obligation is not None and agreement.obligation(obligation) is None:
        raise UnknownObligationError(f"{agreement.id} has no obligation {obligation!r}")
    return statement


@app.command()
def sign(
    *,
    agreement_path: Annotated[Path, typer.Option("--agreement", help="The agreement file (YAML).")],
    key_path: Annotated[Path, typer.Option("--key", help="Private key file written by `interlock keygen`.")],
    statement_type: Annotated[str, typer.Option("--type", help="Statement type: " + ", ".join(STATEMENT_TYPES))],
    body_option: Annotated[str, typer.Option("--body", help="The body as JSON, or @FILE (@- for stdin).")],
    author: Annotated[str | None, typer.Option(help="Check that the key belongs to this participant.")] = None,
    key_id: Annotated[str | None, typer.Option("--key-id", help="Key id, if the key file does not name it.")] = None,
    issued_at: Annotated[str | None, typer.Option("--issued-at", help="Default: now.")] = None,
    nonce: Annotated[str | None, typer.Option(help="Default: 16 random bytes in hex.")] = None,
    entry_index: Annotated[
        int | None, typer.Option("--entry-index", min=0, help="With --integrated-at: print an entries-file line.")
    ] = None,
    integrated_at: Annotated[
        str | None, typer.Option("--integrated-at", help="With --entry-index: the log's integration time.")
    ] = None,
) -> None:
    """Sign a statement and print its DSSE envelope (one JSON line); `interlock submit` signs and sends."""
    if (entry_index is None) != (integrated_at is None):
        raise typer.BadParameter("give both --entry-index and --integrated-at, or neither")
    if nonce is not None and not 1 <= len(nonce) <= 128:
        raise typer.BadParameter("a nonce is 1–128 characters", param_hint="--nonce")
    agreement = load_agreement(read_input(agreement_path))
    seed, named = parse_key_file(read_text(key_path))
    if key_id is not None and named is not None and key_id != named:
        raise KeyMismatchError(f"{key_path} names the key {named!r}, not {key_id!r}")
    chosen = key_id or named
    if chosen is None:
        raise KeyIdMissingError(f"{key_path} has no `# interlock key ID` line; pass --key-id")
    when = parse_timestamp(issued_at, agreement.timezone) if issued_at else datetime.now(UTC).replace(microsecond=0)
    statement = build_statement(
        agreement,
        statement_type=statement_type,
        body=read_body(body_option),
        key_id=chosen,
        seed=seed,
        author=author,
        issued_at=when,
        nonce=nonce if nonce is not None else secrets.token_hex(16),
    )
    envelope = sign_statement(statement, chosen, seed)
    if entry_index is not None and integrated_at is not None:
        entry = Entry(entry_index, parse_timestamp(integrated_at, agreement.timezone), envelope=envelope)
        _echo(json.dumps(entry.to_json(), separators=(",", ":")))
    else:
        _echo(json.dumps(envelope, separators=(",", ":")))
