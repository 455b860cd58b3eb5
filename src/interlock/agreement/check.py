"""The checker: every error and warning a careful mediator would point out in a draft.

`check_bytes(raw)` reads YAML (with positions) and checks it; `check_data(data, source)`
checks data already parsed.  Both return a `Report` — findings are data, never exceptions.
The checks run in order, each only when the previous ones leave something to check:

1. reading: size, encoding, YAML syntax, alias bombs, depth (`yamlsource`);
2. shape: keys, types, durations, timestamps, conditions (pydantic, via `shape`);
3. rules: ids, references, roles, quorums, kinds, quantities (`rules`), and cycles
   (`sequence.check_cycles`);
4. warnings: per obligation, stage and party (`advice`) — whenever the shape is right;
   sequencing (`never-opens`, `opens-only-through-breach`, `never-starts`, `never-due`,
   `all-on-credit`) — only when
   there is no error, because they reason about a graph the errors would make meaningless.

Codes and their fixes are listed in docs/check-codes.md.  Pure.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from interlock.agreement.advice import check_advice
from interlock.agreement.findings import Finding, Report, Sink
from interlock.agreement.graph import Plan
from interlock.agreement.model import Agreement
from interlock.agreement.rules import check_rules
from interlock.agreement.sequence import check_credit, check_cycles, check_obligation_reach, check_reachability
from interlock.agreement.shape import report_validation
from interlock.agreement.yamlsource import Path, Source, SourceProblem, load_yaml_bytes
from interlock.canonical import document_hash

__all__ = ["Finding", "Report", "check_bytes", "check_data"]

MAX_SAFE_INTEGER = 2**53 - 1


def check_bytes(raw: bytes) -> Report:
    """Check the bytes of an agreement file (YAML or JSON); findings carry line and column."""
    try:
        source = load_yaml_bytes(raw)
    except SourceProblem as problem:
        finding = Finding("error", problem.code, problem.message, problem.line, problem.column)
        return Report(None, [finding])
    return check_data(source.data, source)


def check_data(data: Any, source: Source | None = None) -> Report:
    """Check parsed JSON data; `source` (from `yamlsource`) adds positions to the findings.

    `Report.agreement` is set, with its hash attached, only when there is no error.
    """
    from interlock.agreement.load import with_hash

    sink = Sink(data, source)
    digest = _hash(data, sink)
    try:
        agreement = Agreement.model_validate(data)
    except ValidationError as exc:
        report_validation(exc.errors(), sink)
        return _report(None, sink, digest)
    check_rules(agreement, sink)
    plan = Plan(agreement)
    acyclic = check_cycles(plan, sink)
    check_advice(agreement, sink)
    if not sink.errors and acyclic:
        check_reachability(plan, sink)
        check_obligation_reach(plan, sink)
        check_credit(plan, sink)
    if sink.errors or digest is None:
        return _report(None, sink, digest)
    return _report(with_hash(agreement, data), sink, digest)


def _report(agreement: Agreement | None, sink: Sink, digest: str | None) -> Report:
    errors, warnings = sink.sorted()
    return Report(agreement, errors, warnings, digest)


def _hash(data: Any, sink: Sink) -> str | None:
    """The document's hash, or None (with an error per offending value) if it has none."""
    problems = list(_not_canonical(data, ()))
    for path, code, message in problems:
        sink.error(code, message, path)
    if problems:
        return None
    try:
        return document_hash(data)
    except ValueError as exc:  # rfc8785 refuses it for a reason not foreseen above
        sink.error("not-canonical", f"the document has no canonical JSON form: {exc}")
        return None


def _not_canonical(value: Any, path: Path) -> Iterator[tuple[Path, str, str]]:
    """Values RFC 8785 cannot write: integers beyond ±(2^53 − 1), non-finite numbers, lone
    surrogates in text.  Iterative, so deep data cannot exhaust the stack."""
    work: list[tuple[Any, Path]] = [(value, path)]
    while work:
        item, where = work.pop()
        if isinstance(item, dict):
            work.extend((v, (*where, k)) for k, v in reversed(list(item.items())))
            texts = [str(k) for k in item]
        elif isinstance(item, list):
            work.extend((v, (*where, i)) for i, v in reversed(list(enumerate(item))))
            texts = []
        else:
            texts = [item] if isinstance(item, str) else []
            if isinstance(item, bool):
                pass
            elif isinstance(item, int) and abs(item) > MAX_SAFE_INTEGER:
                yield where, "bad-number", f"{item} is too large for JSON; at most {MAX_SAFE_INTEGER}"
            elif isinstance(item, float) and not math.isfinite(item):
                yield where, "bad-number", f"{item} is not a finite number"
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                yield where, "bad-value", "the text holds a lone surrogate (an invalid \\u escape)"
