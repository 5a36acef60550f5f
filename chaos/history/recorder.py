"""A thread-safe history: many client threads invoke and complete, the nemesis records its windows.

Times come from one monotonic clock read under the recorder's lock, so index
order and time order agree and a fault's start sorts correctly against the
operations it overlaps.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from chaos.history.jsonl import write_jsonl
from chaos.history.op import COMPLETIONS, NEMESIS, Completion, Op

Handle = int  # the index of the invoke operation


class Recorder:
    """The history of one scenario. ``ops`` is the live list (append-only)."""

    def __init__(self, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._origin = clock()
        self.ops: list[Op] = []
        self._open: dict[Handle, Op] = {}

    def _append(self, op: Op) -> Op:
        with self._lock:
            op.time = self._clock() - self._origin
            op.index = len(self.ops)
            self.ops.append(op)
            return op

    def elapsed_ns(self) -> int:
        return self._clock() - self._origin

    def invoke(self, process: str, f: str, value: dict[str, Any] | None = None, *,
               instance: str | None = None) -> Handle:
        """Record the invocation *before* the call is sent; the handle completes it. ``instance``: where the
        call is sent, when the caller knows (the completion's is the one that answered)."""
        with self._lock:
            op = Op(process, "invoke", f, dict(value or {}), time=self._clock() - self._origin, index=len(self.ops),
                    instance=instance)
            self.ops.append(op)
            self._open[op.index] = op
        return op.index

    def complete(self, handle: Handle, type: Completion, *, value: dict[str, Any] | None = None,
                 status: int | None = None, instance: str | None = None, latency: float | None = None,
                 error: str | None = None) -> Op:
        """The completion carries the invoke's value updated with ``value`` (the response's fields).

        ``latency`` defaults to the time since the invoke as the recorder saw it, so that no
        completion is left out of the latency checker for want of a stopwatch.
        """
        if type not in COMPLETIONS:
            raise ValueError(f"an operation completes as ok, fail or info, not {type!r}")
        with self._lock:
            invoke = self._open.pop(handle, None)
            if invoke is None:
                raise ValueError(f"handle {handle!r} is not an open invocation (completed twice, or never invoked)")
            now = self._clock() - self._origin
            op = Op(invoke.process, type, invoke.f, {**invoke.value, **(value or {})}, time=now,
                    instance=instance, status=status,
                    latency=latency if latency is not None else (now - invoke.time) / 1e9,
                    error=error, index=len(self.ops))
            self.ops.append(op)
            return op

    def record(self, process: str, f: str, request: dict[str, Any] | None, type: Completion,
               **completion: Any) -> Op:
        """Invoke and complete at once, for steps whose outcome is known when they are written down
        (set-up calls). ``completion`` takes ``complete``'s keywords, ``value`` (the response) included."""
        return self.complete(self.invoke(process, f, request), type, **completion)

    def nemesis(self, event: str, fault: dict[str, Any]) -> Op:
        """A fault's ``start`` or ``stop``: an info operation of the nemesis process."""
        return self._append(Op(NEMESIS, "info", event, dict(fault)))

    def nemesis_start(self, fault: dict[str, Any]) -> Op:
        return self.nemesis("start", fault)

    def nemesis_stop(self, fault: dict[str, Any]) -> Op:
        return self.nemesis("stop", fault)

    @contextmanager
    def fault(self, fault: dict[str, Any]) -> Iterator[None]:
        """A fault window around a block: the stop is recorded even if the block raises."""
        self.nemesis_start(fault)
        try:
            yield
        finally:
            self.nemesis_stop(fault)

    def pending(self) -> list[Op]:
        """Invocations not completed yet (the pairing treats them as info)."""
        with self._lock:
            return sorted(self._open.values(), key=lambda op: op.index)

    def completions(self) -> list[Op]:
        """Client completions, in order (nemesis events left out)."""
        with self._lock:
            return [op for op in self.ops if op.type != "invoke" and op.process != NEMESIS]

    def snapshot(self) -> list[Op]:
        """A copy that later enrichment of this history will not change."""
        with self._lock:
            return [replace(op, value=dict(op.value)) for op in self.ops]

    def write_jsonl(self, path: Path) -> None:
        write_jsonl(self.snapshot(), path)

    def __len__(self) -> int:
        return len(self.ops)
