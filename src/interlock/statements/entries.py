"""Log entries as they travel: the entries file (JSON lines) and the leaf bytes of the log.

Line: `{"index": i, "integrated_at": T, "envelope": {…DSSE…}}` — or, for what-if
simulation only, `"statement": {…}` unsigned instead of `envelope`.  The log's leaf is the
RFC 8785 form of `{"integrated_at": T, "envelope": E}` (DESIGN.md, The log).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from interlock.canonical import canonical_json
from interlock.errors import EntriesFileError, InterlockError
from interlock.timeutil import format_timestamp, parse_timestamp


@dataclass(frozen=True, slots=True)
class Entry:
    """One log entry.  Exactly one of `envelope` (signed) and `statement` (unsigned) is set.

    Slotted: a million entries are held at once by a full evaluation."""

    index: int
    integrated_at: datetime
    envelope: dict[str, Any] | None = None
    statement: dict[str, Any] | None = None

    @property
    def signed(self) -> bool:
        return self.envelope is not None

    def leaf_bytes(self) -> bytes:
        """The bytes the Merkle tree commits to (signed entries only)."""
        if self.envelope is None:
            raise EntriesFileError("an unsigned simulation entry has no place in a log")
        return canonical_json(
            {"integrated_at": format_timestamp(self.integrated_at), "envelope": self.envelope}
        )

    def to_json(self) -> dict[str, Any]:
        line: dict[str, Any] = {"index": self.index, "integrated_at": format_timestamp(self.integrated_at)}
        if self.envelope is not None:
            line["envelope"] = self.envelope
        else:
            line["statement"] = self.statement
        return line


def parse_entry(data: Any, *, allow_unsigned: bool = False) -> Entry:
    """One decoded line → `Entry`; raises `EntriesFileError`."""
    if not isinstance(data, dict):
        raise EntriesFileError("each line must be a JSON object")
    index = data.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise EntriesFileError("`index` must be a non-negative integer")
    try:
        integrated_at = parse_timestamp(data.get("integrated_at"))  # type: ignore[arg-type]
    except InterlockError as exc:
        raise EntriesFileError(f"entry {index}: integrated_at: {exc}") from None
    envelope, statement = data.get("envelope"), data.get("statement")
    if envelope is not None and isinstance(envelope, dict) and statement is None:
        return Entry(index, integrated_at, envelope=envelope)
    if statement is not None and isinstance(statement, dict) and envelope is None:
        if not allow_unsigned:
            raise EntriesFileError(
                f"entry {index} is an unsigned statement; pass --unsigned for a what-if simulation"
            )
        return Entry(index, integrated_at, statement=statement)
    raise EntriesFileError(f"entry {index} needs exactly one of `envelope` and `statement`")


def parse_entries(text: str, *, allow_unsigned: bool = False) -> list[Entry]:
    """An entries file → entries in order; indices must run 0, 1, 2, … without gaps."""
    entries: list[Entry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EntriesFileError(f"line {number}: not JSON ({exc.msg})") from None
        try:
            entry = parse_entry(data, allow_unsigned=allow_unsigned)
        except EntriesFileError as exc:
            raise EntriesFileError(f"line {number}: {exc.message}") from None
        if entry.index != len(entries):
            raise EntriesFileError(f"line {number}: index {entry.index}, expected {len(entries)}")
        entries.append(entry)
    return entries


def dump_entries(entries: list[Entry]) -> str:
    return "".join(json.dumps(e.to_json(), separators=(",", ":")) + "\n" for e in entries)
