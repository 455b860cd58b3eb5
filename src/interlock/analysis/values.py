"""VALUES.yaml: each party's own valuation of the obligations, and the run's assumptions.

Valuations are subjective and often private: party A's value for receiving X may differ
from B's cost of giving X.  So the file gives, *per party*, a value per unit of each
obligation that party gives or receives, in that party's own scale (scales are never
compared across parties; cross-party figures use percentages of each side's own total)::

    values: 1
    scale: points                     # a label for the numbers, optional
    parties:
      a:                              # a party id from the agreement
        release: 8                    # per person: a's value of receiving them
        answer: 1                     # per person: a's cost of giving them
        withdraw: 30
      b: {...}
    reversible: {withdraw: 0.5}       # share of a handover its giver can take back (0..1)
    penalties: {a: 40}                # what a party loses once a guarantor is notified of its breach
    verification_lag: {default: 2h, release: 6h}
    start: 2026-03-03T09:00:00Z       # the adoption moment of the simulated run
    horizon: 60d                      # how long after adoption open-ended rate windows run

A party listed under `parties` must value every obligation it gives or receives.  For a party
not listed the analysis uses *equal weights* and says so: what the party hands over counts
1 (100 %) in total, split equally among the obligations it gives, and what it receives
counts 1 in total, split equally among the obligations it receives (each obligation's share
spread evenly over its units).  This assumes each side values the whole exchange at par —
it signed it — and takes no view on which obligation matters more.  Pure: `parse_values(data, agreement)` validates
data already read from YAML; it raises `ValuesError` naming the first problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from interlock.agreement.model import Agreement, Duration, Id, Timestamp
from interlock.errors import ValuesError
from interlock.timeutil import parse_timestamp

NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class ValuesFile(BaseModel):
    """The file's shape (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    values: Literal[1]
    scale: str | None = None
    parties: dict[Id, dict[Id, NonNegative]] = Field(default_factory=dict)
    reversible: dict[Id, Share] = Field(default_factory=dict)
    penalties: dict[Id, NonNegative] = Field(default_factory=dict)
    verification_lag: dict[Id, Duration] = Field(default_factory=dict)
    start: Timestamp | None = None
    horizon: Duration | None = None


@dataclass(frozen=True)
class Valuation:
    """Resolved valuations.  `per_unit[party][obligation]` for valued parties only."""

    per_unit: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    reversible: Mapping[str, float] = field(default_factory=dict)
    penalties: Mapping[str, float] = field(default_factory=dict)
    lags: Mapping[str, timedelta] = field(default_factory=dict)
    default_lag: timedelta = timedelta(0)
    start: datetime | None = None
    horizon: timedelta | None = None
    scale: str | None = None

    def valued(self, party: str) -> bool:
        return party in self.per_unit

    def worth(
        self, party: str, obligation: str, units: float, total_units: float, share: float = 1.0,
    ) -> float:
        """`party`'s value of `units` of `obligation`.

        Equal weights: `share` (the obligation's share of the party's handover or receipts)
        × units / total units of the obligation.
        """
        if party in self.per_unit:
            return self.per_unit[party].get(obligation, 0.0) * units
        return share * units / total_units if total_units > 0 else 0.0

    def keep(self, obligation: str) -> float:
        """The irreversible share of a handover of `obligation` (1 − reversible)."""
        return 1.0 - self.reversible.get(obligation, 0.0)


EQUAL = Valuation()


def parse_values(
    data: Any, agreement: Agreement, *, also_known: Iterable[str] = (),
) -> Valuation:
    """Validate VALUES data against `agreement`; raises `ValuesError`.

    `also_known` lists further obligation ids to accept (a comparison's other draft).
    """
    try:
        raw = ValuesFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "values"
        raise ValuesError(f"{where}: {first['msg']}") from None
    sides = {p.id for p in agreement.parties if p.role == "party"}
    known = {ob.id for _, ob in agreement.obligations()} | set(also_known)
    for party, table in raw.parties.items():
        if party not in sides:
            raise ValuesError(f"parties.{party}: not a party of the agreement (parties: {', '.join(sorted(sides))})")
        for oid in table:
            if oid not in known:
                raise ValuesError(f"parties.{party}.{oid}: no such obligation in the agreement")
        missing = [oid for oid in involved(agreement, party) if oid not in table]
        if missing:
            raise ValuesError(
                f"parties.{party}: no value for {', '.join(missing)}; a listed party must value every "
                "obligation it gives or receives (leave the party out for equal weights)"
            )
    for section in ("reversible", "verification_lag"):
        for oid in getattr(raw, section):
            if oid not in known and not (section == "verification_lag" and oid == "default"):
                raise ValuesError(f"{section}.{oid}: no such obligation in the agreement")
    for party in raw.penalties:
        if party not in sides:
            raise ValuesError(f"penalties.{party}: not a party of the agreement")
    lags = dict(raw.verification_lag)
    default_lag = lags.pop("default", timedelta(0))
    start = parse_timestamp(raw.start, agreement.timezone) if raw.start else None
    return Valuation(
        {p: dict(t) for p, t in raw.parties.items()}, dict(raw.reversible), dict(raw.penalties),
        lags, default_lag, start, raw.horizon, raw.scale,
    )


def involved(agreement: Agreement, party: str) -> list[str]:
    """Obligations (not refrains) that `party` gives or receives, in agreement order."""
    from interlock.analysis.flows import receivers_of

    out = []
    for _, ob in agreement.obligations():
        if ob.kind == "refrain":
            continue
        if ob.by == party or party in receivers_of(agreement, ob):
            out.append(ob.id)
    return out


__all__ = ["EQUAL", "Valuation", "ValuesFile", "involved", "parse_values"]
