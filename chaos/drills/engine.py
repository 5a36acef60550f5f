"""Running a drill: narrate the runbook, do its commands, and always end the same way.

However a drill ends — its last step, the operator's ``q``, Ctrl-C, or a
command that failed — it heals (the nemesis's faults, then whatever else
is still faulted on the cluster), lets the workloads finish, takes the
final reads, runs the checkers, writes the report and prints the verdict.
A drill that stops early is still judged on what it did: the history is
the truth, not the runbook.

Faults go through ``Nemesis`` with the drill's recorder, so the report
shades their windows like a scenario's; the schedule stored with the report
is the faults the drill actually ran, taken from those windows.

The target is billing's cluster, or any service through its profile (an
already-running one behind our fault proxy): a drill it cannot have (a
workload's operation it lacks, a fault it cannot take) is refused before
the first step (``preflight``); a fault refused only when it is applied
ends the drill with that reason, then heals and judges what ran.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.text import Text

from chaos.checkers import latency
from chaos.checkers.merge import check_safe
from chaos.checkers.result import Result
from chaos.cluster.controller import Cluster, ClusterError
from chaos.drills import runbook as rb
from chaos.drills.preflight import refusal
from chaos.drills.verdict import results_table, schedule_of, verdict_of
from chaos.drills.workloads import WORKLOADS, Context, Workload, admin_client
from chaos.history import NEMESIS, Op, Recorder
from chaos.nemesis.fault import Fault
from chaos.nemesis.grammar import expand, is_link
from chaos.nemesis.process_faults import Scale
from chaos.nemesis.heal import heal_everything
from chaos.nemesis.runner import Nemesis
from chaos.report import write_report
from chaos.report.model import RunRecord, ScenarioRecord
from chaos.target import DEFAULT_PROFILE, load_profile
from chaos.target.client import TargetClient
from chaos.target.model import TargetProfile

Ask = Callable[[str], str]
HealAll = Callable[[Cluster], list[str]]
QUIT = frozenset({"q", "quit", "stop"})
SHOWN_ANOMALIES = 5


@dataclass
class DrillResult:
    safe: bool
    verdict: str                      # the verdict line as printed
    report: Path | None
    results: dict[str, Result] = field(default_factory=dict)
    stopped: str | None = None        # why it ended early, if it did
    error: str | None = None


class Drill:
    """One run of one runbook on one target (a cluster, or an already-running service's links)."""

    def __init__(self, runbook: rb.Runbook, cluster: Cluster, *, console: Console, auto: bool, seed: int,
                 report_dir: Path, settings: Mapping[str, Any] | None = None, ask: Ask | None = None,
                 heal_all: HealAll = heal_everything, workloads: Mapping[str, type[Workload]] = WORKLOADS,
                 sleep: Callable[[float], None] = time.sleep, run_id: str | None = None,
                 profile: TargetProfile | None = None) -> None:
        self.runbook = runbook
        self.cluster = cluster
        self.profile = profile or load_profile(DEFAULT_PROFILE)
        self.console = console
        self.auto = auto
        self.seed = seed
        self.report_dir = Path(report_dir)
        self.settings = dict(settings or {})
        self.ask = ask or (lambda prompt: console.input(Text(prompt, style="bold")))
        self.heal_all = heal_all
        self.workload_kinds = workloads
        self.sleep = sleep
        self.run_id = run_id or f"{time.strftime('%Y%m%d-%H%M%S')}-drill-{runbook.name}"
        self.recorder = Recorder()
        self.nemesis = Nemesis(cluster, lambda event, fault: self.recorder.nemesis(event, fault))
        self.started: list[Workload] = []
        self.running: dict[str, Workload] = {}
        self._admin: TargetClient | None = None

    # the whole drill

    def run(self) -> DrillResult:
        refused = refusal(self.runbook, self.profile, self.workload_kinds)
        if refused:
            self._say(f"✗ {refused}", "bold red")
            return DrillResult(False, f"verdict: NOT RUN — {refused}", None, error=refused)
        started, wall = time.monotonic(), time.strftime("%Y-%m-%d %H:%M:%S")
        self._opening()
        stopped = error = None
        total = len(self.runbook.steps)
        try:
            for step in self.runbook.steps:
                if not self.auto and not self._operator_ready(step.number, total):
                    stopped = f"stopped by the operator before step {step.number}/{total}"
                    break
                self._step(step, total)
        except KeyboardInterrupt:
            stopped = "interrupted (Ctrl-C)"
            self._say("interrupted: healing, then checking what ran", "bold yellow")
        except Exception as exc:  # noqa: BLE001 - any failure still ends with heal, checks and report
            error = one_line(exc)
            self._say(f"    ✗ {error}", "bold red")
        return self._finish(started, wall, stopped, error)

    # narration

    def _say(self, text: str, style: str = "") -> None:
        self.console.print(Text(text, style=style), soft_wrap=True)

    def _heading(self, text: str) -> None:
        self.console.print()
        self._say(text, "bold magenta")

    def _opening(self) -> None:
        self._say(f"Drill: {self.runbook.title}", "bold")
        self._heading("Situation")
        self.console.print(Markdown(self.runbook.situation))
        self._heading("What to watch")
        self.console.print(Markdown(self.runbook.watch))
        self.console.print()
        apis, workers = self.cluster.of("api"), self.cluster.of("worker")
        self._say(f"target {self.profile.name!r}, cluster {self.cluster.run_id}: {len(apis)} api ({', '.join(i.name for i in apis)}) + "
                  f"{len(workers)} worker{'s' * (len(workers) != 1)}; seed {self.seed}")
        self._say("--auto: the steps follow one another without waiting" if self.auto else
                  "Each step waits for you. Faults stay in force while you look; q or Ctrl-C stops the drill, "
                  "heals and checks what ran.", "dim")

    def _operator_ready(self, number: int, total: int) -> bool:
        """Wait for Enter; the time spent reading is not taken from the workloads."""
        self.console.print()
        waiting = time.monotonic()
        try:
            answer = self.ask(f"Press Enter for step {number}/{total} (or q to stop and heal) ")
        except EOFError:
            answer = "q"
        for workload in self.running.values():
            workload.extend(time.monotonic() - waiting)
        return answer.strip().lower() not in QUIT

    def _step(self, step: rb.Step, total: int) -> None:
        self._heading(f"Step {step.number}/{total} — {step.title}")
        if step.prose:
            self.console.print(Markdown(step.prose))
        for command in step.commands:
            self._say(f"  $ {command.text}", "bold cyan")
            try:
                outcome = self.execute(command)
            except Exception as exc:  # noqa: BLE001 - named with its line, then the drill ends
                raise RuntimeError(f"step {step.number}, line {command.line} ({command.text}): "
                                   f"{one_line(exc)}") from exc
            for line in outcome:
                self._say(f"    → {line}")

    # the commands

    def execute(self, command: rb.Command) -> list[str]:
        """Do one command; returns what happened, for the narration."""
        if isinstance(command, rb.WorkloadStart):
            return self._start_workload(command)
        if isinstance(command, rb.WorkloadWait):
            return self._wait_workloads()
        if isinstance(command, rb.FaultStart):
            return self._start_faults(command)
        if isinstance(command, rb.Heal):
            return self._heal(command.target)
        if isinstance(command, rb.Scale):
            return self._scale(command)
        if isinstance(command, rb.Sleep):
            self._say(f"    … {command.seconds:g} s", "dim")
            self.sleep(command.seconds)
            return []
        if isinstance(command, rb.Watch):
            return self.watch(command)
        raise TypeError(f"no way to run {type(command).__name__}")

    def admin(self) -> TargetClient:
        if self._admin is None:
            self._admin = admin_client(self.profile, self.cluster)
        return self._admin

    def _start_workload(self, command: rb.WorkloadStart) -> list[str]:
        context = Context(self.cluster, self.profile, self.recorder, self.admin, self.seed, f"drill-{self.run_id}")
        workload = self.workload_kinds[command.kind](context, command.params)
        workload.refuse_unmet()
        made = workload.setup()
        workload.start()
        self.started.append(workload)
        self.running[command.kind] = workload
        settings = " ".join(f"{k}={v:g}" for k, v in workload.values.items())
        return [f"{command.kind}: {workload.summary}", *([made] if made else []), f"running ({settings})"]

    def _wait_workloads(self) -> list[str]:
        done = []
        for kind, workload in list(self.running.items()):
            self._say(f"    … {workload.waiting_note()}", "dim")
            done.append(workload.wait())
            del self.running[kind]
        return done

    def _start_faults(self, command: rb.FaultStart) -> list[str]:
        names = [*self.cluster.fixed, *self.cluster.instances]
        lines = []
        for fault in command.spec.faults(names):
            self.require(fault.target)
            try:
                self.nemesis.start_fault(fault)
            except Exception:
                self.nemesis.record("stop", fault.describe())   # it never took: its window closes at once
                raise
            lines.append(f"started {describe(fault)}")
        return lines

    def require(self, target: str) -> None:
        """A fault's target must exist in this cluster; the error lists what does."""
        known = {*self.cluster.fixed, *self.cluster.instances}
        parties = target.split("->") if is_link(target) else [target]
        for party in parties:
            if party != "client" and party not in known:
                raise ClusterError(f"no instance {party!r} for {target!r}; this cluster has "
                                   f"{', '.join(sorted(known))}")

    def _heal(self, target: str | None) -> list[str]:
        chosen = [f for f in self.nemesis.active if target is None or concerns(f.target, target)]
        for fault in reversed(chosen):
            self.nemesis.stop_fault(fault)
        if not chosen:
            return [f"no fault of this drill is active{' on ' + target if target else ''}"]
        return [f"healed {describe(f)}" for f in chosen]

    def _scale(self, command: rb.Scale) -> list[str]:
        before = len(self.cluster.of(command.service))
        count = before + command.count if command.relative else command.count
        if count < 1:
            raise ClusterError(f"{command.service} would have {count} instances; at least one must run")
        started = time.monotonic()
        self.nemesis.start_fault(Scale(command.service, count))
        names = ", ".join(i.name for i in self.cluster.of(command.service))
        routed = "; the lb routes to every api instance" if command.service == "api" else ""
        return [f"{command.service}: {before} -> {count} instances ({names}) in "
                f"{time.monotonic() - started:.1f} s{routed}; the drill scales back when it heals"]

    def watch(self, command: rb.Watch) -> list[str]:
        if getattr(self.cluster, "kind", "") == "running":
            return [f"target {self.profile.name!r} is already running: its own dashboards and logs (the suite "
                    f"has no Flower, lb or container of it)"]
        if command.what == "flower":
            return [f"Flower: {self.cluster.flower_url} (workers, and each task's state and worker)"]
        if command.what == "lb":
            return [f"the lb's stats: {self.cluster.lb_stats_url}/stats (each api server: UP/DOWN, sessions, "
                    "errors, response times)"]
        assert command.instance is not None
        return [f"logs: docker logs -f --tail 20 {self.cluster.container(command.instance).name}"]

    # the end: always the same

    def _finish(self, started: float, wall: str, stopped: str | None, error: str | None) -> DrillResult:
        if stopped or error:
            for workload in self.running.values():
                workload.stop()
        self._heading("Healing")
        for line in self._heal_everything():
            self._say(f"  {line}")
        self._heading("Letting the workload finish")
        waited = self._wait_all()
        for line in waited:
            self._say(f"  {line}")
        self._heading("Checking")
        history = self.recorder.snapshot()
        finals, results = self.judge(history)
        self.console.print(results_table(results))
        safe, verdict = verdict_of(results, error=error, stopped=stopped)
        schedule = schedule_of(history)
        report = self._report(wall, history, results, finals, schedule, safe, time.monotonic() - started)
        self._heading("What safe behaviour looks like")
        self.console.print(Markdown(self.runbook.safe))
        self.console.print()
        for name, result in results.items():
            for anomaly in result.anomalies[:SHOWN_ANOMALIES]:
                self._say(f"  {name}: {anomaly.kind}: {anomaly.message}", "red")
        self._say(verdict, "bold green" if safe else "bold red")
        self._say(f"report: {report}" if report else "report: not written (see the error above)")
        return DrillResult(safe, verdict, report, results, stopped, error)

    def _heal_everything(self) -> list[str]:
        lines = []
        try:
            active = list(self.nemesis.active)
            self.nemesis.heal()
            lines += [f"healed {describe(f)}" for f in reversed(active)]
        except KeyboardInterrupt:
            lines.append("healing was interrupted: run `chaos heal --all`")
        except Exception as exc:  # noqa: BLE001 - the cluster-wide heal below may still succeed
            lines.append(f"the nemesis could not heal everything ({one_line(exc)})")
        try:
            lines += [f"healed {line} (left over)" for line in self.heal_all(self.cluster)]
        except KeyboardInterrupt:
            lines.append("healing was interrupted: run `chaos heal --all`")
        except Exception as exc:  # noqa: BLE001 - said once, then checked as it is
            lines.append(f"could not check the cluster for faults left over ({one_line(exc)}); "
                         "run `chaos heal --all`")
        return lines or ["nothing to heal"]

    def _wait_all(self) -> list[str]:
        lines = []
        for workload in self.started:
            try:
                if workload.kind in self.running:
                    self._say(f"  … {workload.waiting_note()}", "dim")
                lines.append(workload.wait())
            except KeyboardInterrupt:
                workload.stop()
                lines.append(f"{workload.kind}: stopped waiting (Ctrl-C)")
            except Exception as exc:  # noqa: BLE001 - its checkers judge what it recorded
                lines.append(one_line(exc))
        self.running.clear()
        return lines or ["no workload ran"]

    def judge(self, history: list[Op]) -> tuple[dict[str, Any], dict[str, Result]]:
        """Each workload's final reads and checkers; the latency of the whole history."""
        finals: dict[str, Any] = {}
        results: dict[str, Result] = {}
        for workload in self.started:
            try:
                finals[workload.kind] = workload.final_reads()
            except Exception as exc:  # noqa: BLE001 - a read that failed is a verdict we cannot give
                results[unique(results, f"{workload.kind}_reads")] = Result(
                    f"{workload.kind}_reads", "unknown", [], {"error": one_line(exc)})
                continue
            for name, check in workload.checks(history, finals[workload.kind]).items():
                results[unique(results, name)] = check_safe(name, check)
        if any(op.process != NEMESIS for op in history):
            results[unique(results, "latency")] = check_safe("latency", latency.check, history)
        return finals, results

    def _report(self, wall: str, history: list[Op], results: dict[str, Result], finals: dict[str, Any],
                schedule: list[dict[str, Any]], safe: bool, duration_s: float) -> Path | None:
        scenario = ScenarioRecord(name=f"drill: {self.runbook.name}", history=history, results=results,
                                  seed=self.seed, schedule=schedule, outcome="passed" if safe else "failed",
                                  duration_s=duration_s, final_reads=finals or None)
        record = RunRecord(run_id=self.run_id, seed=self.seed, started=wall,
                           settings={"drill": self.runbook.name, "mode": "auto" if self.auto else "interactive",
                                     **self.settings}, scenarios=[scenario])
        try:
            return write_report(self.report_dir, record)
        except Exception as exc:  # noqa: BLE001 - the verdict still stands without the page
            self._say(f"could not write the report: {one_line(exc)}", "red")
            return None


# pure parts


def describe(fault: Fault) -> str:
    """A fault as the narration says it: ``latency api_1->redis (latency=300, jitter=50)``."""
    data = fault.describe()
    extra = ", ".join(f"{k}={v}" for k, v in data.items() if k not in ("fault", "target", "stream"))
    return f"{data['fault']} {data['target']}" + (f" ({extra})" if extra else "")


def concerns(fault_target: str, target: str) -> bool:
    """Whether ``heal <target>`` heals a fault on ``fault_target``: the same link or instance, a
    pattern naming it, or an instance and its links (``heal api_1`` heals ``api_1->redis``)."""
    parties = fault_target.split("->") if is_link(fault_target) else [fault_target]
    if is_link(target):
        return is_link(fault_target) and fault_target in expand(target, parties)
    return any(party in expand(target, [party]) for party in parties)


def unique(taken: Mapping[str, Any], name: str) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    return candidate


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
