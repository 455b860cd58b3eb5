"""The fictional example uses every feature of the format, in neutral mirrored wording."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from conftest import ROOT
from interlock.agreement import Agreement, load_agreement
from interlock.agreement.check import check_data
from interlock.agreement.model import (
    After,
    AfterEach,
    AllOf,
    AnyOf,
    At,
    Breached,
    Delivered,
    Opened,
    StageComplete,
    Verified,
)
from interlock.agreement.yamlsource import load_yaml_bytes
from interlock.statements.keys import public_key_b64

EXAMPLE = ROOT / "examples" / "northland-southland.yaml"
DURATION_KEYS = {"plus", "after_each", "per_period", "grace", "max_report_delay"}


def example() -> Agreement:
    return load_agreement(EXAMPLE.read_bytes())


def conditions(agreement: Agreement) -> list[Any]:
    """Every condition in the file, nested ones included."""
    found: list[Any] = []

    def walk(condition: Any) -> None:
        found.append(condition)
        if isinstance(condition, After):
            walk(condition.after)
        elif isinstance(condition, AllOf):
            for part in condition.all_:
                walk(part)
        elif isinstance(condition, AnyOf):
            for part in condition.any_:
                walk(part)

    for stage in agreement.stages:
        walk(stage.opens)
        for ob in stage.obligations:
            for top in (ob.starts, ob.due, *((ob.window.from_, ob.window.until) if ob.window else ())):
                if top is not None and not isinstance(top, AfterEach):
                    walk(top)
    return found


def durations_as_written(data: Any) -> list[str]:
    out: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key in DURATION_KEYS and isinstance(value, str):
                out.append(value)
            else:
                out.extend(durations_as_written(value))
    elif isinstance(data, list):
        for value in data:
            out.extend(durations_as_written(value))
    return out


def test_the_example_is_clean_for_the_checker() -> None:
    report = check_data(load_yaml_bytes(EXAMPLE.read_bytes()).data)
    assert report.errors == []
    assert report.warnings == []


def test_parties_roles_keys_adoption_disputes_delay() -> None:
    agreement = example()
    assert {p.role for p in agreement.parties} == {"party", "guarantor", "monitor", "mediator"}
    for party in agreement.parties:
        assert party.keys, party.id
        for key in party.keys:  # the documented demo seeds
            assert key.ed25519 == public_key_b64(hashlib.sha256(b"demo:" + key.id.encode()).digest())
    assert agreement.adoption is not None and set(agreement.adoption.requires) == {"north", "south", "east", "west"}
    assert agreement.disputes is not None and agreement.disputes.quorum == 2
    assert agreement.max_report_delay == timedelta(hours=24)
    assert len(agreement.stages) >= 3


def test_obligation_features() -> None:
    obligations = [ob for _, ob in example().obligations()]
    assert {ob.kind for ob in obligations} == {"deliver", "act", "rate", "refrain"}
    quantities = [ob.quantity for ob in obligations if ob.quantity is not None]
    assert any(q.unit and q.categories and q.amount == sum(q.categories.values()) for q in quantities)
    assert any(ob.tranches and ob.tranches > 1 for ob in obligations)
    assert any(q.per and isinstance(q.ratio, int | float) for q in quantities)
    assert any(q.per and isinstance(q.ratio, dict) and len(q.ratio) > 1 for q in quantities)
    assert any(isinstance(ob.due, AfterEach) for ob in obligations)
    assert any(ob.kind == "rate" and ob.quantity and ob.quantity.per_period == timedelta(days=1) for ob in obligations)
    assert any(ob.window and ob.window.until is not None for ob in obligations)
    assert any(ob.window and ob.window.until is None for ob in obligations)
    assert any(ob.verify and ob.verify.quorum > 1 and len(ob.verify.by) >= ob.verify.quorum for ob in obligations)
    breach = [ob.on_breach for ob in obligations if ob.on_breach]
    assert any(b.suspend for b in breach) and any(b.notify for b in breach) and any(b.grace for b in breach)
    assert any(ob.starts is not None for ob in obligations)
    for ob in obligations:
        assert ob.clause and ob.text, ob.id
        assert ob.verify and ob.on_breach and (ob.due or ob.window), ob.id


def test_every_condition_form() -> None:
    found = conditions(example())
    kinds = {type(c).__name__ if not isinstance(c, str) else c for c in found}
    assert kinds == {
        "adopted", "Opened", "Verified", "Delivered", "StageComplete", "Breached", "At", "After", "AllOf", "AnyOf",
    }
    assert any(isinstance(c, Delivered) and c.at_least > 0 for c in found)
    assert any(isinstance(c, After) and c.plus > timedelta(0) for c in found)
    assert any(isinstance(c, Opened) for c in found) and any(isinstance(c, Verified) for c in found)
    assert any(isinstance(c, StageComplete) for c in found) and any(isinstance(c, Breached) for c in found)
    assert any(isinstance(c, At) for c in found) and any(isinstance(c, AllOf | AnyOf) for c in found)


def test_durations_in_every_notation() -> None:
    written = durations_as_written(load_yaml_bytes(EXAMPLE.read_bytes()).data)
    assert any(re.fullmatch(r"\d+m", d) for d in written)
    assert any(re.fullmatch(r"\d+h", d) for d in written)
    assert any(re.fullmatch(r"\d+d", d) for d in written)
    assert any(d.startswith("P") for d in written)
    assert "90m" in written and "72h" in written and "42d" in written


MIRRORED = [("ceasefire-north", "ceasefire-south"), ("count-north", "count-south"), ("talks-north", "talks-south")]


def swap_sides(text: str) -> str:
    return text.replace("Northland", "\0").replace("Southland", "Northland").replace("\0", "Southland")


def test_mirrored_obligations_read_and_work_the_same_for_both_sides() -> None:
    agreement = example()
    for left_id, right_id in MIRRORED:
        left, right = agreement.obligation(left_id), agreement.obligation(right_id)
        assert left is not None and right is not None
        assert swap_sides(left.text or "") == right.text
        assert (left.by, left.to) == (right.to[0], [right.by])
        same = {"kind", "clause", "quantity", "starts", "due", "window", "verify", "on_breach"}
        assert left.model_dump(include=same) == right.model_dump(include=same)


def test_interlock_check_strict_passes() -> None:
    interlock = str(Path(sys.executable).parent / "interlock")
    result = subprocess.run([interlock, "check", "--strict", str(EXAMPLE)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors, 0 warnings" in result.stdout
