"""`interlock analyze` as a user runs it: exit codes, table, JSON shape, charts, errors."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from typer.testing import CliRunner

from conftest import DATA
from interlock.cli import app

HERE = DATA / "analysis"
PLAN = str(HERE / "three-steps.yaml")
VALUES = str(HERE / "three-steps.values.yaml")
INTERLOCK = Path(sys.executable).parent / "interlock"
runner = CliRunner()


def invoke(*args: str) -> object:
    return runner.invoke(app, ["analyze", *args])


def test_table_output() -> None:
    result = runner.invoke(app, ["analyze", PLAN, "--values", VALUES])
    assert result.exit_code == 0, result.output
    assert "Three-step exchange" in result.output
    assert "max exposure" in result.output and "50.0 %" in result.output
    assert "critical path" in result.output and "answer #1 verified" in result.output
    # Without VALUES the output says that every obligation weighs the same.
    plain = runner.invoke(app, ["analyze", PLAN])
    assert plain.exit_code == 0 and "equal weights" in plain.output


def test_json_shape_and_figures() -> None:
    result = runner.invoke(app, ["analyze", PLAN, "--values", VALUES, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["analysis"] == 1 and data["simulation"] is True and data["schedule"] == "optimistic"
    assert [s["id"] for s in data["sides"]] == ["a", "b"]
    assert data["adopted_at"] == "2026-03-02T00:00:00Z"
    a = data["exposure"]["a"]
    assert a["max"] == {"value": 30.0, "pct": 50.0,
                        "witness": {"step": 0, "at": "2026-03-02T00:00:00Z", "obligations": ["withdraw"],
                                    "awaiting": ["release"]}}
    assert a["integral"] == {"value_days": 15.0, "pct_days": 25.0}
    assert data["defection"]["a"]["gains_by_stopping_after"] == [0, 1]
    assert data["structure"]["duration"] == {"text": "18h", "days": 0.75}
    assert set(data) >= {"steps", "stages", "breaches", "notes", "weights", "structure"}
    deadline = json.loads(runner.invoke(app, ["analyze", PLAN, "--values", VALUES, "--format", "json",
                                              "--schedule", "deadline"]).output)
    assert deadline["schedule"] == "deadline"
    assert deadline["exposure"]["a"]["integral"]["value_days"] == 75.0


def test_compare_and_suggest_in_json() -> None:
    direct, escrow = str(HERE / "direct.yaml"), str(HERE / "escrow.yaml")
    result = runner.invoke(app, ["analyze", direct, "--compare", escrow, "--format", "json"])
    assert result.exit_code == 0, result.output
    compared = json.loads(result.output)["compare"]
    row = next(r for r in compared["metrics"] if r["metric"] == "max exposure (%)")
    assert row["sides"]["a"] == {"a": 100.0, "b": 0.0, "prefers": "B"}
    assert row["sides"]["b"]["prefers"] is None
    result = runner.invoke(app, ["analyze", str(HERE / "tranches-1.yaml"), "--suggest", "--format", "json"])
    found = json.loads(result.output)["suggestions"]
    assert {s["kind"] for s in found} >= {"split", "escrow"}
    table = runner.invoke(app, ["analyze", direct, "--compare", escrow, "--suggest"])
    assert table.exit_code == 0 and "Comparison" in table.output and "Suggestions" in table.output


def test_svg_is_valid_deterministic_and_names_the_sides(tmp_path: Path) -> None:
    one, two = tmp_path / "one.svg", tmp_path / "two.svg"
    for out in (one, two):
        result = runner.invoke(app, ["analyze", PLAN, "--values", VALUES, "--format", "svg", "--out", str(out)])
        assert result.exit_code == 0, result.output
    data = one.read_bytes()
    assert data == two.read_bytes()
    root = ET.fromstring(data)
    assert root.tag.endswith("svg")
    text = data.decode()
    assert "Side A" in text and "Side B" in text and "days since adoption" in text
    assert "<dc:date>" not in text
    # Comparison: two panels, both titles.
    both = tmp_path / "both.svg"
    runner.invoke(app, ["analyze", str(HERE / "direct.yaml"), "--compare", str(HERE / "escrow.yaml"),
                        "--format", "svg", "--out", str(both)])
    assert "Direct payment" in both.read_text() and "Payment through escrow" in both.read_text()


def test_png_through_the_real_command(tmp_path: Path) -> None:
    out = tmp_path / "chart.png"
    done = subprocess.run(
        [str(INTERLOCK), "analyze", PLAN, "--values", VALUES, "--format", "png", "--out", str(out)],
        capture_output=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 600 and height > 300
    assert not list(tmp_path.glob(".*.tmp"))


def test_bad_input_exits_1_with_a_code(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["analyze", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 1 and "unreadable-input" in missing.output
    bad_values = tmp_path / "v.yaml"
    bad_values.write_text("values: 1\nparties: {zz: {}}\n")
    result = runner.invoke(app, ["analyze", PLAN, "--values", str(bad_values)])
    assert result.exit_code == 1 and "bad-values-file" in result.output and "zz" in result.output
    bad_values.write_text("values: [1\n")
    result = runner.invoke(app, ["analyze", PLAN, "--values", str(bad_values)])
    assert result.exit_code == 1 and "bad-values-file" in result.output
    invalid = runner.invoke(app, ["analyze", str(HERE / "deadlock.yaml")])
    assert invalid.exit_code == 1 and "agreement-invalid" in invalid.output
    other = tmp_path / "other.yaml"
    other.write_text((HERE / "three-steps.yaml").read_text().replace("id: b,", "id: c,").replace("to: b", "to: c")
                     .replace("by: b", "by: c"))
    result = runner.invoke(app, ["analyze", PLAN, "--compare", str(other)])
    assert result.exit_code == 1 and "drafts-not-comparable" in result.output
    nowhere = tmp_path / "no-such-dir" / "chart.svg"
    result = runner.invoke(app, ["analyze", PLAN, "--format", "svg", "--out", str(nowhere)])
    assert result.exit_code == 1 and not nowhere.exists()


def test_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["analyze"]).exit_code == 2
    assert runner.invoke(app, ["analyze", PLAN, "--schedule", "soon"]).exit_code == 2
    assert runner.invoke(app, ["analyze", PLAN, "--format", "xml"]).exit_code == 2


def test_error_goes_to_stderr_without_traceback() -> None:
    done = subprocess.run([str(INTERLOCK), "analyze", str(HERE / "deadlock.yaml")], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("error agreement-invalid:") and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_assume_monitor_is_reported() -> None:
    gaza = str(DATA.parent.parent / "examples" / "gaza-2025-10-phase1.yaml")
    written = json.loads(runner.invoke(app, ["analyze", gaza, "--format", "json"]).output)
    assumed = json.loads(runner.invoke(app, ["analyze", gaza, "--format", "json", "--assume-monitor"]).output)
    assert written["assumed_monitor_for"] == []
    assert "withdraw-yellow-line" in assumed["assumed_monitor_for"]
    assert any("assumed monitor" in n for n in assumed["notes"])
    # As written nothing is ever verifiably received: each side ends with all it handed over.
    for side in ("israel", "hamas"):
        assert written["exposure"][side]["final"]["pct"] == 100.0
