"""`analyse(agreement, valuation, mode)`: the whole sequencing analysis of one plan.

Simulate the nominal run, value its steps, then compute exposure, defection and structure.
Counterfactuals for temptation simulate the plan again with one side's later tranches
withheld, against the nominal run's horizon and equal-weights denominators, so that only
what the stop changes is counted.  Pure: the start moment comes from the caller, the
valuation or the plan's fixed times (`interlock.analysis.start`) — never from a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from interlock.agreement.model import Agreement, Party, Verify
from interlock.analysis import defection, exposure, structure
from interlock.analysis.counterfactual import Counterfactuals
from interlock.analysis.defection import PartyDefection
from interlock.analysis.exposure import PartyExposure
from interlock.analysis.flows import build_steps, obligation_terms, unit_totals
from interlock.analysis.moments import verifiable
from interlock.analysis.run import Mode, Run, Scenario
from interlock.analysis.schedule import Oracle, local_oracle, simulate
from interlock.analysis.shared import Work
from interlock.analysis.start import Start, start_of
from interlock.analysis.steps import Step
from interlock.analysis.values import EQUAL, Valuation

ASSUMED_MONITOR = "assumed-monitor"


@dataclass(frozen=True)
class Analysis:
    agreement: Agreement
    """The plan as written (structure findings are about it)."""
    mode: Mode
    valuation: Valuation
    sides: tuple[str, ...]
    run: Run
    steps: tuple[Step, ...]
    exposure: dict[str, PartyExposure]
    defection: dict[str, PartyDefection]
    structure: structure.Structure
    assumed: tuple[str, ...] = ()
    """Obligations given an assumed monitor for this what-if (`assume_monitor`)."""
    simulated: Agreement | None = None
    """The plan the run simulated, when it differs from `agreement` (the what-if)."""
    oracle: Oracle = local_oracle
    """The condition rules the run used (the engine by default)."""
    work: Work = field(default_factory=Work)
    """What the simulations did (machine-independent counts)."""
    start: Start | None = None
    """When the run starts and why (`interlock.analysis.start`); None for a bare run."""

    @property
    def began(self) -> Start:
        """The run's start and why (for a run analysed as given: its own adoption)."""
        return self.start or Start(self.run.adopted.at, "given", "the start of the run analysed")

    @property
    def plan(self) -> Agreement:
        return self.simulated or self.agreement

    @property
    def equal_weights(self) -> tuple[str, ...]:
        return tuple(p for p in self.sides if not self.valuation.valued(p))

    def name(self, party: str) -> str:
        p = self.agreement.party(party)
        return p.name if p else party


def sides(agreement: Agreement) -> tuple[str, ...]:
    """The parties whose exposure is measured (role `party`), in file order."""
    return tuple(p.id for p in agreement.parties if p.role == "party")


def scenario_for(
    agreement: Agreement, valuation: Valuation, mode: Mode, start: datetime | None = None,
) -> Scenario:
    return scenario_at(start_of(agreement, valuation, start), valuation, mode)


def scenario_at(start: Start, valuation: Valuation, mode: Mode) -> Scenario:
    begin = start.at
    return Scenario(
        start=begin, mode=mode, lags=dict(valuation.lags), default_lag=valuation.default_lag,
        horizon=begin + valuation.horizon if valuation.horizon is not None else None,
    )


def with_assumed_monitor(agreement: Agreement) -> tuple[Agreement, tuple[str, ...]]:
    """What-if: a neutral monitor verifies (quorum 1) every obligation nobody can verify.

    Returns the changed copy (same hash: it only ever feeds a simulation) and the obligations
    it changed.  The plan as written is unchanged; its findings still say who verifies what.
    """
    missing = [ob.id for _, ob in agreement.obligations() if not verifiable(agreement, ob)]
    if not missing:
        return agreement, ()
    taken = {p.id for p in agreement.parties}
    name = ASSUMED_MONITOR
    while name in taken:
        name += "-x"
    monitor = Party(id=name, name="Assumed monitor (what-if)", role="monitor")
    stages = [
        st.model_copy(update={"obligations": [
            ob.model_copy(update={"verify": Verify(by=[name], quorum=1)}) if ob.id in missing else ob
            for ob in st.obligations
        ]})
        for st in agreement.stages
    ]
    copy = agreement.model_copy(update={"parties": [*agreement.parties, monitor], "stages": stages})
    return copy, tuple(missing)  # model_copy keeps the private hash


def analyse(
    agreement: Agreement, valuation: Valuation = EQUAL, mode: Mode = "optimistic", *,
    start: datetime | None = None, oracle: Oracle | None = None, assume_monitor: bool = False,
    counterfactual_oracle: Oracle | None = None,
) -> Analysis:
    """The analysis of `agreement`.  Never raises for an agreement the loader accepted.

    `oracle` defaults to the engine (`interlock.analysis.synthetic.engine_oracle`), so the
    moments of the run are the engine's; `local_oracle` is the faster local reading.
    """
    work = Work()
    if oracle is None:
        from interlock.analysis.synthetic import EngineOracle

        oracle = EngineOracle(work)
    plan, assumed = with_assumed_monitor(agreement) if assume_monitor else (agreement, ())
    begin = start_of(plan, valuation, start)
    run = simulate(plan, scenario_at(begin, valuation, mode), oracle)
    return replace(analyse_run(agreement, valuation, run, oracle, plan=plan, assumed=assumed,
                               counterfactual_oracle=counterfactual_oracle, work=work), start=begin)


def analyse_run(
    agreement: Agreement, valuation: Valuation, run: Run, oracle: Oracle = local_oracle, *,
    plan: Agreement | None = None, assumed: tuple[str, ...] = (), counterfactual_oracle: Oracle | None = None,
    work: Work | None = None,
) -> Analysis:
    """The metrics of an already simulated `run` of `plan` (by default `agreement` itself).

    Counterfactuals (what if a side stops) are simulated by the local rules through a shared
    memo (`interlock.analysis.counterfactual`); `counterfactual_oracle` runs each of them as
    a plain simulation with that oracle instead (the tests pass the engine's to compare).
    """
    written, agreement = agreement, plan or agreement
    totals = unit_totals(run)
    steps = build_steps(agreement, run, valuation, totals)
    parties = sides(agreement)
    terms = obligation_terms(agreement)
    what_if = Counterfactuals(agreement, run, valuation, totals, oracle=counterfactual_oracle, work=work)
    return Analysis(
        agreement=written, mode=run.scenario.mode, valuation=valuation, sides=parties, run=run,
        steps=tuple(steps),
        exposure=exposure.analyse(steps, parties, terms),
        defection=defection.analyse(steps, parties, what_if, valuation.penalties, what_if.nominal()),
        structure=structure.analyse(written, run),
        assumed=assumed, simulated=agreement if agreement is not written else None, oracle=oracle,
        work=what_if.work,
    )
