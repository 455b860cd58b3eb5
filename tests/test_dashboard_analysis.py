"""The dashboard's Analysis page (issue 7): the sequencing analysis of a registered agreement
and of an uploaded draft, with the real analysis running in its time-bounded child process.

Figures are worked out by hand: the three-step exchange of docs/analysis.md (section 5, with
its VALUES file, deadline schedule), and the same plan with equal weights below.  Each page
is also cross-checked with `interlock analyze --format json`.  The route tests run in-process
(FastAPI's TestClient; one app over the real store), the browser test against `interlock demo`.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from playwright.sync_api import expect

from conftest import DATA, ROOT
from dashboard_browserkit import ARTIFACTS, SIZES, check_layout, chromium, demo_server
from interlock.agreement import load_agreement
from interlock.agreement.yamlsource import load_yaml_bytes
from interlock.analysis import analyse, parse_values, to_json
from interlock.engine import evaluate
from interlock.errors import BadParameterError
from interlock.server.dashboard import router
from interlock.server.dashboard.adapter import status_json
from interlock.server.dashboard.analysis_page import MAX_BODY, MAX_DRAFT, MAX_VALUES
from interlock.server.dashboard.analysis_view import LINES, Options, build_analysis_view, ranges, read_options
from interlock.server.dashboard.source import MemorySource
from serverkit import AGREEMENT_ID, adoptions, registered_app

PLANS = DATA / "analysis"
THREE = (PLANS / "three-steps.yaml").read_bytes()
THREE_VALUES = (PLANS / "three-steps.values.yaml").read_bytes()
UNVERIFIED = (DATA / "dashboard" / "analysis" / "unverified.yaml").read_bytes()
INTERLOCK = str(Path(sys.executable).parent / "interlock")


def memory_app(*plans: bytes, seconds: float | None = None) -> FastAPI:
    """The dashboard over empty logs of `plans` (the analysis never reads the log)."""
    app = FastAPI()
    sources = {}
    for raw in plans:
        agreement = load_agreement(raw)
        sources[agreement.id] = MemorySource(
            agreement, [], lambda at, a=agreement: status_json(evaluate(a, [], at)))  # type: ignore[misc]
    app.state.dashboard_sources = sources
    app.state.clock = lambda: datetime(2026, 3, 9, tzinfo=UTC)
    if seconds is not None:
        app.state.analysis_seconds = seconds
    app.include_router(router)
    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(memory_app(THREE, UNVERIFIED)) as c:
        yield c


@pytest.fixture(scope="module")
def store_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The whole server over a real SQLite store, with the conformance agreement registered."""
    with registered_app(tmp_path_factory.mktemp("analysis-store") / "log.db") as c:
        yield c


def cell(html: str, metric: str, side: str) -> tuple[str, str]:
    """(figure, witness words) of one side in one row of the per-side table."""
    row = re.search(rf'<tr data-metric="{metric}">(.*?)</tr>', html, re.S)
    assert row, metric
    found = re.search(rf'<td data-side="{side}"><span class="figure">([^<]*)</span>'
                      r'(?:<span class="witness">([^<]*)</span>)?', row.group(1))
    assert found, (metric, side)
    return unescape(found.group(1)), unescape(found.group(2) or "")


def finding(html: str, name: str) -> str:
    found = re.search(rf'<dd data-finding="{name}">(.*?)</dd>', html, re.S)
    assert found, name
    return unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


def cli_json(plan: Path, *args: str) -> dict[str, Any]:
    done = subprocess.run([INTERLOCK, "analyze", str(plan), *args, "--format", "json"],
                          capture_output=True, text=True, timeout=120, check=True)
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def pct_text(value: float) -> str:
    return f"{round(value, 1):g} %"


def days_text(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") + " %·days"


# --- the view-model, without a server ----------------------------------------------------------


def test_view_model_shows_the_worked_example_of_docs_analysis() -> None:
    """docs/analysis.md section 5, deadline schedule: withdraw at 1 d (verified 1 d 6 h), release
    at 3 d 6 h (verified 3 d 12 h), answer at 4 d 12 h (verified 4 d 18 h).  A is exposed 30 of
    60 from 1 d to 3 d 12 h: 50 %, 75 value·days = 125 %·days.  B never is."""
    agreement = load_agreement(THREE)
    valuation = parse_values(load_yaml_bytes(THREE_VALUES).data, agreement)
    view = build_analysis_view(to_json(analyse(agreement, valuation, "deadline")))
    a, b = 0, 1
    top = view.metric("max_exposure").cells
    assert top[a].text == "50 %" and top[b].text == "0 %"
    assert top[a].detail == ("30 of 60; at step 0, 3 Mar 2026 00:00 UTC (+1 d); handed over: withdraw; "
                             "awaiting: release")
    assert top[b].detail == "never exposed"
    assert [c.text for c in view.metric("integral").cells] == ["125 %·days", "0 %·days"]
    assert view.metric("integral").cells[a].detail == "75 value·days"
    assert [c.text for c in view.metric("asymmetry").cells] == ["+50 points", "0 points"]
    assert view.metric("asymmetry").cells[b].detail == "integral −125 %·days"
    assert [c.text for c in view.metric("largest_step").cells] == ["50 %", "100 %"]
    assert [c.text for c in view.metric("worse_off").cells] == ["after step 0", "never"]
    assert [c.text for c in view.metric("gains_by_stopping").cells] == ["after steps 0, 1", "never"]
    assert [c.text for c in view.metric("temptation").cells] == [
        "30: saves 30, forgoes 0, penalty 0", "no cut where stopping pays"]
    assert [c.text for c in view.metric("waits").cells] == ["release (no consequence)", "none"]
    assert [c.text for c in view.metric("trust_steps").cells] == ["none", "none"]
    assert view.structure.duration == "4 d 18 h"
    assert view.structure.critical_path[-1][:2] == ("+4 d 18 h", "answer #1 verified")
    assert view.weights == "each side's own valuations (points)" and view.notes == ()
    assert [(r.offset, r.values) for r in view.curve] == [("+1 d", ("50 %", "0 %")), ("+3 d 12 h", ("0 %", "0 %"))]
    assert "Side A (solid line, round markers) peaks at 50 % at +1 d and ends at 0 %." in view.chart_alt
    assert "Side B (dashed line, square markers) stays at 0 %." in view.chart_alt
    assert [(s.index, s.obligation, s.by, s.offset) for s in view.steps] == [
        (0, "withdraw", "Side A", "+1 d"), (1, "release", "Side B", "+3 d 6 h"), (2, "answer", "Side A", "+4 d 12 h")]


def test_chart_words_describe_the_chart_styles() -> None:
    from interlock.analysis_chart import STYLES

    lines = {"-": "solid line", "--": "dashed line", ":": "dotted line", "-.": "dash-dot line"}
    marks = {"o": "round markers", "s": "square markers", "^": "triangle markers", "D": "diamond markers"}
    assert tuple(f"{lines[style]}, {marks[marker]}" for style, _, marker in STYLES) == LINES


def test_options_round_trip() -> None:
    for schedule in ("optimistic", "deadline"):
        for flag in (False, True):
            options = Options(schedule, flag)  # type: ignore[arg-type]
            assert read_options(options.query()) == options
    assert read_options({"schedule": "deadline", "assume_monitor": "on"}) == Options("deadline", True)


@given(st.lists(st.integers(0, 60), max_size=30))
def test_step_ranges_spell_out_the_same_steps(steps: list[int]) -> None:
    shown: set[int] = set()
    for part in filter(None, ranges(steps).split(", ")):
        low, _, high = part.partition("–")
        assert not high or int(high) - int(low) >= 2  # only runs of three or more are shortened
        shown.update(range(int(low), int(high or low) + 1))
    assert shown == set(steps)


@given(st.text(max_size=12).filter(lambda s: s.strip() not in ("", "optimistic", "deadline")))
def test_any_other_schedule_is_refused(text: str) -> None:
    with pytest.raises(BadParameterError):
        read_options({"schedule": text})


# --- a registered agreement ---------------------------------------------------------------------


def test_registered_page_shows_the_figures_of_interlock_analyze(client: TestClient) -> None:
    """Equal weights, deadline schedule, adoption 1 Jan 2000 (the plan has no fixed time), no lag.
    A hands over withdraw (1/2 of A's total) at 1 d, verified at once, and waits for the release
    due 2 d after s2 opens: 50 % from 1 d to 3 d = 100 %·days.  B hands over the release (all of
    B's total) at 3 d having received withdraw (half of what B receives): 50 % until the answer
    at 4 d = 50 %·days.  Duration 4 d."""
    page = client.get("/agreements/three-steps/analysis", params={"schedule": "deadline"})
    assert page.status_code == 200
    html = page.text
    assert cell(html, "max_exposure", "a")[0] == "50 %" and "(+1 d)" in cell(html, "max_exposure", "a")[1]
    assert cell(html, "max_exposure", "b")[0] == "50 %" and "(+3 d)" in cell(html, "max_exposure", "b")[1]
    assert cell(html, "integral", "a")[0] == "100 %·days" and cell(html, "integral", "b")[0] == "50 %·days"
    assert cell(html, "asymmetry", "a")[1].startswith("integral +50 %·days")
    assert "4 d from adoption" in finding(html, "duration")
    assert "equal weights for Side A, Side B" in html
    cli = cli_json(PLANS / "three-steps.yaml", "--schedule", "deadline")
    for side in ("a", "b"):
        assert cell(html, "max_exposure", side)[0] == pct_text(cli["exposure"][side]["max"]["pct"])
        assert cell(html, "integral", side)[0] == days_text(cli["exposure"][side]["integral"]["pct_days"])
    # the dashboard's page: its nav, its CSP, no polling (a simulation does not change with the log)
    assert re.search(r'href="/agreements/three-steps/analysis" aria-current="page">Analysis<', html)
    assert "script-src 'self'" in page.headers["content-security-policy"] and "hx-get" not in html
    assert 'src="/agreements/three-steps/analysis.svg?schedule=deadline"' in html
    assert re.search(r'<img id="exposure-chart" [^>]*alt="Exposure over time[^"]+Side A \(solid line', html)
    assert "interlock analyze three-steps.yaml --schedule deadline --format json" in html
    chart = client.get("/agreements/three-steps/analysis.svg", params={"schedule": "deadline"})
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
    assert "script" not in chart.headers["content-security-policy"]
    root = ET.fromstring(chart.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = "".join(root.itertext())
    assert "Three-step exchange" in texts and "deadline schedule, equal weights" in texts and "max 50%" in texts
    overview = client.get("/agreements/three-steps").text
    assert 'href="/agreements/three-steps/analysis">Analysis</a>' in overview


def test_structure_findings_and_the_what_if(client: TestClient) -> None:
    html = client.get("/agreements/unverified/analysis").text
    assert finding(html, "never-open").strip() == "s2: pay can never be verified"
    assert "pay, goods, refund: no `verify`, and the agreement has no monitor to verify it" in finding(
        html, "unverifiable")
    assert "pay by Side A at 2 Jan 2000 00:00 UTC (+1 d)" in finding(html, "breaches")
    assert finding(html, "deadlocks").strip() == "none" and finding(html, "not-in-run").strip() == "none"
    what_if = client.get("/agreements/unverified/analysis", params={"assume_monitor": "1"}).text
    assert "an assumed monitor verifies pay, goods, refund" in what_if
    assert finding(what_if, "not-in-run").strip() == "fallback"  # pay is verified now: no breach
    assert "pay, goods, refund: no `verify`" in finding(what_if, "unverifiable")  # the plan as written


def test_bad_options_and_unknown_agreements_get_html_errors(client: TestClient) -> None:
    bad = client.get("/agreements/three-steps/analysis", params={"schedule": "soon"})
    assert bad.status_code == 400 and "schedule must be optimistic or deadline" in bad.text
    assert client.get("/agreements/three-steps/analysis.svg", params={"assume_monitor": "maybe"}).status_code == 400
    assert client.get("/agreements/nope/analysis").status_code == 404
    assert client.get("/agreements/nope/analysis.svg").status_code == 404


def test_registered_agreement_in_a_real_store(store_client: TestClient) -> None:
    """Before adoption the run starts where `interlock analyze` starts it; once the log records
    the adoption, the simulation starts there (`--start`), and the page says so."""
    before = store_client.get(f"/agreements/{AGREEMENT_ID}/analysis").text
    assert "not adopted yet" in before and "1 Jan 2000 00:00 UTC" in adopted_text(before)
    for envelope in adoptions():
        ack = store_client.post(f"/v1/agreements/{AGREEMENT_ID}/entries", content=json.dumps(envelope),
                                headers={"Content-Type": "application/json"})
        assert ack.status_code == 201, ack.text
    html = store_client.get(f"/agreements/{AGREEMENT_ID}/analysis").text
    moment = re.search(r'<dd id="adopted-at"><time datetime="([^"]+)">', html)
    assert moment and "when the agreement was adopted, as its log records it" in html
    assert moment.group(1) == store_client.get(f"/v1/agreements/{AGREEMENT_ID}/status").json()["adopted_at"]
    assert f"--start {moment.group(1)} --format json" in html
    cli = cli_json(DATA / "northland" / "agreement.yaml", "--start", moment.group(1))
    assert cli["adopted_at"] == moment.group(1)
    assert [s["id"] for s in cli["sides"]] == ["north", "south"]
    for side in ("north", "south"):
        assert cell(html, "max_exposure", side)[0] == pct_text(cli["exposure"][side]["max"]["pct"])
        assert cell(html, "integral", side)[0] == days_text(cli["exposure"][side]["integral"]["pct_days"])
    assert re.findall(r'<th scope="col" data-side="([^"]+)">', html) == ["north", "south"]  # the file's order
    chart = store_client.get(f"/agreements/{AGREEMENT_ID}/analysis.svg")
    assert chart.status_code == 200 and ET.fromstring(chart.content).tag.endswith("svg")


def adopted_text(html: str) -> str:
    found = re.search(r'<dd id="adopted-at">(.*?)</dd>', html, re.S)
    assert found
    return unescape(re.sub(r"<[^>]+>", "", found.group(1)))


# --- an uploaded draft ----------------------------------------------------------------------------


def upload(c: TestClient, draft: bytes, values: bytes | None = None, **fields: str) -> Any:
    files = {"draft": ("plan.yaml", draft, "application/yaml")}
    if values is not None:
        files["values"] = ("values.yaml", values, "application/yaml")
    return c.post("/analysis", files=files, data=fields)


def test_a_draft_is_analysed_and_nothing_is_stored(store_client: TestClient) -> None:
    form = store_client.get("/analysis")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert '<label for="draft">' in form.text and '<label for="values">' in form.text
    page = upload(store_client, THREE, THREE_VALUES, schedule="deadline")
    assert page.status_code == 200, page.text
    html = page.text
    assert cell(html, "max_exposure", "a") == ("50 %", "30 of 60; at step 0, 3 Mar 2026 00:00 UTC (+1 d); "
                                                       "handed over: withdraw; awaiting: release")
    assert cell(html, "integral", "a")[0] == "125 %·days" and cell(html, "max_exposure", "b")[0] == "0 %"
    assert "4 d 18 h from adoption" in finding(html, "duration")
    assert "each side&#39;s own valuations (points)" in html and "it is not registered" in html
    assert "no-consequence" in html  # the checker's warnings are shown, not hidden
    src = re.search(r'<img id="exposure-chart" src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert src, "the chart is inlined"
    root = ET.fromstring(base64.b64decode(src.group(1)))
    assert "deadline schedule" in "".join(root.itertext()) and "equal weights" not in "".join(root.itertext())
    equal = upload(store_client, THREE)
    assert equal.status_code == 200 and "equal weights for Side A, Side B" in equal.text
    assert cell(equal.text, "max_exposure", "b")[0] == "50 %"
    listed = store_client.get("/v1/agreements").json()["agreements"]
    assert [x["id"] for x in listed] == [AGREEMENT_ID]  # the drafts were never registered
    assert store_client.get("/agreements/three-steps").status_code == 404


def test_bad_drafts_get_a_4xx_page_with_the_checkers_findings(store_client: TestClient) -> None:
    refused = upload(store_client, (PLANS / "deadlock.yaml").read_bytes())
    assert refused.status_code == 422
    codes = re.findall(r'<tr data-code="([^"]+)">', refused.text)
    assert "verifier-not-monitor" in codes and "condition-cycle" in codes
    assert 'data-code="agreement-invalid"' in refused.text and 'id="upload"' in refused.text  # try again
    garbage = upload(store_client, b"\xff\xfe not yaml")
    assert garbage.status_code == 422 and re.findall(r'<tr data-code="([^"]+)">', garbage.text)
    values = upload(store_client, THREE, b"values: 1\nparties: {a: {nothing: 1}}\n")
    assert values.status_code == 422 and 'data-code="bad-values-file"' in values.text
    big = upload(store_client, b"#" * (MAX_DRAFT + 1))
    assert big.status_code == 413 and 'data-code="draft-too-large"' in big.text
    assert upload(store_client, THREE, b"#" * (MAX_VALUES + 1)).status_code == 413
    huge = upload(store_client, b"#" * (MAX_BODY + 1))
    assert huge.status_code == 413
    assert store_client.post("/analysis", data={"schedule": "deadline"}).status_code == 400
    assert store_client.post("/analysis", json={"draft": "x"}).status_code == 400
    assert upload(store_client, THREE, schedule="whenever").status_code == 400
    for response in (refused, garbage, values, big, huge):
        assert "Traceback" not in response.text and "script-src 'self'" in response.headers["content-security-policy"]
    assert [x["id"] for x in store_client.get("/v1/agreements").json()["agreements"]] == [AGREEMENT_ID]


def test_an_analysis_that_runs_too_long_is_stopped() -> None:
    """The server stops the analysing child at its limit.  The limit here (0.3 s) is shorter than a
    Python child takes just to start and import interlock, so the kill path runs whatever the
    machine's speed; the plan is made heavy as well."""
    heavy = THREE.replace(b"quantity: {amount: 10, unit: persons}",
                          b"quantity: {amount: 500, unit: persons}, tranches: 500")
    assert heavy != THREE
    with TestClient(memory_app(THREE, seconds=0.3)) as c:
        began = time.monotonic()
        page = upload(c, heavy)
        assert page.status_code == 422 and 'data-code="analysis-too-long"' in page.text
        assert time.monotonic() - began < 20


# --- in a real browser -----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.xdist_group("dashboard-browser")
def test_analysis_pages_in_a_real_browser(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Against `interlock demo`: the charts load under the strict CSP (no violation reported),
    the figures are those of `interlock analyze`, a draft uploads through the form, and axe
    finds no serious or critical violation at desktop or phone width."""
    aid = "northland-southland-2026"
    # the scenario's three adoptions are all logged by 3 Mar 2026 09:00 (scripts/make_demo_entries.py)
    cli = cli_json(ROOT / "examples" / "northland-southland.yaml", "--start", "2026-03-03T09:00:00Z")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with demo_server(tmp_path_factory.mktemp("demo")) as server, chromium() as browser:
        context = browser.new_context(viewport=SIZES["desktop"])
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{server}/agreements/{aid}/analysis")
        expect(page.locator('nav.pages a[aria-current="page"]')).to_have_text("Analysis")
        expect(page.locator("#adopted-at time")).to_have_attribute("datetime", "2026-03-03T09:00:00Z")
        for side in cli["sides"]:
            figure = page.locator(f'tr[data-metric="max_exposure"] td[data-side="{side["id"]}"] .figure')
            expect(figure).to_have_text(pct_text(cli["exposure"][side["id"]]["max"]["pct"]))
        expect(page.locator("#exposure-chart")).to_be_visible()
        assert page.evaluate("document.getElementById('exposure-chart').naturalWidth") > 0
        page.goto(f"{server}/analysis")
        page.set_input_files("#draft", str(PLANS / "three-steps.yaml"))
        page.set_input_files("#values", str(PLANS / "three-steps.values.yaml"))
        page.check('input[name="schedule"][value="deadline"]')
        page.click('#upload button[type="submit"]')
        expect(page.locator("h1")).to_contain_text("Three-step exchange")
        expect(page.locator('tr[data-metric="integral"] td[data-side="a"] .figure')).to_have_text("125 %·days")
        assert page.evaluate("document.getElementById('exposure-chart').naturalWidth") > 0  # data: image allowed
        assert errors == []  # a CSP violation would be reported here
        context.close()
        problems = {}
        for size, viewport in SIZES.items():
            context = browser.new_context(viewport=viewport, bypass_csp=True)  # lets axe's script in
            page = context.new_page()
            for name, go in (("registered", lambda p: p.goto(f"{server}/agreements/{aid}/analysis?schedule=deadline")),
                             ("draft", _upload_draft(server))):
                go(page)
                check_layout(page, shot=f"analysis-{name}-{size}", key=f"{name}-{size}", size=size,
                             width=viewport["width"], problems=problems)
            context.close()
        assert not problems, json.dumps(problems, indent=1)


def _upload_draft(server: str) -> Any:
    def go(page: Any) -> None:
        page.goto(f"{server}/analysis")
        page.set_input_files("#draft", str(PLANS / "three-steps.yaml"))
        page.click('#upload button[type="submit"]')
        expect(page.locator("h1")).to_contain_text("Three-step exchange")
        page.locator("details").evaluate_all("els => els.forEach(e => e.open = true)")  # tables checked too
    return go
