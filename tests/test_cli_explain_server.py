"""`interlock explain OBLIGATION --server URL`: the same words as `explain` on the same files.

A real server process on loopback keeps the northland log; `explain --server` must print exactly
what `explain AGREEMENT --entries FILE` prints for the agreement and entries fetched from that
server over plain HTTP, and fail with the same codes (`unknown-id`; `unknown-agreement` and
`server-unavailable` as `status --server` does) — never a traceback.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from interlock.timeutil import format_timestamp
from serverkit import (
    AGREEMENT,
    AGREEMENT_ID,
    adoptions,
    dumps,
    now_text,
    register_headers,
    run_cli,
    signed,
    start_server,
)


def fill(url: str) -> None:
    """Register northland and log: three adoptions, line A withdrawn (entry 3), 4 captives freed (entry 4)."""
    with httpx.Client(base_url=url, timeout=30) as http:
        assert http.post("/v1/agreements", content=AGREEMENT, headers=register_headers()).status_code == 201
        evidence = [
            signed("observers", "evidence", {"obligation": "withdraw-line-a", "observed_at": now_text()}),
            signed("red-cross", "evidence", {"obligation": "release-first", "units": 4, "observed_at": now_text(),
                                             "place": "Crossing B"}),
        ]
        for envelope in [*adoptions(), *evidence]:
            response = http.post(f"/v1/agreements/{AGREEMENT_ID}/entries", content=dumps(envelope),
                                 headers={"Content-Type": "application/json"})
            assert response.status_code == 201, response.text


def export(url: str, directory: Path) -> tuple[str, str]:
    """The served agreement document and entries, saved as files (read with httpx, not interlock)."""
    agreement = directory / "agreement.yaml"
    agreement.write_text(httpx.get(f"{url}/v1/agreements/{AGREEMENT_ID}", timeout=30).json()["document"])
    entries = directory / "entries.jsonl"
    entries.write_text(httpx.get(f"{url}/v1/agreements/{AGREEMENT_ID}/entries", params={"start": 0, "limit": 1000},
                                 timeout=30).text)
    return str(agreement), str(entries)


def test_explain_via_server_equals_explain_on_the_exported_files(tmp_path: Path) -> None:
    server = start_server(tmp_path, f"sqlite:///{tmp_path / 'log.db'}")
    try:
        fill(server.url)
        agreement, entries = export(server.url, tmp_path)
        assert len(Path(entries).read_text().splitlines()) == 5
        as_of = format_timestamp(datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1))

        for ident, log in (("release-first", ["--log", AGREEMENT_ID]), ("withdraw-line-a", []), ("s2", [])):
            remote = run_cli(["explain", ident, "--server", server.url, *log, "--as-of", as_of], tmp_path)
            local = run_cli(["explain", agreement, ident, "--entries", entries, "--as-of", as_of], tmp_path)
            assert remote.returncode == 0 and local.returncode == 0, remote.stderr + local.stderr
            assert remote.stdout == local.stdout
            assert remote.stdout.startswith(f"as of {as_of}\n")
        first = run_cli(["explain", "release-first", "--server", server.url, "--as-of", as_of], tmp_path).stdout
        assert "release-first (north → south): active" in first and "4 of 12 persons verified" in first
        assert "entry 4: 4 persons observed" in first  # the red-cross evidence is the fifth entry
        line_a = run_cli(["explain", "withdraw-line-a", "--server", server.url, "--as-of", as_of], tmp_path).stdout
        assert "withdraw-line-a (south → north): fulfilled" in line_a and "entry 3" in line_a

        unknown_local = run_cli(["explain", agreement, "nope", "--entries", entries], tmp_path)
        unknown_remote = run_cli(["explain", "nope", "--server", server.url], tmp_path)
        assert unknown_local.returncode == unknown_remote.returncode == 1
        assert unknown_local.stderr.startswith("error unknown-id:")
        assert unknown_remote.stderr.startswith("error unknown-id:") and "'nope'" in unknown_remote.stderr

        for command in (["explain", "release-first"], ["status"]):  # one code path, the same codes
            no_log = run_cli([*command, "--server", server.url, "--log", "no-such-log"], tmp_path)
            assert no_log.returncode == 1 and no_log.stderr.startswith("error unknown-agreement:"), no_log.stderr

        mixed = run_cli(["explain", agreement, "release-first", "--server", server.url], tmp_path)
        assert mixed.returncode == 2 and "--server" in mixed.stderr
        with_entries = run_cli(["explain", "release-first", "--server", server.url, "--entries", entries], tmp_path)
        assert with_entries.returncode == 2
    finally:
        server.stop()
    for command in (["explain", "release-first"], ["status"]):
        gone = run_cli([*command, "--server", server.url], tmp_path)
        assert gone.returncode == 1 and gone.stderr.startswith("error server-unavailable:"), gone.stderr
        assert server.url in gone.stderr
    outputs = [unknown_remote, no_log, mixed, with_entries, gone]
    assert not any("Traceback" in run.stderr for run in outputs)
