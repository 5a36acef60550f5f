"""The report tells the truth: nothing checked is "not checked" on every surface, never valid; a
failed scenario shows its exception and line; evidence is on every page, and no evidence is unknown;
replay commands carry the target and the settings name the instances actually driven."""
from __future__ import annotations

import dataclasses
import html as html_lib
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from chaos.checkers.result import Evidence, Result, judged
from chaos.history import Call, build
from chaos.report import RunRecord, ScenarioRecord, write_report
from chaos.report.verdicts import Verdict, checker_verdict, replay_options, run_verdict, scenario_verdict
from chaos.target import load_profile
from chaos.target.model import Running
from fixtures.reporting import run_settings

pytestmark = pytest.mark.unit
pytest_plugins = ["pytester"]
LACKS = "not checked: target 'shop' lacks operation generate_invoice_async (declared in lacks)"
URLS = ("http://127.0.0.1:5001", "http://127.0.0.1:5002")


def text(path: Path) -> str:
    """A page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"</?(td|th|tr|br|p|div|h\d|pre|table|summary)\b[^>]*>", " ", page)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", "", page)))


def one_call() -> list:
    return build([Call("c0", "generate_invoice", {"user_id": "u-1", "period": "p"}, "ok", 0, 1, status=201,
                       result={"invoice_id": "9f0c"})])


def report_cli(report_dir: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from chaos import cli

    monkeypatch.setattr(cli.console, "width", 400)  # one table row per line, whatever the terminal
    result = CliRunner().invoke(cli.main, ["report", *args, "--report-dir", str(report_dir)])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_run_of_only_skipped_scenarios_is_not_checked_everywhere(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    skipped = [ScenarioRecord(f"scenarios/test_a.py::test_{n}", outcome="skipped", note=LACKS) for n in range(14)]
    index = write_report(tmp_path, "run-skip", skipped, seed=5, settings={"target": "shop (running)"})
    assert_nothing_checked(index, "test_0", monkeypatch)
    page = text(index.parent / "scenarios_test_a.py_test_0.html")
    assert "target 'shop' lacks operation generate_invoice_async" in page


def test_a_run_whose_scenarios_passed_with_no_checker_is_not_checked_everywhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    passed = [ScenarioRecord(f"scenarios/test_a.py::test_{n}", one_call(), outcome="passed") for n in range(3)]
    index = write_report(tmp_path, "run-none", passed, seed=5)
    assert_nothing_checked(index, "test_0", monkeypatch)
    assert "no checker ran" in text(index.parent / "scenarios_test_a.py_test_0.html")


def assert_nothing_checked(index: Path, scenario: str, monkeypatch: pytest.MonkeyPatch) -> None:
    run = index.parent
    html = index.read_text()
    assert 'class="badge valid-true"' not in html and ">valid<" not in html
    headline = html[html.index("<h1>"):html.index("</h1>")]
    assert 'class="badge valid-none">not checked<' in headline
    assert text(index).count("not checked") >= 2  # the headline and every row
    page = run / f"scenarios_test_a.py_{scenario}.html"
    lead = page.read_text()[page.read_text().index('<p class="lead">'):]
    assert lead[:lead.index("</p>")].count('class="badge valid-none">not checked<') == 1
    assert ">valid<" not in page.read_text()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["verdict"] == "not checked" and summary["valid"] is None
    assert {s["verdict"] for s in summary["scenarios"]} == {"not checked"}
    assert {s["valid"] for s in summary["scenarios"]} == {None}
    listing = report_cli(run.parent, monkeypatch=monkeypatch)
    row = next(line for line in listing.splitlines() if run.name in line)
    assert "not checked" in row and "safe" not in row and "unknown" not in row
    detail = report_cli(run.parent, run.name, monkeypatch=monkeypatch)
    rows = [line for line in detail.splitlines() if "scenarios/test_a.py::" in line]
    assert rows and all("not checked" in line and "safe" not in line for line in rows)
    assert "verdict: not checked" in detail


def test_skipped_and_failed_scenarios_never_make_a_valid_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    failed = [ScenarioRecord(f"scenarios/test_b.py::test_{n}", outcome="failed",
                             error={"message": "ValueError: invalid literal for int() with base 10: '9f0c'",
                                    "location": "scenarios/conftest.py:41", "line": "scenarios/test_b.py:12"})
              for n in range(4)]
    skipped = [ScenarioRecord(f"scenarios/test_c.py::test_{n}", outcome="skipped", note=LACKS) for n in range(14)]
    index = write_report(tmp_path, "run-mixed", [*failed, *skipped], seed=5)
    headline = index.read_text()[index.read_text().index("<h1>"):index.read_text().index("</h1>")]
    assert 'class="badge failed">failed<' in headline
    summary = json.loads((index.parent / "summary.json").read_text())
    assert summary["verdict"] == "failed" and summary["valid"] is False
    assert summary["reason"] == "4 failed; 14 of 18 scenarios not checked"
    row = next(line for line in report_cli(tmp_path, monkeypatch=monkeypatch).splitlines() if "run-mixed" in line)
    assert "failed: 4 failed" in row and "18 (4 failed, 14 not checked)" in row
    assert "failed: ValueError: invalid literal for int() with base 10: '9f0c' (scenarios/test_b.py:12)" in text(index)


def test_an_errored_scenario_page_shows_its_exception_and_the_failing_line(pytester: pytest.Pytester,
                                                                         tmp_path: Path) -> None:
    pytester.makepyfile(test_crash='''
        def parse(user_id):
            return int(user_id)


        def test_uuid_ids(history):
            user = {"user_id": "0b7e-uuid"}
            parse(user["user_id"])
        ''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--chaos-report-dir={tmp_path}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["billing-chaos verdict: failed: 1 failed", "billing-chaos report: *index.html"])
    run = next(tmp_path.glob("*/summary.json")).parent
    entry, = json.loads((run / "summary.json").read_text())["scenarios"]
    assert entry["outcome"] == "failed" and entry["verdict"] == "failed" and entry["valid"] is False
    error = entry["error"]
    assert error["message"] == "ValueError: invalid literal for int() with base 10: '0b7e-uuid'"
    assert error["location"] == "test_crash.py:2" and error["line"] == "test_crash.py:7"
    assert error["source"] == 'parse(user["user_id"])'
    page = text(run / f"{entry['folder']}.html")
    assert "ValueError: invalid literal for int() with base 10: '0b7e-uuid'" in page
    assert "failing line test_crash.py:7" in page and "raised at test_crash.py:2" in page
    assert "Traceback" in page and "def test_uuid_ids(history):" in page  # pytest's own text
    assert (run / entry["folder"] / "error.txt").read_text().strip().endswith("ValueError")
    assert "test_crash.py:7" in text(run / "index.html")


def test_a_failing_fixture_setup_is_an_error_with_its_exception(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_setup='''
        import pytest


        @pytest.fixture
        def users(history):
            raise KeyError("period")


        def test_needs_users(users):
            pass
        ''')
    pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--chaos-report-dir={tmp_path}").assert_outcomes(errors=1)
    entry, = json.loads(next(tmp_path.glob("*/summary.json")).read_text())["scenarios"]
    assert entry["outcome"] == "error" and entry["verdict"] == "error"
    assert entry["error"]["message"] == "KeyError: 'period'" and entry["error"]["location"] == "test_setup.py:6"
    assert entry["reason"] == "KeyError: 'period' (test_setup.py:6)"


def test_a_claim_with_no_evidence_is_unknown_with_its_reason_on_every_surface(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    idle = judged("idempotency", [], {"keys": 4},
                  {"same_key_overlap": Evidence("two or more calls with one key in flight together", 0)})
    assert idle.valid == "unknown"
    busy = judged("invoices", [], {}, {"contention": Evidence("two calls for one invoice identity at once", 7)})
    index = write_report(tmp_path, "run-idle", [ScenarioRecord("s", one_call(), [idle, busy], seed=1)])
    reason = "not exercised (two or more calls with one key in flight together)"
    page = text(index.parent / "s.html")
    assert f"unknown: idempotency: {reason}" in page  # the scenario's verdict
    assert f"unknown: {reason}" in page  # the checker's
    assert "same_key_overlap ×0" in page and "contention ×7" in page
    evidence = page[page.index("Evidence How often"):page.index("Anomalies None")]
    assert "idempotency same_key_overlap two or more calls with one key in flight together 0 yes" in evidence
    assert "invoices contention two calls for one invoice identity at once 7 yes" in evidence
    index_text = text(index)
    assert f"unknown: idempotency: {reason}" in index_text and "idempotency.same_key_overlap ×0" in index_text
    summary = json.loads((index.parent / "summary.json").read_text())
    assert summary["verdict"] == "unknown" and summary["scenarios"][0]["valid"] == "unknown"
    assert {"claim": "idempotency.same_key_overlap", "situation": "two or more calls with one key in flight "
            "together", "count": 0, "claimed": True} in summary["scenarios"][0]["evidence"]
    detail = report_cli(tmp_path, "run-idle", monkeypatch=monkeypatch)
    assert f"unknown: idempotency: {reason}" in detail and "idempotency.same_key_overlap×0" in detail


def test_a_valid_result_with_a_claimed_situation_that_never_occurred_is_shown_unknown() -> None:
    hand_made = Result("capacity", True, evidence={"last_seat": Evidence("a sale refused as sold out", 0)})
    assert checker_verdict(hand_made) == Verdict("unknown", "not exercised (a sale refused as sold out)")
    unclaimed = Result("capacity", True, evidence={"last_seat": Evidence("a sale refused as sold out", 0, False)})
    assert checker_verdict(unclaimed) == Verdict("valid")


def test_the_scenario_and_run_rules() -> None:
    ok, unknown, bad = Result("a", True), Result("b", "unknown", reason="not checked: no period"), Result("c", False)
    assert scenario_verdict("passed", []) == Verdict("not checked", "no checker ran")
    assert scenario_verdict("skipped", [], note=LACKS).reason.startswith("target 'shop' lacks")
    assert scenario_verdict("error", [], error="KeyError: 'x'") == Verdict("error", "KeyError: 'x'")
    assert scenario_verdict("failed", [ok]).status == "failed"  # a failed scenario is never valid
    assert scenario_verdict("failed", [ok, bad]).status == "invalid"
    assert scenario_verdict("passed", [ok, unknown]) == Verdict("unknown", "b: not checked: no period")
    assert scenario_verdict("passed", [ok]) == Verdict("valid")
    valid, unchecked = Verdict("valid"), Verdict("not checked", "no checker ran")
    assert run_verdict([]).status == "not checked"
    assert run_verdict([unchecked, unchecked]).status == "not checked"
    assert run_verdict([valid, unchecked]) == Verdict("valid", "1 of 2 scenarios not checked")
    assert run_verdict([valid, Verdict("unknown", "x")]).status == "unknown"
    assert run_verdict([valid, Verdict("error", "x")]).valid is False
    assert run_verdict([Verdict("failed"), Verdict("invalid", "x")]).status == "invalid"


def test_an_older_summary_is_judged_by_the_same_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "old-run"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({"run_id": "old-run", "seed": 1, "scenarios": [
        {"name": "a", "outcome": "failed", "valid": None}, {"name": "b", "outcome": "skipped", "valid": None,
                                                            "note": LACKS}]}))
    listing = report_cli(tmp_path, monkeypatch=monkeypatch)
    row = next(line for line in listing.splitlines() if "old-run" in line)
    assert "failed" in row and "safe" not in row


def test_replay_commands_carry_the_target_and_settings_name_the_running_instances(tmp_path: Path) -> None:
    profile_file = tmp_path / "shop.yaml"
    profile_file.write_text("x")
    running = dataclasses.replace(load_profile("billing"), name="shop", run=Running(URLS))
    settings = run_settings(running, option=str(profile_file), api=5, workers=3, unsafe="")
    assert settings == {"target": "shop (running)", "chaos_target": str(profile_file.resolve()),
                        "instances": f"2 running instances: {URLS[0]}, {URLS[1]}", "unsafe": ""}
    index = write_report(tmp_path, "run-shop", [ScenarioRecord("scenarios/t.py::test_x", one_call(), seed=3)],
                         seed=3, settings=settings)
    html = index.read_text()
    assert f"pytest -m chaos --chaos-seed 3 --chaos-target {profile_file.resolve()}</pre>" in html
    assert "--chaos-api" not in html and "api=5" not in html and "workers=3" not in html
    assert f"instances=2 running instances: {URLS[0]}, {URLS[1]}" in html
    page = (index.parent / "scenarios_t.py_test_x.html").read_text()
    assert f'pytest "scenarios/t.py::test_x" --chaos-seed 3 --chaos-target {profile_file.resolve()}</pre>' in page
    billing = run_settings(load_profile("billing"), option=None, api=5, workers=3, unsafe="check_then_insert")
    assert replay_options(billing, 7) == ("--chaos-seed 7 --chaos-api 5 --chaos-workers 3 --chaos-target billing "
                                          "--chaos-unsafe check_then_insert")
    assert replay_options({}, 7) == "--chaos-seed 7 --chaos-target billing"  # an older run: billing's


def test_a_run_record_keeps_its_error_through_the_store(tmp_path: Path) -> None:
    record = ScenarioRecord("s", outcome="error", error={"message": "KeyError: 'period'", "location": "c.py:3",
                                                         "traceback": "Traceback ...\nKeyError: 'period'"})
    index = write_report(tmp_path / "r", RunRecord("r", 1, "now", {}, [record]))
    page = text(index.parent / "s.html")
    assert "KeyError: 'period'" in page and "raised at c.py:3" in page and "Traceback ..." in page
    assert "error.txt" in page
