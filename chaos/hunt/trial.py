"""One try of a hunt: a plan and a schedule played on a target from a clean state, then judged.

A try resets the target first (links healed, scale restored, data cleared),
so a shrink can re-run smaller inputs on the same cluster and compare like
with like. Its order is Jepsen's: set-up, the main rounds with the schedule
playing over them, heal, let the async tasks settle, wait ``replay_after_s``,
the final rounds (replays), the final reads, the checkers.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chaos.checkers.result import Result
from chaos.cluster.reset import clear_data, restore
from chaos.history import Op, Recorder
from chaos.hunt.judge import Final, evidence, found, judge
from chaos.nemesis.runner import Nemesis
from chaos.nemesis.schedule import Schedule
from chaos.target.client import TargetClient
from chaos.target.model import TargetProfile
from chaos.workload.accounts import SetupFailed, final_invoices, final_read, wait_until_settled
from chaos.workload.generator import Plan
from chaos.workload.rounds import Bound, Player, Progress

READ_ATTEMPTS = 5     # right after a heal the lb may drop a request or two


@dataclass
class Stage:
    """The target a hunt runs on, and how to reach it."""

    target: Any                                   # a Cluster or a RunningTarget
    profile: TargetProfile
    admin: TargetClient
    make_client: Callable[[str], TargetClient]
    setup_values: Mapping[str, Any]
    api: int
    workers: int


@dataclass
class Trial:
    """What one try ran and what the checkers found in it."""

    plan: Plan
    schedule: Schedule
    history: list[Op]
    results: list[Result]
    seconds: float
    note: str = ""
    judge_s: float = 0.0          # how long the checkers took (benchmarks: operations judged per second)
    found: list[str] = field(init=False)
    evidence: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.found = found(self.results)
        self.evidence = evidence(self.results)

    @property
    def operations(self) -> int:
        return sum(1 for op in self.history if op.type == "invoke" and not op.is_nemesis)

    def shows(self, anomalies: set[str]) -> bool:
        return bool(anomalies & set(self.found))


def run_trial(stage: Stage, plan: Plan, schedule: Schedule, *, recorder: Recorder | None = None,
              progress: Progress | None = None) -> Trial:
    started = time.monotonic()
    notes = restore(stage.target, stage.api, stage.workers, stage.profile)
    note = "; ".join(filter(None, [*notes, clear_data(stage.admin)]))
    bound = Bound.make(plan, stage.admin, stage.make_client, stage.setup_values)
    recorder = recorder if recorder is not None else Recorder()
    player = Player(plan, bound, recorder, stage.target.api_urls(), stage.make_client, stage.admin.token)

    def record(event: str, fault: dict) -> None:
        recorder.nemesis(event, fault)
        if event == "stop":
            player.fault_healed()

    nemesis = Nemesis(stage.target, record)
    if progress is not None:
        player.progress = progress
    try:
        nemesis.run(schedule)
        player.main(plan.params.seconds)
        ends = max((s.at_s + s.duration_s for s in schedule), default=0.0)
        nemesis.join(max(0.0, started + ends - time.monotonic()) + 60.0)
    finally:
        nemesis.heal()
    healed = time.monotonic()
    wait_until_settled(stage.admin, [op.value["task_id"] for op in recorder.snapshot()
                                     if op.f == "generate_invoice_async" and op.type == "ok"
                                     and op.value.get("task_id") is not None])
    time.sleep(max(0.0, healed + plan.params.replay_after_s - time.monotonic()) if _has_final(plan) else 0.0)
    try:
        player.final()
    finally:
        player.close()
    final = Final(_read(lambda: final_invoices(stage.admin, bound.users)), _capacity(stage.admin, bound))
    history = recorder.snapshot()
    judging = time.perf_counter()
    results = judge(stage.profile, history, final)
    return Trial(plan, schedule, history, results, time.monotonic() - started, note, time.perf_counter() - judging)


def _has_final(plan: Plan) -> bool:
    return any(r.final for r in plan.rounds)


def _read(read: Callable[[], Any]) -> Any:
    for attempt in range(READ_ATTEMPTS):
        try:
            return read()
        except SetupFailed:
            if attempt == READ_ATTEMPTS - 1:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")


def _capacity(admin: TargetClient, bound: Bound) -> dict[str, dict[Any, dict[str, Any]]]:
    return {"events": {e: _read(lambda e=e: final_read(admin, "event", event_id=e)) for e in bound.events},
            "slots": {s: _read(lambda s=s: final_read(admin, "slot", slot_id=s)) for s in bound.slots}}
