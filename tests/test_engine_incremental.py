"""Incremental status over long proportional obligations and busy deliver obligations.

`give` is a plain deliver obligation, `answer` owes one unit per counted unit-claim of `give`
(one tranche per base claim), `close` in the next stage waits on the first stage.  Random
logs add claims to both, attestations (confirming or rejecting), disputes and rulings that
void claims or attestations, and ask `status()` in between: the held `Evaluator` must answer
exactly what `evaluate()` of the same prefix answers from scratch, every field compared
(`since`, `completed_at` and the facts are not in the JSON).  A hand-worked check pins down
the `because` and `since` of a proportional obligation with many tranches, and of its stage.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_world import World, when
from interlock.engine import Evaluator, evaluate
from interlock.timeutil import format_timestamp

MONITORS = ["m1", "m2"]
UNITS = (1, 2, 0.1, 0.7)  # fractions: sums in a different order differ in the last bits


def agreement(give_amount: int, answer_quorum: int) -> dict[str, Any]:
    return {
        "id": "incremental",
        "max_report_delay": "1h",
        "parties": [
            {"id": "a", "role": "party"}, {"id": "b", "role": "party"}, {"id": "g", "role": "guarantor"},
            {"id": "m1", "role": "monitor"}, {"id": "m2", "role": "monitor"},
        ],
        "disputes": {"ruled_by": ["g"], "quorum": 1},
        "stages": [
            {"id": "s1", "opens": "adopted", "obligations": [
                {"id": "give", "kind": "deliver", "by": "a", "to": "b",
                 "quantity": {"amount": give_amount, "unit": "units"},
                 "due": {"after": "adopted", "plus": "20d"}, "verify": {"by": MONITORS}},
                {"id": "answer", "kind": "deliver", "by": "b", "to": "a",
                 "quantity": {"per": "give", "ratio": 1, "unit": "units"}, "due": {"after_each": "6h"},
                 "verify": {"by": MONITORS, "quorum": answer_quorum}},
            ]},
            {"id": "s2", "opens": {"stage_complete": "s1"}, "obligations": [
                {"id": "close", "kind": "act", "by": "a", "to": "b",
                 "due": {"after": {"verified": "answer"}, "plus": "12h"}, "verify": {"by": MONITORS}},
            ]},
        ],
    }


START = when("1 06:00")


def adopted_world(doc: dict[str, Any]) -> tuple[World, datetime]:
    world = World(doc)
    at = START
    for who in ("a", "b", "g"):
        at += timedelta(minutes=1)
        world.add(format_timestamp(at), who, "adopt", signed=False)
    return world, at


@st.composite
def step(draw: st.DrawFn) -> tuple[Any, ...]:
    """(minutes after the previous entry, what, who, how many back a reference points (for a
    claim: tens of minutes since its observation), detail)."""
    what = draw(st.sampled_from(["give"] * 3 + ["answer"] * 3 + ["attest"] * 2 + ["dispute", "ruling"]
                                + ["status"] * 2))
    who = {"give": MONITORS, "answer": MONITORS, "attest": MONITORS, "dispute": ["a", "b"], "ruling": ["g"],
           "status": ["-"]}[what]
    return (
        draw(st.sampled_from([0, 1, 5, 30, 120, 400])),
        what,
        draw(st.sampled_from(who)),
        draw(st.integers(1, 8)),
        draw(st.sampled_from([0, 1, 2, 3])),
    )


def run(doc: dict[str, Any], steps: list[tuple[Any, ...]]) -> int:
    """Play `steps`, comparing the held evaluator with a fresh evaluation at each `status`."""
    world, at = adopted_world(doc)
    evaluator = Evaluator(world.agreement, unsigned=True)
    for entry in world.entries:
        assert evaluator.append(entry) is None
    claims: list[int] = []
    disputable: list[int] = []
    disputes: list[int] = []
    compared = 0

    def compare(moment: datetime) -> None:
        nonlocal compared
        held = evaluator.status(moment)
        fresh = evaluate(world.agreement, world.entries, moment, unsigned=True)
        assert held.to_json() == fresh.to_json()
        assert held == fresh  # every field: since, completed_at, facts, tranches
        compared += 1

    for minutes, what, who, back, detail in steps:
        if what == "status":  # the clock moves on, the log does not
            compare(at + timedelta(minutes=minutes, hours=detail * 5))
            continue
        at += timedelta(minutes=minutes)
        stamp = format_timestamp(at)
        index = len(world.entries)
        if what in ("give", "answer"):  # observed up to 80 minutes earlier: often before the last
            # claim, and reported late (after the hour allowed) now and then
            observed = format_timestamp(at - timedelta(minutes=10 * back))
            body: dict[str, Any] = {"obligation": what, "units": UNITS[detail], "observed_at": observed}
            claims.append(index)
            disputable.append(index)
        elif what == "attest":
            if not claims:
                continue
            body = {"entry": claims[-min(back, len(claims))], "verdict": "reject" if detail == 3 else "confirm"}
            disputable.append(index)
        elif what == "dispute":
            if not disputable:
                continue
            body = {"entry": disputable[-min(back, len(disputable))], "reason": "r"}
            disputes.append(index)
        else:
            if not disputes:
                continue
            body = {"dispute": disputes[-min(back, len(disputes))], "decision": "rejected" if detail == 3 else "upheld"}
        kind = "evidence" if what in ("give", "answer") else what
        entry = world.add(stamp, who, kind, body, signed=False)
        evaluator.append(entry)
    compare(at + timedelta(days=30))
    return compared


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(step(), min_size=30, max_size=150), st.integers(1, 2), st.integers(5, 60))
def test_incremental_status_equals_a_fresh_evaluation(steps: list[tuple[Any, ...]], quorum: int, amount: int) -> None:
    assert run(agreement(amount, quorum), steps) >= 1


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["give", "answer"]), min_size=100, max_size=500), st.data())
def test_many_tranches_interleaved_with_status(order: list[str], data: st.DataObject) -> None:
    """Hundreds of tranches, claims in any order, status asked at random points."""
    probes = data.draw(st.sets(st.integers(0, len(order) - 1), max_size=6))
    steps = []
    for number, what in enumerate(order):
        steps.append((1, what, MONITORS[number % 2], 1 + number % 7, number % 4))
        if number in probes:
            steps.append((0, "status", "-", 1, 0))
    given_units = sum(UNITS[number % 4] for number, what in enumerate(order) if what == "give")
    assert run(agreement(max(1, int(given_units)), 1), steps) >= 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 120).flatmap(lambda n: st.permutations(["give"] * n + ["answer"] * n)))
def test_a_met_proportional_obligation_rests_on_every_claim(order: list[str]) -> None:
    """n give claims and n answer claims (one unit each), in any interleaving, all verified.

    Worked by hand: answers are observed in the reverse of their logging, so tranche k is
    filled by the k-th answer from the end; either way the `answer` obligation is
    fulfilled once the last claim of either kind counted (claims count when logged: one
    verifier, quorum one) — it cannot be done before its base is settled, nor before its last
    tranche is met.  Its `because` is every claim; stage s1 completes at that same moment,
    because of the adoption (which opened it), `give`'s completing claim and every claim.
    """
    n = len(order) // 2
    world, at = adopted_world(agreement(n, 1))
    adoptions = [e.index for e in world.entries]
    for number, what in enumerate(order):
        at += timedelta(minutes=1)  # 240 claims at most: every answer is within its 6 hours
        # answers observed in the reverse of their logging: the first logged fills the last tranche
        observed = at if what == "give" else START - timedelta(minutes=number)
        world.add(format_timestamp(at), "m1", "evidence",
                  {"obligation": what, "units": 1, "observed_at": format_timestamp(observed)}, signed=False)
    claims = list(range(len(adoptions), len(world.entries)))
    last = world.entries[-1].integrated_at
    as_of = last + timedelta(hours=1)
    evaluator = Evaluator(world.agreement, unsigned=True)
    for entry in world.entries:
        assert evaluator.append(entry) is None
    status = evaluator.status(as_of)
    answer, s1 = status.obligations["answer"], status.stages["s1"]
    assert answer.state == "fulfilled"
    assert len(answer.tranches) == n
    assert answer.since == last
    assert answer.because == tuple(claims)
    assert s1.state == "complete"
    assert s1.completed_at == last
    assert s1.because == tuple(sorted(adoptions + claims))
    assert status == evaluate(world.agreement, world.entries, as_of, unsigned=True)
