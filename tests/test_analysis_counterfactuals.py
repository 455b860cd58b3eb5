"""The fast paths of the analysis give exactly what the plain computations give.

- Counterfactuals (what if a side stops after cut k) share one memo across cuts
  (`interlock.analysis.shared`); each is compared with a plain simulation by the local rules
  and with one by the engine (synthetic statements), on every plan of tests/data/analysis,
  the examples, and random plans.
- The nominal run is found by the local rules and confirmed by the engine; it equals the
  engine's own fixpoint found round by round, and the engine folding incrementally across
  rounds gives the status a fresh evaluation gives.
- The work grows linearly with the tranches: counted, not timed (the counts do not depend on
  the machine).  Quadratic work would grow 100-fold from 50 to 500 tranches.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DATA, ROOT
from interlock.agreement import Agreement, load_agreement, parse_document
from interlock.agreement.yamlsource import load_yaml_bytes
from interlock.analysis import analyse, parse_values
from interlock.analysis.pipeline import Analysis, scenario_for
from interlock.analysis.report import defection_json
from interlock.analysis.run import Mode
from interlock.analysis.schedule import local_oracle, simulate
from interlock.analysis.shared import Work
from interlock.analysis.synthetic import EngineEvaluator, EngineOracle, engine_oracle
from interlock.analysis.values import EQUAL
from test_analysis_properties import _valuation, plans, valuations

HERE = DATA / "analysis"
PLANS = sorted(p.stem for p in HERE.glob("*.yaml") if not p.name.endswith(".values.yaml") and p.stem != "deadlock")


def plan(name: str) -> Agreement:
    path = HERE / f"{name}.yaml" if (HERE / f"{name}.yaml").exists() else ROOT / "examples" / f"{name}.yaml"
    return load_agreement(path.read_bytes())


def defection_of(a: Analysis) -> dict[str, Any]:
    return {p: defection_json(a.defection[p]) for p in a.sides}


def plain(agreement: Agreement, scenario: Any, schedule: Any, horizon: Any) -> EngineEvaluator:
    """The engine as an oracle that evaluates every round's log afresh."""
    return EngineEvaluator(agreement, scenario, schedule, horizon)


@pytest.mark.parametrize("name", [*PLANS, "gaza-2025-10-phase1", "northland-southland"])
@pytest.mark.parametrize("mode", ["optimistic", "deadline"])
def test_shared_counterfactuals_are_the_plain_and_the_engine_ones(name: str, mode: str) -> None:
    for assume in (False, True):
        fast = analyse(plan(name), mode=mode, oracle=local_oracle, assume_monitor=assume)  # type: ignore[arg-type]
        by_rules = analyse(plan(name), mode=mode, oracle=local_oracle, assume_monitor=assume,  # type: ignore[arg-type]
                           counterfactual_oracle=local_oracle)
        by_engine = analyse(plan(name), mode=mode, oracle=local_oracle, assume_monitor=assume,  # type: ignore[arg-type]
                            counterfactual_oracle=engine_oracle)
        assert defection_of(fast) == defection_of(by_rules) == defection_of(by_engine)
        # The cuts ask real questions: a counterfactual per distinct set of kept steps.
        if fast.steps:
            assert fast.work.simulations >= len(fast.sides)


def test_shared_counterfactuals_on_the_large_example_with_values() -> None:
    # January 2025: 184 steps, daily rates, acts on fixed dates (the plain way takes seconds).
    gaza = plan("gaza-2025-01-phase1")
    fast = analyse(gaza, mode="deadline", oracle=local_oracle, assume_monitor=True)
    slow = analyse(gaza, mode="deadline", oracle=local_oracle, assume_monitor=True,
                   counterfactual_oracle=local_oracle)
    assert defection_of(fast) == defection_of(slow)
    assert any(t.forgoes > 0 for d in fast.defection.values() for t in d.temptations)


def test_three_steps_with_values_and_penalties() -> None:
    agreement = plan("three-steps")
    data = load_yaml_bytes((HERE / "three-steps.values.yaml").read_bytes()).data
    for mode in ("optimistic", "deadline"):
        valuation = parse_values({**data, "penalties": {"a": 40}}, agreement)
        fast = analyse(agreement, valuation, mode, oracle=local_oracle)
        slow = analyse(agreement, valuation, mode, oracle=local_oracle,
                       counterfactual_oracle=engine_oracle)
        assert defection_of(fast) == defection_of(slow)
    # docs/analysis.md: A's temptation after step 0 is 30 (saves its answer, forgoes nothing).
    first = fast.defection["a"].temptations[0]
    assert (first.saves, first.forgoes) == (30, 0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_shared_counterfactuals_equal_plain_ones_on_random_plans(data: st.DataObject) -> None:
    doc = data.draw(plans())
    vals = data.draw(valuations(doc))
    mode: Mode = data.draw(st.sampled_from(["optimistic", "deadline"]))
    agreement, valuation = parse_document(doc), _valuation(doc, vals)
    fast = analyse(agreement, valuation, mode, oracle=local_oracle)
    slow = analyse(agreement, valuation, mode, oracle=local_oracle, counterfactual_oracle=local_oracle)
    assert defection_of(fast) == defection_of(slow)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_confirmed_nominal_run_is_the_engines_own_fixpoint(data: st.DataObject) -> None:
    doc = data.draw(plans())
    agreement = parse_document(doc)
    mode: Mode = data.draw(st.sampled_from(["optimistic", "deadline"]))
    scenario = scenario_for(agreement, EQUAL, mode)
    confirmed = simulate(agreement, scenario, EngineOracle())
    rounds = simulate(agreement, scenario, EngineOracle(), confirm=False)  # incremental folding
    fresh = simulate(agreement, scenario, plain, confirm=False)  # every round evaluated afresh
    keys = [[t.key() for t in r.tranches] for r in (confirmed, rounds, fresh)]
    assert keys[0] == keys[1] == keys[2]
    assert confirmed.notes == rounds.notes == fresh.notes
    assert [b.obligation for b in confirmed.breaches] == [b.obligation for b in fresh.breaches]


def chained(k: int) -> Agreement:
    """k stages, each opened by the previous one's verified delivery (8 units in 4 tranches
    over 2 days), each answered tranche by tranche by the other side."""
    stages: list[dict[str, Any]] = []
    for i in range(k):
        giver, answerer = ("a", "b") if i % 2 == 0 else ("b", "a")
        stages.append({"id": f"s{i}", "opens": "adopted" if i == 0 else {"verified": f"give-{i - 1}"}, "obligations": [
            {"id": f"give-{i}", "kind": "deliver", "by": giver, "to": answerer, "quantity": {"amount": 8, "unit": "u"},
             "tranches": 4, "due": {"after": {"opened": f"s{i}"}, "plus": "2d"}, "verify": {"by": ["m"]}},
            {"id": f"answer-{i}", "kind": "deliver", "by": answerer, "to": giver,
             "quantity": {"per": f"give-{i}", "ratio": 2, "unit": "v"}, "due": {"after_each": "1d"},
             "verify": {"by": ["m"]}},
        ]})
    return parse_document({
        "interlock": 1, "id": "chain", "title": "Chain",
        "parties": [{"id": "a", "name": "A", "role": "party"}, {"id": "b", "name": "B", "role": "party"},
                    {"id": "m", "name": "M", "role": "monitor"}],
        "stages": stages,
    })


def test_a_long_chain_settles() -> None:
    # 40 stages need more rounds than the old fixed limit of 60 (two per link of the chain).
    r = analyse(chained(40))
    assert r.run.settled and not r.run.notes
    assert len(r.steps) == 320
    # Each stage opens 36 h after the previous one (its 4th tranche, verified at once, is
    # handed over 3/4 of 2 days after it opens): the last tranche comes 40 × 36 h = 60 days in.
    assert r.structure.duration is not None and r.structure.duration.days == 60


@pytest.mark.parametrize("mode", ["optimistic", "deadline"])
def test_counterfactuals_started_late_in_a_chain_are_the_plain_ones(mode: str) -> None:
    # Stopping at stage j leaves the first rounds of the fixpoint unchanged: the shared
    # counterfactual starts from the reference run's round where the stop first shows.
    fast = analyse(chained(6), mode=mode, oracle=local_oracle)  # type: ignore[arg-type]
    slow = analyse(chained(6), mode=mode, oracle=local_oracle, counterfactual_oracle=local_oracle)  # type: ignore[arg-type]
    assert defection_of(fast) == defection_of(slow)
    assert fast.work.rounds < 3 * fast.work.simulations  # not a whole fixpoint each


# --- growth, counted ---------------------------------------------------------------------------


def tranched(n: int) -> Agreement:
    """The worked three-step plan with its release in `n` tranches."""
    text = (HERE / "three-steps.yaml").read_text()
    text = text.replace("quantity: {amount: 10, unit: persons},",
                        f"quantity: {{amount: {max(10, n)}, unit: persons}}, tranches: {n},")
    return load_agreement(text.encode())


def work_for(n: int) -> tuple[Analysis, Work]:
    a = analyse(tranched(n))
    return a, a.work


def test_work_grows_linearly_with_tranches() -> None:
    small, w50 = work_for(50)
    large, w500 = work_for(500)
    assert len(small.steps) == 101 and len(large.steps) == 1001
    # One counterfactual per distinct stop, about one per step (they are the metric), plus
    # one reference run they start from.
    assert w500.simulations - 1 == pytest.approx(10 * (w50.simulations - 1), rel=0.02)
    # Everything else per tranche: the engine folds each synthetic entry about once, plans
    # build each tranche once, and loops visit each tranche a bounded number of times.
    for name in ("folded", "tranches", "scans"):
        ratio = getattr(w500, name) / getattr(w50, name)
        assert 8 <= ratio <= 12, (name, ratio)
    # Rounds per counterfactual do not grow with the tranches.
    assert w500.rounds / w500.simulations == pytest.approx(w50.rounds / w50.simulations, rel=0.05)
    # The engine evaluated the nominal run's synthetic log once (it confirmed the local fixpoint).
    assert w500.evaluations == 1 and w500.folded == 2 + 2 * 1001


def test_the_nominal_figures_stay_those_worked_by_hand_at_scale() -> None:
    a, _ = work_for(500)
    # A withdraws (its cost 30 of 60); B releases 500 tranches from 6h; A answers each.
    assert a.exposure["a"].max_pct == pytest.approx(50.0)
    assert a.run.settled and not [n for n in a.run.notes if "engine" in n]
    # Equal weights: B's whole handover is the release (1 in all, 1/500 a tranche); it
    # receives the withdrawal (1/2) and the answers (1/2, 1/1000 each).  Stopping after its
    # first release, B saves 499/500 and forgoes the 499 answers that no longer come, and
    # its release is breached at its due date (s2 opens at 6h, + 2 days).
    b = a.defection["b"]
    first_release = next(t for t in b.temptations if t.after == 1)
    assert first_release.saves == pytest.approx(499 / 500)
    assert first_release.forgoes == pytest.approx(499 / 1000)
    assert first_release.breached == ("release",)
