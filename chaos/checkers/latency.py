"""Latency percentiles and throughput per operation kind and per phase (before, during, after faults)."""
from __future__ import annotations

from collections import defaultdict

from chaos.checkers.result import Anomaly, Result, verdict
from chaos.history import Op, nemesis_windows, pairs

PERCENTILES = (50, 95, 99)


def percentile(values: list[float], q: int) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def phase_of(t: int, windows: list[tuple[int, int | None, dict]]) -> str:
    if not windows:
        return "no faults"
    if t < windows[0][0]:
        return "before"
    if any(start <= t and (stop is None or t <= stop) for start, stop, _ in windows):
        return "during"
    last_stop = max((stop or 0) for _, stop, _ in windows)
    return "after" if t > last_stop else "between"


def check(history: list[Op], bounds: dict[str, dict[str, float]] | None = None) -> Result:
    """``bounds``: f -> {"p95": seconds, ...}, checked on the whole run; exceeded -> anomaly "slow"."""
    windows = nemesis_windows(history)
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    spans: dict[tuple[str, str], list[int]] = defaultdict(list)
    for inv, done in pairs(history):
        if done.type == "ok" and done.latency is not None:
            phase = phase_of(inv.time, windows)
            for key in ((inv.f, "all"), (inv.f, phase)):
                samples[key].append(done.latency)
                spans[key] += [inv.time, done.time]
    stats: dict[str, dict] = defaultdict(dict)
    for (f, phase), values in sorted(samples.items()):
        seconds = max((max(spans[(f, phase)]) - min(spans[(f, phase)])) / 1e9, 1e-9)
        stats[f][phase] = {"count": len(values), "throughput": len(values) / seconds,
                           **{f"p{q}": percentile(values, q) for q in PERCENTILES}}
    anomalies = []
    for f, limits in (bounds or {}).items():
        measured = stats.get(f, {}).get("all")
        for name, limit in limits.items():
            if measured and measured[name] > limit:
                anomalies.append(Anomaly("slow", f"{f} {name} {measured[name] * 1000:.0f} ms > "
                                         f"{limit * 1000:.0f} ms"))
    return Result("latency", verdict(anomalies, unknown=not samples), anomalies, dict(stats))
