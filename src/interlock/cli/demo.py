"""`interlock demo`: check and summarise the bundled example agreements (`examples/*.yaml`).

The examples are looked for in `--examples DIR`, else `./examples`, else the `examples/`
beside the source tree this package runs from (a checkout).  When none is found the demo
says where it looked and exits 0.  Exit 1 when an example has errors.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from interlock.agreement.findings import Report
from interlock.cli.app import app, console
from interlock.cli.check import check_file, plural


def example_dirs(explicit: Path | None) -> list[Path]:
    """Where to look for examples, most specific first."""
    if explicit is not None:
        return [explicit]
    checkout = Path(__file__).resolve().parents[3]  # src/interlock/cli/demo.py → the checkout
    candidates = [Path.cwd() / "examples"]
    if (checkout / "pyproject.toml").is_file():
        candidates.append(checkout / "examples")
    return list(dict.fromkeys(candidates))


def find_examples(explicit: Path | None) -> tuple[Path | None, list[Path]]:
    for directory in example_dirs(explicit):
        files = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
        if files:
            return directory, files
    return None, []


def summary(name: str, report: Report) -> list[str]:
    """A few lines on one example: title, stages, obligations per debtor, findings, hash."""
    agreement = report.agreement
    state = "valid" if report.valid else "INVALID"
    found = f"{plural(len(report.errors), 'error')}, {plural(len(report.warnings), 'warning')}"
    lines = ["", f"{name}: {state} ({found})"]
    if agreement is not None:
        debtors = Counter(ob.by for _, ob in agreement.obligations())
        owed = ", ".join(f"{party} {count}" for party, count in sorted(debtors.items()))
        lines.append(f"  {agreement.title}")
        stages = "1 stage" if len(agreement.stages) == 1 else f"{len(agreement.stages)} stages"
        lines.append(f"  {stages}; obligations by debtor: {owed or 'none'}")
    if report.warnings:
        codes = Counter(f.code for f in report.warnings)
        lines.append("  warnings: " + ", ".join(f"{code} {n}" for code, n in sorted(codes.items())))
    for finding in report.errors[:3]:
        lines.append(f"  error {finding.code} (line {finding.line}): {finding.message}")
    lines.append(f"  {report.hash or 'no hash: the file could not be read'}")
    return lines


@app.command()
def demo(
    examples: Annotated[
        Path | None, typer.Option("--examples", help="Directory of example agreements.")
    ] = None,
) -> None:
    """Check every example agreement and show its stages, obligations and findings."""
    directory, files = find_examples(examples)
    if directory is None:
        looked = ", ".join(str(d) for d in example_dirs(examples))
        console.print(f"No example agreements found (looked in: {looked}).", markup=False)
        return
    console.print(f"interlock demo: checking {len(files)} example agreements in {directory}", markup=False)
    broken = False
    for path in files:
        report = check_file(path)
        broken = broken or bool(report.errors)
        for line in summary(path.name, report):
            console.print(line, markup=False, soft_wrap=True)
    console.print(f"\nEvery finding: interlock check {directory}/*.yaml", markup=False, soft_wrap=True)
    if broken:
        raise typer.Exit(1)
