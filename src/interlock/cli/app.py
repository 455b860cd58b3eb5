"""The Typer application every `interlock` sub-command registers on, and its error exit.

Exit codes: 0 success; 1 the answer is "no" or the input is bad (invalid agreement,
failed verification, refused statement); 2 usage errors (Typer's own).  An `InterlockError`
is printed as `error CODE: message` on stderr — never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from interlock.errors import InputFileError, InterlockError

app = typer.Typer(
    name="interlock",
    help="Staged agreements between parties who do not trust each other, made executable and verifiable.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def report_error(err: InterlockError) -> None:
    err_console.print(f"[bold red]error[/] {escape(err.code)}: {escape(err.message)}", markup=True, soft_wrap=True)


def read_input(path: Path, *, limit: int = 64 * 1024 * 1024) -> bytes:
    """Read a file the user named, turning every OS failure into `InputFileError`."""
    if str(path) == "-":
        import sys

        return sys.stdin.buffer.read(limit + 1)
    if path.is_dir():
        raise InputFileError(f"{path} is a directory, not a file")
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputFileError(f"{path} is larger than {limit:,} bytes")
    return data


def read_text(path: Path) -> str:
    data = read_input(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputFileError(f"{path} is not UTF-8 text") from None
