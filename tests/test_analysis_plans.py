"""Plans from tests/data/analysis simulated and analysed; every expected figure by hand.

The three-step plan is docs/analysis.md's worked example:
  s1: A withdraws (act, due 1d after adoption);
  s2 opens when the withdrawal is verified: B releases 10 persons (due 2d after s2 opens);
      A answers 3 persons per verified person (each due 1d after that base is verified).
  VALUES: A — withdraw 30, release 8 / person, answer 1 / person;
          B — withdraw 50, release 3 / person, answer 1 / person; verification lag 6h.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conftest import DATA
from interlock.agreement import load_agreement
from interlock.agreement.model import Agreement
from interlock.agreement.yamlsource import load_yaml_bytes
from interlock.analysis import structure
from interlock.analysis.compare import compare, compare_json
from interlock.analysis.pipeline import Analysis, analyse
from interlock.analysis.schedule import local_oracle, simulate
from interlock.analysis.suggest import suggest
from interlock.analysis.synthetic import engine_oracle, entries_for, simulation_agreement
from interlock.analysis.values import EQUAL, Valuation, parse_values
from interlock.engine import evaluate
from interlock.errors import CompareError, ValuesError

HERE = DATA / "analysis"
T0 = datetime(2026, 3, 2, tzinfo=UTC)
H = timedelta(hours=1)


def plan(name: str) -> Agreement:
    return load_agreement((HERE / f"{name}.yaml").read_bytes())


def values(name: str, agreement: Agreement) -> Valuation:
    return parse_values(load_yaml_bytes((HERE / f"{name}.values.yaml").read_bytes()).data, agreement)


def three(mode: str = "optimistic") -> Analysis:
    a = plan("three-steps")
    return analyse(a, values("three-steps", a), mode)  # type: ignore[arg-type]


def test_three_steps_optimistic_run_and_metrics() -> None:
    r = three()
    # Optimistic: withdraw at T0 (verified 6h); s2 opens 6h; release at 6h (verified 12h);
    # answer when its base is verified, 12h (verified 18h).
    assert [(s.obligation, s.at, s.verified_at) for s in r.steps] == [
        ("withdraw", T0, T0 + 6 * H),
        ("release", T0 + 6 * H, T0 + 12 * H),
        ("answer", T0 + 12 * H, T0 + 18 * H),
    ]
    assert r.run.stage_opened["s2"].at == T0 + 6 * H
    # Costs and values in each side's own scale: A 30, B 30 (10 × 3), A 30 (30 × 1).
    assert [s.cost for s in r.steps] == [30, 30, 30]
    assert [dict(s.receives) for s in r.steps] == [{"b": 50}, {"a": 80}, {"b": 30}]
    a, b = r.exposure["a"], r.exposure["b"]
    # A: 30 exposed from 0h until the release is verified at 12h: 30 of its 60 = 50 %.
    assert (a.max, a.max_pct, a.max_witness.step) == (30, 50, 0)
    assert a.integral == pytest.approx(30 * 0.5) and a.integral_pct == pytest.approx(25)
    # B: receives the withdrawal (50) before releasing (30): never exposed.
    assert b.max == 0 and b.total == 30
    # Stopping: A is worse off only if all stops after its withdrawal.
    assert r.defection["a"].worse_off_after == (0,)
    # A, having its persons, saves 30 by not answering and loses nothing: temptation 30
    # after step 0 and after step 1.  B saves 30 but forgoes A's 30 answer: 0.
    assert r.defection["a"].gains_by_stopping_after == (0, 1)
    top = r.defection["a"].max_temptation
    assert top is not None and (top.after, top.value) == (0, 30)
    assert r.defection["b"].gains_by_stopping_after == ()
    # Critical path and duration: 18h.
    assert r.structure.duration == 18 * H
    assert [p.what for p in r.structure.critical_path] == [
        "adopted", "stage s1 opens", "withdraw #1 delivered", "withdraw #1 verified", "stage s2 opens",
        "release #1 delivered", "release #1 verified", "answer #1 delivered", "answer #1 verified",
    ]
    assert r.run.notes == ()


def test_three_steps_deadline_run() -> None:
    r = three("deadline")
    # Deadline: withdraw at 1d (due); s2 opens 1d6h; release due 2d later = 3d6h (verified
    # 3d12h); answer due 1d after that verification = 4d12h (verified 4d18h).
    assert [s.at - T0 for s in r.steps] == [timedelta(days=1), timedelta(days=3, hours=6),
                                            timedelta(days=4, hours=12)]
    a = r.exposure["a"]
    # A carries 30 from 1d to 3d12h = 2.5 days: 75 value·days, 125 %·days.
    assert a.integral == pytest.approx(75) and a.integral_pct == pytest.approx(125)
    assert r.structure.duration == timedelta(days=4, hours=18)


def test_escrow_versus_direct_payment() -> None:
    esc, direct = plan("escrow"), plan("direct")
    r_esc = analyse(esc, values("lag1h", esc))
    r_dir = analyse(direct, values("lag1h", direct))
    kinds = [(s.obligation, s.kind, s.sender) for s in r_esc.steps]
    # The guarantor's payout releases A's deposit: A's cost, B's receipt.
    assert kinds == [("deposit", "deposit", "a"), ("goods", "handover", "b"), ("payout", "release", "a")]
    assert dict(r_esc.steps[0].earmarked) == {"b": 1.0}
    # Direct: A pays at 0h, B's goods verified at 2h → A 100 % for 2 h; B never exposed.
    assert r_dir.exposure["a"].max_pct == 100 and r_dir.exposure["b"].max == 0
    # Escrow: nobody is exposed; both sides fully covered.
    for side in ("a", "b"):
        assert r_esc.exposure[side].max == 0
        assert r_esc.exposure[side].escrow_coverage == pytest.approx(1.0)
    c = compare(r_dir, r_esc)
    row = next(x for x in c.rows if x.metric == "max exposure (%)")
    assert row.prefers == {"a": "B", "b": None}
    data = compare_json(c)
    assert data["preferences"]["a"]["B"] >= 1 and data["a"]["id"] == "direct"


def test_more_tranches_lower_the_first_movers_peak() -> None:
    one, three_ = plan("tranches-1"), plan("tranches-3")
    r1 = analyse(one, values("lag1h", one))
    r3 = analyse(three_, values("lag1h", three_))
    # One tranche: A exposed 1 for 2 h. Three (days 0, 1, 2): 1/3 for 2 h each.
    assert r1.exposure["a"].max_pct == 100
    assert r3.exposure["a"].max_pct == pytest.approx(100 / 3)
    assert r3.exposure["a"].integral == pytest.approx(r1.exposure["a"].integral)
    assert [s.at - T0 for s in r3.steps if s.obligation == "give"] == [timedelta(0), timedelta(days=1),
                                                                       timedelta(days=2)]


def test_suggest_splits_and_escrows_a_big_tranche() -> None:
    one = plan("tranches-1")
    found = suggest(analyse(one, values("lag1h", one)))
    text = {s.description: s for s in found}
    split2 = text["deliver give in 2 tranches instead of 1"]
    assert split2.max_pct() == {"a": 50.0, "b": 0.0}
    assert split2.lowers_all
    escrow = next(s for s in found if s.kind == "escrow")
    assert escrow.max_pct() == {"a": 0.0, "b": 0.0}
    # Best first: escrow takes A to 0, then 4, 3, 2 tranches.
    assert [s.kind for s in found][:2] == ["escrow", "split"]
    # Nothing proposed raises a side above where it was.
    assert all(v <= 100 for s in found for v in s.max_pct().values() if v is not None)


def _two_by_two(y_starts: str | None) -> Agreement:
    # A gives x in 2 tranches (due 2 days after adoption: at 0 and 1d); B gives y in 2
    # tranches due 4 days after adoption (and perhaps starting only 2 days after it).
    y: dict[str, object] = {"id": "y", "kind": "deliver", "by": "b", "to": "a", "quantity": {"amount": 2},
                            "tranches": 2, "due": {"after": "adopted", "plus": "4d"}}
    if y_starts:
        y["starts"] = {"after": "adopted", "plus": y_starts}
    doc = {
        "interlock": 1, "id": "loose", "title": "Loose order",
        "parties": [{"id": "a", "name": "A", "role": "party"}, {"id": "b", "name": "B", "role": "party"},
                    {"id": "m", "name": "M", "role": "monitor"}],
        "stages": [{"id": "s1", "obligations": [
            {"id": "x", "kind": "deliver", "by": "a", "to": "b", "quantity": {"amount": 2}, "tranches": 2,
             "due": {"after": "adopted", "plus": "2d"}},
            y,
        ]}],
    }
    from interlock.agreement import parse_document

    return parse_document(doc)


def test_reorders_respect_the_plans_own_times() -> None:
    from interlock.analysis.suggest import reorders

    # y starts only at 2d: x#1 at 0 and x#2 at 1d, then y#1 at 2d and y#2 at 3d.  A carries
    # ½ then 1 until 2d: 100 %.  No allowed order moves a y tranche before 2d or an x
    # tranche after its 2d deadline, so the only order is the plan's own.
    late = analyse(_two_by_two("2d"), oracle=local_oracle)
    assert [(s.obligation, s.at - late.run.adopted.at) for s in late.steps] == [
        ("x", timedelta(0)), ("x", timedelta(days=1)), ("y", timedelta(days=2)), ("y", timedelta(days=3))]
    assert late.exposure["a"].max_pct == 100
    assert reorders(late) == []
    assert [s for s in suggest(late) if s.kind == "reorder"] == []
    # y may start at once: x#1 and y#1 at 0 (simultaneous), x#2 at 1d, y#2 at 2d.  Moving
    # y#2 into x#2's slot (1d, before y's 4d deadline) and x#2 to 2d (its deadline) is
    # allowed; it only moves the wait to B (½ from 1d to 2d), so it is not proposed.
    early = analyse(_two_by_two(None), oracle=local_oracle)
    assert early.exposure["a"].max_pct == 50 and early.exposure["b"].max == 0
    orders = [order for _, order in reorders(early)]
    assert [0, 1, 3, 2] in orders
    assert [s for s in suggest(early) if s.kind == "reorder"] == []


def test_values_file_errors_are_named() -> None:
    a = plan("three-steps")
    cases = {
        "values: 2": "values",
        "values: 1\nparties: {c: {withdraw: 1}}": "not a party",
        "values: 1\nparties: {a: {withdraw: 1, nothing: 2}}": "no such obligation",
        "values: 1\nparties: {a: {withdraw: 1}}": "no value for release, answer",
        "values: 1\nparties: {a: {withdraw: -1, release: 1, answer: 1}}": "greater than or equal to 0",
        "values: 1\nreversible: {withdraw: 2}": "less than or equal to 1",
        "values: 1\nverification_lag: {default: soon}": "not a duration",
        "values: 1\npenalties: {m: 3}": "not a party",
        "values: 1\nextra: 1": "extra",
    }
    for text, expected in cases.items():
        with pytest.raises(ValuesError) as err:
            parse_values(load_yaml_bytes(text.encode()).data, a)
        assert expected in err.value.message, text
        assert err.value.code == "bad-values-file"


def test_values_reversible_share_and_equal_weights() -> None:
    a = plan("three-steps")
    v = parse_values({"values": 1, "reversible": {"withdraw": 0.5}}, a)
    r = analyse(a, v)
    # Equal weights: A gives two obligations (½ each of its handover), B one (all of it);
    # the withdrawal is half reversible, so A's cost for it is ¼.
    assert r.equal_weights == ("a", "b")
    assert [s.cost for s in r.steps] == [0.25, 1.0, 0.5]
    # Receipts: B receives withdraw and answer (½ each), A receives release (all of it).
    assert [dict(s.receives) for s in r.steps] == [{"b": 0.5}, {"a": 1.0}, {"b": 0.5}]
    assert EQUAL.worth("a", "x", 3, 12) == 0.25
    assert EQUAL.worth("a", "x", 3, 12, share=0.5) == 0.125


def test_structure_of_a_plan_that_cannot_finish() -> None:
    # deadlock.yaml fails `interlock check` on purpose (a cycle, a guarantor as verifier):
    # the structure analysis is checked on the model directly.
    data = load_yaml_bytes((HERE / "deadlock.yaml").read_bytes()).data
    agreement = Agreement.model_validate(data)
    from interlock.analysis.pipeline import scenario_for

    run = simulate(agreement, scenario_for(agreement, EQUAL, "optimistic"))
    s = structure.analyse(agreement, run)
    assert [d.cycle for d in s.deadlocks] == [("obligation:x2", "stage:s2", "obligation:x3", "stage:s3")]
    never = {n.stage: n.reason for n in s.never_open}
    assert set(never) == {"s2", "s3", "s4"}
    assert "deadlock" in never["s2"]
    assert never["s4"] == "y can never be verified"
    assert [(u.obligation, "guarantor" in u.reason) for u in s.unverifiable] == [("y", True)]
    # The fallback can open (start-a could be breached) but does not in a compliant run.
    assert s.not_in_run == ("fallback",)
    # Only s1 runs: start-a delivered at 0 and verified at once; y is never verified.
    assert {st for st in run.stage_opened} == {"s1"}


def test_engine_agrees_with_the_local_rules_on_every_plan() -> None:
    paths = [*sorted(HERE.glob("*.yaml")), *sorted((DATA.parent.parent / "examples").glob("*.yaml"))]
    checked = 0
    for path in paths:
        if path.name.endswith(".values.yaml") or path.name == "deadlock.yaml":
            continue
        agreement = load_agreement(path.read_bytes())
        for mode in ("optimistic", "deadline"):
            from interlock.analysis.pipeline import scenario_for

            scenario = scenario_for(agreement, EQUAL, mode)  # type: ignore[arg-type]
            scenario = type(scenario)(**{**scenario.__dict__, "default_lag": timedelta(hours=2)})
            local = simulate(agreement, scenario, local_oracle)
            engine = simulate(agreement, scenario, engine_oracle)
            assert [t.key() for t in local.tranches] == [t.key() for t in engine.tranches], path
            assert not [n for n in engine.notes if "engine" in n], (path, engine.notes)
            # The engine, reading the run's log, finds no entry to refuse, and every started
            # deliver/act obligation that somebody can verify is fulfilled.
            entries, _ = entries_for(agreement, local.adopted.at, local.tranches)
            as_of = max([local.horizon, *(b.at for b in local.breaches),
                         *(t.verified_at or t.at for t in local.tranches)])
            status = evaluate(simulation_agreement(agreement), entries, as_of, unsigned=True)
            assert status.rejected == ()
            broken = {b.obligation for b in local.breaches}
            for oid, ob in status.obligations.items():
                if oid in broken:
                    assert ob.state == "breached", (path.name, mode, oid, ob.state)
                elif ob.kind in ("deliver", "act") and local.of(oid) and all(t.verified_at for t in local.of(oid)):
                    assert ob.state == "fulfilled", (path.name, mode, oid, ob.state)
            checked += 1
    assert checked >= 12


def test_compare_refuses_drafts_with_different_parties() -> None:
    a = analyse(plan("three-steps"), oracle=local_oracle)
    doc = load_yaml_bytes((HERE / "three-steps.yaml").read_bytes()).data
    doc["parties"][1]["id"] = "c"
    doc["stages"][1]["obligations"][0]["by"] = "c"
    doc["stages"][0]["obligations"][0]["to"] = "c"
    doc["stages"][1]["obligations"][1]["to"] = "c"
    from interlock.agreement import parse_document

    other = analyse(parse_document(doc), oracle=local_oracle)
    with pytest.raises(CompareError):
        compare(a, other)


def test_default_start_is_the_plans_earliest_fixed_time() -> None:
    gaza = load_agreement((DATA.parent.parent / "examples" / "gaza-2025-01-phase1.yaml").read_bytes())
    r = analyse(gaza, oracle=local_oracle)
    assert r.run.adopted.at == datetime(2025, 1, 19, tzinfo=UTC)


def test_a_valued_penalty_makes_the_last_move_self_enforcing() -> None:
    # docs/analysis.md: with a guarantor notified of a missed answer and A's penalty 40,
    # A's temptation after step 0 is 30 − 0 − 40 = −10: A no longer gains by stopping.
    doc = load_yaml_bytes((HERE / "three-steps.yaml").read_bytes()).data
    doc["parties"].append({"id": "g", "name": "Guarantor", "role": "guarantor"})
    doc["stages"][1]["obligations"][1]["on_breach"] = {"notify": ["g"]}
    from interlock.agreement import parse_document

    agreement = parse_document(doc)
    data = load_yaml_bytes((HERE / "three-steps.values.yaml").read_bytes()).data
    r = analyse(agreement, parse_values({**data, "penalties": {"a": 40}}, agreement), oracle=local_oracle)
    first = r.defection["a"].temptations[0]
    assert (first.saves, first.forgoes, first.penalty, first.value) == (30, 0, 40, -10)
    assert first.breached == ("answer",) and first.notified == ("g",)
    assert r.defection["a"].gains_by_stopping_after == ()
    # Without the penalty the notification alone changes nothing.
    r0 = analyse(agreement, parse_values(data, agreement), oracle=local_oracle)
    assert r0.defection["a"].gains_by_stopping_after == (0, 1)
    # A, while exposed, waits on the release, which no guarantor watches.
    assert r0.exposure["a"].watched_coverage == 0.0


def test_suggest_works_on_the_what_if_plan() -> None:
    # tranches-1 without its monitor: as written nothing is verifiable (no suggestion can
    # lower a peak that nothing ever reduces); with an assumed monitor the split is found.
    doc = load_yaml_bytes((HERE / "tranches-1.yaml").read_bytes()).data
    doc["parties"] = [p for p in doc["parties"] if p["id"] != "m"]
    for ob in doc["stages"][0]["obligations"]:
        del ob["verify"]
    from interlock.agreement import parse_document

    agreement = parse_document(doc)
    written = analyse(agreement, oracle=local_oracle)
    assert written.exposure["a"].final == written.exposure["a"].total
    what_if = analyse(agreement, oracle=local_oracle, assume_monitor=True)
    assert what_if.assumed == ("give", "answer") and what_if.plan is not agreement
    found = {s.description: s.max_pct() for s in suggest(what_if)}
    # No lag: A's one tranche is answered at once, but still after it — 100 % → 50 % in two.
    assert found["deliver give in 2 tranches instead of 1"] == {"a": 50.0, "b": 0.0}
