"""The two Gaza examples analysed (docs/analysis/): figures derived by hand from the files.

Equal weights: each side's handover and receipts each total 1, split equally among its
obligations.  October: Israel's side gives 5 transfers (Rafah, withdrawal, aid ramp,
prisoners, Gazan remains: 0.2 each), Hamas's 2 (living hostages, remains: 0.5 each).
January: Israel's side gives 16 (1/16 each), Hamas's 4 (1/4 each).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conftest import ROOT
from interlock.agreement import Agreement, load_agreement
from interlock.analysis import analyse

EXAMPLES = ROOT / "examples"


def gaza(month: str) -> Agreement:
    return load_agreement((EXAMPLES / f"gaza-2025-{month}-phase1.yaml").read_bytes())


def test_october_as_written_nothing_is_ever_verified() -> None:
    r = analyse(gaza("10"))
    assert len(r.structure.unverifiable) == 12
    assert all(s.verified_at is None for s in r.steps)
    for side in ("israel", "hamas"):
        assert r.exposure[side].max_pct == 100 and r.exposure[side].final == r.exposure[side].total
    # Missed deadlines that nobody could verify: the withdrawal and the aid ramp.
    assert {b.obligation for b in r.run.breaches} == {"withdraw-yellow-line", "aid-ramp"}


def test_october_with_an_assumed_monitor_deadline_schedule() -> None:
    r = analyse(gaza("10"), mode="deadline", assume_monitor=True)
    assert r.run.adopted.at == datetime(2025, 10, 10, 9, tzinfo=UTC)  # 12:00 +03:00
    israel, hamas = r.exposure["israel"], r.exposure["hamas"]
    # Israel: Rafah (0.2, at adoption) + withdrawal (0.2, +1d) + three aid-ramp days
    # (3 × 0.05, each in the day's last minute) before the returns at +4d → 0.55.
    assert israel.max == pytest.approx(0.55)
    assert israel.max_witness.at == datetime(2025, 10, 13, 23, 59, tzinfo=UTC)
    assert israel.max_witness.awaiting == ("return-living-hostages", "return-hostage-remains")
    # Hamas: both returns (1.0) at +4d against 0.55 received → 0.45, before the prisoner
    # releases and Gazan remains (0.2 + 0.2) that answer them at the same instant.
    assert hamas.max == pytest.approx(0.45)
    assert hamas.max_witness.at == datetime(2025, 10, 14, 9, tzinfo=UTC)
    assert hamas.curve[-1].exposure == 0 and israel.final == 0
    assert r.structure.duration is not None and r.structure.duration.days == 4
    # Stopping after adoption's first step: Hamas saves 1.0 and forgoes the prisoner releases
    # and the Gazan remains (0.4) → 0.6.
    first = r.defection["hamas"].temptations[0]
    assert (first.saves, first.forgoes) == (pytest.approx(1.0), pytest.approx(0.4))


def test_january_with_an_assumed_monitor_deadline_schedule() -> None:
    r = analyse(gaza("01"), mode="deadline", assume_monitor=True)
    assert r.run.adopted.at == datetime(2025, 1, 19, tzinfo=UTC)
    israel, hamas = r.exposure["israel"], r.exposure["hamas"]
    # Hamas at day 1: names + 3 hostages (0.5) against four acts at adoption (4/16) and one
    # day of the four daily rates (4 × 1/16 / 42) → 0.5 − 0.25 − 1/168.
    assert hamas.max == pytest.approx(0.5 - 0.25 - 1 / 168)
    assert hamas.max_witness.at == datetime(2025, 1, 20, tzinfo=UTC)
    # Israel just before day 42: ten acts/releases (10/16) + all 42 rate days (4/16), against
    # names, day-1 hostages and talks (3/4) → 0.875 − 0.75 = 0.125.
    assert israel.max == pytest.approx(0.125)
    assert israel.max_witness.at == datetime(2025, 3, 1, 23, 59, tzinfo=UTC)
    assert r.structure.duration is not None and r.structure.duration.days == 50
    # The 33 releases come in one tranche at day 42, answered by 990 prisoners.
    (big,) = [s for s in r.steps if s.obligation == "release-hostages"]
    (answer,) = [s for s in r.steps if s.obligation == "release-prisoners-per-hostage"]
    assert big.at == datetime(2025, 3, 2, tzinfo=UTC) and answer.units == 990


def test_a_split_can_raise_a_peak_when_other_deliveries_are_on_fixed_dates() -> None:
    from interlock.analysis.suggest import peaks, splits

    r = analyse(gaza("01"), mode="deadline", assume_monitor=True)
    found = {text: peaks(steps, r.sides) for text, steps in splits(r)}
    two = found["deliver release-hostages in 2 tranches instead of 1"]
    # Half the 33 now fall due on day 21: Hamas has handed over names, day-1 hostages and
    # talks (0.75) plus half of the 33 (0.125), and received eight of Israel's sixteen
    # obligations (0.5) and 21 of 42 rate days (0.125): 0.875 − 0.625 = 0.25 > 0.244.
    assert two["hamas"] == pytest.approx(25.0)
    # Israel's peak falls (half the 33 arrive before the last aid days).
    assert two["israel"] < 12.5
