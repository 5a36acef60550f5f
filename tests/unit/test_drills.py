"""Drills without Docker: the shipped runbooks, the runbook parser's errors, the engine's narration and
verdict (on a stub that only has names), the drill-only checks, and the command line's refusals."""
from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from chaos.checkers.result import Anomaly, Result
from chaos.cluster.controller import ClusterError
from chaos.cluster.running import UnsupportedFault
from chaos.drills import cli
from chaos.drills import runbook as rb
from chaos.drills.engine import Drill, concerns, schedule_of, verdict_of
from chaos.checkers import errors, fails_closed
from chaos.checkers import pool as pool_checker
from chaos.drills.workloads import WORKLOADS, Context, Param, Workload, WorkloadError, period
from chaos.history import Call, Fault, Recorder, build
from chaos.target import DEFAULT_PROFILE, load_profile
from tests.target_service import PROFILE

pytestmark = pytest.mark.unit
REQUIRED = {"api-cut-off-from-redis", "worker-killed-mid-invoice", "lock-holder-paused-past-expiry",
            "slow-database", "scale-out-under-load"}
NAMES = ["api_1", "api_2", "api_3", "worker_1", "worker_2", "redis", "postgres", "lb", "flower", "toxiproxy"]


# the shipped runbooks


@pytest.fixture(scope="module")
def shipped() -> dict[str, rb.Runbook]:
    return rb.load_all()


def test_every_required_drill_is_shipped_and_complete(shipped: dict[str, rb.Runbook]) -> None:
    assert REQUIRED <= set(shipped)
    for name, runbook in shipped.items():
        assert runbook.title and runbook.situation and runbook.watch and runbook.safe, name
        assert runbook.headline.endswith("."), name
        assert [s.number for s in runbook.steps] == list(range(1, len(runbook.steps) + 1)), name
        assert all(step.title for step in runbook.steps), name
        kinds = [c for c in runbook.commands() if isinstance(c, rb.WorkloadStart)]
        assert kinds, f"{name} drives no workload, so nothing would be checked"
        assert any(isinstance(c, rb.WorkloadWait) for c in runbook.commands()), name


def test_every_command_of_every_runbook_is_valid_on_a_small_cluster(shipped: dict[str, rb.Runbook]) -> None:
    """Faults expand against the default drill cluster (3 api + 2 workers) and heal targets name
    something a fault of the same drill is on."""
    for name, runbook in shipped.items():
        faulted: list[str] = []
        for command in runbook.commands():
            assert rb.command(command.text.split(), command.line, command.text) == command, (name, command)
            if isinstance(command, rb.FaultStart):
                faults = command.spec.faults(NAMES)
                assert faults, (name, command.text)
                faulted += [f.target for f in faults]
                for fault in faults:
                    assert fault.describe()["target"] == fault.target
            elif isinstance(command, rb.Heal) and command.target is not None:
                assert any(concerns(target, command.target) for target in faulted), (name, command.text)
            elif isinstance(command, rb.WorkloadStart):
                assert command.kind in WORKLOADS
            elif isinstance(command, rb.Watch) and command.instance:
                assert command.instance in NAMES


def test_every_drill_is_short_in_auto_mode(shipped: dict[str, rb.Runbook]) -> None:
    """Sleeps and workload lengths bound a drill's --auto time (well under 2 minutes each)."""
    for name, runbook in shipped.items():
        sleeps = sum(c.seconds for c in runbook.commands() if isinstance(c, rb.Sleep))
        load = max(float(c.params.get("seconds", WORKLOADS[c.kind](_context(), {}).values.get("seconds", 0)))
                   for c in runbook.commands() if isinstance(c, rb.WorkloadStart))
        assert sleeps <= 30 and load <= 45, (name, sleeps, load)


# the parser's errors: file, line, problem


GOOD = """# A drill

## Situation

Something breaks.

## Step 1 — Start

```chaos
workload start invoices clients=2 seconds=5
```

## Step 2 — Break it

```chaos
fault partition api_1->redis
sleep 1
heal api_1
workload wait
```

## What to watch

The lb.

## What safe behaviour looks like

Nothing doubled.
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_runbook_parses_to_its_parts(tmp_path: Path) -> None:
    runbook = rb.load(write(tmp_path, GOOD))
    assert (runbook.name, runbook.title, runbook.headline) == ("broken", "A drill", "Something breaks.")
    assert [(s.number, s.title) for s in runbook.steps] == [(1, "Start"), (2, "Break it")]
    start, fault, sleep, heal, wait = runbook.commands()
    assert start == rb.WorkloadStart(10, "workload start invoices clients=2 seconds=5", "invoices",
                                     {"clients": 2, "seconds": 5.0})
    assert fault.spec.text == "partition api_1->redis" and fault.line == 16
    assert (sleep.seconds, heal.target, type(wait)) == (1.0, "api_1", rb.WorkloadWait)
    assert runbook.watch == "The lb." and runbook.safe == "Nothing doubled."


@pytest.mark.parametrize("change, line, says", [
    (("fault partition api_1->redis", "fault partition api_1->lb"), 16, "'api_1->lb' is not a link"),
    (("fault partition api_1->redis", "fault melt api_1"), 16, "unknown fault kind 'melt'"),
    (("sleep 1", "sleep soon"), 17, "say 'sleep <seconds>'"),
    (("sleep 1", "sleep 9999"), 17, "0 to 600 seconds"),
    (("heal api_1", "heal"), 18, "or 'heal --all'"),
    (("heal api_1", "heal the world"), 18, "say 'heal <link or instance>'"),
    (("heal api_1", "scale database 3"), 18, "say 'scale <api|worker> <n>'"),
    (("heal api_1", "scale api 0"), 18, "at least one instance must run"),
    (("heal api_1", "watch grafana"), 18, "say 'watch flower', 'watch lb' or 'watch logs <instance>'"),
    (("heal api_1", "watch logs mysql"), 18, "watch logs <instance>"),
    (("heal api_1", "dance"), 18, "unknown command 'dance'; commands: workload start"),
    (("heal api_1", "echo 'unclosed"), 18, "cannot split"),
    (("workload start invoices clients=2 seconds=5", "workload start storm"), 10,
     "unknown workload 'storm'; workloads: invoices, async-invoices"),
    (("workload start invoices clients=2 seconds=5", "workload start invoices clients=two"), 10,
     "clients= must be a whole number, not 'two'"),
    (("workload start invoices clients=2 seconds=5", "workload start invoices clients=0"), 10,
     "clients= must be more than 0"),
    (("workload start invoices clients=2 seconds=5", "workload start invoices rate=3"), 10,
     "workload invoices takes clients= (default 6)"),
    (("workload start invoices clients=2 seconds=5", "workload begin invoices"), 10, "say 'workload start <kind>"),
    (("workload start invoices clients=2 seconds=5", "workload wait"), 10,
     "'workload wait' with no workload started before it"),
    (("heal api_1", "workload start invoices"), 18, "workload invoices is already running"),
    (("## Step 2 — Break it", "## Step 3 — Break it"), 13, "step 3 where step 2 was expected"),
    (("## Step 2 — Break it", "## Step 2"), 13, "step 2 has no title"),
    (("## Step 2 — Break it", "## Epilogue"), 13, "unknown section 'Epilogue'"),
    (("## Situation", "## Context"), 3, "unknown section 'Context'"),
    (("# A drill", "A drill"), 1, "must begin with its '# Title'"),
    (("## What to watch\n\nThe lb.\n", ""), 25, "no '## What to watch' section"),
    (("Something breaks.", ""), 28, "no '## Situation' section (or it is empty)"),
    (("Nothing doubled.\n", "Nothing doubled.\n\n```text\n"), 30, "this ``` block is never closed"),
    (("workload wait\n```", "workload wait\n"), 24, "unknown command 'The'"),
])
def test_a_bad_runbook_names_the_file_the_line_and_the_problem(tmp_path: Path, change: tuple[str, str], line: int,
                                                               says: str) -> None:
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(rb.RunbookError) as caught:
        rb.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert says in message
    assert "\n" not in message


def test_a_chaos_block_outside_a_step_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("Something breaks.", "Something breaks.\n\n```chaos\nsleep 1\n```"))
    with pytest.raises(rb.RunbookError, match=r"broken.md:7: a chaos block outside"):
        rb.load(path)


def test_other_fenced_blocks_are_prose(tmp_path: Path) -> None:
    prose = "## Step 2 — Break it\n\n```text\nfault melt\n```\n"
    path = write(tmp_path, GOOD.replace("## Step 2 — Break it\n", prose))
    step = rb.load(path).steps[1]
    assert "fault melt" in step.prose and len(step.commands) == 4


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(rb.RunbookError, match="nope.md: cannot read it"):
        rb.load(tmp_path / "nope.md")


# the engine, on a stub that has names and nothing else


class StubCluster:
    """Names, URLs and the two calls a heal makes; no Docker."""

    run_id = "stub0001"
    toxiproxy = None
    lb_url, lb_stats_url, flower_url = "http://lb.test", "http://stats.test", "http://flower.test"

    def __init__(self) -> None:
        self.instances = {n: SimpleNamespace(name=n, service=n.split("_")[0]) for n in NAMES if "_" in n}
        self.fixed = {n: SimpleNamespace(name=f"billing-chaos-stub0001-{n}") for n in NAMES if "_" not in n}

    def of(self, service: str) -> list[Any]:
        return [i for i in self.instances.values() if i.service == service]

    def container(self, name: str) -> Any:
        if name not in {*self.instances, *self.fixed}:
            raise ClusterError(f"no instance {name!r}; this run has {', '.join(NAMES)}")
        return SimpleNamespace(name=f"billing-chaos-stub0001-{name}")

    def unpause(self, name: str) -> None:
        pass


class Scripted(Workload):
    """A workload that records a few calls itself and is judged by a checker of the test's choosing."""

    kind = "invoices"
    summary = "scripted calls"
    params = (Param("clients", int, 1, ""), Param("seconds", float, 30, ""))
    verdict: Any = True
    stopped = 0

    def clients(self) -> list:
        return []

    def run(self, clients: list) -> None:
        self.processes.add("scripted-0")
        for instance in ("api_1", "api_2"):
            handle = self.context.recorder.invoke("scripted-0", "read", {})
            self.context.recorder.complete(handle, "ok", status=200, instance=instance)

    def stop(self) -> None:
        type(self).stopped += 1
        super().stop()

    def final_reads(self) -> Any:
        return {"rows": 2}

    def checks(self, history: Any, final: Any) -> dict:
        anomalies = [Anomaly("duplicate", "user 1, 2031-01 has 2 invoices")] if self.verdict is False else []
        return {"scripted": lambda: Result("scripted", self.verdict, anomalies, {"ops": len(history)})}


RUNBOOK = """# Stub drill

## Situation

The stub is tested.

## Step 1 — Load and look

Where things are.

```chaos
workload start invoices clients=1 seconds=30
watch flower
watch lb
watch logs api_2
```

## Step 2 — Wait

```chaos
sleep 2
workload wait
```

## What to watch

Flower.

## What safe behaviour looks like

- No duplicate.
"""


class Harness:
    def __init__(self, tmp_path: Path, text: str = RUNBOOK, *, auto: bool = False, answers: tuple[str, ...] = (),
                 verdict: Any = True) -> None:
        self.out = io.StringIO()
        self.console = Console(file=self.out, width=200, highlight=False, color_system=None)
        self.answers: Iterator[str] = iter(answers)
        self.prompts: list[str] = []
        self.healed: list[str] = []
        self.slept: list[float] = []
        Scripted.verdict, Scripted.stopped = verdict, 0
        self.drill = Drill(rb.parse(text, tmp_path / "stub-drill.md"), StubCluster(),  # type: ignore[arg-type]
                           console=self.console, auto=auto, seed=7, report_dir=tmp_path / "reports",
                           settings={"cluster": "stub"}, ask=self.ask, heal_all=self.heal_all,
                           workloads={"invoices": Scripted}, sleep=self.slept.append, run_id="run-1")

    def ask(self, prompt: str) -> str:
        """The operator's answers in turn; then the end of input, as when the terminal closes."""
        self.prompts.append(prompt)
        self.console.print(prompt)
        answer = next(self.answers, None)
        if answer is None:
            raise EOFError
        return answer

    def heal_all(self, cluster: Any) -> list[str]:
        self.healed.append(cluster.run_id)
        return []

    @property
    def text(self) -> str:
        return self.out.getvalue()


def test_interactive_narration_waits_for_the_operator_at_each_step(tmp_path: Path) -> None:
    harness = Harness(tmp_path, answers=("", ""))
    result = harness.drill.run()
    assert harness.prompts == ["Press Enter for step 1/2 (or q to stop and heal) ",
                               "Press Enter for step 2/2 (or q to stop and heal) "]
    text = harness.text
    order = ["Drill: Stub drill", "Situation", "The stub is tested.", "What to watch", "seed 7",
             "Press Enter for step 1/2", "Step 1/2 — Load and look", "Where things are.",
             "$ workload start invoices clients=1 seconds=30", "→ invoices: scripted calls",
             "$ watch flower", "→ Flower: http://flower.test", "→ the lb's stats: http://stats.test/stats",
             "→ logs: docker logs -f --tail 20 billing-chaos-stub0001-api_2",
             "Press Enter for step 2/2", "Step 2/2 — Wait", "$ sleep 2", "$ workload wait",
             "→ invoices: 2 operations (2 ok, 0 fail, 0 info)", "Healing", "Checking",
             "What safe behaviour looks like", "No duplicate.", "verdict: SAFE", "report: "]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions), text
    assert harness.slept == [2.0] and harness.healed == ["stub0001"]
    assert result.safe and result.verdict.startswith("verdict: SAFE — 2 checkers found nothing wrong: scripted, "
                                                     "latency")
    assert f"report: {result.report}" in text


def test_the_report_holds_the_drill_as_one_scenario(tmp_path: Path) -> None:
    result = Harness(tmp_path, auto=True).drill.run()
    assert result.report == tmp_path / "reports" / "run-1" / "index.html" and result.report.exists()
    summary = json.loads((tmp_path / "reports" / "run-1" / "summary.json").read_text())
    assert summary["seed"] == 7
    assert summary["settings"]["drill"] == "stub-drill" and summary["settings"]["mode"] == "auto"
    (scenario,) = summary["scenarios"]
    assert scenario["name"] == "drill: stub-drill" and scenario["outcome"] == "passed"


def test_auto_mode_does_not_wait(tmp_path: Path) -> None:
    harness = Harness(tmp_path, auto=True)
    result = harness.drill.run()
    assert harness.prompts == [] and "Press Enter" not in harness.text
    assert "Step 2/2 — Wait" in harness.text and result.safe


def test_q_stops_heals_and_still_judges_what_ran(tmp_path: Path) -> None:
    harness = Harness(tmp_path, answers=("", "q"))
    result = harness.drill.run()
    assert "Step 2/2" not in harness.text
    assert harness.healed == ["stub0001"] and Scripted.stopped == 1
    assert result.stopped == "stopped by the operator before step 2/2"
    assert result.verdict.endswith("(stopped by the operator before step 2/2)") and result.safe


def test_end_of_input_at_a_prompt_is_a_stop(tmp_path: Path) -> None:
    result = Harness(tmp_path, answers=()).drill.run()
    assert result.stopped == "stopped by the operator before step 1/2" and result.verdict.startswith(
        "verdict: UNKNOWN — nothing was checked")


def test_anomalies_make_the_verdict_unsafe_and_are_shown(tmp_path: Path) -> None:
    harness = Harness(tmp_path, auto=True, verdict=False)
    result = harness.drill.run()
    assert not result.safe
    assert result.verdict == "verdict: UNSAFE — scripted: duplicate x1"
    assert "scripted: duplicate: user 1, 2031-01 has 2 invoices" in harness.text
    summary = json.loads((tmp_path / "reports" / "run-1" / "summary.json").read_text())
    assert summary["scenarios"][0]["outcome"] == "failed"


def test_a_failing_command_ends_the_drill_with_its_line_then_heals_and_judges(tmp_path: Path) -> None:
    harness = Harness(tmp_path, RUNBOOK.replace("watch logs api_2", "watch logs api_9"), auto=True)
    result = harness.drill.run()
    assert result.error == "step 1, line 15 (watch logs api_9): no instance 'api_9'; this run has api_1, api_2, " \
                           "api_3, worker_1, worker_2, redis, postgres, lb, flower, toxiproxy"
    assert "✗ step 1, line 15" in harness.text and "Step 2/2" not in harness.text
    assert harness.healed == ["stub0001"] and Scripted.stopped == 1
    assert not result.safe and result.verdict.startswith("verdict: UNKNOWN — the drill stopped on an error")
    assert result.report is not None and result.report.exists()


def test_a_fault_on_an_instance_the_cluster_lacks_is_refused_before_it_starts(tmp_path: Path) -> None:
    harness = Harness(tmp_path, RUNBOOK.replace("watch lb", "fault pause api_7"), auto=True)
    result = harness.drill.run()
    assert "no instance 'api_7' for 'api_7'" in (result.error or "")
    assert harness.drill.recorder.ops[0].process != "nemesis"


class RefusingCluster(StubCluster):
    """A target that refuses pauses only when one is applied (as an already-running target may)."""

    def pause(self, name: str) -> None:
        raise UnsupportedFault(f"cannot pause {name}: the target is already running (run.running)")


def test_a_fault_the_target_refuses_when_applied_ends_the_drill_healed_and_judged(tmp_path: Path) -> None:
    harness = Harness(tmp_path, RUNBOOK.replace("watch lb", "fault pause api_1"), auto=True)
    harness.drill.cluster = RefusingCluster()
    harness.drill.nemesis.cluster = harness.drill.cluster
    result = harness.drill.run()
    assert result.error == ("step 1, line 14 (fault pause api_1): cannot pause api_1: the target is already "
                            "running (run.running)")
    assert harness.healed == ["stub0001"] and "scripted" in result.results
    assert schedule_of(harness.drill.recorder.snapshot())[0]["duration_s"] < 1   # its window closed at once
    assert result.verdict.startswith("verdict: UNKNOWN — the drill stopped on an error: step 1")


def test_a_drill_the_target_cannot_have_is_refused_before_the_first_step(tmp_path: Path) -> None:
    class Needy(Scripted):
        operations = frozenset({"bulk_users", "book_slot"})

    service = load_profile(PROFILE)
    harness = Harness(tmp_path, RUNBOOK.replace("watch lb", "fault partition api_1->redis"), auto=True)
    drill = Drill(harness.drill.runbook, StubCluster(), console=harness.console, auto=True, seed=7,  # type: ignore[arg-type]
                  report_dir=tmp_path / "reports", workloads={"invoices": Needy}, profile=service)
    result = drill.run()
    assert result.verdict == (
        "verdict: NOT RUN — drill stub-drill cannot run on target 'test-service': workload invoices: target "
        "'test-service' lacks operation book_slot (declared in lacks); workload invoices: target 'test-service' "
        "lacks operation bulk_users (declared in lacks); target 'test-service' cannot have fault redis_link: the "
        "target is already running (run.running) and its profile names no redis to put links in front of "
        "(run.running.dependencies.redis)")
    assert result.report is None and drill.recorder.ops == [] and "Step 1" not in harness.text
    with pytest.raises(WorkloadError, match="^workload invoices cannot run: target 'test-service' lacks operation "
                                            "book_slot"):
        Needy(Context(StubCluster(), service, Recorder(), admin=lambda: pytest.fail("no service"),  # type: ignore[arg-type]
                      seed=1, prefix="p")).refuse_unmet()


def test_a_heal_with_nothing_active_says_so(tmp_path: Path) -> None:
    harness = Harness(tmp_path, RUNBOOK.replace("watch lb", "heal api_1->redis"), auto=True)
    harness.drill.run()
    assert "→ no fault of this drill is active on api_1->redis" in harness.text


# the engine's pure parts


def test_verdicts() -> None:
    ok, bad = Result("invoices", True), Result("locks", False, [Anomaly("overlap", "x"), Anomaly("overlap", "y")])
    unknown = Result("fails_closed", "unknown", [], {})
    assert verdict_of({"invoices": ok}) == (True, "verdict: SAFE — 1 checkers found nothing wrong: invoices")
    assert verdict_of({"invoices": ok, "locks": bad, "x": unknown}, error="boom") == (
        False, "verdict: UNSAFE — locks: overlap x2")
    assert verdict_of({"invoices": ok}, error="boom") == (False, "verdict: UNKNOWN — the drill stopped on an "
                                                                 "error: boom")
    assert verdict_of({"x": unknown}) == (False, "verdict: UNKNOWN — could not judge x (not enough to judge)")
    assert verdict_of({}, stopped="interrupted (Ctrl-C)") == (
        False, "verdict: UNKNOWN — nothing was checked: no workload ran (interrupted (Ctrl-C))")


@pytest.mark.parametrize("fault_target, target, heals", [
    ("api_1->redis", "api_1->redis", True),
    ("api_1->redis", "api_1", True),
    ("client->api_1", "api_1", True),
    ("api_1", "api_1", True),
    ("api_2->postgres", "api_*->postgres", True),
    ("api_2->redis", "api_*->postgres", False),
    ("worker_1", "api_*", False),
    ("api_3", "api_*", True),
    ("api_1", "api_1->redis", False),
    ("api_10->redis", "api_1", False),
    ("api", "api_1", False),   # a scale is healed by heal --all only
])
def test_what_heal_target_heals(fault_target: str, target: str, heals: bool) -> None:
    assert concerns(fault_target, target) is heals


def test_the_schedule_is_the_faults_that_ran() -> None:
    history = build([Call("c", "read", {}, "ok", 0.0, 5.0)],
                    [Fault(1.0, 3.5, {"fault": "partition", "target": "api_1->redis"}),
                     Fault(4.0, None, {"fault": "pause", "target": "api_1"})])
    assert schedule_of(history) == [
        {"at_s": 1.0, "duration_s": 2.5, "fault": "partition", "target": "api_1->redis"},
        {"at_s": 4.0, "duration_s": 1.0, "fault": "pause", "target": "api_1"}]


# the drill-only checks


CUT = Fault(1.0, 5.0, {"fault": "partition", "target": "api_1->redis"})


def gen(process: str, kind: str, start: float, end: float, instance: str, status: int, error: str | None = None,
        f: str = "generate_invoice") -> Call:
    return Call(process, f, {"user_id": 1, "period": "2001-01"}, kind, start, end, status=status, error=error,
                instance=instance)


def test_an_instance_cut_off_from_redis_that_refuses_fails_closed() -> None:
    history = build([gen("a", "info", 2.5, 2.6, "api_1", 503, "redis_unavailable"),
                     gen("b", "ok", 2.5, 2.7, "api_2", 200),
                     gen("c", "ok", 1.2, 1.3, "api_1", 200, f="purchase_ticket")], [CUT])
    result = fails_closed.check(history)
    assert result.valid is True
    assert result.stats == {"cuts": ["partition api_1->redis"], "judged": 1, "refused": {"503 redis_unavailable": 1}}


def test_an_ok_from_a_cut_off_instance_is_an_anomaly_but_the_grace_and_the_heal_are_not() -> None:
    history = build([gen("a", "ok", 2.0, 2.1, "api_1", 200),
                     gen("b", "ok", 1.1, 1.2, "api_1", 200),      # began within the grace second
                     gen("c", "ok", 4.9, 5.2, "api_1", 200)], [CUT])  # completed after the heal
    result = fails_closed.check(history)
    assert result.valid is False and [a.kind for a in result.anomalies] == ["ok_while_cut_off"]
    assert result.anomalies[0].ops == (3, 4)   # a's invoke and completion (the cut's start is 0)


def test_a_cut_nobody_called_through_cannot_be_judged() -> None:
    assert fails_closed.check(build([gen("b", "ok", 2.0, 2.1, "api_2", 200)], [CUT])).valid == "unknown"
    assert fails_closed.check(build([gen("b", "ok", 2.0, 2.1, "api_2", 200)])).valid is True


def test_errors_are_allowed_only_inside_a_fault_window_and_its_grace() -> None:
    scale = Fault(1.0, 3.0, {"fault": "scale", "target": "api", "count": 5})
    read = lambda p, kind, start, status: Call(p, "read", {}, kind, start, start + 0.1, status=status)  # noqa: E731
    history = build([read("a", "ok", 0.5, 200), read("b", "fail", 2.0, 503), read("c", "fail", 4.5, 503),
                     read("d", "fail", 6.0, 503)], [scale])
    result = errors.check(history, ["read"])
    assert [a.kind for a in result.anomalies] == ["error_outside_fault"]
    assert result.stats == {"calls": 4, "errors_during_faults": {"503 None": 2}, "errors_outside": 1}
    assert errors.check(history, ["generate_invoice"]).valid == "unknown"


def test_the_pool_check_reports_the_most_checked_out_per_instance() -> None:
    samples = [{"instance": "api_1", "pool_size": 20, "checkedout": c} for c in (0, 7, 3)]
    result = pool_checker.check(samples + [{"instance": "api_2", "pool_size": 20, "checkedout": 30}])
    assert result.stats["most_checked_out"] == {"api_1": 7, "api_2": 30}
    assert [a.kind for a in result.anomalies] == ["pool_exhausted"]
    assert pool_checker.check(samples).valid is True and pool_checker.check([]).valid == "unknown"


# workloads without a service


def _context() -> Context:
    return Context(StubCluster(), load_profile(DEFAULT_PROFILE), Recorder(),  # type: ignore[arg-type]
                   admin=lambda: pytest.fail("no service here"), seed=1, prefix="drill-test")


def test_workload_parameters_are_typed_and_checked() -> None:
    assert WORKLOADS["async-invoices"].parse_params(["hold_s=2.5", "count=4"]) == {"hold_s": 2.5, "count": 4}
    with pytest.raises(WorkloadError, match="workload reads: clients= is given twice"):
        WORKLOADS["reads"].parse_params(["clients=2", "clients=3"])
    with pytest.raises(WorkloadError, match="workload pool takes seconds= .* not 'clients=2'"):
        WORKLOADS["pool"].parse_params(["clients=2"])
    assert set(WORKLOADS) == {"invoices", "async-invoices", "tickets", "lock-contention", "reads", "pool",
                              "activations", "mixed"}


def test_paced_operations_stop_at_the_deadline_and_reading_time_extends_it() -> None:
    workload = Scripted(_context(), {"seconds": 0.2})
    workload._deadline = time.monotonic() + 0.2
    workload.extend(0.3)
    made = list(workload.paced(lambda: "op", think_s=0.1))   # type: ignore[arg-type, return-value]
    assert 3 <= len(made) <= 6
    workload._deadline = time.monotonic() + 60
    workload.stop()
    assert list(workload.paced(lambda: "op", think_s=0.1)) == []   # type: ignore[arg-type, return-value]


def test_periods_count_through_the_months() -> None:
    assert [period(n) for n in (0, 11, 12, 25)] == ["2001-01", "2001-12", "2002-01", "2003-02"]


def test_a_lock_drill_needs_two_api_instances() -> None:
    context = _context()
    context.cluster.api_urls = lambda: {"api_1": "http://a1"}  # type: ignore[attr-defined]
    with pytest.raises(WorkloadError, match="needs at least 2 api instances, the cluster has 1; start the drill "
                                            "with --api 2"):
        WORKLOADS["lock-contention"](context).instance_urls(minimum=2)


# the command line


def test_list_shows_every_drill() -> None:
    result = CliRunner().invoke(cli.drill, ["list"], terminal_width=200)
    assert result.exit_code == 0
    for name in REQUIRED:
        assert name in result.output


def test_an_unknown_drill_is_one_line_listing_the_known_ones() -> None:
    result = CliRunner().invoke(cli.drill, ["run", "fire-drill", "--auto", "--yes"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: no drill 'fire-drill'; drills: " + ", ".join(sorted(rb.load_all()))]


def test_without_a_terminal_it_needs_auto_and_yes() -> None:
    interactive = CliRunner().invoke(cli.drill, ["run", "slow-database", "--yes"])
    assert interactive.exit_code == 1 and "pass --auto to run it unattended" in interactive.output
    unconfirmed = CliRunner().invoke(cli.drill, ["run", "slow-database", "--auto"])
    assert unconfirmed.exit_code == 1 and "pass --yes to fault containers without asking" in unconfirmed.output


def test_it_asks_before_acting_on_an_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "stdin_is_tty", lambda: True)
    monkeypatch.setenv("DOCKER_HOST", "unix:///tmp/test-engine.sock")
    result = CliRunner().invoke(cli.drill, ["run", "slow-database", "--auto"], input="n\n")
    assert "This drill will kill, pause and cut containers labelled billing-chaos on unix:///tmp/test-engine.sock. " \
           "Go on? [y/N]" in result.output
    assert result.exit_code == 1 and "nothing was done" in result.output


@pytest.mark.parametrize("args", [[], ["list"], ["run"]])
def test_every_command_has_help_with_an_example(args: list[str]) -> None:
    result = CliRunner().invoke(cli.drill, [*args, "--help"])
    assert result.exit_code == 0 and "Example:" in result.output and "chaos drill" in result.output
