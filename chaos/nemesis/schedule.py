"""Seeded fault schedules: the same seed and candidates give the same schedule.

A schedule is printed at the start of a run and stored in the report as
data (offset, duration, and the fault's description), so a failing run can
be replayed with ``--chaos-seed`` or rebuilt from the stored JSON.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chaos.nemesis.fault import Fault
from chaos.nemesis.link_faults import Partition, Toxic
from chaos.nemesis.data_faults import Exhaust, Forget
from chaos.nemesis.process_faults import Disconnect, Kill, Pause, Restart, Scale


@dataclass(frozen=True)
class Step:
    at_s: float
    duration_s: float
    fault: Fault

    def describe(self) -> dict[str, Any]:
        return {"at_s": round(self.at_s, 3), "duration_s": round(self.duration_s, 3), **self.fault.describe()}


Schedule = list[Step]

# kind -> how to rebuild the fault from its stored description: an explicit
# registry, not one filled by import side effects.
_TOXIC_KINDS = ("latency", "bandwidth", "reset_peer", "timeout", "slow_close", "slicer", "limit_data")
REBUILD: dict[str, Callable[[dict[str, Any]], Fault]] = {
    "partition": lambda d: Partition(d["target"]),
    "pause": lambda d: Pause(d["target"]),
    "kill": lambda d: Kill(d["target"]),
    "restart": lambda d: Restart(d["target"]),
    "forget": lambda d: Forget(d["target"]),
    "exhaust": lambda d: Exhaust(d["target"]),
    "disconnect": lambda d: Disconnect(d["target"]),
    "scale": lambda d: Scale(d["target"], int(d["count"])),
    **{kind: (lambda d, kind=kind: Toxic(d["target"], kind, {
        k: int(v) for k, v in d.items() if k not in {"fault", "target", "stream", "at_s", "duration_s"}},
        stream=d.get("stream", "downstream"))) for kind in _TOXIC_KINDS},
}


def random_schedule(seed: int, candidates: Sequence[Fault], *, total_s: float, faults: int,
                    min_s: float = 1.0, max_s: float = 5.0) -> Schedule:
    """``faults`` faults drawn from ``candidates``, one at a time, spread over ``total_s`` seconds."""
    rng = random.Random(seed)
    slot = total_s / max(faults, 1)
    steps = []
    for i in range(faults):
        duration = rng.uniform(min_s, min(max_s, slot * 0.8))
        at = i * slot + rng.uniform(0, max(slot - duration, 0))
        steps.append(Step(at, duration, rng.choice(list(candidates))))
    return steps


def to_json(schedule: Schedule) -> list[dict[str, Any]]:
    return [step.describe() for step in schedule]


def from_json(data: list[dict[str, Any]]) -> Schedule:
    steps = []
    for item in data:
        if item.get("fault") not in REBUILD:
            raise ValueError(f"schedule: unknown fault {item.get('fault')!r}; known: {', '.join(REBUILD)}")
        steps.append(Step(float(item["at_s"]), float(item["duration_s"]), REBUILD[item["fault"]](item)))
    return steps
