"""The dashboard's routes in-process: a FastAPI app with the dashboard router over the
conformance log (DESIGN.md's worked example) evaluated by the real engine.

The states asserted are the worked example's (DESIGN.md, "A worked example"), checked by hand.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DATA
from engine_world import when
from interlock.agreement import load_agreement
from interlock.engine import evaluate
from interlock.engine.explain import explain
from interlock.engine.terms import Terms
from interlock.server.dashboard import router
from interlock.server.dashboard.adapter import status_json
from interlock.server.dashboard.source import MemorySource
from interlock.statements import dump_entries, parse_entries
from serverkit import AGREEMENT_ID, registered_app
from test_engine_properties import build_log, final_time, rename

AID = "northland-southland-2026"
TEXT = (DATA / "northland" / "entries.jsonl").read_text()
HASH = load_agreement((DATA / "northland" / "agreement.yaml").read_bytes()).hash


def make_app(extra_lines: list[dict[str, Any]] | None = None, now: datetime | None = None) -> FastAPI:
    agreement = load_agreement((DATA / "northland" / "agreement.yaml").read_bytes())
    lines = [json.loads(x) for x in TEXT.splitlines() if x] + (extra_lines or [])
    entries = parse_entries("".join(json.dumps(x) + "\n" for x in lines), allow_unsigned=True)

    def status(as_of: datetime) -> dict[str, Any]:
        return status_json(evaluate(agreement, [e for e in entries if e.integrated_at <= as_of], as_of))

    def explain_fn(oid: str, as_of: datetime) -> list[str]:
        result = evaluate(agreement, [e for e in entries if e.integrated_at <= as_of], as_of)
        return explain(Terms(agreement), result, oid)

    app = FastAPI()
    app.state.dashboard_sources = {AID: MemorySource(agreement, lines, status, explain_fn=explain_fn)}
    app.state.clock = lambda: now or datetime(2026, 3, 9, tzinfo=UTC)
    app.include_router(router)
    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


def states(html: str, attr: str) -> dict[str, str]:
    """`data-<attr>="id" data-state="state"` pairs on a page."""
    return dict(re.findall(rf'data-{attr}="([^"]+)" data-state="([^"]+)"', html))


def test_overview_at_the_worked_example_moments(client: TestClient) -> None:
    late = client.get(f"/agreements/{AID}")  # the clock says 9 March 00:00
    assert late.status_code == 200
    assert states(late.text, "stage") == {"s1": "complete", "s2": "breached", "s3": "locked"}
    obligations = states(late.text, "obligation")
    assert obligations["release-first"] == "late"
    assert obligations["release-prisoners-first"] == "breached"
    assert obligations["aid-trucks"] == "breached"
    assert obligations["withdraw-line-b"] == "pending"
    early = client.get(f"/agreements/{AID}", params={"as_of": "2026-03-05T12:00"})
    assert states(early.text, "stage") == {"s1": "complete", "s2": "open", "s3": "locked"}
    assert states(early.text, "obligation")["release-first"] == "active"
    assert "4 of 12 persons verified" in early.text
    assert "0 of 120 persons verified" in early.text
    assert "Time travel:" in early.text and "from the first 5 of 9 log entries" in early.text


def test_every_page_renders_with_csp_and_keeps_the_moment(client: TestClient) -> None:
    for path in ("", "/timeline", "/incidents", "/log", "/entries/4", "/obligations/aid-trucks"):
        response = client.get(f"/agreements/{AID}{path}", params={"as_of": "2026-03-06T12:00:00Z"})
        assert response.status_code == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert f'href="/agreements/{AID}/timeline?as_of=2026-03-06T12%3A00%3A00Z"' in response.text
        assert "hx-get" not in response.text  # the past does not change: no polling
    index = client.get("/")
    assert index.status_code == 200 and f"/agreements/{AID}" in index.text


def test_timeline_filters_and_time_travel(client: TestClient) -> None:
    page = client.get(f"/agreements/{AID}/timeline", params={"party": "red-cross"}).text
    assert re.findall(r'data-index="(\d+)"', page) == ["8", "6", "4"]  # newest first
    page = client.get(f"/agreements/{AID}/timeline", params={"obligation": "aid-trucks", "type": "evidence"}).text
    assert re.findall(r'data-index="(\d+)"', page) == ["7", "5"]
    page = client.get(f"/agreements/{AID}/timeline", params={"as_of": "2026-03-04T09:00"}).text
    assert re.findall(r'data-index="(\d+)"', page) == ["3", "2", "1", "0"]


def test_live_poll_answers_204_until_something_changes(client: TestClient) -> None:
    path = f"/agreements/{AID}"
    rendered = "2026-03-09T00:00:00Z"
    same = client.get(path, params={"known": "9", "rendered": rendered}, headers={"HX-Request": "true"})
    assert same.status_code == 204
    grown = client.get(path, params={"known": "8", "rendered": rendered}, headers={"HX-Request": "true"})
    assert grown.status_code == 200 and 'id="live"' in grown.text
    stale = client.get(path, params={"known": "9", "rendered": "2026-03-08T23:58:00Z"},
                       headers={"HX-Request": "true"})
    assert stale.status_code == 200  # a minute passed: times left must be rewritten
    log = client.get(f"/agreements/{AID}/log", params={"known": "9", "rendered": "2026-03-01T00:00:00Z"},
                     headers={"HX-Request": "true"})
    assert log.status_code == 204  # the log page changes only with new entries


def test_bad_requests_get_html_errors_not_tracebacks(client: TestClient) -> None:
    bad = client.get(f"/agreements/{AID}", params={"as_of": "yesterday"})
    assert bad.status_code == 400 and "is not a time" in bad.text
    assert client.get("/agreements/nope").status_code == 404
    assert client.get(f"/agreements/{AID}/obligations/nope").status_code == 404
    assert client.get(f"/agreements/{AID}/entries/99").status_code == 404
    future = client.get(f"/agreements/{AID}", params={"as_of": "2030-01-01T00:00"})
    assert future.status_code == 200 and "has not happened yet" in future.text


def test_assets_are_served_from_the_package(client: TestClient) -> None:
    htmx = client.get("/assets/htmx.min.js")
    assert htmx.status_code == 200 and htmx.headers["content-type"].startswith("text/javascript")
    assert "htmx" in htmx.text[:2000]
    assert client.get("/assets/dashboard.css").headers["content-type"].startswith("text/css")
    assert client.get("/assets/htmx.LICENSE.txt").status_code == 200
    assert client.get("/assets/..%2Froutes.py").status_code == 404
    assert client.get("/assets/nothing.js").status_code == 404


def test_statement_text_is_escaped() -> None:
    hostile = {"index": 9, "integrated_at": "2026-03-08T00:00:00Z", "statement": {
        "type": "incident", "agreement": "sha256:" + "0" * 64, "author": "observers", "key": "observers-1",
        "issued_at": "2026-03-08T00:00:00Z", "nonce": "x",
        "body": {"observed_at": "2026-03-07T23:00:00Z", "description": "<script>alert(1)</script>"}}}
    with TestClient(make_app([hostile])) as c:
        page = c.get(f"/agreements/{AID}/incidents").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_obligation_page_links_the_engines_reasoning_to_entries(client: TestClient) -> None:
    page = client.get(f"/agreements/{AID}/obligations/release-first").text
    assert "The engine&#39;s own reasoning" in page or "The engine's own reasoning" in page
    # `because: entries 4, 8` becomes two links to those entries
    assert re.search(r'because: entries <a href="/agreements/[^"]+/entries/4">4</a>, '
                     r'<a href="/agreements/[^"]+/entries/8">8</a>', page)


def test_obligation_page_shows_tranches_and_chart(client: TestClient) -> None:
    page = client.get(f"/agreements/{AID}/obligations/release-prisoners-first").text
    assert 'data-state="breached"' in page
    assert "Tranches" in page and "240" in page
    chart = client.get(f"/agreements/{AID}/obligations/aid-trucks").text
    assert "<svg" in chart and 'role="img"' in chart and "580" in chart


BODIES = {
    "declare": st.fixed_dictionaries({"obligation": st.sampled_from(["release-first", "aid-trucks", "nope"]),
                                      "observed_at": st.just("2026-03-07T10:00:00Z")},
                                     optional={"units": st.integers(1, 50), "place": st.text(max_size=20)}),
    "evidence": st.fixed_dictionaries({"obligation": st.sampled_from(["release-first", "withdraw-line-b"]),
                                       "observed_at": st.just("2026-03-07T10:00:00Z")},
                                      optional={"units": st.integers(1, 50)}),
    "attest": st.fixed_dictionaries({"entry": st.integers(0, 12), "verdict": st.sampled_from(["confirm", "reject"])},
                                    optional={"attribution": st.sampled_from(["confirmed", "unconfirmed"]),
                                              "note": st.text(max_size=20)}),
    "incident": st.fixed_dictionaries({"observed_at": st.just("2026-03-07T10:00:00Z"),
                                       "description": st.text(min_size=1, max_size=30)},
                                      optional={"obligation": st.sampled_from(["ceasefire-north", "ceasefire-south"]),
                                                "place": st.text(max_size=20)}),
    "impediment": st.fixed_dictionaries({"observed_at": st.just("2026-03-07T10:00:00Z"),
                                         "description": st.text(min_size=1, max_size=30)}),
    "suspend": st.fixed_dictionaries({"obligation": st.just("release-first"),
                                      "cites": st.lists(st.integers(0, 12), min_size=1, max_size=3),
                                      "reason": st.text(min_size=1, max_size=20)}),
    "dispute": st.fixed_dictionaries({"entry": st.integers(0, 12), "reason": st.text(min_size=1, max_size=20)}),
    "ruling": st.fixed_dictionaries({"dispute": st.integers(0, 12),
                                     "decision": st.sampled_from(["upheld", "rejected"])}),
    "extend": st.fixed_dictionaries({"obligation": st.just("release-first"),
                                     "due": st.just("2026-03-10T00:00:00Z")}),
    "waive": st.fixed_dictionaries({"obligation": st.sampled_from(["release-first", "aid-trucks"])}),
    "note": st.fixed_dictionaries({"text": st.text(min_size=1, max_size=30)}),
    "adopt": st.just({}),
}
AUTHORS = ["north", "south", "east", "observers", "red-cross", "stranger"]


@st.composite
def extra_statements(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(sorted(BODIES)))
        author = draw(st.sampled_from(AUTHORS))
        at = f"2026-03-08T0{i}:00:00Z"
        out.append({"index": 9 + i, "integrated_at": at, "statement": {
            "type": kind, "agreement": HASH, "author": author, "key": f"{author}-1",
            "issued_at": at, "nonce": f"h{i}", "body": draw(BODIES[kind])}})
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extra_statements())
def test_any_statement_mix_renders_every_page(extra: list[dict[str, Any]]) -> None:
    with TestClient(make_app(extra)) as c:
        for path in ("", "/timeline", "/incidents", "/log", "/entries/9", "/obligations/release-first"):
            assert c.get(f"/agreements/{AID}{path}").status_code == 200, path


def test_an_unchanged_poll_reads_nothing_but_the_size() -> None:
    app = make_app()
    source = app.state.dashboard_sources[AID]
    reads: list[str] = []
    original_entries, original_status = source.entries, source.status
    def entries(start: int, limit: int) -> list[dict[str, Any]]:
        reads.append("entries")
        return original_entries(start, limit)

    def status(as_of: datetime) -> dict[str, Any]:
        reads.append("status")
        return original_status(as_of)

    source.entries, source.status = entries, status
    with TestClient(app) as c:
        poll = c.get(f"/agreements/{AID}/log", params={"known": "9", "rendered": "2026-03-09T00:00:00Z"},
                     headers={"HX-Request": "true"})
        assert poll.status_code == 204 and reads == []
        assert c.get(f"/agreements/{AID}/log").status_code == 200 and {"entries", "status"} <= set(reads)


def test_a_log_without_entries_renders_every_page() -> None:
    agreement = load_agreement((DATA / "northland" / "agreement.yaml").read_bytes())
    app = FastAPI()
    empty = MemorySource(agreement, [], lambda at: status_json(evaluate(agreement, [], at)))
    app.state.dashboard_sources = {AID: empty}
    app.state.clock = lambda: datetime(2026, 3, 9, tzinfo=UTC)
    app.include_router(router)
    with TestClient(app) as c:
        for path in ("", "/timeline", "/incidents", "/log", "/obligations/release-first"):
            response = c.get(f"/agreements/{AID}{path}")
            assert response.status_code == 200, path
        overview = c.get(f"/agreements/{AID}").text
        assert "Not yet adopted: 0 of 3 signers; waiting for North, South, East" in overview
        assert "The log is empty: no checkpoint yet." in c.get(f"/agreements/{AID}/log").text


@pytest.fixture(scope="module")
def server_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The whole server (API and dashboard) over a real SQLite store, on the real clock."""
    with registered_app(tmp_path_factory.mktemp("as-of") / "log.db") as c:
        yield c


# The bounds: 2000-01-01T00:00:00Z … now + 5 × 366 days (1830); "+N" is N days from now.
@pytest.mark.parametrize(("as_of", "accepted"), [
    ("9999-12-31T23:59:59Z", False),
    ("+1840", False),
    ("1999-12-31T23:59:59Z", False),
    ("+1820", True),
    ("2026-03-05T12:00:00Z", True),
    ("2000-01-01T00:00:00Z", True),
])
def test_as_of_has_the_same_bounds_in_the_api_and_the_dashboard(
    server_client: TestClient, as_of: str, accepted: bool
) -> None:
    if as_of.startswith("+"):
        as_of = (datetime.now(UTC) + timedelta(days=int(as_of))).strftime("%Y-%m-%dT%H:%M:%SZ")
    api = server_client.get(f"/v1/agreements/{AGREEMENT_ID}/status", params={"as_of": as_of})
    page = server_client.get(f"/agreements/{AGREEMENT_ID}", params={"as_of": as_of})
    assert api.status_code == (200 if accepted else 400), api.text
    assert page.status_code == (200 if accepted else 400)
    assert page.headers["content-type"].startswith("text/html")
    if not accepted:
        assert api.json()["code"] == "bad-parameter"
        assert "is not a time this page can show" in page.text
        assert "as_of must lie between 2000-01-01T00:00:00Z and five years from now" in page.text
        assert "Traceback" not in page.text


def symmetric_overview(mirror: bool, steps: list[tuple[Any, ...]] | None = None) -> tuple[Any, str]:
    """The overview of tests/test_engine_properties.py's symmetric agreement (sides a and b)
    after its adoptions and `steps` (its `build_log` steps; none: two days after adoption);
    `mirror` swaps a and b everywhere, statements too (its helper)."""
    world = build_log(steps or [], ["a", "b", "g"], signed=True, mirror=mirror)
    lines = [json.loads(x) for x in dump_entries(world.entries).splitlines() if x]

    def status(at: datetime) -> dict[str, Any]:
        return status_json(evaluate(world.agreement, [e for e in world.entries if e.integrated_at <= at], at))

    app = FastAPI()
    app.state.dashboard_sources = {"symmetric": MemorySource(world.agreement, lines, status)}
    app.state.clock = lambda: when(final_time(world))
    app.include_router(router)
    with TestClient(app) as c:
        page = c.get("/agreements/symmetric")
    assert page.status_code == 200
    return world.agreement, page.text


def test_the_overview_mirrors_when_the_sides_are_swapped() -> None:
    agreement, html = symmetric_overview(False)
    swapped, mirror_html = symmetric_overview(True)
    # the same structure, the same classes (so colours) in the same places
    assert re.findall(r'<(\w+)[^>]*class="([^"]*)"', html) == re.findall(r'<(\w+)[^>]*class="([^"]*)"', mirror_html)
    # each obligation's state is its counterpart's; both sides' cards are there
    obligations = states(html, "obligation")
    assert {f"{s}-{k}" for s in "ab" for k in ("give", "calm", "act")} <= set(obligations)
    assert states(mirror_html, "obligation") == rename(obligations)
    assert states(mirror_html, "stage") == states(html, "stage")
    # the party columns in each agreement's own order (a, b … and b, a … once swapped)
    # (a party without a name is shown by its id, capitalised)
    names = [n.lower() for n in re.findall(r'class="party-name"[^>]*>\s*([^<]+?)\s*<', html)]
    mirror_names = [n.lower() for n in re.findall(r'class="party-name"[^>]*>\s*([^<]+?)\s*<', mirror_html)]
    assert [p.id for p in agreement.parties] == ["a", "b", "g", "m1", "m2", "m3"]
    assert [p.id for p in swapped.parties] == ["b", "a", "g", "m1", "m2", "m3"]
    assert names[:2] == ["a", "b"] and mirror_names[:2] == ["b", "a"]
    assert mirror_names == [rename(n) for n in names]
