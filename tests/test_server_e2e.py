"""End to end through real processes: a server, two witnesses and a serving mirror.

Everything goes through the `interlock` command as a user would run it: `witness serve`,
`serve --witness …`, `register`, `submit` with several parties' keys, `mirror --serve`,
`verify --server` (against the server and against the mirror) and `status --server`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx

from interlock.checkpoint import cosigner_vkey, open_checkpoint
from interlock.note import signer_from_seed
from interlock.timeutil import format_timestamp
from serverkit import AGREEMENT_ID, DATA, Proc, log_vkey, run_cli, start_server, until, write_keys

WITNESSES = [signer_from_seed(f"guarantor-{n}", hashlib.sha256(f"e2e witness {n}".encode()).digest()) for n in (1, 2)]


def observed_now() -> str:
    return format_timestamp(datetime.now(UTC).replace(microsecond=0))


def test_server_witnesses_mirror_and_verify_as_real_processes(tmp_path: Path) -> None:
    keys = write_keys(tmp_path / "keys")
    procs: list[Proc] = []
    try:
        urls = []
        for signer in WITNESSES:
            (tmp_path / f"{signer.name}.skey").write_text(signer.skey + "\n")
            witness = Proc(["witness", "serve", "--key", f"{signer.name}.skey", "--log-key", log_vkey(),
                            "--db", f"{signer.name}.db", "--port", "0"], tmp_path, signer.name).started()
            procs.append(witness)
            urls.append(f"{witness.url}={cosigner_vkey(signer)}")
        server = start_server(tmp_path, f"sqlite:///{tmp_path / 'log.db'}", "--witness", urls[0], "--witness",
                              urls[1], "--witness-interval", "0.2")
        procs.append(server)

        registered = run_cli(["register", str(DATA / "northland" / "agreement.yaml"), "--server", server.url,
                              "--operator-key", str(keys["operator"])], tmp_path)
        assert registered.returncode == 0, registered.stderr
        assert json.loads(registered.stdout)["log_key"] == log_vkey()

        def submit(party: str, kind: str, body: dict[str, object]) -> dict[str, object]:
            done = run_cli(["submit", "--server", server.url, "--key", str(keys[party]), "--type", kind,
                            "--body", json.dumps(body)], tmp_path)
            assert done.returncode == 0, done.stderr
            ack: dict[str, object] = json.loads(done.stdout)
            return ack

        for party in ("north", "south", "east"):
            submit(party, "adopt", {})
        submit("observers", "evidence", {"obligation": "withdraw-line-a", "observed_at": observed_now()})
        ack = submit("red-cross", "evidence", {"obligation": "release-first", "units": 4,
                                               "observed_at": observed_now(), "place": "Crossing B"})
        assert ack["index"] == 4
        refused = run_cli(["submit", "--server", server.url, "--key", str(keys["south"]), "--type", "evidence",
                           "--body", json.dumps({"obligation": "withdraw-line-a", "observed_at": observed_now()})],
                          tmp_path)
        assert refused.returncode == 1 and "self-verification" in refused.stderr

        witness_keys = [cosigner_vkey(s) for s in WITNESSES]
        checkpoint_url = f"{server.url}/v1/agreements/{AGREEMENT_ID}/checkpoint"

        def fully_cosigned() -> str | None:
            note = httpx.get(checkpoint_url, timeout=10).text
            opened = open_checkpoint(note, log_vkey(), witness_keys)
            return note if opened.checkpoint.size == 5 and len(opened.cosignatures) == 2 else None

        until(fully_cosigned, timeout=30)

        mirror = Proc(["mirror", "--server", server.url, "--db", f"sqlite:///{tmp_path / 'mirror.db'}", "--serve",
                       "--port", "0", "--log-key", log_vkey(), "--witness-key", witness_keys[0], "--witness-key",
                       witness_keys[1], "--min-cosignatures", "2", "--interval", "0.2"], tmp_path, "mirror").started()
        procs.append(mirror)
        mirrored = f"{mirror.url}/v1/agreements/{AGREEMENT_ID}/checkpoint"
        until(lambda: httpx.get(mirrored, timeout=10).text == fully_cosigned(), timeout=30)

        trust = ["--log-key", log_vkey(), "--witness-key", witness_keys[0], "--witness-key", witness_keys[1],
                 "--min-cosignatures", "2"]
        for url in (server.url, mirror.url):
            verified = run_cli(["verify", "--server", url, *trust], tmp_path)
            assert verified.returncode == 0, verified.stdout + verified.stderr
            assert "5 entries" in verified.stdout and "2 witness cosignatures" in verified.stdout
        stranger = cosigner_vkey(signer_from_seed("guarantor-3", hashlib.sha256(b"nobody").digest()))
        demanding = run_cli(["verify", "--server", server.url, "--log-key", log_vkey(), "--witness-key", stranger,
                             "--min-cosignatures", "1"], tmp_path)
        assert demanding.returncode == 1  # cosignatures by unknown witnesses do not count

        as_of = observed_now()
        local = run_cli(["status", "--server", server.url, "--as-of", as_of, "--format", "json"], tmp_path)
        assert local.returncode == 0, local.stderr
        computed = json.loads(local.stdout)
        served = httpx.get(f"{server.url}/v1/agreements/{AGREEMENT_ID}/status", params={"as_of": as_of}).json()
        assert computed == served
        assert computed["stages"]["s2"]["state"] == "open"
        assert computed["obligations"]["release-first"]["verified"] == 4
        assert computed["obligations"]["withdraw-line-a"]["state"] == "fulfilled"
        explained = httpx.get(f"{server.url}/v1/agreements/{AGREEMENT_ID}/obligations/withdraw-line-a").json()
        assert explained["status"]["state"] == "fulfilled" and explained["definition"]["by"] == "south"
        assert explained["reasons"][0].startswith("withdraw-line-a (south → north): fulfilled")
        assert "entry 3" in explained["reasons"][-1]
    finally:
        for proc in reversed(procs):
            proc.stop()
