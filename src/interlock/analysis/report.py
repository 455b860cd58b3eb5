"""An `Analysis` as JSON data (`interlock analyze --format json`), and the table rows.

The JSON is stable: keys as documented in docs/analysis.md ("JSON output"), times as
`2026-03-05T10:40:00Z`, durations as `{"text": "3d", "days": 3.0}`, numbers rounded to six
decimals, percentages 0–100 (`null` when a side hands over nothing).  Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from interlock.analysis.defection import PartyDefection, Temptation
from interlock.analysis.exposure import PartyExposure, Witness, pct
from interlock.analysis.pipeline import Analysis
from interlock.analysis.start import Start
from interlock.analysis.steps import Step
from interlock.analysis.structure import Structure
from interlock.timeutil import format_duration, format_timestamp

FORMAT_VERSION = 1
EQUAL_NOTE = (
    "no valuation given for {who}: equal weights — what a side hands over counts 100 % in "
    "total, split equally among the obligations it gives, and what it receives likewise"
)


def num(x: float | None) -> float | None:
    if x is None:
        return None
    r = round(x, 6)
    return 0.0 if r == 0 else r


def ts(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)


def span(delta: timedelta | None) -> dict[str, Any] | None:
    if delta is None:
        return None
    return {"text": format_duration(delta), "days": num(delta / timedelta(days=1))}


def witness(w: Witness | None) -> dict[str, Any] | None:
    if w is None:
        return None
    return {"step": w.step, "at": ts(w.at), "obligations": list(w.obligations), "awaiting": list(w.awaiting)}


def step_json(s: Step) -> dict[str, Any]:
    return {
        "index": s.index, "obligation": s.obligation, "tranche": s.tranche, "giver": s.giver,
        "sender": s.sender, "kind": s.kind, "units": num(s.units), "unit": s.unit,
        "at": ts(s.at), "verified_at": ts(s.verified_at), "cost": num(s.cost),
        "receives": {p: num(v) for p, v in sorted(s.receives.items())}, "escrow": s.escrow,
        "earmarked": {p: num(v) for p, v in sorted(s.earmarked.items())},
    }


def exposure_json(e: PartyExposure) -> dict[str, Any]:
    return {
        "total_handover": num(e.total),
        "max": {"value": num(e.max), "pct": num(e.max_pct), "witness": witness(e.max_witness)},
        "integral": {"value_days": num(e.integral), "pct_days": num(e.integral_pct)},
        "final": {"value": num(e.final), "pct": num(pct(e.final, e.total))},
        "trust_steps": {"count": len(e.trust_steps), "steps": list(e.trust_steps)},
        "longest_unreciprocated": {"count": len(e.longest_unreciprocated),
                                   "steps": list(e.longest_unreciprocated)},
        "largest_step": {"value": num(e.largest_step), "pct": num(e.largest_step_pct),
                         "witness": witness(e.largest_witness)},
        "coverage": {"escrow": num(e.escrow_coverage), "guarantor_watched": num(e.watched_coverage)},
        "waits": [
            {"obligation": w.obligation, "missing": list(w.missing), "at": ts(w.at), "exposure": num(w.exposure)}
            for w in e.waits
        ],
        "asymmetry": {"max_pct_points": num(e.asymmetry_pct), "witness": witness(e.asymmetry_witness),
                      "integral_pct_days": num(e.asymmetry_integral_pct)},
        "curve": [
            {"at": ts(p.at), "steps": list(p.steps), "exposure": num(p.exposure), "pct": num(pct(p.exposure, e.total)),
             "gross": num(p.gross), "handed": num(p.handed), "escrowed": num(p.escrowed),
             "received": num(p.received), "secured": num(p.secured)}
            for p in e.curve
        ],
    }


def temptation_json(t: Temptation | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {
        "after": t.after, "at": ts(t.at), "value": num(t.value), "saves": num(t.saves),
        "forgoes": num(t.forgoes), "penalty": num(t.penalty), "breached": list(t.breached),
        "notified": list(t.notified), "suspended": list(t.suspended),
    }


def defection_json(d: PartyDefection) -> dict[str, Any]:
    standing = dict(d.standing)
    return {
        "worse_off_after": list(d.worse_off_after),
        "worst": {"value": num(d.worst), "pct": num(d.worst_pct), "witness": witness(d.worst_witness)},
        "gains_by_stopping_after": list(d.gains_by_stopping_after),
        "max_temptation": temptation_json(d.max_temptation),
        "cuts": [
            {"after": t.after, "at": ts(t.at), "standing": num(standing.get(t.after)),
             "temptation": num(t.value), "saves": num(t.saves), "forgoes": num(t.forgoes),
             "penalty": num(t.penalty)}
            for t in d.temptations
        ],
    }


def structure_json(s: Structure) -> dict[str, Any]:
    return {
        "deadlocks": [list(d.cycle) for d in s.deadlocks],
        "never_open": [{"stage": n.stage, "reason": n.reason} for n in s.never_open],
        "not_in_nominal_run": list(s.not_in_run),
        "unverifiable": [{"obligation": u.obligation, "reason": u.reason} for u in s.unverifiable],
        "verifiers_without_keys": list(s.unkeyed_verifiers),
        "critical_path": [
            {"at": ts(p.at), "offset": span(p.offset), "what": p.what} for p in s.critical_path
        ],
        "duration": span(s.duration),
        "span": span(s.span),
    }


def start_json(start: Start) -> dict[str, Any]:
    """When the simulated run starts, and why (`interlock.analysis.start`)."""
    return {"at": ts(start.at), "source": start.source, "reason": start.reason}


def notes(a: Analysis) -> list[str]:
    out = list(a.run.notes)
    if a.equal_weights:
        out.insert(0, EQUAL_NOTE.format(who=", ".join(a.equal_weights)))
    if a.assumed:
        out.append("what-if: an assumed monitor verifies " + ", ".join(a.assumed)
                   + " (nobody named in the plan can)")
    if not a.run.settled:
        out.append("figures come from an unsettled schedule; treat them with care")
    return out


def to_json(a: Analysis) -> dict[str, Any]:
    """The analysis as JSON data."""
    ag = a.agreement
    try:
        digest: str | None = ag.hash
    except ValueError:
        digest = None
    return {
        "analysis": FORMAT_VERSION,
        "agreement": {"id": ag.id, "title": ag.title, "hash": digest},
        "schedule": a.mode,
        "simulation": True,
        "adopted_at": ts(a.run.adopted.at),
        "start": start_json(a.began),
        "horizon": ts(a.run.horizon),
        "settled": a.run.settled,
        "weights": {"equal": list(a.equal_weights), "scale": a.valuation.scale},
        "assumed_monitor_for": list(a.assumed),
        "notes": notes(a),
        "sides": [{"id": p, "name": a.name(p)} for p in a.sides],
        "stages": {
            s.id: {"opened_at": ts(m.at) if (m := a.run.stage_opened.get(s.id)) else None,
                   "completed_at": ts(c.at) if (c := a.run.stage_completed.get(s.id)) else None}
            for s in ag.stages
        },
        "breaches": [{"obligation": b.obligation, "by": b.by, "at": ts(b.at)} for b in a.run.breaches],
        "steps": [step_json(s) for s in a.steps],
        "exposure": {p: exposure_json(a.exposure[p]) for p in a.sides},
        "defection": {p: defection_json(a.defection[p]) for p in a.sides},
        "structure": structure_json(a.structure),
    }


def headline(a: Analysis) -> dict[str, dict[str, Any]]:
    """The per-side figures a table or a comparison shows, keyed by metric then side."""
    rows: dict[str, dict[str, Any]] = {}

    def put(metric: str, values: Mapping[str, Any]) -> None:
        rows[metric] = dict(values)

    e, d = a.exposure, a.defection
    put("max_exposure_pct", {p: num(e[p].max_pct) for p in a.sides})
    put("exposure_integral_pct_days", {p: num(e[p].integral_pct) for p in a.sides})
    put("asymmetry_pct_points", {p: num(e[p].asymmetry_pct) for p in a.sides})
    put("trust_steps", {p: len(e[p].trust_steps) for p in a.sides})
    put("largest_step_pct", {p: num(e[p].largest_step_pct) for p in a.sides})
    put("worse_off_cuts", {p: len(d[p].worse_off_after) for p in a.sides})
    put("max_temptation", {p: num(t.value) if (t := d[p].max_temptation) else 0.0 for p in a.sides})
    put("escrow_coverage", {p: num(e[p].escrow_coverage) for p in a.sides})
    put("waits_without_terms", {p: len(e[p].waits) for p in a.sides})
    return rows


def side_ids(a: Analysis) -> Sequence[str]:
    return a.sides
