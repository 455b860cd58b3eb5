"""Benchmark of the HTTP server (not a test): one run, figures printed as Markdown.

    .venv/bin/python benchmarks/server.py [--requests 2000] [--concurrency 16] [--quick]

On loopback, with a bounded load generator (asyncio + httpx, a fixed number of requests
from `--concurrency` concurrent clients), it measures req/s and p50/p99 latency of:

* a trivial FastAPI endpoint under the same uvicorn settings (the reference);
* `GET /v1/agreements/{id}/status` and `GET …/checkpoint` on a real `interlock serve`
  (SQLite) holding the conformance agreement and a log of signed statements;
* `POST …/entries` of pre-signed statements (admission, signature, engine, durable group
  commit, signed checkpoint, inclusion proof in every answer);

and, as the log's own limit, the append rate of the same statements through the store's
`LogWriter` in-process (8 submitting threads, SQLite WAL, synchronous=FULL).  The load generator is a
minimal HTTP/1.1 keep-alive client on asyncio streams (httpx itself costs more CPU per request
than a trivial endpoint).  Goals (issue 5):
reads ≥ 50% of the trivial endpoint's rate with p99 ≤ 50 ms; appends ≥ 50% of the log's own
rate.  The load generator shares the machine's cores with the server, so absolute figures
are lower bounds; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from serverkit import (  # noqa: E402
    AGREEMENT,
    AGREEMENT_ID,
    Proc,
    adoptions,
    log_skey,
    register_headers,
    signed,
    start_server,
)

TRIVIAL = """
import sys
from fastapi import FastAPI
from interlock.server.runner import bind, serve
app = FastAPI()
@app.get("/ping")
def ping() -> dict:
    return {"ok": True}
serve(app, bind("127.0.0.1", 0))
"""
LIMITS = ("--key-rate", "1e9", "--key-burst", "1000000000", "--address-rate", "1e9", "--address-burst", "1000000000")
PARTIES = ("north", "south", "east", "observers", "red-cross")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Connection:
    """A minimal HTTP/1.1 keep-alive client on a raw asyncio stream: the cheapest load generator
    Python offers (httpx costs more CPU per request than the endpoints it would measure)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", content_type: str = "") -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        if body or method == "POST":
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readline()
        length, status = 0, int(status_line.split(b" ", 2)[1])
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(url: str, total: int, concurrency: int, make: Any, first: int = 0) -> tuple[float, list[float], int]:
    """Requests `first` … `first+total-1` (`make(i)` → method, path, body, content type) from
    `concurrency` keep-alive connections; returns (seconds, latencies, non-2xx answers)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    latencies: list[float] = []
    failures = 0
    counter = iter(range(first, first + total))

    async def worker() -> None:
        nonlocal failures
        connection = Connection(host, int(port))
        try:
            for i in counter:
                method, path, body, content_type = make(i)
                start = time.perf_counter()
                status = await connection.request(method, path, body, content_type)
                latencies.append(time.perf_counter() - start)
                failures += status >= 300
        finally:
            connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, latencies, failures


def measure(name: str, url: str, total: int, concurrency: int, make: Any) -> dict[str, Any]:
    asyncio.run(load(url, min(200, total), concurrency, make, first=total))  # warm up (other requests)
    seconds, latencies, failures = asyncio.run(load(url, total, concurrency, make))
    return {
        "name": name, "rate": total / seconds, "p50": percentile(latencies, 0.50) * 1000,
        "p99": percentile(latencies, 0.99) * 1000, "failures": failures,
    }


def presigned(count: int, offset: int = 0) -> list[bytes]:
    return [json.dumps(signed(PARTIES[i % 5], body={"text": f"bench {offset + i}"})).encode() for i in range(count)]


def log_append_rate(count: int, workdir: Path) -> float:
    """The store's own append rate: LogWriter, 8 threads, the same kind of statements."""
    from interlock.store import LogWriter, Store

    store = Store.open(f"sqlite:///{workdir / 'direct.db'}")
    info = store.register_log(AGREEMENT, log_skey(), datetime.now(UTC))
    log = store.log(info.id, log_skey())
    log.append(adoptions(), datetime.now(UTC))
    envelopes = [json.loads(b) for b in presigned(count, 10**6)]
    chunks = [envelopes[i::8] for i in range(8)]
    with LogWriter(log, lambda: datetime.now(UTC)) as writer:
        start = time.perf_counter()
        threads = [threading.Thread(target=lambda c=c: [writer.submit(e) for e in c]) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - start
    store.close()
    return count / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--log-size", type=int, default=2000, help="entries in the log before reads are measured")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.log_size = 200, 100
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="interlock-bench-") as tmp:
        workdir = Path(tmp)
        trivial_script = workdir / "trivial.py"
        trivial_script.write_text(TRIVIAL)
        trivial = subprocess.Popen([sys.executable, str(trivial_script)], stdout=subprocess.PIPE, text=True)
        assert trivial.stdout is not None
        trivial_url = trivial.stdout.readline().removeprefix("listening on ").strip()
        server: Proc | None = None
        try:
            rows.append(measure("trivial FastAPI `GET /ping`", trivial_url, args.requests, args.concurrency,
                                lambda i: ("GET", "/ping", b"", "")))
            server = start_server(workdir, f"sqlite:///{workdir / 'server.db'}", *LIMITS)
            prefix = f"/v1/agreements/{AGREEMENT_ID}"
            json_type = "application/json"
            with httpx.Client(base_url=server.url, timeout=60) as http:
                assert http.post("/v1/agreements", content=AGREEMENT, headers=register_headers()).status_code == 201
                for envelope in adoptions():
                    assert http.post(f"{prefix}/entries", json=envelope).status_code == 201
            filler = presigned(args.log_size, 0)
            asyncio.run(load(server.url, len(filler), args.concurrency,
                             lambda i: ("POST", f"{prefix}/entries", filler[i], json_type)))
            rows.append(measure("`GET …/status`", server.url, args.requests, args.concurrency,
                                lambda i: ("GET", f"{prefix}/status", b"", "")))
            rows.append(measure("`GET …/checkpoint`", server.url, args.requests, args.concurrency,
                                lambda i: ("GET", f"{prefix}/checkpoint", b"", "")))
            bodies = presigned(args.requests + 200, 10**5)
            rows.append(measure("`POST …/entries`", server.url, args.requests, args.concurrency,
                                lambda i: ("POST", f"{prefix}/entries", bodies[i], json_type)))
        finally:
            if server is not None:
                server.stop()
            trivial.terminate()
            trivial.wait(10)
        direct = log_append_rate(args.requests, workdir)
    reference = rows[0]["rate"]
    print(f"\nserver benchmark: {args.requests} requests per row, {args.concurrency} concurrent clients, "
          f"log of {args.log_size + 3} entries before the reads\n")
    print("| endpoint | req/s | p50 ms | p99 ms | vs reference | failures |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        ratio = row["rate"] / (direct if row["name"].startswith("`POST") else reference)
        print(f"| {row['name']} | {row['rate']:,.0f} | {row['p50']:.1f} | {row['p99']:.1f} | "
              f"{ratio:.0%} | {row['failures']} |")
    print(f"| the log's own append rate (LogWriter, 8 threads) | {direct:,.0f} | | | | |")
    print("\n(reads compare with the trivial endpoint; `POST …/entries` with the log's own append rate)")
    return 0 if all(r["failures"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
