"""`LogRegistry`: the server's logs by agreement id, each with its group-commit writer.

`app.state.logs` is one of these: a read-only `Mapping[str, Log]` (the store's `Log`
services) that finds logs other worker processes registered, plus `writer(id)` for the one
`LogWriter` per log in this process.  Logs are opened with the server's signer key, so they
can append; a log whose stored verifier key is not the server's key is refused
(`LogKeyMismatchError`) the first time it is used.  Without a signer (a mirror) every log is
read-only and `writer` refuses with `ReadOnlyServerError`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime

from interlock.errors import ReadOnlyServerError, UnknownAgreementError, UnknownLogError
from interlock.note import Signer
from interlock.store import Log, LogInfo, LogWriter, Store


class LogRegistry(Mapping[str, Log]):
    """The logs of one `Store`, opened on first use; thread-safe."""

    def __init__(
        self, store: Store, signer: Signer | None, clock: Callable[[], datetime], *, prepare_processes: int = 0
    ) -> None:
        self.store = store
        self.signer = signer
        self.clock = clock
        self.prepare_processes = prepare_processes
        self._writers: dict[str, LogWriter] = {}
        self._logs: dict[str, Log] = {}
        self._lock = threading.Lock()
        self._closed = False

    def __getitem__(self, log_id: str) -> Log:
        try:
            return self.store.log(log_id, self.signer)
        except UnknownLogError:
            raise KeyError(log_id) from None

    def get_log(self, log_id: str) -> Log:
        """The log for an agreement id, or `UnknownAgreementError` (404)."""
        found = self._logs.get(log_id)
        if found is not None:
            return found
        try:
            log = self.store.log(log_id, self.signer)
        except UnknownLogError:
            raise UnknownAgreementError(f"this server keeps no log for an agreement {log_id!r}") from None
        self._logs[log_id] = log
        return log

    def cached(self, log_id: str) -> Log | None:
        """The log if this process has opened it already (no database access)."""
        return self._logs.get(log_id)

    def __iter__(self) -> Iterator[str]:
        return iter([info.id for info in self.store.list_logs()])

    def __len__(self) -> int:
        return len(self.store.list_logs())

    def infos(self) -> list[LogInfo]:
        return self.store.list_logs()

    @property
    def read_only(self) -> bool:
        """True for a mirror: logs are opened without a signer key and take no statements."""
        return self.signer is None

    def writer(self, log_id: str) -> LogWriter:
        """This process's group-commit writer for the log (created on first use)."""
        if self.signer is None:
            raise ReadOnlyServerError("this server mirrors the log and takes no statements; submit to the log's server")
        with self._lock:
            if self._closed:
                raise RuntimeError("the server is shutting down")
            writer = self._writers.get(log_id)
            if writer is None:
                writer = self._writers[log_id] = LogWriter(self.get_log(log_id), self.clock,
                                                           processes=self.prepare_processes)
            return writer

    def close(self) -> None:
        """Commit what is queued and stop every writer (called at shutdown)."""
        with self._lock:
            self._closed = True
            writers, self._writers = list(self._writers.values()), {}
        for writer in writers:
            writer.close()
