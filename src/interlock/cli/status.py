"""`interlock status` and `interlock explain`: where every obligation stands, and why.

    interlock status AGREEMENT --entries FILE [--as-of TIME] [--format table|json] [--unsigned]
    interlock status --server URL [--log ID] [--as-of TIME] [--format table|json]
    interlock explain AGREEMENT ID --entries FILE [--as-of TIME] [--unsigned]
    interlock explain ID --server URL [--log ID] [--as-of TIME]

`--as-of` defaults to now (the CLI reads the clock; the engine never does); a time without an
offset is read in the agreement's timezone.  JSON is exactly the engine's `Status.to_json()`.
`--unsigned` accepts bare `statement` lines (what-if simulation) and marks every output as a
simulation.  Signatures are verified on all cores for long logs (`interlock.verification`).
`--server` reads the agreement and the entries from a server and evaluates them here, exactly
as the same files would be (`interlock.remote.evaluate_remote`); the server's own status is
never used.  A rate obligation's table cell reads as a rate (`600 trucks/1d: …`), not as a total.
Bad input → `error CODE: message`, exit 1; a wrong combination of options → exit 2.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from interlock.agreement import Agreement, load_agreement
from interlock.cli.app import app, console, read_input, read_text
from interlock.engine import ObligationStatus, Status
from interlock.engine.explain import amount, explain, relative
from interlock.engine.terms import Terms
from interlock.errors import UnknownIdError
from interlock.statements import Entry, parse_entries
from interlock.timeutil import format_duration, format_timestamp, parse_timestamp
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

EntriesOpt = Annotated[Path | None, typer.Option("--entries", help="The log as an entries file (JSON lines).")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="The moment to evaluate at (ISO 8601); default: now.")
]
UnsignedOpt = Annotated[
    bool, typer.Option("--unsigned", help="Accept unsigned `statement` lines: a what-if simulation.")
]
ServerOpt = Annotated[
    str | None, typer.Option("--server", help="Read the agreement and log from a server; evaluate here.")
]
LogOpt = Annotated[str | None, typer.Option("--log", help="With --server: the agreement id.")]


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


def _evaluate_source(
    agreement_path: Path | None,
    entries_path: Path | None,
    *,
    as_of: str | None,
    unsigned: bool,
    server: str | None,
    log: str | None,
) -> tuple[Agreement, Status]:
    """The status from local files, or from a server's agreement and entries evaluated here.

    Either AGREEMENT and --entries, or --server (with --log when the server keeps several logs);
    mixing them, or --log/--unsigned with the wrong source, is a usage error (exit 2).
    """
    if server is None:
        if log is not None:
            raise typer.BadParameter("--log names a log on a server; give --server URL too")
        if agreement_path is None or entries_path is None:
            raise typer.BadParameter("give AGREEMENT --entries FILE, or --server URL")
        return _evaluate(agreement_path, entries_path, as_of, unsigned)
    if agreement_path is not None or entries_path is not None:
        raise typer.BadParameter("--server reads the agreement and entries from the server; "
                                 "give either AGREEMENT --entries FILE or --server URL")
    if unsigned:
        raise typer.BadParameter("--unsigned is for entries files; a server's log is signed")
    from interlock.remote import evaluate_remote  # the server's agreement and entries, every signature checked

    return evaluate_remote(server, log, as_of)


@app.command()
def status(
    agreement: Annotated[Path | None, typer.Argument(help="The agreement file (YAML or JSON).")] = None,
    entries: EntriesOpt = None,
    *,
    as_of: AsOfOpt = None,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    unsigned: UnsignedOpt = False,
    server: ServerOpt = None,
    log: LogOpt = None,
) -> None:
    """Where every stage and obligation stands at a moment (default: now)."""
    if format not in ("table", "json"):
        raise typer.BadParameter("--format is table or json")
    document, result = _evaluate_source(agreement, entries, as_of=as_of, unsigned=unsigned, server=server, log=log)
    if format == "json":
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    render_table(document, result)


PERIOD_WORDS = {"open": "open", "met": "met", "short": "short", "partial": "partial, not assessed"}


def _rate(ob: ObligationStatus, period: timedelta | None, as_of: datetime) -> str:
    """`600 trucks/1d: 0 this period (open)`: the rate owed, then the newest period's units.

    `required` is the amount owed per period; the newest period is "this period" while `as_of`
    falls inside it, else (the window closed) "last period".  Short periods are counted.
    """
    text = amount(ob.required, ob.unit) + (f"/{format_duration(period)}" if period else " per period")
    if not ob.periods:
        return text
    newest = ob.periods[-1]
    which = "this period" if newest.start <= as_of < newest.end else "last period"
    text += f": {amount(newest.units)} {which} ({PERIOD_WORDS.get(newest.state, newest.state)})"
    short_periods = sum(1 for p in ob.periods if p.state == "short")
    return text + (f", {short_periods} short" if short_periods else "")


def _progress(ob: ObligationStatus, period: timedelta | None, as_of: datetime) -> str:
    """The `verified` cell: incidents of a prohibition, a rate per period, else verified/required."""
    if ob.kind == "refrain":
        return f"{amount(ob.verified)} incidents"
    if ob.kind == "rate":
        return _rate(ob, period, as_of)
    return f"{amount(ob.verified)}/{amount(ob.required, ob.unit)}"


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
    periods = {ob.id: ob.quantity.per_period for stage in agreement.stages for ob in stage.obligations
               if ob.quantity is not None}
    for ob in result.obligations.values():
        stage_state = result.stages[ob.stage].state
        table.add_row(
            Text(ob.stage, style=STYLES.get(stage_state, "")),
            ob.id,
            Text(ob.state, style=STYLES.get(ob.state, "")),
            _progress(ob, periods.get(ob.id), result.as_of),
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
    arguments: Annotated[list[str], typer.Argument(
        metavar="[AGREEMENT] OBLIGATION",
        help="The agreement file and an obligation (or stage) id; with --server only the id.",
        show_default=False,
    )],
    entries: EntriesOpt = None,
    *,
    as_of: AsOfOpt = None,
    unsigned: UnsignedOpt = False,
    server: ServerOpt = None,
    log: LogOpt = None,
) -> None:
    """Why an obligation (or a stage) stands where it does, entry by entry."""
    if len(arguments) != (1 if server is not None else 2):
        raise typer.BadParameter("give AGREEMENT OBLIGATION --entries FILE, or OBLIGATION --server URL")
    *agreement, ident = arguments
    document, result = _evaluate_source(Path(agreement[0]) if agreement else None, entries, as_of=as_of,
                                        unsigned=unsigned, server=server, log=log)
    if ident not in result.obligations and ident not in result.stages:
        known = ", ".join([*result.obligations, *result.stages])
        raise UnknownIdError(f"no obligation or stage {ident!r} in the agreement (known: {known})")
    if result.simulation:
        console.print("SIMULATION (unsigned statements)", markup=False)
    console.print(f"as of {format_timestamp(result.as_of)}", markup=False)
    for line in explain(Terms(document), result, ident):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
