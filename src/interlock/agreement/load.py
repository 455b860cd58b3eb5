"""Bytes or parsed data → a validated `Agreement` carrying its canonical hash.

`load_agreement` refuses a file with any checker *error* (warnings are allowed) by raising
`AgreementError` whose `findings` say what is wrong.  The hash is of the parsed document as
written (RFC 8785), not of the model with its defaults filled in.
"""

from __future__ import annotations

from typing import Any

from interlock.agreement.check import Report, check_bytes, check_data
from interlock.agreement.model import Agreement
from interlock.canonical import document_hash
from interlock.errors import AgreementError


def _accepted(report: Report) -> Agreement:
    if report.errors:
        first = report.errors[0]
        where = f"line {first.line}, column {first.column}: " if first.line is not None else ""
        more = f" (and {len(report.errors) - 1} more; run `interlock check`)" if len(report.errors) > 1 else ""
        raise AgreementError(f"{where}{first.code}: {first.message}{more}", findings=list(report.errors))
    assert report.agreement is not None
    return report.agreement


def parse_document(data: Any) -> Agreement:
    """Parsed JSON/YAML data → `Agreement` with `hash` set; raises `AgreementError`."""
    return _accepted(check_data(data))


def load_agreement(raw: bytes | str) -> Agreement:
    """YAML (or JSON) bytes → `Agreement`; raises `AgreementError` whose findings have positions."""
    return _accepted(check_bytes(raw.encode("utf-8") if isinstance(raw, str) else raw))


def with_hash(agreement: Agreement, data: Any) -> Agreement:
    """Attach the canonical hash of `data` (the document as written) to `agreement`."""
    agreement._hash = document_hash(data)
    return agreement
