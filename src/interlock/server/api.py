"""The `/v1` HTTP API: register agreements, submit statements, read everything.

Writes: `POST /v1/agreements` (operator-signed, see `operator`) and
`POST /v1/agreements/{id}/entries` (one DSSE envelope; admission in `admission`, then the
store's `LogWriter`: the engine authorises it in the transaction that stores it).  Reads go
to the store's `Log` in FastAPI's thread pool; `checkpoint` and `status` go through the short
read cache (`reads.ReadCache`).  Every parameter is validated here, so that nothing a client
sends reaches the database or the engine out of range; refusals are `{code, message}` 4xx
(errors.py).  No `from __future__ import annotations` here: FastAPI reads the parameter
annotations at runtime, and some refer to the settings the router is built with.
"""

import asyncio
import base64
import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from interlock.agreement import Agreement
from interlock.checkpoint import log_origin
from interlock.errors import (
    BadParameterError,
    KeyRateLimitedError,
    ReadOnlyServerError,
    StatementRefusedError,
    UnknownEntryError,
    UnknownObligationError,
    UnsupportedMediaTypeError,
)
from interlock.store import Ack, Log, Refusal, StoredCheckpoint
from interlock.timeutil import format_timestamp
from interlock.tlog import leaf_hash

from . import schemas
from .admission import admit_envelope, check_content_type, read_limited
from .errors import error_responses, reject_unknown_query
from .operator import check_authorization
from .reads import agreement_in_force, parse_as_of, status_of
from .settings import ServerSettings

AGREEMENT_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
MAX_INDEX = 2**62
AgreementId = Annotated[str, Path(pattern=AGREEMENT_ID, description="The agreement's id (its `id:` line).")]
AGREEMENT_TYPES = (
    "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "application/json", "text/plain",
)
ENGINE_STATUS = {
    # 400: the envelope or the statement is malformed
    "bad-envelope": 400, "bad-statement": 400,
    # 403: the signer may not say this
    "bad-signature": 403, "unknown-key": 403, "foreign-key": 403, "key-mismatch": 403, "wrong-role": 403,
    "self-verification": 403, "not-debtor": 403, "not-resolver": 403, "not-creditor": 403,
    # 409: conflicts with what the log already holds
    "reused-nonce": 409, "not-in-force": 409,
    # 422: well-formed but meaningless for this agreement
    "wrong-agreement": 422, "unknown-obligation": 422, "bad-reference": 422,
    "wrong-kind": 422, "not-disputable": 422, "no-deadline": 422, "bad-amendment": 422,
}


#: Refusals that leave open whose statement it was (the signature is not proven to be the key's).
UNPROVEN = frozenset({"bad-signature", "unknown-key", "foreign-key", "key-mismatch", "bad-envelope", "bad-statement"})


def refusal_error(refusal: Refusal) -> StatementRefusedError:
    status = ENGINE_STATUS.get(refusal.code, refusal.http_status if 400 <= refusal.http_status < 500 else 422)
    return StatementRefusedError(refusal.message, code=refusal.code, http_status=status)


def _now(request: Request) -> datetime:
    clock = request.app.state.clock
    moment: datetime = clock()
    return moment


def _log(request: Request, agreement_id: str) -> Log:
    log: Log = request.app.state.logs.get_log(agreement_id)
    return log


def _as_of(request: Request, agreement: Agreement, text: str | None) -> datetime:
    now = _now(request)
    if text is None:
        return now
    return parse_as_of(text, agreement.timezone, now)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def latest(request: Request, agreement_id: str) -> StoredCheckpoint:
    """The newest checkpoint with its cosignatures (through the short read cache)."""
    logs, cache = request.app.state.logs, request.app.state.read_cache
    cached: StoredCheckpoint | None = cache.checkpoint(agreement_id)
    if cached is not None:
        return cached

    async def load() -> StoredCheckpoint:
        log = logs.cached(agreement_id) or await run_in_threadpool(logs.get_log, agreement_id)
        found: StoredCheckpoint = await run_in_threadpool(log.latest_checkpoint)
        cache.keep_checkpoint(agreement_id, found)
        return found

    newest: StoredCheckpoint = await cache.once(("checkpoint", agreement_id), load)
    return newest


def build_api_router(settings: ServerSettings) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["log"], dependencies=[Depends(reject_unknown_query)])

    @router.post(
        "/agreements", status_code=201, response_model=schemas.AgreementInfo,
        responses=error_responses(400, 401, 409, 413, 415, 422, 429),
        summary="Register an agreement (operator-signed request)",
        openapi_extra={"requestBody": {"required": True, "content": {
            t: {"schema": {"type": "string"}} for t in ("application/yaml", "application/json")}}},
    )
    async def register(request: Request) -> JSONResponse:
        """The body is the agreement file.  Needs `Authorization: Interlock-Operator …`
        (docs/server.md).  The agreement takes effect through `adopt` statements."""
        media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
        if media not in AGREEMENT_TYPES:
            raise UnsupportedMediaTypeError("send the agreement file as application/yaml or application/json")
        body = await read_limited(request.stream(), request.headers.get("content-length"), settings.max_agreement_bytes)
        check_authorization(
            request.headers.get("authorization"), "POST", request.url.path, body,
            now=_now(request).timestamp(), operator_keys=settings.operator_keys,
        )
        logs = request.app.state.logs

        def register_now() -> dict[str, Any]:
            from interlock.agreement import load_agreement

            agreement = load_agreement(body)
            prefix = settings.origin_prefix
            origin = log_origin(prefix, agreement.id) if prefix else None
            info = logs.store.register_log(body, logs.signer, _now(request), origin=origin)
            return {**info.to_json(), "size": 0}

        return JSONResponse(await run_in_threadpool(register_now), status_code=201)

    @router.get("/agreements", response_model=schemas.AgreementList, summary="List the agreements")
    def list_agreements(request: Request) -> dict[str, Any]:
        logs = request.app.state.logs
        out = []
        for info in logs.infos():
            out.append({**info.to_json(), "size": logs.get_log(info.id).size()})
        return {"agreements": out}

    @router.post(
        "/agreements/{agreement_id}/entries", status_code=201, response_model=schemas.Ack,
        responses=error_responses(400, 403, 404, 405, 409, 413, 415, 422, 429),
        summary="Submit one signed statement (DSSE envelope)",
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["payload", "payloadType", "signatures"],
            "properties": {"payload": {"type": "string"}, "payloadType": {"type": "string"},
                           "signatures": {"type": "array", "items": {"type": "object"}}}}}}}},
    )
    async def submit(request: Request, agreement_id: AgreementId) -> JSONResponse:
        """Admission, then the engine's authorisation, then a durable write; the answer comes
        only after the entry is committed.  A refusal writes nothing."""
        logs = request.app.state.logs
        if logs.read_only:
            raise ReadOnlyServerError("this server mirrors the log and takes no statements; submit to the log's server")
        if logs.cached(agreement_id) is None:
            await run_in_threadpool(logs.get_log, agreement_id)  # 404 for an unknown agreement
        check_content_type(request.headers.get("content-type"))
        body = await read_limited(request.stream(), request.headers.get("content-length"), settings.max_body_bytes)
        admitted = admit_envelope(body, _now(request), settings)
        limiter = request.app.state.key_limiter
        bucket = f"{agreement_id}/{admitted.key}" if admitted.key is not None else None
        if bucket is not None:
            wait = limiter.take(bucket, time.monotonic())
            if wait > 0:
                raise KeyRateLimitedError(
                    f"key {admitted.key} has sent too many statements; try again in {wait:.0f}s", retry_after=wait
                )
        writer = logs.writer(agreement_id)
        future = await run_in_threadpool(writer.submit_future, admitted.envelope)  # prepare: shape, signature
        result = await asyncio.wrap_future(future)
        if isinstance(result, Refusal):
            if bucket is not None and result.code in UNPROVEN:
                limiter.refund(bucket)  # not that key's statement: it spends nothing of its allowance
            raise refusal_error(result)
        assert isinstance(result, Ack)
        request.app.state.read_cache.invalidate(agreement_id)
        request.app.state.witness_pusher.poke()
        return JSONResponse(result.to_json(), status_code=201)

    @router.get(
        "/agreements/{agreement_id}", response_model=schemas.AgreementDetail,
        responses=error_responses(400, 404), summary="The agreement, its hash and its log",
    )
    def agreement(request: Request, agreement_id: AgreementId) -> dict[str, Any]:
        log = _log(request, agreement_id)
        witnesses = request.app.state.witness_pusher.describe(agreement_id)
        return {
            **log.info.to_json(), "size": log.size(), "title": log.agreement.title,
            "document": log.info.agreement.decode("utf-8", errors="replace"), "witnesses": witnesses,
        }

    @router.get(
        "/agreements/{agreement_id}/status", response_model=schemas.StatusBody,
        responses=error_responses(400, 404), summary="Compliance status as of a moment (default: now)",
    )
    async def status(
        request: Request, agreement_id: AgreementId,
        as_of: Annotated[str | None, Query(max_length=64, description="ISO 8601; default now")] = None,
        size: Annotated[int | None, Query(ge=0, le=MAX_INDEX, description="Only the first `size` entries")] = None,
    ) -> Response:
        """The engine's status.  Without `as_of`, "now" to the second; with `size`, of that prefix."""
        logs, cache = request.app.state.logs, request.app.state.read_cache
        log = logs.cached(agreement_id) or await run_in_threadpool(logs.get_log, agreement_id)
        moment = _as_of(request, log.agreement, as_of) if as_of is not None else _now(request).replace(microsecond=0)
        if size is not None:
            data = await run_in_threadpool(lambda: status_of(log, moment, size).to_json())
            return JSONResponse(data)
        head = (await latest(request, agreement_id)).size
        key = format_timestamp(moment)
        encoded = cache.status(agreement_id, head, key)
        if encoded is None:

            async def compute() -> bytes:
                body = bytes(await run_in_threadpool(lambda: JSONResponse(status_of(log, moment).to_json()).body))
                cache.keep_status(agreement_id, head, key, body)
                return body

            encoded = await cache.once(("status", agreement_id, head, key), compute)
        return Response(encoded, media_type="application/json")

    @router.get(
        "/agreements/{agreement_id}/obligations/{obligation_id}", response_model=schemas.ObligationBody,
        responses=error_responses(400, 404), summary="One obligation: definition, state and explanation",
    )
    def obligation(
        request: Request, agreement_id: AgreementId,
        obligation_id: Annotated[str, Path(pattern=AGREEMENT_ID)],
        as_of: Annotated[str | None, Query(max_length=64)] = None,
    ) -> dict[str, Any]:
        log = _log(request, agreement_id)
        moment = _as_of(request, log.agreement, as_of)
        result = status_of(log, moment)
        terms = agreement_in_force(log, result, moment)  # an amendment may add or remove obligations
        definition = terms.obligation(obligation_id)
        if definition is None:
            raise UnknownObligationError(f"{terms.id} has no obligation {obligation_id!r} "
                                         f"(as of {format_timestamp(moment)})")
        state = result.obligations.get(obligation_id)
        return {
            "id": obligation_id,
            "as_of": format_timestamp(moment),
            "definition": definition.model_dump(mode="json", by_alias=True, exclude_none=True),
            "status": state.to_json() if state is not None else {},
            "explanation": [_fact(f) for f in getattr(state, "facts", ())],
            "reasons": _reasons(terms, result, obligation_id),
        }

    @router.get(
        "/agreements/{agreement_id}/entries", responses={
            200: {"description": "Entries-file lines (JSON lines)", "content": {"application/x-ndjson": {
                "schema": {"type": "string"}}}}, **error_responses(400, 404)},
        response_class=PlainTextResponse, summary="Entries start … start+limit-1, as entries-file lines",
    )
    def entries(
        request: Request, agreement_id: AgreementId,
        start: Annotated[int, Query(ge=0, le=MAX_INDEX)] = 0,
        limit: Annotated[int, Query(ge=1, le=settings.max_page)] = 100,
    ) -> Response:
        import json

        log = _log(request, agreement_id)
        lines = [json.dumps(e.to_json(), separators=(",", ":")) + "\n" for e in log.entries(start, limit)]
        return Response("".join(lines), media_type="application/x-ndjson")

    @router.get(
        "/agreements/{agreement_id}/entries/{index}", response_model=schemas.Entry,
        responses=error_responses(400, 404), summary="One entry (an entries-file line)",
    )
    def entry(
        request: Request, agreement_id: AgreementId, index: Annotated[int, Path(ge=0, le=MAX_INDEX)]
    ) -> dict[str, Any]:
        log = _log(request, agreement_id)
        found = log.entries(index, 1)
        if not found:
            raise UnknownEntryError(f"the log of {agreement_id} has no entry {index} (it has {log.size()})")
        return found[0].to_json()

    @router.get(
        "/agreements/{agreement_id}/checkpoint", response_class=PlainTextResponse,
        responses={200: {"description": "The newest signed checkpoint (C2SP signed note) with the cosignatures "
                         "collected for it", "content": {"text/plain": {"schema": {"type": "string"}}}},
                   **error_responses(400, 404)},
        summary="The newest checkpoint with its cosignatures",
    )
    async def checkpoint(request: Request, agreement_id: AgreementId) -> Response:
        newest = await latest(request, agreement_id)
        return Response(newest.signed_note, media_type="text/plain; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})

    @router.get(
        "/agreements/{agreement_id}/proofs/inclusion", response_model=schemas.InclusionProof,
        responses=error_responses(400, 404), summary="RFC 9162 inclusion proof of entry `index` in tree `size`",
    )
    def inclusion(
        request: Request, agreement_id: AgreementId,
        index: Annotated[int, Query(ge=0, le=MAX_INDEX)],
        size: Annotated[int | None, Query(ge=1, le=MAX_INDEX, description="Default: the newest size")] = None,
    ) -> dict[str, Any]:
        log = _log(request, agreement_id)
        head = log.size()
        size = head if size is None else size
        if not index < size <= head:
            raise BadParameterError(f"no entry {index} in a tree of size {size} (the log has {head} entries)")
        found = log.entries(index, 1)
        proof = log.inclusion_proof(index, size)
        return {
            "index": index, "size": size, "leaf_hash": _b64(leaf_hash(found[0].leaf_bytes())),
            "root": _b64(log.root(size)), "proof": [_b64(h) for h in proof],
        }

    @router.get(
        "/agreements/{agreement_id}/proofs/consistency", response_model=schemas.ConsistencyProof,
        responses=error_responses(400, 404), summary="RFC 9162 consistency proof from tree `old` to tree `new`",
    )
    def consistency(
        request: Request, agreement_id: AgreementId,
        old: Annotated[int, Query(ge=0, le=MAX_INDEX)],
        new: Annotated[int | None, Query(ge=0, le=MAX_INDEX, description="Default: the newest size")] = None,
    ) -> dict[str, Any]:
        log = _log(request, agreement_id)
        head = log.size()
        new = head if new is None else new
        if not old <= new <= head:
            raise BadParameterError(f"no consistency proof from size {old} to {new} (the log has {head} entries)")
        proof = log.consistency_proof(old, new)
        return {
            "old": old, "new": new, "old_root": _b64(log.root(old)), "new_root": _b64(log.root(new)),
            "proof": [_b64(h) for h in proof],
        }

    return router


def _reasons(agreement: Agreement, result: Any, obligation_id: str) -> list[str]:
    """The engine's explanation in words (`interlock explain`) under the version in force."""
    from interlock.engine.explain import explain
    from interlock.engine.terms import Terms

    return [line.strip() for line in explain(Terms(agreement), result, obligation_id)]


def _fact(fact: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"what": fact.what, "entries": list(fact.entries)}
    if fact.at is not None:
        out["at"] = format_timestamp(fact.at)
    for name in ("amount", "ref", "text"):
        value = getattr(fact, name)
        if value is not None:
            out[name] = value
    return out


__all__ = ["ENGINE_STATUS", "UNPROVEN", "build_api_router", "latest", "refusal_error"]
