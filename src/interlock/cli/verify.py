"""`interlock verify`: audit a whole log — every leaf, the tree, every checkpoint and
cosignature, consistency with a checkpoint saved earlier, every statement signature and
authorisation, the status.  Exit 0 only when all of it holds; otherwise exit 1 naming the
first bad entry and what is wrong.

Sources: `--db URL [--log ID]` (the database as its tables hold it) or `--entries FILE
--agreement FILE [--head CHECKPOINT]`.  `SOURCES` maps an option to a builder, so another
source (e.g. `--server URL`) plugs in with one function.  The work is
`interlock.store.audit.audit`; this module only reads options and prints.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from interlock.cli.app import app, err_console, read_input, read_text
from interlock.errors import InputFileError, LogVerificationError


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


SourceBuilder = Callable[[dict[str, Any]], Any]
"""options → a `LogSource` (or None when its options are absent)."""


def _database_source(options: dict[str, Any]) -> Any:
    if options.get("db") is None:
        return None
    from interlock.store.sources import DatabaseSource

    return DatabaseSource(options["db"], options.get("log"))


def _files_source(options: dict[str, Any]) -> Any:
    if options.get("entries") is None:
        return None
    if options.get("agreement") is None:
        raise typer.BadParameter("--entries needs --agreement FILE (the agreement the log is for)",
                                 param_hint="'--agreement'")
    from interlock.store.sources import FilesSource

    head = read_text(options["head"]) if options.get("head") else None
    return FilesSource(read_text(options["entries"]), read_input(options["agreement"]), head=head,
                       description=f"entries file {options['entries']}")


def _server_source(options: dict[str, Any]) -> Any:
    if options.get("server") is None:
        return None
    from interlock.remote import ServerSource

    return ServerSource(options["server"], options.get("log"))


SOURCES: dict[str, SourceBuilder] = {"db": _database_source, "entries": _files_source, "server": _server_source}


def _progress_bar() -> tuple[Any, Callable[[str, int, int | None], None]]:
    """A Rich progress bar on stderr when it is a terminal; otherwise nothing."""
    if not sys.stderr.isatty():
        return None, lambda _phase, _done, _total: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=err_console, transient=True)
    tasks: dict[str, Any] = {}

    def update(phase: str, done: int, total: int | None) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=total)
        bar.update(tasks[phase], completed=done, total=total)

    return bar, update


Opt = typer.Option


@app.command()
def verify(
    *,
    db: Annotated[str | None, Opt("--db", help="Database URL of the log.")] = None,
    server: Annotated[str | None, Opt("--server", help="An interlock server URL (--log ID if it has several).")] = None,
    log: Annotated[str | None, Opt("--log", help="Log id in the database (default: the only one).")] = None,
    entries: Annotated[Path | None, Opt("--entries", help="Entries file (JSON lines).")] = None,
    agreement: Annotated[Path | None, Opt("--agreement", help="Agreement file, with --entries.")] = None,
    head: Annotated[Path | None, Opt("--head", help="The log's signed checkpoint, with --entries.")] = None,
    checkpoint: Annotated[
        Path | None, Opt("--checkpoint", help="A checkpoint saved earlier: prove the log consistent with it.")
    ] = None,
    log_key: Annotated[
        str | None, Opt("--log-key", help="The log's verifier key (name+hexid+base64) or a file holding it.")
    ] = None,
    witness_key: Annotated[
        list[str] | None, Opt("--witness-key", help="A trusted witness's verifier key (repeatable).")
    ] = None,
    min_cosignatures: Annotated[
        int, Opt("--min-cosignatures", min=0, help="Trusted witness cosignatures the newest checkpoint needs.")
    ] = 0,
    save_checkpoint: Annotated[
        Path | None, Opt("--save-checkpoint", help="Write the newest verified checkpoint here for next time.")
    ] = None,
    workers: Annotated[
        int | None, Opt("--workers", min=1, help="Processes checking signatures (default: all cores).")
    ] = None,
) -> None:
    """Verify a whole log; exit 0 only if every entry, proof, checkpoint and signature holds."""
    from interlock.cli.log import read_verifier_key
    from interlock.store.audit import audit, read_checkpoint_text

    options = {"db": db, "server": server, "log": log, "entries": entries, "agreement": agreement, "head": head}
    chosen = [name for name in SOURCES if options.get(name) is not None]
    if len(chosen) != 1:
        raise typer.BadParameter("give exactly one source: --db URL, --server URL or --entries FILE --agreement FILE")
    source = SOURCES[chosen[0]](options)
    trusted = read_verifier_key(log_key) if log_key else None
    witnesses = [read_verifier_key(k) for k in witness_key or []]
    saved = read_checkpoint_text(read_text(checkpoint)) if checkpoint else None
    bar, progress = _progress_bar()
    try:
        if bar is not None:
            bar.start()
        report = audit(source, log_key=trusted, witness_keys=witnesses, min_cosignatures=min_cosignatures,
                       saved_checkpoint=saved, workers=workers, progress=progress)
    finally:
        if bar is not None:
            bar.stop()
        close = getattr(source, "close", None)
        if close is not None:
            close()
    if not report.log_key_trusted and report.log_key:
        err_console.print(f"warning: no --log-key given; trusting the key the log names: {report.log_key}",
                          soft_wrap=True, markup=False)
    first = report.first_problem()
    if first is not None:
        more = len(report.problems) - 1
        suffix = f" ({more} more problem{'s' if more != 1 else ''})" if more else ""
        raise LogVerificationError(f"{report.source}: {first}{suffix}", first.index)
    _say(
        f"verified {report.source}: {report.size} entries, root {report.root.hex()}, "
        f"{report.checkpoints} checkpoints, {report.cosignatures} witness cosignatures"
    )
    if report.status is not None:
        status = report.status.to_json() if hasattr(report.status, "to_json") else report.status
        stages = status.get("stages", {}) if isinstance(status, dict) else {}
        summary = ", ".join(f"{sid} {s.get('state')}" for sid, s in stages.items())
        _say(f"status as of {status.get('as_of')}: {summary}" if summary else "status recomputed")
    if save_checkpoint is not None:
        if report.latest_note is None:
            raise InputFileError("there is no verified checkpoint to save (give --head with --entries)")
        save_checkpoint.write_text(report.latest_note)
        size = report.latest.checkpoint.size if report.latest else "?"
        err_console.print(f"saved checkpoint {size} to {save_checkpoint}")
