"""`interlock demo` builds its log through the real API, and ships with the package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from interlock.cli.demo import demo_seed, packaged_examples
from interlock.errors import ReplayError
from interlock.note import new_signer_key
from interlock.server.dashboard.replay import replay
from interlock.statements import parse_entries
from interlock.store import Store
from interlock.tlog import root_hash

EXAMPLES = ROOT / "examples"


def test_the_package_ships_the_examples_and_the_scenario() -> None:
    shipped = sorted(p.name for p in packaged_examples().iterdir() if p.suffix in (".yaml", ".jsonl"))
    assert shipped == [
        "gaza-2025-01-phase1.yaml",
        "gaza-2025-10-phase1.yaml",
        "northland-southland.entries.jsonl",
        "northland-southland.yaml",
    ]
    assert EXAMPLES.resolve() == packaged_examples().resolve()  # one copy: examples/ links into the package


def test_demo_builds_the_log_through_the_api(tmp_path: Path) -> None:
    interlock = Path(sys.executable).parent / "interlock"
    data = tmp_path / "demo-data"
    (data).mkdir()
    (data / "demo.db").write_text("an earlier demo's database, to be replaced")
    result = subprocess.run([str(interlock), "demo", "--no-serve", "--data", str(data)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Logged 66 signed statements for northland-southland-2026" in result.stdout
    assert "interlock serve --db sqlite:///" in result.stdout
    text = (EXAMPLES / "northland-southland.entries.jsonl").read_text()
    expected = [json.loads(x) for x in text.splitlines()]
    with Store.open(f"sqlite:///{data / 'demo.db'}") as store:
        log = store.log("northland-southland-2026")
        stored = [e.to_json() for e in log.entries(0, 100)]
        assert stored == expected  # the same entries, at the same integration times
        assert log.latest_checkpoint().root == root_hash([e.leaf_bytes() for e in parse_entries(text)])
        assert log.info.origin == "interlock-demo/northland-southland-2026"


def test_replay_stops_at_the_first_refused_entry(tmp_path: Path) -> None:
    lines = (EXAMPLES / "northland-southland.entries.jsonl").read_text().splitlines()[:6]
    forged = json.loads(lines[5])
    forged["envelope"]["signatures"][0]["sig"] = forged["envelope"]["signatures"][0]["sig"][::-1]
    lines[5] = json.dumps(forged)
    skey, _ = new_signer_key("interlock-demo", demo_seed("log"))
    with pytest.raises(ReplayError, match="refused entry 5"):
        replay(f"sqlite:///{tmp_path / 'x.db'}", skey, (EXAMPLES / "northland-southland.yaml").read_bytes(),
               "\n".join(lines) + "\n", demo_seed("operator"))
