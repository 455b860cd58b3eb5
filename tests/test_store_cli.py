"""`interlock log …` and `interlock verify` as a user runs them: real processes, real files."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import update

from conftest import DATA
from interlock.statements import dump_entries
from interlock.store import Store
from interlock.store.schema import entries
from pg import T0, adoptions, log_signer_key, northland_agreement, signed

INTERLOCK = str(Path(sys.executable).parent / "interlock")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([INTERLOCK, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def write_lines(path: Path, values: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(v) + "\n" for v in values))
    return path


def test_init_append_verify_and_detect(db_url: str, tmp_path: Path) -> None:
    keygen = run("log", "keygen", "--name", "log.cli", "--out", "op.skey", cwd=tmp_path)
    assert keygen.returncode == 0, keygen.stderr
    assert keygen.stdout.startswith("log.cli+")
    assert (tmp_path / "op.skey").stat().st_mode & 0o777 == 0o600
    assert run("log", "keygen", "--name", "log.cli", "--out", "op.skey", cwd=tmp_path).returncode == 1

    init = run("log", "init", "--db", db_url, "--agreement", str(DATA / "northland" / "agreement.yaml"),
               "--log-key", "op.skey", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    info = json.loads(init.stdout)
    assert info["origin"] == "log.cli/northland-southland-2026"
    log_key = info["log_key"]

    batch = write_lines(tmp_path / "first.jsonl", adoptions() + [signed("observers", f"cli-{i}") for i in range(4)])
    appended = run("log", "append", "--db", db_url, "--log-key", "op.skey", str(batch), cwd=tmp_path)
    assert appended.returncode == 0, appended.stderr
    acks = [json.loads(line) for line in appended.stdout.splitlines()]
    assert [a["index"] for a in acks] == list(range(7))

    verified = run("verify", "--db", db_url, "--log-key", log_key, "--save-checkpoint", "saved.cp", cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert "verified" in verified.stdout and "7 entries" in verified.stdout
    assert (tmp_path / "saved.cp").read_text().startswith("log.cli/northland-southland-2026\n7\n")

    again = write_lines(tmp_path / "again.jsonl", [signed("observers", "cli-0"), signed("observers", "cli-9")])
    mixed = run("log", "append", "--db", db_url, "--log-key", "op.skey", str(again), cwd=tmp_path)
    assert mixed.returncode == 1
    first, second = (json.loads(line) for line in mixed.stdout.splitlines())
    assert first["code"] == "reused-nonce" and second["index"] == 7

    consistent = run("verify", "--db", db_url, "--log-key", log_key, "--checkpoint", "saved.cp", cwd=tmp_path)
    assert consistent.returncode == 0, consistent.stderr

    with Store.open(db_url) as store, store.engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.idx == 2).values(leaf_hash=bytes(32)))
    broken = run("verify", "--db", db_url, "--log-key", log_key, "--checkpoint", "saved.cp", cwd=tmp_path)
    assert broken.returncode == 1
    assert "error log-unverified" in broken.stderr and "entry 2:" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_verify_an_entries_file_with_its_checkpoint(db_url: str, tmp_path: Path) -> None:
    with Store.open(db_url) as store:
        info = store.register_log(northland_agreement(), log_signer_key(), T0)
        log = store.log(info.id, log_signer_key())
        log.append(adoptions() + [signed("observers", f"f-{i}") for i in range(5)], T0)
        (tmp_path / "log.jsonl").write_text(dump_entries(log.entries(0, 100)))
        (tmp_path / "head.cp").write_text(log.latest_checkpoint().signed_note)
    agreement = str(DATA / "northland" / "agreement.yaml")
    ok = run("verify", "--entries", "log.jsonl", "--agreement", agreement, "--head", "head.cp",
             "--log-key", info.public_key, "--save-checkpoint", "next.cp", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "next.cp").read_text() == (tmp_path / "head.cp").read_text()
    # the same file with the last entry's time changed no longer matches the signed checkpoint
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    changed = json.loads(lines[-1])
    changed["integrated_at"] = "2026-03-03T08:00:01Z"
    (tmp_path / "log.jsonl").write_text("\n".join([*lines[:-1], json.dumps(changed)]) + "\n")
    bad = run("verify", "--entries", "log.jsonl", "--agreement", agreement, "--head", "head.cp",
              "--log-key", info.public_key, cwd=tmp_path)
    assert bad.returncode == 1 and "different history" in bad.stderr


def test_verify_the_conformance_entries_file(tmp_path: Path) -> None:
    agreement = str(DATA / "northland" / "agreement.yaml")
    good = run("verify", "--entries", str(DATA / "northland" / "entries.jsonl"), "--agreement", agreement,
               cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "9 entries" in good.stdout
    lines = (DATA / "northland" / "entries.jsonl").read_text().splitlines()
    line = json.loads(lines[4])
    sig = base64.b64decode(line["envelope"]["signatures"][0]["sig"])
    line["envelope"]["signatures"][0]["sig"] = base64.b64encode(bytes([sig[0] ^ 1]) + sig[1:]).decode()
    (tmp_path / "forged.jsonl").write_text("\n".join([*lines[:4], json.dumps(line), *lines[5:]]) + "\n")
    bad = run("verify", "--entries", "forged.jsonl", "--agreement", agreement, cwd=tmp_path)
    assert bad.returncode == 1
    assert "entry 4:" in bad.stderr and "bad-signature" in bad.stderr


def test_verify_usage_and_input_errors(tmp_path: Path) -> None:
    neither = run("verify", cwd=tmp_path)
    assert neither.returncode == 2
    both = run("verify", "--db", "sqlite:///x.db", "--entries", "e.jsonl", cwd=tmp_path)
    assert both.returncode == 2
    memory = run("verify", "--db", "sqlite://", cwd=tmp_path)
    assert memory.returncode == 1 and "bad-database-url" in memory.stderr
    empty = run("verify", "--db", f"sqlite:///{tmp_path / 'empty.db'}", cwd=tmp_path)
    assert empty.returncode == 1 and "unknown-log" in empty.stderr
    assert "Traceback" not in neither.stderr + both.stderr + memory.stderr + empty.stderr


def test_verify_entries_without_agreement_is_a_usage_error(tmp_path: Path) -> None:
    lonely = run("verify", "--entries", str(DATA / "northland" / "entries.jsonl"), cwd=tmp_path)
    assert lonely.returncode == 2, lonely.stderr
    assert "--agreement" in lonely.stderr and "--entries needs" in lonely.stderr
    assert "unreadable-input" not in lonely.stderr and "Traceback" not in lonely.stderr


NOT_A_DATABASE_COMMANDS = {
    "verify": ["verify"],
    "log list": ["log", "list"],
    "mirror": ["mirror", "--server", "http://127.0.0.1:9", "--once"],
    "serve": ["serve", "--log-key", "op.skey", "--port", "0"],
}


@pytest.mark.parametrize("command", sorted(NOT_A_DATABASE_COMMANDS))
def test_a_file_that_is_not_a_database_is_refused_plainly(command: str, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("these are notes, not a database\n" * 200)
    before = text.read_bytes()
    if command == "serve":
        assert run("log", "keygen", "--name", "log.txt", "--out", "op.skey", cwd=tmp_path).returncode == 0
    url = f"sqlite:///{text}"
    result = run(*NOT_A_DATABASE_COMMANDS[command], "--db", url, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "error database-unavailable:" in result.stderr
    assert f"{url} is not an interlock database (file is not a database)" in result.stderr
    assert "Traceback" not in result.stderr and "sqlalchemy" not in result.stderr.lower()
    assert text.read_bytes() == before
    assert not (tmp_path / "notes.txt-wal").exists()
