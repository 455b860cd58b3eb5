"""Read YAML text into plain JSON data, keeping the line and column of every value.

The agreement's canonical form is the RFC 8785 JSON of this data, so the reading is strict:
YAML 1.2 core schema; timestamps stay the strings they were written as; keys must be
strings; aliases may not expand past `MAX_NODES` values (alias bombs) nor nesting past
`MAX_DEPTH`; text must be UTF-8 and at most `MAX_BYTES`.  Every failure is a
`SourceProblem` with a code, a message and a position — never a traceback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64

Path = tuple[str | int, ...]
JSON = Any


@dataclass(frozen=True)
class SourceProblem(Exception):  # noqa: N818 (a finding carried as an exception)
    """Why YAML text could not become data: `code`, a message for a person, a position."""

    code: str
    message: str
    line: int | None = None
    column: int | None = None


@dataclass
class Source:
    """Parsed data plus `positions`: JSON path → (line, column), both 1-based."""

    data: JSON
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Path) -> tuple[int | None, int | None]:
        """The position of `path`, or of its nearest ancestor that has one."""
        probe = tuple(path)
        while True:
            if probe in self.positions:
                return self.positions[probe]
            if not probe:
                return (None, None)
            probe = probe[:-1]


def decode(raw: bytes) -> str:
    """Bytes → text, refusing what is not UTF-8 text of a sane size."""
    if len(raw) > MAX_BYTES:
        raise SourceProblem(
            "file-too-large",
            f"the file is {len(raw):,} bytes; agreement files are limited to {MAX_BYTES:,} bytes",
        )
    if b"\x00" in raw:
        raise SourceProblem("not-text", "the file contains NUL bytes: it is binary, not YAML text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceProblem(
            "not-utf8", f"the file is not UTF-8 text (byte {exc.start} cannot be decoded)", line, 1
        ) from exc
    return text.removeprefix("\ufeff")


def read_yaml(text: str) -> Source:
    """YAML text → `Source`.  Raises `SourceProblem`."""
    if not text.strip():
        raise SourceProblem("empty-file", "the file is empty; an agreement starts with `interlock: 1`", 1, 1)
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    try:
        node = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = exc.problem or exc.context or "invalid YAML"
        raise SourceProblem("yaml-syntax", f"YAML syntax: {problem}", line, col) from exc
    except RecursionError as exc:
        raise SourceProblem("too-deep", f"the YAML nests deeper than {MAX_DEPTH} levels") from exc
    except YAMLError as exc:
        raise SourceProblem("yaml-syntax", f"YAML syntax: {exc}") from exc
    if node is None:
        raise SourceProblem("empty-file", "the file holds no YAML document", 1, 1)
    builder = _Builder()
    data = builder.build(node, (), 0)
    return Source(data, builder.positions)


def load_yaml_bytes(raw: bytes) -> Source:
    """Bytes → `Source` (decode, then `read_yaml`)."""
    return read_yaml(decode(raw))


class _Builder:
    def __init__(self) -> None:
        self.positions: dict[Path, tuple[int, int]] = {}
        self.count = 0

    def build(self, node: Node, path: Path, depth: int) -> JSON:
        self.count += 1
        if self.count > MAX_NODES:
            raise SourceProblem(
                "too-many-values",
                f"the YAML expands to more than {MAX_NODES:,} values (an alias bomb?)",
                *_mark(node),
            )
        if depth > MAX_DEPTH:
            raise SourceProblem("too-deep", f"the YAML nests deeper than {MAX_DEPTH} levels", *_mark(node))
        self.positions.setdefault(path, _mark(node))
        if isinstance(node, MappingNode):
            result: dict[str, JSON] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode) or (key_node.tag or "").endswith(":merge"):
                    raise SourceProblem("bad-key", "mapping keys must be plain strings", *_mark(key_node))
                key = str(key_node.value)
                if key in result:
                    raise SourceProblem("duplicate-key", f"the key {key!r} appears twice", *_mark(key_node))
                result[key] = self.build(value_node, (*path, key), depth + 1)
                self.positions[(*path, key)] = _mark(key_node)
            return result
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return _scalar(node)


def _mark(node: Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _scalar(node: ScalarNode) -> JSON:
    tag, value = node.tag or "", node.value
    if tag.endswith(":null"):
        return None
    if tag.endswith(":bool"):
        return value.lower() == "true"
    if tag.endswith(":int"):
        text = value.replace("_", "")
        try:
            if text.startswith(("0x", "0X")):
                return int(text, 16)
            if text.startswith(("0o", "0O")):
                return int(text[2:], 8)
            return int(text)
        except ValueError as exc:
            raise SourceProblem("yaml-syntax", f"{value!r} is not a number", *_mark(node)) from exc
    if tag.endswith(":float"):
        text = value.replace("_", "")
        if text.lower().lstrip("+-") in (".inf", ".nan"):  # YAML 1.2 spellings of inf and NaN
            text = text.replace(".", "", 1)
        try:
            number = float(text)
        except ValueError as exc:
            raise SourceProblem("yaml-syntax", f"{value!r} is not a number", *_mark(node)) from exc
        if not math.isfinite(number):
            raise SourceProblem("bad-number", f"{value!r}: infinite or NaN numbers are not allowed", *_mark(node))
        return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    if tag.endswith(":binary"):
        raise SourceProblem("bad-value", "binary values (!!binary) are not allowed", *_mark(node))
    return str(value)
