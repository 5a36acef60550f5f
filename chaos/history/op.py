"""The operation record: one line of the history (Jepsen's vocabulary)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

OpType = Literal["invoke", "ok", "fail", "info"]
NEMESIS = "nemesis"


@dataclass
class Op:
    process: str
    type: OpType
    f: str
    value: dict[str, Any] = field(default_factory=dict)
    time: int = 0                   # monotonic ns since the history began
    instance: str | None = None     # X-Instance of the response
    status: int | None = None       # HTTP status
    latency: float | None = None    # seconds
    error: str | None = None        # the response's error code, or the exception's name
    index: int = -1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Op":
        return cls(**data)
