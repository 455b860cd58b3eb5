"""Admission pieces on their own: rate limiter, JSON, content type, skew, operator signatures."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interlock.errors import (
    BodyTooLargeError,
    IssuedInFutureError,
    IssuedTooLongAgoError,
    MalformedJsonError,
    OperatorAuthError,
    UnsupportedMediaTypeError,
)
from interlock.server.admission import RateLimiter, check_content_type, check_issued_at, parse_json, read_limited
from interlock.server.operator import authorization_header, check_authorization
from interlock.server.settings import RateLimit, ServerSettings
from interlock.statements.keys import public_key_b64


def test_rate_limiter_allows_burst_then_refuses_with_wait() -> None:
    limiter = RateLimiter(RateLimit(per_minute=60, burst=3))  # one token a second
    assert [limiter.take("a", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a", 100.0) == pytest.approx(1.0)
    assert limiter.take("b", 100.0) == 0.0  # buckets are per key
    assert limiter.take("a", 100.5) == pytest.approx(0.5)
    assert limiter.take("a", 101.0) == 0.0  # one token came back


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0, max_value=3, allow_nan=False), min_size=1, max_size=80),
    per_minute=st.integers(min_value=6, max_value=600),
    burst=st.integers(min_value=1, max_value=10),
)
def test_rate_limiter_never_exceeds_burst_plus_rate(gaps: list[float], per_minute: int, burst: int) -> None:
    """In any window of length w at most burst + rate·w requests pass."""
    limiter = RateLimiter(RateLimit(per_minute=per_minute, burst=burst))
    now, passed = 0.0, []
    for gap in gaps:
        now += gap
        if limiter.take("k", now) == 0.0:
            passed.append(now)
    rate = per_minute / 60
    for i, start in enumerate(passed):
        for j in range(i, len(passed)):
            assert j - i + 1 <= burst + rate * (passed[j] - start) + 1e-6


def test_rate_limiter_forgets_oldest_keys_beyond_capacity() -> None:
    limiter = RateLimiter(RateLimit(per_minute=1, burst=1), capacity=2)
    for key in ("a", "b", "c"):
        assert limiter.take(key, 0.0) == 0.0
    assert limiter.take("a", 0.0) == 0.0  # "a" was forgotten: a fresh bucket
    assert limiter.take("c", 0.0) > 0.0  # "c" is remembered


@pytest.mark.parametrize(
    "header", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
def test_json_content_types_pass(header: str) -> None:
    check_content_type(header)


@pytest.mark.parametrize("header", [None, "", "text/plain", "application/x-www-form-urlencoded", "application/jsonx"])
def test_other_content_types_refused(header: str | None) -> None:
    with pytest.raises(UnsupportedMediaTypeError):
        check_content_type(header)


@pytest.mark.parametrize(
    "body",
    [b"", b"  ", b"{", b'{"a": NaN}', b'{"a": Infinity}', b'{"a": 1, "a": 2}', b"\xff\xfe", b"[" * 100_000, b"{} {}"],
)
def test_malformed_json_refused(body: bytes) -> None:
    with pytest.raises(MalformedJsonError):
        parse_json(body)


def test_json_parsed() -> None:
    assert parse_json(b'{"a": [1, "x"]}') == {"a": [1, "x"]}


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def test_body_limit_by_header_and_by_stream() -> None:
    assert asyncio.run(read_limited(_chunks([b"ab", b"cd"]), "4", 4)) == b"abcd"
    with pytest.raises(BodyTooLargeError):
        asyncio.run(read_limited(_chunks([b"x"]), "5", 4))
    with pytest.raises(BodyTooLargeError):  # a lying Content-Length does not help
        asyncio.run(read_limited(_chunks([b"abc", b"de"]), "2", 4))
    with pytest.raises(BodyTooLargeError):
        asyncio.run(read_limited(_chunks([b"abcde"]), None, 4))


def test_issued_at_skew_bounds() -> None:
    cfg = ServerSettings(max_future_skew=timedelta(minutes=5), max_past_skew=timedelta(hours=1))
    now = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    check_issued_at(now + timedelta(minutes=5), now, cfg)
    check_issued_at(now - timedelta(hours=1), now, cfg)
    with pytest.raises(IssuedInFutureError):
        check_issued_at(now + timedelta(minutes=5, seconds=1), now, cfg)
    with pytest.raises(IssuedTooLongAgoError):
        check_issued_at(now - timedelta(hours=1, seconds=1), now, cfg)


SEED = bytes(range(32))
OTHER = bytes(range(1, 33))


def test_operator_signature_accepted_and_bound_to_request() -> None:
    keys = (public_key_b64(SEED),)
    body = b"interlock: 1\n"
    header = authorization_header(SEED, "POST", "/v1/agreements", 1000, body)
    assert check_authorization(header, "POST", "/v1/agreements", body, now=1010, operator_keys=keys) == keys[0]
    with pytest.raises(OperatorAuthError, match="does not verify"):
        check_authorization(header, "POST", "/v1/agreements", body + b"x", now=1010, operator_keys=keys)
    with pytest.raises(OperatorAuthError, match="does not verify"):
        check_authorization(header, "PUT", "/v1/agreements", body, now=1010, operator_keys=keys)
    with pytest.raises(OperatorAuthError, match="from the server's clock"):
        check_authorization(header, "POST", "/v1/agreements", body, now=1000 + 301, operator_keys=keys)


def test_operator_signature_refusals() -> None:
    keys = (public_key_b64(SEED),)
    body = b"x"
    with pytest.raises(OperatorAuthError, match="without --operator-key"):
        check_authorization("x", "POST", "/v1/agreements", body, now=0, operator_keys=())
    with pytest.raises(OperatorAuthError, match="send an"):
        check_authorization(None, "POST", "/v1/agreements", body, now=0, operator_keys=keys)
    stranger = authorization_header(OTHER, "POST", "/v1/agreements", 0, body)
    with pytest.raises(OperatorAuthError, match="not one of this server's operator keys"):
        check_authorization(stranger, "POST", "/v1/agreements", body, now=0, operator_keys=keys)
    forged = stranger.replace(public_key_b64(OTHER), keys[0])  # claims the operator's key
    with pytest.raises(OperatorAuthError, match="does not verify"):
        check_authorization(forged, "POST", "/v1/agreements", body, now=0, operator_keys=keys)
    with pytest.raises(OperatorAuthError, match="is not"):
        bearer = "Bearer " + base64.b64encode(b"t").decode()
        check_authorization(bearer, "POST", "/v1/agreements", body, now=0, operator_keys=keys)


def test_rate_limiter_refund_gives_back_one_token_at_most_to_the_burst() -> None:
    limiter = RateLimiter(RateLimit(per_minute=1, burst=2))
    assert limiter.take("k", 0.0) == 0.0
    assert limiter.take("k", 0.0) == 0.0
    assert limiter.take("k", 0.0) > 0.0
    limiter.refund("k")
    assert limiter.take("k", 0.0) == 0.0
    limiter.refund("k")
    limiter.refund("k")
    limiter.refund("k")  # never above the burst
    assert [limiter.take("k", 0.0) == 0.0 for _ in range(3)] == [True, True, False]
    limiter.refund("unknown")  # nothing to give back


def test_json_problem_finds_depth_and_surrogates_without_recursing() -> None:
    from interlock.server.admission import json_problem

    assert json_problem({"a": [1, {"b": "ok"}]}) is None
    deep: object = "leaf"
    for _ in range(100_000):  # far deeper than Python's recursion limit
        deep = [deep]
    assert json_problem(deep) == "it nests deeper than 64 levels"
    assert json_problem({"k": "\udc80"}) == "a string holds an unpaired UTF-16 surrogate"
    assert json_problem({"\ud800": 1}) == "a string holds an unpaired UTF-16 surrogate"
    nested: object = 1
    for _ in range(64):
        nested = {"x": nested}
    assert json_problem(nested) is None
    assert json_problem({"y": nested}) is not None
