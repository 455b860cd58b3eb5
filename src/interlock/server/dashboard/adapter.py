"""The server's `Log` services as `DashboardSource`s.

`app.state.logs` is a `Mapping[str, Log]` (`interlock.server.logs.LogRegistry`).  Each
`Log` already keeps the engine's status incrementally; this adapter only turns its answers
into the plain data the dashboard reads.  The status JSON is DESIGN.md's shape plus three
moments the engine knows and the JSON contract leaves out — a stage's `completed_at` and
`breached_at`, an obligation's `since` — so that "42 d after stage 2 completed" can be put
on the clock without recomputing anything.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from interlock.agreement.model import Agreement
from interlock.errors import InterlockError
from interlock.server.dashboard.records import statement_type
from interlock.server.dashboard.source import CheckpointInfo, DashboardSource
from interlock.timeutil import format_timestamp

_LINES: weakref.WeakKeyDictionary[Any, list[dict[str, Any]]] = weakref.WeakKeyDictionary()
_AMENDS: weakref.WeakKeyDictionary[Any, tuple[int, bool]] = weakref.WeakKeyDictionary()  # scanned, found
_CACHE_LOCK = threading.Lock()

#: How far back `previous_checkpoint` looks for the last size the log signed before the newest.
PREVIOUS_SCAN = 64


def status_json(status: Any) -> dict[str, Any]:
    """`Status.to_json()` plus the moments the dashboard needs (when the engine has them)."""
    data: dict[str, Any] = status.to_json()
    for sid, stage in getattr(status, "stages", {}).items():
        extra = data["stages"].get(sid)
        if extra is None:
            continue
        for name in ("completed_at", "breached_at"):
            moment = getattr(stage, name, None)
            if isinstance(moment, datetime):
                extra[name] = format_timestamp(moment)
    for oid, ob in getattr(status, "obligations", {}).items():
        extra = data["obligations"].get(oid)
        since = getattr(ob, "since", None)
        if extra is not None and isinstance(since, datetime):
            extra["since"] = format_timestamp(since)
        if extra is not None and isinstance(getattr(ob, "kind", None), str):
            extra.setdefault("kind", ob.kind)
    return data


class LogSource:
    """One store `Log` read as a `DashboardSource`."""

    def __init__(self, log: Any) -> None:
        self.log = log
        self._last: tuple[datetime, int, Any] | None = None  # (as_of, size, Status) of the last read

    def _status(self, as_of: datetime) -> Any:
        size = self.size()
        if self._last is None or self._last[:2] != (as_of, size):
            self._last = (as_of, size, self.log.status(as_of))
        return self._last[2]

    @property
    def agreement(self) -> Agreement:
        agreement: Agreement = self.log.agreement
        return agreement

    def size(self) -> int:
        return int(self.log.size())

    def entries(self, start: int, limit: int) -> list[dict[str, Any]]:
        """Served from a per-`Log` cache: logged entries never change, so only the tail the
        cache has not seen yet is read from the database."""
        with _CACHE_LOCK:
            cached = _LINES.setdefault(self.log, [])
            if start > len(cached):
                return [e.to_json() for e in self.log.entries(start, limit)]
            if start + limit > len(cached):
                cached.extend(e.to_json() for e in self.log.entries(len(cached), start + limit - len(cached)))
            return cached[start : start + limit]

    def has_amend(self) -> bool:
        """Each entry is looked at once per `Log`: the scan resumes where the last one stopped
        (logged entries never change), so the list of agreements stays cheap on a long log."""
        size = self.size()
        with _CACHE_LOCK:
            scanned, found = _AMENDS.get(self.log, (0, False))
        start = scanned
        while not found and start < size:
            chunk = self.entries(start, min(1000, size - start))
            if not chunk:
                break
            found = any(statement_type(line) == "amend" for line in chunk)
            start += len(chunk)
        with _CACHE_LOCK:
            before = _AMENDS.get(self.log, (0, False))
            _AMENDS[self.log] = (max(start, before[0]), found or before[1])
        return found

    def status(self, as_of: datetime) -> dict[str, Any]:
        return status_json(self._status(as_of))

    def explain(self, obligation_id: str, as_of: datetime, agreement: Agreement | None = None) -> list[str]:
        from interlock.engine.explain import explain
        from interlock.engine.terms import Terms

        try:
            return explain(Terms(agreement or self.agreement), self._status(as_of), obligation_id)
        except (KeyError, InterlockError):
            return []

    def checkpoint(self) -> CheckpointInfo | None:
        stored = self.log.latest_checkpoint()
        if stored is None or stored.size == 0:
            return None
        return CheckpointInfo(stored.signed_note, self.log.info.origin, stored.size, stored.root)

    def previous_checkpoint(self) -> CheckpointInfo | None:
        latest = self.log.latest_checkpoint()
        if latest is None:
            return None
        for size in range(latest.size - 1, max(0, latest.size - PREVIOUS_SCAN), -1):
            try:
                stored = self.log.checkpoint(size)
            except InterlockError:
                return None
            if stored is not None:
                return CheckpointInfo(stored.signed_note, self.log.info.origin, stored.size, stored.root)
        return None

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return list(self.log.inclusion_proof(index, size))

    def log_key(self) -> str | None:
        key = getattr(self.log.info, "public_key", None)
        return key if isinstance(key, str) else None

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return list(self.log.consistency_proof(old, new))


class LogSources(Mapping[str, DashboardSource]):
    """A read-only view of the server's log registry as dashboard sources (opened on use)."""

    def __init__(self, logs: Mapping[str, Any]) -> None:
        self.logs = logs

    def __getitem__(self, agreement_id: str) -> DashboardSource:
        return LogSource(self.logs[agreement_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self.logs)

    def __len__(self) -> int:
        return len(self.logs)


def adapt_logs(logs: Mapping[str, Any]) -> Mapping[str, DashboardSource]:
    return LogSources(logs)
