"""Warnings a careful mediator would give on each obligation, stage and party.

- `no-deadline`: a deliver or act obligation without `due`, a rate or refrain without `window`.
- `no-verifier`: nobody verifies the obligation, so it can never count as done.
- `no-consequence`: nothing follows a breach (no `on_breach` with `suspend` or `notify`).
- `no-unit`: a deliver or rate quantity that does not say what it counts.
- `no-quantity`: a deliver or rate obligation that does not say how many units.
- `empty-stage`: a stage without obligations.
- `idle-party`: a participant of role `party` who owes nothing, or is owed nothing.
- `vague-text`: the text uses words nobody can measure (`VAGUE_MARKERS`) while the obligation
  lacks a quantity or a deadline that would make it measurable anyway.
Pure.
"""

from __future__ import annotations

import re

from interlock.agreement.findings import Sink
from interlock.agreement.model import Agreement, Obligation
from interlock.agreement.refs import obligations_with_paths
from interlock.agreement.yamlsource import Path

# Each a regular expression matched case-insensitively on word boundaries.  The first five
# are the issue's; "reduce"/"reduction" and "credible" come from the public terms in
# shared/reference (e.g. "gradual reduction", "credible pathway"); the rest are the usual
# drafting words that promise without measuring.
VAGUE_MARKERS: tuple[str, ...] = (
    r"as appropriate",
    r"significant(ly)?",
    r"reasonabl[ey]",
    r"gradual(ly)?",
    r"as soon as (possible|practicable|feasible)",
    r"reduc(e|es|ed|ing|tion)",
    r"credible",
    r"adequate(ly)?",
    r"sufficient(ly)?",
    r"substantial(ly)?",
    r"prompt(ly)?",
    r"(where|when|as far as) (possible|feasible|practicable)",
    r"in due course",
    r"best efforts?",
)
_VAGUE = re.compile(r"\b(" + "|".join(VAGUE_MARKERS) + r")\b", re.IGNORECASE)


def vague_words(text: str) -> list[str]:
    """The vague phrases in `text`, as written, in order (without repeats)."""
    return list(dict.fromkeys(m.group(0) for m in _VAGUE.finditer(text)))


def has_amount(ob: Obligation) -> bool:
    """Whether a deliver or rate obligation says how many units: amount, categories, or `per`."""
    q = ob.quantity
    if q is None:
        return False
    if ob.kind == "rate":
        return q.amount is not None
    return q.amount is not None or q.categories is not None or q.per is not None


def has_deadline(ob: Obligation) -> bool:
    """A deliver or act obligation has a `due`; a rate or refrain has a `window`."""
    return (ob.due is not None) if ob.kind in ("deliver", "act") else (ob.window is not None)


def check_advice(agreement: Agreement, sink: Sink) -> None:
    for path, ob in obligations_with_paths(agreement):
        _obligation(ob, path, sink)
    for i, stage in enumerate(agreement.stages):
        if not stage.obligations:
            sink.warning("empty-stage", f"stage `{stage.id}` has no obligations", ("stages", i, "id"))
    _idle(agreement, sink)


def _obligation(ob: Obligation, path: Path, sink: Sink) -> None:
    if not has_deadline(ob):
        missing = "deadline (`due`)" if ob.kind in ("deliver", "act") else "`window`"
        sink.warning("no-deadline", f"`{ob.id}` has no {missing}: nobody can say it is late", path)
    if ob.verify is None:
        message = f"nobody verifies `{ob.id}`: add `verify: {{by: [a monitor]}}`"
        sink.warning("no-verifier", message, path)
    breach = ob.on_breach
    if breach is None or not (breach.suspend or breach.notify):
        where = (*path, "on_breach") if breach is not None else path
        message = f"nothing follows if `{ob.id}` is breached: add `on_breach` with `suspend` or `notify`"
        sink.warning("no-consequence", message, where)
    q = ob.quantity
    if q is not None and ob.kind in ("deliver", "rate") and q.unit is None:
        message = f"the quantity of `{ob.id}` does not say what it counts (`unit`)"
        sink.warning("no-unit", message, (*path, "quantity"))
    # act and refrain obligations are measured by being done / not done: no quantity to lack
    lacks_quantity = ob.kind in ("deliver", "rate") and not has_amount(ob)
    if lacks_quantity:
        message = f"`{ob.id}` does not say how many units it owes, so it is never complete"
        if ob.kind == "rate":
            message = f"`{ob.id}` does not say how many units each period needs, so none falls short"
        sink.warning("no-quantity", message, (*path, "quantity") if q is not None else path)
    lacks_deadline = not has_deadline(ob)
    if ob.text and (lacks_quantity or lacks_deadline):
        words = vague_words(ob.text)
        if words:
            lacking = (("a quantity", lacks_quantity), ("a deadline", lacks_deadline))
            lacks = " and ".join(part for part, missing in lacking if missing)
            quoted = ", ".join(f'"{w}"' for w in words)
            message = f"`{ob.id}` says {quoted}, which nobody can measure, and lacks {lacks}"
            sink.warning("vague-text", message, (*path, "text"))


def _idle(agreement: Agreement, sink: Sink) -> None:
    owes = {ob.by for _, ob in agreement.obligations()}
    owed = {creditor for _, ob in agreement.obligations() for creditor in ob.to}
    for k, party in enumerate(agreement.parties):
        if party.role != "party":
            continue
        path: Path = ("parties", k, "id")
        if party.id not in owes:
            sink.warning("idle-party", f"party `{party.id}` owes nothing under this agreement", path)
        if party.id not in owed:
            sink.warning("idle-party", f"party `{party.id}` is owed nothing under this agreement", path)
