"""Log storage: SQLite (embedded default) or PostgreSQL, chosen by URL.  The I/O shell.

Quick start::

    from interlock.store import Store, LogWriter
    store = Store.open("sqlite:///interlock.db")          # migrates the schema
    info = store.register_log(agreement_bytes, operator_skey, now)
    log = store.log(info.id, operator_skey)                # read-only without the key
    [ack] = log.append([envelope], now)                    # Ack or Refusal per envelope
    with LogWriter(log, clock) as writer:                  # group commit for servers
        ack = writer.submit(envelope)

See docs/storage.md for the schema, durability and locking choices.
"""

from interlock.store.database import create_database_engine, migrate, open_database, parse_url
from interlock.store.log import Log
from interlock.store.prepare import Prepared
from interlock.store.records import Ack, Cosignature, LogInfo, Refusal, StoredCheckpoint, proof_to_json
from interlock.store.registry import Store, log_signer
from interlock.store.writer import LogWriter

__all__ = [
    "Ack", "Cosignature", "Log", "LogInfo", "LogWriter", "Prepared", "Refusal", "Store",
    "StoredCheckpoint", "create_database_engine", "log_signer", "migrate", "open_database",
    "parse_url", "proof_to_json",
]
