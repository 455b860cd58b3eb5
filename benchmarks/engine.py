"""Engine benchmark: a synthetic agreement with 1,000 obligations and 1,000,000 signed entries.

    .venv/bin/python benchmarks/engine.py [--entries 1000000] [--obligations 1000] [--workers N]
    .venv/bin/python benchmarks/engine.py --status-only [--entries 200000]   # unsigned, a minute
    .venv/bin/python benchmarks/engine.py --tranches 500,1000,2000,4000      # seconds

Reports, in one run:
- signature verification alone (Ed25519 over the DSSE PAE), entries/s: PyNaCl and
  `cryptography` on one core, PyNaCl on all cores (the limit);
- the shell's per-entry check on all cores (`interlock.verification`: envelope shape, RFC 8785
  canonical payload, signature);
- full evaluation with signature checks (`evaluate_log`: verification on all cores overlapped
  with the fold), and the fold alone given the flags, entries/s;
- incremental cost per appended entry at 10k and at 1M entries (`Evaluator.append`, with the
  signature already checked and with the engine checking it), and `status()` after an append;
- peak memory (this process, and the largest worker).

`--status-only` folds the same log unsigned (no signing, no verification) and times only
`status()`: the first, after 2,000 appends touching every obligation, and after one more.
`--tranches` times `status()` of one proportional obligation with N met tranches.

Not a test: it takes minutes.  Figures go into docs/performance.md ("Engine").
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.signing import VerifyKey

from interlock.agreement import Agreement, parse_document
from interlock.engine import Evaluator
from interlock.statements import Entry, sign_statement
from interlock.statements.dsse import PAYLOAD_TYPE, pae
from interlock.statements.keys import public_key_b64
from interlock.timeutil import format_timestamp
from interlock.verification import evaluate_log, keyring, verify_signatures

START = datetime(2026, 3, 1, tzinfo=UTC)
PEOPLE = {"a": "party", "b": "party", "g": "guarantor", "m1": "monitor", "m2": "monitor"}
KINDS = ["deliver"] * 7 + ["act", "rate", "refrain"]


def seed(participant: str) -> bytes:
    return hashlib.sha256(participant.encode()).digest()


def agreement_document(obligations: int) -> dict[str, Any]:
    """Ten stages opening a day apart; deliver, act, rate and refrain obligations, debtors alternating."""
    stages: list[dict[str, Any]] = []
    per_stage = max(1, obligations // 10)
    for number in range(obligations):
        if number % per_stage == 0 and len(stages) < 10:
            opens: Any = "adopted" if not stages else {"after": "adopted", "plus": f"{len(stages)}d"}
            stages.append({"id": f"s{len(stages)}", "opens": opens, "obligations": []})
        kind = KINDS[number % len(KINDS)]
        debtor, creditor = ("a", "b") if number % 2 else ("b", "a")
        ob: dict[str, Any] = {"id": f"o{number}", "kind": kind, "by": debtor,
                              "verify": {"by": ["m1", "m2"], "quorum": 1}}
        if kind in ("deliver", "act", "rate"):
            ob["to"] = creditor
        if kind == "deliver":
            ob["quantity"] = {"amount": 1_000_000, "unit": "units"}
            ob["due"] = {"after": {"opened": stages[-1]["id"]}, "plus": "20d"}
        elif kind == "act":
            ob["due"] = {"after": {"opened": stages[-1]["id"]}, "plus": "20d"}
        elif kind == "rate":
            ob["quantity"] = {"amount": 10, "unit": "trucks", "per_period": "1d"}
            ob["window"] = {"from": {"opened": stages[-1]["id"]}}
        else:
            ob["window"] = {"from": "adopted"}
        stages[-1]["obligations"].append(ob)
    parties = [{"id": p, "name": p, "role": role, "keys": [{"id": f"{p}-1", "ed25519": public_key_b64(seed(p))}]}
               for p, role in PEOPLE.items()]
    return {"interlock": 1, "id": "bench", "title": "Benchmark", "parties": parties, "stages": stages}


def statement_for(i: int, obligations: int, agreement_hash: str) -> tuple[str, dict[str, Any]]:
    """The i-th statement of the synthetic log (deterministic), and its author."""
    at = START + timedelta(seconds=i)
    base = {"agreement": agreement_hash, "issued_at": format_timestamp(at), "nonce": f"n{i}"}
    if i < 3:
        author = "abg"[i]
        return author, {**base, "type": "adopt", "author": author, "key": f"{author}-1", "body": {}}
    ob = (i * 7919) % obligations
    kind = KINDS[ob % len(KINDS)]
    author = "m1" if i % 2 else "m2"
    observed = format_timestamp(at - timedelta(minutes=5))
    roll = i % 100
    if roll < 4 and i > 100:  # attest an earlier claim (ours or the other monitor's)
        return author, {**base, "type": "attest", "author": author, "key": f"{author}-1",
                        "body": {"entry": i - 1 - (i % 50), "verdict": "confirm"}}
    if roll < 6:
        return author, {**base, "type": "note", "author": author, "key": f"{author}-1", "body": {"text": "all quiet"}}
    if kind == "refrain":
        if roll < 8:
            return author, {**base, "type": "incident", "author": author, "key": f"{author}-1",
                            "body": {"obligation": f"o{ob}", "observed_at": observed, "description": "report"}}
        ob = (ob + 1) % obligations
        kind = KINDS[ob % len(KINDS)]
    body: dict[str, Any] = {"obligation": f"o{ob}", "observed_at": observed}
    if kind != "act":
        body["units"] = 1 + i % 9
    return author, {**base, "type": "evidence", "author": author, "key": f"{author}-1", "body": body}


def _sign_range(job: tuple[int, int, int, str]) -> list[tuple[str, int, str]]:
    start, end, obligations, agreement_hash = job
    keys = {p: seed(p) for p in PEOPLE}
    out = []
    for i in range(start, end):
        author, statement = statement_for(i, obligations, agreement_hash)
        envelope = sign_statement(statement, f"{author}-1", keys[author])
        out.append((envelope["payload"], list(PEOPLE).index(author), envelope["signatures"][0]["sig"]))
    return out


def generate(count: int, obligations: int, agreement_hash: str, workers: int, first: int = 0) -> list[Entry]:
    """Signed entries first … first+count-1, signed on all cores; shared strings where equal."""
    keyids = [f"{p}-1" for p in PEOPLE]
    step = 20_000
    jobs = [(s, min(s + step, first + count), obligations, agreement_hash) for s in range(first, first + count, step)]
    entries: list[Entry] = []
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for chunk in pool.imap(_sign_range, jobs):
            for payload, who, sig in chunk:
                i = first + len(entries)
                envelope = {"payload": payload, "payloadType": PAYLOAD_TYPE,
                            "signatures": [{"keyid": keyids[who], "sig": sig}]}
                entries.append(Entry(i, START + timedelta(seconds=i), envelope=envelope))
    return entries


_BARE: Sequence[Entry] = ()
_PUBLIC: dict[str, bytes] = {}


def _bare_range(bounds: tuple[int, int]) -> int:
    ok = 0
    keys = {k: VerifyKey(v) for k, v in _PUBLIC.items()}
    for entry in _BARE[bounds[0]:bounds[1]]:
        envelope = entry.envelope
        assert envelope is not None
        signature = envelope["signatures"][0]
        message = pae(PAYLOAD_TYPE, base64.b64decode(envelope["payload"]))
        keys[signature["keyid"]].verify(message, base64.b64decode(signature["sig"]))
        ok += 1
    return ok


def bare_one_core(entries: Sequence[Entry], public: dict[str, bytes], library: str) -> float:
    prepared = []
    for entry in entries:
        assert entry.envelope is not None
        signature = entry.envelope["signatures"][0]
        prepared.append((signature["keyid"], pae(PAYLOAD_TYPE, base64.b64decode(entry.envelope["payload"])),
                         base64.b64decode(signature["sig"])))
    if library == "pynacl":
        nacl_keys = {k: VerifyKey(v) for k, v in public.items()}
        started = time.perf_counter()
        for keyid, message, sig in prepared:
            nacl_keys[keyid].verify(message, sig)
    else:
        ossl_keys = {k: Ed25519PublicKey.from_public_bytes(v) for k, v in public.items()}
        started = time.perf_counter()
        for keyid, message, sig in prepared:
            ossl_keys[keyid].verify(sig, message)
    return len(prepared) / (time.perf_counter() - started)


def bare_all_cores(entries: Sequence[Entry], public: dict[str, bytes], workers: int) -> float:
    global _BARE, _PUBLIC
    _BARE, _PUBLIC = entries, public
    bounds = [(s, min(s + 20_000, len(entries))) for s in range(0, len(entries), 20_000)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        done = sum(pool.imap_unordered(_bare_range, bounds))
    elapsed = time.perf_counter() - started
    _BARE, _PUBLIC = (), {}
    assert done == len(entries)
    return done / elapsed


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def cpu_seconds() -> float:
    """CPU time of this process and of its finished workers (user + system)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measured(action: Callable[[], Any], count: int, cores: int) -> tuple[float, float, Any]:
    """(entries/s by the wall clock, entries/s the CPU time spent would give on `cores` idle cores, result).

    The machine may be shared: the second figure does not count time lost to other programs.
    """
    cpu = cpu_seconds()
    took, result = timed(action)
    spent = cpu_seconds() - cpu
    return count / took, count / (spent / cores), result


def per_append(evaluator: Evaluator, extra: Sequence[Entry], *, checked: bool) -> float:
    """Mean seconds per `append` (signature pre-checked, or checked by the engine)."""
    started = time.perf_counter()
    for entry in extra:
        assert evaluator.append(entry, signature_ok=True if checked else None) is None
    return (time.perf_counter() - started) / len(extra)


def incremental(agreement: Agreement, base: Sequence[Entry], extra: Sequence[Entry], label: str,
                evaluator: Evaluator | None = None) -> dict[str, float]:
    if evaluator is None:
        evaluator = Evaluator(agreement)
        for entry in base:
            evaluator.append(entry, signature_ok=True)
    half = len(extra) // 2
    fold = per_append(evaluator, extra[:half], checked=True)
    with_signature = per_append(evaluator, extra[half:], checked=False)
    as_of = extra[-1].integrated_at + timedelta(hours=1)
    status_first, _ = timed(lambda: evaluator.status(as_of))
    evaluator.append(Entry(extra[-1].index + 1, extra[-1].integrated_at, statement=None,
                           envelope=extra[-1].envelope))  # a reused nonce: refused, changes nothing else
    status_again, _ = timed(lambda: evaluator.status(as_of))
    print(f"  incremental at {label}: append {fold * 1e6:.1f} µs/entry (signature checked by the shell), "
          f"{with_signature * 1e6:.1f} µs/entry (engine verifies); status() {status_first * 1e3:.0f} ms "
          f"after {len(extra)} appends, {status_again * 1e3:.0f} ms after one more")
    return {"append_us": fold * 1e6, "append_verify_us": with_signature * 1e6,
            "status_ms": status_first * 1e3, "status_again_ms": status_again * 1e3}


def resident_mib() -> float:
    """This process's resident memory now (Linux), MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def unsigned_entry(agreement: Agreement, i: int, obligations: int) -> Entry:
    _, statement = statement_for(i, obligations, agreement.hash)
    return Entry(i, START + timedelta(seconds=i), statement=statement)


def status_only(count: int, obligations: int, extra: int) -> None:
    """`status()` times over an unsigned log of `count` entries (the fold is not timed).

    Each timed call follows `gc.collect()`: a collection that the fold made due would
    otherwise land in whichever call comes first (0.08 s became 0.17 s in one run).
    """
    agreement = parse_document(agreement_document(obligations))
    evaluator = Evaluator(agreement, unsigned=True)
    for i in range(count):
        assert evaluator.append(unsigned_entry(agreement, i, obligations)) is None
    as_of = START + timedelta(seconds=count + extra + 3600)
    gc.collect()
    first, _ = timed(lambda: evaluator.status(as_of))
    for i in range(count, count + extra):
        assert evaluator.append(unsigned_entry(agreement, i, obligations)) is None
    gc.collect()
    touched, _ = timed(lambda: evaluator.status(as_of))
    evaluator.append(unsigned_entry(agreement, count + extra, obligations))
    gc.collect()
    again, _ = timed(lambda: evaluator.status(as_of))
    print(f"  unsigned, {count:,} entries: status() {first:.3f} s first, {touched:.3f} s after {extra:,} appends "
          f"touching every obligation, {again * 1e3:.0f} ms after one more")


def proportional_status(tranches: int) -> float:
    """Seconds for `status()` with one proportional obligation of `tranches` met tranches."""
    parties = [{"id": p, "name": p, "role": role, "keys": [{"id": f"{p}-1", "ed25519": public_key_b64(seed(p))}]}
               for p, role in PEOPLE.items()]
    verify = {"by": ["m1"]}
    give = {"id": "give", "kind": "deliver", "by": "a", "to": "b", "quantity": {"amount": tranches, "unit": "u"},
            "due": {"after": "adopted", "plus": "3000d"}, "verify": verify}
    answer = {"id": "answer", "kind": "deliver", "by": "b", "to": "a", "verify": verify,
              "quantity": {"per": "give", "ratio": 1, "unit": "u"}, "due": {"after_each": "24h"}}
    agreement = parse_document({"interlock": 1, "id": "tranches", "title": "Tranches", "parties": parties,
                                "stages": [{"id": "s1", "opens": "adopted", "obligations": [give, answer]}]})
    evaluator = Evaluator(agreement, unsigned=True)
    steps = [("a", "adopt", None), ("b", "adopt", None), ("g", "adopt", None)]
    steps += [("m1", "evidence", ob) for _ in range(tranches) for ob in ("give", "answer")]
    for i, (author, kind, ob) in enumerate(steps):
        at = START + timedelta(seconds=i)
        body = {} if ob is None else {"obligation": ob, "units": 1, "observed_at": format_timestamp(at)}
        statement = {"type": kind, "agreement": agreement.hash, "author": author, "key": f"{author}-1",
                     "issued_at": format_timestamp(at), "nonce": f"n{i}", "body": body}
        assert evaluator.append(Entry(i, at, statement=statement)) is None
    gc.collect()
    took, status = timed(lambda: evaluator.status(START + timedelta(seconds=len(steps) + 60)))
    assert status.obligations["answer"].state == "fulfilled" and len(status.obligations["answer"].tranches) == tranches
    return float(took)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--obligations", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--status-only", action="store_true", help="only status() times, unsigned log")
    parser.add_argument("--tranches", help="only status() of a proportional obligation: N,N,… tranches")
    args = parser.parse_args(argv)
    count, workers = args.entries, args.workers
    extra = 2000
    if args.status_only or args.tranches:
        print(f"engine status benchmark, Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
        if args.tranches:
            for n in (int(part) for part in args.tranches.split(",")):
                print(f"  status() with one proportional obligation of {n:,} tranches: {proportional_status(n):.3f} s")
        if args.status_only:
            status_only(count, args.obligations, extra)
        print(f"  load average at the end {os.getloadavg()[0]:.1f}")
        return 0

    print(f"engine benchmark: {args.obligations} obligations, {count:,} signed entries, {workers} cores, "
          f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
    agreement = parse_document(agreement_document(args.obligations))
    took, entries = timed(lambda: generate(count + extra, args.obligations, agreement.hash, workers))
    log, more = entries[:count], entries[count:]
    print(f"  generated and signed {len(entries):,} entries in {took:.0f} s; "
          f"holding them takes {resident_mib():,.0f} MiB resident")
    public = keyring(agreement)
    sample = log[: min(len(log), 20_000)]

    nacl = bare_one_core(sample, public, "pynacl")
    ossl = bare_one_core(sample, public, "cryptography")
    print(f"  signature verification alone, one core: PyNaCl {nacl:,.0f}/s, cryptography {ossl:,.0f}/s "
          f"(PyNaCl {nacl / ossl:.2f}×)")
    gc.collect()
    wall, limit, _ = measured(lambda: bare_all_cores(log, public, workers), count, workers)
    print(f"  signature verification alone, all {workers} cores (PyNaCl): {wall:,.0f}/s by the clock, "
          f"{limit:,.0f}/s by CPU time  ← the limit")

    wall, rate, flags = measured(lambda: verify_signatures(agreement, log, processes=workers), count, workers)
    assert all(flags)
    print(f"  shell check per entry (envelope, canonical payload, signature), all cores: {wall:,.0f}/s by the "
          f"clock, {rate:,.0f}/s by CPU time")

    as_of = log[-1].integrated_at + timedelta(hours=1)
    wall, full, status = measured(lambda: evaluate_log(agreement, log, as_of, processes=workers), count, workers)
    assert not status.rejected, status.rejected[:3]
    print(f"  full evaluation with signature checks (evaluate_log): {wall:,.0f} entries/s by the clock, "
          f"{full:,.0f}/s by CPU time = {full / limit:.0%} of the all-cores verification limit")
    del status
    gc.collect()

    evaluator = Evaluator(agreement)

    def fold() -> None:
        for entry, flag in zip(log, flags, strict=True):
            evaluator.append(entry, signature_ok=flag)

    took, _ = timed(fold)
    print(f"  fold alone given the flags: {count / took:,.0f} entries/s ({took:.1f} s)")
    print(f"  resident with the log and one evaluator holding it: {resident_mib():,.0f} MiB")
    took, status = timed(lambda: evaluator.status(as_of))
    states: dict[str, int] = {}
    for ob in status.obligations.values():
        states[ob.state] = states.get(ob.state, 0) + 1
    print(f"  status() over the whole log: {took:.2f} s; states {states}")
    del status

    small = min(10_000, count)
    incremental(agreement, log[:small], [Entry(small + i, e.integrated_at, envelope=e.envelope)
                                         for i, e in enumerate(log[small:small + extra])], f"{small:,}")
    incremental(agreement, log, more, f"{count:,}", evaluator)

    own, children = peak_mib()
    print(f"  peak memory: {own:,.0f} MiB (this process), {children:,.0f} MiB (largest worker, mostly pages "
          f"shared with this process); load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
