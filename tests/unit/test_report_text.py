"""`chaos report` in a pipe or a CI log: one line per row, nothing wrapped or cut, words not reprs, and an
unknown run names its unknown scenarios and why."""
from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from chaos.checkers.result import Evidence, Result, judged
from chaos.history import Call, build
from chaos.report import ScenarioRecord, write_report
from chaos.report.store import load_summary
from chaos.report.text import print_run, print_runs

pytestmark = pytest.mark.unit
LONG = "scenarios/test_idempotency.py::test_concurrent_same_key_activations_across_every_instance[5-api-3-workers]"
RUN_ID = "20261130-091500-a-run-id-that-is-long-enough-to-be-cut-at-eighty-columns-by-a-table"
REASON = "not exercised (two or more calls with one key in flight together)"


def calls(n: int) -> list:
    return build([Call(f"c{i}", "generate_invoice", {"user_id": f"u-{i}", "period": "p"}, "ok", i, i + 1,
                       status=201, result={"invoice_id": f"i{i}"}) for i in range(n)])


def stored_run(tmp_path: Path) -> Path:
    """A run of two scenarios: one safe, one (with a long name) unknown for want of evidence."""
    idle = judged("idempotency", [], {"keys": 4},
                  {"same_key_overlap": Evidence("two or more calls with one key in flight together", 0)})
    safe = ScenarioRecord("scenarios/test_invoices.py::test_storm", calls(20), [Result("invoices", True)], seed=1)
    return write_report(tmp_path, RUN_ID, [safe, ScenarioRecord(LONG, calls(3), [idle], seed=1)], seed=1).parent


def pipe() -> tuple[Console, StringIO]:
    out = StringIO()
    return Console(file=out, width=80, force_terminal=False), out


def test_a_run_in_a_pipe_is_one_line_per_scenario_with_nothing_cut(tmp_path: Path) -> None:
    run = stored_run(tmp_path)
    console, out = pipe()
    print_run(console, run, load_summary(run))
    lines = out.getvalue().splitlines()
    assert lines[0] == f"run {RUN_ID}, seed 1"
    row = next(line for line in lines if line.startswith(LONG))
    assert f"unknown: idempotency: {REASON}" in row and "ok 3, fail 0, info 0" in row
    assert "idempotency.same_key_overlap×0" in row
    storm = next(line for line in lines if line.startswith("scenarios/test_invoices.py::test_storm"))
    assert "safe" in storm and "ok 20, fail 0, info 0" in storm
    assert "{" not in out.getvalue() and "…" not in out.getvalue()


def test_an_unknown_run_names_each_unknown_scenario_and_its_reason(tmp_path: Path) -> None:
    run = stored_run(tmp_path)
    console, out = pipe()
    print_run(console, run, load_summary(run))
    lines = out.getvalue().splitlines()
    verdict = lines.index("verdict: unknown: 1 of 2 checked scenarios unknown")
    assert lines[verdict + 1] == f"  {LONG}: unknown: idempotency: {REASON}"
    assert lines[verdict + 2] == f"report: {run / 'index.html'}"


def test_the_runs_in_a_pipe_keep_their_ids_whole(tmp_path: Path) -> None:
    run = stored_run(tmp_path)
    console, out = pipe()
    print_runs(console, [(run, load_summary(run))])
    header, row = out.getvalue().splitlines()
    assert header.split() == ["run", "seed", "scenarios", "verdict", "report"]
    assert row.startswith(RUN_ID) and row.endswith(str(run / "index.html"))
    assert "2 (1 unknown)" in row and "unknown: 1 of 2 checked scenarios unknown" in row


def test_a_terminal_gets_a_table_that_folds_long_cells_instead_of_cutting_them(tmp_path: Path) -> None:
    run = stored_run(tmp_path)
    out = StringIO()
    print_run(Console(file=out, width=80, force_terminal=True, color_system=None), run, load_summary(run))
    text = out.getvalue()
    assert "┃ scenario" in text and "…" not in text
    first_column = "".join(line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│"))
    assert first_column == f"scenarios/test_invoices.py::test_storm{LONG}"


def test_chaos_report_through_a_pipe(tmp_path: Path) -> None:
    from chaos import cli

    run = stored_run(tmp_path)
    detail = CliRunner().invoke(cli.main, ["report", RUN_ID[:15], "--report-dir", str(tmp_path)])
    assert detail.exit_code == 0, detail.output
    assert any(line.startswith(LONG) for line in detail.output.splitlines())
    listing = CliRunner().invoke(cli.main, ["report", "--report-dir", str(tmp_path)])
    assert f"{RUN_ID}  1" in listing.output and str(run / "index.html") in listing.output
