"""`create_app`: the interlock server as one FastAPI application.

    app = create_app("sqlite:///log.db", open("log.skey").read().strip(),
                     witnesses={"*": [WitnessConfig(url=..., verifier_key=...)]},
                     settings=ServerSettings(operator_keys=("BASE64",)))

What it holds (`app.state`): `store` (the database), `logs` (`LogRegistry`: the `Log`
service of each agreement, a `Mapping[str, Log]`), `settings`, `clock` (a callable giving the
aware current time; tests may replace it), `witness_pusher`, and the rate limiters.  Routes:
`/v1/…` (api.py), the C2SP tiles below each log (tiles.py), the dashboard pages when
`interlock.server.dashboard` is installed, OpenAPI at `/openapi.json` and `/docs`.

The store is opened (and migrated) when the app starts, not when it is created, so that
every uvicorn worker opens its own connections; `app_from_env` is the factory workers use.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from interlock.errors import AddressRateLimitedError
from interlock.note import Signer, parse_signer_key

from .admission import RateLimiter
from .api import build_api_router
from .errors import error_response, install_error_handlers
from .logs import LogRegistry
from .reads import ReadCache
from .settings import ServerSettings, WitnessConfig
from .tiles import build_tiles_router
from .witnesses import WitnessPusher

CONFIG_ENV = "INTERLOCK_SERVER_CONFIG"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AddressLimit:
    """ASGI middleware: the per-address rate limit, before anything else reads the request."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            address = client[0] if client else "unknown"
            wait = self.limiter.take(address, time.monotonic())
            if wait > 0:
                err = AddressRateLimitedError(
                    f"too many requests from {address}; try again in {wait:.0f}s", retry_after=wait
                )
                await error_response(err)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(
    store_url: str,
    log_key: str,
    *,
    witnesses: dict[str, list[WitnessConfig]] | None = None,
    settings: ServerSettings | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> FastAPI:
    """The server for the logs in the database at `store_url`, signing with `log_key` (a note
    signer key `PRIVATE+KEY+name+hexid+base64`).  Raises `NoteKeyError` for a bad key."""
    return _build(store_url, parse_signer_key(log_key), witnesses or {}, settings or ServerSettings(), clock)


def create_mirror_app(
    store_url: str, *, settings: ServerSettings | None = None, clock: Callable[[], datetime] = _utc_now
) -> FastAPI:
    """The same read API over a mirror's database; every write is refused (`read-only-mirror`)."""
    return _build(store_url, None, {}, settings or ServerSettings(), clock)


def _build(
    store_url: str,
    signer: Signer | None,
    witnesses: dict[str, list[WitnessConfig]],
    settings: ServerSettings,
    clock: Callable[[], datetime],
) -> FastAPI:

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from interlock.store import Store

        store = Store.open(store_url)
        logs = LogRegistry(store, signer, clock, prepare_processes=settings.prepare_processes)
        app.state.store, app.state.logs = store, logs
        pusher = WitnessPusher(logs, witnesses, settings, clock, on_cosignature=app.state.read_cache.invalidate)
        app.state.witness_pusher = pusher
        pusher.start()
        try:
            yield
        finally:
            await pusher.stop()
            logs.close()
            store.close()

    app = FastAPI(
        title="interlock",
        summary="Signed statements about a staged agreement, in a verifiable append-only log.",
        version="1",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.key_limiter = RateLimiter(settings.key_rate)
    app.state.read_cache = ReadCache()
    install_error_handlers(app)
    app.include_router(build_api_router(settings))
    app.include_router(build_tiles_router())
    _include_dashboard(app)
    app.add_middleware(AddressLimit, limiter=RateLimiter(settings.address_rate))
    return app


def _include_dashboard(app: FastAPI) -> None:
    """The dashboard's pages, if that package is present (it is optional for the API)."""
    try:
        from interlock.server.dashboard import router
    except ImportError as exc:
        if exc.name is None or not exc.name.startswith("interlock.server.dashboard"):
            logging.getLogger("interlock.server").warning("dashboard not served: %s", exc)
        return
    app.include_router(router)


# --- configuration handed to worker processes -------------------------------------------------


def config_json(
    store_url: str, log_key: str, witnesses: dict[str, list[WitnessConfig]], settings: ServerSettings
) -> str:
    """What `interlock serve` puts in `INTERLOCK_SERVER_CONFIG` for `app_from_env`."""
    return json.dumps({
        "store_url": store_url,
        "log_key": log_key,
        "witnesses": {k: [w.model_dump() for w in ws] for k, ws in witnesses.items()},
        "settings": settings.model_dump(mode="json"),
    })


def app_from_env() -> FastAPI:
    """The uvicorn factory (`interlock.server.app:app_from_env`) for each worker process."""
    data: dict[str, Any] = json.loads(os.environ[CONFIG_ENV])
    return create_app(
        data["store_url"],
        data["log_key"],
        witnesses={k: [WitnessConfig(**w) for w in ws] for k, ws in data["witnesses"].items()},
        settings=ServerSettings.model_validate(data["settings"]),
    )
