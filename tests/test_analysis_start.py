"""Where the simulated run starts, and that the output always says so; `--suggest` bounded
by explicit arguments (beam width, budget), never by a clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from typer.testing import CliRunner

from conftest import DATA, ROOT
from interlock.agreement import Agreement, load_agreement, parse_document
from interlock.agreement.yamlsource import load_yaml_bytes
from interlock.analysis import analyse, parse_values
from interlock.analysis.schedule import local_oracle
from interlock.analysis.start import start_of
from interlock.analysis.suggest import search
from interlock.analysis.values import EQUAL
from interlock.cli import app

HERE = DATA / "analysis"
NORTHLAND = ROOT / "examples" / "northland-southland.yaml"
runner = CliRunner()


def plan(path: Any) -> Agreement:
    return load_agreement(path.read_bytes())


def test_a_plan_with_fixed_deadlines_only_starts_when_it_must() -> None:
    # Northland: nothing begins at a fixed time; the talks are due at noon on 19 March 2026
    # and start once 6 of the 12 first releases are delivered.  Deadline schedule: s2 opens
    # when the withdrawal (due +24h) is verified; the releases come in thirds at +24h, +48h,
    # +72h after that, so the 8th person is out at +3 days, and the talks can open then.
    # The optimistic run gets there at +1 day.  So the latest adoption from which both
    # schedules meet the deadline is 19 March 12:00 − 3 days.
    start = start_of(plan(NORTHLAND), EQUAL)
    assert start.at == datetime(2026, 3, 16, 12, tzinfo=UTC)
    assert start.source == "plan" and "talks-north is due at 2026-03-19T12:00:00Z" in start.reason
    for mode in ("optimistic", "deadline"):
        r = analyse(plan(NORTHLAND), mode=mode, oracle=local_oracle, assume_monitor=True)
        assert r.run.adopted.at == start.at
        assert r.run.breaches == ()  # nothing is late by construction
        assert r.structure.span.days < 60  # not 26 years
        talks = next(s for s in r.steps if s.obligation == "talks-north")
        assert talks.at <= datetime(2026, 3, 19, 12, tzinfo=UTC)
    deadline = analyse(plan(NORTHLAND), mode="deadline", oracle=local_oracle, assume_monitor=True)
    talks = next(s for s in deadline.steps if s.obligation == "talks-north")
    assert talks.at == datetime(2026, 3, 19, 12, tzinfo=UTC)  # due then, delivered then


def test_the_earliest_fixed_beginning_wins_over_deadlines() -> None:
    doc = load_yaml_bytes((HERE / "three-steps.yaml").read_bytes()).data
    doc["stages"][0]["opens"] = {"all": ["adopted", {"at": "2026-05-04T08:00:00Z"}]}
    doc["stages"][0]["obligations"][0]["due"] = {"at": "2026-05-01T00:00:00Z"}  # earlier: not a beginning
    start = start_of(parse_document(doc), EQUAL)
    assert start.at == datetime(2026, 5, 4, 8, tzinfo=UTC)
    assert start.reason.endswith("stage s1 opens at 2026-05-04T08:00:00Z")


def test_given_values_and_none_in_that_order() -> None:
    agreement = plan(HERE / "three-steps.yaml")
    values = parse_values(load_yaml_bytes((HERE / "three-steps.values.yaml").read_bytes()).data, agreement)
    given = datetime(2026, 1, 1, tzinfo=UTC)
    assert start_of(agreement, values, given).source == "given"
    assert start_of(agreement, values).at == datetime(2026, 3, 2, tzinfo=UTC)
    assert start_of(agreement, values).source == "values"
    none = start_of(agreement, EQUAL)
    assert (none.at, none.source) == (datetime(2000, 1, 1, tzinfo=UTC), "none")
    assert "arbitrary" in none.reason


def test_the_output_states_the_start() -> None:
    data = json.loads(runner.invoke(app, ["analyze", str(NORTHLAND), "--format", "json"]).output)
    assert data["adopted_at"] == data["start"]["at"] == "2026-03-16T12:00:00Z"
    assert data["start"]["source"] == "plan"
    table = " ".join(runner.invoke(app, ["analyze", str(NORTHLAND)]).output.split())  # however it wraps
    assert "simulated from 2026-03-16T12:00:00Z" in table
    assert "start: the latest adoption from which both schedules meet every fixed deadline" in table
    svg = runner.invoke(app, ["analyze", str(HERE / "three-steps.yaml"), "--format", "svg"]).stdout_bytes.decode()
    assert "days since adoption on 2000-01-01 00:00 UTC (arbitrary: the plan names no fixed time)" in svg
    given = json.loads(runner.invoke(app, ["analyze", str(NORTHLAND), "--format", "json",
                                           "--start", "2026-03-03T09:00:00Z"]).output)
    assert given["start"]["source"] == "given" and given["adopted_at"] == "2026-03-03T09:00:00Z"


# --- --suggest within its bounds ----------------------------------------------------------------


def tranched(n: int) -> Agreement:
    text = (HERE / "three-steps.yaml").read_text()
    text = text.replace("quantity: {amount: 10, unit: persons},",
                        f"quantity: {{amount: {max(10, n)}, unit: persons}}, tranches: {n},")
    return load_agreement(text.encode())


def test_suggest_never_scores_more_than_its_budget() -> None:
    r = analyse(tranched(60), oracle=local_oracle)
    for budget in (0, 500, 20_000, 10**7):
        done = search(r, budget=budget)
        assert done.search.used <= budget
        assert (done.search.cut_short != []) == (budget < 10**7)
    # Nothing tried, nothing proposed — and it says which kinds it could not try.
    nothing = search(r, budget=0)
    assert nothing.found == [] and "reorder" in nothing.search.cut_short
    # Same arguments, same answer (no clock anywhere).
    assert [s.description for s in search(r, budget=20_000).found] == \
        [s.description for s in search(r, budget=20_000).found]


def test_suggest_beam_width_is_an_argument() -> None:
    # 60 releases and their answers have more than 2,000 allowed orders: the beam decides.
    r = analyse(tranched(60), oracle=local_oracle)
    narrow, wide = search(r, beam=1, budget=10**7).search, search(r, beam=4, budget=10**7).search
    assert narrow.beam == 1 and wide.beam == 4
    assert narrow.cut_short == [] and wide.cut_short == []
    assert 0 < narrow.used < wide.used  # a wider beam scores more prefixes


def test_suggest_budget_on_the_command_line() -> None:
    out = runner.invoke(app, ["analyze", str(HERE / "tranches-1.yaml"), "--suggest", "--format", "json",
                              "--suggest-budget", "0", "--beam", "2"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["suggestions"] == []
    assert data["suggest_search"] == {"beam": 2, "budget": 0, "used": 0,
                                      "cut_short": ["split", "escrow", "swap", "reorder"]}
    table = runner.invoke(app, ["analyze", str(HERE / "tranches-1.yaml"), "--suggest", "--suggest-budget", "0"])
    assert "stopped at its budget" in table.output
    bad = runner.invoke(app, ["analyze", str(HERE / "tranches-1.yaml"), "--suggest", "--beam", "0"])
    assert bad.exit_code == 2
