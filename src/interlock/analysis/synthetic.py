"""The nominal run as a log of unsigned statements, and the engine as the scheduler's oracle.

`entries_for(agreement, adopted_at, tranches)` writes what a compliant run would log:
an `adopt` by every required signer at adoption; for each tranche a `declare` by its debtor
(observed and integrated at its handover) and one `attest` (confirm) by each of the first
`quorum` verifiers at its verification moment.  A declaration and monitors' confirmations
are one claim — monitors' own `evidence` would be a second delivery (DESIGN.md, "Claims").

`engine_oracle` is the scheduler's seam filled by `interlock.engine.evaluate`: each round of
the fixpoint the synthetic log is evaluated, claims the engine refuses stop counting, and
the engine's stage openings, completions and breaches replace the local rules' wherever
both could know them.  Every difference is kept as a remark in the run's notes, so a
disagreement between the analysis and the engine is visible, never silent.

Simulation only: keys are not checked for unsigned statements beyond being registered, so a
draft whose participants have no keys yet gets placeholder keys in a private copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from interlock import engine
from interlock.agreement.model import Agreement, Key
from interlock.analysis.moments import Evaluator, quorum, valid_verifiers
from interlock.analysis.run import Moment, Scenario, Tranche, TrancheId
from interlock.analysis.shared import Work
from interlock.engine import Status, evaluate
from interlock.statements.entries import Entry
from interlock.timeutil import format_timestamp

PLACEHOLDER_KEY = "A" * 43 + "="
NO_HASH = "sha256:" + "0" * 64


def simulation_agreement(agreement: Agreement) -> Agreement:
    """`agreement` with a placeholder key for every participant that has none (same hash)."""
    try:
        digest = agreement.hash
    except ValueError:
        digest = NO_HASH
    if all(p.keys for p in agreement.parties):
        if digest == NO_HASH:
            copy = agreement.model_copy()
            copy._hash = digest
            return copy
        return agreement
    parties = [
        p if p.keys else p.model_copy(update={"keys": [Key(id=f"{p.id}-simulation", ed25519=PLACEHOLDER_KEY)]})
        for p in agreement.parties
    ]
    copy = agreement.model_copy(update={"parties": parties})
    copy._hash = digest
    return copy


def entries_for(
    agreement: Agreement, adopted_at: datetime, tranches: Sequence[Tranche],
) -> tuple[list[Entry], dict[int, TrancheId]]:
    """The synthetic log, and which tranche each declare/attest entry belongs to."""
    sim = simulation_agreement(agreement)
    key = {p.id: p.keys[0].id for p in sim.parties}
    order = {ob.id: i for i, (_, ob) in enumerate(sim.obligations())}
    obs = {ob.id: ob for _, ob in sim.obligations()}
    rows: list[tuple[tuple[Any, ...], str, dict[str, Any], TrancheId | None]] = []
    for n, who in enumerate(sim.required_adopters()):
        rows.append(((adopted_at, -1, 0, n, 0), who, {"type": "adopt", "body": {}}, None))
    for t in tranches:
        ob = obs[t.obligation]
        body: dict[str, Any] = {"obligation": ob.id, "observed_at": format_timestamp(t.at)}
        if ob.kind != "act":
            body["units"] = t.units
            if t.categories:
                body["categories"] = dict(t.categories)
        base = (order[ob.id], t.number)
        rows.append(((t.at, t.depth, 1, *base), ob.by, {"type": "declare", "body": body}, t.id))
        if t.verified_at is None:
            continue
        for v in valid_verifiers(sim, ob)[: quorum(ob)]:
            rows.append(((t.verified_at, t.depth, 2, *base), v, {"type": "attest", "body": {}}, t.id))
    rows.sort(key=lambda r: r[0])
    entries: list[Entry] = []
    owner: dict[int, TrancheId] = {}
    declared: dict[TrancheId, int] = {}
    for index, (sort_key, author, written, tid) in enumerate(rows):
        at = sort_key[0]
        statement = written
        if written["type"] == "attest":
            assert tid is not None
            statement = {"type": "attest", "body": {"entry": declared[tid], "verdict": "confirm"}}
        elif written["type"] == "declare":
            assert tid is not None
            declared[tid] = index
        if tid is not None:
            owner[index] = tid
        stamp = format_timestamp(at)
        full = {
            **statement, "agreement": sim.hash, "author": author, "key": key[author],
            "issued_at": stamp, "nonce": f"simulation-{index}",
        }
        entries.append(Entry(index, at, statement=full))
    return entries, owner


class EngineRounds:
    """The engine across the rounds of one fixpoint (`interlock.engine.Evaluator`, append +
    status): a round whose synthetic log extends the previous round's folds only the new
    entries; the same log at the same moment reuses the status.  Otherwise it refolds."""

    def __init__(self, work: Work) -> None:
        self.work = work
        self._entries: list[Entry] = []
        self._engine: engine.Evaluator | None = None
        self._as_of: datetime | None = None
        self._status: Status | None = None

    def status(self, agreement: Agreement, entries: list[Entry], as_of: datetime) -> Status:
        self.work.evaluations += 1
        n = len(self._entries)
        if self._engine is not None and len(entries) >= n and entries[:n] == self._entries:
            if len(entries) == n and as_of == self._as_of and self._status is not None:
                return self._status
            fresh = entries[n:]
        else:
            self._engine = engine.Evaluator(simulation_agreement(agreement), unsigned=True)
            fresh = entries
        for entry in fresh:
            self._engine.append(entry)
        self.work.folded += len(fresh)
        self._entries, self._as_of = entries, as_of
        self._status = self._engine.status(as_of)
        return self._status


class EngineEvaluator(Evaluator):
    """The local evaluator, corrected by the engine's verdict on the synthetic log."""

    def __init__(
        self, agreement: Agreement, scenario: Scenario, schedule: Mapping[str, Sequence[Tranche]],
        horizon: datetime, rounds: EngineRounds | None = None,
    ) -> None:
        adopted = scenario.start
        flat = [t for ts in schedule.values() for t in ts]
        self.as_of = max([horizon, adopted, *(t.verified_at or t.at for t in flat)])
        entries, owner = entries_for(agreement, adopted, flat)
        if rounds is None:
            self.status: Status = evaluate(simulation_agreement(agreement), entries, self.as_of, unsigned=True)
        else:
            self.status = rounds.status(agreement, entries, self.as_of)
        refused = {owner[r.index] for r in self.status.rejected if r.index in owner}
        cleaned = {
            oid: tuple(replace(t, verified=None, verified_at=None) if t.id in refused else t for t in ts)
            for oid, ts in schedule.items()
        }
        super().__init__(agreement, scenario, cleaned, horizon)
        for r in self.status.rejected:
            self.remarks.add(f"the engine refused a simulated statement: {r.reason}")
        if self.status.adopted_at != adopted:
            self.remarks.add("the engine did not see the plan adopted by its required signers")

    def _reconcile(
        self, what: str, compute: Callable[[], Moment | None], engine_at: datetime | None,
    ) -> Moment | None:
        local, provisional = self.probe(compute)
        if engine_at is None:
            if local is None or local.at > self.as_of:
                return local
            if not provisional:
                self.remarks.add(f"engine and analysis differ: {what} at {format_timestamp(local.at)} "
                                 "by the analysis, not by the engine")
            return None
        if local is not None and local.at == engine_at:
            return local
        if not provisional:
            said = format_timestamp(local.at) if local is not None else "never"
            self.remarks.add(f"engine and analysis differ: {what} at {format_timestamp(engine_at)} by the "
                             f"engine, {said} by the analysis (the engine's moment is used)")
        if local is None:
            return Moment(engine_at, 0, what)
        return replace(local, at=engine_at)

    def stage_opened(self, stage_id: str) -> Moment | None:
        st = self.status.stages.get(stage_id)
        return self._reconcile(f"stage {stage_id} opens", lambda: super(EngineEvaluator, self).stage_opened(stage_id),
                               st.opened_at if st else None)

    def stage_complete(self, stage_id: str) -> Moment | None:
        st = self.status.stages.get(stage_id)
        return self._reconcile(f"stage {stage_id} completes",
                               lambda: super(EngineEvaluator, self).stage_complete(stage_id),
                               st.completed_at if st else None)

    def breached(self, oid: str) -> Moment | None:
        ob = self.status.obligations.get(oid)
        engine_at = ob.since if ob is not None and ob.state == "breached" else None
        return self._reconcile(f"{oid} breached", lambda: super(EngineEvaluator, self).breached(oid), engine_at)


class EngineOracle:
    """The engine as the scheduler's oracle.  `begin()` gives the oracle for the rounds of
    one fixpoint (`schedule.settle` calls it), which folds incrementally (`EngineRounds`);
    `work` counts the engine's evaluations and the entries it folded."""

    def __init__(self, work: Work | None = None, rounds: EngineRounds | None = None) -> None:
        self.work = work if work is not None else Work()
        self.rounds = rounds

    def __call__(
        self, agreement: Agreement, scenario: Scenario, schedule: Mapping[str, Sequence[Tranche]],
        horizon: datetime,
    ) -> Evaluator:
        if self.rounds is None:
            self.work.evaluations += 1
            self.work.folded += sum(len(ts) for ts in schedule.values())
        return EngineEvaluator(agreement, scenario, schedule, horizon, self.rounds)

    def begin(self) -> EngineOracle:
        return EngineOracle(self.work, EngineRounds(self.work))


engine_oracle = EngineOracle()
"""The engine, as `analyse` uses it by default (each fixpoint folds incrementally)."""
