"""The dashboard's pure view-models, against hand-written Status JSON of DESIGN.md's worked
example (tests/data/dashboard/status-northland-*.json, written from the DESIGN table, not from
the engine's output).  Expected words and numbers below are worked out by hand.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import DATA
from interlock.agreement import load_agreement
from interlock.agreement.model import After, AllOf, AnyOf, At
from interlock.checkpoint import Checkpoint, cosign_checkpoint, sign_checkpoint
from interlock.note import new_signer_key
from interlock.server.dashboard.chart import build_chart
from interlock.server.dashboard.conditions import describe, sentence
from interlock.server.dashboard.facts import read_status
from interlock.server.dashboard.humanize import number, percent, relative, span, when
from interlock.server.dashboard.incidents import build_incidents
from interlock.server.dashboard.logview import read_checkpoint
from interlock.server.dashboard.obligation import build_obligation
from interlock.server.dashboard.overview import build_overview
from interlock.server.dashboard.records import adopters, filter_entries, read_entries

AGREEMENT = load_agreement((DATA / "northland" / "agreement.yaml").read_bytes())
LINES = [json.loads(line) for line in (DATA / "northland" / "entries.jsonl").read_text().splitlines() if line]
MAR5 = datetime(2026, 3, 5, 12, tzinfo=UTC)
MAR9 = datetime(2026, 3, 9, tzinfo=UTC)


def status(day: str) -> Any:
    return read_status(json.loads((DATA / "dashboard" / f"status-northland-{day}.json").read_text()))


def entries_until(moment: datetime) -> list[Any]:
    return read_entries([x for x in LINES if x["integrated_at"] <= moment.strftime("%Y-%m-%dT%H:%M:%SZ")], AGREEMENT)


# --- words for time ---------------------------------------------------------------------------


def test_span_and_relative_in_words() -> None:
    assert span(timedelta(days=3, hours=4, minutes=5)) == "3 d 4 h"
    assert span(timedelta(days=2, minutes=5)) == "2 d"  # never "2 d 5 min": units stay adjacent
    assert span(timedelta(minutes=45)) == "45 min"
    assert span(timedelta(seconds=59)) == "< 1 min"
    now = datetime(2026, 3, 5, 12, tzinfo=UTC)
    assert relative(now + timedelta(hours=5, minutes=20), now) == "in 5 h 20 min"
    assert relative(now - timedelta(days=1, hours=2), now) == "1 d 2 h ago"
    assert relative(now + timedelta(seconds=30), now) == "now"
    assert when(datetime(2026, 3, 5, 10, 40, tzinfo=UTC)) == "5 Mar 2026 10:40 UTC"
    assert number(12.0) == "12" and number(12.5) == "12.5" and number(1200) == "1,200"


@given(st.integers(min_value=60, max_value=10**8))
def test_span_rounds_down_and_uses_at_most_two_adjacent_units(seconds: int) -> None:
    text = span(timedelta(seconds=seconds))
    parts = text.split()
    assert 2 <= len(parts) <= 4
    sizes = {"d": 86400, "h": 3600, "min": 60}
    shown = sum(int(value) * sizes[unit] for value, unit in zip(parts[::2], parts[1::2], strict=True))
    assert shown <= seconds  # never promises more time than there is
    units = parts[1::2]
    order = ["d", "h", "min"]
    assert [order.index(u) for u in units] == list(range(order.index(units[0]), order.index(units[0]) + len(units)))


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.floats(min_value=-1e9, max_value=1e9,
                                                                           allow_nan=False))
def test_percent_is_always_between_0_and_100(done: float, required: float) -> None:
    assert 0 <= percent(done, required) <= 100


# --- conditions ---------------------------------------------------------------------------------


def test_stage_3_waits_for_stage_2_and_the_clock() -> None:
    # s3 opens {all: [{stage_complete: s2}, {after: {opened: s2}, plus: 42d}]}; s2 opened 4 Mar 08:00,
    # so the clock part is met on 15 Apr 08:00 — from 5 Mar 12:00 that is 40 d 20 h away.
    s3 = AGREEMENT.stage("s3")
    assert s3 is not None
    view = describe(s3.opens, AGREEMENT, status("0305"), MAR5)
    assert not view.met
    assert [p.met for p in view.parts] == [False, False]
    assert view.parts[1].eta == datetime(2026, 4, 15, 8, tzinfo=UTC)
    assert sentence(view, MAR5) == (
        "Stage 2 (First releases) complete and 42 d after stage 2 (First releases) opened"
        " — in 40 d 20 h at the earliest"
    )
    # on 9 March stage 2 is breached: the reader is told why it may never come
    late = describe(s3.opens, AGREEMENT, status("0309"), MAR9)
    assert late.parts[0].state_text(MAR9) == "not yet: that stage is breached"


def test_stage_2_opened_by_verification_shows_progress_and_moment() -> None:
    s2 = AGREEMENT.stage("s2")
    assert s2 is not None
    view = describe(s2.opens, AGREEMENT, status("0305"), MAR5)
    assert view.met and view.text == "withdraw-line-a verified"
    assert view.progress == "1/1"


def test_all_and_any_of_clock_conditions() -> None:
    now = datetime(2026, 3, 10, tzinfo=UTC)
    facts = status("0305")
    early, late = At(at="2026-03-08T00:00:00Z"), At(at="2026-03-12T00:00:00Z")
    both = describe(AllOf(all=[early, late]), AGREEMENT, facts, now)
    assert not both.met and both.eta == datetime(2026, 3, 12, tzinfo=UTC)
    either = describe(AnyOf(any=[early, late]), AGREEMENT, facts, now)
    assert either.met and either.met_at == datetime(2026, 3, 8, tzinfo=UTC)
    # after a part that is not yet met: no time can be given
    waiting = describe(After(after={"verified": "release-first"}, plus="24h"), AGREEMENT, facts, now)
    assert not waiting.met and waiting.eta is None and waiting.state_text(now) == "not yet"


@given(st.lists(st.integers(min_value=-100, max_value=100), min_size=1, max_size=5),
       st.booleans())
def test_all_is_met_iff_every_part_is_and_any_iff_one_is(offsets: list[int], use_all: bool) -> None:
    now = datetime(2026, 3, 10, tzinfo=UTC)
    parts = [At(at=(now + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ")) for h in offsets]
    cond = AllOf(all=parts) if use_all else AnyOf(any=parts)
    view = describe(cond, AGREEMENT, status("0305"), now)
    met = [h <= 0 for h in offsets]
    assert view.met == (all(met) if use_all else any(met))
    if not view.met:
        pending = [h for h in offsets if h > 0]
        expected = max(pending) if use_all else min(pending)
        assert view.eta == now + timedelta(hours=expected)


# --- overview -------------------------------------------------------------------------------------


def _row(view: Any, oid: str) -> Any:
    return next(ob for stage in view.stages for ob in stage.obligations if ob.id == oid)


def test_overview_on_5_march() -> None:
    view = build_overview(AGREEMENT, status("0305"), entries_until(MAR5), MAR5)
    assert [s.state.key for s in view.stages] == ["complete", "open", "locked"]
    assert view.adoption_text == "Adopted 3 Mar 2026 09:00 UTC by North, South, East"
    first = _row(view, "release-first")
    assert first.state.key == "active"
    assert first.progress_text == "4 of 12 persons verified" and first.percent == 33
    # due 7 Mar 08:00: from 5 Mar 12:00 that is 1 d 20 h, with 12 h of grace after it
    assert first.due_text == "due in 1 d 20 h (7 Mar 2026 08:00 UTC) (+12 h grace)"
    answer = _row(view, "release-prisoners-first")
    assert (answer.state.key, answer.verified, answer.required) == ("active", 0, 120)
    assert _row(view, "withdraw-line-a").progress_text == "done and verified"
    assert _row(view, "ceasefire-north").progress_text == "no verified violation"
    assert view.next_text is not None and view.next_text.startswith("Stage 3 (Second withdrawal) opens when:")
    # parties keep the agreement's order and nobody is singled out
    assert [p.id for p in view.parties] == ["north", "south", "east", "observers", "red-cross"]


def test_overview_on_9_march() -> None:
    view = build_overview(AGREEMENT, status("0309"), entries_until(MAR9), MAR9)
    assert [s.state.key for s in view.stages] == ["complete", "breached", "locked"]
    assert _row(view, "release-first").state.key == "late"
    assert _row(view, "release-first").due_text == "was due 7 Mar 2026 08:00 UTC"
    answer = _row(view, "release-prisoners-first")
    assert answer.state.key == "breached" and answer.progress_text == "120 of 360 persons verified"
    # due 8 Mar 15:20, judged at 9 Mar 00:00: 8 h 40 min ago
    assert answer.due_text == "deadline passed 8 h 40 min ago (8 Mar 2026 15:20 UTC)"
    trucks = _row(view, "aid-trucks")
    assert trucks.state.key == "breached"
    assert trucks.progress_text == "last full period: 0 of 600 trucks; 3 of 4 periods short"
    assert _row(view, "withdraw-line-b").due_text == "starts when its stage opens"


def test_overview_before_adoption_names_who_is_missing() -> None:
    before = datetime(2026, 3, 3, 8, 30, tzinfo=UTC)
    empty = read_status({"stages": {}, "obligations": {}})
    view = build_overview(AGREEMENT, empty, entries_until(before), before)
    assert view.adoption_text == "Not yet adopted: 2 of 3 signers; waiting for East"
    assert [s.state.key for s in view.stages] == ["locked", "locked", "locked"]


# --- obligation page and chart ---------------------------------------------------------------------


def test_obligation_page_explains_with_entries() -> None:
    page = build_obligation(AGREEMENT, "release-first", status("0309"), entries_until(MAR9), MAR9)
    assert page is not None
    assert page.state.key == "late"
    assert page.because == (4, 8)
    first = page.explanation[0]
    assert first.text == "Late: verified in full after the deadline, within the grace period."
    assert "Due 7 Mar 2026 08:00 UTC, with 12 h of grace until 7 Mar 2026 20:00 UTC" in page.explanation[3].text
    assert [c.entry.index for c in page.claims] == [4, 8]
    assert page.verifiers == "Red-Cross (quorum 1)"
    assert page.on_breach == ("suspends release-prisoners-first", "after 12 h of grace")
    assert build_obligation(AGREEMENT, "no-such-thing", status("0309"), [], MAR9) is None


def test_tranches_of_a_proportional_obligation() -> None:
    page = build_obligation(AGREEMENT, "release-prisoners-first", status("0309"), entries_until(MAR9), MAR9)
    assert page is not None
    rows = [(t.number, t.state.key if t.state else None, t.verified, t.required) for t in page.tranches]
    assert rows == [(1, "fulfilled", "120", "120"), (2, "breached", "0", "240")]


def test_rate_chart_geometry() -> None:
    page = build_obligation(AGREEMENT, "aid-trucks", status("0309"), entries_until(MAR9), MAR9)
    assert page is not None and page.chart is not None
    chart = page.chart
    assert [b.kind for b in chart.bars] == ["partial", "met", "short", "short", "short"]
    assert [b.label for b in chart.bars] == ["4 Mar", "5 Mar", "6 Mar", "7 Mar", "8 Mar"]
    # top of the scale = 1.1 × 610 = 671; the plot is 240 - 30 - 40 = 170 units high from y=30,
    # so 600 sits at 30 + 170·71/671 and the 610 bar is 170·610/671 high
    assert chart.required_y == pytest.approx(30 + 170 * (1 - 600 / 671), abs=0.01)
    tallest = chart.bars[1]
    assert tallest.height == pytest.approx(170 * 610 / 671, abs=0.01)
    assert chart.show_values and all(b.show_label for b in chart.bars)  # 5 bars: room for all words
    assert chart.bars[2].words == "6 Mar: 580 of 600 trucks — short"
    assert chart.summary == "5 periods, 4 assessed, 3 short of 600 trucks per period"
    assert build_chart((), 600, "trucks", "x") is None


# --- entries, filters, incidents -------------------------------------------------------------------


def test_entries_in_words_and_filters() -> None:
    views = read_entries(LINES, AGREEMENT)
    assert [v.type for v in views[:4]] == ["adopt", "adopt", "adopt", "evidence"]
    assert views[4].summary == "reports 4 persons for release-first, observed 5 Mar 2026 10:40 UTC"
    assert views[3].summary == "reports the action done for withdraw-line-a, observed 4 Mar 2026 07:30 UTC"
    assert [v.index for v in filter_entries(views, party="red-cross")] == [4, 6, 8]
    assert [v.index for v in filter_entries(views, obligation="aid-trucks")] == [5, 7]
    assert [v.index for v in filter_entries(views, kind="adopt", party="south")] == [1]
    assert adopters(views) == ["north", "south", "east"]


def _line(index: int, author: str, kind: str, body: dict[str, Any], at: str) -> dict[str, Any]:
    statement = {"type": kind, "agreement": AGREEMENT.hash, "author": author, "key": f"{author}-1",
                 "issued_at": at, "nonce": f"n{index}", "body": body}
    return {"index": index, "integrated_at": at, "statement": statement}


def test_incidents_keep_fact_and_finding_apart_and_order_sides_by_the_agreement() -> None:
    lines = [
        _line(0, "south", "incident", {"obligation": "ceasefire-north", "observed_at": "2026-03-06T06:00:00Z",
                                       "description": "Shots <b>fired</b>."}, "2026-03-06T07:00:00Z"),
        _line(1, "observers", "attest", {"entry": 0, "verdict": "confirm", "attribution": "unconfirmed"},
              "2026-03-06T08:00:00Z"),
        _line(2, "north", "incident", {"obligation": "ceasefire-south", "observed_at": "2026-03-06T06:00:00Z",
                                       "description": "Mortar fire."}, "2026-03-06T09:00:00Z"),
        _line(3, "observers", "attest", {"entry": 2, "verdict": "confirm", "attribution": "confirmed"},
              "2026-03-06T10:00:00Z"),
        _line(4, "south", "dispute", {"entry": 3, "reason": "Not our unit."}, "2026-03-06T11:00:00Z"),
        _line(5, "north", "dispute", {"entry": 0, "reason": "Nobody fired."}, "2026-03-06T12:00:00Z"),
        _line(6, "east", "ruling", {"dispute": 4, "decision": "rejected"}, "2026-03-06T13:00:00Z"),
    ]
    views = read_entries(lines, AGREEMENT)
    page = build_incidents(AGREEMENT, status("0305"), views)
    assert [c.entry.index for c in page.attributed] == [2]
    assert [c.entry.index for c in page.unattributed] == [0]
    assert page.attributed[0].accused == "South" and page.attributed[0].verification == "confirmed by Observers"
    assert page.unattributed[0].disputed and not page.attributed[0].disputed
    # the dispute of entry 3 is about ceasefire-south, through the attestation it contests
    assert views[4].obligation == "ceasefire-south"
    # columns follow the agreement's party order (north, south, …, observers), whoever disputes
    by_dispute = {d.dispute.index: [s.entry.author for s in d.sides] for d in page.disputes}
    assert by_dispute == {4: ["south", "observers"], 5: ["north", "south"]}
    outcome = {d.dispute.index: d.outcome for d in page.disputes}
    assert outcome[4] == "rejected: the disputed entry keeps counting"
    assert outcome[5] == "open: no ruling yet; the disputed entry keeps counting"


def test_unreadable_envelope_is_shown_not_hidden() -> None:
    bad = {"index": 0, "integrated_at": "2026-03-03T08:00:00Z", "envelope": {"payload": "!!", "payloadType": "x",
                                                                              "signatures": []}}
    views = read_entries([bad], AGREEMENT)
    assert views[0].type == "unreadable" and views[0].unreadable


# --- the log page -------------------------------------------------------------------------------------


def test_checkpoint_with_a_cosignature() -> None:
    log_key, _ = new_signer_key("log.example/northland", b"\x01" * 32)
    witness_key, _ = new_signer_key("witness.example", b"\x02" * 32)
    checkpoint = Checkpoint("log.example/northland", 9, bytes(range(32)))
    note = sign_checkpoint(checkpoint, log_key).decode() + cosign_checkpoint(checkpoint, witness_key, 1772900000)
    view = read_checkpoint(note)
    assert view is not None
    assert (view.origin, view.size, view.root_hex) == ("log.example/northland", 9, bytes(range(32)).hex())
    assert view.root_b64 == base64.b64encode(bytes(range(32))).decode()
    assert [(s.name, s.kind) for s in view.signatures] == [
        ("log.example/northland", "log signature"), ("witness.example", "cosignature")]
    # 1772900000 s after the epoch is 7 Mar 2026 16:13:20 UTC
    assert view.cosigners[0].cosigned_at == "7 Mar 2026 16:13 UTC"
    assert read_checkpoint("not a checkpoint") is None


def test_explanation_says_since_when_the_engine_gives_it() -> None:
    data = json.loads((DATA / "dashboard" / "status-northland-0309.json").read_text())
    data["obligations"]["release-first"]["since"] = "2026-03-07T15:20:00Z"  # entry 8 completed it
    page = build_obligation(AGREEMENT, "release-first", read_status(data), entries_until(MAR9), MAR9)
    assert page is not None
    assert page.explanation[0].text == (
        "Late since 7 Mar 2026 15:20 UTC: verified in full after the deadline, within the grace period.")
    # `since` of a fulfilled or late obligation is also when `{verified: …}` became true
    assert read_status(data).obligation("release-first").verified_at == datetime(2026, 3, 7, 15, 20, tzinfo=UTC)
