"""What a report is made from: a run and its scenarios, as recorded.

A scenario's record is the one house of everything it produced: its history,
its schedule, its final reads, the checks that judged it and their results.
The pytest plugin keeps one per scenario (in the item's stash) and the store
writes it whole, so a stored run can be judged again offline
(``chaos.report.recheck``) from the same inputs the scenario's checkers had.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

from chaos.checkers.result import Result
from chaos.history import Op


@dataclass(frozen=True)
class Check:
    """How one result was judged: the checker (a module of ``chaos.checkers``: "invoices", "contract")
    and the arguments it took besides the history and the final reads (``identity``, ``claims``,
    ``outage`` ...), as JSON. Without it a stored result is only a verdict, not something to re-judge."""

    checker: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"checker": self.checker, "args": dict(self.args)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Check":
        return cls(str(data["checker"]), dict(data.get("args") or {}))


@dataclass
class ScenarioRecord:
    """One scenario of a run. ``results`` may be given as a list (keyed by each checker's name)
    or as name -> Result; ``ops=`` is accepted for ``history=`` (the earlier name). ``checks`` and
    ``final_reads`` are keyed like ``results``: the check that made a result, and the final reads
    it judged (a checker that reads none has none)."""

    name: str
    history: list[Op] = field(default_factory=list)
    results: dict[str, Result] = field(default_factory=dict)
    seed: int | None = None
    schedule: list[dict[str, Any]] = field(default_factory=list)
    outcome: str = "passed"          # passed / failed / error / skipped
    duration_s: float = 0.0
    final_reads: dict[str, Any] = field(default_factory=dict)   # result name -> the reads its checker judged
    checks: dict[str, Check] = field(default_factory=dict)      # result name -> how it was judged
    note: str = ""                   # e.g. "not checked: target 'shop' lacks operation ..." for a skipped one
    error: dict[str, Any] | None = None  # a failed / errored scenario's exception: message, location (path:line
    #                                      of the raise), line (the scenario's own failing line), source, traceback
    ops: InitVar[list[Op] | None] = None

    def __post_init__(self, ops: list[Op] | None) -> None:
        if ops is not None:
            self.history = ops
        self.results = named_results(self.results)
        self.final_reads = dict(self.final_reads or {})

    def add(self, result: Result, name: str | None = None) -> str:
        """Keep ``result`` under ``name`` (default its checker's); a second result of one checker
        stays beside the first (``invoices_2``). Returns the name it is kept under."""
        key = unique_name(self.results, name or result.checker or f"checker_{len(self.results) + 1}")
        self.results[key] = result
        return key


def unique_name(taken: Mapping[str, Any], base: str) -> str:
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def named_results(results: Mapping[str, Result] | Iterable[Result] | None) -> dict[str, Result]:
    if results is None:
        return {}
    if isinstance(results, Mapping):
        return dict(results)
    named: dict[str, Result] = {}
    for result in results:  # two results of one checker (two final reads) both stay
        named[unique_name(named, result.checker)] = result
    return named


@dataclass
class RunRecord:
    run_id: str
    seed: int | None
    started: str
    settings: dict[str, Any]
    scenarios: list[ScenarioRecord]
