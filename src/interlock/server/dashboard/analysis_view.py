"""The Analysis page's view-model: the report of `interlock analyze --format json` → the page.

Pure: a report (`interlock.analysis.to_json` data) in, plain rows out, so the page shows
exactly the figures the command prints.  Every side gets the same rows, in the agreement's
party order, and the same words; a side's figures are in its own scale (percentages of its
own total handover), never compared with another side's absolute values.  Times are shown as
`2 Mar 2026 06:00 UTC` with the offset from the simulated adoption (`+6 h`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from interlock.analysis.report import EQUAL_NOTE
from interlock.errors import BadParameterError
from interlock.server.dashboard.humanize import moment, number, span, when

Schedule = Literal["optimistic", "deadline"]
SCHEDULES: tuple[Schedule, ...] = ("optimistic", "deadline")
YES, NO = ("1", "true", "on", "yes"), ("", "0", "false", "off", "no")
LINES = ("solid line, round markers", "dashed line, square markers", "dotted line, triangle markers",
         "dash-dot line, diamond markers")
"""How `interlock.analysis_chart` draws the n-th side (its `STYLES`), in words."""


@dataclass(frozen=True)
class Options:
    schedule: Schedule = "optimistic"
    assume_monitor: bool = False

    def query(self) -> dict[str, str]:
        """The query string that asks for these options (defaults left out)."""
        out: dict[str, str] = {}
        if self.schedule != "optimistic":
            out["schedule"] = self.schedule
        if self.assume_monitor:
            out["assume_monitor"] = "1"
        return out


def read_options(params: Mapping[str, str]) -> Options:
    """`schedule=optimistic|deadline`, `assume_monitor=1|0|true|false|on|off|yes|no` (either may be
    absent).  Raises `BadParameterError` for anything else."""
    schedule = (params.get("schedule") or "optimistic").strip()
    if schedule not in SCHEDULES:
        raise BadParameterError(f"schedule must be optimistic or deadline, not {schedule!r}")
    flag = (params.get("assume_monitor") or "").strip().lower()
    if flag not in YES + NO:
        raise BadParameterError(f"assume_monitor must be 1 or 0, not {flag!r}")
    return Options("deadline" if schedule == "deadline" else "optimistic", flag in YES)


@dataclass(frozen=True)
class Cell:
    text: str
    detail: str = ""


@dataclass(frozen=True)
class MetricRow:
    key: str
    label: str
    help: str
    cells: tuple[Cell, ...]
    """One per side, in party order."""


@dataclass(frozen=True)
class Side:
    id: str
    name: str
    line: str
    """How the chart draws it, in words."""


@dataclass(frozen=True)
class Structure:
    deadlocks: tuple[str, ...]
    never_open: tuple[str, ...]
    not_in_run: tuple[str, ...]
    unverifiable: tuple[str, ...]
    unkeyed: tuple[str, ...]
    critical_path: tuple[tuple[str, str, datetime | None], ...]
    """(offset, what became true, when)."""
    duration: str
    span: str


@dataclass(frozen=True)
class CurveRow:
    at: datetime | None
    offset: str
    steps: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class StepRow:
    index: int
    obligation: str
    tranche: int
    by: str
    kind: str
    units: str
    at: datetime | None
    offset: str
    verified: str


@dataclass(frozen=True)
class AnalysisView:
    title: str
    agreement_id: str
    hash: str | None
    schedule: str
    adopted_at: datetime | None
    settled: bool
    sides: tuple[Side, ...]
    weights: str
    scale: str | None
    assumed_monitor_for: tuple[str, ...]
    notes: tuple[str, ...]
    metrics: tuple[MetricRow, ...]
    structure: Structure
    breaches: tuple[str, ...]
    chart_alt: str
    curve: tuple[CurveRow, ...]
    steps: tuple[StepRow, ...]

    def metric(self, key: str) -> MetricRow:
        return next(m for m in self.metrics if m.key == key)


def pct(value: float | None) -> str:
    """`50 %`, `12.3 %`; `—` for none (a side that hands over nothing)."""
    return "—" if value is None else f"{number(round(value, 1))} %"


def share(fraction: float | None) -> str:
    return "—" if fraction is None else pct(100 * fraction)


def signed(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    text = number(round(abs(value), 1))
    return f"{'+' if value > 0 else '−' if value < 0 and text != '0' else ''}{text} {unit}"


def offset(at: datetime | None, start: datetime | None) -> str:
    if at is None or start is None:
        return ""
    return "+0" if at <= start else f"+{span(at - start, parts=3)}"


def days(data: Mapping[str, Any] | None) -> str:
    if not data:
        return "—"
    delta = timedelta(days=float(data["days"]))
    return "0" if delta < timedelta(minutes=1) else span(delta, parts=3)


def ranges(numbers: Sequence[int]) -> str:
    """`0, 4–7, 9, 10`: runs of three or more consecutive step numbers shortened, ascending."""
    runs: list[list[int]] = []
    for n in sorted(set(numbers)):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs)


def _steps_text(steps: Sequence[int]) -> str:
    if not steps:
        return "none"
    return f"{len(steps)} (step{'s' if len(steps) > 1 else ''} {ranges(steps)})"


def _after(cuts: Sequence[int]) -> str:
    if not cuts:
        return "never"
    return f"after step{'s' if len(cuts) > 1 else ''} {ranges(cuts)}"


def _names(ids: Sequence[str], names: Mapping[str, str]) -> str:
    return ", ".join(names.get(i, i) for i in ids) or "nothing"


class _Reader:
    """Reads one report; `start` is the simulated adoption."""

    def __init__(self, report: Mapping[str, Any]) -> None:
        self.r = report
        self.start = moment(report.get("adopted_at"))
        self.names = {s["id"]: s["name"] for s in report["sides"]}
        self.equal = set(report["weights"]["equal"])

    def when(self, text: str | None) -> str:
        at = moment(text)
        return f"{when(at)} ({offset(at, self.start)})" if at else "—"

    def witness(self, w: Mapping[str, Any] | None, *, handed: str = "handed over") -> str:
        if not w or w.get("at") is None:
            return ""
        parts = [f"at step {w['step']}, {self.when(w['at'])}"]
        if w.get("obligations"):
            parts.append(f"{handed}: {', '.join(w['obligations'])}")
        if w.get("awaiting"):
            parts.append(f"awaiting: {', '.join(w['awaiting'])}")
        return "; ".join(parts)

    def temptation(self, t: Mapping[str, Any] | None) -> Cell:
        if not t:
            return Cell("no cut where stopping pays")
        return Cell(
            f"{number(t['value'])}: saves {number(t['saves'])}, forgoes {number(t['forgoes'])}, "
            f"penalty {number(t['penalty'])}",
            f"after step {t['after']}, {self.when(t['at'])}; would breach {', '.join(t['breached']) or 'nothing'}; "
            f"guarantors notified: {', '.join(t['notified']) or 'none'}; "
            f"suspended: {', '.join(t['suspended']) or 'none'}")

    def worse_off(self, d: Mapping[str, Any]) -> Cell:
        if not d["worse_off_after"]:
            return Cell("never")
        worst = d["worst"]
        return Cell(_after(d["worse_off_after"]),
                    f"worst standing {signed(worst['value'], '').strip()} ({pct(worst['pct'])} of its handover) "
                    + self.witness(worst["witness"]))

    def scale(self, e: Mapping[str, Any]) -> str:
        if e.get("party") in self.equal:
            return "equal weights: the whole handover counts 1"
        return f"in {self.r['weights']['scale']}" if self.r["weights"]["scale"] else "in the side's own valuation"

    def side_cells(self, e: Mapping[str, Any], d: Mapping[str, Any]) -> dict[str, Cell]:
        mx, integral, asym, big, final = e["max"], e["integral"], e["asymmetry"], e["largest_step"], e["final"]
        exposed = bool((mx["witness"] or {}).get("at"))
        waits = e["waits"]
        return {
            "max_exposure": Cell(
                pct(mx["pct"]) if e["total_handover"] else "— (hands over nothing)",
                f"{number(mx['value'])} of {number(e['total_handover'])}; {self.witness(mx['witness'])}"
                if exposed else "never exposed"),
            "total_handover": Cell(number(e["total_handover"]), self.scale(e)),
            "integral": Cell("—" if integral["pct_days"] is None else f"{number(integral['pct_days'])} %·days",
                             f"{number(integral['value_days'])} value·days"),
            "final": Cell(pct(final["pct"]),
                          f"{number(final['value'])} still exposed at the end" if final["value"] else ""),
            "asymmetry": Cell(signed(asym["max_pct_points"], "points"),
                              f"integral {signed(asym['integral_pct_days'], '%·days')}"
                              + (f"; {self.witness(asym['witness'])}" if asym["max_pct_points"] else "")),
            "trust_steps": Cell(_steps_text(e["trust_steps"]["steps"])),
            "unreciprocated": Cell(_steps_text(e["longest_unreciprocated"]["steps"])),
            "largest_step": Cell(pct(big["pct"]),
                                 f"{number(big['value'])}; {self.witness(big['witness'], handed='obligation')}"
                                 if (big["witness"] or {}).get("at") else ""),
            "worse_off": self.worse_off(d),
            "gains_by_stopping": Cell(_after(d["gains_by_stopping_after"])),
            "temptation": self.temptation(d["max_temptation"]),
            "escrow": Cell(share(e["coverage"]["escrow"])),
            "watched": Cell(share(e["coverage"]["guarantor_watched"])),
            "waits": Cell(
                "; ".join(f"{w['obligation']} (no {' and no '.join(w['missing'])})" for w in waits) or "none",
                "; ".join(f"{w['obligation']} from {self.when(w['at'])}, exposure {number(w['exposure'])}"
                          for w in waits)),
        }


METRICS = (
    ("max_exposure", "Maximum exposure",
     "What the side has handed over and not yet verifiably received, at its peak, as % of its own total handover."),
    ("total_handover", "Total handover", "Everything the side hands over, in its own scale (100 %)."),
    ("integral", "Exposure integral", "Exposure times how long it lasts, summed over the run."),
    ("final", "Final exposure", "Exposure left after the run's last event."),
    ("asymmetry", "Asymmetry",
     "The most this side's exposure % exceeds the other sides' at one moment, and the same for the integral."),
    ("trust_steps", "Trust steps", "Handovers made while the side was already exposed."),
    ("unreciprocated", "Longest unreciprocated run", "The most consecutive handovers with nothing received between."),
    ("largest_step", "Largest single step", "The side's costliest handover or deposit, as % of its total."),
    ("worse_off", "Worse off than at the start if everything stops",
     "Cuts after which the side has given more than it has verifiably received."),
    ("gains_by_stopping", "Gains by stopping", "Cuts after which stopping would pay for the side."),
    ("temptation", "Temptation against the consequence",
     "The most the side would gain by stopping: what it saves, minus what the plan's own rules make it forgo, "
     "minus its penalty."),
    ("escrow", "Guarantee coverage: escrow", "Share of the side's risk held by a guarantor in escrow."),
    ("watched", "Guarantee coverage: guarantor-watched",
     "Share of the exposure during which everything the side awaits has a guarantor notified on breach."),
    ("waits", "Waits without a deadline or a consequence",
     "Obligations the side waits on while exposed that have no due date, or nothing that follows a breach."),
)


def _node(text: str) -> str:
    kind, _, name = text.partition(":")
    return {"stage": f"stage {name} opens", "obligation": f"obligation {name}",
            "complete": f"stage {name} complete"}.get(kind, text)


def _structure(r: _Reader) -> Structure:
    s = r.r["structure"]
    grouped: dict[str, list[str]] = {}
    for u in s["unverifiable"]:
        grouped.setdefault(u["reason"], []).append(u["obligation"])
    return Structure(
        deadlocks=tuple(" waits on ".join(_node(n) for n in [*cycle, cycle[0]]) for cycle in s["deadlocks"]),
        never_open=tuple(f"{n['stage']}: {n['reason']}" for n in s["never_open"]),
        not_in_run=tuple(s["not_in_nominal_run"]),
        unverifiable=tuple(f"{', '.join(obs)}: {reason}" for reason, obs in grouped.items()),
        unkeyed=tuple(s["verifiers_without_keys"]),
        critical_path=tuple((offset(moment(p["at"]), r.start), p["what"], moment(p["at"])) for p in s["critical_path"]),
        duration=days(s["duration"]),
        span=days(s["span"]),
    )


def _curve(r: _Reader, sides: Sequence[str]) -> tuple[CurveRow, ...]:
    """One row per group of events that changed some side's exposure (and the first)."""
    curves = [r.r["exposure"][p]["curve"] for p in sides]
    rows: list[CurveRow] = []
    last: tuple[str, ...] | None = None
    for i, point in enumerate(curves[0] if curves else []):
        values = tuple(pct(c[i]["pct"]) if i < len(c) else "—" for c in curves)
        if values == last:
            continue
        last = values
        at = moment(point["at"])
        rows.append(CurveRow(at, offset(at, r.start), ", ".join(map(str, point["steps"])), values))
    return tuple(rows)


def _chart_alt(r: _Reader, sides: Sequence[Side]) -> str:
    parts = [f"Exposure over time, as % of each side's own total handover, against days since adoption "
             f"({r.r['schedule']} schedule)."]
    for side in sides:
        e = r.r["exposure"][side.id]
        peak, w = e["max"]["pct"], e["max"]["witness"]
        if peak is None:
            parts.append(f"{side.name} ({side.line}) hands over nothing.")
        elif not w or w.get("at") is None:
            parts.append(f"{side.name} ({side.line}) stays at 0 %.")
        else:
            parts.append(f"{side.name} ({side.line}) peaks at {pct(peak)} at {offset(moment(w['at']), r.start)} "
                         f"and ends at {pct(e['final']['pct'])}.")
    return " ".join(parts)


def build_analysis_view(report: Mapping[str, Any]) -> AnalysisView:
    """The page for one report (`interlock.analysis.to_json`).  Never raises for a report
    `to_json` produced."""
    r = _Reader(report)
    ids = [s["id"] for s in report["sides"]]
    sides = tuple(Side(p, r.names[p], LINES[i % len(LINES)]) for i, p in enumerate(ids))
    cells = {p: r.side_cells({**report["exposure"][p], "party": p}, report["defection"][p]) for p in ids}
    metrics = tuple(MetricRow(key, label, help_, tuple(cells[p][key] for p in ids)) for key, label, help_ in METRICS)
    equal = list(report["weights"]["equal"])
    weights = ("each side's own valuations" + (f" ({report['weights']['scale']})" if report["weights"]["scale"] else "")
               if not equal else
               f"equal weights for {_names(equal, r.names)}: no valuation was given, so what a side hands over counts "
               "100 % in total, split equally among the obligations it gives, and what it receives likewise")
    if equal and len(equal) < len(ids):
        weights = f"each side's own valuations, and {weights}"
    skip = EQUAL_NOTE.format(who=", ".join(equal)) if equal else None
    steps = tuple(
        StepRow(s["index"], s["obligation"], s["tranche"], r.names.get(s["giver"], s["giver"]), s["kind"],
                f"{number(s['units'])} {s['unit'] or ''}".strip(), moment(s["at"]), offset(moment(s["at"]), r.start),
                r.when(s["verified_at"]) if s["verified_at"] else "never verified")
        for s in report["steps"])
    return AnalysisView(
        title=report["agreement"]["title"], agreement_id=report["agreement"]["id"], hash=report["agreement"]["hash"],
        schedule=report["schedule"], adopted_at=r.start, settled=bool(report["settled"]), sides=sides,
        weights=weights, scale=report["weights"]["scale"], assumed_monitor_for=tuple(report["assumed_monitor_for"]),
        notes=tuple(n for n in report["notes"] if n != skip), metrics=metrics, structure=_structure(r),
        breaches=tuple(f"{b['obligation']} by {r.names.get(b['by'], b['by'])} at {r.when(b['at'])}"
                       for b in report["breaches"]),
        chart_alt=_chart_alt(r, sides), curve=_curve(r, ids), steps=steps,
    )
