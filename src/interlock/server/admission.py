"""Admission at the door: what a request must be before the log looks at it.

Order (cheapest first, so that junk costs the server little):
address rate limit → content type → body size (while reading) → strict JSON → issued_at
within the configured skew → key rate limit → the store's `prepare` (envelope shape,
canonical payload, statement shape, Ed25519 signature) → the engine's authorisation (known
key, role, debtor verifying itself, agreement hash, nonce), applied by the log service in the
transaction that stores the entry — so the rules at the door are the rules of the offline
audit, and each check runs once.  The skew check and the key limit only *peek* at the
payload (`peek_statement`); a payload they cannot read is left to `prepare` to refuse.
A key's allowance is spent before the append and given back if the signature turns out not
to be that key's (`RateLimiter.refund`), so forgers cannot use up an honest key's allowance.

Each refusal raises its own `InterlockError` (see `interlock.errors`); nothing is written.
`RateLimiter` takes the time as an argument and is otherwise pure.
"""

from __future__ import annotations

import base64
import json
import math
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from interlock.errors import (
    BodyTooLargeError,
    EnvelopeError,
    InterlockError,
    IssuedInFutureError,
    IssuedTooLongAgoError,
    MalformedJsonError,
    UnsupportedMediaTypeError,
)
from interlock.timeutil import format_duration, format_timestamp, parse_timestamp

from .settings import RateLimit, ServerSettings

JSON_TYPES = ("application/json",)


class RateLimiter:
    """Token buckets keyed by a string (an address, a key id); at most `capacity` remembered.

    `take(key, now)` returns 0.0 when the request may pass, otherwise the seconds until one
    token is back.  `now` is a monotonic clock reading in seconds.  Forgetting the least
    recently used key when full can only make the limiter more lenient, never stricter.
    """

    def __init__(self, limit: RateLimit, capacity: int = 100_000) -> None:
        self.rate = limit.per_minute / 60.0
        self.burst = float(limit.burst)
        self.capacity = capacity
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, now: float) -> float:
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate
        while len(self._buckets) > self.capacity:
            self._buckets.popitem(last=False)
        return wait

    def refund(self, key: str) -> None:
        """Give back the token a request took (its signature was not that key's)."""
        found = self._buckets.get(key)
        if found is not None:
            self._buckets[key] = (min(self.burst, found[0] + 1.0), found[1])


def check_content_type(header: str | None) -> None:
    """Only `application/json` (parameters such as charset=utf-8 allowed)."""
    media = (header or "").split(";", 1)[0].strip().lower()
    if media not in JSON_TYPES:
        shown = header if header else "none"
        raise UnsupportedMediaTypeError(
            f"the body must be sent as Content-Type: application/json (got {shown[:100]})"
        )


async def read_limited(chunks: AsyncIterator[bytes], content_length: str | None, limit: int) -> bytes:
    """Read a body, refusing (without reading on) as soon as it exceeds `limit` bytes."""
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            declared = -1
        if declared > limit:
            raise BodyTooLargeError(f"the body is {declared:,} bytes; this server accepts at most {limit:,}")
    body = bytearray()
    async for chunk in chunks:
        body.extend(chunk)
        if len(body) > limit:
            raise BodyTooLargeError(f"the body is larger than {limit:,} bytes, the most this server accepts")
    return bytes(body)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


MAX_DEPTH = 64


def json_problem(value: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """What makes decoded JSON unusable here, or None: nesting deeper than `max_depth`, or a
    string (or key) holding an unpaired surrogate, which no UTF-8 text can carry.  Iterative."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                return f"it nests deeper than {max_depth} levels"
            children = list(item.items()) if isinstance(item, dict) else [(None, v) for v in item]
            for key, child in children:
                if key is not None:
                    stack.append((key, depth))
                stack.append((child, depth + 1))
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "a string holds an unpaired UTF-16 surrogate"
    return None


def parse_json(body: bytes) -> Any:
    """Strict JSON: UTF-8, one value, no NaN/Infinity, no duplicate keys, bounded nesting, no
    unpaired surrogates (`json_problem`)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise ValueError(f"the key {key!r} appears twice in one object")
            result[key] = value
        return result

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJsonError("the body is not UTF-8 text") from None
    if not text.strip():
        raise MalformedJsonError("the body is empty; send one JSON object")
    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise MalformedJsonError(f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:
        raise MalformedJsonError(f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise MalformedJsonError("the body nests JSON too deeply") from None
    problem = json_problem(value)
    if problem is not None:
        raise MalformedJsonError(f"the body cannot be used: {problem}")
    return value


def check_issued_at(issued_at: datetime, now: datetime, settings: ServerSettings) -> None:
    """Refuse a statement signed too far ahead of, or behind, the server's clock."""
    if issued_at - now > settings.max_future_skew:
        raise IssuedInFutureError(
            f"issued_at {format_timestamp(issued_at)} is more than {format_duration(settings.max_future_skew)} "
            f"ahead of the server's clock ({format_timestamp(now)}); check the signer's clock"
        )
    if now - issued_at > settings.max_past_skew:
        raise IssuedTooLongAgoError(
            f"issued_at {format_timestamp(issued_at)} is more than {format_duration(settings.max_past_skew)} "
            f"before the server's clock ({format_timestamp(now)}); sign the statement again"
        )


@dataclass(frozen=True)
class Admitted:
    """A request body that passed the door: the envelope and the (unverified) key id it names."""

    envelope: Any
    key: str | None


def peek_statement(envelope: Any) -> dict[str, Any] | None:
    """The statement inside an envelope, read without checking its shape or signature; None if
    it cannot be read (the store's checks refuse it).  A payload nested too deeply or holding
    unpaired surrogates is refused here (`EnvelopeError`): no later check has to meet it."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("payload"), str):
        return None
    try:
        statement = json.loads(base64.b64decode(envelope["payload"], validate=True))
    except RecursionError:
        raise EnvelopeError(f"the payload nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        return None
    problem = json_problem(statement)
    if problem is not None:
        raise EnvelopeError(f"the payload cannot be used: {problem}")
    return statement if isinstance(statement, dict) else None


def admit_envelope(body: bytes, now: datetime, settings: ServerSettings) -> Admitted:
    """Body bytes → `Admitted`, or the `InterlockError` that refuses it (JSON, skew)."""
    envelope = parse_json(body)
    statement = peek_statement(envelope) or {}
    issued = statement.get("issued_at")
    if isinstance(issued, str):
        try:
            moment = parse_timestamp(issued)
        except InterlockError:
            moment = None  # the statement's shape check refuses it
        if moment is not None:
            check_issued_at(moment, now, settings)
    key = statement.get("key")
    return Admitted(envelope, key if isinstance(key, str) and 0 < len(key) <= 128 else None)


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
