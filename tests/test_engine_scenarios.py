"""Golden scenarios (tests/data/engine/*.yaml): one rule each, expected states reasoned by hand.

A scenario holds an agreement (keys are added: `<id>-1` with seed `seed_of(<id>)`), optional
amendment `documents`, `entries` (each signed here with real Ed25519), and `expect`: states at
several moments as dotted keys of the status JSON.  Compact times `"D HH:MM"` are March 2026,
UTC; a value `"@name"` is the hash of document `name` (`@base` the agreement's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from conftest import DATA
from engine_world import World, iso, lookup, when
from interlock.engine import Evaluator

SCENARIOS = sorted((DATA / "engine").glob("*.yaml"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(path.read_text())
    return data


def build(scenario: dict[str, Any]) -> World:
    world = World(scenario["agreement"], scenario.get("documents"))
    for spec in scenario["entries"]:
        world.add(
            spec["at"], spec["by"], spec["type"], spec.get("body"),
            names=spec.get("names", "base"), nonce=spec.get("nonce"), key=spec.get("key"),
            signer=spec.get("signer"),
        )
    return world


def expected(world: World, value: Any) -> Any:
    if isinstance(value, str) and value.startswith("@"):
        return world.hashes[value[1:]]
    return iso(value)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario(path: Path) -> None:
    scenario = load(path)
    world = build(scenario)
    for check in scenario["expect"]:
        status = world.json(check["as_of"])
        for key, value in check["states"].items():
            assert lookup(status, key) == expected(world, value), f"{path.stem} as of {check['as_of']}: {key}"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_incrementally(path: Path) -> None:
    """Folding entry by entry, asking for the status between appends, gives the same answers."""
    scenario = load(path)
    world = build(scenario)
    evaluator = Evaluator(world.agreement)
    checks = sorted(scenario["expect"], key=lambda c: when(c["as_of"]))
    position = 0
    for check in checks:
        as_of = when(check["as_of"])
        while position < len(world.entries) and world.entries[position].integrated_at <= as_of:
            evaluator.append(world.entries[position])
            evaluator.status(world.entries[position].integrated_at)  # exercise the caches
            position += 1
        assert evaluator.status(as_of).to_json() == world.json(check["as_of"]), check["as_of"]


def test_there_is_a_scenario_per_rule() -> None:
    rules = {load(p)["rule"] for p in SCENARIOS}
    assert len(rules) == len(SCENARIOS) >= 15
