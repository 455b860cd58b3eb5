"""Response bodies of the HTTP API as pydantic models, for the OpenAPI document at /docs.

The API returns plain JSON built by the store and the engine (`to_json()`); these models
describe that JSON so clients and schemathesis can check it.  Hashes are standard base64.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    """Every refusal: a stable kebab-case code (docs/server.md lists them) and a message."""

    code: str = Field(examples=["reused-nonce"])
    message: str


class Ack(BaseModel):
    """The entry is durable: where it is, when, the checkpoint covering it, and the proof."""

    index: int = Field(ge=0)
    integrated_at: str = Field(examples=["2026-03-05T11:06:00Z"])
    checkpoint: str = Field(description="The signed checkpoint note (C2SP tlog-checkpoint) covering the entry.")
    inclusion_proof: list[str] = Field(description="RFC 9162 inclusion proof in that checkpoint's tree, base64.")


class WitnessInfo(BaseModel):
    verifier_key: str
    url: str
    last_size: int | None = None
    last_error: str | None = None


class AgreementInfo(BaseModel):
    """A registered agreement and its log."""

    model_config = ConfigDict(extra="allow")

    id: str
    origin: str = Field(description="The first line of the log's checkpoints.")
    agreement_hash: str = Field(examples=["sha256:54f2…"])
    log_key: str = Field(description="The log's note verifier key (name+hexid+base64): trust this to verify.")
    created_at: str
    size: int = Field(ge=0, description="Entries in the log now.")


class AgreementDetail(AgreementInfo):
    title: str
    document: str = Field(description="The agreement file exactly as registered (YAML or JSON text).")
    witnesses: list[WitnessInfo] = Field(default_factory=list)


class AgreementList(BaseModel):
    agreements: list[AgreementInfo]


class InclusionProof(BaseModel):
    index: int = Field(ge=0)
    size: int = Field(ge=1)
    leaf_hash: str
    root: str
    proof: list[str]


class ConsistencyProof(BaseModel):
    old: int = Field(ge=0)
    new: int = Field(ge=0)
    old_root: str
    new_root: str
    proof: list[str]


class Entry(BaseModel):
    """One entries-file line."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0)
    integrated_at: str
    envelope: dict[str, Any]


class StatusBody(BaseModel):
    """The engine's status (DESIGN.md, Status)."""

    model_config = ConfigDict(extra="allow")

    agreement: str
    as_of: str
    adopted_at: str | None
    stages: dict[str, Any]
    obligations: dict[str, Any]
    rejected: list[Any]
    notifications: list[Any]


class ObligationBody(BaseModel):
    """One obligation: what the agreement says, where it stands, and why."""

    id: str
    as_of: str
    definition: dict[str, Any] = Field(description="The obligation as the agreement defines it.")
    status: dict[str, Any] = Field(description="Its entry in the status (state, due, verified, because …).")
    explanation: list[dict[str, Any]] = Field(description="The facts the state rests on, as data.")
    reasons: list[str] = Field(description="The same explanation in words, as `interlock explain` prints it.")
