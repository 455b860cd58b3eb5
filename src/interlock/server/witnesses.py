"""Pushing each log's newest checkpoint to its witnesses and keeping their cosignatures.

One background task per server process.  It wakes when an entry is acknowledged (`poke`) or
every `witness_interval` seconds, and for each (log, witness) whose last cosigned size is
not the newest checkpoint's, sends C2SP tlog-witness `add-checkpoint` with the consistency
proof from the size the witness holds.  A 409 tells that size (another process of this
server, or an earlier run, moved the witness on); the pusher adopts it and tries once more.
A 200's cosignature lines are verified against the witness's configured key before they
are stored with the checkpoint (`Log.add_cosignature`).  Any other answer is recorded as
the witness's `last_error` (shown in `GET /v1/agreements/{id}`) and retried next sweep:
appends never wait for witnesses.

Witness configuration: `witnesses["*"]` apply to every log, `witnesses[log_id]` to one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from fastapi.concurrency import run_in_threadpool

from interlock.checkpoint import cosigner_verifier
from interlock.errors import InterlockError
from interlock.store import Log, StoredCheckpoint
from interlock.witness.protocol import format_add_checkpoint

from .logs import LogRegistry
from .settings import ServerSettings, WitnessConfig

log = logging.getLogger("interlock.server.witnesses")


@dataclass
class _Progress:
    size: int | None = None  # the size this witness last cosigned for the log, if known
    error: str | None = None


class WitnessPusher:
    """Keeps the witnesses of every log up to date; see the module docstring."""

    def __init__(
        self,
        logs: LogRegistry,
        witnesses: dict[str, list[WitnessConfig]],
        settings: ServerSettings,
        clock: Callable[[], datetime],
        on_cosignature: Callable[[str], None] = lambda _log_id: None,
    ) -> None:
        self.logs = logs
        self.on_cosignature = on_cosignature
        self.witnesses = witnesses
        self.settings = settings
        self.clock = clock
        self.progress: dict[tuple[str, str], _Progress] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._names = {w.verifier_key: cosigner_verifier(w.verifier_key).name for ws in witnesses.values() for w in ws}

    def configured(self, log_id: str) -> list[WitnessConfig]:
        seen: dict[str, WitnessConfig] = {}
        for w in [*self.witnesses.get("*", []), *self.witnesses.get(log_id, [])]:
            seen.setdefault(w.verifier_key, w)
        return list(seen.values())

    def describe(self, log_id: str) -> list[dict[str, Any]]:
        out = []
        for w in self.configured(log_id):
            progress = self.progress.get((log_id, w.verifier_key), _Progress())
            out.append({"verifier_key": w.verifier_key, "url": w.url,
                        "last_size": progress.size, "last_error": progress.error})
        return out

    def poke(self) -> None:
        """An entry was acknowledged: push soon."""
        self._wake.set()

    def start(self) -> None:
        if self.witnesses and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="witness-pusher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=self.settings.witness_timeout) as client:
            while True:
                try:
                    await self.sweep(client)
                except Exception:  # a sweep must never kill the pusher
                    log.exception("witness sweep failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.witness_interval)
                self._wake.clear()

    async def sweep(self, client: httpx.AsyncClient) -> None:
        """One pass over every log that has witnesses."""
        ids = await run_in_threadpool(lambda: list(self.logs))
        jobs = []
        for log_id in ids:
            witnesses = self.configured(log_id)
            if not witnesses:
                continue
            target = await run_in_threadpool(self.logs.get_log, log_id)
            checkpoint = await run_in_threadpool(target.latest_checkpoint)
            have = {c.key_name for c in checkpoint.cosignatures}
            for w in witnesses:
                if self._names[w.verifier_key] not in have:
                    jobs.append(self.push(client, target, checkpoint, w))
        if jobs:
            await asyncio.gather(*jobs)

    async def push(
        self, client: httpx.AsyncClient, target: Log, checkpoint: StoredCheckpoint, w: WitnessConfig
    ) -> None:
        progress = self.progress.setdefault((target.id, w.verifier_key), _Progress())
        for _attempt in range(2):
            old = progress.size or 0
            if old > checkpoint.size:
                progress.error = f"the witness holds size {old}, larger than the log's {checkpoint.size}"
                log.error("witness %s of %s: %s", w.url, target.id, progress.error)
                return
            proof = await run_in_threadpool(target.consistency_proof, old, checkpoint.size) if old else []
            body = format_add_checkpoint(old, proof, checkpoint.note)
            try:
                response = await client.post(w.url.rstrip("/") + "/add-checkpoint", content=body)
            except httpx.HTTPError as exc:
                progress.error = f"unreachable: {exc.__class__.__name__}"
                return
            if response.status_code == 409 and response.text.strip().isdigit():
                progress.size = int(response.text.strip())
                progress.error = None
                continue
            if response.status_code != 200:
                progress.error = f"{response.status_code}: {response.text.strip()[:200]}"
                log.warning("witness %s refused %s at size %d: %s", w.url, target.id, checkpoint.size, progress.error)
                return
            await self._store(target, checkpoint, w, response.text, progress)
            return

    async def _store(
        self, target: Log, checkpoint: StoredCheckpoint, w: WitnessConfig, text: str, progress: _Progress
    ) -> None:
        lines = [line + "\n" for line in text.split("\n") if line.strip()]
        name = self._names[w.verifier_key]
        stored = False
        for line in lines:
            if not line.startswith(f"— {name} "):
                continue
            try:
                await run_in_threadpool(target.add_cosignature, checkpoint.size, line, self.clock(), w.verifier_key)
                stored = True
            except InterlockError as err:
                progress.error = f"bad cosignature: {err.message}"
                log.error("witness %s sent a bad cosignature for %s: %s", w.url, target.id, err.message)
                return
        if stored:
            progress.size, progress.error = checkpoint.size, None
            self.on_cosignature(target.id)
        else:
            progress.error = "the witness answered 200 without a cosignature line by its key"
