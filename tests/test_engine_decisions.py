"""The decisions of docs/semantics.md that the golden scenarios do not already pin down."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine_world import World, when, with_keys
from interlock.agreement import Agreement
from interlock.agreement.load import with_hash
from interlock.engine import Evaluator, evaluate
from interlock.statements import Entry

CAST = [{"id": "a", "role": "party"}, {"id": "b", "role": "party"}, {"id": "c", "role": "party"},
        {"id": "g", "role": "guarantor"}, {"id": "m1", "role": "monitor"}, {"id": "m2", "role": "monitor"}]


def world(*stages: dict[str, Any], **extra: Any) -> World:
    w = World({"id": "decisions", "parties": CAST, "adoption": {"requires": ["a", "b"]},
               "disputes": {"ruled_by": ["g"]}, "stages": list(stages), **extra})
    w.add("1 08:00", "a", "adopt")
    w.add("1 08:20", "b", "adopt")  # adopted at 1st 08:20
    return w


def stage(sid: str, *obligations: dict[str, Any], opens: Any = "adopted") -> dict[str, Any]:
    return {"id": sid, "opens": opens, "obligations": list(obligations)}


def act(oid: str, by: str = "a", to: str = "b", due: str = "24h", **extra: Any) -> dict[str, Any]:
    return {"id": oid, "kind": "act", "by": by, "to": to, "due": {"after": "adopted", "plus": due},
            "verify": {"by": ["m1", "m2"]}, **extra}


def test_a_waiver_after_a_breach_forgives_it() -> None:
    w = world(stage("s1", act("x", on_breach={"suspend": ["y"], "notify": ["g"]}), act("y", by="b", to="a", due="72h")))
    w.add("3 10:00", "b", "waive", {"obligation": "x"})
    before, after = w.json("3 09:00"), w.json("3 11:00")
    assert before["obligations"]["x"]["state"] == "breached"
    assert before["obligations"]["y"]["state"] == "suspended"
    assert len(before["notifications"]) == 1
    assert after["obligations"]["x"]["state"] == "waived"
    assert after["obligations"]["y"]["state"] == "active"  # the breach that suspended it is forgiven
    assert after["notifications"] == []
    assert after["stages"]["s1"]["state"] == "open"


def test_a_suspended_obligation_delivered_anyway_is_fulfilled_and_blocks_until_then() -> None:
    w = world(stage("s1", act("x", on_breach={"suspend": ["y"]}), act("y", by="b", to="a", due="72h")),
              stage("s2", act("z", due="200h"), opens={"stage_complete": "s1"}))
    assert w.json("3 00:00")["obligations"]["y"]["state"] == "suspended"
    assert w.json("3 00:00")["stages"]["s1"]["state"] == "breached"
    w.add("3 10:00", "m1", "evidence", {"obligation": "y", "observed_at": "3 09:00"})
    assert w.json("3 11:00")["obligations"]["y"]["state"] == "fulfilled"


def test_every_creditor_must_extend_and_the_earliest_date_applies() -> None:
    w = world(stage("s1", act("x", to=["b", "c"], due="24h")))
    w.add("1 12:00", "b", "extend", {"obligation": "x", "due": "5 00:00"})
    assert w.json("1 13:00")["obligations"]["x"]["due"] == "2026-03-02T08:20:00Z"  # c has not agreed
    w.add("1 14:00", "c", "extend", {"obligation": "x", "due": "4 00:00"})
    assert w.json("1 15:00")["obligations"]["x"]["due"] == "2026-03-04T00:00:00Z"
    w.add("1 16:00", "b", "extend", {"obligation": "x", "due": "1 20:00"})  # earlier than the original: ignored
    assert w.json("1 17:00")["obligations"]["x"]["due"] == "2026-03-02T08:20:00Z"


def test_an_upheld_dispute_voids_an_extension() -> None:
    w = world(stage("s1", act("x", due="24h")))
    w.add("1 12:00", "b", "extend", {"obligation": "x", "due": "5 00:00"})  # 2
    w.add("1 13:00", "a", "dispute", {"entry": 2, "reason": "signed under duress"})  # 3
    assert w.json("1 14:00")["obligations"]["x"]["flags"] == ["disputed"]
    w.add("2 12:00", "g", "ruling", {"dispute": 3, "decision": "upheld"})
    result = w.json("2 13:00")["obligations"]["x"]
    assert (result["state"], result["due"], result["flags"]) == ("breached", "2026-03-02T08:20:00Z", [])


def test_an_extension_is_a_floor_for_every_tranche() -> None:
    base = {"id": "x", "kind": "deliver", "by": "a", "to": "b", "quantity": {"amount": 4, "unit": "p"},
            "due": {"after": "adopted", "plus": "96h"}, "verify": {"by": ["m1"]}}
    answer = {"id": "y", "kind": "deliver", "by": "b", "to": "a", "quantity": {"per": "x", "ratio": 2, "unit": "p"},
              "due": {"after_each": "24h"}, "verify": {"by": ["m1"]}}
    w = world(stage("s1", base, answer))
    w.add("1 10:00", "m1", "evidence", {"obligation": "x", "units": 1, "observed_at": "1 09:00"})
    w.add("2 10:00", "m1", "evidence", {"obligation": "x", "units": 1, "observed_at": "2 09:00"})
    w.add("2 11:00", "a", "extend", {"obligation": "y", "due": "2 20:00"})
    tranches = w.json("2 12:00")["obligations"]["y"]["tranches"]
    assert [t["due"] for t in tranches] == ["2026-03-02T20:00:00Z", "2026-03-03T10:00:00Z"]


def test_a_verifier_may_change_its_mind() -> None:
    w = world(stage("s1", act("x", due="72h")))
    w.add("1 10:00", "m1", "evidence", {"obligation": "x", "observed_at": "1 09:00"})  # 2
    w.add("1 11:00", "m1", "attest", {"entry": 2, "verdict": "reject", "note": "wrong place"})
    assert w.json("1 12:00")["obligations"]["x"]["flags"] == ["contested"]
    w.add("1 13:00", "m1", "attest", {"entry": 2, "verdict": "confirm"})
    result = w.json("1 14:00")["obligations"]["x"]
    assert (result["state"], result["flags"], result["because"]) == ("fulfilled", [], [2, 4])


def test_an_amendment_rereads_the_quorum() -> None:
    doc = {"id": "q", "parties": CAST, "adoption": {"requires": ["a", "b"]},
           "stages": [stage("s1", {**act("x", due="72h"), "verify": {"by": ["m1", "m2"], "quorum": 2}})]}
    lowered = {**doc, "stages": [stage("s1", {**act("x", due="72h"), "verify": {"by": ["m1", "m2"], "quorum": 1}})]}
    w = World(doc, {"v2": lowered})
    w.add("1 08:00", "a", "adopt")
    w.add("1 08:20", "b", "adopt")
    w.add("1 10:00", "m1", "evidence", {"obligation": "x", "observed_at": "1 09:00"})
    w.add("1 11:00", "a", "amend", {"document": "v2"})
    assert w.json("1 12:00")["obligations"]["x"]["state"] == "active"
    w.add("1 12:30", "b", "amend", {"document": "v2"})  # 4: in force; the report now suffices
    result = w.json("1 13:00")
    assert result["agreement"] == w.hashes["v2"]
    assert result["obligations"]["x"]["state"] == "fulfilled"
    assert result["stages"]["s1"]["because"] == [0, 1, 2]  # as if the new quorum had applied from the start


def test_a_stage_with_only_rate_and_refrain_completes_when_it_opens() -> None:
    calm = {"id": "k", "kind": "refrain", "by": "a", "window": {"from": "adopted"}, "verify": {"by": ["m1"]}}
    w = world(stage("s1", calm), stage("s2", act("z", due="48h"), opens={"stage_complete": "s1"}))
    result = w.json("1 09:00")
    assert result["stages"]["s1"]["state"] == "complete"
    assert result["stages"]["s2"]["opened_at"] == "2026-03-01T08:20:00Z"


def test_early_deliveries_count_and_a_late_start_breaches_at_once() -> None:
    early = {"id": "x", "kind": "deliver", "by": "a", "to": "b", "quantity": {"amount": 2, "unit": "p"},
             "due": {"after": {"opened": "s2"}, "plus": "24h"}, "verify": {"by": ["m1"]}}
    late = {"id": "t", "kind": "act", "by": "a", "to": "b", "due": {"at": "2 00:00"}, "verify": {"by": ["m1"]}}
    w = world(stage("s1", act("w", due="96h")), stage("s2", early, late, opens={"verified": "w"}))
    w.add("1 10:00", "m1", "evidence", {"obligation": "x", "units": 2, "observed_at": "1 09:00"})  # s2 not open yet
    assert w.json("1 11:00")["obligations"]["x"]["state"] == "pending"
    w.add("3 10:00", "m1", "evidence", {"obligation": "w", "observed_at": "3 09:00"})  # s2 opens 3rd 10:00
    result = w.json("3 11:00")["obligations"]
    assert result["x"]["state"] == "fulfilled"
    assert result["t"]["state"] == "breached"  # due 2nd 00:00, started 3rd 10:00


def test_a_condition_that_depends_on_itself_never_holds() -> None:
    """The checker refuses such a file; the engine, given one anyway, never opens the stages."""
    w = world(stage("s1", act("x")))
    doc = with_keys({"id": "cycle", "parties": CAST, "adoption": {"requires": ["a", "b"]},
                     "stages": [stage("s1", act("x"), opens={"stage_complete": "s2"}),
                                stage("s2", act("y"), opens={"opened": "s1"})]})
    agreement = with_hash(Agreement.model_validate(doc), doc)
    signed = [w.entry(t, {**w.statement(t, who, "adopt"), "agreement": agreement.hash}, signer=who)
              for t, who in (("1 08:00", "a"), ("1 08:20", "b"))]
    entries = [Entry(i, e.integrated_at, envelope=e.envelope) for i, e in enumerate(signed)]
    result = evaluate(agreement, entries, when("5 00:00")).to_json()
    assert result["adopted_at"] == "2026-03-01T08:20:00Z"
    assert (result["stages"]["s1"]["state"], result["stages"]["s2"]["state"]) == ("locked", "locked")


def test_windows_not_yet_open_are_pending() -> None:
    rate = {"id": "r", "kind": "rate", "by": "a", "to": "b", "quantity": {"amount": 5, "unit": "t", "per_period": "1d"},
            "window": {"from": {"at": "3 00:00"}}, "verify": {"by": ["m1"]}}
    calm = {"id": "k", "kind": "refrain", "by": "a", "window": {"from": {"at": "3 00:00"}}, "verify": {"by": ["m1"]}}
    w = world(stage("s1", rate, calm))
    early, later = w.json("2 00:00")["obligations"], w.json("3 12:00")["obligations"]
    assert (early["r"]["state"], early["k"]["state"]) == ("pending", "pending")
    assert (later["r"]["state"], later["k"]["state"]) == ("active", "active")
    assert later["r"]["periods"][0]["from"] == "2026-03-03T00:00:00Z"  # on a boundary: a whole period


def test_rulings_settle_once() -> None:
    w = world(stage("s1", act("x", due="72h")))
    w.add("1 10:00", "m1", "evidence", {"obligation": "x", "observed_at": "1 09:00"})  # 2
    w.add("1 11:00", "b", "dispute", {"entry": 2, "reason": "staged"})  # 3
    w.add("1 12:00", "g", "ruling", {"dispute": 3, "decision": "rejected"})
    w.add("1 13:00", "g", "ruling", {"dispute": 3, "decision": "upheld"})  # too late: settled
    result = w.json("1 14:00")
    assert result["rejected"] == []
    assert (result["obligations"]["x"]["state"], result["obligations"]["x"]["flags"]) == ("fulfilled", [])


def test_evaluator_contract() -> None:
    w = world(stage("s1", act("x")))
    evaluator = Evaluator(w.agreement)
    for entry in w.entries:
        evaluator.append(entry)
    with pytest.raises(ValueError, match="index order"):
        evaluator.append(w.entries[0])
    with pytest.raises(ValueError, match="precedes the last folded entry"):
        evaluator.status(when("1 08:00"))
    with pytest.raises(ValueError, match="one flag per entry"):
        evaluate(w.agreement, w.entries, when("2 00:00"), signatures=[True])
    assert evaluator.agreement is w.agreement and evaluator.size == 2
    later = when("1 08:20") + timedelta(days=3)
    assert evaluator.status(later).to_json() == evaluate(w.agreement, w.entries, later,
                                                         signatures=[True, True]).to_json()
