"""Run every benchmark in turn (`make bench`), each in its own process so peak memory is its own.

    .venv/bin/python benchmarks/run_all.py [--quick]

Each benchmark prints its figures and the limit it measured in the same run (bare Ed25519
verifications per second, SHA-256 node hashes per second, a trivial HTTP endpoint); the
figures are recorded by hand in docs/performance.md.  Not part of `make test`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = ("engine.py", "log.py", "server.py", "analysis.py")
QUICK = {"engine.py": ["--entries", "20000", "--obligations", "100"], "log.py": ["--quick"], "server.py": ["--quick"],
         "analysis.py": ["--quick"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the scripts work")
    args = parser.parse_args()
    failed = []
    for name in BENCHMARKS:
        script = HERE / name
        if not script.exists():
            continue
        extra = QUICK.get(name, []) if args.quick else []
        print(f"\n=== {name} {' '.join(extra)}", flush=True)
        if subprocess.run([sys.executable, str(script), *extra], check=False).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
