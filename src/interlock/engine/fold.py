"""The incremental fold: `Evaluator` holds the ledger; `evaluate` folds a whole log.

`Evaluator.append` authorises one entry and folds it into the ledger in O(1) amortised
(an amendment taking effect costs O(claims) once).  `Evaluator.status(as_of)` resolves the
ledger at a moment at or after the last folded entry without refolding anything; claim views
are cached per obligation and rebuilt only for obligations that changed.

`evaluate(agreement, entries, as_of)` is the pure function of DESIGN.md: it folds the entries
integrated at or before `as_of`, in index order, and resolves at `as_of`.  So
`evaluate(log, T) == evaluate(prefix of log up to T, T)` by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from interlock.agreement.model import Agreement
from interlock.engine.authorise import authorise
from interlock.engine.ledger import Accepted, Ledger
from interlock.engine.resolve import resolve
from interlock.engine.status import Rejection, Status
from interlock.engine.terms import Terms
from interlock.statements.entries import Entry
from interlock.statements.model import Statement
from interlock.timeutil import format_timestamp


class Evaluator:
    """An incremental evaluation of one agreement's log.

    Entries must be appended in index order (strictly increasing `index`; a programming error
    otherwise raises `ValueError`).  A rejected entry is recorded in `rejected` and counts
    toward `size`.  `unsigned=True` accepts bare `statement` entries (what-if simulation).
    """

    def __init__(self, agreement: Agreement, *, unsigned: bool = False) -> None:
        self._ledger = Ledger(Terms(agreement))
        self._unsigned = unsigned

    @property
    def agreement(self) -> Agreement:
        """The version in force after the amendments folded so far."""
        return self._ledger.terms.agreement

    @property
    def size(self) -> int:
        """How many entries have been folded (accepted or rejected)."""
        return self._ledger.size

    @property
    def rejected(self) -> list[Rejection]:
        return list(self._ledger.rejected)

    @property
    def ledger(self) -> Ledger:
        """The folded facts (read-only use: explanations, dashboards)."""
        return self._ledger

    def _ordered(self, entry: Entry) -> None:
        if entry.index <= self._ledger.last_index:
            raise ValueError(
                f"entry {entry.index} does not follow entry {self._ledger.last_index}; append in index order"
            )

    def check(self, entry: Entry, *, signature_ok: bool | None = None) -> Rejection | None:
        """Would `entry` be rejected if appended now?  Changes nothing."""
        self._ordered(entry)
        verdict = authorise(entry, self._ledger, unsigned=self._unsigned, signature_ok=signature_ok)
        return verdict if isinstance(verdict, Rejection) else None

    def append(self, entry: Entry, *, signature_ok: bool | None = None) -> Rejection | None:
        """Fold `entry` in; return its rejection (also recorded in `rejected`) or None."""
        self._ordered(entry)
        verdict = authorise(entry, self._ledger, unsigned=self._unsigned, signature_ok=signature_ok)
        if isinstance(verdict, Rejection):
            self._ledger.record_rejection(verdict, entry.integrated_at)
            return verdict
        self._apply(verdict)
        return None

    def admit(
        self, entry: Entry, *, signature_ok: bool | None = None, statement: Statement | None = None
    ) -> Rejection | None:
        """Fold `entry` in only if it is accepted; return its rejection otherwise, changing nothing.

        One authorisation instead of `check` then `append` (what a log does: a refused
        submission never becomes an entry, so it is not recorded in `rejected` and does not
        advance `size`).  `statement`, when given, must be `parse_statement` of this entry's
        payload (the caller parsed it already); it is used only with `signature_ok=True`,
        and spares decoding and validating the payload again.
        """
        self._ordered(entry)
        verdict = authorise(
            entry, self._ledger, unsigned=self._unsigned, signature_ok=signature_ok,
            statement=statement if signature_ok else None,
        )
        if isinstance(verdict, Rejection):
            return verdict
        self._apply(verdict)
        return None

    def _apply(self, accepted: Accepted) -> None:
        self._ledger.apply(accepted)

    def status(self, as_of: datetime) -> Status:
        """The status at `as_of`, which must not precede the last folded entry."""
        last = self._ledger.last_time
        if last is not None and as_of < last:
            raise ValueError(
                f"as_of {format_timestamp(as_of)} precedes the last folded entry "
                f"({format_timestamp(last)}); use evaluate() on the log's prefix"
            )
        return resolve(self._ledger, as_of, simulation=self._unsigned)


def evaluate(
    agreement: Agreement,
    entries: Sequence[Entry],
    as_of: datetime,
    *,
    unsigned: bool = False,
    signatures: Sequence[bool | None] | None = None,
) -> Status:
    """The status of `agreement` at `as_of` given its log `entries` (in index order).

    Only entries integrated at or before `as_of` are considered.  `signatures`, when given,
    holds a precomputed validity flag per entry (see `interlock.verification`); None (or a
    None flag) means the engine verifies that signature itself.
    """
    if signatures is not None and len(signatures) != len(entries):
        raise ValueError("signatures must hold one flag per entry")
    evaluator = Evaluator(agreement, unsigned=unsigned)
    for position, entry in enumerate(entries):
        if entry.integrated_at > as_of:
            continue
        flag = None if signatures is None else signatures[position]
        evaluator.append(entry, signature_ok=flag)
    return evaluator.status(as_of)
