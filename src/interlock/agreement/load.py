"""Bytes or parsed data → a validated `Agreement` carrying its canonical hash.

`load_agreement` refuses a file with any checker *error* (warnings are allowed) by raising
`AgreementError` whose `findings` say what is wrong.  The hash is of the parsed document as
written (RFC 8785), not of the model with its defaults filled in.
"""

from __future__ import annotations

from typing import Any

from interlock.agreement.model import Agreement
from interlock.agreement.yamlsource import SourceProblem, load_yaml_bytes
from interlock.canonical import document_hash
from interlock.errors import AgreementError


def parse_document(data: Any) -> Agreement:
    """Parsed JSON/YAML data → `Agreement` with `hash` set; raises `AgreementError`."""
    from interlock.agreement.check import check_data

    report = check_data(data)
    if report.errors:
        first = report.errors[0]
        raise AgreementError(f"{first.code}: {first.message}", findings=list(report.errors))
    assert report.agreement is not None
    return report.agreement


def load_agreement(raw: bytes | str) -> Agreement:
    """YAML (or JSON) bytes → `Agreement`; raises `AgreementError` with findings."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    try:
        source = load_yaml_bytes(raw)
    except SourceProblem as problem:
        raise AgreementError(f"{problem.code}: {problem.message}", findings=[problem]) from None
    return parse_document(source.data)


def with_hash(agreement: Agreement, data: Any) -> Agreement:
    """Attach the canonical hash of `data` (the document as written) to `agreement`."""
    agreement._hash = document_hash(data)
    return agreement
