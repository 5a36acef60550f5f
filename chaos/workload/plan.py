"""A workload plan as pure data: rounds of calls, symbolic references to what the set-up makes, and
their JSON.

Apart from the generator (``chaos.workload.generator``) so that what a plan *is* (what a shrink
cuts, a reproduction prints and a replay plays) reads on one screen, without how one is chosen.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

ADMIN = "admin"

@dataclass(frozen=True)
class Ref:
    """Something the set-up makes, by kind and index: ``Ref("subscription", 3)``."""

    kind: str   # "user" | "subscription" | "event" | "slot"
    index: int


@dataclass(frozen=True)
class Call:
    """One call of a round. ``actor``: whose token (``ADMIN`` or a user index); ``lane``: which client slot
    (and so which instance) sends it; ``retry``: resend up to that many times after an ambiguous answer."""

    operation: str
    params: Mapping[str, Any]
    actor: str | int = ADMIN
    lane: int = 0
    kind: str = ""
    retry: int = 0


@dataclass(frozen=True)
class Round:
    """Calls released together. ``at_s``: when the round starts after the main phase began (the rounds
    are paced over ``seconds``, so a shrunk plan's rounds still meet the faults they met before);
    ``index``: its place in the generated plan, which also turns its lanes to other instances."""

    kind: str
    calls: tuple[Call, ...]
    final: bool = False   # a final round: after the faults healed and ``replay_after_s``
    at_s: float = 0.0
    index: int = 0


@dataclass(frozen=True)
class Aim:
    """Round ``index`` made a round of ``kind`` because a scheduled fault can hurt it there. ``lane``: for
    ``invoice``, the lane of the slow holder (the one that meets the faulted instance); ``invoice_again``:
    the (user, period) of the aimed invoice round ``of`` again, while its holder is stalled."""

    index: int
    kind: str            # "invoice" | "invoice_again" | "invoice_async"
    lane: int | None = None
    of: int | None = None   # invoice_again: the index of the aimed invoice round it revisits


@dataclass(frozen=True)
class WorkloadParams:
    """What a hunt varies and a shrink makes smaller. ``kinds`` empty: every kind the target offers."""

    seed: int = 0
    rounds: int = 48
    clients: int = 6
    kinds: tuple[str, ...] = ()
    weights: Mapping[str, float] = field(default_factory=dict)
    users: int = 8
    max_quantity: int = 4
    event_capacity: int = 8
    slot_capacity: int = 4
    slow_hold_s: float = 3.0
    async_hold_s: float = 1.0
    async_linger_s: float = 1.5
    replay_after_s: float = 6.0
    seconds: float = 24.0   # the main rounds are paced over this many seconds
    aims: tuple[Aim, ...] = ()

    @property
    def pace_s(self) -> float:
        return self.seconds / max(self.rounds, 1)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kinds"] = list(self.kinds)
        data["weights"] = dict(self.weights)
        data["aims"] = [asdict(a) for a in self.aims]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "WorkloadParams":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["kinds"] = tuple(known.get("kinds", ()))
        known["weights"] = dict(known.get("weights", {}))
        known["aims"] = tuple(Aim(**a) for a in known.get("aims", ()))
        return cls(**known)


@dataclass(frozen=True)
class Plan:
    params: WorkloadParams
    rounds: tuple[Round, ...]

    @property
    def operations(self) -> int:
        return sum(len(r.calls) for r in self.rounds)

    @property
    def kinds(self) -> list[str]:
        return sorted({r.kind for r in self.rounds})

    @property
    def lanes(self) -> int:
        return max((c.lane + 1 for r in self.rounds for c in r.calls), default=0)

    def refs(self) -> dict[str, int]:
        """How many of each set-up kind the plan refers to (so the set-up makes only those)."""
        top: dict[str, int] = {}
        for rnd in self.rounds:
            for call in rnd.calls:
                for ref in refs_of(call):
                    top[ref.kind] = max(top.get(ref.kind, 0), ref.index + 1)
        return top

    def with_rounds(self, rounds: Iterable[Round]) -> "Plan":
        return Plan(self.params, tuple(rounds))

    def to_json(self) -> dict[str, Any]:
        return {"params": self.params.to_json(), "rounds": [round_json(r) for r in self.rounds]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Plan":
        return cls(WorkloadParams.from_json(data["params"]), tuple(round_from(r) for r in data["rounds"]))


def refs_of(call: Call) -> list[Ref]:
    found = [v for v in call.params.values() if isinstance(v, Ref)]
    if isinstance(call.actor, int):
        found.append(Ref("user", call.actor))
    return found


def round_json(rnd: Round) -> dict[str, Any]:
    return {"kind": rnd.kind, "final": rnd.final, "at_s": rnd.at_s, "index": rnd.index, "calls": [
        {"operation": c.operation, "actor": c.actor, "lane": c.lane, "kind": c.kind, "retry": c.retry,
         "params": {k: ({"ref": v.kind, "index": v.index} if isinstance(v, Ref) else v) for k, v in c.params.items()}}
        for c in rnd.calls]}


def round_from(data: Mapping[str, Any]) -> Round:
    return Round(data["kind"], tuple(
        Call(c["operation"], {k: (Ref(v["ref"], int(v["index"])) if isinstance(v, dict) and "ref" in v else v)
                              for k, v in c["params"].items()},
             c["actor"], int(c["lane"]), c.get("kind", ""), int(c.get("retry", 0)))
        for c in data["calls"]), bool(data.get("final", False)), float(data.get("at_s", 0.0)),
        int(data.get("index", 0)))
