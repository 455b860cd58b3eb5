"""`interlock demo`: a live agreement in one command.

1. Check and summarise the example agreements (`examples/*.yaml`).
2. Build a demo log: a fresh embedded SQLite database under `--data` (default `demo-data/`),
   register the example that comes with a signed scenario (`NAME.entries.jsonl` beside
   `NAME.yaml`), and replay every signed statement through the server's real HTTP API, each
   at the moment the scenario says the log took it (`interlock.server.dashboard.replay`).
3. Serve it with the same application `interlock serve` runs, and print the dashboard's URL.

Examples are looked for in `--examples DIR`, else `./examples`, else the `examples/` of the
checkout this package runs from, else the copy shipped inside the package
(`interlock/examples`), so an installed package demos the same way.  Keys are the demo
keys: seeds SHA-256(b"demo:" + name), public by design, never for real use.  `--no-serve`
builds the log and stops, printing the `interlock serve` command that serves it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from interlock.agreement.findings import Report
from interlock.cli.app import app, console
from interlock.cli.check import check_file, plural

LOG_KEY_NAME = "interlock-demo"
DB_FILE = "demo.db"


def demo_seed(name: str) -> bytes:
    """The public demo seed for `name`: SHA-256(b"demo:" + name).  Never use it for real."""
    return hashlib.sha256(b"demo:" + name.encode()).digest()


def packaged_examples() -> Path:
    """The example files shipped inside the package (a copy of the checkout's `examples/`)."""
    return Path(__file__).resolve().parents[1] / "examples"


def example_dirs(explicit: Path | None) -> list[Path]:
    """Where to look for examples, most specific first."""
    if explicit is not None:
        return [explicit]
    checkout = Path(__file__).resolve().parents[3]  # src/interlock/cli/demo.py → the checkout
    candidates = [Path.cwd() / "examples"]
    if (checkout / "pyproject.toml").is_file():
        candidates.append(checkout / "examples")
    candidates.append(packaged_examples())
    return list(dict.fromkeys(candidates))


def find_examples(explicit: Path | None) -> tuple[Path | None, list[Path]]:
    for directory in example_dirs(explicit):
        files = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
        if files:
            return directory, files
    return None, []


def find_scenario(files: list[Path]) -> tuple[Path, Path] | None:
    """The first example with a signed scenario beside it (`NAME.entries.jsonl`)."""
    for path in files:
        entries = path.with_name(path.stem + ".entries.jsonl")
        if entries.is_file():
            return path, entries
    return None


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


def say(text: str) -> None:
    console.print(text, markup=False, soft_wrap=True)


def build_demo_log(agreement_path: Path, entries_path: Path, data: Path) -> tuple[str, str, int]:
    """A fresh demo log in `data` (replacing an earlier one): (db URL, log key file, entries)."""
    from interlock.cli.app import read_input, read_text
    from interlock.note import new_signer_key
    from interlock.server.dashboard.replay import replay

    data.mkdir(parents=True, exist_ok=True)
    for old in data.glob(DB_FILE + "*"):  # the database and its -wal / -shm companions
        old.unlink()
    skey, vkey = new_signer_key(LOG_KEY_NAME, demo_seed("log"))
    key_file = data / "log.skey"
    key_file.write_text(f"# interlock DEMO log signer key (public demo seed; never for real use)\n{skey}\n")
    (data / "log.vkey").write_text(vkey + "\n")
    db_url = f"sqlite:///{(data / DB_FILE).resolve()}"
    result = replay(db_url, skey, read_input(agreement_path), read_text(entries_path), demo_seed("operator"))
    return db_url, str(key_file), result.size


def serve_demo(db_url: str, key_file: str, host: str, port: int, agreement_id: str) -> None:
    """Serve the demo log exactly as `interlock serve --db … --log-key …` does."""
    import os

    from interlock.cli.log import read_signer_key
    from interlock.server.app import CONFIG_ENV, config_json
    from interlock.server.runner import bind, url_of
    from interlock.server.runner import serve as run
    from interlock.server.settings import ServerSettings

    skey = read_signer_key(Path(key_file))
    os.environ[CONFIG_ENV] = config_json(db_url, skey, {"*": []}, ServerSettings())
    sock = bind(host, port)
    say(f"\nThe dashboard: {url_of(sock)}/agreements/{agreement_id}")
    say("Stop with Ctrl-C.  The log stays in the data folder; serve it again with")
    say(f"  interlock serve --db {db_url} --log-key {key_file} --port {port}")
    run("interlock.server.app:app_from_env", sock, factory=True)


@app.command()
def demo(
    examples: Annotated[
        Path | None, typer.Option("--examples", help="Directory of example agreements.")
    ] = None,
    data: Annotated[Path, typer.Option("--data", help="Folder for the demo log (rebuilt each run).")] = Path(
        "demo-data"
    ),
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to serve on (0: any free port).")] = 8000,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the dashboard after building.")] = True,
) -> None:
    """Check the examples, replay the signed demo scenario into a fresh log, serve the dashboard."""
    directory, files = find_examples(examples)
    if directory is None:
        looked = ", ".join(str(d) for d in example_dirs(examples))
        say(f"No example agreements found (looked in: {looked}).")
        return
    say(f"interlock demo: checking {len(files)} example agreements in {directory}")
    broken = False
    for path in files:
        report = check_file(path)
        broken = broken or bool(report.errors)
        for line in summary(path.name, report):
            say(line)
    say(f"\nEvery finding: interlock check {directory}/*.yaml")
    if broken:
        raise typer.Exit(1)
    scenario = find_scenario(files)
    if scenario is None:
        say("\nNo signed scenario (NAME.entries.jsonl beside NAME.yaml) here: nothing to serve.")
        return
    agreement_path, entries_path = scenario
    say(f"\nReplaying {entries_path.name} through the server's API into {data}/ …")
    db_url, key_file, size = build_demo_log(agreement_path, entries_path, data)
    from interlock.agreement import load_agreement
    from interlock.cli.app import read_input

    agreement_id = load_agreement(read_input(agreement_path)).id
    say(f"Logged {plural(size, 'signed statement')} for {agreement_id}; the checkpoint matches the file.")
    if not serve:
        say(f"Serve it with:\n  interlock serve --db {db_url} --log-key {key_file} --port {port}")
        return
    serve_demo(db_url, key_file, host, port, agreement_id)
