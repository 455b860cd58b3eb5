"""One sequencing analysis in a separate process, bounded in time and in number.

The analysis of a plan can take long — its cost grows steeply with the number of tranches
(a draft with thousands of tranches can take seconds or more) — and a server thread cannot be stopped
half-way.  So the Analysis page never analyses in the server's process: `run_analysis`
starts a Python child running `main()` below, hands it the already validated
plan on stdin, reads the report (`interlock.analysis.to_json`, exactly what `interlock analyze
--format json` prints) and the chart (`interlock.analysis_chart.render(…, "svg")`) as JSON on
stdout, and kills it after `timeout` seconds (`AnalysisTimeoutError`).  At most `SLOTS`
analyses run at once; a request that finds no free slot within its timeout gets
`AnalysisBusyError` (429).  Nothing is written anywhere: the child reads stdin and writes stdout.

The parent pickles the request (an `Agreement` it validated itself and a `Valuation`): data
flows from the trusted parent to the child only.  The answer comes back as JSON.

`cached_analysis` keeps the results for registered agreements (a registered plan never
changes: the key is its hash and the options), so the page and its chart cost one run.
"""

from __future__ import annotations

import json
import logging
import pickle
import subprocess
import sys
import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from interlock.agreement.model import Agreement
from interlock.analysis.run import Mode
from interlock.analysis.values import Valuation
from interlock.errors import AnalysisBusyError, AnalysisFailedError, AnalysisTimeoutError, InterlockError

SLOTS = 2
"""Analyses running at once in one server process."""
TIMEOUT = 30.0
"""Seconds an analysis may take (`app.state.analysis_seconds` overrides it)."""
CACHE_SIZE = 32
CHILD = "import sys; from interlock.server.dashboard.analysis_job import main; sys.exit(main())"

log = logging.getLogger("interlock.server.dashboard")
_slots = threading.BoundedSemaphore(SLOTS)


@dataclass(frozen=True)
class Outcome:
    """The report as `interlock analyze --format json` prints it, and the chart as SVG text."""

    report: dict[str, Any]
    svg: str


def run_analysis(
    agreement: Agreement, valuation: Valuation, mode: Mode, assume_monitor: bool, *,
    start: datetime | None = None, timeout: float = TIMEOUT,
) -> Outcome:
    """Analyse `agreement` in a child process (`start`: the simulated adoption, as `analyse`
    takes it).  Raises `AnalysisTimeoutError`, `AnalysisBusyError`, `AnalysisFailedError`, or
    the `InterlockError` the analysis raised."""
    request = pickle.dumps({"agreement": agreement, "valuation": valuation, "mode": mode,
                            "assume_monitor": assume_monitor, "start": start})
    if not _slots.acquire(timeout=timeout):
        raise AnalysisBusyError()
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD], input=request,
            capture_output=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        raise AnalysisTimeoutError(
            f"the analysis did not finish within {timeout:g} s; run `interlock analyze` on the plan instead"
        ) from None
    finally:
        _slots.release()
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or done.returncode != 0:
        log.error("analysis job failed (exit %s): %s", done.returncode, done.stderr.decode(errors="replace")[-4000:])
        raise AnalysisFailedError()
    if "error" in answer:
        raise _error(answer["error"])
    return Outcome(answer["report"], answer["svg"])


def _error(data: dict[str, Any]) -> InterlockError:
    err = InterlockError(str(data.get("message", "")))
    err.code = str(data.get("code", "error"))  # type: ignore[misc]
    err.http_status = 422  # type: ignore[misc]
    return err


_cache: OrderedDict[tuple[str, str, bool, datetime | None, float], Future[Outcome]] = OrderedDict()
_cache_lock = threading.Lock()


def cached_analysis(
    agreement: Agreement, mode: Mode, assume_monitor: bool, *, start: datetime | None = None,
    timeout: float = TIMEOUT,
) -> Outcome:
    """`run_analysis` with equal weights, once per (agreement hash, mode, assume_monitor, start, timeout).

    Concurrent requests for the same key wait for the same run.  Failures are kept too (the
    same plan would fail again), except `AnalysisBusyError`, which says nothing about the plan.
    """
    from interlock.analysis.values import EQUAL

    key = (agreement.hash, mode, assume_monitor, start, timeout)
    with _cache_lock:
        future = _cache.get(key)
        owner = future is None
        if future is None:
            future = _cache[key] = Future()
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(key)
    if owner:
        try:
            future.set_result(run_analysis(agreement, EQUAL, mode, assume_monitor, start=start, timeout=timeout))
        except Exception as err:  # every waiter must hear the outcome, whatever it is
            if not isinstance(err, InterlockError) or isinstance(err, AnalysisBusyError):
                with _cache_lock:
                    _cache.pop(key, None)
            future.set_exception(err)
    return future.result()


def main() -> int:
    """The child's side: pickled request on stdin → JSON answer on stdout."""
    request = pickle.loads(sys.stdin.buffer.read())  # written by our own parent process only
    try:
        from interlock.analysis import analyse, to_json
        from interlock.analysis_chart import render

        result = analyse(request["agreement"], request["valuation"], request["mode"],
                         start=request["start"], assume_monitor=request["assume_monitor"])
        answer: dict[str, Any] = {"report": to_json(result), "svg": render([result], "svg").decode()}
    except InterlockError as err:
        answer = {"error": err.to_dict()}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    sys.stdout.flush()
    return 0
