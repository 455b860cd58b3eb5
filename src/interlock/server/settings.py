"""The server's settings: limits, clock skew, rate limits, operator keys, witnesses.

One frozen pydantic model so that `interlock serve` can hand it to every uvicorn worker as
JSON (`INTERLOCK_SERVER_CONFIG`) and tests can build it directly.  Every limit has a default
a small deployment can live with; docs/server.md explains each.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_BODY_CEILING = 65_000  # an entry (body + integration time) must fit a C2SP entry bundle


class RateLimit(BaseModel):
    """A token bucket: `per_minute` sustained, up to `burst` at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    per_minute: Annotated[float, Field(gt=0)]
    burst: Annotated[int, Field(ge=1)]


class WitnessConfig(BaseModel):
    """A C2SP tlog-witness: where to POST add-checkpoint and its cosigner verifier key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    verifier_key: str


class ServerSettings(BaseModel):
    """Everything `create_app` needs besides the store URL and the log key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The first part of every log's checkpoint origin (`<origin_prefix>/<agreement id>`);
    #: None means the log key's name.
    origin_prefix: str | None = None
    #: Largest request body for a statement (DSSE envelope), in bytes.  C2SP entry bundles hold
    #: entries of at most 65,535 bytes; an entry is the envelope's canonical text (never longer
    #: than the body it came in) plus ~60 bytes for `integrated_at`, so 65,000 is the ceiling.
    max_body_bytes: Annotated[int, Field(ge=256, le=MAX_BODY_CEILING)] = 60 * 1024
    #: Largest agreement file `POST /v1/agreements` accepts.
    max_agreement_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    #: How far a statement's issued_at may lie ahead of the server's clock …
    max_future_skew: timedelta = timedelta(minutes=5)
    #: … and how far behind it (statements signed offline in the field arrive late).
    max_past_skew: timedelta = timedelta(hours=24)
    #: Statements per signing key (counted only when the signature verifies).
    key_rate: RateLimit = RateLimit(per_minute=120, burst=60)
    #: Requests of any kind per client address (after uvicorn's proxy-header handling).
    address_rate: RateLimit = RateLimit(per_minute=1200, burst=300)
    #: Base64 Ed25519 public keys allowed to register agreements (none: registration closed).
    operator_keys: tuple[str, ...] = ()
    #: Most entries one `GET …/entries` page returns.
    max_page: Annotated[int, Field(ge=1, le=10_000)] = 1000
    #: Seconds to wait for one witness to answer.
    witness_timeout: Annotated[float, Field(gt=0)] = 5.0
    #: Seconds between sweeps that push the latest checkpoint to witnesses that lag behind.
    witness_interval: Annotated[float, Field(gt=0)] = 2.0
    #: Worker processes per log that check submissions (shape, canonical form, signature)
    #: while the previous batch commits; 0: in the request threads.  Each costs one Python
    #: process per log per server worker, so it is for logs that take many statements.
    prepare_processes: Annotated[int, Field(ge=0, le=64)] = 0
