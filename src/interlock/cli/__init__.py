"""The `interlock` command.  The imperative shell: reads files, prints, exits.

Each sub-command lives in its own module and registers itself on `app` when imported.
"""

from __future__ import annotations

import importlib
import sys

from interlock.cli.app import app, report_error
from interlock.errors import InterlockError

COMMAND_MODULES = (
    "check", "keys", "status", "verify", "serve", "witness", "mirror", "analyze", "demo", "log",
)

for _name in COMMAND_MODULES:
    try:
        importlib.import_module(f"interlock.cli.{_name}")
    except ModuleNotFoundError as _exc:  # a command not written yet
        if _exc.name != f"interlock.cli.{_name}":
            raise


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except InterlockError as err:
        report_error(err)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["app", "main"]
