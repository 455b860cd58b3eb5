"""What the dashboard reads, behind one small interface.

`DashboardSource` is everything the pages need from one agreement's log: the agreement, the
entries, the engine's status as of a moment, the latest checkpoint and proofs.  The server's
`Log` services are adapted to it in `interlock.server.dashboard.adapter`; tests and offline
viewing use `MemorySource`.  Proof hashes travel as `bytes`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from interlock.agreement.model import Agreement
from interlock.server.dashboard.records import statement_type


@dataclass(frozen=True)
class CheckpointInfo:
    """A signed checkpoint as served: the whole signed note and what its body says."""

    note: str
    origin: str
    size: int
    root: bytes


class DashboardSource(Protocol):
    """One agreement's log as the dashboard reads it.  Every method may raise `InterlockError`."""

    @property
    def agreement(self) -> Agreement: ...

    def size(self) -> int:
        """Number of entries in the log now."""
        ...

    def entries(self, start: int, limit: int) -> list[dict[str, Any]]:
        """Entries-file lines `{"index", "integrated_at", "envelope"}` from `start`."""
        ...

    def has_amend(self) -> bool:
        """Whether any entry of the log is an `amend` (counted or not): the list of agreements
        reads the entries for proposals only then."""
        ...

    def status(self, as_of: datetime) -> dict[str, Any]:
        """The engine's Status JSON over the entries integrated at or before `as_of`."""
        ...

    def checkpoint(self) -> CheckpointInfo | None:
        """The latest signed checkpoint with its cosignatures, or None for an empty log."""
        ...

    def previous_checkpoint(self) -> CheckpointInfo | None:
        """The checkpoint before the latest one, when the store keeps it."""
        ...

    def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...

    def consistency_proof(self, old: int, new: int) -> list[bytes]: ...

    def log_key(self) -> str | None:
        """The note verifier key that signs this log's checkpoints, when known."""
        ...

    def explain(self, obligation_id: str, as_of: datetime, agreement: Agreement | None = None) -> list[str]:
        """The engine's own explanation lines (`interlock explain`); [] when not available.

        `agreement` is the version in force at `as_of` (default: the registered one)."""
        ...


@dataclass
class MemorySource:
    """An in-memory source: entries, a status function, optional checkpoint and proofs.

    For tests and for viewing an entries file offline; the Merkle proofs come from
    `interlock.tlog` over the entries' leaf bytes.
    """

    agreement_: Agreement
    lines: list[dict[str, Any]]
    status_fn: Callable[[datetime], dict[str, Any]]
    checkpoint_fn: Callable[[list[dict[str, Any]]], CheckpointInfo | None] | None = None
    history: list[CheckpointInfo] = field(default_factory=list)
    verifier_key: str | None = None
    explain_fn: Callable[[str, datetime], list[str]] | None = None

    @property
    def agreement(self) -> Agreement:
        return self.agreement_

    def size(self) -> int:
        return len(self.lines)

    def entries(self, start: int, limit: int) -> list[dict[str, Any]]:
        return self.lines[start : start + limit]

    def has_amend(self) -> bool:
        return any(statement_type(line) == "amend" for line in self.lines)

    def status(self, as_of: datetime) -> dict[str, Any]:
        return self.status_fn(as_of)

    def checkpoint(self) -> CheckpointInfo | None:
        if self.checkpoint_fn is None:
            return None
        current = self.checkpoint_fn(self.lines)
        if current is not None and (not self.history or self.history[-1].size != current.size):
            self.history.append(current)
        return current

    def previous_checkpoint(self) -> CheckpointInfo | None:
        self.checkpoint()
        return self.history[-2] if len(self.history) > 1 else None

    def log_key(self) -> str | None:
        return self.verifier_key

    def explain(self, obligation_id: str, as_of: datetime, agreement: Agreement | None = None) -> list[str]:
        return self.explain_fn(obligation_id, as_of) if self.explain_fn else []

    def _leaves(self) -> list[bytes]:
        from interlock.statements import parse_entry

        return [parse_entry(line).leaf_bytes() for line in self.lines]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        from interlock.tlog import inclusion_proof

        return inclusion_proof(self._leaves()[:size], index)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        from interlock.tlog import consistency_proof

        return consistency_proof(self._leaves()[:new], old)


def sources_of(app: Any) -> Mapping[str, DashboardSource]:
    """The agreements an app serves, by id: `app.state.dashboard_sources` when a test or an
    offline viewer set it, else the server's Log services (`app.state.logs`) adapted."""
    explicit = getattr(app.state, "dashboard_sources", None)
    if explicit is not None:
        return explicit  # type: ignore[no-any-return]
    logs = getattr(app.state, "logs", None)
    if logs is None:
        return {}
    from interlock.server.dashboard.adapter import adapt_logs

    return adapt_logs(logs)
