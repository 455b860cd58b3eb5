"""The checker's results as plain data: `Finding`, `Report`, and the `Sink` rules report into.

A finding names a stable kebab-case `code` (documented in docs/check-codes.md), a message for
a person, the 1-based line and column it concerns (None when the whole file is concerned) and
the `id` of the stage or obligation it concerns (None when neither).  Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from interlock.agreement.model import Agreement
    from interlock.agreement.yamlsource import Path, Source


@dataclass(frozen=True)
class Finding:
    """One thing the checker says: `severity` is "error" or "warning"; `id` the stage or obligation."""

    severity: str
    code: str
    message: str
    line: int | None = None
    column: int | None = None
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of `interlock check --format json`: code, message, line, column, id."""
        return {
            "code": self.code,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "id": self.id,
        }


@dataclass
class Report:
    """What `check` found.  `agreement` is set (with its hash) only when there are no errors.

    `hash` is the `sha256:` name of the document as written whenever it could be parsed into
    JSON data at all, even when it has errors; None when it could not be parsed.
    """

    agreement: Agreement | None
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    hash: str | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    def findings(self) -> list[Finding]:
        """Errors then warnings, each in file order."""
        return [*self.errors, *self.warnings]


def _order(finding: Finding) -> tuple[int, int]:
    return (finding.line or 0, finding.column or 0)


class Sink:
    """Collects findings, turning a JSON path in the data into a position and an id.

    Rules call `error(code, message, path)` / `warning(...)`; `path` is the path of the value
    in the parsed document (e.g. `("stages", 1, "opens")`).  The id is the innermost stage or
    obligation enclosing `path` unless given.
    """

    def __init__(self, data: Any, source: Source | None) -> None:
        self.data = data
        self.source = source
        self.errors: list[Finding] = []
        self.warnings: list[Finding] = []

    def position(self, path: Path) -> tuple[int | None, int | None]:
        if self.source is None:
            return (None, None)
        return self.source.position(path)

    def id_at(self, path: Path) -> str | None:
        """The id of the innermost stage or obligation that encloses `path`."""
        found: str | None = None
        node: Any = self.data
        for depth, step in enumerate(path):
            if isinstance(node, dict) and isinstance(step, str):
                node = node.get(step)
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                node = node[step]
            else:
                break
            is_stage = depth == 1 and path[0] == "stages"
            is_obligation = depth == 3 and path[0] == "stages" and path[2] == "obligations"
            if (is_stage or is_obligation) and isinstance(node, dict):
                ident = node.get("id")
                found = ident if isinstance(ident, str) else found
        return found

    def add(self, severity: str, code: str, message: str, path: Path, ident: str | None) -> None:
        line, column = self.position(path)
        finding = Finding(severity, code, message, line, column, ident if ident else self.id_at(path))
        (self.errors if severity == "error" else self.warnings).append(finding)

    def error(self, code: str, message: str, path: Path = (), ident: str | None = None) -> None:
        self.add("error", code, message, path, ident)

    def warning(self, code: str, message: str, path: Path = (), ident: str | None = None) -> None:
        self.add("warning", code, message, path, ident)

    def sorted(self) -> tuple[list[Finding], list[Finding]]:
        """Errors and warnings, each in file order (stable for equal positions)."""
        return sorted(self.errors, key=_order), sorted(self.warnings, key=_order)
