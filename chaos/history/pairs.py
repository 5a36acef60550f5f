"""Pairing each invoke with its completion, and each fault start with its stop.

Checkers reason about calls, not lines: what was asked (the invoke's value)
and what came of it (the completion's type, status and value). An invoke
never completed is as uncertain as a timeout, so it pairs with a synthetic
``info`` completion rather than being dropped.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, NamedTuple

from chaos.history.op import NEMESIS, Op

NEVER_COMPLETED = "never_completed"


class Pair(NamedTuple):
    invoke: Op
    completion: Op


class FaultWindow(NamedTuple):
    start: int            # ns since the history began
    stop: int | None      # None: never stopped within the history
    fault: dict[str, Any]

    @property
    def label(self) -> str:
        """How the report names a window: the fault and its target, e.g. ``partition api_2->redis``."""
        return " ".join(str(self.fault[k]) for k in ("fault", "target") if self.fault.get(k)) or "fault"

    def end(self, history_end: int) -> int:
        return self.stop if self.stop is not None else max(history_end, self.start)

    def contains(self, t: int) -> bool:
        return self.start <= t and (self.stop is None or t <= self.stop)


def pairs(ops: Iterable[Op]) -> list[Pair]:
    """(invoke, completion) per client call, in invocation order.

    A process runs one call at a time (Jepsen's rule); should a caller break it,
    a completion is matched with the oldest open invoke of the same ``f``. A
    completion with no invoke at all (a hand-written history) pairs with itself.
    """
    waiting: dict[str, list[Op]] = {}
    found: list[Pair] = []
    for op in ops:
        if op.process == NEMESIS:
            continue
        if op.type == "invoke":
            waiting.setdefault(op.process, []).append(op)
            continue
        pending = waiting.get(op.process)
        invoke = _take(pending, op) if pending else replace(op, type="invoke")
        found.append(Pair(invoke, op))
    for pending in waiting.values():
        found.extend(Pair(invoke, replace(invoke, type="info", error=NEVER_COMPLETED, value=dict(invoke.value)))
                     for invoke in pending)
    found.sort(key=lambda pair: (pair.invoke.time, pair.invoke.index))
    return found


def _take(pending: list[Op], completion: Op) -> Op:
    if pending[0].f == completion.f:
        return pending.pop(0)
    for i, invoke in enumerate(pending):
        if invoke.f == completion.f:
            return pending.pop(i)
    return pending.pop(0)


def nemesis_windows(ops: Iterable[Op]) -> list[FaultWindow]:
    """Every fault the nemesis started, with its stop (None while still open), by start time.

    A stop closes the open start with the same description, else the oldest
    open start of the same fault and target, else the oldest open start.
    """
    open_faults: list[Op] = []
    windows: list[FaultWindow] = []
    for op in ops:
        if op.process != NEMESIS:
            continue
        if op.f == "start":
            open_faults.append(op)
        elif op.f == "stop" and open_faults:
            match = (next((s for s in open_faults if s.value == op.value), None)
                     or next((s for s in open_faults if _same_fault(s.value, op.value)), None)
                     or open_faults[0])
            open_faults.remove(match)
            windows.append(FaultWindow(match.time, op.time, match.value))
    windows.extend(FaultWindow(s.time, None, s.value) for s in open_faults)
    return sorted(windows, key=lambda w: (w.start, w.label))


def _same_fault(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.get("fault") == b.get("fault") and a.get("target") == b.get("target")


def client_ops(ops: Iterable[Op]) -> list[Op]:
    return [op for op in ops if op.process != NEMESIS]


def end_time(ops: Iterable[Op]) -> int:
    """The last moment the history saw (ns)."""
    return max((op.time for op in ops), default=0)
