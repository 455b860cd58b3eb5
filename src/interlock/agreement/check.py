"""The checker: every error and warning a careful mediator would point out in a draft.

STUB — to be completed (issue 2).  `check_data(data)` returns a `Report`; findings are data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from interlock.agreement.model import Agreement


@dataclass(frozen=True)
class Finding:
    """One thing the checker says: `severity` is "error" or "warning"; `id` the stage or obligation."""

    severity: str
    code: str
    message: str
    line: int | None = None
    column: int | None = None
    id: str | None = None


@dataclass
class Report:
    agreement: Agreement | None
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)


def check_data(data: Any) -> Report:
    from interlock.agreement.load import with_hash

    try:
        agreement = Agreement.model_validate(data)
    except ValidationError as exc:
        return Report(None, [Finding("error", "invalid", str(e["msg"])) for e in exc.errors()])
    return Report(with_hash(agreement, data))
