"""The sequencing rules on small hand-made plans: what is a cycle and what is not, which stages
can never open, which open only through a breach, who gives everything on credit."""

from __future__ import annotations

import copy
from typing import Any

from interlock.agreement.check import Report, check_data

M = {"by": ["m"]}
BASE: dict[str, Any] = {
    "interlock": 1,
    "id": "t",
    "title": "T",
    "parties": [
        {"id": "a", "name": "A", "role": "party"},
        {"id": "b", "name": "B", "role": "party"},
        {"id": "m", "name": "M", "role": "monitor"},
    ],
}


def ob(ident: str, by: str, kind: str = "act", **fields: Any) -> dict[str, Any]:
    to = "b" if by == "a" else "a"
    made: dict[str, Any] = {"id": ident, "kind": kind, "by": by, "to": to, "verify": M, "on_breach": {"notify": [to]}}
    if kind in ("act", "deliver"):
        made["due"] = {"after": "adopted", "plus": "1d"}
    if kind == "deliver":
        made["quantity"] = {"amount": 4, "unit": "persons"}
    if kind in ("rate", "refrain"):
        made["window"] = {"from": "adopted"}
    if kind == "rate":
        made["quantity"] = {"amount": 10, "unit": "trucks", "per_period": "1d"}
    made.update(fields)
    return {k: v for k, v in made.items() if v is not None}


def plan(*stages: dict[str, Any]) -> Report:
    doc = copy.deepcopy(BASE)
    doc["stages"] = list(stages)
    return check_data(doc)


def codes(report: Report) -> set[tuple[str, str | None]]:
    return {(f.code, f.id) for f in report.findings()}


def test_rate_window_until_a_later_stage_is_not_a_cycle() -> None:
    # as in the conformance file: rates never block their stage, so s2 can complete
    report = plan(
        {"id": "s1", "obligations": [ob("oa", "a"), ob("trucks", "b", "rate", window={
            "from": "adopted", "until": {"stage_complete": "s2"}})]},
        {"id": "s2", "opens": {"stage_complete": "s1"}, "obligations": [ob("ob", "b")]},
    )
    assert report.errors == []


def test_stage_complete_of_own_stage_in_a_deadline_is_a_cycle() -> None:
    report = plan({"id": "s1", "obligations": [
        ob("oa", "a", due={"after": {"stage_complete": "s1"}, "plus": "1d"}), ob("ob", "b")]})
    assert [(f.code, f.id) for f in report.errors] == [("condition-cycle", "oa")]
    assert "stage `s1` complete" in report.errors[0].message


def test_cycle_through_a_proportional_link() -> None:
    report = plan({"id": "s1", "obligations": [
        ob("oa", "a", "deliver", due={"after": {"verified": "ob"}, "plus": "1d"}),
        ob("ob", "b", "deliver", quantity={"per": "oa", "ratio": 3, "unit": "persons"}, due={"after_each": "1d"}),
    ]})
    assert [f.code for f in report.errors] == ["condition-cycle"]


def test_refrain_window_opening_on_its_own_breach_is_a_cycle() -> None:
    report = plan({"id": "s1", "obligations": [
        ob("calm", "a", "refrain", window={"from": {"breached": "calm"}}), ob("oa", "a"), ob("ob", "b")]})
    assert [(f.code, f.id) for f in report.errors] == [("condition-cycle", "calm")]


def test_two_stages_waiting_on_each_other() -> None:
    report = plan(
        {"id": "s1", "obligations": [ob("oa", "a"), ob("ob", "b")]},
        {"id": "s2", "opens": {"opened": "s3"}, "obligations": [ob("oc", "a")]},
        {"id": "s3", "opens": {"opened": "s2"}, "obligations": [ob("od", "b")]},
    )
    assert [(f.code, f.id) for f in report.errors] == [("condition-cycle", "s2")]
    assert report.agreement is None


def test_never_opens_is_transitive_and_an_alternative_rescues() -> None:
    unverified = ob("ob", "b", verify=None)
    report = plan(
        {"id": "s1", "obligations": [ob("oa", "a"), unverified]},
        {"id": "s2", "opens": {"verified": "ob"}, "obligations": [ob("oc", "a")]},
        {"id": "s3", "opens": {"after": {"opened": "s2"}, "plus": "1d"}, "obligations": [ob("od", "b")]},
        {"id": "s4", "opens": {"any": [{"opened": "s2"}, {"at": "2026-06-01"}]}, "obligations": [ob("oe", "b")]},
    )
    never = {f.id: f.message for f in report.warnings if f.code == "never-opens"}
    assert set(never) == {"s2", "s3"}
    assert "stage `s2` opening" in never["s3"] and "`ob` has no verifier" in never["s3"]


def test_never_opens_when_more_is_asked_than_is_owed() -> None:
    report = plan(
        {"id": "s1", "obligations": [ob("oa", "a", "deliver"), ob("ob", "b")]},
        {"id": "s2", "opens": {"delivered": "oa", "at_least": 5}, "obligations": [ob("oc", "b")]},
    )
    assert ("never-opens", "s2") in codes(report)
    assert "owes only 4 units, never 5" in next(f.message for f in report.warnings if f.code == "never-opens")
    fine = plan(
        {"id": "s1", "obligations": [ob("oa", "a", "deliver"), ob("ob", "b")]},
        {"id": "s2", "opens": {"delivered": "oa", "at_least": 4}, "obligations": [ob("oc", "b")]},
    )
    assert "never-opens" not in {c for c, _ in codes(fine)}


def test_refrain_is_never_verified_and_a_deliver_without_due_never_breached() -> None:
    report = plan(
        {"id": "s1", "obligations": [ob("calm", "a", "refrain"), ob("oa", "a", due=None), ob("ob", "b")]},
        {"id": "s2", "opens": {"verified": "calm"}, "obligations": [ob("oc", "b")]},
        {"id": "s3", "opens": {"breached": "oa"}, "obligations": [ob("od", "b")]},
    )
    assert {("never-opens", "s2"), ("never-opens", "s3")} <= codes(report)
    assert ("opens-only-through-breach", "s3") not in codes(report)


def test_only_through_breach_also_downstream() -> None:
    report = plan(
        {"id": "s1", "obligations": [ob("oa", "a"), ob("ob", "b")]},
        {"id": "s2", "opens": {"breached": "oa"}, "obligations": [ob("oc", "b")]},
        {"id": "s3", "opens": {"stage_complete": "s2"}, "obligations": [ob("od", "a")]},
    )
    through = {f.id for f in report.warnings if f.code == "opens-only-through-breach"}
    assert through == {"s2", "s3"}


def test_credit_counts_handovers_not_prohibitions() -> None:
    # a's ceasefire (a refrain owed to b) is never "handed over"; its release is, before anything of b's
    report = plan(
        {"id": "s1", "obligations": [ob("calm", "a", "refrain"), ob("release", "a", "deliver")]},
        {"id": "s2", "opens": {"verified": "release"}, "obligations": [ob("answer", "b", "deliver")]},
    )
    assert ("all-on-credit", "release") in codes(report)
    assert "`a` owes `b` 1 obligation and is owed 1 obligation" in next(
        f.message for f in report.warnings if f.code == "all-on-credit")


def test_no_credit_warning_for_tranche_by_tranche_exchange_or_an_any() -> None:
    tit_for_tat = plan({"id": "s1", "obligations": [
        ob("release", "a", "deliver"),
        ob("answer", "b", "deliver", quantity={"per": "release", "ratio": 30, "unit": "persons"},
           due={"after_each": "1d"}),
    ]})
    assert tit_for_tat.warnings == []
    either = plan(
        {"id": "s1", "obligations": [ob("release", "a", "deliver")]},
        {"id": "s2", "opens": {"any": [{"verified": "release"}, {"at": "2026-06-01"}]},
         "obligations": [ob("answer", "b", "deliver")]},
    )
    assert "all-on-credit" not in {c for c, _ in codes(either)}


def findings(report: Report, code: str) -> list[tuple[str | None, str]]:
    return [(f.id, f.message) for f in report.warnings if f.code == code]


def test_never_starts_names_the_cause_and_an_alternative_rescues() -> None:
    no_verifier = ob("oa", "a", verify=None)
    waits = ob("ob", "b", starts={"verified": "oa"})
    report = plan({"id": "s1", "obligations": [no_verifier, waits]})
    ((ident, message),) = findings(report, "never-starts")
    assert ident == "ob"
    assert message == (
        "`ob` can never start: it waits on `oa` verified, which waits on `oa` delivered; "
        "`oa` has no verifier, so nothing can verify it"
    )
    either = ob("ob", "b", starts={"any": [{"verified": "oa"}, {"at": "2026-01-01T00:00:00Z"}]})
    assert findings(plan({"id": "s1", "obligations": [no_verifier, either]}), "never-starts") == []


def test_never_starts_when_more_is_asked_than_is_owed() -> None:
    four = ob("oa", "a", "deliver")  # owes 4 persons
    waits = ob("ob", "b", starts={"delivered": "oa", "at_least": 5})
    ((ident, message),) = findings(plan({"id": "s1", "obligations": [four, waits]}), "never-starts")
    assert (ident, message) == ("ob", "`ob` can never start: `oa` owes only 4 units, never 5")
    enough = ob("ob", "b", starts={"delivered": "oa", "at_least": 4})
    assert findings(plan({"id": "s1", "obligations": [four, enough]}), "never-starts") == []


def test_only_the_first_failing_link_is_reported() -> None:
    # s2 never opens: its obligation gets no never-starts; one that never starts gets no never-due
    no_verifier = ob("oa", "a", verify=None)
    both = ob("ob", "b", starts={"verified": "oa"}, due={"after": {"verified": "oa"}, "plus": "1d"})
    later = ob("oc", "b", starts={"verified": "oa"})
    report = plan(
        {"id": "s1", "obligations": [no_verifier, both]},
        {"id": "s2", "opens": {"verified": "oa"}, "obligations": [later]},
    )
    assert codes(report) >= {("never-starts", "ob"), ("never-opens", "s2")}
    assert ("never-due", "ob") not in codes(report)
    assert ("never-starts", "oc") not in codes(report)


def test_never_due_through_a_stage_that_never_opens_and_a_window_that_never_closes() -> None:
    no_verifier = ob("oa", "a", verify=None)
    late = ob("ob", "b", due={"after": {"opened": "s2"}, "plus": "1d"})
    endless = ob("trucks", "b", "rate", window={"from": "adopted", "until": {"verified": "oa"}})
    report = plan(
        {"id": "s1", "obligations": [no_verifier, late, endless]},
        {"id": "s2", "opens": {"verified": "oa"}, "obligations": [ob("oc", "a")]},
    )
    ((ident, message),) = findings(report, "never-due")
    assert ident == "ob"
    assert message.startswith("`ob` can never fall due, so it can never be late: it waits on stage `s2` opening, ")
    # an `until` that never comes is an open-ended window, which is allowed: no finding for `trucks`
    assert ("never-due", "trucks") not in codes(report)
