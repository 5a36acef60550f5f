"""A generated workload under generated faults shows no anomaly: the bugs nobody planted, looked for.

Each try plays a seeded mix of every operation the target offers (invoices
by several clients at once, activations with one key from several
instances, old keys with other parameters, purchases of 1..N tickets near
the capacity, one email registered twice at once, ...) under a seeded
schedule of every fault the target allows, and is judged by every checker
and the contract. An anomaly is shrunk on this cluster to a small
reproduction (JSON + a generated test) in the run's report folder.

The catalogue's hunt is short (``--chaos-hunt-budget``, 120 s); the nightly
job gives it 600 s. Its tries and shrink steps are pages of the run report.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from chaos.hunt.engine import HuntConfig, HuntReport, hunt, summary_lines, write_report
from chaos.report.model import named_results

pytestmark = pytest.mark.chaos


@pytest.mark.needs(operations=["register"])
def test_a_generated_workload_under_generated_faults_shows_no_anomaly(
        hunt_stage, chaos_seed, pytestconfig, run_record, history, record_verdict, request) -> None:
    folder = Path(pytestconfig.getoption("--chaos-report-dir")) / run_record["run_id"] / "hunt"
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    config = HuntConfig(budget_s=pytestconfig.getoption("--chaos-hunt-budget"), seed=chaos_seed,
                        stop_at_first=pytestconfig.getoption("--chaos-hunt-first"),
                        unsafe=pytestconfig.getoption("--chaos-unsafe"),
                        target=pytestconfig.getoption("--chaos-target") or "billing",
                        folder=folder)

    def progress(event: str, details: dict) -> None:
        if reporter is not None:
            reporter.write_line(f"  hunt {event}: " + ", ".join(f"{k}={v}" for k, v in details.items()
                                                                 if k != "schedule"))

    report = HuntReport(config.seed)
    try:
        hunt(hunt_stage, config, progress, report)
    finally:
        write_report(report, folder)
        for label, trial in report.trials:   # every try and shrink step is a page of the run report
            run_record["scenarios"].append({
                "name": f"{request.node.nodeid} [{label}]", "ops": trial.history,
                "results": named_results(trial.results), "schedule": [s.describe() for s in trial.schedule],
                "outcome": "failed" if trial.found else "passed", "duration_s": trial.seconds,
                "note": ", ".join(trial.found)})
    verdict = record_verdict(report.result())
    for line in summary_lines(report):
        if reporter is not None:
            reporter.write_line(line)
    assert report.operations, "the hunt's budget allowed no try"
    assert not report.found, "\n".join(summary_lines(report))
    assert verdict.valid is not False
