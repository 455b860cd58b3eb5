"""Properties of the sequencing analysis that hold for every plan.

- Neutrality: swapping the parties' names mirrors every metric (step lists and whole plans).
- A side that moves entirely first carries 100 % of its handover at its peak.
- Splitting a delivery into more tranches (by any whole factor) never raises a side's
  maximum exposure — in an exchange answered tranche by tranche, with nothing else on fixed
  dates (with daily rates a split can raise a peak; see docs/analysis.md, limits).
- The local rules and the engine (through synthetic statements) give the same run.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interlock.agreement import parse_document
from interlock.analysis import defection, exposure
from interlock.analysis.pipeline import analyse, scenario_for
from interlock.analysis.report import to_json
from interlock.analysis.run import Mode
from interlock.analysis.schedule import local_oracle, simulate
from interlock.analysis.steps import Step
from interlock.analysis.synthetic import engine_oracle
from interlock.analysis.values import EQUAL, Valuation, parse_values

T0 = datetime(2026, 3, 2, tzinfo=UTC)
H = timedelta(hours=1)
ONE, TWO = "side-one", "side-two"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- step lists --------------------------------------------------------------------------


@st.composite
def step_lists(draw: st.DrawFn) -> list[Step]:
    n = draw(st.integers(1, 8))
    out: list[Step] = []
    t = 0
    for i in range(n):
        sender = draw(st.sampled_from([ONE, TWO]))
        t += draw(st.integers(0, 3))
        lag = draw(st.sampled_from([0, 1, 2, None]))
        at = T0 + t * H
        requires = frozenset(draw(st.sets(st.integers(0, i - 1), max_size=2))) if i else frozenset()
        out.append(Step(
            index=i, obligation=f"o{i}", tranche=1, giver=sender, sender=sender, kind="handover",
            cost=float(draw(st.integers(1, 5))),
            receives={TWO if sender == ONE else ONE: float(draw(st.integers(1, 5)))},
            at=at, verified_at=None if lag is None else at + lag * H, depth=draw(st.integers(0, 2)),
            requires=requires,
        ))
    return out


def swap(name: str) -> str:
    return {ONE: TWO, TWO: ONE}.get(name, name)


def mirrored(steps: list[Step]) -> list[Step]:
    return [
        dataclasses.replace(s, giver=swap(s.giver), sender=swap(s.sender) if s.sender else None,
                            receives={swap(p): v for p, v in s.receives.items()})
        for s in steps
    ]


def plain(x: Any) -> Any:
    """A metric as JSON data with the two names swapped."""
    return swap_doc(json.loads(json.dumps(dataclasses.asdict(x), default=str)))


def same(x: Any) -> Any:
    return json.loads(json.dumps(dataclasses.asdict(x), default=str))


@FAST
@given(step_lists())
def test_swapping_names_mirrors_every_step_metric(steps: list[Step]) -> None:
    sides = [ONE, TWO]
    e, e_m = exposure.analyse(steps, sides), exposure.analyse(mirrored(steps), sides)
    d, d_m = defection.analyse(steps, sides), defection.analyse(mirrored(steps), sides)
    for p in sides:
        assert plain(e[p]) == same(e_m[swap(p)])
        assert plain(d[p]) == same(d_m[swap(p)])


@FAST
@given(st.lists(st.integers(1, 5), min_size=1, max_size=5), st.lists(st.integers(1, 5), min_size=1, max_size=5),
       st.integers(0, 3), st.integers(0, 3))
def test_moving_entirely_first_means_full_exposure(
    first: list[int], second: list[int], lag_first: int, lag_second: int,
) -> None:
    steps: list[Step] = []
    for i, cost in enumerate(first):
        at = T0 + i * H
        steps.append(Step(i, f"f{i}", 1, ONE, ONE, "handover", float(cost), {TWO: 1.0}, at,
                          at + lag_first * H, depth=i))
    base = len(first)
    for j, cost in enumerate(second):
        at = T0 + (base + j) * H
        steps.append(Step(base + j, f"s{j}", 1, TWO, TWO, "handover", float(cost), {ONE: 2.0}, at,
                          at + lag_second * H, depth=base + j))
    e = exposure.analyse(steps, [ONE, TWO])
    assert e[ONE].max_pct == 100
    assert e[ONE].max_witness.step == len(first) - 1


# --- whole plans ---------------------------------------------------------------------------


@st.composite
def plans(draw: st.DrawFn, *, with_rate: bool = True, with_escrow: bool = True) -> dict[str, Any]:
    """A two-sided plan: maybe a gate by side two, side one's delivery in tranches, side
    two's proportional answer; maybe a daily rate by side two; maybe side one's delivery
    paid into a guarantor's escrow and released to side two."""
    tranches = draw(st.integers(1, 4))
    amount = tranches * draw(st.integers(1, 3))
    escrow = with_escrow and draw(st.booleans())
    gate = draw(st.booleans())
    parties = [
        {"id": ONE, "name": ONE, "role": "party"}, {"id": TWO, "name": TWO, "role": "party"},
        {"id": "g", "name": "Guarantor", "role": "guarantor"}, {"id": "m", "name": "Monitor", "role": "monitor"},
    ]
    main: list[dict[str, Any]] = [
        {"id": "give", "kind": "deliver", "by": ONE, "to": "g" if escrow else TWO,
         "quantity": {"amount": amount, "unit": "u"}, "tranches": tranches,
         "due": {"after": {"opened": "s2"}, "plus": f"{draw(st.integers(1, 6))}d"}, "verify": {"by": ["m"]}},
        {"id": "answer", "kind": "deliver", "by": TWO, "to": ONE,
         "quantity": {"per": "give", "ratio": draw(st.integers(1, 5)), "unit": "v"},
         "due": {"after_each": f"{draw(st.integers(1, 48))}h"}, "verify": {"by": ["m"]},
         "on_breach": {"notify": ["g"]} if draw(st.booleans()) else None},
    ]
    main[1] = {k: v for k, v in main[1].items() if v is not None}
    if with_rate and draw(st.booleans()):
        main.append({"id": "flow", "kind": "rate", "by": TWO, "to": ONE,
                     "quantity": {"amount": 10, "unit": "w", "per_period": "1d"},
                     "window": {"from": {"opened": "s2"}, "until": {"after": {"opened": "s2"}, "plus": "3d"}},
                     "verify": {"by": ["m"]}})
    stages: list[dict[str, Any]] = []
    if gate:
        stages.append({"id": "s1", "obligations": [
            {"id": "gate", "kind": "act", "by": TWO, "to": ONE, "due": {"after": "adopted", "plus": "1d"},
             "verify": {"by": ["m"]}}]})
    stages.append({"id": "s2", "opens": {"verified": "gate"} if gate else "adopted", "obligations": main})
    if escrow:
        stages.append({"id": "s3", "opens": {"delivered": "answer", "at_least": 1}, "obligations": [
            {"id": "payout", "kind": "deliver", "by": "g", "to": TWO,
             "quantity": {"per": "give", "ratio": 1, "unit": "u"}, "due": {"after_each": "1d"},
             "verify": {"by": ["m"]}}]})
    return {"interlock": 1, "id": "generated", "title": "Generated plan", "parties": parties, "stages": stages}


def swap_doc(doc: Any) -> Any:
    text = json.dumps(doc).replace(ONE, "\x00").replace(TWO, ONE).replace("\x00", TWO)
    return json.loads(text)


@st.composite
def valuations(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
    obs = [ob["id"] for stage in doc["stages"] for ob in stage["obligations"] if ob["by"] != "g"]
    obs += [ob["id"] for stage in doc["stages"] for ob in stage["obligations"] if ob["by"] == "g"]
    data: dict[str, Any] = {"values": 1, "verification_lag": {"default": f"{draw(st.integers(0, 12))}h"},
                            "start": "2026-03-02T00:00:00Z"}
    if draw(st.booleans()):
        data["parties"] = {p: {o: draw(st.integers(1, 9)) for o in obs} for p in (ONE, TWO)}
    return data


def _valuation(doc: dict[str, Any], data: dict[str, Any]) -> Valuation:
    agreement = parse_document(doc)
    relevant = dict(data)
    if "parties" in relevant:
        from interlock.analysis.values import involved

        relevant["parties"] = {p: {o: v for o, v in t.items() if o in involved(agreement, p)}
                               for p, t in relevant["parties"].items()}
    return parse_values(relevant, agreement)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_swapping_names_mirrors_every_plan_metric(data: st.DataObject) -> None:
    doc = data.draw(plans())
    vals = data.draw(valuations(doc))
    mode: Mode = data.draw(st.sampled_from(["optimistic", "deadline"]))
    one = to_json(analyse(parse_document(doc), _valuation(doc, vals), mode, oracle=local_oracle))
    two = to_json(analyse(parse_document(swap_doc(doc)), _valuation(swap_doc(doc), swap_doc(vals)), mode,
                          oracle=local_oracle))
    one.pop("agreement")
    two.pop("agreement")
    assert swap_doc(one) == two


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_splitting_tranches_never_raises_maximum_exposure(data: st.DataObject) -> None:
    doc = data.draw(plans(with_rate=False, with_escrow=False))
    vals = data.draw(valuations(doc))
    mode: Mode = data.draw(st.sampled_from(["optimistic", "deadline"]))
    factor = data.draw(st.integers(2, 3))
    finer = json.loads(json.dumps(doc))
    give = next(ob for stage in finer["stages"] for ob in stage["obligations"] if ob["id"] == "give")
    give["tranches"] *= factor
    give["quantity"]["amount"] *= factor  # whole units per tranche stay whole
    coarse_doc = json.loads(json.dumps(doc))
    next(ob for s in coarse_doc["stages"] for ob in s["obligations"] if ob["id"] == "give")["quantity"][
        "amount"] *= factor
    before = analyse(parse_document(coarse_doc), _valuation(coarse_doc, vals), mode, oracle=local_oracle)
    after = analyse(parse_document(finer), _valuation(finer, vals), mode, oracle=local_oracle)
    for p in (ONE, TWO):
        assert (after.exposure[p].max_pct or 0) <= (before.exposure[p].max_pct or 0) + 1e-6, p


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_local_rules_and_engine_give_the_same_run(data: st.DataObject) -> None:
    doc = data.draw(plans())
    agreement = parse_document(doc)
    mode: Mode = data.draw(st.sampled_from(["optimistic", "deadline"]))
    lag = timedelta(hours=data.draw(st.integers(0, 12)))
    scenario = dataclasses.replace(scenario_for(agreement, EQUAL, mode), default_lag=lag)
    local = simulate(agreement, scenario, local_oracle)
    engine = simulate(agreement, scenario, engine_oracle)
    assert [t.key() for t in local.tranches] == [t.key() for t in engine.tranches]
    assert {k: m.at for k, m in local.stage_opened.items()} == {k: m.at for k, m in engine.stage_opened.items()}
    assert not [n for n in engine.notes if "engine" in n], engine.notes
