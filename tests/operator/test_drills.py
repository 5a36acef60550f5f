"""`chaos drill run` as an operator runs it: interactively through a terminal, and unattended for CI.

The interactive drill is driven through a pseudo-terminal (pexpect): it must
narrate each step after Enter, heal, judge, and print a SAFE verdict and a
report that exists. It starts (and removes) a cluster of its own. The
unattended drill runs against a stack started with `chaos up` and must leave
it up and healed. Every command acts on stacks owned by this pytest process
(``CHAOS_STACK_OWNER``), never on one a person started.
"""
from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.drills.runbook import Runbook, load_all

pexpect = pytest.importorskip("pexpect")

pytestmark = [pytest.mark.drill, pytest.mark.docker]
ROOT = Path(__file__).resolve().parents[2]
CHAOS = str(Path(sys.executable).with_name("chaos"))
OWNER = f"{socket.gethostname()}:{os.getpid()}"
START_S = 600      # provisioning (cold: about 70 s) and a cluster start
DRILL_S = 240      # the longest a drill's step or its end may take here


def environment() -> dict[str, str]:
    return {**os.environ, "CHAOS_STACK_OWNER": OWNER, "COLUMNS": "200", "NO_COLOR": "1"}


def summary_of(report: Path) -> dict:
    return json.loads((report.parent / "summary.json").read_text(encoding="utf-8"))


def results_of(report: Path) -> dict:
    (scenario,) = summary_of(report)["scenarios"]
    return json.loads((report.parent / scenario["folder"] / "results.json").read_text(encoding="utf-8"))


def test_an_interactive_drill_narrates_each_step_after_enter_then_judges(tmp_path: Path) -> None:
    transcript = io.StringIO()
    child = pexpect.spawn(CHAOS, ["drill", "run", "api-cut-off-from-redis", "--yes", "--report-dir", str(tmp_path)],
                          cwd=str(ROOT), env=environment(), encoding="utf-8", timeout=DRILL_S, dimensions=(50, 200))
    child.logfile_read = transcript
    try:
        child.expect("Drill: One api instance cut off from Redis", timeout=START_S)
        steps = []
        while child.expect([r"Press Enter for step (\d+)/(\d+) \(or q to stop and heal\)",
                            r"verdict: (SAFE|UNSAFE|UNKNOWN)[^\r\n]*"], timeout=START_S) == 0:
            number, total = int(child.match.group(1)), int(child.match.group(2))
            child.sendline("")
            child.expect(f"Step {number}/{total} — ")
            steps.append(number)
            if number == 1:
                child.expect(r"\$ workload start invoices")
                child.expect(r"→ invoices: sync invoices")
            if number == 2:
                child.expect(r"→ started partition api_1->redis")
        verdict = child.match.group(0)
        child.expect(r"report: (\S+index\.html)")
        report = Path(child.match.group(1))
        child.expect(pexpect.EOF)
    finally:
        child.close()
    text = transcript.getvalue()
    assert steps == [1, 2, 3, 4], text
    assert "healed partition api_1->redis" in text
    assert verdict.startswith("verdict: SAFE"), text
    assert child.exitstatus == 0, text
    assert report.exists() and report.parent.parent == tmp_path
    assert summary_of(report)["scenarios"][0]["name"] == "drill: api-cut-off-from-redis"
    results = results_of(report)
    fails_closed = results["fails_closed"]
    assert fails_closed["valid"] is True and fails_closed["stats"]["judged"] > 0, fails_closed
    assert "503 redis_unavailable" in fails_closed["stats"]["refused"], fails_closed
    assert results["invoices"]["valid"] is True and results["capacity"]["valid"] is True


@pytest.fixture(scope="module")
def cli_stack() -> Iterator[None]:
    """A stack of `chaos up`, as an on-call engineer would have it; removed with `chaos down`."""
    def chaos(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([CHAOS, *args], cwd=ROOT, env=environment(), capture_output=True, text=True,
                              timeout=START_S, stdin=subprocess.DEVNULL)

    up = chaos("up", "--api", "3", "--workers", "2")
    try:
        assert up.returncode == 0, up.stderr + up.stdout
        yield
    finally:
        chaos("down")


def load_runbook(name: str) -> Runbook:
    return load_all()[name]


def status_after_a_drill() -> str:
    status = subprocess.run([CHAOS, "status"], cwd=ROOT, env=environment(), capture_output=True, text=True,
                            timeout=120, stdin=subprocess.DEVNULL)
    assert status.returncode == 0, status.stderr
    assert "active faults: none" in status.stdout, status.stdout
    return status.stdout


def test_an_unattended_drill_runs_on_the_stack_that_is_up_and_leaves_it_healed(tmp_path: Path,
                                                                               cli_stack: None) -> None:
    process = subprocess.run([CHAOS, "drill", "run", "lock-holder-paused-past-expiry", "--auto", "--yes",
                              "--report-dir", str(tmp_path)], cwd=ROOT, env=environment(), capture_output=True,
                             text=True, timeout=START_S, stdin=subprocess.DEVNULL)
    out = process.stdout
    assert process.returncode == 0, out + process.stderr
    for said in ("Drill: A lock holder paused past its expiry", "Step 1/3 — A slow holder takes the lock",
                 "→ lock-contention:", "Step 2/3 — Pause the holder past the lock's expiry",
                 "→ started pause api_1",
                 "Step 3/3 — Wake the stale holder", "→ healed pause api_1", "What safe behaviour looks like",
                 "verdict: SAFE"):
        assert said in out, f"{said!r} not in:\n{out}"
    assert "Press Enter" not in out
    report = Path(next(line for line in out.splitlines() if line.startswith("report: ")).split(" ", 1)[1])
    assert report.exists() and summary_of(report)["settings"]["cluster"] == "attached"
    results = results_of(report)
    assert results["locks"]["valid"] is True and results["invoices"]["valid"] is True, results
    assert results["locks"]["stats"]["stale_writes_rejected"] == 1, results["locks"]["stats"]
    assert "api_3" in status_after_a_drill()


@pytest.mark.parametrize("name", ["worker-killed-mid-invoice", "slow-database", "scale-out-under-load",
                                  "payment-answer-lost", "redis-restarted-with-invoices-queued"])
def test_every_other_drill_runs_unattended_to_a_safe_verdict(name: str, tmp_path: Path, cli_stack: None) -> None:
    runbook = load_runbook(name)
    process = subprocess.run([CHAOS, "drill", "run", name, "--auto", "--yes", "--report-dir", str(tmp_path)],
                             cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=START_S,
                             stdin=subprocess.DEVNULL)
    out = process.stdout
    assert process.returncode == 0, out + process.stderr
    for step in runbook.steps:
        assert f"Step {step.number}/{len(runbook.steps)} — {step.title}" in out, out
    assert "verdict: SAFE" in out, out
    report = Path(next(line for line in out.splitlines() if line.startswith("report: ")).split(" ", 1)[1])
    assert all(result["valid"] is True for result in results_of(report).values()), results_of(report)
    status = status_after_a_drill()
    assert "api_3" in status and "api_4" not in status  # a drill that scaled puts the scale back


def test_a_mixed_day_of_generated_calls_survives_a_frozen_instance(tmp_path: Path, cli_stack: None) -> None:
    """The drills' ``mixed`` workload is the hunt's generator: it must drive the stack and be judged by every
    checker without one anomaly (a situation the day did not reach may be "not exercised")."""
    process = subprocess.run([CHAOS, "drill", "run", "a-mixed-day", "--auto", "--yes", "--report-dir", str(tmp_path)],
                             cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=START_S,
                             stdin=subprocess.DEVNULL)
    out = process.stdout
    assert "verdict: UNSAFE" not in out and "→ mixed:" in out, out + process.stderr
    report = Path(next(line for line in out.splitlines() if line.startswith("report: ")).split(" ", 1)[1])
    results = results_of(report)
    assert {"invoices", "idempotency", "capacity", "contract"} <= set(results), results
    assert all(not result["anomalies"] for result in results.values()), results
    assert summary_of(report)["scenarios"][0]["operations"]["ok"] > 20, summary_of(report)
