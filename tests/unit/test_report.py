"""A report rendered from a sample history holds the timeline, fault windows, anomalies and verdicts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaos.checkers import invoices
from chaos.history import Recorder
from chaos.report import render, write_report
from chaos.report.model import RunRecord, ScenarioRecord

pytestmark = pytest.mark.unit


def sample_scenario() -> ScenarioRecord:
    history = Recorder()
    history.nemesis("start", {"fault": "latency", "target": "api_2->redis", "latency": 300})
    for i, instance in enumerate(["api_1", "api_2", "api_1"]):
        handle = history.invoke(f"client_{i}", "generate_invoice", {"user_id": 7, "period": "2026-01"})
        history.complete(handle, "ok", value={"user_id": 7, "period": "2026-01", "invoice_id": 10 + i},
                         status=200, instance=instance, latency=0.05)
    handle = history.invoke("client_3", "generate_invoice", {"user_id": 7, "period": "2026-01"})
    history.complete(handle, "info", error="ReadTimeout", latency=10.0)
    history.nemesis("stop", {"fault": "latency", "target": "api_2->redis", "latency": 300})
    final = {7: [{"invoice_id": 10 + i, "user_id": 7, "period": "2026-01"} for i in range(3)]}
    result = invoices.check(history.ops, final)
    return ScenarioRecord("scenarios/test_x.py::test_storm", history.snapshot(), {"invoices": result}, seed=99,
                          schedule=[{"at_s": 0.0, "duration_s": 2.0, "fault": "latency", "target": "api_2->redis",
                                     "latency": 300}], outcome="failed", duration_s=2.5)


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return write_report(tmp_path / "run-1", RunRecord("run-1", 99, "2026-11-24 10:00:00", {"api": 5},
                                                      [sample_scenario()]))


def test_the_index_lists_each_scenario_with_its_verdict_and_the_replay_seed(report: Path) -> None:
    html = report.read_text()
    assert "scenarios/test_x.py::test_storm" in html and "--chaos-seed 99" in html
    assert 'class="failed"' in html and 'class="valid-false"' in html


def test_the_scenario_page_holds_timeline_faults_anomalies_and_verdicts(report: Path) -> None:
    page = (report.parent / "scenarios_test_x.py_test_storm.html").read_text()
    assert "Timeline" in page and page.count("<svg") >= 3
    assert "latency api_2-&gt;redis" in page or "latency api_2->redis" in page  # the shaded window's label
    assert "duplicate" in page and "has 3 invoices" in page  # the anomaly and its message
    assert "#" in page and "client_0 ok generate_invoice" in page  # its witnesses
    assert "anomaly witness" in page  # marked on the timeline


def test_the_run_is_stored_before_it_is_rendered_and_can_be_rendered_again(report: Path) -> None:
    folder = report.parent / "scenarios_test_x.py_test_storm"
    assert len((folder / "history.jsonl").read_text().splitlines()) == 10
    assert json.loads((folder / "results.json").read_text())["invoices"]["valid"] is False
    report.unlink()
    assert render(report.parent) == report and report.exists()
