"""`interlock check FILE...` and `interlock schema`.

`check` prints every finding as `FILE:LINE:COL: error|warning CODE: message` (or `FILE:` alone
when the finding concerns the whole file), then one summary line per file with its hash;
`--format json` prints `{"files": [{"file", "valid", "hash", "errors", "warnings"}]}`.
Exit 0 when every file is valid, 1 when any has an error (or, with `--strict`, a warning),
2 on usage errors.  A file that cannot be read is an `unreadable-file` error for that file.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from interlock.agreement.check import Finding, Report, check_bytes
from interlock.agreement.schema import schema_text
from interlock.agreement.yamlsource import MAX_BYTES
from interlock.cli.app import app, read_input
from interlock.errors import InputFileError


class Format(StrEnum):
    human = "human"
    json = "json"


def check_file(path: Path) -> Report:
    """Read and check one file; reading failures become an `unreadable-file` finding."""
    try:
        raw = read_input(path, limit=4 * MAX_BYTES)  # larger still: refused before reading it all
    except InputFileError as err:
        return Report(None, [Finding("error", "unreadable-file", err.message)])
    return check_bytes(raw)


def failed(report: Report, strict: bool) -> bool:
    return bool(report.errors or (strict and report.warnings))


def human_lines(name: str, report: Report) -> list[str]:
    """The findings of one file, then its summary line."""
    lines = []
    for finding in report.findings():
        where = f"{name}:{finding.line}:{finding.column}:" if finding.line else f"{name}:"
        lines.append(f"{where} {finding.severity} {finding.code}: {finding.message}")
    counts = f"{plural(len(report.errors), 'error')}, {plural(len(report.warnings), 'warning')}"
    state = "valid" if report.valid else "INVALID"
    lines.append(f"{name}: {state} ({counts}) {report.hash or 'no hash'}")
    return lines


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def json_entry(name: str, report: Report) -> dict[str, Any]:
    return {
        "file": name,
        "valid": report.valid,
        "hash": report.hash,
        "errors": [f.to_dict() for f in report.errors],
        "warnings": [f.to_dict() for f in report.warnings],
    }


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Agreement files (YAML or JSON); - for stdin.")],
    output: Annotated[Format, typer.Option("--format", help="human or json.")] = Format.human,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")] = False,
) -> None:
    """Check agreement files: errors make a file unusable; warnings are a mediator's advice."""
    reports = [(str(path), check_file(path)) for path in files]
    if output is Format.json:
        document = {"files": [json_entry(name, report) for name, report in reports]}
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for name, report in reports:
            for line in human_lines(name, report):
                typer.echo(line)
    if any(failed(report, strict) for _, report in reports):
        raise typer.Exit(1)


@app.command()
def schema() -> None:
    """Print the JSON Schema of agreement files (a copy is in schema/agreement.schema.json)."""
    typer.echo(schema_text(), nl=False)
