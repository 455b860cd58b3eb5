"""Turning every failure into `{code, message}` with a 4xx — never a 5xx for a client's fault.

* `InterlockError` → its `http_status` (clamped to 4xx unless the class says 5xx for a
  server-side fault such as an unreachable database) and its `to_dict()`.
* FastAPI's request validation errors → 400 `bad-parameter`, naming the parameter.
* Starlette's 404/405 → `not-found` / `method-not-allowed`.
* Anything else is a bug in interlock: logged with its traceback, answered with
  500 `internal-error` (the only 5xx, and the schemathesis tests assert it never happens).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from interlock.errors import (
    BadParameterError,
    InterlockError,
    MethodNotAllowedError,
    NotFoundError,
    RateLimitedError,
)

from .admission import retry_after_header

log = logging.getLogger("interlock.server")

#: The response schema for every refusal (used in the OpenAPI `responses`).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the refusals a route can give."""
    return {
        status: {"description": "refused", "content": {"application/json": {"schema": ERROR_SCHEMA}}}
        for status in statuses
    }


def error_response(err: InterlockError) -> JSONResponse:
    status = err.http_status if 400 <= err.http_status <= 599 else 400
    headers = {}
    if isinstance(err, RateLimitedError):
        headers["Retry-After"] = retry_after_header(err.retry_after)
    return JSONResponse(err.to_dict(), status_code=status, headers=headers)


def _describe(errors: list[Any]) -> str:
    parts = []
    for error in errors[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body"))
        parts.append(f"{where or 'request'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def reject_unknown_query(request: Request) -> None:
    """Router dependency: a query parameter the route does not declare is a 400, not ignored."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    allowed = {p.alias for p in dependant.query_params} if dependant is not None else set()
    extra = sorted(set(request.query_params) - allowed)
    if extra:
        shown = ", ".join(repr(name[:40]) for name in extra[:5])
        raise BadParameterError(f"unknown query parameter {shown}; this path takes {sorted(allowed) or 'none'}")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InterlockError)
    async def interlock_error(request: Request, exc: InterlockError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(BadParameterError(_describe(list(exc.errors()))))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            detail = exc.detail if isinstance(exc.detail, str) and exc.detail != "Not Found" else None
            return error_response(NotFoundError(detail))
        if exc.status_code == 405:
            return error_response(MethodNotAllowedError())
        err = InterlockError(str(exc.detail))
        err.http_status = exc.status_code  # type: ignore[misc]
        return error_response(err)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"code": "internal-error", "message": "the server failed; this is a bug in interlock, not your request"},
            status_code=500,
        )
