"""`interlock analyze PLAN`: sequencing and exposure analysis of a draft or adopted plan.

The imperative shell around `interlock.analysis`: reads the plan (and VALUES, and the other
draft), runs the pure analysis, prints a table or JSON, or writes a chart.  Exit 0 when the
analysis ran (findings are results, not failures); 1 on bad input; 2 on usage errors.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from interlock.agreement import load_agreement
from interlock.agreement.model import Agreement
from interlock.agreement.yamlsource import SourceProblem, load_yaml_bytes
from interlock.analysis.compare import compare, compare_json
from interlock.analysis.defection import PartyDefection
from interlock.analysis.pipeline import Analysis, analyse
from interlock.analysis.report import notes, to_json
from interlock.analysis.run import Mode
from interlock.analysis.suggest import BEAM, BUDGET, search, search_json, suggestions_json
from interlock.analysis.values import EQUAL, Valuation, parse_values
from interlock.cli.app import app, console, read_input, report_error
from interlock.errors import InputFileError, InterlockError, ValuesError
from interlock.timeutil import format_timestamp, parse_timestamp


class ScheduleMode(StrEnum):
    optimistic = "optimistic"
    deadline = "deadline"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    svg = "svg"
    png = "png"


def _load_values(path: Path | None, agreement: Agreement, other: Agreement | None) -> Valuation:
    if path is None:
        return EQUAL
    try:
        data = load_yaml_bytes(read_input(path)).data
    except SourceProblem as problem:
        where = f" (line {problem.line})" if problem.line else ""
        raise ValuesError(f"{path}{where}: {problem.message}") from None
    extra = [ob.id for _, ob in other.obligations()] if other is not None else []
    return parse_values(data, agreement, also_known=extra)


def _write(data: bytes, out: Path | None) -> None:
    """Write `data` to `out` atomically (or to stdout): nothing half-written."""
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    directory = out.parent if str(out.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputFileError(f"{out}: cannot write there ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputFileError(f"{out}: {exc.strerror or exc}") from None


def _fmt(value: Any, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}{suffix}"
    return f"{value}{suffix}"


def _offset(delta: timedelta) -> str:
    """`4d 14h 59m` (zero parts left out; `0` for none)."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (mins, "m")) if n]
    return " ".join(parts) or "0"


def _share(x: float | None) -> float | None:
    return None if x is None else 100.0 * x


def _temptation(d: PartyDefection) -> float | None:
    return None if d.max_temptation is None else d.max_temptation.value


def _side_table(a: Analysis) -> Table:
    table = Table(title="Per side", title_justify="left")
    table.add_column("metric")
    for p in a.sides:
        table.add_column(a.name(p), justify="right")
    e, d = a.exposure, a.defection

    def row(label: str, cells: list[str]) -> None:
        table.add_row(label, *cells)

    def at(p: str) -> str:
        w = e[p].max_witness
        if w.at is None:
            return "—"
        return f"step {w.step}, +{_offset(w.at - a.run.adopted.at)}"

    row("max exposure", [_fmt(e[p].max_pct, " %") for p in a.sides])
    row("  reached at", [at(p) for p in a.sides])
    row("exposure integral (%·days)", [_fmt(e[p].integral_pct) for p in a.sides])
    row("asymmetry (max, % points)", [_fmt(e[p].asymmetry_pct) for p in a.sides])
    row("trust steps", [str(len(e[p].trust_steps)) for p in a.sides])
    row("longest unreciprocated run", [str(len(e[p].longest_unreciprocated)) for p in a.sides])
    row("largest single step", [_fmt(e[p].largest_step_pct, " %") for p in a.sides])
    row("worse off if all stops (cuts)", [str(len(d[p].worse_off_after)) for p in a.sides])
    row("gains by stopping (cuts)", [str(len(d[p].gains_by_stopping_after)) for p in a.sides])
    row("max temptation", [_fmt(_temptation(d[p])) for p in a.sides])
    row("escrow coverage", [_fmt(_share(e[p].escrow_coverage), " %") for p in a.sides])
    row("guarantor-watched exposure", [_fmt(_share(e[p].watched_coverage), " %") for p in a.sides])
    row("waits without deadline/consequence", [
        ", ".join(f"{w.obligation} ({'/'.join(w.missing)})" for w in e[p].waits) or "—" for p in a.sides
    ])
    return table


def _print_analysis(a: Analysis) -> None:
    console.print(f"[bold]{a.agreement.title}[/] — {a.mode} schedule, simulated from "
                  f"{format_timestamp(a.run.adopted.at)}")
    console.print(f"  start: {a.began.reason}")
    for note in notes(a):
        console.print(f"  note: {note}")
    console.print(_side_table(a))
    s = a.structure
    console.print(f"duration {_offset(s.duration) if s.duration is not None else '—'} (deliveries), "
                  f"span {_offset(s.span)}")
    for label, items in (
        ("deadlock", [" → ".join(d.cycle) for d in s.deadlocks]),
        ("never opens", [f"{n.stage}: {n.reason}" for n in s.never_open]),
        ("not in the nominal run", list(s.not_in_run)),
        ("nobody can verify", _grouped(s.unverifiable)),
        ("verifier without a key", list(s.unkeyed_verifiers)),
    ):
        for item in items:
            console.print(f"  {label}: {item}")
    console.print("critical path:")
    for p in s.critical_path:
        console.print(f"  +{_offset(p.offset):>10}  {p.what}")


def _grouped(items: Any) -> list[str]:
    """One line per distinct reason: `reason: a, b, c`."""
    by: dict[str, list[str]] = {}
    for u in items:
        by.setdefault(u.reason, []).append(u.obligation)
    return [f"{', '.join(obs)}: {reason}" for reason, obs in by.items()]


def _print_compare(rows: dict[str, Any]) -> None:
    table = Table(title="Comparison (A = plan, B = --compare)", title_justify="left")
    for col in ("metric", "side", "A", "B", "prefers"):
        table.add_column(col)
    for row in rows["metrics"]:
        for side, cell in row["sides"].items():
            table.add_row(row["metric"], side, _fmt(cell["a"]), _fmt(cell["b"]), cell["prefers"] or "either")
    console.print(table)


def _print_suggestions(data: list[dict[str, Any]], search: dict[str, Any]) -> None:
    if search["cut_short"]:
        console.print(f"suggest: the search stopped at its budget ({search['budget']:,} units) before "
                      f"trying every {' or '.join(search['cut_short'])}; raise --suggest-budget to look further")
    if not data:
        console.print("suggest: no change found that lowers one side's maximum exposure without raising the other's")
        return
    table = Table(title="Suggestions", title_justify="left")
    for col in ("change", "max exposure after (%)", "lowers every exposed side"):
        table.add_column(col)
    for s in data:
        after = ", ".join(f"{p} {_fmt(v)}" for p, v in s["max_exposure_pct"].items())
        table.add_row(s["description"], after, "yes" if s["lowers_every_exposed_side"] else "no")
    console.print(table)


@app.command()
def analyze(
    plan: Annotated[Path, typer.Argument(help="The agreement (draft) file to analyse.")],
    *,
    values: Annotated[Path | None, typer.Option("--values", help="VALUES.yaml: each party's own valuations.")] = None,
    schedule: Annotated[ScheduleMode, typer.Option("--schedule", help="When obligations are met.")] = (
        ScheduleMode.optimistic
    ),
    other: Annotated[Path | None, typer.Option("--compare", help="A second draft to compare with.")] = None,
    want_suggestions: Annotated[bool, typer.Option("--suggest", help="Search better orders and changes.")] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table, json, svg or png.")] = OutputFormat.table,
    out: Annotated[Path | None, typer.Option("--out", help="Write the output to this file.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="Adoption moment of the simulated run.")] = None,
    assume_monitor: Annotated[bool, typer.Option(
        "--assume-monitor", help="What-if: a monitor verifies every obligation nobody can verify.")] = False,
    beam: Annotated[int, typer.Option("--beam", min=1, help="--suggest: width of the beam search.")] = BEAM,
    budget: Annotated[int, typer.Option(
        "--suggest-budget", min=0, help="--suggest: units of work in all, about a step scored each.")] = BUDGET,
) -> None:
    """Who is exposed when, where the plan deadlocks, and a better order (a simulation)."""
    request = Request(plan, values, schedule, other, want_suggestions, fmt, out, start, assume_monitor, beam, budget)
    try:
        _run(request)
    except InterlockError as err:
        report_error(err)
        raise typer.Exit(1) from None


@dataclass(frozen=True)
class Request:
    plan: Path
    values: Path | None
    schedule: ScheduleMode
    other: Path | None
    want_suggestions: bool
    fmt: OutputFormat
    out: Path | None
    start: str | None
    assume_monitor: bool
    beam: int = BEAM
    budget: int = BUDGET


def _run(r: Request) -> None:
    plan, values, schedule, other, want_suggestions = r.plan, r.values, r.schedule, r.other, r.want_suggestions
    fmt, out, start, assume_monitor = r.fmt, r.out, r.start, r.assume_monitor
    agreement = load_agreement(read_input(plan))
    second = load_agreement(read_input(other)) if other is not None else None
    valuation = _load_values(values, agreement, second)
    begin = parse_timestamp(start, agreement.timezone) if start else None
    mode: Mode = "optimistic" if schedule is ScheduleMode.optimistic else "deadline"
    result = analyse(agreement, valuation, mode, start=begin, assume_monitor=assume_monitor)
    compared = None
    if second is not None:
        other_values = _load_values(values, second, agreement) if values is not None else EQUAL
        compared = compare(result, analyse(second, other_values, mode, start=begin, assume_monitor=assume_monitor))
    found = search(result, beam=r.beam, budget=r.budget) if want_suggestions else None

    if fmt in (OutputFormat.svg, OutputFormat.png):
        from interlock.analysis_chart import render

        panels = [result] if compared is None else [compared.a, compared.b]
        _write(render(panels, "svg" if fmt is OutputFormat.svg else "png"), out)
        return
    if fmt is OutputFormat.json:
        data: dict[str, Any] = to_json(result)
        if compared is not None:
            data["compare"] = compare_json(compared)
        if found is not None:
            data["suggestions"] = suggestions_json(found.found)
            data["suggest_search"] = search_json(found.search)
        _write((json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode(), out)
        return
    if out is not None:
        with console.capture() as capture:
            _table(result, compared, found)
        _write(capture.get().encode(), out)
        return
    _table(result, compared, found)


def _table(result: Analysis, compared: Any, found: Any) -> None:
    _print_analysis(result)
    if compared is not None:
        _print_compare(compare_json(compared))
    if found is not None:
        _print_suggestions(suggestions_json(found.found), search_json(found.search))
