"""A typed, read-only view of the engine's Status JSON, as the dashboard reads it.

The dashboard never recomputes compliance: every state shown comes from `Status.to_json()`
(DESIGN.md, Status).  This module only parses that JSON into small frozen records, tolerating
optional fields the engine may leave out (a missing field reads as "unknown", never as a
guess).  Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from interlock.server.dashboard.humanize import moment


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _ints(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, int) and not isinstance(v, bool))


def _strs(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def _flags(value: Any) -> tuple[str, ...]:
    """Flags may be plain names or objects with a `flag`/`name`/`kind` field."""
    out: list[str] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            name = item.get("flag") or item.get("name") or item.get("kind") or item.get("type")
            if isinstance(name, str):
                out.append(name)
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class StageFacts:
    id: str
    state: str
    opened_at: datetime | None = None
    completed_at: datetime | None = None
    breached_at: datetime | None = None
    because: tuple[int, ...] = ()


@dataclass(frozen=True)
class TrancheFacts:
    """One tranche of a proportional obligation (or one claim counted toward a deliver)."""

    number: int
    state: str | None
    required: float | None
    verified: float | None
    due: datetime | None
    because: tuple[int, ...] = ()
    base: int | None = None  # the base obligation's claim this tranche answers


@dataclass(frozen=True)
class PeriodFacts:
    """One calendar period of a rate obligation; `state` met | short | open | partial."""

    start: datetime | None
    end: datetime | None
    units: float | None
    required: float | None
    assessed: bool
    state: str | None
    because: tuple[int, ...] = ()


@dataclass(frozen=True)
class ObligationFacts:
    id: str
    state: str
    stage: str | None = None
    by: str | None = None
    to: tuple[str, ...] = ()
    required: float | None = None
    verified: float | None = None
    unit: str | None = None
    due: datetime | None = None
    verified_at: datetime | None = None
    breached_at: datetime | None = None
    since: datetime | None = None  # when it entered its state (the engine's `since`, if given)
    flags: tuple[str, ...] = ()
    because: tuple[int, ...] = ()
    tranches: tuple[TrancheFacts, ...] = ()
    periods: tuple[PeriodFacts, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class StatusFacts:
    agreement: str | None
    as_of: datetime | None
    adopted_at: datetime | None
    stages: dict[str, StageFacts]
    obligations: dict[str, ObligationFacts]
    rejected: tuple[tuple[int, str], ...] = ()
    notifications: tuple[dict[str, Any], ...] = ()

    def stage(self, stage_id: str) -> StageFacts:
        return self.stages.get(stage_id) or StageFacts(stage_id, "locked")

    def obligation(self, obligation_id: str) -> ObligationFacts:
        return self.obligations.get(obligation_id) or ObligationFacts(obligation_id, "pending")

    def rejected_reason(self, index: int) -> str | None:
        return next((reason for i, reason in self.rejected if i == index), None)


def _tranche(number: int, data: Any) -> TrancheFacts:
    data = data if isinstance(data, dict) else {}
    return TrancheFacts(
        number=number,
        state=data.get("state") if isinstance(data.get("state"), str) else None,
        required=_num(data.get("owed", data.get("required"))),
        verified=_num(data.get("delivered", data.get("verified"))),
        due=moment(data.get("due")) if isinstance(data.get("due"), str) else None,
        because=_ints(data.get("because")),
        base=data.get("base") if isinstance(data.get("base"), int) else None,
    )


def _period(data: Any) -> PeriodFacts:
    data = data if isinstance(data, dict) else {}
    units = _num(data.get("verified", data.get("units", data.get("delivered"))))
    state = data.get("state") if isinstance(data.get("state"), str) else None
    assessed = data.get("assessed")
    if not isinstance(assessed, bool):
        assessed = state not in ("open", "partial") and not data.get("partial", False)
    return PeriodFacts(
        start=_when(data, "from", "start"),
        end=_when(data, "until", "end"),
        units=units,
        required=_num(data.get("required")),
        assessed=assessed,
        state=state,
        because=_ints(data.get("because")),
    )


def _when(data: dict[str, Any], *keys: str) -> datetime | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            return moment(value)
    return None


def read_status(status: dict[str, Any]) -> StatusFacts:
    """Status JSON → `StatusFacts`.  Unknown or missing fields become None/empty."""
    stages = {}
    for sid, value in (status.get("stages") or {}).items():
        data = value if isinstance(value, dict) else {}
        stages[sid] = StageFacts(
            id=sid,
            state=str(data.get("state", "locked")),
            opened_at=_when(data, "opened_at"),
            completed_at=_when(data, "completed_at", "complete_at"),
            breached_at=_when(data, "breached_at"),
            because=_ints(data.get("because")),
        )
    obligations = {}
    for oid, value in (status.get("obligations") or {}).items():
        data = value if isinstance(value, dict) else {}
        state = str(data.get("state", "pending"))
        since = _when(data, "since")
        obligations[oid] = ObligationFacts(
            id=oid,
            state=state,
            stage=data.get("stage") if isinstance(data.get("stage"), str) else None,
            by=data.get("by") if isinstance(data.get("by"), str) else None,
            to=_strs(data.get("to")),
            required=_num(data.get("required")),
            verified=_num(data.get("verified")),
            unit=data.get("unit") if isinstance(data.get("unit"), str) else None,
            due=_when(data, "due"),
            verified_at=_when(data, "verified_at") or (since if state in ("fulfilled", "late") else None),
            breached_at=_when(data, "breached_at") or (since if state == "breached" else None),
            since=since,
            flags=_flags(data.get("flags")),
            because=_ints(data.get("because")),
            tranches=tuple(_tranche(n, t) for n, t in enumerate(data.get("tranches") or [], start=1)),
            periods=tuple(_period(p) for p in data.get("periods") or []),
            raw=data,
        )
    rejected = tuple(
        (r["index"], str(r.get("reason", "")))
        for r in status.get("rejected") or []
        if isinstance(r, dict) and isinstance(r.get("index"), int)
    )
    notifications = tuple(n for n in status.get("notifications") or [] if isinstance(n, dict))
    return StatusFacts(
        agreement=status.get("agreement") if isinstance(status.get("agreement"), str) else None,
        as_of=_when(status, "as_of"),
        adopted_at=_when(status, "adopted_at"),
        stages=stages,
        obligations=obligations,
        rejected=rejected,
        notifications=notifications,
    )
