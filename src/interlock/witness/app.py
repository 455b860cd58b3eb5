"""The witness's HTTP face (C2SP tlog-witness): `POST /add-checkpoint` and monitoring reads.

* `POST /add-checkpoint` — body as the spec says; 200 with the cosignature line
  (`text/plain`), or the spec's refusal status: 400, 403, 404, 409 (body `<size>\\n`,
  `text/x.tlog.size`), 422.  Bodies over 64 KiB are refused with 413.
* `GET /<hex SHA-256 of origin>/checkpoint` — the last checkpoint cosigned for that log,
  with this witness's cosignature line appended (404 if none).
* `GET /` — the witness's name, cosigner verifier key and the origins it follows (JSON).
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from interlock.errors import BodyTooLargeError, InterlockError, WitnessBadRequestError

from .core import Witness, witness_error_body
from .protocol import MAX_BODY


def create_witness_app(witness: Witness) -> FastAPI:
    """The ASGI app for one `Witness` (its state file stays open for the app's lifetime)."""
    app = FastAPI(title="interlock witness (C2SP tlog-witness)", docs_url="/docs", redoc_url=None)
    app.state.witness = witness

    @app.post("/add-checkpoint", response_class=PlainTextResponse)
    async def add_checkpoint(request: Request) -> Response:
        try:
            body = bytearray()
            async for chunk in request.stream():
                body.extend(chunk)
                if len(body) > MAX_BODY:
                    raise BodyTooLargeError(f"an add-checkpoint body is at most {MAX_BODY} bytes")
            line = await run_in_threadpool(witness.add_checkpoint, bytes(body))
        except BodyTooLargeError as err:
            return PlainTextResponse(f"{err.code}: {err.message}\n", status_code=413)
        except InterlockError as err:
            if not hasattr(err, "size") and not err.code.startswith("witness-"):
                err = WitnessBadRequestError(err.message)
            status, payload, media = witness_error_body(err)
            return Response(payload, status_code=status, headers={"Content-Type": media})  # exactly as the spec
        return PlainTextResponse(line)

    @app.get("/{origin_hash}/checkpoint", response_class=PlainTextResponse)
    async def checkpoint(origin_hash: str) -> Response:
        for log in witness.logs.values():
            if hashlib.sha256(log.origin.encode()).hexdigest() == origin_hash.lower():
                stored = await run_in_threadpool(witness.state.get, log.origin)
                if stored is not None:
                    return PlainTextResponse(stored.checkpoint.decode("utf-8") + stored.cosignature)
        return PlainTextResponse("no checkpoint cosigned for that origin\n", status_code=404)

    @app.get("/")
    async def about() -> JSONResponse:
        logs: list[dict[str, Any]] = []
        for state in await run_in_threadpool(witness.state.all):
            logs.append({"origin": state.origin, "size": state.size, "cosigned_at": state.cosigned_at})
        return JSONResponse({
            "name": witness.signer.name,
            "verifier_key": witness.vkey,
            "follows": sorted(witness.logs),
            "witnessed": logs,
        })

    return app
