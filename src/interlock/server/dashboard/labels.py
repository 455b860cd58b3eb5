"""Words and symbols for states and flags.  Every colour on the dashboard comes with one of
these text labels and a shape, so no state is told by colour alone, and colours belong to
states — never to parties.  Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StateLabel:
    key: str
    text: str
    symbol: str  # a shape that differs per state, for readers who cannot tell the colours apart
    tone: str  # CSS class suffix: neutral, progress, good, warn, bad, muted
    meaning: str


OBLIGATION_STATES: dict[str, StateLabel] = {
    s.key: s
    for s in (
        StateLabel("pending", "Pending", "○", "muted", "not started: its stage has not opened yet"),
        StateLabel("active", "Active", "◔", "progress", "running: the deadline has not passed"),
        StateLabel("fulfilled", "Fulfilled", "●", "good", "verified in full by its deadline"),
        StateLabel("late", "Late", "◕", "warn", "verified in full after the deadline, within the grace period"),
        StateLabel("breached", "Breached", "✕", "bad", "not met by the deadline and grace, or violated"),
        StateLabel("suspended", "Suspended", "‖", "warn", "suspended as a consequence of another obligation's breach"),
        StateLabel("waived", "Waived", "–", "muted", "released by its creditor"),
    )
}

STAGE_STATES: dict[str, StateLabel] = {
    s.key: s
    for s in (
        StateLabel("locked", "Locked", "▢", "muted", "waiting for its opening condition"),
        StateLabel("open", "Open", "◔", "progress", "open: its obligations are running"),
        StateLabel("complete", "Complete", "●", "good", "every blocking obligation is fulfilled, late or waived"),
        StateLabel("breached", "Breached", "✕", "bad", "an obligation of this stage is breached"),
    )
}

FLAGS: dict[str, str] = {
    "disputed": "Disputed — a party contests an entry this rests on",
    "contested": "Contested — a verifier rejected a claim; it does not count until a ruling",
    "late_report": "Late report — evidence logged long after it was observed, or dated after it was logged",
    "impeded": "Impeded — a monitor reports it was kept from verifying",
    "unilateral": "Unilateral suspension — the debtor announced it withholds this; deadlines keep running",
    "too_many_tranches": "More claims than the agreed number of tranches",
    "simulation": "Simulation — unsigned what-if entries",
}

KINDS: dict[str, str] = {
    "deliver": "Delivery of a quantity",
    "act": "One action",
    "rate": "A rate per period",
    "refrain": "A prohibition",
}

ENTRY_TYPES: dict[str, str] = {
    "adopt": "Adoption",
    "declare": "Declaration",
    "evidence": "Evidence",
    "attest": "Attestation",
    "incident": "Incident",
    "impediment": "Impediment",
    "suspend": "Suspension",
    "dispute": "Dispute",
    "ruling": "Ruling",
    "extend": "Extension",
    "waive": "Waiver",
    "amend": "Amendment",
    "note": "Note",
}


def obligation_state(key: str) -> StateLabel:
    return OBLIGATION_STATES.get(key) or StateLabel(key, key.capitalize(), "?", "neutral", key)


def stage_state(key: str) -> StateLabel:
    return STAGE_STATES.get(key) or StateLabel(key, key.capitalize(), "?", "neutral", key)


def flag_text(flag: str) -> str:
    return FLAGS.get(flag, flag.replace("_", " ").capitalize())
