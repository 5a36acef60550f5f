"""What every checker returns: a verdict, anomalies with their witnesses, and stats.

Verdicts merge as in Jepsen: False beats "unknown" beats True. An anomaly is
data first (its kind and the operations that prove it), prose second, so a
report can point at the witnesses on the timeline.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

Valid = bool | Literal["unknown"]
# A witness is the index of a history operation, or a record that is not an operation
# (a lock event, a row of a final read) given as the dict itself.
Witness = int | dict[str, Any]


@dataclass(frozen=True)
class Anomaly:
    kind: str
    message: str
    ops: tuple[Witness, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "ops": list(self.ops)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Anomaly":
        return cls(data["kind"], data["message"], tuple(data.get("ops", ())))

    @property
    def op_indexes(self) -> tuple[int, ...]:
        return tuple(w for w in self.ops if isinstance(w, int))

    @property
    def records(self) -> tuple[dict[str, Any], ...]:
        return tuple(w for w in self.ops if isinstance(w, dict))


@dataclass
class Result:
    checker: str
    valid: Valid
    anomalies: list[Anomaly] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"checker": self.checker, "valid": self.valid,
                "anomalies": [a.to_json() for a in self.anomalies], "stats": self.stats}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Result":
        return cls(data["checker"], data["valid"], [Anomaly.from_json(a) for a in data.get("anomalies", ())],
                   data.get("stats", {}))

    def kinds(self) -> dict[str, int]:
        """Anomaly count per kind, most frequent first (Jepsen's bank checker groups errors so)."""
        return dict(Counter(a.kind for a in self.anomalies).most_common())


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
    """Several checkers' results as one: every anomaly, each checker's verdict and stats by name."""
    return Result("composed", merge_valid([r.valid for r in results]),
                  [a for r in results for a in r.anomalies],
                  {r.checker: {"valid": r.valid, **r.stats} for r in results})
