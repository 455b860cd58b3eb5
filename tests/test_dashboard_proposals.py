"""Amendments proposed but not in force are shown on every agreement page, the same way for
every party; the layout stays the version in force.

The whole server (API and dashboard) over a real SQLite store.  The agreement is the
conformance world's (tests/data/northland, version V1, required signers north, south, east —
`adoption.requires` — listed as parties in that order, named North, South, East).  V2 and V3
are V1 with another title.

    0-2  adoptions by north (08:00), south (08:10), east (09:00) on 3 March 2026
    3    south signs `amend` to V3 under V1, 11:00
    4-6  north (12:00), east (12:30), south (13:00) sign `amend` to V2 under V1: every required
         signer has signed V2 at entry 6, so V2 is in force from 13:00 and the proposal of V3
         (signed only by south) is dropped
    7    east signs `amend` to V3 under V2, 14:00 — a new proposal; south's entry 3 does not
         count for it (it signed under V1 and was dropped)
    8    north signs `amend` to V3 under V2, 14:30 (after east, listed before it)

Worked by hand:
- as of 11:30: V1 laid out; pending V3 (proposed by South at entry 3, 11:00), signed by South
  (entry 3), not yet by North, East.
- as of 12:45: V1 laid out, no amendment notice; pending V3 as above, then V2 (proposed by
  North at entry 4, 12:00), signed by North (entry 4), East (entry 5), not yet by South.
- as of 13:30: V2 laid out with the amendment notice (entry 6); nothing pending.
- as of 14:15: V2 laid out with the notice; pending V3 (proposed by East at entry 7, 14:00),
  signed by East (entry 7), not yet by North, South — required signers of V2, the same three.
- now (15:00): the same proposal signed by North (entry 8), East (entry 7) — party order, not
  signing order — not yet by South.

The mirror log swaps north and south in every entry: each proposal's text is the original's
with the two names (and ids) swapped, since they sit next to each other in the party list.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from interlock.agreement import load_agreement
from interlock.server.dashboard.replay import ScenarioClock
from interlock.timeutil import format_timestamp
from serverkit import AGREEMENT, AGREEMENT_ID, logged_app, signed

V1 = AGREEMENT.decode()
T1 = "Northland–Southland exchange and withdrawal"
T2, T3 = f"{T1}, as amended", f"{T1}, revised"
V2, V3 = V1.replace(f"title: {T1}", f"title: {T2}"), V1.replace(f"title: {T1}", f"title: {T3}")
H1, H2, H3 = (load_agreement(v.encode()).hash for v in (V1, V2, V3))
D2, D3 = yaml.safe_load(V2), yaml.safe_load(V3)
PAGE = f"/agreements/{AGREEMENT_ID}"
NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 3, hour, minute, tzinfo=UTC)


def log(first: str, second: str) -> list[tuple[datetime, str, str, dict[str, Any], str]]:
    """The module docstring's log with `first` in north's place and `second` in south's."""
    return [
        (at(8), first, "adopt", {}, H1),
        (at(8, 10), second, "adopt", {}, H1),
        (at(9), "east", "adopt", {}, H1),
        (at(11), second, "amend", {"document": D3}, H1),
        (at(12), first, "amend", {"document": D2}, H1),
        (at(12, 30), "east", "amend", {"document": D2}, H1),
        (at(13), second, "amend", {"document": D2}, H1),
        (at(14), "east", "amend", {"document": D3}, H2),
        (at(14, 30), first, "amend", {"document": D3}, H2),
    ]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    assert len({H1, H2, H3}) == 3
    clock = ScenarioClock(at(7))
    with logged_app(tmp_path_factory.mktemp("proposals") / "log.db", AGREEMENT, log("north", "south"),
                    clock, NOW) as c:
        yield c


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    clock = ScenarioClock(at(7))
    with logged_app(tmp_path_factory.mktemp("mirror") / "log.db", AGREEMENT, log("south", "north"),
                    clock, NOW) as c:
        yield c


def sections(html: str) -> list[str]:
    """The pending-proposal notices, as plain text (tags dropped, spaces collapsed)."""
    found = re.findall(r'<section class="wrap notice proposal".*?</section>', html, re.S)
    return [" ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", s)).split()) for s in found]


def expected(hash_: str, title: str, proposer: str, entry: int, logged: str, *,
             signed: list[tuple[str, int]], missing: list[str], in_force: str, travel: bool) -> str:
    signers = ", ".join(f"{name} (entry {index})" for name, index in signed)
    return (f"Proposed amendment, not in force: {hash_}, “{title}”, proposed by {proposer} at entry {entry}, "
            f"logged 3 Mar 2026 {logged} UTC. Signed by {signers}. Not yet signed by {', '.join(missing)}. "
            "It takes effect when every required signer has signed this same document; until then the "
            f"version in force, {in_force}, is laid out{' at this moment' if travel else ''}.")


def page(client: TestClient, path: str = "", as_of: str | None = None) -> str:
    response = client.get(PAGE + path, params={"as_of": as_of} if as_of else {})
    assert response.status_code == 200, response.text
    return response.text


def status_hash(client: TestClient, as_of: str | None = None) -> str:
    response = client.get(f"/v1/agreements/{AGREEMENT_ID}/status", params={"as_of": as_of} if as_of else {})
    assert response.status_code == 200
    named: str = response.json()["agreement"]
    return named


def test_two_of_three_signed_is_pending_and_the_layout_stays_the_version_in_force(client: TestClient) -> None:
    moment = "2026-03-03T12:45:00Z"
    assert status_hash(client, moment) == H1
    for path in ("", "/timeline", "/incidents", "/log", "/entries/4"):
        html = page(client, path, moment)
        assert sections(html) == [
            expected(H3, T3, "South", 3, "11:00", signed=[("South", 3)],
                     missing=["North", "East"], in_force=H1, travel=True),
            expected(H2, T2, "North", 4, "12:00", signed=[("North", 4), ("East", 5)],
                     missing=["South"], in_force=H1, travel=True),
        ], path
        assert 'id="amendment"' not in html
        assert f'Agreement <code class="hash">{H1}</code>.' in html  # the footer: the version in force
    html = page(client, "", moment)
    assert f"<h1>{T1}</h1>" in html and T2 not in html.split('class="wrap notice proposal"')[0]
    # the signers link to their entries, keeping the moment
    proposal = re.search(rf'data-proposal="{H2}".*?</section>', html, re.S)
    assert proposal is not None
    assert re.findall(r'data-party="([a-z]+)" data-entry="(\d+)"', proposal.group(0)) == [("north", "4"), ("east", "5")]
    assert f'href="{PAGE}/entries/5?as_of=2026-03-03T12%3A45%3A00Z"' in proposal.group(0)


def test_one_signature_is_pending_before_the_others(client: TestClient) -> None:
    html = page(client, "", "2026-03-03T11:30:00Z")
    assert sections(html) == [
        expected(H3, T3, "South", 3, "11:00", signed=[("South", 3)],
                 missing=["North", "East"], in_force=H1, travel=True),
    ]
    assert sections(page(client, "", "2026-03-03T10:30:00Z")) == []  # before any amend


def test_once_the_third_signs_the_proposal_is_gone_and_the_amendment_notice_appears(client: TestClient) -> None:
    moment = "2026-03-03T13:30:00Z"
    assert status_hash(client, moment) == H2
    html = page(client, "", moment)
    assert sections(html) == []  # V2 took effect; V3's proposal under V1 was dropped with it
    assert 'id="amendment"' in html and f'data-entry="6" data-old="{H1}" data-new="{H2}"' in html
    assert f"<h1>{T2}</h1>" in html


def test_a_new_proposal_under_the_amended_version_starts_afresh(client: TestClient) -> None:
    assert status_hash(client) == H2
    html = page(client)
    assert sections(html) == [
        expected(H3, T3, "East", 7, "14:00", signed=[("North", 8), ("East", 7)],
                 missing=["South"], in_force=H2, travel=False),
    ]
    assert 'id="amendment"' in html and f"<h1>{T2}</h1>" in html


def swap(text: str) -> str:
    swapped = {"North": "South", "South": "North", "north": "south", "south": "north"}
    return re.sub(r"\b(North|South|north|south)\b", lambda m: swapped[m.group(1)], text)


@pytest.mark.parametrize("moment", ["2026-03-03T11:30:00Z", "2026-03-03T12:45:00Z", None])
def test_swapping_who_has_not_signed_mirrors_the_text(client: TestClient, mirror: TestClient,
                                                      moment: str | None) -> None:
    original, mirrored = sections(page(client, "", moment)), sections(page(mirror, "", moment))
    assert original and [swap(s) for s in original] == mirrored
    assert original != mirrored  # the names did move
    if moment == "2026-03-03T12:45:00Z":  # by hand: north has not signed V2 in the mirror log
        assert mirrored[1] == expected(H2, T2, "South", 4, "12:00", signed=[("South", 4), ("East", 5)],
                                       missing=["North"], in_force=H1, travel=True)


def test_both_sides_unsigned_read_the_same_in_either_log(client: TestClient, mirror: TestClient) -> None:
    """At 14:15 neither north nor south has signed V3 under V2, in either log: both are listed in
    the agreement's party order, so the two logs give word for word the same notice."""
    moment = "2026-03-03T14:15:00Z"
    original, mirrored = sections(page(client, "", moment)), sections(page(mirror, "", moment))
    assert original == mirrored == [
        expected(H3, T3, "East", 7, "14:00", signed=[("East", 7)],
                 missing=["North", "South"], in_force=H2, travel=True),
    ]


def index_lines(html: str) -> list[tuple[str, str]]:
    """The list of agreements' proposal lines: (document hash, plain text)."""
    found = re.findall(r'<p class="proposed" data-proposal="([^"]+)">(.*?)</p>', html, re.S)
    return [(h, " ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", t)).split())) for h, t in found]


def test_the_list_of_agreements_counts_the_signatures_of_each_proposal(tmp_path: Any) -> None:
    """The list of agreements (`/`, always now) over the module docstring's log as it grows, by
    hand: after entry 5 (12:30) V3 signed by south only (1 of 3) and V2 by north and east (2 of
    3), oldest proposal first; after entry 6 (13:00) V2 is in force and nothing is proposed;
    after entry 7 (14:00) V3 under V2 signed by east (1 of 3); after entry 8, 2 of 3."""
    entries = log("north", "south")
    clock = ScenarioClock(at(7))

    def line(count: int) -> str:
        return f"An amendment is proposed, not in force: signed by {count} of 3 required signers."

    def post(index: int) -> None:
        moment, author, kind, body, named = entries[index]
        clock.now = moment
        envelope = signed(author, kind, body, agreement=named, issued_at=format_timestamp(moment))
        assert client.post(f"/v1/agreements/{AGREEMENT_ID}/entries", json=envelope).status_code == 201

    with logged_app(tmp_path / "log.db", AGREEMENT, entries[:3], clock, at(9, 30)) as client:
        assert index_lines(client.get("/").text) == []  # no amend in the log
        for index in (3, 4, 5):
            post(index)
        html = client.get("/").text
        assert index_lines(html) == [(H3, line(1)), (H2, line(2))]
        assert f'<a href="/agreements/{AGREEMENT_ID}">An amendment is proposed</a>' in html
        assert "amended: stages" not in html
        post(6)
        html = client.get("/").text
        assert index_lines(html) == [] and "amended: stages" in html
        post(7)
        assert index_lines(client.get("/").text) == [(H3, line(1))]
        post(8)
        assert index_lines(client.get("/").text) == [(H3, line(2))]
