"""The `verified` cell of `interlock status`: a rate reads as units per period, never as a total.

Expected cells are written by hand from the agreements' terms (tests/data/engine/09-rate-periods.yaml:
z owes 100 trucks a day, w 50; tests/data/northland: aid-trucks 600 trucks a day, release-first
12 persons in all) and from the scenario's entries, not from the program's output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import DATA
from test_engine_cli import AGREEMENT, ENTRIES, run, write_world
from test_engine_scenarios import build, load


def rows(*args: str) -> dict[str, str]:
    """obligation id → the table row without stage, id and state (the table is right-justified)."""
    result = run("status", *args)
    assert result.returncode == 0, result.stderr
    found: dict[str, str] = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) >= 4 and words[0].startswith("s") and words[0][1:].isdigit():
            found[words[1]] = " ".join(words[3:])
    return found


@pytest.mark.parametrize(("as_of", "z", "w"), [
    # before the window opens (27th 14:00 UTC): only the rate owed
    ("2026-03-26T10:00:00Z", "100 trucks/1d —", "50 trucks/1d —"),
    # inside the day 29th 22:00 – 30th 22:00 UTC: z has 70 of its 100 (60+40 were the 29th's), w 50 of 50
    ("2026-03-30T21:00:00Z", "100 trucks/1d: 70 this period (open)", "50 trucks/1d: 50 this period (met)"),
    # the window closed at 31st 10:00 UTC: the last, partial period had z's 10; the 30th was short
    ("2026-03-31T12:00:00Z", "100 trucks/1d: 10 last period (partial, not assessed), 1 short",
     "50 trucks/1d: 0 last period (partial, not assessed)"),
])
def test_a_rate_reads_as_units_per_period(tmp_path: Path, as_of: str, z: str, w: str) -> None:
    agreement, entries = write_world(build(load(DATA / "engine" / "09-rate-periods.yaml")), tmp_path)
    table = rows(agreement, "--entries", entries, "--as-of", as_of)
    assert table["z"].startswith(z), table["z"]
    assert table["w"].startswith(w), table["w"]
    assert "/100 trucks" not in table["z"] and "/50 trucks" not in table["w"]  # not "n of a total"


def test_a_deliver_still_reads_verified_of_required_next_to_a_rate() -> None:
    table = rows(AGREEMENT, "--entries", ENTRIES, "--as-of", "2026-03-05T12:00:00Z")
    assert table["release-first"].startswith("4/12 persons ")  # entry 4: 4 persons verified
    assert table["release-prisoners-first"].startswith("0/120 persons ")  # 30 per freed captive
    assert table["withdraw-line-a"].startswith("1/1 ")
    # s2 opened 03-04 08:00; the day 03-05 00:00 – 03-06 00:00 UTC holds as_of and no aid evidence
    assert table["aid-trucks"].startswith("600 trucks/1d: 0 this period (open) 03-06 00:00Z")
    assert "0/600" not in table["aid-trucks"]
