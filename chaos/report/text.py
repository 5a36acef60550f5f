"""``chaos report`` as text: the stored runs, or one run's scenarios and verdicts, from summary.json.

A terminal gets tables fitted to its width (a long cell folds, it is never
cut). A pipe or a CI log has no width worth fitting: there every row is one
line of aligned columns, nothing wrapped at 80 columns and no run id or
scenario name shortened, since those are what a reader greps for and
copies. Values read as words (``ok 20, fail 0, info 0``), never as Python
reprs. An unknown run names each unknown scenario with the reason its
checkers gave: "unknown" alone tells an on-call reader nothing to look at.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from chaos.report.verdicts import Verdict

Summary = Mapping[str, Any]  # summary.json, as chaos.report.store.load_summary fills it in
NONE = "–"


def print_runs(console: Console, runs: Sequence[tuple[Path, Summary]]) -> None:
    """One row per stored run: id, seed, how many scenarios, verdict, report page."""
    rows = [[run_dir.name, _word(summary.get("seed")), scenario_counts(summary["scenarios"]), verdict_label(summary),
             str(run_dir / "index.html")] for run_dir, summary in runs]
    print_table(console, ["run", "seed", "scenarios", "verdict", "report"], rows)


def print_run(console: Console, run_dir: Path, summary: Summary) -> None:
    """One run: a row per scenario, the run's verdict (each unknown scenario named, with its reason), the page."""
    rows = []
    for scenario in summary["scenarios"]:
        note = scenario.get("note") or ""
        outcome = scenario["outcome"] + (f" ({note})" if note and not note.startswith("not checked: ") else "")
        evidence = ", ".join(f"{e['claim']}×{e['count']}" for e in scenario.get("evidence") or () if e.get("claimed"))
        rows.append([scenario["name"], outcome, verdict_label(scenario), evidence or NONE,  # a failure's: its exception
                     operations(scenario.get("operations")), counts(scenario.get("anomalies"), "×")])
    print_table(console, ["scenario", "outcome", "verdict", "evidence", "operations", "anomalies"], rows,
                title=f"run {run_dir.name}, seed {_word(summary.get('seed'))}")
    _line(console, f"verdict: {verdict_label(summary)}")
    if summary.get("verdict") == "unknown":
        for scenario in summary["scenarios"]:
            if scenario.get("verdict") == "unknown":
                _line(console, f"  {scenario['name']}: {verdict_label(scenario)}")
    _line(console, f"report: {run_dir / 'index.html'}")


def print_table(console: Console, columns: Sequence[str], rows: Sequence[Sequence[str]], title: str = "") -> None:
    """A table fitted to a terminal; anywhere else one line per row, columns aligned, no cell cut or wrapped."""
    if console.is_terminal:
        table = Table(title=title or None, title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*map(Text, row))  # names and reasons are text, never rich markup
        console.print(table)
        return
    lines = [list(columns), *[[cell.replace("\n", " ") for cell in row] for row in rows]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    if title:
        _line(console, title)
    for line in lines:
        _line(console, "  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())


def verdict_label(entry: Summary) -> str:
    """A run's or a scenario's verdict as summary.json holds it (chaos.report.verdicts decided it):
    safe, UNSAFE, failed, error, unknown: <reason>, not checked: <reason>."""
    return Verdict(str(entry.get("verdict") or "not checked"), str(entry.get("reason") or "")).label


def scenario_counts(scenarios: Sequence[Summary]) -> str:
    """``18 (4 failed, 14 not checked)``: how many scenarios, and those that are not simply judged."""
    by_verdict: dict[str, int] = {}
    for scenario in scenarios:
        by_verdict[str(scenario.get("verdict"))] = by_verdict.get(str(scenario.get("verdict")), 0) + 1
    notable = [f"{n} {status}" for status, n in by_verdict.items() if status != "valid"]
    return f"{len(scenarios)}" + (f" ({', '.join(notable)})" if notable else "")


def operations(value: Any) -> str:
    """A scenario's calls by outcome, ``ok 20, fail 0, info 0`` (summary.json keeps them as a mapping)."""
    return counts(value, " ") if isinstance(value, Mapping) else _word(value)


def counts(value: Mapping[str, Any] | None, between: str) -> str:
    """``duplicate×2, lost×1`` (``between`` "×"), or ``ok 20, fail 0`` (``between`` " ")."""
    return ", ".join(f"{key}{between}{n}" for key, n in (value or {}).items())


def _word(value: Any) -> str:
    return NONE if value is None or value == "" else str(value)


def _line(console: Console, line: str) -> None:
    console.print(Text(line), soft_wrap=True)  # soft wrap: neither wrapped nor cropped to the console's width
