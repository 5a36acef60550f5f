"""A hunt: seeded tries until the budget is spent; each new anomaly shrunk and written as a reproduction.

Try ``i`` uses seed ``seed + i`` for both its plan and its schedule, so a
printed seed replays the try. What a hunt reports: every try's size and
findings, the situations reached over all tries (and which never were), the
time to the first anomaly, and per anomaly its shrink and reproduction.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chaos.checkers.result import Anomaly, Evidence, Result, judged
from chaos.hunt.aims import aims
from chaos.hunt.confirm import Confirmed, confirm
from chaos.hunt.reproduction import Reproduction
from chaos.hunt.shrink import Shrinker, Shrunk, describe_steps
from chaos.hunt.trial import Stage, Trial, run_trial
from chaos.nemesis import generator as nemesis_generator
from chaos.nemesis.schedule import Schedule, to_json
from chaos.target.needs import FAULTS, faults_missing
from chaos.target.operations import spec
from chaos.workload import generator
from chaos.workload.generator import Plan, WorkloadParams

HUNT_FAULTS = ("client_link", "redis_link", "postgres_link", "pause", "kill", "disconnect", "workers", "restart",
               "forget", "exhaust")

Event = Callable[[str, dict[str, Any]], None]   # ("try" | "found" | "shrink" | "written" | ..., details)


@dataclass
class HuntConfig:
    budget_s: float = 600.0
    seed: int = 1
    workload: WorkloadParams = field(default_factory=WorkloadParams)
    faults: int = 4
    overlap: bool = True
    shrink_tries: int = 30
    shrink_s: float = 300.0        # at most, once the budget is spent
    stop_at_first: bool = False
    unsafe: str = ""
    target: str = "billing"
    folder: Path = Path("reports/hunt")


@dataclass
class Found:
    anomaly: str
    seed: int
    after_s: float                  # since the hunt began
    trial: Trial
    shrunk: Shrunk | None = None
    files: tuple[Path, Path] | None = None
    confirmation: Confirmed | None = None

    @property
    def confirmed(self) -> bool:
        """The written reproduction showed the anomaly again when re-run."""
        return self.confirmation is not None and self.confirmation.shown > 0


@dataclass
class HuntReport:
    seed: int
    tries: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, int] = field(default_factory=dict)
    found: list[Found] = field(default_factory=list)
    seconds: float = 0.0
    operations: int = 0
    trials: list[tuple[str, Trial]] = field(default_factory=list)   # every run, labelled, for the report

    @property
    def never_reached(self) -> list[str]:
        return sorted(k for k, n in self.evidence.items() if n == 0)

    def result(self) -> Result:
        """The hunt as one checker result: its anomalies (one per kind found, from its first try), and every
        situation as evidence: a situation no try reached makes the hunt's verdict "not exercised"."""
        anomalies = [Anomaly(f.anomaly, f"{f.anomaly} in try seed {f.seed}, after {f.after_s:.0f} s; replay: "
                             f"chaos hunt --replay {f.files[0] if f.files else '?'}") for f in self.found]
        evidence = {name.split(": ", 1)[0]: Evidence(name.split(": ", 1)[-1], count)
                    for name, count in self.evidence.items()}
        return judged("hunt", anomalies, {"tries": len(self.tries), "operations": self.operations,
                                          "seconds": round(self.seconds, 1)}, evidence)

    @property
    def first_anomaly_s(self) -> float | None:
        return min((f.after_s for f in self.found), default=None)

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "seconds": round(self.seconds, 1), "operations": self.operations,
                "tries": self.tries, "evidence": self.evidence, "never_reached": self.never_reached,
                "first_anomaly_s": self.first_anomaly_s,
                "found": [{"anomaly": f.anomaly, "seed": f.seed, "after_s": round(f.after_s, 1),
                           "operations": f.trial.operations, "faults": len(f.trial.schedule),
                           "shrunk": None if f.shrunk is None else {
                               "operations": f.shrunk.plan.operations, "faults": len(f.shrunk.schedule),
                               "tries": f.shrunk.tries, "stopped": f.shrunk.stopped,
                               "steps": describe_steps(f.shrunk.steps),
                               "seconds": round(sum(s.seconds for s in f.shrunk.steps), 1)},
                           "confirmed": f.confirmed,
                           "confirmation": f.confirmation.describe() if f.confirmation else None,
                           "files": [str(p) for p in f.files] if f.files else []} for f in self.found]}


def topology(stage: Stage) -> nemesis_generator.Topology:
    missing = faults_missing(stage.profile, [f for f in HUNT_FAULTS if f in FAULTS])
    workers = tuple(w.name for w in stage.target.of("worker")) if getattr(stage.target, "has_workers", False) else ()
    return nemesis_generator.Topology(tuple(stage.target.api_urls()), workers,
                                      frozenset(f for f in HUNT_FAULTS if f not in missing),
                                      tuple(sorted(stage.target.redis_families())))


def plan_and_schedule(stage: Stage, config: HuntConfig, seed: int) -> tuple[Plan, Schedule]:
    """The schedule first, then the plan aimed at it (``chaos.hunt.aims``)."""
    faults = topology(stage)
    schedule = nemesis_generator.generate(seed, faults, total_s=config.workload.seconds,
                                          faults=config.faults, overlap=config.overlap)
    params = replace(config.workload, seed=seed)
    plan = generator.generate(replace(params, aims=aims(schedule, faults, params)), stage.profile)
    return plan, schedule


def involved_kinds(trial: Trial, anomaly: str) -> list[str]:
    """The kinds of round whose operations the anomaly names (so the shrink can try those alone)."""
    checker, _, kind = anomaly.partition("/")
    fs: set[str] = set()
    for result in trial.results:
        if result.checker != checker:
            continue
        for found in result.anomalies:
            if found.kind == kind:
                fs |= {trial.history[i].f for i in found.op_indexes if 0 <= i < len(trial.history)}
    kinds = {r.kind for r in trial.plan.rounds for c in r.calls if spec(c.operation).history_f in fs}
    return sorted(kinds)


def hunt(stage: Stage, config: HuntConfig, on: Event | None = None, report: HuntReport | None = None) -> HuntReport:
    """Tries until the budget is spent (or the first anomaly, with ``stop_at_first``). ``report``: fill this
    one (a caller that must show what was done even when a try breaks passes its own)."""
    emit = on or (lambda _event, _details: None)
    began = time.monotonic()
    report = report if report is not None else HuntReport(config.seed)
    known: set[str] = set()
    i = 0
    while time.monotonic() - began < config.budget_s:
        seed = config.seed + i
        i += 1
        plan, schedule = plan_and_schedule(stage, config, seed)
        emit("try", {"n": i, "seed": seed, "operations": plan.operations, "faults": len(schedule),
                     "schedule": to_json(schedule)})
        try:
            trial = run_trial(stage, plan, schedule)
        except Exception as exc:  # noqa: BLE001 - a try the cluster broke is not judged, and not hidden
            error = f"{type(exc).__name__}: {exc}"[:300]
            report.tries.append({"seed": seed, "operations": 0, "faults": len(schedule), "error": error})
            emit("broke", {"n": i, "seed": seed, "error": error})
            continue
        report.trials.append((f"try {i}, seed {seed}", trial))
        report.operations += trial.operations
        for name, count in trial.evidence.items():
            report.evidence[name] = report.evidence.get(name, 0) + count
        report.tries.append({"seed": seed, "operations": trial.operations, "faults": len(schedule),
                             "seconds": round(trial.seconds, 1), "judge_s": round(trial.judge_s, 4),
                             "found": trial.found})
        emit("tried", {"n": i, "seed": seed, "operations": trial.operations, "found": trial.found,
                       "seconds": trial.seconds, "reached": sum(1 for n in trial.evidence.values() if n),
                       "situations": len(trial.evidence)})
        new = [a for a in trial.found if a not in known]
        for anomaly in new[:1]:   # one shrink per try: the others may show again, smaller, later
            known.add(anomaly)
            report.found.append(_keep(stage, config, Found(anomaly, seed, time.monotonic() - began, trial),
                                      emit, report.trials, began))
        known.update(new)
        if new and config.stop_at_first:
            break
        report.seconds = time.monotonic() - began
    report.seconds = time.monotonic() - began
    return report


def _keep(stage: Stage, config: HuntConfig, found: Found, emit: Event, trials: list[tuple[str, Trial]],
          began: float) -> Found:
    emit("found", {"anomaly": found.anomaly, "seed": found.seed, "after_s": found.after_s})

    def still_fails(plan: Plan, schedule: Schedule, step: str = "shrink") -> bool:
        """One re-run of ``plan`` under ``schedule``: does it show the anomaly? (``step``: shrink or confirm)"""
        try:
            trial = run_trial(stage, plan, schedule)
        except Exception as exc:  # noqa: BLE001 - a try that broke shows nothing; the shrink goes on
            emit(step, {"operations": plan.operations, "faults": len(schedule), "kept": False,
                        "error": f"{type(exc).__name__}: {exc}"[:200]})
            return False
        shows = trial.shows({found.anomaly})
        trials.append((f"{step} {found.anomaly} #{sum(1 for n, _ in trials if n.startswith(step)) + 1}: "
                       f"{plan.operations} operations, {len(schedule)} faults, "
                       f"{'still shows it' if shows else 'gone'}", trial))
        emit(step, {"operations": plan.operations, "faults": len(schedule), "kept": shows,
                    "seconds": trial.seconds})
        return shows

    # the budget covers the shrinks; one found late still gets some time (at most half the budget)
    deadline = max(began + config.budget_s, time.monotonic() + min(config.shrink_s, config.budget_s / 2))
    shrinker = Shrinker(still_fails, max_tries=config.shrink_tries, deadline=deadline)
    found.shrunk = shrinker.shrink(found.trial.plan, found.trial.schedule, involved_kinds(found.trial, found.anomaly))
    # a shrink keeps an input on one showing; re-run what it kept before writing it (chaos.hunt.confirm)
    found.confirmation = confirm(found.shrunk.candidates(), lambda candidate: still_fails(*candidate, step="confirm"))
    plan, schedule = found.confirmation.chosen
    found.shrunk.plan, found.shrunk.schedule = plan, schedule
    emit("confirmed", {"anomaly": found.anomaly, **found.confirmation.describe()})
    reproduction = Reproduction(found.anomaly, found.seed, plan, schedule, target=config.target,
                                unsafe=config.unsafe, api=stage.api, workers=stage.workers,
                                attempts=found.confirmation.attempts,
                                found={"after_s": round(found.after_s, 1), "operations": found.trial.operations,
                                       "faults": len(found.trial.schedule),
                                       "steps": describe_steps(found.shrunk.steps), "stopped": found.shrunk.stopped,
                                       "confirmation": found.confirmation.describe()})
    # the variant in the name: reproductions of several variants kept in one folder do not overwrite each other
    name = "_".join(filter(None, (found.anomaly.replace("/", "_"), reproduction.unsafe))) + f"_seed{found.seed}"
    found.files = reproduction.write(config.folder, name)
    emit("written", {"anomaly": found.anomaly, "json": str(found.files[0]), "test": str(found.files[1]),
                     "operations": found.shrunk.plan.operations, "faults": len(found.shrunk.schedule)})
    return found


def write_report(report: HuntReport, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hunt.json"
    path.write_text(json.dumps(report.to_json(), indent=2, default=str) + "\n", encoding="utf-8")
    return path


def summary_lines(report: HuntReport) -> Sequence[str]:
    """What a person reads at the end: tries, anomalies and their reproductions, situations never reached."""
    lines = [f"hunt seed {report.seed}: {len(report.tries)} tries, {report.operations} operations, "
             f"{report.seconds:.0f} s; anomalies: {', '.join(f.anomaly for f in report.found) or 'none'}"]
    for f in report.found:
        size = f"{f.shrunk.plan.operations} operations, {len(f.shrunk.schedule)} faults" if f.shrunk else "not shrunk"
        again = (f"; shown again in {f.confirmation.shown} of {f.confirmation.runs} re-runs, so its test tries "
                 f"{f.confirmation.attempts} times" if f.confirmation else "")
        lines.append(f"  {f.anomaly} (seed {f.seed}, after {f.after_s:.0f} s): shrunk to {size}{again}; "
                     f"replay: chaos hunt --replay {f.files[0] if f.files else '?'}")
    lines += [f"  try seed {t['seed']} broke (not judged): {t['error']}" for t in report.tries if t.get("error")]
    reached = sum(1 for n in report.evidence.values() if n)
    lines.append(f"  situations reached: {reached} of {len(report.evidence)}")
    lines += [f"  never reached: {name}" for name in report.never_reached]
    return lines
