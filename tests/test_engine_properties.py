"""Properties of the engine over random logs (hypothesis).

The agreement is symmetric: sides `a` and `b` owe each other the same things; `g` guarantees
and rules; `m1`, `m2` verify; `m3` is a monitor who verifies nothing.  Random logs mix every
statement type, valid and invalid, with observations early, late and in the future.
"""

from __future__ import annotations

import copy
import json
import os
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_world import World, when
from interlock.engine import Evaluator, evaluate
from interlock.statements import Entry
from interlock.timeutil import format_timestamp


def side(me: str, other: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    first = [
        {"id": f"{me}-give", "kind": "deliver", "by": me, "to": other, "quantity": {"amount": 4, "unit": "persons"},
         "tranches": 3, "due": {"after": "adopted", "plus": "48h"}, "verify": {"by": ["m1", "m2"]},
         "on_breach": {"suspend": [f"{other}-answer"], "notify": ["g"], "grace": "6h"}},
        {"id": f"{me}-calm", "kind": "refrain", "by": me, "window": {"from": "adopted"},
         "verify": {"by": ["m1", "m2"]}, "on_breach": {"notify": ["g"]}},
        {"id": f"{me}-act", "kind": "act", "by": me, "to": other, "due": {"after": "adopted", "plus": "24h"},
         "verify": {"by": ["m1", "m2"], "quorum": 2}},
    ]
    second = [
        {"id": f"{me}-answer", "kind": "deliver", "by": me, "to": other,
         "quantity": {"per": f"{other}-give", "ratio": 2, "unit": "persons"},
         "due": {"after_each": "24h"}, "verify": {"by": ["m1"]}},
        {"id": f"{me}-rate", "kind": "rate", "by": me, "to": other,
         "quantity": {"amount": 3, "unit": "trucks", "per_period": "1d"},
         "window": {"from": {"opened": "s2"}}, "verify": {"by": ["m2"]}},
    ]
    return first, second


A1, A2 = side("a", "b")
B1, B2 = side("b", "a")
AGREEMENT = {
    "id": "symmetric",
    "max_report_delay": "24h",
    "parties": [
        {"id": "a", "role": "party"}, {"id": "b", "role": "party"}, {"id": "g", "role": "guarantor"},
        {"id": "m1", "role": "monitor"}, {"id": "m2", "role": "monitor"}, {"id": "m3", "role": "monitor"},
    ],
    "disputes": {"ruled_by": ["g"], "quorum": 1},
    "stages": [
        {"id": "s1", "opens": "adopted", "obligations": A1 + B1},
        {"id": "s2", "opens": {"any": [{"stage_complete": "s1"}, {"after": "adopted", "plus": "30h"}]},
         "obligations": A2 + B2},
    ],
}
OBLIGATIONS = [ob["id"] for ob in A1 + A2 + B1 + B2]
PEOPLE = ["a", "b", "g", "m1", "m2", "m3"]
START = when("1 06:00")

AUTHORS = {  # who usually writes each type; any participant now and then (to be refused)
    "evidence": ["m1", "m2", "m1", "m2", "m3"], "declare": ["a", "b"], "attest": ["m1", "m2", "m3"],
    "incident": ["m1", "m2", "a", "b"], "dispute": ["a", "b"], "ruling": ["g"], "extend": ["a", "b"],
    "waive": ["a", "b"], "suspend": ["a", "b"], "impediment": ["m1", "m2"], "note": PEOPLE, "adopt": ["a", "b", "g"],
}
KINDS = ["evidence"] * 6 + ["attest"] * 3 + ["declare", "incident", "incident", "dispute", "ruling", "extend",
                                             "waive", "suspend", "impediment", "note", "adopt"]


@st.composite
def step_strategy(draw: st.DrawFn) -> tuple[Any, ...]:
    """(minutes after the previous entry, type, author, obligation, units, observation age in
    minutes, how many entries back a reference points, verdict, attribution)."""
    kind = draw(st.sampled_from(KINDS))
    author = draw(st.sampled_from(PEOPLE if draw(st.integers(0, 9)) == 0 else AUTHORS[kind]))
    return (
        draw(st.sampled_from([0, 0, 10, 60, 300, 900, 1440])),
        kind,
        author,
        draw(st.sampled_from(OBLIGATIONS)),
        draw(st.integers(1, 6)),
        draw(st.sampled_from([0, 0, 30, 120, 1800, -10])),
        draw(st.integers(1, 6)),
        draw(st.sampled_from(["confirm", "confirm", "confirm", "reject"])),
        draw(st.sampled_from([None, None, "confirmed", "unconfirmed"])),
    )


def body_for(kind: str, step: tuple[Any, ...], at: str, index: int = 0) -> dict[str, Any]:
    _, _, _, ob, units, age, back, verdict, attribution = step
    ref = max(index - back, 0)
    observed = format_timestamp(when(at) - timedelta(minutes=age))
    if kind in ("evidence", "declare"):
        return {"obligation": ob, "units": units, "observed_at": observed}
    if kind == "incident":
        return {"obligation": ob if ob.endswith("calm") else None, "observed_at": observed, "description": "d"}
    if kind == "attest":
        return {"entry": ref, "verdict": verdict} | ({"attribution": attribution} if attribution else {})
    if kind == "dispute":
        return {"entry": ref, "reason": "r"}
    if kind == "ruling":
        return {"dispute": ref, "decision": "upheld" if verdict == "confirm" else "rejected"}
    if kind == "extend":
        return {"obligation": ob, "due": format_timestamp(when(at) + timedelta(hours=units * 12))}
    if kind in ("waive", "suspend", "impediment"):
        extra = {"waive": {}, "suspend": {"cites": [ref], "reason": "r"},
                 "impediment": {"observed_at": observed, "description": "d"}}[kind]
        return {"obligation": ob, **extra}
    if kind == "note":
        return {"text": "t"}
    return {}


def clean(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def build_log(steps: list[tuple[Any, ...]], adopt_order: list[str], *, signed: bool = False,
              mirror: bool = False, doc: dict[str, Any] | None = None) -> World:
    """A world with the three adoptions first, then `steps`; `mirror` swaps a and b everywhere."""
    world = World(rename(AGREEMENT) if mirror else (doc or AGREEMENT))
    at = START
    for who in adopt_order:
        at += timedelta(minutes=5)
        world.add(format_timestamp(at), name(who, mirror), "adopt", signed=signed)
    for step in steps:
        at += timedelta(minutes=step[0])
        stamp = format_timestamp(at)
        kind, author = step[1], step[2]
        body = clean(body_for(kind, step, stamp, len(world.entries)))
        world.add(stamp, name(author, mirror), kind, rename(body) if mirror else body, signed=signed)
    return world


SWAP = {"a": "b", "b": "a"}


def name(value: str, mirror: bool) -> str:
    if not mirror:
        return value
    if value in SWAP:
        return SWAP[value]
    head, dash, tail = value.partition("-")
    return SWAP[head] + dash + tail if head in SWAP and dash else value


def rename(value: Any) -> Any:
    """Swap the two sides' names everywhere in a JSON value (keys and strings)."""
    if isinstance(value, str):
        return name(value, True)
    if isinstance(value, list):
        return [rename(v) for v in value]
    if isinstance(value, dict):
        return {rename(k): rename(v) for k, v in value.items()}
    return value


logs = st.tuples(st.lists(step_strategy(), max_size=40), st.permutations(["a", "b", "g"]))
EXAMPLES = int(os.environ.get("ENGINE_EXAMPLES", "60"))  # raise it locally to search harder
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def final_time(world: World) -> str:
    last = world.entries[-1].integrated_at if world.entries else START
    return format_timestamp(last + timedelta(days=2))


@FAST
@given(logs)
def test_determinism(log: tuple[list[tuple[Any, ...]], list[str]]) -> None:
    world = build_log(*log)
    as_of = final_time(world)
    first = json.dumps(world.json(as_of, unsigned=True), sort_keys=True)
    again = build_log(*log)
    assert json.dumps(again.json(as_of, unsigned=True), sort_keys=True) == first


@FAST
@given(logs, st.integers(0, 60))
def test_as_of_equals_prefix(log: tuple[list[tuple[Any, ...]], list[str]], cut: int) -> None:
    world = build_log(*log)
    entries = world.entries
    if not entries:
        return
    as_of = entries[min(cut, len(entries) - 1)].integrated_at + timedelta(minutes=cut % 7)
    prefix = [e for e in entries if e.integrated_at <= as_of]
    whole = evaluate(world.agreement, entries, as_of, unsigned=True).to_json()
    assert whole == evaluate(world.agreement, prefix, as_of, unsigned=True).to_json()


@FAST
@given(logs, st.sets(st.integers(0, 60)))
def test_incremental_equals_full(log: tuple[list[tuple[Any, ...]], list[str]], probes: set[int]) -> None:
    world = build_log(*log)
    evaluator = Evaluator(world.agreement, unsigned=True)
    for entry in world.entries:
        verdict = evaluator.check(entry)
        assert evaluator.append(entry) == verdict
        if entry.index in probes:
            at = entry.integrated_at + timedelta(hours=entry.index % 5)
            prefix = world.entries[: entry.index + 1]
            assert evaluator.status(at).to_json() == evaluate(world.agreement, prefix, at, unsigned=True).to_json()
    as_of = when(final_time(world))
    assert evaluator.status(as_of).to_json() == world.json(final_time(world), unsigned=True)
    assert evaluator.size == len(world.entries)


@settings(max_examples=15, deadline=None)
@given(logs)
def test_incremental_equals_full_signed(log: tuple[list[tuple[Any, ...]], list[str]]) -> None:
    world = build_log(*log, signed=True)
    evaluator = Evaluator(world.agreement)
    for entry in world.entries:
        evaluator.append(entry)
    as_of = final_time(world)
    assert evaluator.status(when(as_of)).to_json() == world.json(as_of)


def mirrored(status: dict[str, Any]) -> dict[str, Any]:
    out = rename(copy.deepcopy(status))
    out["notifications"] = sorted(out["notifications"], key=lambda n: (n["at"], n["obligation"]))
    out["rejected"] = [(r["index"], r["code"]) for r in out["rejected"]]  # reasons are words
    del out["agreement"]
    return out


@FAST
@given(logs)
def test_neutrality_swapping_the_sides_mirrors_the_status(log: tuple[list[tuple[Any, ...]], list[str]]) -> None:
    world = build_log(*log)
    mirror = build_log(*log, mirror=True)
    as_of = final_time(world)
    assert mirrored(world.json(as_of, unsigned=True)) == mirrored(rename(mirror.json(as_of, unsigned=True)))


unverified_steps = st.lists(
    st.tuples(
        st.sampled_from([0, 10, 60, 600]),
        st.sampled_from(["declare", "evidence", "attest", "incident", "note"]),
        st.sampled_from(["a", "b", "m3"]),
        st.sampled_from(OBLIGATIONS),
        st.integers(1, 6),
        st.sampled_from([0, 30]),
        st.integers(1, 6),
        st.sampled_from(["confirm"]),
        st.sampled_from([None, "confirmed"]),
    ),
    max_size=25,
)


@FAST
@given(unverified_steps)
def test_an_unverified_claim_never_fulfils_anything(steps: list[tuple[Any, ...]]) -> None:
    """Declarations by debtors and reports and confirmations by a non-verifier count for nothing."""
    world = build_log(steps, ["a", "b", "g"])
    for hours in (1, 30, 200):
        at = world.entries[-1].integrated_at + timedelta(hours=hours)
        status = evaluate(world.agreement, world.entries, at, unsigned=True).to_json()
        for oid, ob in status["obligations"].items():
            assert ob["verified"] == 0
            assert ob["required"] in (0, None) or "answer" not in oid  # nothing verified to answer
            if not oid.endswith("answer"):  # an answer owing nothing is trivially met
                assert ob["state"] not in ("fulfilled", "late")
            if oid.endswith("calm"):
                assert ob["state"] != "breached"
        assert status["stages"]["s1"]["state"] in ("open", "breached")
        if status["stages"]["s2"]["opened_at"] is not None:  # only by the clock, never by s1's completion
            assert when(status["stages"]["s2"]["opened_at"]) == when(status["adopted_at"]) + timedelta(hours=30)


@FAST
@given(logs)
def test_uncounted_claims_change_no_state(log: tuple[list[tuple[Any, ...]], list[str]]) -> None:
    """Replacing every claim that does not count by a note leaves every state and amount alone."""
    world = build_log(*log)
    evaluator = world.evaluator(unsigned=True)
    rejected = {r.index for r in evaluator.rejected}
    uncounted = {i for i, c in evaluator.ledger.claims.items() if not c.counted and i not in rejected}
    replaced = [
        Entry(e.index, e.integrated_at, statement={**e.statement, "type": "note", "body": {"text": "x"}})
        if e.index in uncounted and e.statement is not None else e
        for e in world.entries
    ]
    as_of = when(final_time(world))
    keep = ("state", "verified", "required", "due")
    before = evaluate(world.agreement, world.entries, as_of, unsigned=True).to_json()
    after = evaluate(world.agreement, replaced, as_of, unsigned=True).to_json()
    for oid, ob in before["obligations"].items():
        assert {k: ob[k] for k in keep} == {k: after["obligations"][oid][k] for k in keep}, oid
    assert {s: v["state"] for s, v in before["stages"].items()} == {s: v["state"] for s, v in after["stages"].items()}


independent = st.lists(
    st.tuples(
        st.sampled_from(["evidence", "evidence", "declare", "incident", "note"]),
        st.sampled_from(["a", "b", "m1", "m2"]),
        st.sampled_from(OBLIGATIONS),
        st.integers(1, 4),
        st.sampled_from([0, 30, 600]),
    ),
    min_size=1,
    max_size=8,
)


@FAST
@given(st.lists(independent, min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_order_of_equal_time_claims_does_not_matter(blocks: list[list[tuple[Any, ...]]], rnd: Any) -> None:
    """Claims integrated at the same moment may be logged in any order: same states and amounts."""

    def world_for(order: list[list[tuple[Any, ...]]]) -> World:
        world = build_log([], ["a", "b", "g"])
        for number, block in enumerate(order):
            at = format_timestamp(START + timedelta(hours=2 + 5 * number))
            for kind, author, ob, units, age in block:
                step = (0, kind, author, ob, units, age, 0, "confirm", None)
                world.add(at, author, kind, clean(body_for(kind, step, at)), signed=False)
        return world

    shuffled = [rnd.sample(block, len(block)) for block in blocks]
    as_of = format_timestamp(START + timedelta(days=4))
    one, two = world_for(blocks).json(as_of, unsigned=True), world_for(shuffled).json(as_of, unsigned=True)
    keep = ("state", "verified", "required", "due", "flags")
    for oid in one["obligations"]:
        assert {k: one["obligations"][oid][k] for k in keep} == {k: two["obligations"][oid][k] for k in keep}, oid
    for sid in one["stages"]:
        assert one["stages"][sid]["state"] == two["stages"][sid]["state"]
        assert one["stages"][sid]["opened_at"] == two["stages"][sid]["opened_at"]
    assert sorted(r["code"] for r in one["rejected"]) == sorted(r["code"] for r in two["rejected"])
    assert one["notifications"] == two["notifications"]
