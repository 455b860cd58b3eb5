"""Properties of loading and hashing, for generated valid agreements:

- load → canonical JSON → load gives the same agreement and the same hash;
- load → model dump → load gives the same agreement;
- the hash does not change with key order, comments, blank lines, indentation or flow style;
- the hash changes when any text value changes.
"""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from interlock.agreement import load_agreement
from interlock.agreement.check import check_bytes, check_data
from interlock.canonical import canonical_json, document_hash

IDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8).map(lambda s: "x" + s)
TEXT = st.text(alphabet="abcdefghij ABC–é.,:#'\"", min_size=1, max_size=30)
DURATIONS = st.sampled_from(["90m", "72h", "1d", "42d", "2w", "P1D", "PT12H", "P1DT6H", "30s"])
TIMES = st.sampled_from(["2026-03-05T10:40:00Z", "2026-03-05", "2026-03-05T10:40:00+02:00", "2026-03-05 10:40"])


@st.composite
def conditions(
    draw: st.DrawFn, stages: list[str], obligations: list[str], own: str | None = None, depth: int = 0
) -> Any:
    """A condition over earlier stages and obligations (and the opening of `own`): no cycles."""
    forms = ["adopted", "at"] + (["opened", "stage_complete"] if stages else []) + (["own"] if own else [])
    forms += ["verified", "delivered", "breached"] if obligations else []
    forms += ["after", "all", "any"] if depth < 2 else []
    form = draw(st.sampled_from(forms))
    if form == "adopted":
        return "adopted"
    if form == "at":
        return {"at": draw(TIMES)}
    if form == "own":
        return {"opened": own}
    if form in ("opened", "stage_complete"):
        return {form: draw(st.sampled_from(stages))}
    if form in ("verified", "breached"):
        return {form: draw(st.sampled_from(obligations))}
    if form == "delivered":
        return {"delivered": draw(st.sampled_from(obligations)), "at_least": draw(st.integers(1, 3))}
    inner = conditions(stages, obligations, own, depth + 1)
    if form == "after":
        return {"after": draw(inner), "plus": draw(DURATIONS)}
    return {form: draw(st.lists(inner, min_size=1, max_size=3))}


@st.composite
def agreements(draw: st.DrawFn) -> dict[str, Any]:
    """A valid agreement document (JSON data): parties, stages, every kind of obligation."""
    parties = ["north", "south", *draw(st.lists(st.sampled_from(["east", "west"]), unique=True))]
    monitors = ["obs", *draw(st.lists(st.sampled_from(["icrc", "un"]), unique=True))]
    doc: dict[str, Any] = {
        "interlock": 1,
        "id": draw(IDS),
        "title": draw(TEXT),
        "timezone": draw(st.sampled_from(["UTC", "Asia/Jerusalem", "Africa/Cairo"])),
        "parties": [{"id": p, "name": p.title(), "role": "party"} for p in parties]
        + [{"id": m, "name": m.upper(), "role": "monitor"} for m in monitors],
    }
    if draw(st.booleans()):
        doc["max_report_delay"] = draw(DURATIONS)
    if draw(st.booleans()):
        doc["disputes"] = {"ruled_by": [monitors[0]], "quorum": 1}
    stages: list[str] = []
    obligations: list[str] = []
    delivers: list[str] = []
    doc["stages"] = []
    for s in range(draw(st.integers(1, 3))):
        sid = f"s{s + 1}"
        stage: dict[str, Any] = {"id": sid, "title": draw(TEXT)}
        if stages:
            stage["opens"] = draw(conditions(stages, obligations))
        obs = []
        for o in range(draw(st.integers(0, 3))):
            oid = f"{sid}-o{o + 1}"
            by, to = draw(st.permutations(parties))[:2]
            kind = draw(st.sampled_from(["deliver", "act", "rate", "refrain"]))
            ob: dict[str, Any] = {"id": oid, "kind": kind, "by": by, "to": to if draw(st.booleans()) else [to]}
            if draw(st.booleans()):
                ob["text"] = draw(TEXT)
            if draw(st.booleans()):
                ob["clause"] = draw(st.sampled_from(["1", "2a", 3]))
            timing = conditions(stages, obligations, sid)
            if kind == "deliver" and delivers and draw(st.booleans()):
                ob["quantity"] = {"per": draw(st.sampled_from(delivers)), "ratio": draw(st.integers(1, 50)),
                                  "unit": "persons"}
                ob["due"] = {"after_each": draw(DURATIONS)}
            elif kind == "deliver":
                ob["quantity"] = {"amount": draw(st.integers(1, 1000)), "unit": draw(st.sampled_from(["persons", "t"]))}
                ob["tranches"] = draw(st.integers(1, 5))
                ob["due"] = {"after": draw(timing), "plus": draw(DURATIONS)}
            elif kind == "act":
                ob["due"] = {"after": draw(timing), "plus": draw(DURATIONS)}
            else:
                ob["window"] = {"from": draw(timing)}
                if kind == "rate":
                    ob["quantity"] = {"amount": draw(st.floats(0.5, 900).map(lambda f: round(f, 2))),
                                      "unit": "trucks", "per_period": "1d"}
            if draw(st.booleans()):
                chosen = draw(st.lists(st.sampled_from(monitors), min_size=1, unique=True))
                ob["verify"] = {"by": chosen, "quorum": draw(st.integers(1, len(chosen)))}
            if draw(st.booleans()):
                ob["on_breach"] = {"notify": [draw(st.sampled_from(parties))], "grace": draw(DURATIONS)}
            obs.append(ob)
            obligations.append(oid)
            if kind == "deliver":
                delivers.append(oid)
        stage["obligations"] = obs
        doc["stages"].append(stage)
        stages.append(sid)
    return doc


def to_yaml(value: Any, rnd: random.Random) -> str:
    """Block YAML with shuffled keys, random comments, blank lines, indents and flow parts."""
    lines: list[str] = [f"# {rnd.choice(['draft', 'interlock: 2', 'stages: []'])}"]
    step = rnd.choice([2, 4])

    def scalar(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False)

    def emit(v: Any, pad: int) -> None:
        items = list(v.items()) if isinstance(v, dict) else list(enumerate(v))
        if isinstance(v, dict):
            rnd.shuffle(items)
        for key, item in items:
            if rnd.random() < 0.15:
                lines.append(" " * rnd.randint(0, pad) + "# a comment: with {braces} and - dashes")
            if rnd.random() < 0.1:
                lines.append("")
            lead = " " * pad + (f"{key}:" if isinstance(v, dict) else "-")
            if not isinstance(item, dict | list) or not item or rnd.random() < 0.2:
                tail = "  # trailing" if rnd.random() < 0.2 else ""
                lines.append(f"{lead} {scalar(item)}{tail}")
            else:
                lines.append(lead)
                emit(item, pad + step)

    emit(value, 0)
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None)
@given(agreements(), st.randoms(use_true_random=False))
def test_generated_agreements_are_valid_and_round_trip(doc: dict[str, Any], rnd: random.Random) -> None:
    text = to_yaml(doc, rnd)
    report = check_bytes(text.encode())
    assert report.errors == [], text
    first = report.agreement
    assert first is not None
    assert first.hash == document_hash(doc)
    again = load_agreement(canonical_json(doc))
    assert again.hash == first.hash
    assert again.model_dump() == first.model_dump()
    dumped = first.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert load_agreement(json.dumps(dumped)).model_dump() == first.model_dump()


@settings(max_examples=60, deadline=None)
@given(agreements(), st.randoms(use_true_random=False), st.randoms(use_true_random=False))
def test_hash_ignores_layout_and_key_order(doc: dict[str, Any], one: random.Random, two: random.Random) -> None:
    first = check_bytes(to_yaml(doc, one).encode())
    second = check_bytes(to_yaml(doc, two).encode())
    assert first.hash == second.hash == document_hash(doc)
    assert check_bytes(json.dumps(doc).encode()).hash == first.hash


def _text_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _text_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _text_paths(v, (*path, i))]
    return [path] if isinstance(value, str) else []


@settings(max_examples=60, deadline=None)
@given(agreements(), st.data())
def test_hash_changes_when_a_value_changes(doc: dict[str, Any], data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_text_paths(doc)))
    changed = json.loads(json.dumps(doc))
    holder = changed
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] += "x"
    before, after = check_data(doc).hash, check_data(changed).hash
    assert before is not None and after is not None
    assert before != after
