"""After an amendment takes effect the dashboard lays out the version in force; before it, the
original.

The whole server (API and dashboard) over a real SQLite store, on a clock the test moves.  The
agreement is the conformance world's (tests/data/northland, version 1).  Version 2 (below, the
same text with these changes) renames the agreement and stage s1, adds the act `open-crossing`
to s1 (north to south, due 48 h after adoption, verified by the observers) and adds a stage s4
"Reconstruction" that opens when `open-crossing` is verified, with the act `rebuild-bridge`
(south to north, due 7 d after s4 opens).

    0-2  adoptions by north, south, east; the last at 2026-03-03T09:00Z (adopted then)
    3-5  north, south, east sign `amend` to version 2 at 12:00, 12:30, 13:00 — the required
         signers of version 1 are north, south and east, so it takes effect at entry 5, 13:00
    6    the observers' evidence for open-crossing (names version 2), logged 2026-03-04T08:00Z,
         observed 07:30Z

Worked by hand from the texts:
- as of 12:45 (entries 0-4): version 1 in force; stages s1 open, s2 and s3 locked; no
  open-crossing, no s4.
- as of 13:30 (entries 0-5): version 2; open-crossing active, due adopted + 48 h =
  2026-03-05T09:00Z, 1 d 19 h 30 min away (shown "1 d 19 h"); s4 locked (open-crossing not verified).
- now, 2026-03-05T00:00Z (entries 0-6): open-crossing fulfilled (verified 07:30 on 4 March,
  before its deadline); s4 opened when that evidence counted, at 2026-03-04T08:00Z, so
  rebuild-bridge is active, due 2026-03-11T08:00Z, 6 d 8 h away; withdraw-line-a had no
  evidence by its deadline (adopted + 24 h = 2026-03-04T09:00Z), so it and stage s1 are
  breached, and s2 (opens when it is verified) and s3 stay locked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from interlock.agreement import load_agreement, parse_document
from interlock.canonical import document_hash
from interlock.server.dashboard.records import EntryView
from interlock.server.dashboard.replay import ScenarioClock
from interlock.server.dashboard.versions import in_force, name_of, removed_by
from interlock.statements.keys import public_key_b64
from serverkit import AGREEMENT, AGREEMENT_ID, logged_app, seed_of

V1 = AGREEMENT.decode()
V2 = (
    V1.replace("title: Northland–Southland exchange and withdrawal",
               "title: Northland–Southland exchange, withdrawal and reconstruction")
    .replace("title: Ceasefire and first withdrawal", "title: Ceasefire, first withdrawal and crossing")
    .replace(
        "      - {id: withdraw-line-a,",
        "      - {id: open-crossing, kind: act, by: north, to: south, text: Northland opens the Kerem crossing.,"
        " due: {after: adopted, plus: 48h}, verify: {by: [observers], quorum: 1}}\n"
        "      - {id: withdraw-line-a,",
    )
    + "  - id: s4\n"
    "    title: Reconstruction\n"
    "    opens: {verified: open-crossing}\n"
    "    obligations:\n"
    "      - {id: rebuild-bridge, kind: act, by: south, to: north, text: Southland rebuilds the river bridge.,"
    " due: {after: {opened: s4}, plus: 7d}, verify: {by: [observers], quorum: 1}}\n"
)
OLD = load_agreement(V1.encode()).hash
NEW = load_agreement(V2.encode()).hash
DOCUMENT = yaml.safe_load(V2)
NOW = datetime(2026, 3, 5, tzinfo=UTC)
ENTRIES = [  # (integrated and issued at, author, type, body, version named)
    (datetime(2026, 3, 3, 8, 0, tzinfo=UTC), "north", "adopt", {}, OLD),
    (datetime(2026, 3, 3, 8, 10, tzinfo=UTC), "south", "adopt", {}, OLD),
    (datetime(2026, 3, 3, 9, 0, tzinfo=UTC), "east", "adopt", {}, OLD),
    (datetime(2026, 3, 3, 12, 0, tzinfo=UTC), "north", "amend", {"document": DOCUMENT}, OLD),
    (datetime(2026, 3, 3, 12, 30, tzinfo=UTC), "south", "amend", {"document": DOCUMENT}, OLD),
    (datetime(2026, 3, 3, 13, 0, tzinfo=UTC), "east", "amend", {"document": DOCUMENT}, OLD),
    (datetime(2026, 3, 4, 8, 0, tzinfo=UTC), "observers", "evidence",
     {"obligation": "open-crossing", "observed_at": "2026-03-04T07:30:00Z", "units": 1}, NEW),
]
BEFORE = "2026-03-03T12:45:00Z"
JUST_AFTER = "2026-03-03T13:30:00Z"
PAGE = f"/agreements/{AGREEMENT_ID}"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    assert V2.count("open-crossing") == 2 and OLD != NEW  # every change landed
    clock = ScenarioClock(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))
    with logged_app(tmp_path_factory.mktemp("amended") / "log.db", AGREEMENT, ENTRIES, clock, NOW) as c:
        yield c


def states(html: str, attr: str) -> dict[str, str]:
    return dict(re.findall(rf'data-{attr}="([^"]+)" data-state="([^"]+)"', html))


def api_status(client: TestClient, as_of: str | None = None) -> dict[str, Any]:
    response = client.get(f"/v1/agreements/{AGREEMENT_ID}/status", params={"as_of": as_of} if as_of else {})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def api_states(status: dict[str, Any], part: str) -> dict[str, str]:
    return {key: value["state"] for key, value in status[part].items()}


def test_after_the_amendment_the_overview_lays_out_the_version_in_force(client: TestClient) -> None:
    status = api_status(client)
    assert status["agreement"] == NEW
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.text

    # by hand (module docstring), and the same as the API says
    expected_stages = {"s1": "breached", "s2": "locked", "s3": "locked", "s4": "open"}
    assert states(html, "stage") == expected_stages == api_states(status, "stages")
    shown = states(html, "obligation")
    assert shown["open-crossing"] == "fulfilled" == status["obligations"]["open-crossing"]["state"]
    assert shown["rebuild-bridge"] == "active" == status["obligations"]["rebuild-bridge"]["state"]
    assert shown["withdraw-line-a"] == "breached"
    assert shown == {k: v for k, v in api_states(status, "obligations").items() if k in shown}
    assert set(shown) == set(status["obligations"])  # every obligation of version 2, no other

    # version 2's labels: titles, the stage order, the new obligation's words
    assert "<h1>Northland–Southland exchange, withdrawal and reconstruction</h1>" in html
    assert "Ceasefire, first withdrawal and crossing" in html
    assert "Ceasefire and first withdrawal" not in html
    assert re.findall(r'data-stage="([^"]+)"', html) == ["s1", "s2", "s3", "s4"]
    assert '<span class="stage-number">Stage 4</span> Reconstruction' in html
    assert "Northland opens the Kerem crossing." in html
    assert "By North to South · One action" in html
    assert "due in 6 d 8 h (11 Mar 2026 08:00 UTC)" in html

    # the amendment is shown plainly: which entry, when, old and new hash, who signed
    notice = re.search(r'<section class="wrap notice amendment" id="amendment".*?</section>', html, re.S)
    assert notice is not None
    text = notice.group(0)
    assert f'data-entry="5" data-old="{OLD}" data-new="{NEW}"' in text
    assert f'href="/agreements/{AGREEMENT_ID}/entries/5"' in text
    assert '<time datetime="2026-03-03T13:00:00Z">3 Mar 2026 13:00 UTC</time>' in text
    assert "signed by North (" in text and "South (" in text and "East (" in text
    assert [int(i) for i in re.findall(r"/entries/(\d+)\"", text)] == [5, 3, 4, 5]
    assert f'<code class="hash">{NEW}</code>' in text and f'<code class="hash">{OLD}</code>' in text
    assert f"Agreement <code class=\"hash\">{NEW}</code>." in html  # the footer names the version in force


def test_before_the_amendment_the_page_shows_the_original(client: TestClient) -> None:
    status = api_status(client, BEFORE)
    assert status["agreement"] == OLD
    html = client.get(PAGE, params={"as_of": BEFORE}).text
    assert states(html, "stage") == {"s1": "open", "s2": "locked", "s3": "locked"} == api_states(status, "stages")
    assert "open-crossing" not in html and "rebuild-bridge" not in html
    assert "Reconstruction" not in html and "Kerem" not in html
    assert 'id="amendment"' not in html
    # north and south have signed version 2, east not yet: it is shown as a proposal only
    proposals = re.findall(r'<section class="wrap notice proposal".*?</section>', html, re.S)
    assert len(proposals) == 1 and f'data-proposal="{NEW}"' in proposals[0]
    assert re.findall(r'data-party="([a-z]+)"(?: data-entry="(\d+)")?', proposals[0]) == [
        ("north", "3"), ("south", "4"), ("east", ""),
    ]
    assert NEW not in html.replace(proposals[0], "")
    assert "<h1>Northland–Southland exchange and withdrawal</h1>" in html
    assert f"Agreement <code class=\"hash\">{OLD}</code>." in html
    assert "from the first 5 of 7 log entries" in html


def test_just_after_it_takes_effect_the_new_obligation_runs(client: TestClient) -> None:
    status = api_status(client, JUST_AFTER)
    html = client.get(PAGE, params={"as_of": JUST_AFTER}).text
    assert status["agreement"] == NEW
    assert states(html, "stage") == {"s1": "open", "s2": "locked", "s3": "locked", "s4": "locked"}
    assert states(html, "stage") == api_states(status, "stages")
    assert states(html, "obligation")["open-crossing"] == "active" == status["obligations"]["open-crossing"]["state"]
    assert "due in 1 d 19 h (5 Mar 2026 09:00 UTC)" in html  # two units, rounded down
    assert 'id="amendment"' in html and f'data-new="{NEW}"' in html
    assert 'class="wrap notice proposal"' not in html  # taken effect: no longer a proposal
    # the link to the amendment entry keeps the moment
    assert f'href="/agreements/{AGREEMENT_ID}/entries/5?as_of=2026-03-03T13%3A30%3A00Z"' in html


def test_obligation_pages_and_the_timeline_follow_the_version_in_force(client: TestClient) -> None:
    page = client.get(f"{PAGE}/obligations/open-crossing")
    assert page.status_code == 200
    assert states(page.text, "obligation") == {"open-crossing": "fulfilled"}
    assert "The engine's own reasoning" in page.text  # explained under version 2's terms
    assert f'href="/agreements/{AGREEMENT_ID}/entries/6"' in page.text  # the evidence it rests on
    assert 'id="amendment"' in page.text
    stage4 = client.get(f"{PAGE}/obligations/rebuild-bridge")
    assert stage4.status_code == 200 and "Reconstruction" in stage4.text
    assert client.get(f"{PAGE}/obligations/open-crossing", params={"as_of": BEFORE}).status_code == 404

    timeline = client.get(f"{PAGE}/timeline").text
    assert '<option value="open-crossing"' in timeline and '<option value="rebuild-bridge"' in timeline
    assert 'id="amendment"' in timeline
    early = client.get(f"{PAGE}/timeline", params={"as_of": BEFORE}).text
    assert "open-crossing" not in early and 'id="amendment"' not in early
    amended = client.get(f"{PAGE}/timeline", params={"type": "amend"}).text
    assert re.findall(r'data-index="(\d+)"', amended) == ["5", "4", "3"]


def test_the_index_lists_the_stages_in_force(client: TestClient) -> None:
    index = client.get("/").text
    assert "Northland–Southland exchange, withdrawal and reconstruction" in index
    assert re.findall(r'data-state="([^"]+)"><span aria-hidden="true">[^<]*</span> Stage (\d)', index) == [
        ("breached", "1"), ("locked", "2"), ("locked", "3"), ("open", "4"),
    ]
    assert "amended: stages as the version in force lays them out" in index


def _doc(title: str, *obligations: str) -> dict[str, Any]:
    parties = [{"id": p, "name": p.upper(), "role": r} for p, r in (("a", "party"), ("b", "party"), ("m", "monitor"))]
    acts = [{"id": o, "kind": "act", "by": "a", "to": "b", "due": {"after": "adopted", "plus": "48h"}}
            for o in obligations]
    return {"interlock": 1, "id": "t", "title": title, "timezone": "UTC", "parties": parties,
            "adoption": {"requires": ["a", "b"]}, "stages": [{"id": "s1", "opens": "adopted", "obligations": acts}]}


def test_the_chain_of_amendments_is_read_back_from_the_version_in_force() -> None:
    """Version 1 has x; version 2 replaces x by y; version 3 adds z.  Entry 2 proposes version 3
    under version 1 and is dropped when version 2 takes effect at entry 4 (a, b signed at 3, 4);
    version 3 is signed again under version 2 at entries 5 and 6 (in force at 6); entry 7 is an
    amend the engine rejected.  Worked by hand: two amendments, 4 (1→2, signers 3, 4) and 6
    (2→3, signers 5, 6, not 2, which named version 1); x was removed by the one at entry 4."""
    d1, d2, d3 = _doc("One", "x"), _doc("Two", "y"), _doc("Three", "y", "z")
    h1, h2, h3 = (document_hash(d) for d in (d1, d2, d3))
    base = parse_document(d1)
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def entry(index: int, author: str, kind: str, document: dict[str, Any] | None, names: str, *,
              rejected: str | None = None) -> EntryView:
        body = {"document": document} if document is not None else {}
        return EntryView(index, start.replace(hour=index), kind, author, f"{author}-1", body,
                         names=names, rejected=rejected)

    log = [entry(0, "a", "adopt", None, h1), entry(1, "b", "adopt", None, h1),
           entry(2, "a", "amend", d3, h1), entry(3, "a", "amend", d2, h1), entry(4, "b", "amend", d2, h1),
           entry(5, "b", "amend", d3, h2), entry(6, "a", "amend", d3, h2),
           entry(7, "a", "amend", d1, h1, rejected="names a superseded version")]

    v3 = in_force(base, h3, log)
    assert v3.agreement.title == "Three" and v3.agreement.hash == h3
    assert [(a.index, a.old, a.new, [s.index for s in a.signers]) for a in v3.amendments] == [
        (4, h1, h2, [3, 4]), (6, h2, h3, [5, 6]),
    ]
    assert [v.title for v in v3.all] == ["Three", "Two", "One"]
    removal = removed_by(v3, "x")
    assert removal is not None and removal.index == 4
    assert removed_by(v3, "y") is None and removed_by(v3, "nowhere") is None
    assert name_of(v3, "m") == "M" and name_of(v3, "gone") == "gone"

    v2 = in_force(base, h2, log[:5])  # the moment before entry 5
    assert v2.agreement.title == "Two" and [a.index for a in v2.amendments] == [4]
    v1 = in_force(base, h1, log[:3])  # only the dropped proposal so far
    assert v1.agreement is base and not v1.amended and v1.unknown is None
    stranger = in_force(base, "sha256:" + "0" * 64, log)
    assert stranger.agreement is base and stranger.unknown == "sha256:" + "0" * 64



# Version 3 removes the monitor red-cross (its two `verify` go to the observers) and adds a
# monitor west, listed last.  Log, by hand: 0-2 adoptions; red-cross notes at 3 and 5, the
# observers' at 4; north, south, east sign version 3 at 6, 7, 8 (in force at 8, 12:00); west
# notes at 9 and 11, the observers' at 10.  So red-cross wrote exactly 3 and 5, west 9 and 11.
V3 = (
    V1.replace('  - {id: red-cross, name: Red-Cross, role: monitor, keys: [{id: red-cross-1, ed25519: '
               '"mqCRY97QP/vVitVUL1V7IHOZhy0M1uRmhiSY/gHI4UM="}]}\n',
               '  - {id: west, name: West, role: monitor, keys: [{id: west-1, ed25519: '
               f'"{public_key_b64(seed_of("west"))}"}}]}}\n')
    .replace("verify: {by: [red-cross], quorum: 1}", "verify: {by: [observers], quorum: 1}")
)
H3 = load_agreement(V3.encode()).hash


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 3, hour, minute, tzinfo=UTC)


REMOVAL = [
    (_at(8), "north", "adopt", {}, OLD),
    (_at(8, 10), "south", "adopt", {}, OLD),
    (_at(9), "east", "adopt", {}, OLD),
    (_at(9, 30), "red-cross", "note", {"text": "ready"}, OLD),
    (_at(10), "observers", "note", {"text": "present"}, OLD),
    (_at(10, 15), "red-cross", "note", {"text": "still ready"}, OLD),
    (_at(11), "north", "amend", {"document": yaml.safe_load(V3)}, OLD),
    (_at(11, 30), "south", "amend", {"document": yaml.safe_load(V3)}, OLD),
    (_at(12), "east", "amend", {"document": yaml.safe_load(V3)}, OLD),
    (_at(13), "west", "note", {"text": "arrived"}, H3),
    (_at(13, 30), "observers", "note", {"text": "still present"}, H3),
    (_at(14), "west", "note", {"text": "settled"}, H3),
]


def party_options(html: str) -> list[tuple[str, str]]:
    select = re.search(r'<select id="f-party" name="party">(.*?)</select>', html, re.S)
    assert select is not None
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))


def test_the_party_filter_offers_removed_and_added_parties(tmp_path: Any) -> None:
    assert V3.count("red-cross") == 0 and V3.count("{id: west, name: West, role: monitor") == 1  # every change landed
    with logged_app(tmp_path / "log.db", AGREEMENT, REMOVAL, ScenarioClock(_at(7)), _at(15)) as client:
        assert api_status(client)["agreement"] == H3
        timeline = f"{PAGE}/timeline"
        html = client.get(timeline).text
        assert party_options(html) == [
            ("", "Any party"), ("north", "North"), ("south", "South"), ("east", "East"),
            ("observers", "Observers"), ("red-cross", "Red-Cross (removed by an amendment)"), ("west", "West"),
        ]
        for party, indices in (("red-cross", ["5", "3"]), ("west", ["11", "9"]), ("observers", ["10", "4"])):
            chosen = client.get(timeline, params={"party": party}).text
            assert re.findall(r'data-index="(\d+)"', chosen) == indices, party
            assert f'<option value="{party}" selected>' in chosen
        # before version 3 took effect: the original's parties only, none marked removed
        early = client.get(timeline, params={"as_of": "2026-03-03T11:45:00Z"}).text
        assert party_options(early) == [
            ("", "Any party"), ("north", "North"), ("south", "South"), ("east", "East"),
            ("observers", "Observers"), ("red-cross", "Red-Cross"),
        ]
