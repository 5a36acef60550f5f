"""Pairing each invoke with its completion; an invoke never completed counts as info."""
from __future__ import annotations

from dataclasses import replace

from chaos.history.op import NEMESIS, Op


def pairs(ops: list[Op]) -> list[tuple[Op, Op]]:
    """(invoke, completion) per client operation, in invocation order."""
    waiting: dict[str, list[Op]] = {}
    result: dict[int, tuple[Op, Op]] = {}
    for op in ops:
        if op.process == NEMESIS:
            continue
        if op.type == "invoke":
            waiting.setdefault(op.process, []).append(op)
        elif waiting.get(op.process):
            invoke = _take(waiting[op.process], op)
            result[invoke.index] = (invoke, op)
    for pending in waiting.values():
        for invoke in pending:
            result[invoke.index] = (invoke, replace(invoke, type="info", error="never_completed"))
    return [result[i] for i in sorted(result)]


def _take(pending: list[Op], completion: Op) -> Op:
    """A process may have several calls in flight (threads share a name rarely); match by f, oldest first."""
    for i, invoke in enumerate(pending):
        if invoke.f == completion.f:
            return pending.pop(i)
    return pending.pop(0)


def nemesis_windows(ops: list[Op]) -> list[tuple[int, int | None, dict]]:
    """(start ns, stop ns or None, fault) for every fault the nemesis started."""
    open_faults: list[Op] = []
    windows = []
    for op in ops:
        if op.process != NEMESIS:
            continue
        if op.f == "start":
            open_faults.append(op)
        elif op.f == "stop":
            match = next((s for s in open_faults if s.value == op.value), open_faults[0] if open_faults else None)
            if match is not None:
                open_faults.remove(match)
                windows.append((match.time, op.time, match.value))
    windows.extend((s.time, None, s.value) for s in open_faults)
    return sorted(windows, key=lambda w: w[0])
