"""A thread-safe history: many client threads invoke and complete, the nemesis records its windows."""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

from chaos.history.op import NEMESIS, Op, OpType


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._origin = time.monotonic_ns()
        self.ops: list[Op] = []
        self._open: dict[int, Op] = {}

    def _append(self, op: Op) -> Op:
        with self._lock:
            op.time = time.monotonic_ns() - self._origin
            op.index = len(self.ops)
            self.ops.append(op)
            return op

    def invoke(self, process: str, f: str, value: dict[str, Any] | None = None) -> int:
        """Record the invocation; the returned handle completes it."""
        op = self._append(Op(process, "invoke", f, dict(value or {})))
        with self._lock:
            self._open[op.index] = op
        return op.index

    def complete(self, handle: int, type: OpType, *, value: dict[str, Any] | None = None,
                 status: int | None = None, instance: str | None = None, latency: float | None = None,
                 error: str | None = None) -> Op:
        with self._lock:
            invoke = self._open.pop(handle)
        if type not in ("ok", "fail", "info"):
            raise ValueError(f"an operation completes as ok, fail or info, not {type!r}")
        return self._append(Op(invoke.process, type, invoke.f, dict(invoke.value if value is None else value),
                               instance=instance, status=status, latency=latency, error=error))

    def nemesis(self, event: str, fault: dict[str, Any]) -> Op:
        """A fault's start or stop: an info operation of the nemesis process."""
        return self._append(Op(NEMESIS, "info", event, dict(fault)))

    def completions(self) -> list[Op]:
        """Client completions, in order (nemesis events left out)."""
        with self._lock:
            return [op for op in self.ops if op.type != "invoke" and op.process != NEMESIS]

    def snapshot(self) -> list[Op]:
        with self._lock:
            return [replace(op) for op in self.ops]
