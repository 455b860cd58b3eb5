"""The witness's memory: the last checkpoint it cosigned for each log, in one SQLite file.

C2SP tlog-witness requires the check of a new checkpoint against the stored one and the
update to be one atomic step, persisted before the witness answers.  `WitnessState.advance`
holds a process lock and a SQLite `BEGIN IMMEDIATE` transaction around read → check →
write → commit (synchronous=FULL), so two concurrent requests — even from two processes
sharing the file — can never both move the same log forward from the same size.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS witnessed (
    origin      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    root        BLOB NOT NULL,
    checkpoint  BLOB NOT NULL,
    cosigned_at INTEGER NOT NULL,
    cosignature TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Witnessed:
    """The last checkpoint cosigned for `origin`: its size, root, the note as received, and
    the cosignature line the witness gave it."""

    origin: str
    size: int
    root: bytes
    checkpoint: bytes
    cosigned_at: int
    cosignature: str


class WitnessState:
    """One SQLite file (`:memory:` for a throwaway witness)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def get(self, origin: str) -> Witnessed | None:
        with self._lock:
            return self._get(origin)

    def all(self) -> list[Witnessed]:
        with self._lock:
            rows = self._db.execute(
                "SELECT origin, size, root, checkpoint, cosigned_at, cosignature FROM witnessed ORDER BY origin"
            ).fetchall()
        return [Witnessed(r[0], r[1], bytes(r[2]), bytes(r[3]), r[4], r[5]) for r in rows]

    def _get(self, origin: str) -> Witnessed | None:
        row = self._db.execute(
            "SELECT origin, size, root, checkpoint, cosigned_at, cosignature FROM witnessed WHERE origin = ?",
            (origin,),
        ).fetchone()
        return Witnessed(row[0], row[1], bytes(row[2]), bytes(row[3]), row[4], row[5]) if row else None

    def advance(self, origin: str, decide: Callable[[Witnessed | None], tuple[Witnessed, T]]) -> T:
        """Atomically: read the stored checkpoint, let `decide` check the new one (it raises to
        refuse) and return the state to store and a result; store it durably; return the result."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                new, result = decide(self._get(origin))
                self._db.execute(
                    "INSERT INTO witnessed (origin, size, root, checkpoint, cosigned_at, cosignature) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(origin) DO UPDATE SET size = excluded.size, "
                    "root = excluded.root, checkpoint = excluded.checkpoint, "
                    "cosigned_at = excluded.cosigned_at, cosignature = excluded.cosignature",
                    (new.origin, new.size, new.root, new.checkpoint, new.cosigned_at, new.cosignature),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return result
