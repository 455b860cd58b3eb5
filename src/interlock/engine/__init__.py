"""The compliance engine: `evaluate(agreement, entries, as_of) -> Status`.  Pure.

Quick start::

    from interlock.engine import evaluate, Evaluator
    status = evaluate(agreement, entries, as_of)      # the whole log, at a moment
    status.to_json()                                   # DESIGN.md's "Status" shape

    evaluator = Evaluator(agreement)                   # incremental, for a server
    rejection = evaluator.check(entry)                 # would it be refused?  (no change)
    evaluator.append(entry)                            # fold it in
    evaluator.admit(entry)                             # a log's door: fold it only if accepted
    evaluator.status(as_of)                            # resolve without refolding

Modules: `terms` (an agreement version indexed), `authorise` (who may say what), `claims`
(verification quorum, contests, disputes), `ledger` (the folded facts), `moments`
(conditions), `obligations` (deliver/act, tranches, proportions), `windows` (rate periods,
refrain), `resolve` (stages, consequences, status), `fold` (Evaluator, evaluate), `explain`
(the because-chain in words), `status` (the answer).  Decisions DESIGN.md leaves open are in
docs/semantics.md; signature verification on all cores is the shell's
(`interlock.verification`).
"""

from interlock.engine.fold import Evaluator, evaluate
from interlock.engine.status import (
    Notification,
    ObligationStatus,
    PeriodStatus,
    Rejection,
    StageStatus,
    Status,
    TrancheStatus,
)

__all__ = [
    "Evaluator", "Notification", "ObligationStatus", "PeriodStatus", "Rejection", "StageStatus",
    "Status", "TrancheStatus", "evaluate",
]
