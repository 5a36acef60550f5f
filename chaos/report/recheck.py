"""Judging a stored run again, offline: the same checkers on the stored history and final reads.

A run's verdicts are only as trustworthy as the checkers that gave them; when
a checker is fixed, or doubted, ``recheck`` judges every stored scenario
again from its files alone (no cluster, no Docker). A result whose inputs
were not stored (a scenario that kept the result but not its check, a
checker whose reads are missing) is ``unknown`` with the reason "not
re-checkable: ...", never valid: a verdict nobody could reproduce proves
nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chaos.checkers.result import Result
from chaos.report.checks import run, why_not_rerun
from chaos.report.store import StoredScenario, load_scenario, load_summary


def recheck(run_dir: Path | str) -> dict[str, dict[str, Result]]:
    """scenario name -> result name -> the result judged again (the names are the stored run's)."""
    run_dir = Path(run_dir)
    return {entry["name"]: recheck_scenario(load_scenario(run_dir, entry))
            for entry in load_summary(run_dir)["scenarios"]}


def recheck_scenario(scenario: StoredScenario) -> dict[str, Result]:
    judged: dict[str, Result] = {}
    for name, stored in scenario.results.items():
        check = scenario.checks.get(name)
        why = why_not_rerun(check, name, scenario.final_reads)
        if why is not None or check is None:
            judged[name] = Result(stored.checker, "unknown", reason=f"not re-checkable: {why}")
        else:
            judged[name] = run(check, scenario.ops, scenario.final_reads.get(name))
    return judged


@dataclass(frozen=True)
class Rechecked:
    """One stored result beside the same check judged again: ``same`` when verdict and anomaly kinds agree."""

    scenario: str
    name: str
    stored: Result
    again: Result

    @property
    def same(self) -> bool:
        return _verdict(self.stored) == _verdict(self.again)

    def line(self) -> str:
        mark = "same" if self.same else "DIFFERS"
        why = f" ({self.again.reason})" if self.again.valid == "unknown" and self.again.reason else ""
        return f"{mark}  {self.scenario}  {self.name}: stored {_show(self.stored)}, again {_show(self.again)}{why}"


def compare(run_dir: Path | str) -> list[Rechecked]:
    """Every stored result of the run beside its re-check, in the run's order."""
    run_dir = Path(run_dir)
    rows = []
    for entry in load_summary(run_dir)["scenarios"]:
        scenario = load_scenario(run_dir, entry)
        for name, again in recheck_scenario(scenario).items():
            rows.append(Rechecked(entry["name"], name, scenario.results[name], again))
    return rows


def _verdict(result: Result) -> tuple[object, list[str]]:
    return result.valid, sorted(a.kind for a in result.anomalies)


def _show(result: Result) -> str:
    valid, kinds = _verdict(result)
    return f"{valid}" + (f" [{', '.join(kinds)}]" if kinds else "")
