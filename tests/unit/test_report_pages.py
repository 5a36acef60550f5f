"""The run report: stored first, rendered from the files, holding what a reader needs to judge and replay."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from chaos.checkers import invoices
from chaos.checkers.result import Anomaly, Result
from chaos.history import Call, Fault, build, read_jsonl
from chaos.report import ScenarioRecord, render, write_report
from chaos.report.__main__ import main
from chaos.report.sample import sample_run

pytestmark = pytest.mark.unit
NAME = "scenarios/test_sample.py::test_mixed_workload_under_faults"
PAGE = "scenarios_test_sample.py_test_mixed_workload_under_faults"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rendered run with one failing scenario (anomalies planted) and one clean one."""
    bad = sample_run(calls=300, processes=8, seed=3).scenario(NAME)
    clean = sample_run(calls=60, processes=4, seed=4, anomalies=False).scenario("scenarios/test_clean.py::test_ok")
    index = write_report(tmp_path_factory.mktemp("reports"), "run-42", [bad, clean], seed=4242,
                         settings={"api": 5, "workers": 3, "unsafe": ""})
    assert index.parent.name == "run-42"
    return index.parent


def page(run: Path, name: str = PAGE) -> str:
    return (run / f"{name}.html").read_text()


def test_the_index_lists_each_scenario_with_outcome_verdict_anomalies_and_the_replay_seed(run: Path) -> None:
    html = (run / "index.html").read_text()
    assert NAME in html and f'href="{PAGE}.html"' in html and "scenarios/test_clean.py::test_ok" in html
    assert "pytest -m chaos --chaos-seed 4242 --chaos-api 5 --chaos-workers 3" in html
    assert 'class="badge valid-false">INVALID' in html and 'class="badge valid-true">valid' in html
    for kind in ("duplicate", "lost", "replay_mismatch", "oversell", "overlap", "stale_write_accepted"):
        assert f'<span class="kind">{kind} &times;' in html


def test_the_timeline_has_a_row_per_process_and_the_fault_windows_shaded_and_named(run: Path) -> None:
    html = page(run)
    timeline = html[html.index('<div class="plot timeline">'):html.index('<h2 id="latency">')]
    assert timeline.count("<svg") == 1
    for process in ("client_0", "client_7"):
        assert f">{process}<" in timeline
    for fault in ("latency api_2-&gt;redis", "partition api_3-&gt;redis", "pause api_1", "kill worker_2"):
        assert f"nemesis: {fault}" in timeline  # its row on top, with its bar
    assert "ok (" in timeline and "fail (" in timeline and "info (" in timeline  # outcomes told apart
    assert "anomaly witness (" in timeline  # witnesses circled
    # the shading: one translucent band per fault window, across the whole plot
    assert len(re.findall(r'style="(?:fill: #[0-9a-f]{6}; )?opacity: 0\.18', timeline)) == 4  # black: no fill


def test_the_anomalies_are_shown_with_the_operations_and_records_that_prove_them(run: Path) -> None:
    html = page(run)
    anomalies = html[html.index('<h2 id="anomalies">'):html.index('<h2 id="timeline">')]
    for kind in ("duplicate", "lost", "replay_mismatch", "oversell", "overlap", "stale_write_accepted"):
        assert f'<span class="kind">{kind}</span>' in anomalies
    assert re.search(r"user(_id)? \d+, (period )?2026-0\d has 2 invoices", anomalies)
    assert "generate_invoice" in anomalies and "activate" in anomalies  # witness calls as rows
    assert "<th>lock_event</th>" in anomalies and "tok-intruder" in anomalies  # witness records as a table
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3}", anomalies)  # journal times as wall clock


def test_the_verdicts_latency_throughput_work_and_schedule_are_on_the_page(run: Path) -> None:
    html = page(run)
    verdicts = html[html.index('<h2 id="verdicts">'):html.index('<h2 id="anomalies">')]
    for checker in ("invoices", "async_invoices", "idempotency", "capacity", "locks", "distribution", "latency"):
        assert f"<b>{checker}</b>" in verdicts
    assert verdicts.count("INVALID") == 4 and verdicts.count(">valid<") == 3
    assert re.search(r'<span class="claim" title="[^"]+">at_most_once &times;[1-9]', verdicts)  # evidence counts
    evidence = html[html.index('<h2 id="evidence">'):html.index('<h2 id="anomalies">')]
    assert "<b>concurrent_same_key</b>" in evidence and "<b>ambiguous_retry</b>" in evidence
    assert html.count("<svg") == 5  # timeline, latency, throughput, per instance, per worker
    assert "ok p95 per" in html and "completions / s" in html
    assert "Flower /api/workers" in html and "celery@worker_1" in html and "api_5" in html
    assert 'pytest "scenarios/test_sample.py::test_mixed_workload_under_faults" --chaos-seed 3' in html
    assert "<td>api_2-&gt;redis</td>" in html  # the seeded schedule


def test_pages_need_no_network(run: Path) -> None:
    for path in run.glob("*.html"):
        html = path.read_text()
        assert "<script" not in html and "<link" not in html and "@import" not in html
        assert not re.search(r'(src|href)="https?://', html) and "url(http" not in html


def test_the_run_is_stored_and_renders_again_identically_from_its_files(run: Path) -> None:
    folder = run / PAGE
    history = read_jsonl(folder / "history.jsonl")
    assert len(history) > 600 and [op.index for op in history] == list(range(len(history)))
    results = json.loads((folder / "results.json").read_text())
    assert results["invoices"]["valid"] is False and results["distribution"]["valid"] is True
    assert json.loads((folder / "schedule.json").read_text())[0]["target"] == "api_2->redis"
    summary = json.loads((run / "summary.json").read_text())
    assert [s["valid"] for s in summary["scenarios"]] == [False, True]
    assert summary["scenarios"][0]["seed"] == 3 and summary["seed"] == 4242
    before = page(run)
    (run / f"{PAGE}.html").unlink()
    assert render(run) == run / "index.html" and page(run) == before


def test_text_from_a_history_is_escaped(tmp_path: Path) -> None:
    history = build([Call("<b>client</b>", "generate_invoice", {"user_id": 1, "period": "<script>"}, "ok", 0, 1,
                          status=200, result={"invoice_id": 1})])
    result = Result("x", False, [Anomaly("lost", "<script>alert(1)</script>", (1,))])
    index = write_report(tmp_path / "r", "r", [ScenarioRecord("t<x>", history, [result], seed=1)])
    html = (index.parent / "t_x.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_run_record_from_the_fixtures_and_an_empty_history_render(tmp_path: Path) -> None:
    from chaos.report.model import RunRecord

    empty = ScenarioRecord(name="scenarios/test_e.py::test_nothing", ops=[], results={}, seed=9, schedule=[],
                           outcome="error", duration_s=0.0)
    index = write_report(tmp_path / "run-7", RunRecord("run-7", 9, "2026-01-01 00:00:00", {}, [empty]))
    assert index == tmp_path / "run-7" / "index.html"
    html = (tmp_path / "run-7" / "scenarios_test_e.py_test_nothing.html").read_text()
    assert "no checker ran" in html and "no call recorded a latency" in html


def test_several_results_of_one_checker_all_stay(tmp_path: Path) -> None:
    history = build([Call("c", "generate_invoice", {"user_id": 1, "period": "p"}, "ok", 0, 1, status=200,
                          result={"invoice_id": 1})], [Fault(0.2, 0.4, {"fault": "pause", "target": "api_1"})])
    twice = [invoices.check(history, {1: [{"invoice_id": 1, "user_id": 1, "period": "p"}]}),
             invoices.check(history, {1: []})]
    record = ScenarioRecord("s", history, twice, seed=1)
    assert list(record.results) == ["invoices", "invoices_2"]
    index = write_report(tmp_path, "run", [record])
    assert "<b>invoices_2</b>" in (index.parent / "s.html").read_text()


def test_thousands_of_operations_render_quickly(tmp_path: Path) -> None:
    scenario = sample_run(calls=1500, processes=30, seed=5).scenario()  # 3000 operations
    started = time.perf_counter()
    write_report(tmp_path, "big", [scenario])
    assert time.perf_counter() - started < 15, "the benchmark (benchmarks/checkers.py) tells where time goes"


def test_the_command_renders_a_sample_and_refuses_a_folder_that_is_no_run(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture) -> None:
    assert main([str(tmp_path / "sample"), "--sample", "--calls", "100", "--clean"]) == 0
    index = Path(capsys.readouterr().out.strip())
    assert index == tmp_path / "sample" / "index.html" and index.exists()  # the folder is named after the run
    with pytest.raises(SystemExit):
        main([str(tmp_path / "nowhere")])
