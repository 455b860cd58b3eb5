"""Sequencing-analysis benchmark: `interlock analyze` time against tranches and obligations.

    .venv/bin/python benchmarks/analysis.py [--tranches 50,200,500,2000] [--obligations 10,40,100,200]
                                            [--suggest] [--quick]

Two series, one run each, on the analysis's own worked plans:
- *tranches*: the worked three-step exchange of docs/analysis.md (A withdraws; B releases N
  persons in N tranches over two days; A answers each with 3), so a run has 2N + 1 steps
  and about as many cuts, each with its counterfactual;
- *obligations*: a chain of K stages, each opened by the previous one's verified delivery,
  each holding a delivery by one side in 4 tranches and the other side's proportional
  answer (2K obligations, 8K steps).

Each row gives wall and CPU time of `analyse` (the engine's nominal run, every metric,
every counterfactual; equal weights, optimistic schedule), the time per step, and the
machine-independent work counts (`Analysis.work`): engine entries folded, counterfactual
simulations, tranches visited by loops.  With `--suggest`, `--suggest` at its default
bounds is timed too (it is bounded by its budget, not by the plan).

Not a test.  Figures go into docs/performance.md ("Analysis").
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path
from typing import Any

from interlock.agreement import Agreement, load_agreement, parse_document
from interlock.analysis import analyse

ROOT = Path(__file__).resolve().parent.parent
THREE_STEPS = ROOT / "tests" / "data" / "analysis" / "three-steps.yaml"


def tranched(n: int) -> Agreement:
    text = THREE_STEPS.read_text()
    text = text.replace("quantity: {amount: 10, unit: persons},",
                        f"quantity: {{amount: {max(10, n)}, unit: persons}}, tranches: {n},")
    return load_agreement(text.encode())


def chained(k: int) -> Agreement:
    stages: list[dict[str, Any]] = []
    for i in range(k):
        giver, answerer = ("a", "b") if i % 2 == 0 else ("b", "a")
        opens: Any = "adopted" if i == 0 else {"verified": f"give-{i - 1}"}
        stages.append({"id": f"s{i}", "opens": opens, "obligations": [
            {"id": f"give-{i}", "kind": "deliver", "by": giver, "to": answerer,
             "quantity": {"amount": 8, "unit": "u"}, "tranches": 4,
             "due": {"after": {"opened": f"s{i}"}, "plus": "2d"}, "verify": {"by": ["m"]}},
            {"id": f"answer-{i}", "kind": "deliver", "by": answerer, "to": giver,
             "quantity": {"per": f"give-{i}", "ratio": 2, "unit": "v"},
             "due": {"after_each": "1d"}, "verify": {"by": ["m"]}},
        ]})
    return parse_document({
        "interlock": 1, "id": f"chain-{k}", "title": f"A chain of {k} stages",
        "parties": [{"id": "a", "name": "Side A", "role": "party"}, {"id": "b", "name": "Side B", "role": "party"},
                    {"id": "m", "name": "Monitor", "role": "monitor"}],
        "stages": stages,
    })


def measure(agreement: Agreement, suggest: bool) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = analyse(agreement)
    work = getattr(result, "work", None)  # absent before the counts existed (for comparisons)
    row: dict[str, Any] = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                           "steps": len(result.steps), "work": copy.copy(work)}  # before --suggest adds to it
    if suggest:
        from interlock.analysis.suggest import search

        wall = time.perf_counter()
        done = search(result)
        row["suggest"] = time.perf_counter() - wall
        row["cut"] = ",".join(done.search.cut_short) or "—"
    return row


def report(label: str, size: int, row: dict[str, Any], suggest: bool) -> None:
    w = row["work"]
    counts = (f"{w.folded:>7,} {w.simulations:>7,} {w.scans:>9,}" if w is not None else f"{'':>25}")
    extra = f"  {row['suggest']:7.2f} s  {row['cut']}" if suggest else ""
    print(f"{label:>12} {size:>6,} {row['steps']:>7,} {row['wall']:8.2f} s {row['cpu']:8.2f} s "
          f"{1e3 * row['wall'] / max(1, row['steps']):7.2f} ms  {counts}{extra}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tranches", default="50,200,500,2000")
    parser.add_argument("--obligations", default="10,40,100,200", help="stages in the chain (2 obligations each)")
    parser.add_argument("--suggest", action="store_true", help="also time --suggest at its default bounds")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script works")
    args = parser.parse_args()
    tranches = [int(x) for x in ("20,50" if args.quick else args.tranches).split(",") if x]
    chains = [int(x) for x in ("4,10" if args.quick else args.obligations).split(",") if x]
    print(f"benchmarks/analysis.py — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    head = f"{'series':>12} {'size':>6} {'steps':>7} {'wall':>10} {'cpu':>10} {'per step':>10}  " \
           f"{'folded':>7} {'simul.':>7} {'scans':>9}" + ("  suggest" if args.suggest else "")
    print(head)
    analyse(tranched(5))  # imports and caches warm
    for n in tranches:
        report("tranches", n, measure(tranched(n), args.suggest), args.suggest)
    for k in chains:
        report("obligations", 2 * k, measure(chained(k), args.suggest), args.suggest)
    print(f"load average {os.getloadavg()[0]:.2f} at the end (other work on this machine skews wall times; "
          "cpu is this process's own)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
