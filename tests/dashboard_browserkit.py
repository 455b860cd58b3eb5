"""Shared by the dashboard's real-browser tests: the demo server, Chromium, and axe-core.

`demo_server(directory)` runs `interlock demo --port 0` (the signed Northland–Southland
scenario replayed through the real HTTP API into a fresh SQLite log, served by the real
server) and yields its base URL; `chromium()` launches the distribution's Chromium through
Playwright (never a downloaded browser); `axe_violations(page)` runs the vendored axe-core
and returns its serious and critical violations.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from conftest import DATA, ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
AXE = DATA / "dashboard" / "axe" / "axe.min.js"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@contextmanager
def demo_server(data: Path) -> Iterator[str]:
    """`interlock demo --port 0` in a subprocess under `data`; yields its base URL; stops it by its pid."""
    interlock = Path(sys.executable).parent / "interlock"
    proc = subprocess.Popen(
        [str(interlock), "demo", "--examples", str(ROOT / "examples"), "--data", str(data / "demo-data"),
         "--port", "0"],
        cwd=data, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or []], daemon=True).start()
    seen: list[str] = []
    url = None
    try:
        while url is None:
            try:
                line = lines.get(timeout=90)
            except queue.Empty:
                pytest.fail("interlock demo did not start serving:\n" + "".join(seen))
            seen.append(line)
            if line.startswith("listening on "):
                url = line.split()[-1]
        assert any("Logged 66 signed statements" in x for x in seen), "".join(seen)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})""")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def check_layout(page: Page, *, shot: str, key: str, size: str, width: int, problems: dict[str, Any]) -> None:
    """Screenshot the page to `shot`.png; on a phone nothing may force sideways scrolling; the
    page's serious axe-core violations are collected under `key` in `problems`."""
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    if size == "phone":
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{key} is {scroll}px wide on a phone"
    found = axe_violations(page)
    if found:
        problems[key] = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in found]
