"""A found anomaly, kept: the seed, the shrunk schedule and plan as JSON, and a pytest file that replays them.

The JSON is the whole truth of the reproduction (the plan is stored
explicitly, not only its parameters, so a later change of the generator does
not change what replays). The generated test replays it on the session's
cluster up to ``attempts`` times: it fails as soon as one attempt shows the
anomaly (the bug is there) and passes when none does (a fixed build). Keep it
in a test suite as it is; ``chaos hunt --replay FILE`` runs it.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.history import Recorder
from chaos.hunt.trial import Stage, Trial, run_trial
from chaos.nemesis.schedule import Schedule, from_json, to_json
from chaos.workload.generator import Plan

VERSION = 1


@dataclass
class Reproduction:
    anomaly: str                       # "checker/kind" the test must not see
    seed: int
    plan: Plan
    schedule: Schedule
    target: str = "billing"
    unsafe: str = ""
    api: int = 3
    workers: int = 2
    attempts: int = 3
    found: dict[str, Any] = field(default_factory=dict)   # when and how it was found, the shrink's steps

    def to_json(self) -> dict[str, Any]:
        return {"version": VERSION, "anomaly": self.anomaly, "seed": self.seed, "target": self.target,
                "unsafe": self.unsafe, "api": self.api, "workers": self.workers, "attempts": self.attempts,
                "schedule": to_json(self.schedule), "workload": self.plan.to_json(), "found": self.found}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Reproduction":
        if data.get("version") != VERSION:
            raise ValueError(f"a reproduction of version {data.get('version')!r}; this suite reads {VERSION}")
        return cls(str(data["anomaly"]), int(data["seed"]), Plan.from_json(data["workload"]),
                   from_json(list(data["schedule"])), str(data.get("target", "billing")),
                   str(data.get("unsafe", "")), int(data.get("api", 3)), int(data.get("workers", 2)),
                   int(data.get("attempts", 3)), dict(data.get("found", {})))

    @classmethod
    def load(cls, path: Path) -> "Reproduction":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a reproduction ({exc})") from None
        try:
            return cls.from_json(data)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:   # AttributeError: not an object
            raise ValueError(f"{path}: not a reproduction ({exc})") from None

    def write(self, folder: Path, name: str) -> tuple[Path, Path]:
        """``<name>.json`` and ``test_<name>.py`` in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        data = folder / f"{name}.json"
        data.write_text(json.dumps(self.to_json(), indent=2, default=str) + "\n", encoding="utf-8")
        test = folder / f"test_{name}.py"
        test.write_text(TEST.format(anomaly=self.anomaly, seed=self.seed, json=data.name,
                                    operations=self.plan.operations, faults=len(self.schedule),
                                    unsafe=self.unsafe or "none", function=_function(self.anomaly)),
                        encoding="utf-8")
        return data, test


def replay(reproduction: Reproduction, stage: Stage, recorder: Recorder | None = None) -> list[Trial]:
    """Up to ``attempts`` tries; stops at the first that shows the anomaly. The tries, in order."""
    trials = []
    for _ in range(max(1, reproduction.attempts)):
        trial = run_trial(stage, reproduction.plan, reproduction.schedule,
                          recorder=recorder if recorder is not None and not trials else None)
        trials.append(trial)
        if reproduction.anomaly in trial.found:
            break
    return trials


def _function(anomaly: str) -> str:
    return "test_no_" + "".join(ch if ch.isalnum() else "_" for ch in anomaly.replace("/", "_"))


TEST = '''"""Reproduction of {anomaly}, found by `chaos hunt` (seed {seed}, variant {unsafe}), shrunk to
{operations} operations and {faults} faults. It fails while the bug is there and passes on a fixed build.

Run it:  chaos hunt --replay {json}     (or: pytest this file, with the options in the JSON)
"""
from pathlib import Path

import pytest

from chaos.hunt.reproduction import Reproduction, replay

REPRODUCTION = Reproduction.load(Path(__file__).with_name("{json}"))
pytestmark = pytest.mark.chaos


def {function}(hunt_stage, history, record_verdict) -> None:
    trials = replay(REPRODUCTION, hunt_stage, recorder=history)
    for result in trials[-1].results:
        record_verdict(result)
    shown = [t for t in trials if REPRODUCTION.anomaly in t.found]
    assert not shown, (f"{{REPRODUCTION.anomaly}} in attempt {{len(trials)}} of {{REPRODUCTION.attempts}}: "
                       f"{{[a for r in shown[0].results for a in r.anomalies][:3]}}")
'''
