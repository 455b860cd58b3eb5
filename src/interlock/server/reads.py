"""Status of a log at any moment and for any prefix — what `GET …/status` computes.

The store's `Log.status(as_of)` answers from the engine's incremental state, which only
resolves moments at or after the newest entry.  For an earlier `as_of`, or for an exact
prefix (`size`, which mirrors and verifiers use to compare like with like while the log
grows), the status is recomputed with `evaluate` over the stored entries, trusting their
signatures (they were verified on the way in; `interlock verify` audits them).  That costs
one pass over the prefix, so it is rate limited like every request.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from interlock.agreement import Agreement
from interlock.engine import Evaluator, Status, evaluate
from interlock.errors import BadParameterError, InterlockError
from interlock.statements import Entry
from interlock.store import Log, StoredCheckpoint
from interlock.timeutil import format_timestamp, parse_timestamp

PAGE = 2000
T = TypeVar("T")
#: How far ahead `?as_of=` may look, and the earliest it may name (the engine walks periods up to it).
MAX_AS_OF_AHEAD = timedelta(days=5 * 366)
MIN_AS_OF = datetime(2000, 1, 1, tzinfo=UTC)


def parse_as_of(text: str, timezone: str, now: datetime) -> datetime:
    """`?as_of=` → an aware UTC moment in [MIN_AS_OF, now + MAX_AS_OF_AHEAD].

    The one reading of `as_of` for the API and the dashboard (a time without an offset is read
    in `timezone`).  Raises `BadParameterError` for text that is not a time or lies out of bounds.
    """
    try:
        moment = parse_timestamp(text, timezone)
    except InterlockError as err:
        raise BadParameterError(f"as_of: {err.message}") from None
    if not MIN_AS_OF <= moment <= now + MAX_AS_OF_AHEAD:
        raise BadParameterError(f"as_of must lie between {format_timestamp(MIN_AS_OF)} and five years from now")
    return moment


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


def agreement_in_force(log: Log, result: Status, as_of: datetime) -> Agreement:
    """The agreement version `result` (the status at `as_of`) was judged under: the registered
    one, or the amendment in force then — folded from the entries up to `as_of`, which only
    happens once an amendment has taken effect."""
    if result.agreement == log.agreement.hash:
        return log.agreement
    evaluator = Evaluator(log.agreement)
    for entry in prefix(log, log.size(), as_of):
        evaluator.append(entry, signature_ok=True)
    return evaluator.agreement


class ReadCache:
    """The two hottest reads of a busy log, cached per process for a fraction of a second.

    * the newest checkpoint with its cosignatures, for `ttl` seconds (C2SP tlog-tiles allows a
      short cache on `checkpoint`; a reader cannot tell a 0.2 s old checkpoint from latency);
    * the encoded status JSON per (log, tree size, as_of), for as long as the newest
      checkpoint is the same — the status is a pure function of those.

    `invalidate(log_id)` runs after every local append and every stored cosignature, so this
    process never serves a checkpoint older than its own acknowledgements; other worker
    processes' appends show within `ttl`.  Entries are replaced whole.  `once` makes
    concurrent misses of one key wait for a single computation instead of all computing it.
    """

    def __init__(self, ttl: float = 0.2, clock: Callable[[], float] = time.monotonic, capacity: int = 256) -> None:
        self.ttl = ttl
        self.clock = clock
        self.capacity = capacity
        self._checkpoints: dict[str, tuple[float, StoredCheckpoint]] = {}
        self._statuses: OrderedDict[tuple[str, int, str], bytes] = OrderedDict()
        self._inflight: dict[Hashable, asyncio.Future[Any]] = {}

    async def once(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """Run `compute` for `key` unless a run for it is in flight; then share its result."""
        running = self._inflight.get(key)
        if running is not None:
            result: T = await asyncio.shield(running)
            return result
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await compute()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else must
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[key]

    def invalidate(self, log_id: str) -> None:
        self._checkpoints.pop(log_id, None)

    def checkpoint(self, log_id: str) -> StoredCheckpoint | None:
        found = self._checkpoints.get(log_id)
        if found is None or self.clock() - found[0] > self.ttl:
            return None
        return found[1]

    def keep_checkpoint(self, log_id: str, checkpoint: StoredCheckpoint) -> None:
        self._checkpoints[log_id] = (self.clock(), checkpoint)

    def status(self, log_id: str, size: int, as_of: str) -> bytes | None:
        return self._statuses.get((log_id, size, as_of))

    def keep_status(self, log_id: str, size: int, as_of: str, encoded: bytes) -> None:
        self._statuses[(log_id, size, as_of)] = encoded
        while len(self._statuses) > self.capacity:
            self._statuses.popitem(last=False)
