"""`Store`: a database of logs — register one per agreement, list them, open one.

Log keys: the operator holds one note signer key (`PRIVATE+KEY+name+hexid+base64`, made by
`interlock log keygen`).  Each log signs its checkpoints with that key's Ed25519 seed under
the log's *origin* as key name, so the signature line names the origin as C2SP
tlog-checkpoint recommends, and one key file serves every log of a server.  The origin
defaults to `<key name>/<agreement id>`.  The log's verifier key (`origin+hexid+base64`) is
stored with the log and printed by `interlock log init`: it is what verifiers must trust.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from interlock.agreement import load_agreement
from interlock.checkpoint import Checkpoint, log_origin, sign_checkpoint
from interlock.errors import LogExistsError, LogKeyMismatchError, UnknownLogError
from interlock.note import Signer, parse_signer_key, signer_from_seed
from interlock.store.database import WRITE, open_database
from interlock.store.log import Log
from interlock.store.records import LogInfo
from interlock.store.schema import checkpoints, logs
from interlock.timeutil import format_timestamp
from interlock.tlog import EMPTY_ROOT

LOG_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def log_signer(signer_key: str | Signer, origin: str) -> Signer:
    """The signer a log with `origin` uses: the operator key's seed under the origin's name."""
    base = signer_key if isinstance(signer_key, Signer) else parse_signer_key(signer_key)
    return signer_from_seed(origin, base.seed)


class Store:
    """The logs in one database.  Keep one `Store` per process; it is thread-safe."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._logs: dict[str, Log] = {}
        self._lock = threading.Lock()

    @classmethod
    def open(cls, url: str, *, pool_size: int = 5) -> Store:
        """Open (and migrate) the database at `url`; see `interlock.store.database`."""
        return cls(open_database(url, pool_size=pool_size))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def register_log(
        self,
        agreement: bytes,
        signer_key: str | Signer,
        now: datetime,
        *,
        log_id: str | None = None,
        origin: str | None = None,
    ) -> LogInfo:
        """Create the log for an agreement document, with its signed empty checkpoint.

        Raises `AgreementError` for an invalid document, `CheckpointError` for an unusable
        origin, `LogExistsError` if the id or origin is taken.
        """
        parsed = load_agreement(agreement)
        base = signer_key if isinstance(signer_key, Signer) else parse_signer_key(signer_key)
        log_id = log_id or parsed.id
        if not LOG_ID.match(log_id):
            raise LogExistsError(f"{log_id!r} cannot name a log: use letters, digits, '.', '_', '-'")
        origin = origin or log_origin(base.name, parsed.id)
        signer = log_signer(base, origin)
        when = format_timestamp(now.replace(microsecond=0))
        note = sign_checkpoint(Checkpoint(origin, 0, EMPTY_ROOT), signer).decode()
        info = LogInfo(log_id, origin, parsed.hash, signer.verifier.vkey, when, agreement)
        try:
            with self.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
                conn.execute(insert(logs), {
                    "id": log_id, "origin": origin, "agreement": agreement,
                    "agreement_hash": parsed.hash, "public_key": info.public_key, "created_at": when,
                })
                conn.execute(insert(checkpoints), {
                    "log_id": log_id, "size": 0, "root": EMPTY_ROOT, "note": note, "created_at": when,
                })
        except IntegrityError:
            raise LogExistsError(f"the database already has a log with id {log_id!r} or origin {origin!r}") from None
        return info

    def list_logs(self) -> list[LogInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(logs).order_by(logs.c.created_at, logs.c.id))
            return [_info(row) for row in rows]

    def log_info(self, log_id: str) -> LogInfo:
        with self.engine.connect() as conn:
            row = conn.execute(select(logs).where(logs.c.id == log_id)).first()
        if row is None:
            raise UnknownLogError(f"the database has no log {log_id!r}")
        return _info(row)

    def log(self, log_id: str, signer_key: str | Signer | None = None) -> Log:
        """The `Log` for `log_id` (one shared object per store).  Without a signer key it is
        read-only.  Raises `UnknownLogError`, `LogKeyMismatchError`."""
        with self._lock:
            log = self._logs.get(log_id)
            if log is None:
                log = self._logs[log_id] = Log(self.engine, self.log_info(log_id))
            if signer_key is not None and log.signer is None:
                signer = log_signer(signer_key, log.info.origin)
                if signer.verifier.vkey != log.info.public_key:
                    raise LogKeyMismatchError(
                        f"log {log_id} is signed by {log.info.public_key}, not by the key given"
                    )
                log.signer = signer
            return log


def _info(row: object) -> LogInfo:
    return LogInfo(
        row.id, row.origin, row.agreement_hash, row.public_key,  # type: ignore[attr-defined]
        row.created_at, bytes(row.agreement),  # type: ignore[attr-defined]
    )
