"""When the simulated run starts (its adoption), and why — always stated in the output.

In order:

1. `given`: the caller's moment (`--start`; on the server, the adoption the log records);
2. `values`: VALUES' `start`;
3. `plan`, from a fixed time at which the plan lets something begin (an `at:` in a stage's
   `opens`, an obligation's `starts` or a window's `from`): the earliest of them.  Deadlines
   are not used for this: adopting at a deadline would make the plan late by construction;
4. `plan`, from fixed deadlines (an `at:` in a `due`, or in a window's `until`) when nothing
   begins at a fixed time: the *latest* adoption from which both schedules (optimistic and
   deadline) meet every fixed deadline.  It starts at the earliest of them and moves earlier
   by the largest lateness of either run from there, until nothing is late (a few rounds at
   most: the runs keep their shape when nothing else is fixed).  A plan signed a fortnight
   before its first fixed deadline is thus simulated from about when it needs to start,
   not from an arbitrary date decades before, and the same start serves both schedules;
5. `none`: the plan names no fixed time at all; 2000-01-01 00:00 in its timezone, and only
   offsets from it mean anything.

Pure: simulations use the local rules (`interlock.analysis.schedule`), never a clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from interlock.agreement.model import After, AfterEach, Agreement, AllOf, AnyOf, At, Condition
from interlock.analysis.run import Scenario
from interlock.analysis.schedule import settle
from interlock.analysis.shared import Shared
from interlock.analysis.values import Valuation
from interlock.timeutil import format_timestamp, parse_timestamp

DEFAULT_START = "2000-01-01T00:00:00"
ROUNDS = 4
Source = Literal["given", "values", "plan", "none"]


@dataclass(frozen=True)
class Start:
    at: datetime
    source: Source
    reason: str
    """In words, for the output: "the earliest fixed time at which …"."""


def _times(c: Condition | None) -> Iterator[str]:
    if isinstance(c, At):
        yield c.at
    elif isinstance(c, After):
        yield from _times(c.after)
    elif isinstance(c, AllOf | AnyOf):
        for x in c.all_ if isinstance(c, AllOf) else c.any_:
            yield from _times(x)


def begin_times(agreement: Agreement) -> list[tuple[datetime, str]]:
    """Fixed times at which the plan lets something begin, with what begins then."""
    found: list[tuple[datetime, str]] = []
    for stage in agreement.stages:
        labelled: list[tuple[Condition | None, str]] = [(stage.opens, f"stage {stage.id} opens")]
        for ob in stage.obligations:
            labelled += [(ob.starts, f"{ob.id} starts"),
                         (ob.window.from_ if ob.window else None, f"{ob.id}'s window opens")]
        for c, what in labelled:
            found += [(parse_timestamp(t, agreement.timezone), what) for t in _times(c)]
    return found


def deadline_times(agreement: Agreement) -> list[tuple[datetime, str, str | None]]:
    """Fixed deadlines (`due`) and fixed ends of windows (`until`): (time, what, the
    obligation when it is a deadline)."""
    found: list[tuple[datetime, str, str | None]] = []
    for _, ob in agreement.obligations():
        due = None if isinstance(ob.due, AfterEach) else ob.due
        for t in _times(due):
            at = parse_timestamp(t, agreement.timezone)
            found.append((at, f"{ob.id} is due at {format_timestamp(at)}", ob.id))
        for t in _times(ob.window.until if ob.window else None):
            at = parse_timestamp(t, agreement.timezone)
            found.append((at, f"{ob.id}'s window closes at {format_timestamp(at)}", None))
    return found


def start_of(agreement: Agreement, valuation: Valuation, given: datetime | None = None) -> Start:
    """The run's start by the rules of the module docstring."""
    if given is not None:
        return Start(given, "given", "the start given (--start, or the adoption the log records)")
    if valuation.start is not None:
        return Start(valuation.start, "values", "the start in the VALUES file")
    begins = begin_times(agreement)
    if begins:
        at, what = min(begins)
        return Start(at, "plan", f"the earliest fixed time at which the plan lets something begin: {what} "
                                 f"at {format_timestamp(at)}")
    deadlines = deadline_times(agreement)
    if not deadlines:
        return Start(parse_timestamp(DEFAULT_START, agreement.timezone), "none",
                     "the plan names no fixed time, so the start is arbitrary: only offsets from it matter")
    at, tightest, _ = min(deadlines)
    bound = sorted({oid for _, _, oid in deadlines if oid is not None})
    for _ in range(ROUNDS):
        late, who = _lateness(agreement, valuation, at, bound)
        if late <= timedelta(0):
            break
        at, tightest = at - late, who
    return Start(at, "plan", "the latest adoption from which both schedules meet every fixed deadline "
                             f"(the tightest: {tightest})")


def _lateness(
    agreement: Agreement, valuation: Valuation, start: datetime, bound: list[str],
) -> tuple[timedelta, str]:
    """How late either schedule's run from `start` hands over a tranche against the deadline
    of one of the `bound` obligations, at worst, and whose deadline that is (zero and ""
    when nothing is late)."""
    worst, who = timedelta(0), ""
    for mode in ("optimistic", "deadline"):
        scenario = Scenario(start=start, mode=mode, lags=dict(valuation.lags), default_lag=valuation.default_lag,
                            horizon=start + valuation.horizon if valuation.horizon is not None else None)
        view = Shared(agreement).view(scenario)
        fix = settle(agreement, scenario, view.oracle, view.plan)
        for oid in bound:
            due = fix.ev.due(oid)
            if due is None:
                continue
            for t in fix.schedule.get(oid, ()):
                if t.at - due.at > worst:
                    worst, who = t.at - due.at, f"{oid} is due at {format_timestamp(due.at)}"
    return worst, who


__all__ = ["DEFAULT_START", "Start", "begin_times", "deadline_times", "start_of"]
