"""What a report is made from: a run and its scenarios, as recorded."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

from chaos.checkers.result import Result
from chaos.history import Op


@dataclass
class ScenarioRecord:
    """One scenario of a run. ``results`` may be given as a list (keyed by each checker's name)
    or as name -> Result; ``ops=`` is accepted for ``history=`` (the earlier name)."""

    name: str
    history: list[Op] = field(default_factory=list)
    results: dict[str, Result] = field(default_factory=dict)
    seed: int | None = None
    schedule: list[dict[str, Any]] = field(default_factory=list)
    outcome: str = "passed"          # passed / failed / error / skipped
    duration_s: float = 0.0
    final_reads: Any = None          # stored as final_reads.json, so a checker can be re-run offline
    note: str = ""                   # e.g. "not checked: target 'shop' lacks operation ..." for a skipped one
    error: dict[str, Any] | None = None  # a failed / errored scenario's exception: message, location (path:line
    #                                      of the raise), line (the scenario's own failing line), source, traceback
    ops: InitVar[list[Op] | None] = None

    def __post_init__(self, ops: list[Op] | None) -> None:
        if ops is not None:
            self.history = ops
        self.results = named_results(self.results)


def named_results(results: Mapping[str, Result] | Iterable[Result] | None) -> dict[str, Result]:
    if results is None:
        return {}
    if isinstance(results, Mapping):
        return dict(results)
    named: dict[str, Result] = {}
    for result in results:
        name, n = result.checker, 2
        while name in named:  # two results of one checker (two final reads) both stay
            name, n = f"{result.checker}_{n}", n + 1
        named[name] = result
    return named


@dataclass
class RunRecord:
    run_id: str
    seed: int | None
    started: str
    settings: dict[str, Any]
    scenarios: list[ScenarioRecord]
