"""Every checker code: a small file that triggers it (code, line, id checked by hand against the
file) and one that does not.  Files are in tests/data/check/: `CODE.*.yaml` triggers CODE,
`CODE.ok.yaml` (or `clean.yaml`) is the nearest file that does not."""

from __future__ import annotations

import re

import pytest

from conftest import DATA, ROOT
from interlock.agreement.check import check_bytes, check_data
from interlock.agreement.model import Obligation
from interlock.agreement.shape import allowed_keys

CHECK = DATA / "check"

# (file, severity, code, line, id) — lines counted in the files by hand.
TRIGGERS = [
    ("yaml-syntax.bad.yaml", "error", "yaml-syntax", 4, None),  # `[T` on line 3 is unclosed
    ("duplicate-key.bad.yaml", "error", "duplicate-key", 4, None),
    ("bad-key.bad.yaml", "error", "bad-key", 4, None),
    ("bad-number.bad.yaml", "error", "bad-number", 8, None),
    ("bad-number.big.yaml", "error", "bad-number", 11, "oa"),
    ("bad-value.binary.yaml", "error", "bad-value", 3, None),
    ("empty-file.bad.yaml", "error", "empty-file", 1, None),
    ("wrong-type.bad.yaml", "error", "wrong-type", 3, None),
    ("wrong-type.list.yaml", "error", "wrong-type", 1, None),
    ("unknown-key.bad.yaml", "error", "unknown-key", 11, "oa"),
    ("missing-key.bad.yaml", "error", "missing-key", 11, "oa"),
    ("bad-value.bad.yaml", "error", "bad-value", 7, None),
    ("bad-public-key.bad.yaml", "error", "bad-public-key", 5, None),
    ("bad-condition.bad.yaml", "error", "bad-condition", 10, "s1"),
    ("bad-condition.both.yaml", "error", "bad-condition", 11, "oa"),
    ("bad-duration.bad.yaml", "error", "bad-duration", 11, "oa"),
    ("bad-timestamp.bad.yaml", "error", "bad-timestamp", 11, "oa"),
    ("unsupported-version.bad.yaml", "error", "unsupported-version", 1, None),
    ("unknown-timezone.bad.yaml", "error", "unknown-timezone", 4, None),
    ("duplicate-id.bad.yaml", "error", "duplicate-id", 12, "oa"),
    ("duplicate-id.stage.yaml", "error", "duplicate-id", 11, "s1"),
    ("duplicate-id.party.yaml", "error", "duplicate-id", 6, None),
    ("duplicate-reference.bad.yaml", "error", "duplicate-reference", 11, "oa"),
    ("unknown-reference.bad.yaml", "error", "unknown-reference", 11, "oa"),
    ("unknown-reference.condition.yaml", "error", "unknown-reference", 10, "s1"),
    ("owed-to-self.bad.yaml", "error", "owed-to-self", 11, "oa"),
    ("self-verification.bad.yaml", "error", "self-verification", 13, "om"),
    ("verifier-not-monitor.bad.yaml", "error", "verifier-not-monitor", 11, "oa"),
    ("quorum-too-high.bad.yaml", "error", "quorum-too-high", 11, "oa"),
    ("quorum-too-high.disputes.yaml", "error", "quorum-too-high", 8, None),
    ("kind-mismatch.bad.yaml", "error", "kind-mismatch", 11, "oa"),
    ("bad-quantity.bad.yaml", "error", "bad-quantity", 11, "oa"),
    ("bad-quantity.categories.yaml", "error", "bad-quantity", 11, "oa"),
    ("bad-proportional.bad.yaml", "error", "bad-proportional", 12, "ob"),
    ("bad-proportional.each.yaml", "error", "bad-proportional", 12, "ob"),
    ("unit-mismatch.bad.yaml", "error", "unit-mismatch", 12, "ob"),
    ("condition-cycle.bad.yaml", "error", "condition-cycle", 10, "s1"),
    ("condition-cycle.due.yaml", "error", "condition-cycle", 11, "oa"),
    ("no-deadline.bad.yaml", "warning", "no-deadline", 11, "oa"),
    ("no-verifier.bad.yaml", "warning", "no-verifier", 11, "oa"),
    ("no-consequence.bad.yaml", "warning", "no-consequence", 11, "oa"),
    ("no-consequence.grace.yaml", "warning", "no-consequence", 11, "oa"),
    ("no-unit.bad.yaml", "warning", "no-unit", 11, "oa"),
    ("no-quantity.bad.yaml", "warning", "no-quantity", 11, "oa"),
    ("empty-stage.bad.yaml", "warning", "empty-stage", 13, "s2"),
    ("idle-party.bad.yaml", "warning", "idle-party", 8, None),
    ("vague-text.bad.yaml", "warning", "vague-text", 11, "oa"),
    ("never-opens.bad.yaml", "warning", "never-opens", 14, "s2"),
    ("opens-only-through-breach.bad.yaml", "warning", "opens-only-through-breach", 14, "s2"),
    ("never-starts.bad.yaml", "warning", "never-starts", 16, "ob"),  # its `starts:` line
    ("never-due.bad.yaml", "warning", "never-due", 16, "ob"),  # its `due:` line
    ("never-due.window.yaml", "warning", "never-due", 17, "ob"),  # its `window.from:` line
    ("all-on-credit.bad.yaml", "warning", "all-on-credit", 11, "oa"),
]

# Codes whose triggers are built in the tests (hostile input, files that cannot be read,
# data that has no canonical JSON): see test_check_hostile.py and below.
GENERATED = {"too-deep", "too-many-values", "not-utf8", "not-text", "file-too-large", "unreadable-file",
             "not-canonical"}


def _near_miss(code: str) -> str:
    ok = CHECK / f"{code}.ok.yaml"
    return ok.name if ok.exists() else "clean.yaml"


@pytest.mark.parametrize(("name", "severity", "code", "line", "ident"), TRIGGERS, ids=[t[0] for t in TRIGGERS])
def test_file_triggers_code(name: str, severity: str, code: str, line: int, ident: str | None) -> None:
    report = check_bytes((CHECK / name).read_bytes())
    found = report.errors if severity == "error" else report.warnings
    assert (code, line, ident) in [(f.code, f.line, f.id) for f in found], found
    if severity == "error":
        assert report.agreement is None
    else:
        assert report.errors == [] and report.agreement is not None


@pytest.mark.parametrize("code", sorted({t[2] for t in TRIGGERS}))
def test_near_miss_does_not_trigger(code: str) -> None:
    report = check_bytes((CHECK / _near_miss(code)).read_bytes())
    assert report.errors == []
    assert code not in {f.code for f in report.warnings}
    assert report.agreement is not None and report.agreement.hash == report.hash


def test_clean_file_has_no_findings_at_all() -> None:
    report = check_bytes((CHECK / "clean.yaml").read_bytes())
    assert report.findings() == []


def test_conformance_agreement_has_no_errors(northland_bytes: bytes) -> None:
    report = check_bytes(northland_bytes)
    assert report.errors == []
    # its three obligations without `on_breach` are the only advice (checked by reading it)
    assert sorted((f.code, f.id) for f in report.warnings) == [
        ("no-consequence", "aid-trucks"),
        ("no-consequence", "release-prisoners-first"),
        ("no-consequence", "withdraw-line-b"),
    ]


def test_unknown_key_names_the_allowed_keys_of_the_model() -> None:
    report = check_bytes((CHECK / "unknown-key.bad.yaml").read_bytes())
    (finding,) = report.errors
    listed = finding.message.split("allowed keys here: ")[1].split(", ")
    assert listed == allowed_keys(Obligation)
    assert {"due", "on_breach", "window", "verify"} <= set(listed)
    assert "`deadline`" in finding.message


def test_one_finding_per_union_failure() -> None:
    data = _clean_data()
    data["stages"][0]["obligations"][0] = {
        "id": "oa", "kind": "deliver", "by": "a", "to": "b",
        "quantity": {"amount": "ten", "unit": "crates"}, "due": {"after": "adopted", "plus": "1d"},
    }
    report = check_data(data)
    assert [(f.code, f.id) for f in report.errors] == [("wrong-type", "oa")]
    assert "`quantity.amount` should be a number, not 'ten'" in report.errors[0].message


def test_strict_types_refuse_numbers_written_as_text() -> None:
    data = _clean_data()
    data["stages"][0]["obligations"][0]["verify"] = {"by": ["m"], "quorum": "1"}
    assert [f.code for f in check_data(data).errors] == ["wrong-type"]


def test_data_without_canonical_form() -> None:
    data = _clean_data()
    data["title"] = b"bytes are not JSON"
    report = check_data(data)
    assert "not-canonical" in [f.code for f in report.errors]
    assert report.hash is None and report.agreement is None
    assert check_data(_clean_data()).hash is not None


def test_findings_without_source_have_no_position_but_an_id() -> None:
    data = _clean_data()
    data["stages"][0]["obligations"][1]["verify"] = {"by": ["a"]}
    report = check_data(data)
    assert {(f.code, f.line, f.id) for f in report.errors} == {
        ("verifier-not-monitor", None, "ob"),
    }


def test_every_code_is_documented_and_tested() -> None:
    text = (ROOT / "docs" / "check-codes.md").read_text()
    documented = set(re.findall(r"^### `([a-z0-9-]+)`", text, re.MULTILINE))
    tested = {t[2] for t in TRIGGERS} | GENERATED
    assert documented == tested


def _clean_data() -> dict:  # type: ignore[type-arg]
    from interlock.agreement.yamlsource import load_yaml_bytes

    data = load_yaml_bytes((CHECK / "clean.yaml").read_bytes()).data
    assert isinstance(data, dict)
    return data
