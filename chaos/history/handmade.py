"""Histories written by hand: calls with their own times, recorded as a real run would record them.

A checker's tests need histories with a precise shape (two oks for one key,
a replay inside a fault window). Writing the ``Op`` lines by hand gets the
invoke/complete interleaving, the indexes and the nemesis events wrong; this
feeds the calls, in time order, through a ``Recorder`` on a simulated clock.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chaos.history.op import Completion, Op
from chaos.history.recorder import Recorder


@dataclass(frozen=True)
class Call:
    """One client call: ``start``/``end`` in seconds since the history began; ``result`` is
    merged into the completion's value (the response fields, e.g. {"invoice_id": 7})."""

    process: str
    f: str
    value: Mapping[str, Any]
    type: Completion
    start: float
    end: float
    status: int | None = None
    error: str | None = None
    instance: str | None = None
    result: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    start: float
    stop: float | None
    fault: Mapping[str, Any]


class _Clock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def build(calls: Iterable[Call], faults: Iterable[Fault] = ()) -> list[Op]:
    """The history of ``calls`` and ``faults``. A process must not have two calls in flight at once
    (Jepsen's rule), else the pairing cannot tell its completions apart."""
    events: list[tuple[int, int, int, Any]] = []  # (time ns, order at equal times, sequence, event)
    for n, call in enumerate(calls):
        if call.end < call.start:
            raise ValueError(f"call {n} ends before it starts: {call}")
        events.append((_ns(call.start), 1, n, ("invoke", call)))
        events.append((_ns(call.end), 2, n, ("complete", call)))
    for n, fault in enumerate(faults):
        events.append((_ns(fault.start), 0, n, ("start", fault)))
        if fault.stop is not None:
            events.append((_ns(fault.stop), 3, n, ("stop", fault)))
    clock = _Clock()
    recorder = Recorder(clock=clock)
    handles: dict[int, int] = {}
    for t, _, n, (kind, item) in sorted(events, key=lambda e: e[:3]):
        clock.now = t
        if kind == "invoke":
            handles[n] = recorder.invoke(item.process, item.f, dict(item.value))
        elif kind == "complete":
            recorder.complete(handles.pop(n), item.type, value=dict(item.result), status=item.status,
                              error=item.error, instance=item.instance, latency=item.end - item.start)
        else:
            recorder.nemesis(kind, dict(item.fault))
    return recorder.ops


def sequential(calls: Iterable[tuple[str, Mapping[str, Any], Completion, Mapping[str, Any]]], *,
               process: str = "client", duration: float = 0.01, gap: float = 0.001) -> list[Op]:
    """The shortest way to write a history: (f, value, type, completion fields) per call, one after
    the other in one process. Completion fields are those of ``Call`` (status, error, instance, result)."""
    made, t = [], 0.0
    for f, value, kind, fields in calls:
        made.append(Call(process, f, value, kind, t, t + duration, **fields))
        t += duration + gap
    return build(made)


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)
