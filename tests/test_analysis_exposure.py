"""Exposure and defection metrics on hand-made step lists, every figure computed by hand.

Conventions in these tests: each step costs its sender 1 and is worth 1 to its receiver
unless said otherwise; times are hours after T0; depth defaults to the step's index, so
steps at one instant happen one after the other.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from interlock.analysis import defection, exposure
from interlock.analysis.steps import Step, StepKind, Terms

T0 = datetime(2026, 3, 2, tzinfo=UTC)
HOUR = timedelta(hours=1)


def step(
    i: int, sender: str, receiver: str | None, at_h: float, *, lag_h: float | None = 0.0,
    cost: float = 1.0, value: float = 1.0, kind: StepKind = "handover", depth: int | None = None,
    requires: tuple[int, ...] = (), earmarked: dict[str, float] | None = None, name: str | None = None,
) -> Step:
    at = T0 + at_h * HOUR
    return Step(
        index=i, obligation=name or f"{sender}{i}", tranche=1,
        giver="g" if kind == "release" else sender, sender=sender, kind=kind, cost=cost,
        receives={receiver: value} if receiver else {}, at=at,
        verified_at=None if lag_h is None else at + lag_h * HOUR,
        depth=i if depth is None else depth, requires=frozenset(requires),
        escrow="g" if kind == "deposit" else None, earmarked=earmarked or {},
    )


def all_first() -> list[Step]:
    # A hands over three times (0h, 1h, 2h), then B three times (3h, 4h, 5h); no lag.
    return [step(i, "a", "b", i) for i in range(3)] + [step(i, "b", "a", i) for i in range(3, 6)]


def alternating() -> list[Step]:
    # A, B, A, B, A, B one hour apart; each step waits on the one before it.
    return [
        step(i, "ab"[i % 2], "ba"[i % 2], i, requires=(i - 1,) if i else ())
        for i in range(6)
    ]


def test_all_first_gives_the_first_mover_full_exposure() -> None:
    e = exposure.analyse(all_first(), ["a", "b"])
    a, b = e["a"], e["b"]
    # E_A after each step: 1, 2, 3, then B's steps bring it back 2, 1, 0.
    assert [p.exposure for p in a.curve] == [1, 2, 3, 2, 1, 0]
    assert (a.max, a.max_pct) == (3, 100)
    assert a.max_witness.step == 2 and a.max_witness.at == T0 + 2 * HOUR
    assert a.max_witness.obligations == ("a0", "a1", "a2")
    assert a.max_witness.awaiting == ("b3", "b4", "b5")
    # ∫E_A = (1 + 2 + 3 + 2 + 1) × 1 h = 9 h = 0.375 value·days; / 3 total × 100 = 12.5 %·days.
    assert a.integral == pytest.approx(0.375)
    assert a.integral_pct == pytest.approx(12.5)
    # A's 2nd and 3rd steps are made while already exposed; its three steps are unanswered.
    assert a.trust_steps == (1, 2)
    assert a.longest_unreciprocated == (0, 1, 2)
    assert a.largest_step_pct == pytest.approx(100 / 3)
    assert (b.max, b.max_pct, b.trust_steps) == (0, 0, ())
    # Asymmetry: A − B peaks at 100 points when A has handed over everything.
    assert a.asymmetry_pct == pytest.approx(100)
    assert b.asymmetry_pct == pytest.approx(0)
    # Integral asymmetry: 12.5 − 0 for A, the mirror for B.
    assert a.asymmetry_integral_pct == pytest.approx(12.5)
    assert b.asymmetry_integral_pct == pytest.approx(-12.5)


def test_alternating_halves_nothing_but_caps_exposure_at_one_step() -> None:
    e = exposure.analyse(alternating(), ["a", "b"])
    a, b = e["a"], e["b"]
    assert [p.exposure for p in a.curve] == [1, 0, 1, 0, 1, 0]
    # One step of three: 33.3 %, first reached at step 0.
    assert a.max_pct == pytest.approx(100 / 3)
    assert a.max_witness.step == 0
    # Exposed 1 for three separate hours: 3 h = 0.125 value·days → 4.17 %·days.
    assert a.integral == pytest.approx(0.125)
    assert a.integral_pct == pytest.approx(12.5 / 3)
    assert a.trust_steps == () and b.trust_steps == ()
    assert b.max == 0


def test_all_first_defection_standing_and_temptation() -> None:
    steps = all_first()
    d = defection.analyse(steps, ["a", "b"])
    # Standing of A if everything stops after step k: received − paid = −1, −2, −3, −2, −1, 0.
    assert [v for _, v in d["a"].standing] == [-1, -2, -3, -2, -1, 0]
    assert d["a"].worse_off_after == (0, 1, 2, 3, 4)
    assert d["a"].worst == -3 and d["a"].worst_pct == pytest.approx(100)
    assert d["a"].worst_witness.step == 2
    # B stopping saves its unpaid steps and loses nothing (nothing of A's waits on B):
    # 3, 3, 3 after A's steps, then 2 and 1.
    assert [t.value for t in d["b"].temptations] == [3, 3, 3, 2, 1, 0]
    assert d["b"].gains_by_stopping_after == (0, 1, 2, 3, 4)
    top = d["b"].max_temptation
    assert top is not None and (top.after, top.saves, top.forgoes) == (0, 3, 0)
    # A stopping after its first step saves 2, after its second 1.
    assert [t.value for t in d["a"].temptations] == [2, 1, 0, 0, 0, 0]


def test_alternating_defection_with_dependencies() -> None:
    d = defection.analyse(alternating(), ["a", "b"])
    # Standing of A: −1 after each of its own steps, 0 after each answer.
    assert d["a"].worse_off_after == (0, 2, 4)
    assert d["b"].worse_off_after == ()
    # B stops after step 0: it saves 3 but A's 2nd and 3rd steps wait on B's → forgoes 2.
    first = d["b"].temptations[0]
    assert (first.saves, first.forgoes, first.value) == (3, 2, 1)
    # After its own 1st step (cut 1): saves 2, forgoes A's 3rd (waits on B's 2nd) → 1.
    assert [t.value for t in d["b"].temptations] == [1, 1, 1, 1, 1, 0]
    # A stopping never pays: each saved step costs it the answer that waits on it.
    assert d["a"].gains_by_stopping_after == ()
    assert d["a"].max_temptation is None


def test_penalty_from_a_guarantor_notification_is_subtracted() -> None:
    from interlock.analysis.run import Breach

    steps = alternating()

    def cf(party: str, kept: frozenset[int]) -> defection.Outcome:
        out = defection.drop_dependants(steps)(party, kept)
        return defection.Outcome(out.steps, (Breach("b1", party, T0, ("g",), ()),))

    d = defection.analyse(steps, ["a", "b"], cf, penalties={"b": 5.0})
    # Temptation 1 − penalty 5 = −4 at every cut: B never gains by stopping.
    assert d["b"].temptations[0].penalty == 5
    assert d["b"].temptations[0].notified == ("g",)
    assert d["b"].gains_by_stopping_after == ()


def test_one_big_tranche_versus_three_small() -> None:
    # Big: A hands 1 at 0h (verified 1h); B answers 1 at 1h (verified 2h).
    big = [step(0, "a", "b", 0, lag_h=1), step(1, "b", "a", 1, lag_h=1, requires=(0,))]
    # Small: thirds, each answered before the next: A 0h, B 1h, A 2h, B 3h, A 4h, B 5h.
    small = [
        step(i, "ab"[i % 2], "ba"[i % 2], i, lag_h=1, cost=1 / 3, value=1 / 3, requires=(i - 1,) if i else ())
        for i in range(6)
    ]
    e_big = exposure.analyse(big, ["a", "b"])["a"]
    e_small = exposure.analyse(small, ["a", "b"])["a"]
    # Big: E_A = 1 from 0h until B's answer is verified at 2h → 100 %, 2 h → 1/12 value·day.
    assert e_big.max_pct == pytest.approx(100)
    assert e_big.integral == pytest.approx(1 / 12)
    # Small: E_A = 1/3 on [0h, 2h), [2h, 4h), [4h, 6h) → 33.3 %, 6 h × 1/3 = 2 h → 1/12.
    assert e_small.max_pct == pytest.approx(100 / 3)
    assert e_small.integral == pytest.approx(1 / 12)
    assert e_small.largest_step_pct == pytest.approx(100 / 3)
    assert e_big.largest_step_pct == pytest.approx(100)


def test_escrow_covers_both_sides() -> None:
    # A deposits 1 with guarantor g at 0h (verified 1h), earmarked for B; B delivers at 1h
    # (verified 2h); g releases A's deposit to B at 2h (verified 3h).
    with_escrow = [
        step(0, "a", None, 0, lag_h=1, kind="deposit", earmarked={"b": 1.0}),
        step(1, "b", "a", 1, lag_h=1, requires=(0,)),
        step(2, "a", "b", 2, lag_h=1, kind="release", requires=(1,)),
    ]
    e = exposure.analyse(with_escrow, ["a", "b"])
    # A: nothing handed to B until the release, by when it has B's goods → never exposed.
    # Without the escrow A would carry 1 from 0h to 2h (its gross exposure).
    assert e["a"].max == 0
    assert e["a"].escrow_coverage == pytest.approx(1.0)
    # B: its goods (1h–3h) are secured by the 1 earmarked for it → never exposed either.
    assert e["b"].max == 0
    assert e["b"].escrow_coverage == pytest.approx(1.0)
    assert [p.secured for p in e["b"].curve] == [1, 1, 1, 1, 1, 0]
    # Without escrow: A pays B directly at 0h, B delivers at 1h.
    direct = [step(0, "a", "b", 0, lag_h=1), step(1, "b", "a", 1, lag_h=1, requires=(0,))]
    d = exposure.analyse(direct, ["a", "b"])
    assert d["a"].max_pct == pytest.approx(100) and d["b"].max == 0
    assert d["a"].escrow_coverage == pytest.approx(0.0)


def test_simultaneous_exchange_exposes_nobody_without_lag() -> None:
    # Both hand over at 0h at the same depth, verified at once: neither is ever exposed.
    swap = [step(0, "a", "b", 0, depth=0), step(1, "b", "a", 0, depth=0)]
    e = exposure.analyse(swap, ["a", "b"])
    assert e["a"].max == 0 and e["b"].max == 0
    # With a 1 h verification lag both carry 1 for that hour.
    lagged = [step(0, "a", "b", 0, lag_h=1, depth=0), step(1, "b", "a", 0, lag_h=1, depth=0)]
    e = exposure.analyse(lagged, ["a", "b"])
    assert e["a"].max_pct == pytest.approx(100) and e["b"].max_pct == pytest.approx(100)
    assert e["a"].integral == pytest.approx(1 / 24)
    # Sequential at the same instant (depth 0 then 1): only the first mover is exposed.
    seq = [step(0, "a", "b", 0, depth=0), step(1, "b", "a", 0, depth=1)]
    e = exposure.analyse(seq, ["a", "b"])
    assert e["a"].max_pct == pytest.approx(100) and e["b"].max == 0
    assert e["a"].integral == 0


def test_never_verified_receipt_leaves_exposure_at_the_end() -> None:
    steps = [step(0, "a", "b", 0), step(1, "b", "a", 1, lag_h=None)]
    e = exposure.analyse(steps, ["a", "b"])["a"]
    assert e.final == 1 and e.max_pct == 100
    # Defection: B's unverifiable step never counts for A.
    d = defection.analyse(steps, ["a", "b"])
    assert d["a"].worse_off_after == (0, 1)


def test_waits_without_deadline_or_consequence_and_guarantor_watch() -> None:
    terms = {
        "b3": Terms(deadline=False, consequence=True, guarded=False),
        "b4": Terms(deadline=True, consequence=False, guarded=True),
        "b5": Terms(deadline=True, consequence=True, guarded=True),
    }
    a = exposure.analyse(all_first(), ["a", "b"], terms)["a"]
    # A is exposed from step 0 on and waits on b3, b4, b5 from then.
    assert [(w.obligation, w.missing, w.at) for w in a.waits] == [
        ("b3", ("deadline",), T0),
        ("b4", ("consequence",), T0),
    ]
    # Watched only while b3 (unguarded) is no longer awaited: from 3h, exposure 2 then 1
    # for an hour each = 3 of the 9 value·hours.
    assert a.watched_coverage == pytest.approx(3 / 9)


def test_largest_step_and_percentages_use_the_senders_own_total() -> None:
    steps = [
        step(0, "a", "b", 0, cost=1, value=10),
        step(1, "a", "b", 1, cost=3, value=10),
        step(2, "b", "a", 2, cost=100, value=2),
    ]
    e = exposure.analyse(steps, ["a", "b"])
    assert e["a"].total == 4 and e["a"].largest_step_pct == pytest.approx(75)
    assert e["a"].largest_witness.step == 1
    # A receives 2 (its own value) for 4 handed over: 2 left exposed, 50 % of its total.
    assert e["a"].final == 2 and e["a"].curve[-1].exposure == 2
    # B's 100 is answered by 20 in B's scale already received → exposed 80 of 100.
    assert e["b"].max == 80 and e["b"].max_pct == pytest.approx(80)


def test_no_steps_gives_zeros() -> None:
    e = exposure.analyse([], ["a", "b"])
    assert e["a"].max == 0 and e["a"].max_pct is None and e["a"].curve == ()
    d = defection.analyse([], ["a", "b"])
    assert d["a"].temptations == () and d["a"].max_temptation is None
