"""The authorisation matrix: one case per rejection code, through `evaluate` and `Evaluator.check`.

Every case builds an adopted world, then appends one entry that must be refused with exactly
that code, never counted, and listed with a reason.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from conftest import seed_of
from engine_world import World, when
from interlock.engine import Evaluator
from interlock.statements import Entry, sign_statement

AGREEMENT: dict[str, Any] = {
    "id": "matrix",
    "parties": [
        {"id": "a", "role": "party"},
        {"id": "b", "role": "party"},
        {"id": "g", "role": "guarantor"},
        {"id": "m1", "role": "monitor"},
        {"id": "m2", "role": "monitor"},
    ],
    "disputes": {"ruled_by": ["g"], "quorum": 1},
    "stages": [
        {
            "id": "s1",
            "opens": "adopted",
            "obligations": [
                {"id": "x", "kind": "deliver", "by": "a", "to": "b", "quantity": {"amount": 2, "unit": "persons"},
                 "due": {"after": "adopted", "plus": "48h"}, "verify": {"by": ["m1", "m2"]}},
                {"id": "c", "kind": "refrain", "by": "b", "window": {"from": "adopted"}, "verify": {"by": ["m1"]}},
                {"id": "r", "kind": "rate", "by": "b", "to": "a",
                 "quantity": {"amount": 5, "unit": "trucks", "per_period": "1d"},
                 "window": {"from": "adopted"}, "verify": {"by": ["m1"]}},
            ],
        }
    ],
}
EVIDENCE = {"obligation": "x", "units": 2, "observed_at": "2 09:00"}


def adopted() -> World:
    world = World(AGREEMENT)
    for n, who in enumerate(("a", "b", "g")):
        world.add(f"1 08:0{n}", who, "adopt")
    return world


def raw(world: World, at: str, envelope: dict[str, Any]) -> None:
    world.entries.append(Entry(len(world.entries), when(at), envelope=envelope))


def _bad_envelope(w: World) -> None:
    envelope = sign_statement(w.statement("2 10:00", "m1", "evidence", EVIDENCE), "m1-1", seed_of("m1"))
    raw(w, "2 10:00", {**envelope, "payloadType": "text/plain"})


def _non_canonical(w: World) -> None:
    envelope = sign_statement(w.statement("2 10:00", "m1", "evidence", EVIDENCE), "m1-1", seed_of("m1"))
    payload = json.dumps(json.loads(base64.b64decode(envelope["payload"])), indent=1).encode()
    raw(w, "2 10:00", {**envelope, "payload": base64.b64encode(payload).decode()})


def _bad_statement(w: World) -> None:
    statement = w.statement("2 10:00", "m1", "evidence", {"units": 2, "observed_at": "2 09:00"})
    raw(w, "2 10:00", sign_statement(statement, "m1-1", seed_of("m1")))


def _unsigned(w: World) -> None:
    w.add("2 10:00", "m1", "evidence", EVIDENCE, signed=False)


def _reused_nonce(w: World) -> None:
    w.add("2 10:00", "m1", "note", {"text": "first"}, nonce="same")
    w.add("2 11:00", "m1", "evidence", EVIDENCE, nonce="same")


def _out_of_order(w: World) -> None:
    w.add("2 10:00", "m1", "note", {"text": "first"})
    w.add("2 09:00", "m1", "evidence", EVIDENCE)


def _not_in_force(w: World) -> None:
    w.entries.clear()
    w.add("1 08:00", "a", "adopt")
    w.add("1 09:00", "m1", "evidence", EVIDENCE)


def _claim_then(kind: str, author: str, body: dict[str, Any]) -> Callable[[World], None]:
    def build(w: World) -> None:
        w.add("2 10:00", "b", "declare", {"obligation": "r", "units": 5, "observed_at": "2 09:00"})
        w.add("2 11:00", author, kind, body)

    return build


def step(author: str, kind: str, body: dict[str, Any] | None = None, **options: Any) -> Callable[[World], None]:
    """One entry at 2nd 10:00."""

    def build(w: World) -> None:
        w.add("2 10:00", author, kind, body, **options)

    return build


def _amend_rebinding_key(w: World) -> None:
    doc = json.loads(json.dumps(w.doc))
    doc["parties"][0]["keys"][0]["ed25519"] = doc["parties"][1]["keys"][0]["ed25519"]
    w.add("2 10:00", "a", "amend", {"document": doc})


CASES: dict[str, tuple[str, Callable[[World], None]]] = {
    "bad envelope": ("bad-envelope", _bad_envelope),
    "payload not canonical": ("bad-envelope", _non_canonical),
    "bad statement": ("bad-statement", _bad_statement),
    "unsigned outside simulation": ("unsigned", _unsigned),
    "bad signature": ("bad-signature", step("m1", "evidence", EVIDENCE, signer="m2")),
    "unknown key": ("unknown-key", step("m1", "evidence", EVIDENCE, key="m9-1")),
    "key of another participant": (
        "foreign-key", step("m1", "evidence", EVIDENCE, key="m2-1", signer="m2")),
    "envelope key differs": (
        "key-mismatch", step("m1", "evidence", EVIDENCE, envelope_key="m2-1")),
    "another agreement": (
        "wrong-agreement", step("m1", "evidence", EVIDENCE, names="sha256:" + "0" * 64)),
    "reused nonce": ("reused-nonce", _reused_nonce),
    "time goes back": ("out-of-order", _out_of_order),
    "before adoption": ("not-in-force", _not_in_force),
    "adopt by a monitor": ("wrong-role", step("m1", "adopt")),
    "evidence by a party": ("wrong-role", step("b", "evidence", EVIDENCE)),
    "attest by a party": ("wrong-role", _claim_then("attest", "a", {"entry": 3, "verdict": "confirm"})),
    "impediment by a party": (
        "wrong-role", step("b", "impediment", {"observed_at": "2 09:00", "description": "x"})),
    "suspend by a monitor": (
        "wrong-role", step("m1", "suspend", {"obligation": "x", "cites": [0], "reason": "r"})),
    "dispute by a monitor": ("wrong-role", _claim_then("dispute", "m1", {"entry": 3, "reason": "r"})),
    "unknown obligation": (
        "unknown-obligation",
        step("m1", "evidence", {**EVIDENCE, "obligation": "nope"})),
    "evidence for a refrain": (
        "wrong-kind", step("m1", "evidence", {**EVIDENCE, "obligation": "c"})),
    "incident naming a deliver": (
        "wrong-kind",
        step("m1", "incident", {"obligation": "x", "observed_at": "2 09:00", "description": "d"})),
    "declare by another": ("not-debtor", step("b", "declare", EVIDENCE)),
    "suspend another's obligation": (
        "not-debtor", step("b", "suspend", {"obligation": "x", "cites": [0], "reason": "r"})),
    "extend by the debtor": (
        "not-creditor", step("a", "extend", {"obligation": "x", "due": "5 00:00"})),
    "waive by a guarantor": ("not-creditor", step("g", "waive", {"obligation": "x"})),
    "evidence by the debtor": ("self-verification", step("a", "evidence", EVIDENCE)),
    "attest by the debtor": ("self-verification", _claim_then("attest", "b", {"entry": 3, "verdict": "confirm"})),
    "ruling by a party": ("not-resolver", _claim_then("ruling", "a", {"dispute": 3, "decision": "upheld"})),
    "attest of nothing": ("bad-reference", step("m1", "attest", {"entry": 99, "verdict": "confirm"})),
    "attest of an adopt": ("bad-reference", step("m1", "attest", {"entry": 0, "verdict": "confirm"})),
    "ruling on a claim": ("bad-reference", _claim_then("ruling", "g", {"dispute": 3, "decision": "upheld"})),
    "dispute of an adoption": (
        "not-disputable", step("a", "dispute", {"entry": 0, "reason": "r"})),
    "extend a rate": ("no-deadline", step("a", "extend", {"obligation": "r", "due": "5 00:00"})),
    "amend to nonsense": ("bad-amendment", step("a", "amend", {"document": {"id": "matrix"}})),
    "amend rebinding a key": ("bad-amendment", _amend_rebinding_key),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rejection_code(case: str) -> None:
    code, build = CASES[case]
    world = adopted()
    build(world)
    last = world.entries[-1]
    status = world.json("6 00:00")
    assert status["rejected"] == [{"index": last.index, "reason": status["rejected"][0]["reason"], "code": code}]
    assert status["rejected"][0]["reason"]
    assert status["obligations"]["x"]["verified"] == 0  # a rejected claim never counts
    # the server's door: `check` refuses the same way and changes nothing
    evaluator = Evaluator(world.agreement)
    for entry in world.entries[:-1]:
        assert evaluator.append(entry) is None
    size = evaluator.size
    refusal = evaluator.check(last)
    assert refusal is not None and refusal.code == code
    assert evaluator.size == size and evaluator.rejected == []
    # `admit` (the log's one-pass call) refuses the same way and, refusing, changes nothing
    assert evaluator.admit(last) == refusal
    assert evaluator.size == size and evaluator.rejected == []
    assert evaluator.append(last) == refusal
    assert evaluator.rejected == [refusal] and evaluator.size == size + 1


def test_every_documented_code_has_a_case() -> None:
    from interlock.engine import authorise

    documented = {
        "out-of-order", "unsigned", "bad-envelope", "bad-statement", "key-mismatch", "unknown-key",
        "foreign-key", "bad-signature", "wrong-agreement", "reused-nonce", "not-in-force", "wrong-role",
        "unknown-obligation", "wrong-kind", "not-debtor", "not-creditor", "self-verification",
        "not-resolver", "bad-reference", "not-disputable", "no-deadline", "bad-amendment",
    }
    assert {code for code, _ in CASES.values()} == documented
    assert all(f"`{code}`" in (authorise.__doc__ or "") for code in documented)


def test_accepted_entries_of_every_kind_pass() -> None:
    """The positive side of the matrix: each role's allowed statement is accepted."""
    world = adopted()
    world.add("2 10:00", "a", "declare", EVIDENCE)                                          # 3
    world.add("2 10:10", "m1", "attest", {"entry": 3, "verdict": "confirm"})               # 4
    world.add("2 10:20", "m2", "evidence", {**EVIDENCE, "units": 1})                       # 5
    world.add("2 10:30", "b", "incident", {"obligation": "c", "observed_at": "2 10:00", "description": "d"})
    world.add("2 10:40", "g", "incident", {"observed_at": "2 10:00", "description": "unattributed"})
    world.add("2 10:50", "m2", "impediment", {"obligation": "r", "observed_at": "2 10:00", "description": "d"})
    world.add("2 11:00", "b", "suspend", {"obligation": "r", "cites": [3], "reason": "r"})  # 9
    world.add("2 11:10", "b", "dispute", {"entry": 5, "reason": "r"})                      # 10
    world.add("2 11:20", "g", "ruling", {"dispute": 10, "decision": "rejected"})
    world.add("2 11:30", "b", "extend", {"obligation": "x", "due": "5 00:00"})
    world.add("2 11:40", "a", "waive", {"obligation": "r"})
    world.add("2 11:50", "m1", "note", {"text": "all well"})
    status = world.json("3 00:00")
    assert status["rejected"] == []
    assert status["obligations"]["x"]["verified"] == 3
    assert status["obligations"]["x"]["state"] == "fulfilled"
    assert status["obligations"]["r"]["state"] == "waived"


def test_admit_folds_accepted_entries_like_append() -> None:
    """`admit` with a statement parsed beforehand ends where `append` does, entry for entry."""
    from interlock.statements import parse_statement
    from interlock.statements.dsse import open_envelope

    world = adopted()
    world.add("2 10:00", "a", "declare", EVIDENCE)
    world.add("2 10:10", "m1", "attest", {"entry": 3, "verdict": "confirm"})
    world.add("2 10:20", "m2", "evidence", {**EVIDENCE, "units": 1})
    world.add("2 10:30", "b", "waive", {"obligation": "x"})  # b is the creditor of x: accepted
    by_append, by_admit = Evaluator(world.agreement), Evaluator(world.agreement)
    for entry in world.entries:
        assert by_append.append(entry, signature_ok=True) is None
        parsed = parse_statement(open_envelope(entry.envelope).statement)
        assert by_admit.admit(entry, signature_ok=True, statement=parsed) is None
    assert by_admit.size == by_append.size == 7
    as_of = when("6 00:00")
    assert by_admit.status(as_of).to_json() == by_append.status(as_of).to_json()
    assert by_admit.status(as_of).to_json()["obligations"]["x"]["verified"] == 3
