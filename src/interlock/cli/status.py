"""`interlock status` and `interlock explain`: where every obligation stands, and why.

    interlock status AGREEMENT --entries FILE [--as-of TIME] [--format table|json] [--unsigned]
    interlock explain AGREEMENT ID --entries FILE [--as-of TIME] [--unsigned]

`--as-of` defaults to now (the CLI reads the clock; the engine never does); a time without an
offset is read in the agreement's timezone.  JSON is exactly the engine's `Status.to_json()`.
`--unsigned` accepts bare `statement` lines (what-if simulation) and marks every output as a
simulation.  Signatures are verified on all cores for long logs (`interlock.verification`).
Bad input → `error CODE: message`, exit 1.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from interlock.agreement import Agreement, load_agreement
from interlock.cli.app import app, console, read_input, read_text
from interlock.engine import Status
from interlock.engine.explain import amount, explain, relative
from interlock.engine.terms import Terms
from interlock.errors import UnknownIdError
from interlock.statements import Entry, parse_entries
from interlock.timeutil import format_timestamp, parse_timestamp
from interlock.verification import evaluate_log

STYLES = {
    "pending": "dim",
    "active": "bold cyan",
    "fulfilled": "green",
    "late": "yellow",
    "breached": "bold white on red",
    "suspended": "magenta",
    "waived": "blue",
    "locked": "dim",
    "open": "bold cyan",
    "complete": "green",
}

AgreementArg = Annotated[Path, typer.Argument(help="The agreement file (YAML or JSON).", show_default=False)]
EntriesOpt = Annotated[Path, typer.Option("--entries", help="The log as an entries file (JSON lines).")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="The moment to evaluate at (ISO 8601); default: now.")
]
UnsignedOpt = Annotated[
    bool, typer.Option("--unsigned", help="Accept unsigned `statement` lines: a what-if simulation.")
]


def _inputs(agreement_path: Path, entries_path: Path, as_of: str | None, unsigned: bool) -> tuple[
    Agreement, list[Entry], datetime
]:
    agreement = load_agreement(read_input(agreement_path))
    entries = parse_entries(read_text(entries_path), allow_unsigned=unsigned)
    moment = datetime.now(UTC) if as_of is None else parse_timestamp(as_of, agreement.timezone)
    return agreement, entries, moment


def _evaluate(agreement_path: Path, entries_path: Path, as_of: str | None, unsigned: bool) -> tuple[
    Agreement, Status
]:
    agreement, entries, moment = _inputs(agreement_path, entries_path, as_of, unsigned)
    return agreement, evaluate_log(agreement, entries, moment, unsigned=unsigned)


@app.command()
def status(
    agreement: Annotated[Path | None, typer.Argument(help="The agreement file (YAML or JSON).")] = None,
    entries: Annotated[Path | None, typer.Option("--entries", help="The log as an entries file (JSON lines).")] = None,
    *,
    as_of: AsOfOpt = None,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    unsigned: UnsignedOpt = False,
    server: Annotated[str | None, typer.Option("--server", help="Read the log from a server; evaluate here.")] = None,
    log: Annotated[str | None, typer.Option("--log", help="With --server: the agreement id.")] = None,
) -> None:
    """Where every stage and obligation stands at a moment (default: now)."""
    if format not in ("table", "json"):
        raise typer.BadParameter("--format is table or json")
    if server is not None:  # the server's agreement and entries, every signature checked here
        from interlock.remote import evaluate_remote

        document, result = evaluate_remote(server, log, as_of)
    elif agreement is None or entries is None:
        raise typer.BadParameter("give AGREEMENT --entries FILE, or --server URL")
    else:
        document, result = _evaluate(agreement, entries, as_of, unsigned)
    if format == "json":
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    render_table(document, result)


def _progress(verified: float, required: float | None, unit: str | None, kind: str) -> str:
    if kind == "refrain":
        return f"{amount(verified)} incidents"
    return f"{amount(verified)}/{amount(required, unit)}"


def short(moment: datetime) -> str:
    """`03-08 15:20Z`: enough to read a deadline at a glance (full times are in the JSON)."""
    return moment.astimezone(UTC).strftime("%m-%d %H:%MZ")


def _deadline(ob_due: datetime | None, state: str, as_of: datetime) -> Text:
    if ob_due is None:
        return Text("—", style="dim")
    if state not in ("active", "pending"):
        return Text(short(ob_due), style="dim")
    style = "bold red" if ob_due < as_of else ""
    return Text(f"{short(ob_due)} ({relative(ob_due, as_of)})", style=style)


def render_table(agreement: Agreement, result: Status) -> None:
    """One line per obligation: stage, who owes whom, coloured state, progress, deadline, flags."""
    if result.simulation:
        console.print(Text("SIMULATION — unsigned what-if statements, not a log", style="bold reverse"))
    adopted = format_timestamp(result.adopted_at) if result.adopted_at else "not adopted"
    console.print(Text(f"{agreement.title} — as of {format_timestamp(result.as_of)} — adopted {adopted}"))
    stages = Text("stages: ")
    for number, (stage_id, stage) in enumerate(result.stages.items()):
        stages.append(("  " if number else "") + f"{stage_id} {stage.state}", style=STYLES.get(stage.state, ""))
    console.print(stages)
    table = Table(show_lines=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("stage", no_wrap=True)
    table.add_column("obligation", overflow="fold", ratio=3)
    table.add_column("state", no_wrap=True, min_width=9)
    table.add_column("verified", justify="right", overflow="fold", ratio=2)
    table.add_column("due", overflow="fold", ratio=3)
    table.add_column("by → to", overflow="fold", ratio=2)
    table.add_column("flags", overflow="fold", ratio=2)
    for ob in result.obligations.values():
        stage_state = result.stages[ob.stage].state
        table.add_row(
            Text(ob.stage, style=STYLES.get(stage_state, "")),
            ob.id,
            Text(ob.state, style=STYLES.get(ob.state, "")),
            _progress(ob.verified, ob.required, ob.unit, ob.kind),
            _deadline(ob.due, ob.state, result.as_of),
            f"{ob.by}→{','.join(ob.to) or '—'}",
            Text(" ".join(ob.flags), style="yellow"),
        )
    console.print(table)
    for note in result.notifications:
        console.print(Text(f"breach {note.obligation} at {format_timestamp(note.at)}: notify {', '.join(note.notify)}",
                           style="red"))
    if result.rejected:
        console.print(Text(f"{len(result.rejected)} rejected entries (see --format json):", style="yellow"))
        for rejection in result.rejected[:10]:
            console.print(f"  entry {rejection.index}: {rejection.code}: {rejection.reason}", markup=False)
    console.print(Text(f"agreement {result.agreement}", style="dim"))


@app.command(name="explain")
def explain_command(
    agreement: AgreementArg,
    ident: Annotated[str, typer.Argument(metavar="OBLIGATION", help="An obligation (or stage) id.")],
    entries: EntriesOpt,
    as_of: AsOfOpt = None,
    unsigned: UnsignedOpt = False,
) -> None:
    """Why an obligation (or a stage) stands where it does, entry by entry."""
    document, result = _evaluate(agreement, entries, as_of, unsigned)
    if ident not in result.obligations and ident not in result.stages:
        known = ", ".join([*result.obligations, *result.stages])
        raise UnknownIdError(f"no obligation or stage {ident!r} in the agreement (known: {known})")
    if result.simulation:
        console.print("SIMULATION (unsigned statements)", markup=False)
    console.print(f"as of {format_timestamp(result.as_of)}", markup=False)
    for line in explain(Terms(document), result, ident):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
