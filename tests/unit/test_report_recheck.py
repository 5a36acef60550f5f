"""A stored run judged again offline gives the verdicts it was given, from its files alone; a result
whose inputs were not stored is "not re-checkable" (unknown), never valid."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaos.checkers import Result
from chaos.history import Call, build
from chaos.report import RunRecord, ScenarioRecord, write_report
from chaos.report.checks import judge
from chaos.report.model import Check
from chaos.report.recheck import recheck

pytestmark = pytest.mark.unit
pytest_plugins = ["pytester"]
JAN = "2026-01"
IDENTITY = ["user_id", "period"]


def invoice_calls(*invoice_ids: int) -> list:
    """Calls for user 1's January invoice, released together: an ok per invoice id, the rest refused."""
    return build([Call(f"client_{i}", "generate_invoice", {"user_id": 1, "period": JAN},
                       "ok" if i < len(invoice_ids) else "fail", 0.0, 0.1 + i / 100,
                       status=200 if i < len(invoice_ids) else 409,
                       error=None if i < len(invoice_ids) else "invoice_exists",
                       result={"invoice_id": invoice_ids[i]} if i < len(invoice_ids) else {})
                  for i in range(3)])


def judged_scenario(name: str, *invoice_ids: int) -> ScenarioRecord:
    record = ScenarioRecord(name, invoice_calls(*invoice_ids))
    final = {1: [{"invoice_id": i, "user_id": 1, "period": JAN, "amount": "19.99"} for i in invoice_ids]}
    judge(record, "invoices", record.history, final, identity=IDENTITY, claims=("at_most_once",))
    judge(record, "contract", record.history, outage=["5xx"], claims=("definite_outside_faults",))
    judge(record, "latency", record.history)   # no bounds, no claims: its own verdict, whatever it is
    return record


def verdicts(results: dict[str, Result]) -> dict[str, object]:
    return {name: r.valid for name, r in results.items()}


def test_a_stored_run_rechecked_offline_gives_the_same_verdicts(tmp_path: Path) -> None:
    duplicate = judged_scenario("scenarios/test_invoices.py::test_storm", 10, 11)   # two invoices for one key
    safe = judged_scenario("scenarios/test_invoices.py::test_safe", 10)
    assert duplicate.results["invoices"].valid is False and safe.results["invoices"].valid is True
    assert [a.kind for a in duplicate.results["invoices"].anomalies] == ["duplicate"]
    write_report(tmp_path, RunRecord("run-1", 7, "now", {}, [duplicate, safe]))

    again = recheck(tmp_path / "run-1")

    assert set(again) == {duplicate.name, safe.name}
    for scenario in (duplicate, safe):
        assert verdicts(again[scenario.name]) == verdicts(scenario.results)
    assert again[duplicate.name]["invoices"].kinds() == {"duplicate": 1}
    stored = json.loads((tmp_path / "run-1" / "scenarios_test_invoices.py_test_storm" / "checks.json").read_text())
    assert stored["invoices"] == {"checker": "invoices",
                                  "args": {"identity": IDENTITY, "claims": ["at_most_once"]}}


def test_a_result_kept_without_its_inputs_is_not_re_checkable_never_valid(tmp_path: Path) -> None:
    record = ScenarioRecord("scenarios/test_x.py::test_kept", invoice_calls(10))
    record.add(Result("invoices", True))             # a verdict alone (record_verdict's way)
    judge(record, "invoices", record.history, {1: []}, identity=IDENTITY)
    del record.final_reads["invoices_2"]             # its reads lost (an older run)
    record.checks["made_up"] = Check("no_such_checker")
    record.add(Result("no_such_checker", True), "made_up")
    write_report(tmp_path, RunRecord("run-2", 7, "now", {}, [record]))

    again = recheck(tmp_path / "run-2")[record.name]

    assert verdicts(again) == {"invoices": "unknown", "invoices_2": "unknown", "made_up": "unknown"}
    assert again["invoices"].reason.startswith("not re-checkable: the scenario kept its result, not the check")
    assert again["invoices_2"].reason == "not re-checkable: the reads invoices judged were not stored"
    assert "no checker 'no_such_checker'" in again["made_up"].reason


def test_a_check_whose_arguments_are_not_json_is_refused_when_recorded() -> None:
    record = ScenarioRecord("s", invoice_calls(10))
    with pytest.raises(TypeError, match="must be JSON"):
        judge(record, "invoices", record.history, {}, identity=object())
    assert record.results == {}


def test_the_plugin_keeps_one_record_per_scenario_and_its_run_rechecks_offline(pytester: pytest.Pytester,
                                                                              tmp_path: Path) -> None:
    pytester.makepyfile(test_kept='''
        from chaos.history import Call, build

        JAN = "2026-01"


        def test_duplicate(history, record_check, scenario_record):
            scenario_record.schedule = [{"fault": "latency", "at_s": 0}]
            ops = build([Call("c0", "generate_invoice", {"user_id": 1, "period": JAN}, "ok", 0, 0.5,
                              status=200, result={"invoice_id": 10}),
                         Call("c1", "generate_invoice", {"user_id": 1, "period": JAN}, "ok", 0.1, 0.6,
                              status=200, result={"invoice_id": 11})])
            history.ops.extend(ops)
            final = {1: [{"invoice_id": 10, "user_id": 1, "period": JAN},
                         {"invoice_id": 11, "user_id": 1, "period": JAN}]}
            result = record_check("invoices", final, identity=["user_id", "period"], claims=["at_most_once"])
            assert result.valid is False


        def test_legacy(history, record_verdict, request):
            from chaos.checkers import Result

            request.node.chaos_schedule = [{"fault": "pause", "at_s": 1}]
            record_verdict(Result("invoices", True))
        ''')
    pytester.runpytest("-p", "no:cacheprovider", f"--chaos-report-dir={tmp_path}").assert_outcomes(passed=2)
    run = next(tmp_path.glob("*/summary.json")).parent
    entries = {e["name"].split("::")[1]: e for e in json.loads((run / "summary.json").read_text())["scenarios"]}
    assert json.loads((run / entries["test_duplicate"]["folder"] / "schedule.json").read_text())[0]["fault"] == \
        "latency"
    assert json.loads((run / entries["test_legacy"]["folder"] / "schedule.json").read_text())[0]["fault"] == "pause"
    again = {name.split("::")[1]: results for name, results in recheck(run).items()}
    assert verdicts(again["test_duplicate"]) == {"invoices": False}
    assert verdicts(again["test_legacy"]) == {"invoices": "unknown"}


def test_chaos_report_recheck_prints_each_result_beside_its_recheck_and_fails_when_one_differs(
        tmp_path: Path) -> None:
    from click.testing import CliRunner

    from chaos.cli import main

    write_report(tmp_path, RunRecord("run-3", 7, "now", {}, [judged_scenario("scenarios/t.py::test_storm", 10, 11)]))
    runner = CliRunner()
    same = runner.invoke(main, ["report", "run-3", "--recheck", "--report-dir", str(tmp_path)])
    assert same.exit_code == 0, same.output
    assert "same  scenarios/t.py::test_storm  invoices: stored False [duplicate], again False [duplicate]" in same.output
    assert "3 results judged again, 0 differ" in same.output

    results = tmp_path / "run-3" / "scenarios_t.py_test_storm" / "results.json"
    stored = json.loads(results.read_text())
    stored["invoices"]["valid"] = True       # a verdict the stored history does not bear out
    stored["invoices"]["anomalies"] = []
    results.write_text(json.dumps(stored))
    differs = runner.invoke(main, ["report", "run-3", "--recheck", "--report-dir", str(tmp_path)])
    assert differs.exit_code == 1, differs.output
    assert "DIFFERS  scenarios/t.py::test_storm  invoices: stored True, again False [duplicate]" in differs.output
