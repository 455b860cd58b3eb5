"""`interlock keygen` and `interlock sign`, run as real subprocesses."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import ROOT
from interlock.agreement import load_agreement
from interlock.statements import open_envelope, parse_entries, parse_statement, verify_signature
from interlock.statements.keys import key_file_text, parse_key_file, public_key_b64
from interlock.timeutil import parse_timestamp

INTERLOCK = str(Path(sys.executable).parent / "interlock")
AGREEMENT = ROOT / "examples" / "northland-southland.yaml"
OBSERVED = {"obligation": "release-first", "units": 4, "observed_at": "2026-03-05T10:40:00Z"}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([INTERLOCK, *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False)


def run_here(capsys: pytest.CaptureFixture[str], *args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """The same command in this process (faster than a subprocess; same `main` entry point)."""
    from interlock.cli import main

    old_argv, old_cwd = sys.argv, Path.cwd()
    sys.argv = ["interlock", *args]
    try:
        if cwd is not None:
            os.chdir(cwd)
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
    out, err = capsys.readouterr()
    return code, out, err


def demo_key(tmp_path: Path, key_id: str, *, named: bool = True, seed_of: str | None = None) -> Path:
    seed = hashlib.sha256(b"demo:" + (seed_of or key_id).encode()).digest()
    text = key_file_text(seed, key_id)
    if not named:
        text = text.split("\n", 1)[1]
    path = tmp_path / f"{key_id}.key"
    path.write_text(text)
    return path


def sign(key: Path, statement_type: str, body: str, *extra: str) -> subprocess.CompletedProcess[str]:
    common = ("--agreement", str(AGREEMENT), "--key", str(key), "--type", statement_type, "--body", body)
    return run("sign", *common, *extra)


# --- keygen ---------------------------------------------------------------------------------


def test_keygen_writes_a_private_file_0600_and_prints_the_matching_public_line(tmp_path: Path) -> None:
    result = run("keygen", "--id", "north-2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "north-2.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    seed, key_id = parse_key_file(path.read_text())
    assert key_id == "north-2"
    assert result.stdout.strip() == f'{{id: north-2, ed25519: "{public_key_b64(seed)}"}}'
    assert "BEGIN PRIVATE KEY" in path.read_text() and "PRIVATE" not in result.stdout


def test_keygen_refuses_to_overwrite_and_leaves_the_file_alone(tmp_path: Path) -> None:
    target = tmp_path / "mine.key"
    target.write_text("precious")
    result = run("keygen", "--id", "north-2", "--out", str(target))
    assert result.returncode == 1
    assert "key-file-exists" in result.stderr and "mine.key" in result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_text() == "precious"
    assert result.stdout == ""


def test_keygen_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "link.key"
    link.symlink_to(tmp_path / "elsewhere.key")
    result = run("keygen", "--id", "north-2", "--out", str(link))
    assert result.returncode == 1 and "key-file-exists" in result.stderr
    assert not (tmp_path / "elsewhere.key").exists()


def test_keygen_makes_different_keys_each_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = run_here(capsys, "keygen", "--id", "a-1", cwd=tmp_path)[1]
    second = run_here(capsys, "keygen", "--id", "a-2", cwd=tmp_path)[1]
    assert first.split('"')[1] != second.split('"')[1]


@pytest.mark.parametrize("bad", ["../escape", "", "-x", "a b"])
def test_keygen_refuses_a_bad_id_as_a_usage_error(tmp_path: Path, bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run_here(capsys, "keygen", "--id", bad, cwd=tmp_path)
    assert code == 2 and out == ""
    assert list(tmp_path.iterdir()) == [] and not (tmp_path.parent / "escape.key").exists()


# --- sign -----------------------------------------------------------------------------------


def test_a_signed_statement_verifies_and_names_the_agreement(tmp_path: Path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    result = sign(demo_key(tmp_path, "handover-1"), "evidence", json.dumps(OBSERVED))
    assert result.returncode == 0, result.stderr
    agreement = load_agreement(AGREEMENT.read_bytes())
    opened = open_envelope(json.loads(result.stdout))
    verify_signature(opened, base64.b64decode("sytHhPxm9ED3jpp20+KoQzLAJLha3mrbvWnoF/5mEFk="))
    statement = parse_statement(opened.statement)
    assert statement.agreement == agreement.hash
    assert (statement.author, statement.key, statement.type) == ("handover", "handover-1", "evidence")
    assert re.fullmatch(r"[0-9a-f]{32}", statement.nonce)
    issued = parse_timestamp(statement.issued_at)
    assert before <= issued <= datetime.now(UTC) + timedelta(seconds=1)
    again = sign(demo_key(tmp_path, "handover-1"), "evidence", json.dumps(OBSERVED))
    assert parse_statement(open_envelope(json.loads(again.stdout)).statement).nonce != statement.nonce


def test_fixed_time_and_nonce_give_the_same_bytes_and_an_entries_line(tmp_path: Path) -> None:
    key = demo_key(tmp_path, "north-1", named=False)
    fixed = ("--key-id", "north-1", "--issued-at", "2026-03-03T07:58:00Z", "--nonce", "demo-0000")
    first, second = sign(key, "adopt", "{}", *fixed), sign(key, "adopt", "{}", *fixed)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    line = sign(key, "adopt", "{}", *fixed, "--entry-index", "0", "--integrated-at", "2026-03-03T08:00:00Z")
    (entry,) = parse_entries(line.stdout)
    assert entry.index == 0 and entry.integrated_at == datetime(2026, 3, 3, 8, tzinfo=UTC)
    assert entry.envelope == json.loads(first.stdout)
    # the demo log's first entry was made the same way
    committed = (ROOT / "examples" / "northland-southland.entries.jsonl").read_text().splitlines()[0]
    assert json.loads(committed) == json.loads(line.stdout)


def test_the_body_may_come_from_a_file(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text(json.dumps(OBSERVED))
    result = sign(demo_key(tmp_path, "handover-1"), "evidence", f"@{body}")
    assert result.returncode == 0, result.stderr
    assert parse_statement(open_envelope(json.loads(result.stdout)).statement).body.units == 4  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "case",
    [
        ("handover-1", "evidence", '{"obligation": "release-first", "units": 4}', "bad-statement", "observed_at"),
        ("handover-1", "evidence", '{"obligation": "release-first", "units": -4, "observed_at": "2026-03-05"}',
         "bad-statement", "units"),
        ("handover-1", "evidence", "[1, 2]", "bad-statement", "JSON object"),
        ("handover-1", "evidence", "{not json", "bad-statement", "not JSON"),
        ("handover-1", "evidence", '{"a": 1, "a": 2}', "bad-statement", "twice"),
        ("handover-1", "confess", "{}", "bad-statement", "unknown statement type 'confess'"),
        ("handover-1", "evidence", json.dumps({**OBSERVED, "obligation": "no-such"}), "unknown-obligation", "no-such"),
        ("stranger-1", "adopt", "{}", "unknown-key-id", "stranger-1"),
    ],
)
def test_sign_refuses_with_a_clear_message(
    tmp_path: Path, case: tuple[str, str, str, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    key_id, statement_type, body, code, words = case
    key = demo_key(tmp_path, key_id)
    exit_code, out, err = run_here(
        capsys, "sign", "--agreement", str(AGREEMENT), "--key", str(key), "--type", statement_type, "--body", body
    )
    assert exit_code == 1
    assert f"error {code}:" in err and words in err
    assert "Traceback" not in err and out == ""


def test_a_refusal_from_a_real_process(tmp_path: Path) -> None:
    result = sign(demo_key(tmp_path, "handover-1"), "evidence", '{"obligation": "release-first", "units": 4}')
    assert result.returncode == 1 and result.stdout == ""
    assert "error bad-statement:" in result.stderr and "observed_at" in result.stderr
    assert "Traceback" not in result.stderr


def test_sign_refuses_a_key_that_is_not_the_registered_one(tmp_path: Path) -> None:
    forged = demo_key(tmp_path, "north-1", seed_of="south-1")  # south's seed, north's name
    result = sign(forged, "adopt", "{}")
    assert result.returncode == 1 and "error key-mismatch:" in result.stderr and result.stdout == ""


def test_sign_refuses_an_author_the_key_does_not_belong_to(tmp_path: Path) -> None:
    result = sign(demo_key(tmp_path, "north-1"), "adopt", "{}", "--author", "south")
    assert result.returncode == 1 and "error author-key-mismatch:" in result.stderr


def test_sign_needs_a_key_id_when_the_file_names_none(tmp_path: Path) -> None:
    result = sign(demo_key(tmp_path, "north-1", named=False), "adopt", "{}")
    assert result.returncode == 1 and "error key-id-missing:" in result.stderr


def test_entry_index_without_integrated_at_is_a_usage_error(tmp_path: Path) -> None:
    result = sign(demo_key(tmp_path, "north-1"), "adopt", "{}", "--entry-index", "3")
    assert result.returncode == 2 and result.stdout == ""


def test_a_keygen_key_signs_once_registered(tmp_path: Path) -> None:
    made = run("keygen", "--id", "north-9", cwd=tmp_path)
    line = made.stdout.strip()
    text = AGREEMENT.read_text().replace(
        '    keys: [{id: north-1, ed25519: "el/VSn8+4aVi1osizX+HhoHH0wC/R+u3Wb7wS3uQI80="}]',
        f"    keys: [{line}]",
        1,
    )
    agreement_file = tmp_path / "agreement.yaml"
    agreement_file.write_text(text)
    result = run("sign", "--agreement", str(agreement_file), "--key", str(tmp_path / "north-9.key"),
                 "--type", "adopt", "--body", "{}")
    assert result.returncode == 0, result.stderr
    opened = open_envelope(json.loads(result.stdout))
    verify_signature(opened, base64.b64decode(line.split('"')[1]))
    assert parse_statement(opened.statement).author == "north"
    assert os.stat(tmp_path / "north-9.key").st_mode & 0o077 == 0
