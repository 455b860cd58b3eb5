#!/usr/bin/env python3
"""Regenerate examples/northland-southland.entries.jsonl: a signed demo log for the example.

Deterministic: demo key seeds SHA-256(b"demo:" + key id) (public, never for real use), fixed
nonces, fixed times, and Ed25519 signatures (deterministic by construction), so running it
twice gives the same bytes.  Each statement goes through the same checks as `interlock sign`
(statement model, registered key, known obligation).  The story it tells is described in
docs/demo-scenario.md.

    .venv/bin/python scripts/make_demo_entries.py           # rewrite the entries file
    .venv/bin/python scripts/make_demo_entries.py --check   # exit 1 if the file is stale
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from interlock.agreement import Agreement, load_agreement
from interlock.cli.keys import build_statement
from interlock.statements import Entry, dump_entries, sign_statement
from interlock.timeutil import parse_timestamp

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = ROOT / "examples" / "northland-southland.yaml"
ENTRIES = ROOT / "examples" / "northland-southland.entries.jsonl"
SIGNING_DELAY = timedelta(minutes=2)  # each statement is signed two minutes before the log takes it


def demo_seed(key_id: str) -> bytes:
    """The public demo seed of a key: SHA-256(b"demo:" + key id).  Never use it for real."""
    return hashlib.sha256(b"demo:" + key_id.encode()).digest()


def document(name: str) -> dict[str, str]:
    """An attachment reference: the SHA-256 of a (fictional) document kept off the log."""
    return {"sha256": hashlib.sha256(b"interlock demo document: " + name.encode()).hexdigest(), "name": name}


@dataclass(frozen=True)
class Step:
    integrated_at: str
    author: str
    type: str
    body: dict[str, Any]


def aid(day: int, trucks: int, *, reported: str | None = None) -> Step:
    """The observers' daily count of aid trucks for 2026-03-DAY, observed at 15:00.

    Reported after midnight by default; `reported` overrides when the report came late.
    """
    observed = f"2026-03-{day:02d}T15:00:00Z"
    next_day = datetime.fromisoformat(observed.replace("Z", "+00:00")).date() + timedelta(days=1)
    return Step(
        reported or f"{next_day.isoformat()}T00:20:00Z",
        "observers",
        "evidence",
        {"obligation": "aid-trucks", "units": trucks, "observed_at": observed, "place": "Crossings C and D"},
    )


def story() -> list[Step]:
    """The scenario, in log order.  Comments give the log index and what it shows."""
    s: list[Step] = []
    add = s.append
    # 0–3 adoption by the four required signers: adopted at 3 March 09:00, stage s1 opens
    for when, who in (("08:00", "north"), ("08:10", "south"), ("08:40", "east"), ("09:00", "west")):
        add(Step(f"2026-03-03T{when}:00Z", who, "adopt", {}))
    # 4 the mediator's note (no effect on status)
    add(Step("2026-03-03T09:05:00Z", "lakeside", "note",
             {"text": "Adopted by all four signatories. Stage 1 is open; counts are due by 5 March 09:00."}))
    # 5–6 a debtor's declaration confirmed by the verifier (declare + attest)
    add(Step("2026-03-03T18:20:00Z", "north", "declare",
             {"obligation": "count-north", "observed_at": "2026-03-03T18:00:00Z", "place": "Lakeside",
              "attachments": [document("count-north.pdf")]}))
    add(Step("2026-03-03T19:00:00Z", "handover", "attest", {"entry": 5, "verdict": "confirm"}))
    # 7–8 a quorum of two monitors: observers report, the survey unit confirms → s2 opens
    add(Step("2026-03-04T08:00:00Z", "observers", "evidence",
             {"obligation": "withdraw-line-a", "observed_at": "2026-03-04T07:30:00Z", "place": "Line A, sectors 1-6"}))
    add(Step("2026-03-04T10:00:00Z", "survey", "attest",
             {"entry": 7, "verdict": "confirm", "note": "Aerial survey of sectors 1-6 at 09:10 matches."}))
    # 9 the other count, reported directly by the verifier
    add(Step("2026-03-04T12:30:00Z", "handover", "evidence",
             {"obligation": "count-south", "observed_at": "2026-03-04T12:00:00Z", "place": "Lakeside",
              "attachments": [document("count-south.pdf")]}))
    # 10 aid on the partial first day (reported, not assessed)
    add(aid(4, 240))
    # 11 an incident without attribution
    add(Step("2026-03-05T03:10:00Z", "observers", "incident",
             {"observed_at": "2026-03-05T02:30:00Z", "place": "Ridge Road",
              "description": "Two explosions heard east of Ridge Road; origin not established."}))
    # 12 first handover: 4 civilians → 120 owed within 24h of verification
    add(Step("2026-03-05T11:00:00Z", "handover", "evidence",
             {"obligation": "release-first", "categories": {"civilian": 4}, "observed_at": "2026-03-05T10:40:00Z",
              "place": "Crossing B", "attachments": [document("handover-form-1.pdf")]}))
    add(aid(5, 620))  # 13
    # 14 the first answering group, on time
    add(Step("2026-03-06T09:30:00Z", "handover", "evidence",
             {"obligation": "release-prisoners-first", "units": 120, "observed_at": "2026-03-06T09:00:00Z",
              "place": "Crossing B", "attachments": [document("handover-form-2.pdf")]}))
    # 15–16 an incident naming an obligation; confirmed as a fact, attribution unconfirmed
    add(Step("2026-03-06T11:00:00Z", "north", "incident",
             {"obligation": "ceasefire-south", "observed_at": "2026-03-06T06:15:00Z", "place": "Millbrook",
              "description": "Mortar fire on the outskirts of Millbrook from the south."}))
    add(Step("2026-03-06T13:00:00Z", "observers", "attest",
             {"entry": 15, "verdict": "confirm", "attribution": "unconfirmed",
              "note": "Impacts confirmed; the firing position could not be established."}))
    # 17 second handover: 3 civilians and 1 soldier → 140 owed; talks may start (8 ≥ 6)
    add(Step("2026-03-06T14:10:00Z", "handover", "evidence",
             {"obligation": "release-first", "categories": {"civilian": 3, "soldier": 1},
              "observed_at": "2026-03-06T13:40:00Z", "place": "Crossing B",
              "attachments": [document("handover-form-3.pdf")]}))
    add(aid(6, 605))  # 18
    # 19–20 an incident with confirmed attribution: a breach of a refrain obligation
    add(Step("2026-03-07T06:00:00Z", "south", "incident",
             {"obligation": "ceasefire-north", "observed_at": "2026-03-07T04:50:00Z", "place": "Harbour road",
              "description": "Shots fired at a patrol from a position north of the harbour road."}))
    add(Step("2026-03-07T09:00:00Z", "observers", "attest",
             {"entry": 19, "verdict": "confirm", "attribution": "confirmed",
              "note": "Firing position and direction confirmed on site."}))
    # 21 the second answering group, 40 minutes after its deadline (within the 90m grace)
    add(Step("2026-03-07T16:00:00Z", "handover", "evidence",
             {"obligation": "release-prisoners-first", "units": 140, "observed_at": "2026-03-07T14:50:00Z",
              "place": "Crossing B", "attachments": [document("handover-form-4.pdf")]}))
    # 22 a unilateral suspension citing the other side's late delivery
    add(Step("2026-03-07T17:30:00Z", "north", "suspend",
             {"obligation": "release-first", "cites": [21],
              "reason": "The second group was freed after its deadline; the third handover is withheld."}))
    # 23 a guarantor's note
    add(Step("2026-03-07T18:30:00Z", "east", "note",
             {"text": "The guarantors ask that the third handover take place today, within the grace period."}))
    # 24 third handover, after the deadline but within the 12h grace → late; 160 owed
    add(Step("2026-03-07T21:00:00Z", "handover", "evidence",
             {"obligation": "release-first", "categories": {"civilian": 2, "soldier": 2},
              "observed_at": "2026-03-07T20:40:00Z", "place": "Crossing B",
              "attachments": [document("handover-form-5.pdf")]}))
    add(aid(7, 640))  # 25
    # 26 the third answering group, on time
    add(Step("2026-03-08T19:10:00Z", "handover", "evidence",
             {"obligation": "release-prisoners-first", "units": 160, "observed_at": "2026-03-08T18:45:00Z",
              "place": "Crossing B", "attachments": [document("handover-form-6.pdf")]}))
    add(aid(8, 610))  # 27
    add(aid(9, 612))  # 28
    # 29 a party disputes a monitor's count
    add(Step("2026-03-10T08:00:00Z", "north", "dispute",
             {"entry": 28, "reason": "The count includes trucks turned back at the crossing without unloading."}))
    # 30–32 talks: one declared by the debtor and confirmed, one reported by the monitor
    add(Step("2026-03-10T12:00:00Z", "south", "declare",
             {"obligation": "talks-south", "observed_at": "2026-03-10T10:00:00Z", "place": "Lakeside"}))
    add(Step("2026-03-10T12:30:00Z", "observers", "evidence",
             {"obligation": "talks-north", "observed_at": "2026-03-10T10:00:00Z", "place": "Lakeside"}))
    add(Step("2026-03-10T12:35:00Z", "observers", "attest", {"entry": 30, "verdict": "confirm"}))
    add(aid(10, 630))  # 33
    # 34, 36 the two guarantors rule on the dispute (quorum 2): rejected, the count stands
    add(Step("2026-03-11T10:00:00Z", "east", "ruling", {"dispute": 29, "decision": "rejected"}))
    add(aid(11, 615))  # 35
    add(Step("2026-03-12T16:00:00Z", "west", "ruling", {"dispute": 29, "decision": "rejected"}))
    # 37 a late report: observed 12 March 15:00, logged 27.5 hours later
    add(aid(12, 608, reported="2026-03-13T18:30:00Z"))
    for day, trucks in zip(range(13, 18), (625, 601, 633, 650, 618), strict=True):  # 38–42
        add(aid(day, trucks))
    # 43 stage s3 opens on 18 March 10:00 (14 days after s2 opened)
    add(Step("2026-03-18T10:05:00Z", "lakeside", "note",
             {"text": "Stage 3 is open; the withdrawal behind line B is due by 25 March 10:00."}))
    for day, trucks in zip(range(18, 23), (640, 612, 607, 622, 615), strict=True):  # 44–48
        add(aid(day, trucks))
    # 49 a monitor kept from verifying
    add(Step("2026-03-23T09:00:00Z", "survey", "impediment",
             {"obligation": "withdraw-line-b", "observed_at": "2026-03-23T07:00:00Z", "place": "Sector 4",
              "description": "The survey flight over sector 4 was refused clearance."}))
    add(aid(23, 630))  # 50
    # 51 the creditor extends the deadline by two days
    add(Step("2026-03-24T11:00:00Z", "north", "extend",
             {"obligation": "withdraw-line-b", "due": "2026-03-27T10:00:00Z"}))
    add(aid(24, 611))  # 52
    add(aid(25, 604))  # 53
    # 54–55 withdrawal behind line B, confirmed by both monitors (within the extension)
    add(Step("2026-03-26T08:00:00Z", "observers", "evidence",
             {"obligation": "withdraw-line-b", "observed_at": "2026-03-26T06:00:00Z", "place": "Line B"}))
    add(Step("2026-03-26T11:00:00Z", "survey", "attest",
             {"entry": 54, "verdict": "confirm", "note": "Survey flight over line B at 10:15 matches."}))
    add(aid(26, 645))  # 56
    # 57 second exchange, first handover: 5 persons → 150 owed within 36h
    add(Step("2026-03-27T12:00:00Z", "handover", "evidence",
             {"obligation": "release-second", "units": 5, "observed_at": "2026-03-27T11:30:00Z",
              "place": "Crossing B", "attachments": [document("handover-form-7.pdf")]}))
    add(aid(27, 620))  # 58
    add(Step("2026-03-28T18:00:00Z", "handover", "evidence",  # 59
             {"obligation": "release-prisoners-second", "units": 150, "observed_at": "2026-03-28T17:00:00Z",
              "place": "Crossing B", "attachments": [document("handover-form-8.pdf")]}))
    add(aid(28, 609))  # 60
    add(Step("2026-03-29T09:00:00Z", "handover", "evidence",  # 61: 8/8 → 90 owed
             {"obligation": "release-second", "units": 3, "observed_at": "2026-03-29T08:30:00Z",
              "place": "Crossing B", "attachments": [document("handover-form-9.pdf")]}))
    add(aid(29, 612))  # 62
    # 63 the last answering group: stage s3 complete, the aid window closes, s4 opens
    add(Step("2026-03-30T12:00:00Z", "handover", "evidence",
             {"obligation": "release-prisoners-second", "units": 90, "observed_at": "2026-03-30T11:00:00Z",
              "place": "Crossing B", "attachments": [document("handover-form-10.pdf")]}))
    # 64–65 the review convened by the mediator, reported by the observers
    add(Step("2026-04-01T15:00:00Z", "observers", "evidence",
             {"obligation": "review", "observed_at": "2026-04-01T10:00:00Z", "place": "Lakeside"}))
    add(Step("2026-04-01T15:30:00Z", "lakeside", "note",
             {"text": "Review held with both delegations and both guarantors; minutes kept off the log."}))
    return s


def build(agreement: Agreement) -> list[Entry]:
    """Sign every step of the story with its author's demo key; refuse a step `sign` would refuse."""
    entries: list[Entry] = []
    for index, step in enumerate(story()):
        key_id = f"{step.author}-1"
        integrated = parse_timestamp(step.integrated_at)
        seed = demo_seed(key_id)
        statement = build_statement(
            agreement,
            statement_type=step.type,
            body=step.body,
            key_id=key_id,
            seed=seed,
            author=step.author,
            issued_at=integrated - SIGNING_DELAY,
            nonce=f"demo-{index:04d}",
        )
        if entries and integrated < entries[-1].integrated_at:
            raise SystemExit(f"step {index}: integrated_at goes back in time")
        entries.append(Entry(index, integrated, envelope=sign_statement(statement, key_id, seed)))
    return entries


def render() -> str:
    return dump_entries(build(load_agreement(AGREEMENT.read_bytes())))


def main(argv: list[str]) -> int:
    text = render()
    if argv[1:] == ["--check"]:
        if ENTRIES.read_text() != text:
            print(f"{ENTRIES} is stale: run scripts/make_demo_entries.py", file=sys.stderr)
            return 1
        return 0
    ENTRIES.write_text(text)
    print(f"wrote {ENTRIES.relative_to(ROOT)} ({text.count(chr(10))} entries)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
