"""Neutrality of the overview with unequal sides: swap the sides everywhere and the page is the
mirror image.

The agreement is tests/test_engine_properties.py's symmetric one (sides `a` and `b` owe each
other the same things; `m1`, `m2` verify; `g` guarantees).  Hypothesis picks, independently for
each side, what happened to its stage-1 obligations — its delivery (`give`, 4 persons due 48 h
after adoption with 6 h of grace) in full on time, in full within the grace, in part or not at
all; its act (quorum 2) verified by both monitors, by one or by none; its prohibition (`calm`)
kept or violated — so the two sides' states differ (examples where they would be equal are
discarded).  The mirror log is the same log with `a` and `b` swapped in the agreement and in
every statement (that file's `build_log(..., mirror=True)`).  The overview of the mirror must be
the mirror image of the overview: the same elements and classes (so colours) in the same
places — the mirror agreement lists the sides' obligations in swapped order, so place i holds
the counterpart of place i — and each obligation's card (state, tone, progress, deadline and
flag words) equal to its counterpart's card.

What mirroring cannot see: a preference for whichever side the agreement lists first (the
mirror lists `b` first, so such a bias is mirrored too); parties keep their listed order by
design (docs/dashboard.md, "Neutrality").  A preference for a side by its id is what fails here.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from test_dashboard_pages import symmetric_overview
from test_engine_properties import rename

GIVE = ("full", "late", "partial", "none")
ACT = ("both", "one", "none")
CALM = ("kept", "violated")
Fates = tuple[str, str, str]  # (give, act, calm) of one side

# Minutes after the adoptions (the last at START + 15 min, so `adopted` is that moment):
# the act is due at +24 h, the delivery at +48 h with grace to +54 h.
ADOPTED_PLUS = {"act": 20 * 60, "give": 40 * 60, "late": 50 * 60, "calm": 10 * 60}


def events(side: str, fates: Fates) -> list[tuple[int, str, str, str, int, str | None]]:
    """(minutes after adoption, type, author, obligation, units, attests-the-event-of) for one
    side's fates; every report is logged 10 min after it was observed."""
    give, act, calm = fates
    out: list[tuple[int, str, str, str, int, str | None]] = []
    if give != "none":
        at = ADOPTED_PLUS["late" if give == "late" else "give"]
        out.append((at, "evidence", "m1", f"{side}-give", 2 if give == "partial" else 4, None))
    if act != "none":
        out.append((ADOPTED_PLUS["act"], "evidence", "m1", f"{side}-act", 1, None))
        if act == "both":
            out.append((ADOPTED_PLUS["act"] + 5, "attest", "m2", f"{side}-act", 1, f"{side}-act"))
    if calm == "violated":
        out.append((ADOPTED_PLUS["calm"], "incident", "m2", f"{side}-calm", 1, None))
    return out


def steps_for(a: Fates, b: Fates, a_first: bool) -> list[tuple[Any, ...]]:
    """`build_log` steps (see test_engine_properties.step_strategy) for both sides' events in
    time order; at equal times side `a`'s event comes first when `a_first`."""
    tagged = [(e[0], 0 if a_first else 1, e) for e in events("a", a)]
    tagged += [(e[0], 1 if a_first else 0, e) for e in events("b", b)]
    tagged.sort(key=lambda x: (x[0], x[1]))
    steps: list[tuple[Any, ...]] = []
    clock, index = 0, 3  # three adoptions come first
    where: dict[str, int] = {}
    for at, _, (_, kind, author, ob, units, attests) in tagged:
        back = index - where[attests] if attests else 1
        steps.append((at - clock, kind, author, ob, units, 10, back, "confirm", None))
        where.setdefault(ob, index)
        clock, index = at, index + 1
    return steps


def overview(steps: list[tuple[Any, ...]], mirror: bool) -> str:
    return symmetric_overview(mirror, steps)[1]


def classes(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<(\w+)[^>]*class="([^"]*)"', html)


OB_ID = re.compile(r"\b([ab])-(give|calm|act|answer|rate)\b")


def swap_ids(text: str) -> str:
    """`text` with every obligation id of one side written as its counterpart's."""
    return OB_ID.sub(lambda m: f"{'b' if m.group(1) == 'a' else 'a'}-{m.group(2)}", text)


def cards(html: str) -> dict[str, str]:
    """Each obligation's card by id, without its debtor/creditor line (names are checked apart)."""
    found = re.findall(r'(<li class="ob [^"]*" id="ob-([^"]+)".*?</li>\s*(?=<li class="ob |</ul>))', html, re.S)
    return {oid: re.sub(r'<p class="who">.*?</p>', "", card, flags=re.S) for card, oid in found}


def states(html: str, attr: str) -> dict[str, str]:
    return dict(re.findall(rf'data-{attr}="([^"]+)" data-state="([^"]+)"', html))


sides = st.tuples(st.sampled_from(GIVE), st.sampled_from(ACT), st.sampled_from(CALM))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sides, sides, st.booleans())
def test_the_overview_of_the_mirrored_log_is_the_mirror_image(a: Fates, b: Fates, a_first: bool) -> None:
    assume(a != b)
    steps = steps_for(a, b, a_first)
    html = overview(steps, False)
    shown, original = states(html, "obligation"), cards(html)
    assert len(shown) == 10  # every obligation of both sides has its card
    # only logs whose sides' pages differ: some card is not its counterpart's card
    assume(any(swap_ids(original[oid]) != original[rename(oid)] for oid in original))
    mirror_html = overview(steps, True)

    # each obligation shows, in the mirror, exactly its counterpart's state …
    assert states(mirror_html, "obligation") == rename(shown)
    assert states(mirror_html, "stage") == states(html, "stage")
    # … in the mirrored place: the same elements and classes (so colours) in the same order
    assert classes(mirror_html) == classes(html)
    # … with the same words: the mirror's card for X's counterpart is X's card, ids swapped
    mirrored = cards(mirror_html)
    assert set(original) == set(shown) and set(mirrored) == set(rename(list(shown)))
    for oid, card in original.items():
        assert mirrored[rename(oid)] == swap_ids(card), oid
    # the debtor/creditor line is the counterpart's with the names swapped
    who = dict(re.findall(r'id="ob-([^"]+)".*?<p class="who">By (\w+)', html, re.S))
    mirror_who = dict(re.findall(r'id="ob-([^"]+)".*?<p class="who">By (\w+)', mirror_html, re.S))
    assert {rename(k): v for k, v in who.items()} == {k: rename(v.lower()).upper() for k, v in mirror_who.items()}


def test_the_fates_reach_the_states_worked_by_hand() -> None:
    """One example by hand: a delivers in full on time, its act verified by both monitors, keeps
    calm; b delivers in part, one monitor only for its act (quorum 2), violates calm.  Two days
    after the last entry: a-give fulfilled, a-act fulfilled, a-calm active; b-give breached (2 of
    4 by +48 h, grace over at +54 h), b-act breached (due +24 h, one backing of two), b-calm
    breached; stage 1 breached."""
    steps = steps_for(("full", "both", "kept"), ("partial", "one", "violated"), True)
    html = overview(steps, False)
    shown = states(html, "obligation")
    assert {k: shown[k] for k in ("a-give", "a-act", "a-calm", "b-give", "b-act", "b-calm")} == {
        "a-give": "fulfilled", "a-act": "fulfilled", "a-calm": "active",
        "b-give": "breached", "b-act": "breached", "b-calm": "breached",
    }
    assert states(html, "stage")["s1"] == "breached"
    mirror = states(overview(steps, True), "obligation")
    assert {k: mirror[k] for k in ("b-give", "b-act", "b-calm", "a-give", "a-act", "a-calm")} == {
        "b-give": "fulfilled", "b-act": "fulfilled", "b-calm": "active",
        "a-give": "breached", "a-act": "breached", "a-calm": "breached",
    }
