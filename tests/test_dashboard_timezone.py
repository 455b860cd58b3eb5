"""`?as_of=` without an offset names the same moment in the dashboard as in the API: a
wall-clock time in the agreement's time zone.

The whole server (API and dashboard) over a real SQLite store, on a clock the test moves.  The
agreement is the conformance world's (tests/data/northland) with `timezone: Asia/Jerusalem`
(UTC+02:00 in early March 2026; Israel's summer time begins on 27 March), and its first four
entries re-signed for it at their original moments:

    0-2  adoptions, the last at 2026-03-03T09:00Z  → withdraw-line-a due 2026-03-04T09:00Z (+24 h)
    3    evidence for withdraw-line-a, logged 2026-03-04T08:00Z (observed 07:30Z, 1 unit)

`as_of=2026-03-04T09:30` read in Asia/Jerusalem is 07:30Z: entry 3 is not logged yet, so
withdraw-line-a is active with 1 h 30 min left, stage s1 open, stage s2 locked.  Read as UTC
it would be 09:30Z: withdraw-line-a fulfilled, s2 open (it opens when withdraw-line-a is
verified) and release-first active.  (Worked by hand from the agreement's terms.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from interlock.agreement import load_agreement
from interlock.server.dashboard.humanize import wall, zoned
from interlock.server.dashboard.replay import ScenarioClock
from serverkit import AGREEMENT, AGREEMENT_ID, logged_app

ZONED = AGREEMENT.replace(b"timezone: UTC", b"timezone: Asia/Jerusalem")
TEXT = "2026-03-04T09:30"  # no offset
IN_ZONE = "2026-03-04T07:30:00Z"  # TEXT in Asia/Jerusalem (UTC+02:00)
AS_UTC = "2026-03-04T09:30:00Z"  # TEXT misread as UTC
ENTRIES = [  # (integrated and issued at, author, type, body)
    (datetime(2026, 3, 3, 8, 0, tzinfo=UTC), "north", "adopt", {}),
    (datetime(2026, 3, 3, 8, 10, tzinfo=UTC), "south", "adopt", {}),
    (datetime(2026, 3, 3, 9, 0, tzinfo=UTC), "east", "adopt", {}),
    (datetime(2026, 3, 4, 8, 0, tzinfo=UTC), "observers", "evidence",
     {"obligation": "withdraw-line-a", "observed_at": "2026-03-04T07:30:00Z", "units": 1}),
]


@pytest.fixture(scope="module")
def zoned_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    assert b"timezone: Asia/Jerusalem" in ZONED
    digest = load_agreement(ZONED).hash
    clock = ScenarioClock(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))
    entries = [(at, author, kind, body, digest) for at, author, kind, body in ENTRIES]
    now = datetime(2026, 3, 5, tzinfo=UTC)  # both readings lie in the past
    with logged_app(tmp_path_factory.mktemp("zoned") / "log.db", ZONED, entries, clock, now) as c:
        yield c


def page_states(html: str, attr: str) -> dict[str, str]:
    return dict(re.findall(rf'data-{attr}="([^"]+)" data-state="([^"]+)"', html))


def api_states(status: dict[str, Any], part: str) -> dict[str, str]:
    return {key: value["state"] for key, value in status[part].items()}


def test_an_offset_less_as_of_is_read_in_the_agreements_time_zone_as_the_api_reads_it(
    zoned_client: TestClient,
) -> None:
    api = zoned_client.get(f"/v1/agreements/{AGREEMENT_ID}/status", params={"as_of": TEXT})
    assert api.status_code == 200, api.text
    status = api.json()
    page = zoned_client.get(f"/agreements/{AGREEMENT_ID}", params={"as_of": TEXT})
    assert page.status_code == 200

    # by hand: 07:30Z, before the withdrawal's evidence was logged
    assert api_states(status, "stages") == {"s1": "open", "s2": "locked", "s3": "locked"}
    assert status["obligations"]["withdraw-line-a"]["state"] == "active"
    # the dashboard shows exactly the API's states for the same text
    assert page_states(page.text, "stage") == api_states(status, "stages")
    shown = page_states(page.text, "obligation")
    assert shown == {k: v for k, v in api_states(status, "obligations").items() if k in shown}
    assert shown["withdraw-line-a"] == "active"
    assert "due in 1 h 30 min (4 Mar 2026 09:00 UTC)" in page.text
    assert "from the first 3 of 4 log entries" in page.text

    # the moment is shown unambiguously: in UTC, in the agreement's zone with its offset, and
    # every link carries it with its `Z`; the control holds the text the reader typed
    assert '<time datetime="2026-03-04T07:30:00Z">4 Mar 2026 07:30 UTC</time>' in page.text
    assert "that is 4 Mar 2026 09:30 Asia/Jerusalem (UTC+02:00) in the agreement's time zone" in page.text
    assert f'href="/agreements/{AGREEMENT_ID}/timeline?as_of=2026-03-04T07%3A30%3A00Z"' in page.text
    assert re.search(r'<input id="as-of" name="as_of" type="datetime-local"[^>]* value="2026-03-04T09:30"', page.text)
    assert "Asia/Jerusalem</span> time (the agreement's time zone)" in page.text

    # the same moment written with its offset gives the same page
    explicit = zoned_client.get(f"/agreements/{AGREEMENT_ID}", params={"as_of": IN_ZONE})
    assert page_states(explicit.text, "stage") == page_states(page.text, "stage")
    assert page_states(explicit.text, "obligation") == shown


def test_reading_the_same_text_as_utc_would_show_another_state(zoned_client: TestClient) -> None:
    """The difference matters here: at 09:30Z the withdrawal is verified and stage 2 open."""
    utc = zoned_client.get(f"/agreements/{AGREEMENT_ID}", params={"as_of": AS_UTC})
    assert utc.status_code == 200
    assert page_states(utc.text, "stage") == {"s1": "complete", "s2": "open", "s3": "locked"}
    states = page_states(utc.text, "obligation")
    assert states["withdraw-line-a"] == "fulfilled" and states["release-first"] == "active"
    assert "from the first 4 of 4 log entries" in utc.text
    api = zoned_client.get(f"/v1/agreements/{AGREEMENT_ID}/status", params={"as_of": AS_UTC}).json()
    assert api_states(api, "stages") == page_states(utc.text, "stage")
    zoned = zoned_client.get(f"/agreements/{AGREEMENT_ID}", params={"as_of": TEXT})
    assert page_states(zoned.text, "stage") != page_states(utc.text, "stage")


def test_every_agreement_page_reads_as_of_in_the_agreements_zone(zoned_client: TestClient) -> None:
    """The timeline lists what was logged by the moment: entries 0-2 at 07:30Z, not entry 3."""
    page = zoned_client.get(f"/agreements/{AGREEMENT_ID}/timeline", params={"as_of": TEXT})
    assert re.findall(r'data-index="(\d+)"', page.text) == ["2", "1", "0"]
    entry = zoned_client.get(f"/agreements/{AGREEMENT_ID}/entries/3", params={"as_of": TEXT})
    assert entry.status_code == 404  # not logged yet at that moment
    assert zoned_client.get(f"/agreements/{AGREEMENT_ID}/entries/3", params={"as_of": AS_UTC}).status_code == 200
    bad = zoned_client.get(f"/agreements/{AGREEMENT_ID}", params={"as_of": "soon"})
    assert bad.status_code == 400 and "read in the agreement&#39;s time zone, Asia/Jerusalem" in bad.text


def test_the_index_says_it_shows_now_in_utc(zoned_client: TestClient) -> None:
    index = zoned_client.get("/")
    assert index.status_code == 200
    assert '<time datetime="2026-03-05T00:00:00Z">5 Mar 2026 00:00 UTC</time>' in index.text
    assert "This list takes no <code>as_of</code>" in index.text and "Times here are in UTC." in index.text


def test_wall_and_zoned_times_by_hand() -> None:
    """07:30Z on 4 March 2026: Kolkata is UTC+05:30; New York still on EST (its summer time
    begins on 8 March 2026)."""
    moment = datetime(2026, 3, 4, 7, 30, tzinfo=UTC)
    assert wall(moment, "Asia/Kolkata") == "2026-03-04T13:00"
    assert zoned(moment, "Asia/Kolkata") == "4 Mar 2026 13:00 Asia/Kolkata (UTC+05:30)"
    assert wall(moment, "America/New_York") == "2026-03-04T02:30"
    assert zoned(moment, "America/New_York") == "4 Mar 2026 02:30 America/New_York (UTC-05:00)"
    assert zoned(moment, "UTC") == "4 Mar 2026 07:30 UTC (UTC+00:00)"
    assert wall(None, "UTC") == "" and zoned(None, "UTC") == "—"
