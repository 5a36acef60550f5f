"""What a report is made from: a run and its scenarios, as recorded."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chaos.checkers.result import Result
from chaos.history import Op


@dataclass
class ScenarioRecord:
    name: str
    ops: list[Op]
    results: dict[str, Result]
    seed: int
    schedule: list[dict[str, Any]] = field(default_factory=list)
    outcome: str = "passed"          # passed / failed / error / skipped
    duration_s: float = 0.0


@dataclass
class RunRecord:
    run_id: str
    seed: int
    started: str
    settings: dict[str, Any]
    scenarios: list[ScenarioRecord]
