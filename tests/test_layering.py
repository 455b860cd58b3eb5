"""The functional core stays pure: no import of the I/O shell, no clock, no files, no network.

DESIGN.md's layers: agreement, statements, engine, analysis, tlog, note (and the small pure
helpers beside them) take data and an explicit time.  This test reads their source with `ast`
and fails on any import of the shell or of an I/O module, and on any call that reads the clock
or a file.  Key generation is the one allowed source of randomness, and it is listed by name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

SRC = ROOT / "src" / "interlock"
PURE = [
    "agreement", "statements", "engine", "analysis", "tlog.py", "tlog_hash.py", "tlog_subtrees.py",
    "note.py", "checkpoint.py", "tiles.py", "canonical.py", "timeutil.py", "errors.py",
]
SHELL = ("interlock.store", "interlock.server", "interlock.cli", "interlock.witness", "interlock.mirror",
         "interlock.client", "interlock.remote", "interlock.verification", "interlock.analysis_chart",
         "interlock.parallel")
IO_MODULES = ("sqlite3", "socket", "subprocess", "urllib", "http", "httpx", "requests", "sqlalchemy",
              "psycopg", "multiprocessing", "threading", "shutil", "tempfile", "matplotlib", "uvicorn",
              "fastapi")
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
               ("time", "time"), ("time", "monotonic"), ("time", "perf_counter"), ("time", "time_ns")}
# The one impure need of the core: fresh key material, at key generation only.
ALLOWED_RANDOM = {("statements/keys.py", "new_seed"), ("note.py", "new_signer_key")}


def pure_files() -> list[Path]:
    files: list[Path] = []
    for name in PURE:
        path = SRC / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def violations(source: str, relative: str) -> list[str]:
    """Every forbidden import or call in `source`, as `line: what`."""
    found: list[str] = []
    tree = ast.parse(source)
    functions = {id(n): f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                 for n in ast.walk(f)}
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        for module in modules:
            if module.startswith(SHELL) or module.split(".")[0] in IO_MODULES:
                found.append(f"{node.lineno}: imports {module}")
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "open":
                found.append(f"{node.lineno}: open()")
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                pair = (func.value.id, func.attr)
                if pair in CLOCK_CALLS:
                    found.append(f"{node.lineno}: reads the clock ({pair[0]}.{pair[1]})")
                if pair in {("os", "urandom"), ("secrets", "token_bytes"), ("secrets", "token_hex")} and (
                    relative, functions.get(id(node))
                ) not in ALLOWED_RANDOM:
                    found.append(f"{node.lineno}: randomness ({pair[0]}.{pair[1]})")
            if isinstance(func, ast.Attribute) and func.attr in {"read_text", "read_bytes", "write_text",
                                                                 "write_bytes"}:
                found.append(f"{node.lineno}: file I/O (.{func.attr})")
    return found


@pytest.mark.parametrize("path", pure_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_the_pure_core_does_no_io_and_reads_no_clock(path: Path) -> None:
    relative = str(path.relative_to(SRC))
    assert violations(path.read_text(), relative) == []


@pytest.mark.parametrize(
    ("snippet", "words"),
    [
        ("from interlock.store import Store", "imports interlock.store"),
        ("import interlock.cli.app", "imports interlock.cli.app"),
        ("import sqlite3", "imports sqlite3"),
        ("from datetime import datetime\nx = datetime.now()", "reads the clock"),
        ("import time\nx = time.time()", "reads the clock"),
        ("x = open('f')", "open()"),
        ("from pathlib import Path\nPath('f').read_text()", "file I/O"),
        ("import os\ndef f():\n    return os.urandom(4)", "randomness"),
    ],
)
def test_the_layering_check_catches_each_kind_of_violation(snippet: str, words: str) -> None:
    assert any(words in v for v in violations(snippet, "engine/x.py"))


def test_key_generation_is_the_only_allowed_randomness() -> None:
    snippet = "import os\ndef new_seed():\n    return os.urandom(32)"
    assert violations(snippet, "statements/keys.py") == []
    assert violations(snippet, "engine/keys.py") != []
