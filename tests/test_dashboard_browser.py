"""The dashboard in a real browser (the distribution's Chromium, driven by Playwright) against
`interlock demo` started as a subprocess: the signed Northland–Southland scenario replayed
through the real HTTP API into a fresh SQLite log, served by the real server.

The states expected at each moment are worked out by hand from the scenario
(scripts/make_demo_entries.py, whose comments tell the story) and the agreement; each is also
cross-checked with the server's answer (`GET /v1/…/status?as_of=`) and with `interlock status
--server`, which reads the log and evaluates it locally.  Screenshots of every page at desktop
and phone widths go to test-artifacts/dashboard/.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from conftest import ROOT
from dashboard_browserkit import ARTIFACTS, SIZES, axe_violations, check_layout, chromium, demo_server
from interlock.agreement import load_agreement
from interlock.statements import sign_statement

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("dashboard-browser")]

AID = "northland-southland-2026"

# --- what the scenario says, worked out by hand ----------------------------------------------
# 5 Mar 12:00 — adopted 3 Mar 09:00 (entries 0–3).  Both counts verified before their 5 Mar 09:00
# deadline (5+6, 9); line A left at 07:30 on 4 Mar, confirmed by a second monitor at 10:00 (7, 8):
# s1 complete, s2 opened 4 Mar 10:00.  4 of 12 persons freed (12); 120 owed in answer, due 6 Mar.
# Talks start once 6 are freed: pending.  Entry 11 is an unattributed incident: no breach.
AT_5_MARCH = {
    "stages": {"s1": "complete", "s2": "open", "s3": "locked", "s4": "locked"},
    "obligations": {
        "ceasefire-north": "active", "ceasefire-south": "active", "count-north": "fulfilled",
        "count-south": "fulfilled", "withdraw-line-a": "fulfilled", "release-first": "active",
        "release-prisoners-first": "active", "aid-trucks": "active", "talks-north": "pending",
        "talks-south": "pending", "withdraw-line-b": "pending", "release-second": "pending",
        "release-prisoners-second": "pending", "review": "pending",
    },
}
# 9 Mar 12:00 — an incident naming ceasefire-north with attribution confirmed (19, 20): breached,
# so s1 is breached.  The one naming ceasefire-south had its attribution left unconfirmed (15, 16).
# release-first reached 12/12 at 20:40 on 7 Mar, after its 7 Mar 10:00 deadline but inside the
# 12 h grace: late.  Its three answering groups: on time, 40 min late within 90 min grace, on time:
# late.  Talks started (8 ≥ 6 freed) and are due 19 Mar: active.  Every full day ≥ 600 trucks.
AT_9_MARCH = {
    "stages": {"s1": "breached", "s2": "open", "s3": "locked", "s4": "locked"},
    "obligations": {
        **AT_5_MARCH["obligations"], "ceasefire-north": "breached", "release-first": "late",
        "release-prisoners-first": "late", "talks-north": "active", "talks-south": "active",
    },
}
# 20 Mar 12:00 — both talks verified on 10 Mar (30–32): s2 complete; s3 opened 18 Mar 10:00
# (14 days after s2 opened).  The dispute of a truck count was rejected by both guarantors.
AT_20_MARCH = {
    "stages": {"s1": "breached", "s2": "complete", "s3": "open", "s4": "locked"},
    "obligations": {
        **AT_9_MARCH["obligations"], "talks-north": "fulfilled", "talks-south": "fulfilled",
        "withdraw-line-b": "active", "release-second": "active", "release-prisoners-second": "active",
    },
}
# 2 Apr 00:00 — line B left on 26 Mar inside its extended deadline (51, 54, 55); the second
# exchange completed on time (57–63): s3 complete 30 Mar 12:00, which closed the aid window
# (never short) and opened s4; the review was held on 1 Apr (64).
AT_2_APRIL = {
    "stages": {"s1": "breached", "s2": "complete", "s3": "complete", "s4": "complete"},
    "obligations": {
        **AT_20_MARCH["obligations"], "aid-trucks": "fulfilled", "withdraw-line-b": "fulfilled",
        "release-second": "fulfilled", "release-prisoners-second": "fulfilled", "review": "fulfilled",
    },
}
MOMENTS = {
    "2026-03-05T12:00:00Z": AT_5_MARCH,
    "2026-03-09T12:00:00Z": AT_9_MARCH,
    "2026-03-20T12:00:00Z": AT_20_MARCH,
    "2026-04-02T00:00:00Z": AT_2_APRIL,
}


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`interlock demo --port 0` in a subprocess; yields its base URL; stops it by its pid."""
    with demo_server(tmp_path_factory.mktemp("demo")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=SIZES["desktop"])
    yield context.new_page()
    context.close()


def states_on(page: Page) -> dict[str, dict[str, str]]:
    """Every stage's and obligation's state as the overview shows it."""
    out: dict[str, dict[str, str]] = {"stages": {}, "obligations": {}}
    for item in page.locator("li[data-stage]").all():
        out["stages"][item.get_attribute("data-stage") or "?"] = item.get_attribute("data-state") or "?"
    for item in page.locator("li[data-obligation]").all():
        out["obligations"][item.get_attribute("data-obligation") or "?"] = item.get_attribute("data-state") or "?"
    return out


# --- the overview at several moments, and live -----------------------------------------------------


def test_overview_shows_the_scenario_at_each_moment(server: str, page: Page) -> None:
    for moment, expected in MOMENTS.items():
        page.goto(f"{server}/agreements/{AID}?as_of={moment}")
        shown = states_on(page)
        assert shown == expected, moment
        engine = httpx.get(f"{server}/v1/agreements/{AID}/status", params={"as_of": moment}).json()
        assert {k: v["state"] for k, v in engine["stages"].items()} == shown["stages"], moment
        assert {k: v["state"] for k, v in engine["obligations"].items()} == shown["obligations"], moment
        # and as any reader computes it offline: `interlock status` reads the log and evaluates locally
        local = subprocess.run(
            [str(Path(sys.executable).parent / "interlock"), "status", "--server", server, "--log", AID,
             "--as-of", moment, "--format", "json"], capture_output=True, text=True, timeout=60, check=True)
        computed = json.loads(local.stdout)
        assert {k: v["state"] for k, v in computed["stages"].items()} == shown["stages"], moment
        assert {k: v["state"] for k, v in computed["obligations"].items()} == shown["obligations"], moment
        # every state is told in words too, not by colour alone
        for oid, state in expected["obligations"].items():
            badge = page.locator(f'li[data-obligation="{oid}"] .badge').first
            expect(badge).to_contain_text(state.capitalize())
    page.goto(f"{server}/agreements/{AID}?as_of=2026-03-05T12:00:00Z")
    first = page.locator('li[data-obligation="release-first"]')
    expect(first).to_contain_text("4 of 12 persons verified")
    expect(first).to_contain_text("due in 1 d 22 h (7 Mar 2026 10:00 UTC)")  # from 5 Mar 12:00
    expect(page.locator("#stage-s3 .opens")).to_contain_text("14 d after stage 2 (First exchange) opened")


def test_overview_changes_without_reload_when_a_statement_arrives(server: str, page: Page) -> None:
    page.goto(f"{server}/agreements/{AID}")
    target = page.locator('li[data-obligation="ceasefire-south"]')
    expect(target).to_have_attribute("data-state", "active")
    page.evaluate("window.__sameDocument = true")
    agreement = load_agreement((ROOT / "examples" / "northland-southland.yaml").read_bytes())
    now = datetime.now(UTC).replace(microsecond=0)
    statement = {
        "type": "incident", "agreement": agreement.hash, "author": "observers", "key": "observers-1",
        "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "nonce": f"browser-test-{now.timestamp():.0f}",
        "body": {"obligation": "ceasefire-south", "observed_at": (now - timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"), "place": "Ridge Road", "description": "Artillery fire observed from the south."},
    }
    envelope = sign_statement(statement, "observers-1", hashlib.sha256(b"demo:observers-1").digest())
    ack = httpx.post(f"{server}/v1/agreements/{AID}/entries", content=json.dumps(envelope),
                     headers={"Content-Type": "application/json"})
    assert ack.status_code == 201, ack.text
    expect(target).to_have_attribute("data-state", "breached", timeout=20_000)
    assert page.evaluate("window.__sameDocument === true")  # updated in place, not reloaded
    expect(page.locator("#live-note")).to_contain_text("1 new log entry")


# --- the proof check in the reader's browser --------------------------------------------------------


def _verify(page: Page, index: int) -> Any:
    page.locator(f'.verify[data-verify-index="{index}"] button').click()
    output = page.locator(f'.verify[data-verify-index="{index}"] output')
    expect(output).to_have_attribute("data-outcome", re.compile("^(ok|fail)$"))
    return output


def test_inclusion_proof_checked_in_the_browser(server: str, page: Page) -> None:
    page.goto(f"{server}/agreements/{AID}/log")
    for index in (0, 12, 65):
        output = _verify(page, index)
        expect(output).to_have_attribute("data-outcome", "ok")
        expect(output).to_contain_text(f"Verified: entry {index}")
        expect(output).to_contain_text("signature by the log key interlock-demo/northland-southland-2026+")


def test_tampered_proof_or_entry_fails_in_the_browser(server: str, page: Page) -> None:
    def flip_first_hash(route: Route) -> None:
        response = route.fetch()
        data = response.json()
        first = bytearray(base64.b64decode(data["proof"][0]))
        first[0] ^= 1
        data["proof"][0] = base64.b64encode(bytes(first)).decode()
        route.fulfill(response=response, json=data)

    page.route("**/proofs/inclusion*", flip_first_hash)
    page.goto(f"{server}/agreements/{AID}/log")
    output = _verify(page, 12)
    expect(output).to_have_attribute("data-outcome", "fail")
    expect(output).to_contain_text("Not verified")
    page.unroute("**/proofs/inclusion*")

    def later_time(route: Route) -> None:  # the server lies about when it took the entry
        response = route.fetch()
        data = response.json()
        data["integrated_at"] = "2026-03-05T11:01:00Z"
        route.fulfill(response=response, json=data)

    page.route("**/v1/agreements/*/entries/12", later_time)
    page.reload()
    output = _verify(page, 12)
    expect(output).to_have_attribute("data-outcome", "fail")


def test_forged_checkpoint_signature_fails_in_the_browser(server: str, page: Page) -> None:
    def forge(route: Route) -> None:  # one bit of the log's signature flipped
        response = route.fetch()
        body, _, sigs = response.text().partition("\n\n")
        name, sig = sigs.splitlines()[0][2:].rsplit(" ", 1)
        raw = bytearray(base64.b64decode(sig))
        raw[10] ^= 1
        forged = f"{body}\n\n— {name} {base64.b64encode(bytes(raw)).decode()}\n"
        route.fulfill(response=response, body=forged)

    page.goto(f"{server}/agreements/{AID}/log")
    expect(page.locator("#log-key")).to_contain_text("interlock-demo/northland-southland-2026+")
    page.route("**/checkpoint", forge)
    output = _verify(page, 3)
    expect(output).to_have_attribute("data-outcome", "fail")
    expect(output).to_contain_text("does not verify")


def test_consistency_since_last_visit(server: str, page: Page) -> None:
    page.goto(f"{server}/agreements/{AID}/log")
    page.locator("#consistency-button").click()
    result = page.locator("#consistency-result")
    expect(result).to_have_attribute("data-outcome", "ok")
    expect(result).to_contain_text("First check from this browser")
    page.locator("#consistency-button").click()
    expect(result).to_contain_text("Unchanged since your last check")
    # a log that shrank since the last visit is two histories
    page.evaluate("""() => {
        const k = Object.keys(localStorage).find(x => x.startsWith('interlock:checkpoint:'));
        const v = JSON.parse(localStorage.getItem(k));
        v.size = v.size + 5;
        localStorage.setItem(k, JSON.stringify(v));
    }""")
    page.locator("#consistency-button").click()
    expect(result).to_have_attribute("data-outcome", "fail")


# --- every page: screenshots, accessibility, print ---------------------------------------------------

PAGES = {
    "index": "/",
    "overview": f"/agreements/{AID}",
    "overview-as-of": f"/agreements/{AID}?as_of=2026-03-07T12:00:00Z",
    "obligation-rate": f"/agreements/{AID}/obligations/aid-trucks",
    "obligation-tranches": f"/agreements/{AID}/obligations/release-prisoners-first",
    "timeline": f"/agreements/{AID}/timeline?party=observers",
    "incidents": f"/agreements/{AID}/incidents",
    "log": f"/agreements/{AID}/log",
    "entry": f"/agreements/{AID}/entries/12",
}


def test_every_page_at_desktop_and_phone_width_passes_axe(server: str, browser: Browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with browser.new_context() as probe:  # the check itself can fail: a picture without words
        bad = probe.new_page()
        bad.set_content('<html lang="en"><title>t</title><img src="x.png">')
        assert [v["id"] for v in axe_violations(bad)] == ["image-alt"]
    problems = {}
    for size, viewport in SIZES.items():
        context = browser.new_context(viewport=viewport, bypass_csp=True)  # lets axe's script in
        page = context.new_page()
        for name, path in PAGES.items():
            response = page.goto(server + path)
            assert response is not None and response.status == 200, path
            check_layout(page, shot=f"{name}-{size}", key=f"{name}-{size}", size=size, width=viewport["width"],
                         problems=problems)
        context.close()
    assert not problems, json.dumps(problems, indent=1)


def test_print_stylesheet_hides_controls(server: str, page: Page) -> None:
    page.goto(f"{server}/agreements/{AID}")
    expect(page.locator(".travel-form")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".travel-form")).to_be_hidden()
    expect(page.locator("nav.pages")).to_be_hidden()
    expect(page.locator("#stage-s1")).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(ARTIFACTS / "overview-print.pdf"), format="A4")


def test_keyboard_reaches_content_first(server: str, page: Page) -> None:
    page.goto(f"{server}/agreements/{AID}")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


# --- the browser's Merkle and JCS code against the Python reference ------------------------------


def test_browser_proof_code_agrees_with_interlock_tlog(server: str, page: Page) -> None:
    """verify.js's RFC 9162 checks accept every proof `interlock.tlog` makes for trees of 1–17
    leaves and reject each one with a flipped bit; its RFC 8785 output equals `rfc8785`'s."""
    import rfc8785

    from interlock.tlog import consistency_proof, inclusion_proof, leaf_hash, root_hash

    leaves = [f"leaf {i}".encode() for i in range(17)]
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    inclusion, consistency = [], []
    for size in range(1, 18):
        root = b64(root_hash(leaves[:size]))
        for index in range(size):
            inclusion.append({"leaf": b64(leaf_hash(leaves[index])), "index": index, "size": size, "root": root,
                              "proof": [b64(h) for h in inclusion_proof(leaves[:size], index)]})
        for old in range(1, size):
            consistency.append({"old": old, "new": size, "oldRoot": b64(root_hash(leaves[:old])), "newRoot": root,
                                "proof": [b64(h) for h in consistency_proof(leaves[:size], old)]})
    values = [{"b": "é\u2028\u00e9\U0001f600", "a": [1, 1.5, -0.0, 1e21, 1e-7, True, None], "\u00e9": {"z": "\n\t\""}},
              {"integrated_at": "2026-03-05T11:00:00Z", "envelope": {"payload": "eyJ9", "signatures": []}}]
    page.goto(f"{server}/agreements/{AID}/log")
    outcome = page.evaluate("""async ([inclusion, consistency, values]) => {
        const V = window.InterlockVerify, b = V.b64decode;
        const flip = (h) => { const c = b(h); c[0] ^= 1; return c; };
        const fails = async (f) => { try { await f(); return false; } catch (e) { return true; } };
        const out = {ok: 0, bad: [], caught: 0, jcs: values.map(V.canonicalJSON)};
        for (const c of inclusion) {
            const proof = c.proof.map(b);
            if (await V.verifyInclusion(b(c.leaf), c.index, c.size, proof, b(c.root))) out.ok++;
            if (await fails(() => V.verifyInclusion(flip(c.leaf), c.index, c.size, proof, b(c.root)))) out.caught++;
            else out.bad.push(['leaf', c.index, c.size]);
            if (proof.length) {
                const wrong = proof.slice(); wrong[0] = flip(c.proof[0]);
                if (await fails(() => V.verifyInclusion(b(c.leaf), c.index, c.size, wrong, b(c.root)))) out.caught++;
                else out.bad.push(['path', c.index, c.size]);
            }
        }
        for (const c of consistency) {
            const proof = c.proof.map(b);
            if (await V.verifyConsistency(c.old, c.new, b(c.oldRoot), b(c.newRoot), proof)) out.ok++;
            const forged = () => V.verifyConsistency(c.old, c.new, flip(c.oldRoot), b(c.newRoot), proof);
            if (await fails(forged)) out.caught++; else out.bad.push(['old root', c.old, c.new]);
        }
        return out;
    }""", [inclusion, consistency, values])
    assert outcome["bad"] == []
    assert outcome["ok"] == len(inclusion) + len(consistency)
    assert outcome["jcs"] == [rfc8785.dumps(v).decode() for v in values]
