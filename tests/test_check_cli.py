"""`interlock check`, `interlock schema` and `interlock demo` as a user runs them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema_rs
from typer.testing import CliRunner

from conftest import DATA, ROOT
from interlock.agreement.schema import schema_text
from interlock.agreement.yamlsource import load_yaml_bytes
from interlock.cli import app

CHECK = DATA / "check"
CLEAN = str(CHECK / "clean.yaml")
WARNED = str(CHECK / "no-verifier.bad.yaml")  # valid, one warning
BROKEN = str(CHECK / "unknown-reference.bad.yaml")  # one error
runner = CliRunner()


def test_exit_codes_and_strict() -> None:
    assert runner.invoke(app, ["check", CLEAN]).exit_code == 0
    assert runner.invoke(app, ["check", "--strict", CLEAN]).exit_code == 0
    assert runner.invoke(app, ["check", WARNED]).exit_code == 0
    assert runner.invoke(app, ["check", "--strict", WARNED]).exit_code == 1
    assert runner.invoke(app, ["check", CLEAN, BROKEN]).exit_code == 1
    assert runner.invoke(app, ["check", BROKEN, CLEAN]).exit_code == 1


def test_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["check"]).exit_code == 2
    assert runner.invoke(app, ["check", "--format", "xml", CLEAN]).exit_code == 2
    assert runner.invoke(app, ["check", "--no-such-option", CLEAN]).exit_code == 2


def test_human_output() -> None:
    result = runner.invoke(app, ["check", WARNED, BROKEN, CLEAN])
    lines = result.output.splitlines()
    assert lines[0] == (
        f"{WARNED}:11:9: warning no-verifier: nobody verifies `oa`: add `verify: {{by: [a monitor]}}`"
    )
    assert re.fullmatch(rf"{re.escape(WARNED)}: valid \(0 errors, 1 warning\) sha256:[0-9a-f]{{64}}", lines[1])
    assert lines[2].startswith(f"{BROKEN}:11:90: error unknown-reference: `verify.by` names the party `monitor`")
    assert re.fullmatch(rf"{re.escape(BROKEN)}: INVALID \(1 error, 0 warnings\) sha256:[0-9a-f]{{64}}", lines[3])
    assert re.fullmatch(rf"{re.escape(CLEAN)}: valid \(0 errors, 0 warnings\) sha256:[0-9a-f]{{64}}", lines[4])
    assert len(lines) == 5


def test_json_output_shape(tmp_path: Path) -> None:
    unparsable = tmp_path / "bad.yaml"
    unparsable.write_text("title: [unclosed\n")
    result = runner.invoke(app, ["check", "--format", "json", WARNED, BROKEN, str(unparsable)])
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert list(document) == ["files"]
    files = document["files"]
    assert [list(f) for f in files] == [["file", "valid", "hash", "errors", "warnings"]] * 3
    assert [(f["file"], f["valid"]) for f in files] == [(WARNED, True), (BROKEN, False), (str(unparsable), False)]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", files[0]["hash"])
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", files[1]["hash"])  # parsed, but with an error
    assert files[2]["hash"] is None
    assert files[0]["warnings"] == [
        {
            "code": "no-verifier",
            "message": "nobody verifies `oa`: add `verify: {by: [a monitor]}`",
            "line": 11,
            "column": 9,
            "id": "oa",
        }
    ]
    assert [(e["code"], e["line"], e["id"]) for e in files[1]["errors"]] == [("unknown-reference", 11, "oa")]
    assert [(e["code"], e["line"], e["id"]) for e in files[2]["errors"]] == [("yaml-syntax", 2, None)]


def test_hash_matches_the_conformance_hash() -> None:
    expected = json.loads((DATA / "northland" / "expected.json").read_text())["agreement_hash"]
    result = runner.invoke(app, ["check", "--format", "json", str(DATA / "northland" / "agreement.yaml")])
    assert result.exit_code == 0
    assert json.loads(result.output)["files"][0]["hash"] == expected


def test_stdin() -> None:
    result = runner.invoke(app, ["check", "-"], input=(CHECK / "clean.yaml").read_bytes())
    assert result.exit_code == 0
    assert result.output.startswith("-: valid (0 errors, 0 warnings) sha256:")


def test_schema_command_matches_committed_copy() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert result.output == schema_text()
    committed = (ROOT / "schema" / "agreement.schema.json").read_text()
    assert committed == result.output, "schema drifted: run `make schema` and commit it"


def test_schema_accepts_the_conformance_file_and_refuses_unknown_keys() -> None:
    schema = json.loads((ROOT / "schema" / "agreement.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["title"]
    data = load_yaml_bytes((DATA / "northland" / "agreement.yaml").read_bytes()).data
    validator = jsonschema_rs.validator_for(schema)
    assert validator.is_valid(data)  # uses `to: south`, a shorthand the schema must allow
    data["stages"][0]["obligations"][0]["deadline"] = "1d"
    assert not validator.is_valid(data)


def test_demo_without_examples(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--examples", str(tmp_path)])
    assert result.exit_code == 0
    assert "No example agreements found" in result.output
    assert str(tmp_path) in result.output


def test_demo_summarises_each_example(tmp_path: Path) -> None:
    shutil.copy(CHECK / "all-on-credit.bad.yaml", tmp_path / "one.yaml")
    shutil.copy(CHECK / "clean.yaml", tmp_path / "two.yaml")
    result = runner.invoke(app, ["demo", "--examples", str(tmp_path)])
    assert result.exit_code == 0
    assert "one.yaml: valid (0 errors, 1 warning)" in result.output
    assert "2 stages; obligations by debtor: a 1, b 1" in result.output
    assert "warnings: all-on-credit 1" in result.output
    assert "two.yaml: valid (0 errors, 0 warnings)" in result.output
    assert "1 stage; obligations by debtor: a 1, b 1" in result.output
    shutil.copy(CHECK / "condition-cycle.bad.yaml", tmp_path / "three.yaml")
    result = runner.invoke(app, ["demo", "--examples", str(tmp_path)])
    assert result.exit_code == 1
    assert "three.yaml: INVALID (1 error, 0 warnings)" in result.output
    assert "error condition-cycle (line 10)" in result.output


def test_real_demo_command_runs_from_anywhere(tmp_path: Path) -> None:
    interlock = Path(sys.executable).parent / "interlock"
    result = subprocess.run([str(interlock), "demo", "--no-serve", "--data", str(tmp_path / "log")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in result.stderr
    examples = sorted((ROOT / "examples").glob("*.yaml"))
    if examples:  # found beside the checkout, even when run from elsewhere
        assert all(f"{path.name}: " in result.stdout for path in examples)
    else:
        assert result.returncode == 0 and "No example agreements found" in result.stdout
