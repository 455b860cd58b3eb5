"""Hostile input to `interlock check`: each gets a clear finding, exit 1, and no traceback.

A few go through the real installed command in a subprocess; the rest call the checker or
the Typer app in-process.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from interlock.agreement.check import check_bytes
from interlock.cli import app

INTERLOCK = Path(sys.executable).parent / "interlock"


def alias_bomb(levels: int = 9) -> bytes:
    """'Billion laughs': each level nine aliases of the one before (9^9 values when expanded)."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


HOSTILE = {
    "non-utf8": (b"interlock: 1\ntitle: caf\xe9\n", "not-utf8"),
    "several-mb": (b"# " + b"x" * (3 * 1024 * 1024) + b"\n", "file-too-large"),
    "alias-bomb": (alias_bomb(), "too-many-values"),
    "deep-lists": (b"[" * 10000 + b"]" * 10000, "too-deep"),
    "deep-mappings": (b"{a: " * 10000 + b"1" + b"}" * 10000, "too-deep"),
    "binary": (bytes(range(256)) * 16, "not-text"),
    "empty": (b"", "empty-file"),
    "only-comments": (b"# a draft\n\n# nothing yet\n", "empty-file"),
}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(INTERLOCK), *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_bytes_give_one_clear_error(name: str) -> None:
    raw, code = HOSTILE[name]
    report = check_bytes(raw)
    assert [f.code for f in report.errors] == [code]
    assert report.agreement is None and report.hash is None
    assert report.errors[0].message


@pytest.mark.parametrize("name", ["several-mb", "alias-bomb", "binary"])
def test_real_command_on_hostile_file(name: str, tmp_path: Path) -> None:
    raw, code = HOSTILE[name]
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(raw)
    result = run_cli("check", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert re.search(rf"^{re.escape(str(path))}(:\d+:\d+)?: error {code}: \S", result.stdout, re.MULTILINE)
    assert f"{path}: INVALID (1 error, 0 warnings) no hash" in result.stdout


def test_real_command_on_directory_and_missing_file(tmp_path: Path) -> None:
    result = run_cli("check", "--format", "json", str(tmp_path), str(tmp_path / "absent.yaml"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    files = json.loads(result.stdout)["files"]
    assert [(f["file"], f["valid"], f["hash"]) for f in files] == [
        (str(tmp_path), False, None),
        (str(tmp_path / "absent.yaml"), False, None),
    ]
    assert [[e["code"] for e in f["errors"]] for f in files] == [["unreadable-file"], ["unreadable-file"]]
    assert "directory" in files[0]["errors"][0]["message"]
    assert "no such file" in files[1]["errors"][0]["message"]


@pytest.mark.parametrize("name", ["non-utf8", "deep-lists", "empty"])
def test_cli_in_process_on_hostile_file(name: str, tmp_path: Path) -> None:
    raw, code = HOSTILE[name]
    path = tmp_path / "agreement.yaml"
    path.write_bytes(raw)
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f" error {code}: " in result.output


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_a_report_never_an_exception(raw: bytes) -> None:
    report = check_bytes(raw)
    assert (report.agreement is None) == bool(report.errors)


TOKENS = [*"abc: -[]{}&*!|>'\"#\n\t 01.%@`?,\\", "interlock: 1\n", "stages:", "&x ", "*x", "<<: ", "!!float ", ".inf"]
YAMLISH = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)


@settings(max_examples=200, deadline=None)
@given(YAMLISH)
def test_yaml_like_text_gives_a_report_never_an_exception(text: str) -> None:
    report = check_bytes(text.encode())
    assert (report.agreement is None) == bool(report.errors)
    assert all(f.code and f.message for f in report.findings())
