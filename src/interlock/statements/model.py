"""Statement types and bodies exactly as DESIGN.md lists them ("Statements").

A statement is `{type, agreement, author, key, issued_at, nonce, body}`; its body's shape
depends on `type`.  These models check shape only; whether the author may say it is
authorisation (`interlock.engine.authorise`).  Personal data never enters a statement:
counts, categories, places and document hashes only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from interlock.agreement.model import Amount, Id, Timestamp
from interlock.errors import StatementError

StatementType = Literal[
    "adopt", "declare", "evidence", "attest", "incident", "impediment", "suspend",
    "dispute", "ruling", "extend", "waive", "amend", "note",
]
STATEMENT_TYPES: tuple[str, ...] = StatementType.__args__  # type: ignore[attr-defined]
EntryIndex = Annotated[int, Field(ge=0)]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Attachment(_Body):
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    name: Annotated[str, Field(min_length=1, max_length=256)] | None = None


class AdoptBody(_Body):
    pass


class ClaimBody(_Body):
    """`declare` and `evidence`: N units (or 1 for an `act`) observed at a moment.

    `categories` splits the units (`{civilian: 3, soldier: 1}`); when `units` is absent it is
    their sum, and when both are absent the claim is for one unit (an `act`).
    """

    obligation: Id
    units: Amount | None = None
    categories: dict[Id, Amount] | None = None
    observed_at: Timestamp
    place: Text | None = None
    attachments: list[Attachment] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _units_match_categories(self) -> ClaimBody:
        if self.units is not None and self.categories:
            total = sum(self.categories.values())
            if abs(total - self.units) > 1e-9:
                raise ValueError(f"units ({self.units}) must equal the sum of categories ({total})")
        return self

    @property
    def amount(self) -> float:
        if self.units is not None:
            return float(self.units)
        if self.categories:
            return float(sum(self.categories.values()))
        return 1.0


class AttestBody(_Body):
    entry: EntryIndex
    verdict: Literal["confirm", "reject"]
    attribution: Literal["confirmed", "unconfirmed"] | None = None
    note: Text | None = None


class IncidentBody(_Body):
    obligation: Id | None = None
    observed_at: Timestamp
    place: Text | None = None
    description: Text
    attachments: list[Attachment] = Field(default_factory=list, max_length=100)


class ImpedimentBody(_Body):
    obligation: Id | None = None
    observed_at: Timestamp
    place: Text | None = None
    description: Text


class SuspendBody(_Body):
    obligation: Id
    cites: list[EntryIndex] = Field(min_length=1)
    reason: Text


class DisputeBody(_Body):
    entry: EntryIndex
    reason: Text


class RulingBody(_Body):
    dispute: EntryIndex
    decision: Literal["upheld", "rejected"]


class ExtendBody(_Body):
    obligation: Id
    due: Timestamp


class WaiveBody(_Body):
    obligation: Id


class AmendBody(_Body):
    document: dict[str, Any]


class NoteBody(_Body):
    text: Text


BODIES: dict[str, type[_Body]] = {
    "adopt": AdoptBody,
    "declare": ClaimBody,
    "evidence": ClaimBody,
    "attest": AttestBody,
    "incident": IncidentBody,
    "impediment": ImpedimentBody,
    "suspend": SuspendBody,
    "dispute": DisputeBody,
    "ruling": RulingBody,
    "extend": ExtendBody,
    "waive": WaiveBody,
    "amend": AmendBody,
    "note": NoteBody,
}

Body = (
    AdoptBody | ClaimBody | AttestBody | IncidentBody | ImpedimentBody | SuspendBody
    | DisputeBody | RulingBody | ExtendBody | WaiveBody | AmendBody | NoteBody
)


class Statement(BaseModel):
    """One signed statement.  `body` is parsed into the model for `type`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: StatementType
    agreement: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
    author: Id
    key: Id
    issued_at: Timestamp
    nonce: Annotated[str, Field(min_length=1, max_length=128)]
    body: Body

    @model_validator(mode="before")
    @classmethod
    def _typed_body(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("type"), str):
            model = BODIES.get(data["type"])
            body = data.get("body", {})
            if model is not None and isinstance(body, dict):
                return {**data, "body": model.model_validate(body)}
        return data

    def to_json(self) -> dict[str, Any]:
        """The statement as JSON data (what is canonicalised and signed)."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=False)


def parse_statement(data: Any) -> Statement:
    """JSON data → `Statement`; raises `StatementError` saying what is wrong."""
    try:
        return Statement.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "statement"
        raise StatementError(f"{where}: {first['msg']}") from None
