"""The agreement file's data model (`interlock: 1`), as pydantic models.

These models check shape and types only: every key known, every value of the right type,
durations and timestamps well formed.  Cross-references (unknown parties, cycles, a debtor
verifying itself) are the checker's job (`interlock.agreement.check`), which reports them
with positions.  The JSON Schema of `interlock schema` is generated from these models.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PrivateAttr,
    Tag,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from interlock.errors import DurationError, TimestampError
from interlock.timeutil import (
    DURATION_PATTERN,
    TIMESTAMP_PATTERN,
    format_duration,
    parse_duration,
    parse_timestamp,
)


def _duration(value: object) -> timedelta:
    """Raises `PydanticCustomError` of type `bad-duration`: a finding, never a crash."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError(
            "bad-duration", "a duration must be a string such as 72h, not {value}", {"value": repr(value)}
        )
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise PydanticCustomError("bad-duration", "{reason}", {"reason": exc.message}) from None


def _timestamp(value: object) -> str:
    """Raises `PydanticCustomError` of type `bad-timestamp`."""
    if not isinstance(value, str):
        raise PydanticCustomError(
            "bad-timestamp",
            "a timestamp must be a string such as 2026-03-05T10:40:00Z, not {value}",
            {"value": repr(value)},
        )
    try:
        parse_timestamp(value)  # syntax only; the agreement's timezone is applied later
    except TimestampError as exc:
        raise PydanticCustomError("bad-timestamp", "{reason}", {"reason": exc.message}) from None
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["90m", "72h", "42d", "P1DT12H"]}),
]
Timestamp = Annotated[
    str,
    BeforeValidator(_timestamp),
    WithJsonSchema({"type": "string", "pattern": TIMESTAMP_PATTERN, "examples": ["2026-03-05T10:40:00Z"]}),
]
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Count = Annotated[int, Field(ge=1)]
Amount = Annotated[float | int, Field(gt=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)


# --- conditions ---------------------------------------------------------------------------


class Opened(_Model):
    opened: Id


class Verified(_Model):
    verified: Id


class Delivered(_Model):
    delivered: Id
    at_least: Amount


class StageComplete(_Model):
    stage_complete: Id


class Breached(_Model):
    breached: Id


class At(_Model):
    at: Timestamp


class After(_Model):
    after: Condition
    plus: Duration


class AllOf(_Model):
    all_: list[Condition] = Field(alias="all", min_length=1)


class AnyOf(_Model):
    any_: list[Condition] = Field(alias="any", min_length=1)


CONDITION_KEYS = ("opened", "verified", "delivered", "stage_complete", "breached", "at", "after", "all", "any")


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "adopted"
    if isinstance(value, BaseModel):
        return type(value).__name__
    if isinstance(value, dict):
        for key in CONDITION_KEYS:
            if key in value:
                return {"all": "AllOf", "any": "AnyOf", "stage_complete": "StageComplete"}.get(
                    key, key.capitalize()
                )
    return None


Condition = Annotated[
    Union[  # noqa: UP007 (tagged union needs typing.Union)
        Annotated[Literal["adopted"], Tag("adopted")],
        Annotated[Opened, Tag("Opened")],
        Annotated[Verified, Tag("Verified")],
        Annotated[Delivered, Tag("Delivered")],
        Annotated[StageComplete, Tag("StageComplete")],
        Annotated[Breached, Tag("Breached")],
        Annotated[At, Tag("At")],
        Annotated[After, Tag("After")],
        Annotated[AllOf, Tag("AllOf")],
        Annotated[AnyOf, Tag("AnyOf")],
    ],
    Discriminator(
        _condition_tag,
        custom_error_type="bad-condition",
        custom_error_message=(
            "a condition is `adopted` or a mapping with one of: " + ", ".join(CONDITION_KEYS)
        ),
    ),
]

# --- parties ------------------------------------------------------------------------------

Role = Literal["party", "guarantor", "monitor", "mediator"]


class Key(_Model):
    id: Id
    ed25519: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9+/]{43}=$", description="base64 of the 32-byte Ed25519 public key")
    ]


class Party(_Model):
    id: Id
    name: str = Field(min_length=1)
    role: Role
    keys: list[Key] = Field(default_factory=list)


class Adoption(_Model):
    requires: list[Id] = Field(min_length=1)


class Disputes(_Model):
    ruled_by: list[Id] = Field(min_length=1)
    quorum: Count = 1


# --- obligations --------------------------------------------------------------------------

Kind = Literal["deliver", "act", "rate", "refrain"]


class Quantity(_Model):
    """`amount` (or per-category `categories`) of `unit`; or `ratio` × verified units of `per`.

    `per_period` makes it a rate (`rate` obligations).  `ratio` may be one number or one per
    category.
    """

    amount: Amount | None = None
    unit: str | None = Field(default=None, min_length=1)
    categories: dict[Id, Amount] | None = None
    per: Id | None = None
    ratio: Amount | dict[Id, Amount] | None = None
    per_period: Duration | None = None


class AfterEach(_Model):
    after_each: Duration


def _due_tag(value: Any) -> str:
    if isinstance(value, AfterEach) or (isinstance(value, dict) and "after_each" in value):
        return "each"
    return "condition"


Due = Annotated[
    Union[  # noqa: UP007
        Annotated[AfterEach, Tag("each")], Annotated[Condition, Tag("condition")]
    ],
    Discriminator(_due_tag),
]


class Window(_Model):
    from_: Condition = Field(alias="from")
    until: Condition | None = None


class Verify(_Model):
    by: list[Id] = Field(min_length=1)
    quorum: Count = 1


class OnBreach(_Model):
    suspend: list[Id] = Field(default_factory=list)
    notify: list[Id] = Field(default_factory=list)
    grace: Duration | None = None


class Obligation(_Model):
    id: Id
    kind: Kind
    by: Id
    to: list[Id] = Field(default_factory=list)
    text: str | None = None
    clause: str | None = None
    quantity: Quantity | None = None
    tranches: Count | None = None
    starts: Condition | None = None
    due: Due | None = None
    window: Window | None = None
    verify: Verify | None = None
    on_breach: OnBreach | None = None

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("clause", mode="before")
    @classmethod
    def _clause_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class Stage(_Model):
    id: Id
    title: str | None = None
    text: str | None = None
    clause: str | None = None
    opens: Condition = "adopted"
    obligations: list[Obligation] = Field(default_factory=list)


class Agreement(_Model):
    """A whole agreement file.  `hash` is set by the loader (see `interlock.agreement.load`)."""

    interlock: Literal[1]
    id: Id
    title: str = Field(min_length=1)
    clauses_source: str | None = None
    timezone: str = "UTC"
    parties: list[Party] = Field(min_length=1)
    adoption: Adoption | None = None
    disputes: Disputes | None = None
    max_report_delay: Duration | None = None
    stages: list[Stage] = Field(min_length=1)
    _hash: str | None = PrivateAttr(default=None)

    @property
    def hash(self) -> str:
        """`sha256:…` of the canonical document as written; set by the loader."""
        if self._hash is None:
            raise ValueError("this Agreement was not made by the loader and has no hash")
        return self._hash

    def party(self, party_id: str) -> Party | None:
        return next((p for p in self.parties if p.id == party_id), None)

    def obligations(self) -> list[tuple[Stage, Obligation]]:
        return [(stage, ob) for stage in self.stages for ob in stage.obligations]

    def obligation(self, obligation_id: str) -> Obligation | None:
        return next((ob for _, ob in self.obligations() if ob.id == obligation_id), None)

    def stage_of(self, obligation_id: str) -> Stage | None:
        return next((st for st, ob in self.obligations() if ob.id == obligation_id), None)

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def required_adopters(self) -> list[str]:
        """Who must adopt: `adoption.requires`, by default every party and guarantor."""
        if self.adoption is not None:
            return list(self.adoption.requires)
        return [p.id for p in self.parties if p.role in ("party", "guarantor")]


After.model_rebuild()
AllOf.model_rebuild()
AnyOf.model_rebuild()
Window.model_rebuild()
Obligation.model_rebuild()
Stage.model_rebuild()
Agreement.model_rebuild()
