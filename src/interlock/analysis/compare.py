"""Two drafts side by side, metric by metric, with the draft each side would prefer.

Each side's preference on a metric follows its own figure: lower exposure, fewer trust
steps, more escrow coverage …; on temptation a side prefers the draft in which *the other
sides* are less tempted to stop.  Plan-wide rows (deadlocks, stages that never open,
obligations nobody can verify) are preferred lower by every side; duration has no
preference.  Figures are compared within one side only (each side's scale is its own).
Pure; raises `CompareError` when the drafts do not name the same parties.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from interlock.analysis.exposure import EPS
from interlock.analysis.pipeline import Analysis
from interlock.analysis.report import num
from interlock.errors import CompareError

Better = Literal["lower", "higher"] | None
Choice = Literal["A", "B"] | None


@dataclass(frozen=True)
class Row:
    metric: str
    better: Better
    values: Mapping[str, tuple[float | None, float | None]]
    """Per side: (figure in A, figure in B)."""
    prefers: Mapping[str, Choice]


@dataclass(frozen=True)
class Comparison:
    a: Analysis
    b: Analysis
    rows: tuple[Row, ...]

    def tally(self) -> dict[str, dict[str, int]]:
        out = {p: {"A": 0, "B": 0} for p in self.a.sides}
        for row in self.rows:
            for p, choice in row.prefers.items():
                if choice is not None and p in out:
                    out[p][choice] += 1
        return out


def _choose(a: float | None, b: float | None, better: Better) -> Choice:
    if better is None:
        return None
    x, y = a or 0.0, b or 0.0
    if abs(x - y) <= EPS * max(1.0, abs(x), abs(y)):
        return None
    lower_a = x < y
    return ("A" if lower_a else "B") if better == "lower" else ("B" if lower_a else "A")


Metric = Callable[[Analysis, str], float | None]


def _temptation(a: Analysis, p: str) -> float:
    t = a.defection[p].max_temptation
    return t.value if t is not None else 0.0


OWN: tuple[tuple[str, Better, Metric], ...] = (
    ("max exposure (%)", "lower", lambda a, p: a.exposure[p].max_pct),
    ("exposure integral (%·days)", "lower", lambda a, p: a.exposure[p].integral_pct),
    ("asymmetry (max, % points)", "lower", lambda a, p: a.exposure[p].asymmetry_pct),
    ("trust steps", "lower", lambda a, p: float(len(a.exposure[p].trust_steps))),
    ("largest single step (%)", "lower", lambda a, p: a.exposure[p].largest_step_pct),
    ("cuts leaving it worse off", "lower", lambda a, p: float(len(a.defection[p].worse_off_after))),
    ("escrow coverage", "higher", lambda a, p: a.exposure[p].escrow_coverage),
    ("waits without deadline/consequence", "lower", lambda a, p: float(len(a.exposure[p].waits))),
)

PLAN: tuple[tuple[str, Better, Callable[[Analysis], float | None]], ...] = (
    ("deadlocks", "lower", lambda a: float(len(a.structure.deadlocks))),
    ("stages that never open", "lower", lambda a: float(len(a.structure.never_open))),
    ("obligations nobody can verify", "lower", lambda a: float(len(a.structure.unverifiable))),
    ("duration (days)", None,
     lambda a: a.structure.duration.total_seconds() / 86400 if a.structure.duration else None),
)


def compare(a: Analysis, b: Analysis) -> Comparison:
    """Compare draft `a` with draft `b`."""
    if set(a.sides) != set(b.sides):
        raise CompareError(
            f"the drafts name different parties ({', '.join(a.sides)} / {', '.join(b.sides)})"
        )
    rows: list[Row] = []
    for label, better, metric in OWN:
        values = {p: (metric(a, p), metric(b, p)) for p in a.sides}
        rows.append(Row(label, better, values, {p: _choose(*values[p], better) for p in a.sides}))
    own = {p: (_temptation(a, p), _temptation(b, p)) for p in a.sides}
    others = {
        p: (max((own[q][0] for q in a.sides if q != p), default=0.0),
            max((own[q][1] for q in a.sides if q != p), default=0.0))
        for p in a.sides
    }
    rows.append(Row("max temptation to stop", None, own, dict.fromkeys(a.sides)))
    rows.append(Row("other sides' max temptation", "lower", others,
                    {p: _choose(*others[p], "lower") for p in a.sides}))
    for label, better, plan_metric in PLAN:
        pair = (plan_metric(a), plan_metric(b))
        values = dict.fromkeys(a.sides, pair)
        rows.append(Row(label, better, values, {p: _choose(*pair, better) for p in a.sides}))
    return Comparison(a, b, tuple(rows))


def compare_json(c: Comparison) -> dict[str, Any]:
    def draft(x: Analysis) -> dict[str, Any]:
        return {"id": x.agreement.id, "title": x.agreement.title}

    return {
        "a": draft(c.a),
        "b": draft(c.b),
        "metrics": [
            {"metric": r.metric, "better": r.better,
             "sides": {p: {"a": num(r.values[p][0]), "b": num(r.values[p][1]), "prefers": r.prefers[p]}
                       for p in c.a.sides}}
            for r in c.rows
        ],
        "preferences": c.tally(),
    }
