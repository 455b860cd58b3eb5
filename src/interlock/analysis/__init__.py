"""Sequencing analysis of a plan: who is exposed when, where it deadlocks, a better order.  Pure.

Quick start::

    from interlock.analysis import analyse, to_json
    result = analyse(agreement)                       # equal weights, optimistic schedule
    result.exposure["a"].max_pct                      # a side's peak exposure, % of its handover
    to_json(result)                                   # `interlock analyze --format json`

    from interlock.analysis import compare, suggest, parse_values
    valuation = parse_values(values_data, agreement)  # VALUES.yaml, already read as data
    compare(analyse(draft_a, valuation), analyse(draft_b, valuation))
    suggest(result, beam=8, budget=1_000_000)         # orders and changes that lower peaks
    result.began.reason                               # when the run starts, and why

Modules: `run` (the simulated run's data), `start` (when the run starts), `moments`
(condition moments by the local rules), `schedule` (the nominal run as a fixpoint),
`synthetic` (the run as unsigned statements; the engine confirms the run), `shared` (many
simulations of one plan sharing a memo), `counterfactual` (what if a side stops), `values`
(VALUES.yaml), `steps` and `flows` (valued steps, escrow), `exposure`, `defection`,
`structure`, `pipeline` (`analyse`), `report` (JSON), `compare`, `suggest` (bounded by its
arguments).  `Analysis.work` counts what was done in machine-independent units.  Charts
are drawn outside this package (`interlock.analysis_chart`).  Definitions and decisions:
docs/analysis.md; performance: docs/performance.md ("Analysis").
"""

from interlock.analysis.compare import Comparison, compare, compare_json
from interlock.analysis.pipeline import Analysis, analyse
from interlock.analysis.report import to_json
from interlock.analysis.suggest import Suggestion, suggest, suggestions_json
from interlock.analysis.values import EQUAL, Valuation, parse_values

__all__ = [
    "EQUAL", "Analysis", "Comparison", "Suggestion", "Valuation", "analyse", "compare", "compare_json",
    "parse_values", "suggest", "suggestions_json", "to_json",
]
