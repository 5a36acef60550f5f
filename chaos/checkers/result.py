"""What every checker returns: a verdict, anomalies with their witnesses, evidence, and stats.

Verdicts merge as in Jepsen: False beats "unknown" beats True. An anomaly is
data first (its kind and the operations that prove it), prose second, so a
report can point at the witnesses on the timeline.

A checker is only as good as the run it judged: "no duplicate invoice" means
nothing if no two calls ever competed for one invoice. So every result also
carries its **evidence**: per claim, the dangerous situation the claim guards
against and how many times the run reached it (Antithesis calls these
"sometimes" properties). A claimed situation that never occurred makes the
verdict ``unknown`` with the reason "not exercised (<situation>)"; a field the
checker needs and the profile does not extract makes it ``unknown`` with the
reason "not checked: ...". Never ``True`` on no evidence.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
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


@dataclass(frozen=True)
class Evidence:
    """How often the situation a claim guards against occurred in the run.

    ``claimed`` is False for a claim the scenario did not make (its count is
    still shown, but its absence does not make the verdict unknown)."""

    situation: str          # e.g. "two or more calls for one invoice identity in flight together"
    count: int
    claimed: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"situation": self.situation, "count": self.count, "claimed": self.claimed}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Evidence":
        return cls(str(data["situation"]), int(data["count"]), bool(data.get("claimed", True)))


@dataclass
class Result:
    checker: str
    valid: Valid
    anomalies: list[Anomaly] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Evidence] = field(default_factory=dict)   # claim name -> its evidence
    reason: str = ""        # why the verdict is unknown: "not exercised (...)" / "not checked: ..."

    def to_json(self) -> dict[str, Any]:
        return {"checker": self.checker, "valid": self.valid,
                "anomalies": [a.to_json() for a in self.anomalies], "stats": self.stats,
                "evidence": {name: e.to_json() for name, e in self.evidence.items()}, "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Result":
        return cls(data["checker"], data["valid"], [Anomaly.from_json(a) for a in data.get("anomalies", ())],
                   data.get("stats", {}), {name: Evidence.from_json(e) for name, e in
                                           (data.get("evidence") or {}).items()}, data.get("reason", ""))

    def kinds(self) -> dict[str, int]:
        """Anomaly count per kind, most frequent first (Jepsen's bank checker groups errors so)."""
        return dict(Counter(a.kind for a in self.anomalies).most_common())

    def exercised(self, claim: str) -> bool:
        found = self.evidence.get(claim)
        return found is not None and found.count > 0


def verdict(anomalies: list[Anomaly], *, unknown: bool = False) -> Valid:
    """The verdict of a checker without claims (anomalies, or a plain unknown)."""
    if anomalies:
        return False
    return "unknown" if unknown else True


def judged(checker: str, anomalies: list[Anomaly], stats: dict[str, Any], evidence: Mapping[str, Evidence],
           claims: Iterable[str] | None = None, missing: Iterable[str] = ()) -> Result:
    """A checker's result from its anomalies and evidence.

    ``claims``: the claims the scenario makes (None: every claim the checker
    has evidence for); the others are shown unclaimed. ``missing``: what the
    checker could not read ("list_invoices does not extract period"), which
    makes the claims that need it unjudgeable. Anomalies are False whatever
    the evidence (a duplicate is a duplicate); else any missing field or
    claimed situation with no evidence is unknown, with the reason."""
    chosen = set(evidence) if claims is None else set(claims)
    unknown_claims = sorted(chosen - set(evidence))
    if unknown_claims:
        raise ValueError(f"{checker} has no claim {', '.join(unknown_claims)}; its claims: "
                         f"{', '.join(sorted(evidence)) or 'none'}")
    marked = {name: Evidence(e.situation, e.count, name in chosen) for name, e in evidence.items()}
    missing = list(dict.fromkeys(missing))
    if anomalies:
        return Result(checker, False, anomalies, stats, marked)
    if missing:
        return Result(checker, "unknown", [], stats, marked, "not checked: " + "; ".join(missing))
    idle = [e.situation for name, e in marked.items() if e.claimed and e.count == 0]
    if idle:
        return Result(checker, "unknown", [], stats, marked, "not exercised (" + "; ".join(idle) + ")")
    if not any(e.claimed for e in marked.values()) and marked:
        return Result(checker, "unknown", [], stats, marked, "no claim was made")
    return Result(checker, True, [], stats, marked)


def merge_valid(values: list[Valid]) -> Valid:
    """False > unknown > True; nothing at all is unknown (nothing was checked), never valid."""
    if any(v is False for v in values):
        return False
    if not values or any(v == "unknown" for v in values):
        return "unknown"
    return True
