"""The demo log tells the story of docs/demo-scenario.md: states worked out by hand from the story."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from interlock.agreement import load_agreement
from interlock.engine import evaluate
from interlock.statements import parse_entries
from interlock.timeutil import parse_timestamp

AGREEMENT = load_agreement((ROOT / "examples" / "northland-southland.yaml").read_bytes())
ENTRIES = parse_entries((ROOT / "examples" / "northland-southland.entries.jsonl").read_text())


def status(as_of: str) -> dict[str, Any]:
    return evaluate(AGREEMENT, ENTRIES, parse_timestamp(as_of)).to_json()


def states(result: dict[str, Any], kind: str) -> dict[str, str]:
    return {key: value["state"] for key, value in result[kind].items()}


@pytest.mark.parametrize("as_of", ["2026-03-06T12:00:00Z", "2026-03-13T12:00:00Z", "2026-04-02T00:00:00Z"])
def test_no_entry_is_rejected(as_of: str) -> None:
    assert status(as_of)["rejected"] == []


def test_day_three_first_exchange_under_way() -> None:
    result = status("2026-03-06T12:00:00Z")
    assert result["adopted_at"] == "2026-03-03T09:00:00Z"  # entry 3, the fourth adoption
    assert states(result, "stages") == {"s1": "complete", "s2": "open", "s3": "locked", "s4": "locked"}
    assert result["stages"]["s2"]["opened_at"] == "2026-03-04T10:00:00Z"  # the second monitor's confirmation
    first = result["obligations"]["release-first"]
    assert (first["state"], first["verified"], first["required"]) == ("active", 4, 12)
    assert first["due"] == "2026-03-07T10:00:00Z"  # s2 opened + 72h
    (tranche,) = result["obligations"]["release-prisoners-first"]["tranches"]
    assert (tranche["owed"], tranche["delivered"], tranche["state"]) == (120, 120, "fulfilled")
    assert tranche["due"] == "2026-03-06T11:00:00Z"  # 24h after entry 12 was verified
    assert result["obligations"]["talks-north"]["state"] == "pending"  # only 4 of 6 persons freed
    assert result["notifications"] == []


def test_day_eight_breach_lateness_suspension_dispute() -> None:
    result = status("2026-03-11T12:00:00Z")
    obligations = result["obligations"]
    assert obligations["ceasefire-north"]["state"] == "breached"  # incident 19, attribution confirmed by 20
    assert obligations["ceasefire-south"]["state"] == "active"  # incident 15: attribution unconfirmed
    assert result["notifications"] == [
        {"obligation": "ceasefire-north", "notify": ["east", "west", "lakeside"], "at": "2026-03-07T09:00:00Z"}
    ]
    assert obligations["release-first"]["state"] == "late"  # 12/12, the last four at 20:40, within the 12h grace
    assert "unilateral" in obligations["release-first"]["flags"]  # entry 22
    tranches = obligations["release-prisoners-first"]["tranches"]
    assert [(t["owed"], t["state"]) for t in tranches] == [(120, "fulfilled"), (140, "late"), (160, "fulfilled")]
    assert obligations["release-prisoners-first"]["state"] == "late"
    assert "disputed" in obligations["aid-trucks"]["flags"]  # dispute 29, one ruling of the two needed
    assert obligations["talks-north"]["state"] == obligations["talks-south"]["state"] == "fulfilled"
    assert states(result, "stages") == {"s1": "breached", "s2": "complete", "s3": "locked", "s4": "locked"}


def test_a_late_report_first_looks_like_a_shortfall() -> None:
    before = status("2026-03-13T12:00:00Z")["obligations"]["aid-trucks"]
    after = status("2026-03-13T19:00:00Z")["obligations"]["aid-trucks"]
    assert before["state"] == "breached"  # 12 March's count is not in the log yet
    assert after["state"] == "active" and "late_report" in after["flags"]  # entry 37, 27.5h after the count
    assert "disputed" not in after["flags"]  # the second ruling settled dispute 29


def test_the_end_everything_delivered() -> None:
    result = status("2026-04-02T00:00:00Z")
    assert states(result, "stages") == {"s1": "breached", "s2": "complete", "s3": "complete", "s4": "complete"}
    assert result["stages"]["s3"]["opened_at"] == "2026-03-18T10:00:00Z"  # s2 opened + P14D
    assert result["stages"]["s4"]["opened_at"] == "2026-03-30T12:00:00Z"  # entry 63 completed s3
    line_b = result["obligations"]["withdraw-line-b"]
    assert (line_b["state"], line_b["due"]) == ("fulfilled", "2026-03-27T10:00:00Z")  # extended by entry 51
    assert "impeded" in line_b["flags"]  # entry 49
    second = result["obligations"]["release-prisoners-second"]
    assert [(t["owed"], t["state"]) for t in second["tranches"]] == [(150, "fulfilled"), (90, "fulfilled")]
    assert result["obligations"]["release-second"]["state"] == "fulfilled"
    assert result["obligations"]["review"]["state"] == "fulfilled"
    assert result["obligations"]["aid-trucks"]["state"] != "breached"


def test_interlock_status_reads_the_demo_log_without_rejections() -> None:
    interlock = str(Path(sys.executable).parent / "interlock")
    result = subprocess.run(
        [interlock, "status", str(ROOT / "examples" / "northland-southland.yaml"),
         "--entries", str(ROOT / "examples" / "northland-southland.entries.jsonl"),
         "--as-of", "2026-03-11T12:00:00Z", "--format", "json"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["rejected"] == [] and data["agreement"] == AGREEMENT.hash
    assert data["obligations"]["ceasefire-north"]["state"] == "breached"
