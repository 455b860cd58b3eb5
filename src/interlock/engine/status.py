"""The engine's answer as plain frozen data, and its JSON form (DESIGN.md, "Status").

`Status.to_json()` gives exactly DESIGN.md's shape: `agreement`, `as_of`, `adopted_at`,
`stages`, `obligations`, `rejected`, `notifications`, plus `"simulation": true` when the log
held unsigned what-if statements.  Everything else carried here (`kind`, `since`, `facts`)
serves `interlock explain` and is not part of the JSON contract.

Numbers: amounts that are whole print as integers (`12`, not `12.0`).  Lists are in a fixed
order (indices ascending, flags alphabetical, notifications by time then obligation), so two
evaluations of the same log give byte-identical JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from interlock.timeutil import format_timestamp

OBLIGATION_STATES = ("pending", "active", "fulfilled", "late", "breached", "suspended", "waived")
STAGE_STATES = ("locked", "open", "complete", "breached")


def number(value: float | None) -> int | float | None:
    """A quantity for JSON: whole numbers as `int`, others as `float`, `None` kept."""
    if value is None:
        return None
    if float(value).is_integer():
        return int(value)
    return float(value)


def stamp(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)


@dataclass(frozen=True)
class Rejection:
    """An entry the engine refused: never counted.  `code` is stable kebab-case."""

    index: int
    code: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "reason": self.reason, "code": self.code}


@dataclass(frozen=True)
class Fact:
    """One link of an explanation, as data; `interlock explain` puts it into words.

    `what` names the kind of fact (see `interlock.engine.explain` for each); `entries` are the
    log indices it rests on; `at`, `amount`, `ref` and `text` carry its particulars.
    """

    what: str
    entries: tuple[int, ...] = ()
    at: datetime | None = None
    amount: float | None = None
    ref: str | None = None
    text: str | None = None
    extra: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.extra).get(key, default)


@dataclass(frozen=True)
class TrancheStatus:
    """One answer owed by a proportional obligation: `owed` units for base claim `base`."""

    base: int
    owed: float
    delivered: float
    due: datetime | None
    state: str
    because: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "owed": number(self.owed),
            "delivered": number(self.delivered),
            "due": stamp(self.due),
            "state": self.state,
            "because": list(self.because),
        }


@dataclass(frozen=True)
class PeriodStatus:
    """One period of a `rate` obligation: `met`, `short`, `open` (not yet assessed) or `partial`."""

    start: datetime
    end: datetime
    units: float
    required: float
    state: str

    def to_json(self) -> dict[str, Any]:
        return {
            "from": stamp(self.start),
            "until": stamp(self.end),
            "units": number(self.units),
            "required": number(self.required),
            "state": self.state,
        }


@dataclass(frozen=True)
class ObligationStatus:
    """Where one obligation stands.  `since` is when it entered `state` (None if unknown)."""

    id: str
    kind: str
    state: str
    stage: str
    by: str
    to: tuple[str, ...]
    required: float | None
    verified: float
    unit: str | None
    due: datetime | None
    flags: tuple[str, ...]
    because: tuple[int, ...]
    since: datetime | None = None
    tranches: tuple[TrancheStatus, ...] = ()
    periods: tuple[PeriodStatus, ...] = ()
    facts: tuple[Fact, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "stage": self.stage,
            "by": self.by,
            "to": list(self.to),
            "required": number(self.required),
            "verified": number(self.verified),
            "unit": self.unit,
            "due": stamp(self.due),
            "flags": list(self.flags),
            "because": list(self.because),
            "tranches": [t.to_json() for t in self.tranches],
            "periods": [p.to_json() for p in self.periods],
        }


@dataclass(frozen=True)
class StageStatus:
    """Where one stage stands.  `completed_at` is the `stage_complete` moment, if reached."""

    id: str
    state: str
    opened_at: datetime | None
    because: tuple[int, ...]
    completed_at: datetime | None = None
    breached_at: datetime | None = None
    facts: tuple[Fact, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "opened_at": stamp(self.opened_at), "because": list(self.because)}


@dataclass(frozen=True)
class Notification:
    """A breach of `obligation` at `at` to be reported to `notify` (its `on_breach.notify`)."""

    obligation: str
    notify: tuple[str, ...]
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"obligation": self.obligation, "notify": list(self.notify), "at": stamp(self.at)}


@dataclass(frozen=True)
class Status:
    """The whole answer of `evaluate(agreement, entries, as_of)`."""

    agreement: str
    as_of: datetime
    adopted_at: datetime | None
    stages: dict[str, StageStatus]
    obligations: dict[str, ObligationStatus]
    rejected: tuple[Rejection, ...] = ()
    notifications: tuple[Notification, ...] = ()
    simulation: bool = False
    adopted_because: tuple[int, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "agreement": self.agreement,
            "as_of": stamp(self.as_of),
            "adopted_at": stamp(self.adopted_at),
            "stages": {sid: st.to_json() for sid, st in self.stages.items()},
            "obligations": {oid: ob.to_json() for oid, ob in self.obligations.items()},
            "rejected": [r.to_json() for r in self.rejected],
            "notifications": [n.to_json() for n in self.notifications],
        }
        if self.simulation:
            data["simulation"] = True
        return data
