"""Status of a log at any moment and for any prefix — what `GET …/status` computes.

The store's `Log.status(as_of)` answers from the engine's incremental state, which only
resolves moments at or after the newest entry.  For an earlier `as_of`, or for an exact
prefix (`size`, which mirrors and verifiers use to compare like with like while the log
grows), the status is recomputed with `evaluate` over the stored entries, trusting their
signatures (they were verified on the way in; `interlock verify` audits them).  That costs
one pass over the prefix, so it is rate limited like every request.
"""

from __future__ import annotations

from datetime import datetime

from interlock.engine import Status, evaluate
from interlock.errors import BadParameterError
from interlock.statements import Entry
from interlock.store import Log

PAGE = 2000


def prefix(log: Log, size: int, until: datetime | None = None) -> list[Entry]:
    """Entries 0 … size-1 (stopping early after the last one integrated at or before `until`)."""
    out: list[Entry] = []
    while len(out) < size:
        page = log.entries(len(out), min(PAGE, size - len(out)))
        if not page:
            break
        for entry in page:
            if until is not None and entry.integrated_at > until:
                return out
            out.append(entry)
    return out


def status_of(log: Log, as_of: datetime, size: int | None = None) -> Status:
    """The status as of `as_of` of the whole log (`size` None) or of its first `size` entries."""
    if size is None:
        try:
            return log.status(as_of)
        except ValueError:  # as_of precedes the newest entry: recompute from the prefix
            size = log.size()
    head = log.size()
    if not 0 <= size <= head:
        raise BadParameterError(f"size {size} is not between 0 and the log's {head} entries")
    entries = prefix(log, size, as_of)
    return evaluate(log.agreement, entries, as_of, signatures=[True] * len(entries))
