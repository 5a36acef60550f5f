"""The operation record: one line of the history, in Jepsen's vocabulary.

A client operation appears twice, as an ``invoke`` and as exactly one
completion (``ok``: it happened, ``fail``: it certainly did not, ``info``: no
one knows). Nemesis events are ``info`` operations of process ``nemesis`` so
that the report can shade fault windows from the history alone.

``Op`` is deliberately mutable: scenarios enrich completions after the fact
(the worker that ran an async task, the user a subscription belongs to), and
the checkers read the enriched value.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

OpType = Literal["invoke", "ok", "fail", "info"]
Completion = Literal["ok", "fail", "info"]
OP_TYPES: frozenset[str] = frozenset(get_args(OpType))
COMPLETIONS: frozenset[str] = frozenset(get_args(Completion))
NEMESIS = "nemesis"
FIELDS = ("process", "type", "f", "value", "time", "instance", "status", "latency", "error", "index")


@dataclass(slots=True)
class Op:
    """One event of the history. ``value`` must be JSON-able with string keys, so that the
    JSONL file reads back equal to what was recorded."""

    process: str
    type: OpType
    f: str
    value: dict[str, Any] = field(default_factory=dict)
    time: int = 0                   # monotonic ns since the history began
    instance: str | None = None     # X-Instance of the response
    status: int | None = None       # HTTP status
    latency: float | None = None    # seconds from invoke to completion
    error: str | None = None        # the response's error code, or the exception's class name
    index: int = -1                 # position in the history, given by the recorder

    @property
    def is_nemesis(self) -> bool:
        return self.process == NEMESIS

    @property
    def is_invoke(self) -> bool:
        return self.type == "invoke"

    def to_json(self) -> dict[str, Any]:
        # hand-written rather than dataclasses.asdict: asdict deep-copies every value,
        # which dominates the cost of writing a 10 000-op history
        return {name: getattr(self, name) for name in FIELDS}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Op":
        """Unknown keys are ignored, so a history written by a newer version still reads."""
        if data.get("type") not in OP_TYPES:
            raise ValueError(f"operation type must be one of {sorted(OP_TYPES)}, not {data.get('type')!r}")
        return cls(**{name: data[name] for name in FIELDS if name in data})
