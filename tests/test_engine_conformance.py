"""The conformance case (shared/conformance/northland): DESIGN.md's worked example, exactly."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import DATA
from interlock.agreement import load_agreement
from interlock.engine import Evaluator, evaluate
from interlock.statements import parse_entries
from interlock.timeutil import parse_timestamp

EXPECTED = json.loads((DATA / "northland" / "expected.json").read_text())


def lookup(status: dict[str, Any], dotted: str) -> Any:
    if dotted == "rejected_indices":
        return sorted(r["index"] for r in status["rejected"])
    node: Any = status
    head, _, rest = dotted.partition(".")
    node = node[head]
    if head in ("stages", "obligations"):
        ident, _, field = rest.rpartition(".")
        return node[ident][field]
    return node


@pytest.mark.parametrize("check", EXPECTED["checks"], ids=lambda c: c["as_of"])
def test_conformance_expected_states(
    check: dict[str, Any], northland_bytes: bytes, northland_entries_text: str
) -> None:
    agreement = load_agreement(northland_bytes)
    assert agreement.hash == EXPECTED["agreement_hash"]
    status = evaluate(agreement, parse_entries(northland_entries_text), parse_timestamp(check["as_of"]))
    data = status.to_json()
    assert data["agreement"] == EXPECTED["agreement_hash"]
    for key, value in check["expect"].items():
        assert lookup(data, key) == value, key


def test_conformance_worked_example_details(northland_bytes: bytes, northland_entries_text: str) -> None:
    """The finer points DESIGN.md's table states, checked by hand."""
    agreement = load_agreement(northland_bytes)
    entries = parse_entries(northland_entries_text)
    late = evaluate(agreement, entries, parse_timestamp("2026-03-09T00:00:00Z")).to_json()
    obligations = late["obligations"]
    # s2 opened when withdraw-line-a was verified by entry 3 (refrains never block s1)
    assert late["stages"]["s2"]["opened_at"] == "2026-03-04T08:00:00Z"
    assert late["stages"]["s2"]["because"] == [3, 7]  # opened by 3; first breach: day 6 (entry 7)
    # release-first: due 72h after s2 opened, 12/12 observed 7th 15:00, within the 12h grace
    assert obligations["release-first"]["due"] == "2026-03-07T08:00:00Z"
    assert obligations["release-first"]["because"] == [4, 8]
    # proportional tranches: 120 due 24h after entry 4 verified (5th 11:06); 240 after entry 8
    tranches = obligations["release-prisoners-first"]["tranches"]
    assert [(t["base"], t["owed"], t["delivered"], t["due"], t["state"]) for t in tranches] == [
        (4, 120, 120, "2026-03-06T11:06:00Z", "fulfilled"),
        (8, 240, 0, "2026-03-08T15:20:00Z", "breached"),
    ]
    # aid-trucks: day 4 partial (window opened at 08:00), day 5 met, day 6 short → breached 7th 00:00
    periods = obligations["aid-trucks"]["periods"]
    assert [(p["from"][:10], p["units"], p["state"]) for p in periods[:3]] == [
        ("2026-03-04", 0, "partial"), ("2026-03-05", 610, "met"), ("2026-03-06", 580, "short"),
    ]
    assert late["notifications"] == []  # nothing with `notify` was breached
    early = evaluate(agreement, entries, parse_timestamp("2026-03-05T12:00:00Z")).to_json()
    assert early["obligations"]["release-prisoners-first"]["due"] == "2026-03-06T11:06:00Z"
    assert early["obligations"]["release-first"]["because"] == [4]


def test_conformance_incremental_matches(northland_bytes: bytes, northland_entries_text: str) -> None:
    agreement = load_agreement(northland_bytes)
    entries = parse_entries(northland_entries_text)
    evaluator = Evaluator(agreement)
    for entry in entries:
        assert evaluator.check(entry) is None
        assert evaluator.append(entry) is None
    as_of = parse_timestamp("2026-03-09T00:00:00Z")
    assert evaluator.size == 9
    assert evaluator.status(as_of).to_json() == evaluate(agreement, entries, as_of).to_json()
