"""The two Gaza encodings: public names, clause and text everywhere, no errors, honest findings."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from interlock.agreement import Agreement, load_agreement
from interlock.agreement.check import Report, check_data
from interlock.agreement.yamlsource import load_yaml_bytes
from interlock.statements.keys import public_key_b64

JANUARY = ROOT / "examples" / "gaza-2025-01-phase1.yaml"
OCTOBER = ROOT / "examples" / "gaza-2025-10-phase1.yaml"


def report(path: Path) -> Report:
    return check_data(load_yaml_bytes(path.read_bytes()).data)


@pytest.mark.parametrize("path", [JANUARY, OCTOBER], ids=["2025-01", "2025-10"])
def test_every_obligation_has_clause_and_text_and_no_errors(path: Path) -> None:
    agreement = load_agreement(path.read_bytes())
    for _, ob in agreement.obligations():
        assert ob.clause and ob.clause.strip(), ob.id
        assert ob.text and len(ob.text) > 20, ob.id
    assert report(path).errors == []


@pytest.mark.parametrize("path", [JANUARY, OCTOBER], ids=["2025-01", "2025-10"])
def test_placeholder_keys_are_the_documented_demo_seeds(path: Path) -> None:
    text = path.read_text()
    assert "PLACEHOLDERS" in text and 'SHA-256(b"demo:" + key id)' in text
    for party in load_agreement(text.encode()).parties:
        for key in party.keys:
            assert key.ed25519 == public_key_b64(hashlib.sha256(b"demo:" + key.id.encode()).digest())


def test_public_names_and_roles() -> None:
    january, october = load_agreement(JANUARY.read_bytes()), load_agreement(OCTOBER.read_bytes())
    assert {(p.name, p.role) for p in january.parties} == {
        ("Israel", "party"), ("Hamas", "party"),
        ("Qatar", "guarantor"), ("Egypt", "guarantor"), ("United States", "guarantor"),
    }
    assert {(p.name, p.role) for p in october.parties} == {("Israel", "party"), ("Hamas", "party")}
    # the public terms name no verifying body: nobody is a monitor, nothing has a verifier
    for agreement in (january, october):
        assert not [p for p in agreement.parties if p.role == "monitor"]
        assert all(ob.verify is None for _, ob in agreement.obligations())


def findings(path: Path) -> set[tuple[str, str | None]]:
    return {(w.code, w.id) for w in report(path).warnings}


def test_january_findings() -> None:
    found = findings(JANUARY)
    agreement = load_agreement(JANUARY.read_bytes())
    for _, ob in agreement.obligations():  # no verifier and no consequence anywhere in the public terms
        assert ("no-verifier", ob.id) in found
        assert ("no-consequence", ob.id) in found
    for undated in ("release-prisoners-per-hostage", "release-gaza-detainees", "release-life-sentence",
                    "hostage-names", "withdraw-populated-areas", "reduce-philadelphi"):
        assert ("no-deadline", undated) in found
    for dated in ("release-hostages", "withdraw-netzarim", "phase-2-talks-hamas", "aid-trucks"):
        assert ("no-deadline", dated) not in found
    assert ("vague-text", "reduce-philadelphi") in found  # "gradual"


def test_october_findings() -> None:
    found = findings(OCTOBER)
    for undated in ("release-prisoners", "return-gazan-remains", "rafah-open"):
        assert ("no-deadline", undated) in found
    for dated in ("withdraw-yellow-line", "return-living-hostages", "return-hostage-remains"):
        assert ("no-deadline", dated) not in found


def mirror(agreement: Agreement, left: str, right: str) -> None:
    a, b = agreement.obligation(left), agreement.obligation(right)
    assert a is not None and b is not None
    swapped = (a.text or "").replace("Israel", "\0").replace("Hamas", "Israel").replace("\0", "Hamas")
    assert swapped == b.text
    assert (a.by, a.to, a.kind, a.clause) == (b.to[0], [b.by], b.kind, b.clause)


def test_both_sides_are_worded_alike() -> None:
    january, october = load_agreement(JANUARY.read_bytes()), load_agreement(OCTOBER.read_bytes())
    mirror(january, "ceasefire-israel", "ceasefire-hamas")
    mirror(january, "phase-2-talks-israel", "phase-2-talks-hamas")
    mirror(october, "aid-no-interference-israel", "aid-no-interference-hamas")


def test_interlock_check_accepts_both_with_warnings_as_findings() -> None:
    interlock = str(Path(sys.executable).parent / "interlock")
    result = subprocess.run([interlock, "check", "--format", "json", str(JANUARY), str(OCTOBER)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    files = json.loads(result.stdout)["files"]
    assert [f["valid"] for f in files] == [True, True]
    assert all(f["errors"] == [] and len(f["warnings"]) > 10 for f in files)
    strict = subprocess.run([interlock, "check", "--strict", str(OCTOBER)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert strict.returncode == 1
