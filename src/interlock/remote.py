"""A server's log, read for checking: the `--server URL` variants of `verify` and `status`.

Nothing the server says is trusted here; it is only *read*.  `ServerSource` feeds
`interlock.store.audit.audit` (which recomputes every leaf and the tree, checks every
statement, the checkpoint's log signature and cosignatures, and the status), and
`evaluate_remote` recomputes the status locally from the served agreement and entries,
verifying every signature (`interlock.verification.evaluate_log`).  Both read a snapshot:
the newest checkpoint first, then exactly the entries it covers, so a log that grows
meanwhile is still checked consistently.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from interlock.agreement import Agreement, load_agreement
from interlock.checkpoint import parse_checkpoint
from interlock.client import Client
from interlock.engine import Status
from interlock.errors import CheckpointError, NoteError, ServerUnavailableError, UnknownAgreementError
from interlock.note import split_note
from interlock.statements import Entry
from interlock.timeutil import format_timestamp, parse_timestamp


def pick_agreement(client: Client, agreement_id: str | None) -> str:
    """The agreement id to read: the one given, or the server's only one."""
    if agreement_id is not None:
        return agreement_id
    ids = [str(a["id"]) for a in client.agreements()]
    if len(ids) != 1:
        raise UnknownAgreementError(
            f"{client.base_url} keeps {len(ids)} agreements; name one with --log ({', '.join(ids) or 'none'})"
        )
    return ids[0]


class ServerSource:
    """One log on an interlock server, as an audit `LogSource` (see `interlock.store.audit`)."""

    one_checkpoint_per_batch = True  # the checkpoint read first covers exactly the entries read

    def __init__(self, url: str, agreement_id: str | None = None, *, timeout: float = 60.0) -> None:
        self.client = Client(url, timeout=timeout)
        try:
            self.id = pick_agreement(self.client, agreement_id)
            self.info = self.client.agreement(self.id)
            self.note = self.client.checkpoint(self.id)
        except BaseException:
            self.client.close()
            raise
        try:
            self.size = parse_checkpoint(split_note(self.note)[0]).size
        except (NoteError, CheckpointError):
            self.size = 0  # the audit reports what is wrong with the checkpoint
        self.description = f"log {self.id} on {self.client.base_url}"

    def close(self) -> None:
        self.client.close()

    def agreement(self) -> bytes:
        return str(self.info.get("document", "")).encode("utf-8")

    def claimed_log_key(self) -> str | None:
        key = self.info.get("log_key")
        return str(key) if key else None

    def origin(self) -> str | None:
        origin = self.info.get("origin")
        return str(origin) if origin else None

    def count(self) -> int | None:
        return self.size

    def entries(self) -> Iterator[Any]:
        from interlock.store.audit import EntryRecord

        for entry in self.client.iter_entries(self.id, 0, self.size):
            yield EntryRecord(entry.index, format_timestamp(entry.integrated_at), entry.envelope)

    def checkpoints(self) -> Iterator[Any]:
        from interlock.store.audit import CheckpointRecord

        yield CheckpointRecord(self.note)

    def nodes(self) -> Iterator[tuple[int, int, bytes]] | None:
        return None


def fetch(url: str, agreement_id: str | None = None) -> tuple[bytes, list[Entry], str]:
    """(agreement document, the entries the newest checkpoint covers, that checkpoint note)."""
    with Client(url) as client:
        log_id = pick_agreement(client, agreement_id)
        document = str(client.agreement(log_id).get("document", "")).encode("utf-8")
        note = client.checkpoint(log_id)
        try:
            size = parse_checkpoint(split_note(note)[0]).size
        except (NoteError, CheckpointError) as err:
            raise ServerUnavailableError(f"the server's checkpoint is not a signed note: {err.message}") from None
        entries = list(client.iter_entries(log_id, 0, size))
    return document, entries, note


def evaluate_remote(url: str, agreement_id: str | None, as_of: str | None) -> tuple[Agreement, Status]:
    """The status computed here from the server's agreement and entries (signatures verified)."""
    from interlock.verification import evaluate_log

    document, entries, _ = fetch(url, agreement_id)
    agreement = load_agreement(document)
    moment = datetime.now(UTC) if as_of is None else parse_timestamp(as_of, agreement.timezone)
    return agreement, evaluate_log(agreement, entries, moment)
