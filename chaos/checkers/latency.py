"""Latency percentiles and throughput per operation kind, before, during and after faults.

Phases come from the nemesis's start/stop operations: ``before`` the first
fault, ``during`` any fault window, ``between`` windows, ``after`` the last
stop; ``all`` is the whole run. Percentiles are over ok operations (a
timeout's latency is the client's patience, not the service's speed);
throughput is ok operations per second of the phase's wall time.

``bounds`` maps an f (or ``f@phase``, e.g. ``read@after``) to limits:
``p50``/``p95``/``p99``/``max`` in seconds, or ``throughput`` as a minimum in
ops/s. A limit broken is ``slow``; no data to judge is ``unknown``.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from chaos.checkers.result import Anomaly, Result, verdict
from chaos.history import FaultWindow, Op, client_ops, nemesis_windows, pairs

PERCENTILES = (50, 95, 99)
ALL = "all"
WITNESSES = 5


def percentile(values: Sequence[float], q: float, *, ordered: bool = False) -> float:
    """Nearest-rank percentile (no interpolation: every value reported was measured)."""
    data = values if ordered else sorted(values)
    rank = min(len(data), max(1, math.ceil(q / 100 * len(data))))
    return data[rank - 1]


def phase_of(t: int, windows: Sequence[FaultWindow]) -> str:
    if not windows:
        return ALL
    if t < windows[0].start:
        return "before"
    if any(w.contains(t) for w in windows):
        return "during"
    if any(w.stop is None for w in windows):
        return "between"
    return "after" if t > max(w.stop or 0 for w in windows) else "between"


def phase_seconds(windows: Sequence[FaultWindow], start: int, end: int) -> dict[str, float]:
    """Wall seconds of each phase within [start, end] (ns)."""
    if not windows or end <= start:
        return {ALL: max(end - start, 0) / 1e9}
    merged: list[list[int]] = []
    for w in sorted(windows, key=lambda w: w.start):
        lo, hi = max(w.start, start), min(w.end(end), end)
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        elif hi > lo:
            merged.append([lo, hi])
    during = sum(hi - lo for lo, hi in merged)
    first = min(w.start for w in windows)
    last = max(w.end(end) for w in windows)
    before = max(0, min(first, end) - start)
    after = max(0, end - max(last, start))
    between = max(0, (end - start) - before - after - during)
    return {ALL: (end - start) / 1e9, "before": before / 1e9, "during": during / 1e9, "between": between / 1e9,
            "after": after / 1e9}


def check(history: Sequence[Op], bounds: Mapping[str, Mapping[str, float]] | None = None) -> Result:
    windows = nemesis_windows(history)
    clients = client_ops(history)
    start, end = (min(op.time for op in clients), max(op.time for op in clients)) if clients else (0, 0)
    seconds = phase_seconds(windows, start, end)
    samples: dict[tuple[str, str], list[tuple[float, int]]] = defaultdict(list)
    outcomes: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"ok": 0, "fail": 0, "info": 0})
    for pair in pairs(history):
        done = pair.completion
        phase = phase_of(pair.invoke.time, windows)
        keys = ((pair.invoke.f, ALL),) if phase == ALL else ((pair.invoke.f, ALL), (pair.invoke.f, phase))
        for key in keys:
            outcomes[key][done.type] += 1
            if done.type == "ok" and done.latency is not None:
                samples[key].append((done.latency, done.index))
    stats: dict[str, dict[str, Any]] = defaultdict(dict)
    for key in sorted(outcomes):
        f, phase = key
        measured = sorted(samples.get(key, []))
        values = [latency for latency, _ in measured]
        entry: dict[str, Any] = {"count": len(values), **outcomes[key]}
        if values:
            entry.update({f"p{q}": percentile(values, q, ordered=True) for q in PERCENTILES})
            entry.update(mean=sum(values) / len(values), max=values[-1])
            span = seconds.get(phase, 0.0)
            entry["throughput"] = len(values) / span if span > 0 else None
        stats[f][phase] = entry
    slowest = {key: tuple(index for _, index in sorted(found, reverse=True)[:WITNESSES])
               for key, found in samples.items()}
    anomalies, judged = _judge(stats, bounds or {}, slowest)
    unknown = not any(samples.values()) or judged < sum(len(limits) for limits in (bounds or {}).values())
    return Result("latency", verdict(anomalies, unknown=unknown), anomalies,
                  {**stats, "phases_s": {k: round(v, 3) for k, v in seconds.items()}})


def _judge(stats: Mapping[str, Mapping[str, Mapping[str, Any]]], bounds: Mapping[str, Mapping[str, float]],
           slowest: Mapping[tuple[str, str], tuple[int, ...]]) -> tuple[list[Anomaly], int]:
    """Anomalies for broken limits, and how many limits could be judged at all."""
    anomalies, judged = [], 0
    for target, limits in bounds.items():
        f, _, phase = target.partition("@")
        measured = stats.get(f, {}).get(phase or ALL)
        for name, limit in limits.items():
            value = (measured or {}).get(name)
            if value is None:
                continue
            judged += 1
            if name == "throughput" and value < limit:
                anomalies.append(Anomaly("slow", f"{target} throughput {value:.1f} ops/s < {limit:.1f} ops/s"))
            elif name != "throughput" and value > limit:
                anomalies.append(Anomaly("slow", f"{target} {name} {value * 1000:.0f} ms > {limit * 1000:.0f} ms "
                                         f"(witnesses: the {WITNESSES} slowest)", slowest.get((f, phase or ALL), ())))
    return anomalies, judged
