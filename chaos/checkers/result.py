"""What every checker returns: a verdict, anomalies with their witnesses, and stats.

Verdicts merge as in Jepsen: False beats "unknown" beats True.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Valid = bool | Literal["unknown"]


@dataclass(frozen=True)
class Anomaly:
    kind: str
    message: str
    ops: tuple[int, ...] = ()   # indexes of the operations (or lock events) that prove it

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Result:
    checker: str
    valid: Valid
    anomalies: list[Anomaly] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"checker": self.checker, "valid": self.valid,
                "anomalies": [a.to_json() for a in self.anomalies], "stats": self.stats}


def verdict(anomalies: list[Anomaly], *, unknown: bool = False) -> Valid:
    if anomalies:
        return False
    return "unknown" if unknown else True


def merge_valid(values: list[Valid]) -> Valid:
    if any(v is False for v in values):
        return False
    if any(v == "unknown" for v in values):
        return "unknown"
    return True


def check_all(results: list[Result]) -> Result:
    """Several checkers' results as one: every anomaly, each checker's stats by name."""
    return Result("composed", merge_valid([r.valid for r in results]),
                  [a for r in results for a in r.anomalies],
                  {r.checker: {"valid": r.valid, **r.stats} for r in results})
