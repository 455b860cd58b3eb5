"""`interlock status` and `interlock explain` as a user runs them (real subprocesses), and the
words of `explain`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import DATA
from engine_world import World, when
from interlock.agreement import load_agreement
from interlock.engine import evaluate
from interlock.engine.explain import explain
from interlock.engine.terms import Terms
from interlock.statements import Entry, dump_entries, parse_entries
from interlock.timeutil import parse_timestamp
from test_engine_scenarios import build, load

NORTHLAND = DATA / "northland"
AGREEMENT = str(NORTHLAND / "agreement.yaml")
ENTRIES = str(NORTHLAND / "entries.jsonl")
INTERLOCK = str(Path(sys.executable).with_name("interlock"))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([INTERLOCK, *args], check=False, capture_output=True, text=True, timeout=60,
                          env={"COLUMNS": "160", "PATH": "/usr/bin:/bin"})


def write_world(world: World, tmp_path: Path) -> tuple[str, str]:
    agreement = tmp_path / "agreement.json"
    agreement.write_text(json.dumps(world.doc))
    entries = tmp_path / "entries.jsonl"
    entries.write_text(dump_entries(world.entries))
    return str(agreement), str(entries)


def test_status_json_is_the_engines_status() -> None:
    result = run("status", AGREEMENT, "--entries", ENTRIES, "--as-of", "2026-03-09T00:00:00Z", "--format", "json")
    assert result.returncode == 0, result.stderr
    agreement = load_agreement(Path(AGREEMENT).read_bytes())
    expected = evaluate(agreement, parse_entries(Path(ENTRIES).read_text()), parse_timestamp("2026-03-09T00:00:00Z"))
    assert json.loads(result.stdout) == expected.to_json()
    assert "simulation" not in json.loads(result.stdout)


def test_status_table_one_line_per_obligation() -> None:
    result = run("status", AGREEMENT, "--entries", ENTRIES, "--as-of", "2026-03-05T12:00:00Z")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "stages: s1 complete  s2 open  s3 locked" in lines
    row = next(line for line in lines if "release-first" in line.split())
    assert row.split()[:4] == ["s2", "release-first", "active", "4/12"]
    assert "03-07 08:00Z (in 1d 20h)" in row  # due at 7th 08:00, 44h after 5th 12:00
    assert sum(1 for line in lines if line.startswith(("s1 ", "s2 ", "s3 "))) == 7


def test_as_of_defaults_to_now_and_reads_the_agreement_timezone(tmp_path: Path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    result = run("status", AGREEMENT, "--entries", ENTRIES, "--format", "json")
    as_of = parse_timestamp(json.loads(result.stdout)["as_of"])
    assert before - timedelta(seconds=1) <= as_of <= datetime.now(UTC) + timedelta(seconds=1)
    world = build(load(DATA / "engine" / "09-rate-periods.yaml"))  # Europe/Berlin
    agreement, entries = write_world(world, tmp_path)
    result = run("status", agreement, "--entries", entries, "--as-of", "2026-03-31T12:00", "--format", "json")
    assert json.loads(result.stdout)["as_of"] == "2026-03-31T10:00:00Z"


def test_unsigned_simulation(tmp_path: Path) -> None:
    world = build(load(DATA / "engine" / "05-deadlines.yaml"))
    statement = world.statement("3 09:00", "m1", "evidence", {"obligation": "r", "units": 4, "observed_at": "3 08:00"})
    world.entries.insert(3, Entry(3, when("3 09:00"), statement=statement))
    world.entries = [Entry(i, e.integrated_at, e.envelope, e.statement) for i, e in enumerate(world.entries)]
    agreement, entries = write_world(world, tmp_path)
    refused = run("status", agreement, "--entries", entries, "--as-of", "2026-03-05")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error bad-entries-file:") and "--unsigned" in refused.stderr
    result = run("status", agreement, "--entries", entries, "--as-of", "2026-03-05T00:00:00Z", "--unsigned",
                 "--format", "json")
    data = json.loads(result.stdout)
    assert data["simulation"] is True
    assert data["obligations"]["r"]["state"] == "fulfilled"  # the what-if delivery, on time
    table = run("status", agreement, "--entries", entries, "--as-of", "2026-03-05T00:00:00Z", "--unsigned")
    assert table.stdout.startswith("SIMULATION")


def test_explain_in_words() -> None:
    result = run("explain", AGREEMENT, "release-prisoners-first", "--entries", ENTRIES, "--as-of", "2026-03-09")
    assert result.returncode == 0, result.stderr
    assert ("release-prisoners-first (south → north): breached at 2026-03-08T15:20:00Z: 240 persons due at "
            "2026-03-08T15:20:00Z (24h after entry 8 was verified), 0 verified") in result.stdout
    assert "tranche for entry 4: 120 persons due 2026-03-06T11:06:00Z, 120 delivered: fulfilled" in result.stdout
    stage = run("explain", AGREEMENT, "s2", "--entries", ENTRIES, "--as-of", "2026-03-09")
    assert "breached at 2026-03-07T00:00:00Z: aid-trucks breached (entry 7)" in stage.stdout


def test_explain_names_voided_entries_and_rulings() -> None:
    world = build(load(DATA / "engine" / "13-disputes.yaml"))
    status = world.status("1 16:00")
    lines = explain(Terms(world.agreement), status, "x")
    assert lines[0].startswith(
        "x (a → b): active since 2026-03-01T08:30:00Z: 0 of 3 persons verified, due 2026-03-03T08:30:00Z (in 1d 16h)"
    )
    assert lines[0].endswith("; entry 4 no longer counts: dispute 5 upheld by rulings 6, 7")
    disputed = explain(Terms(world.agreement), world.status("1 19:30"), "x")
    assert "  entry 8 is disputed by a (dispute 9), not yet settled" in disputed


def test_bad_inputs_exit_1_with_a_code(tmp_path: Path) -> None:
    cases = [
        (["status", AGREEMENT, "--entries", str(tmp_path / "missing.jsonl")], "unreadable-input"),
        (["status", AGREEMENT, "--entries", ENTRIES, "--as-of", "yesterday"], "bad-timestamp"),
        (["explain", AGREEMENT, "nope", "--entries", ENTRIES], "unknown-id"),
        (["status", ENTRIES, "--entries", ENTRIES], "agreement-invalid"),
    ]
    for args, code in cases:
        result = run(*args)
        assert result.returncode == 1, args
        assert result.stderr.startswith(f"error {code}:"), result.stderr
        assert "Traceback" not in result.stderr
    assert run("status", AGREEMENT, "--entries", ENTRIES, "--format", "xml").returncode == 2
