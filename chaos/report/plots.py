"""The report's other pictures: latency over time, throughput, work per instance and per worker.

Every plot against time shades the same fault windows as the timeline, on the
same x axis and in the same colour per fault kind (``svg.FAULT_LOOKS``), so a
latency spike or a throughput drop can be read against the fault that caused
it. The kinds are named in a key in the left margin, and each window in the
timeline's nemesis rows: a label inside these plots would hide the points that
matter most (the timeouts at the top, during the fault).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

from chaos.checkers.latency import percentile
from chaos.history import Op, Pair, end_time, nemesis_windows, pairs
from chaos.report import svg
from chaos.report.timeline import natural

BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300)


def bucket_s(end_ns: int, target: int = 60) -> float:
    """A round bucket width giving about ``target`` buckets over the scenario."""
    return next((b for b in BUCKETS if end_ns / 1e9 / b <= target), BUCKETS[-1])


def latency_over_time(ops: Sequence[Op], prefix: str = "latency") -> str:
    """Each call's latency at its completion, coloured by outcome, with the p95 of ok calls per bucket."""
    calls = [p for p in pairs(ops) if p.completion.latency is not None]
    end = end_time(ops)
    fig, axes = svg.time_figure(3.4)
    windows = nemesis_windows(ops)
    svg.shade_faults(axes, windows, end)
    svg.fault_key(axes, windows)
    dense = len(calls) > svg.DENSE
    for kind in svg.OUTCOMES:
        chosen = [p.completion for p in calls if p.completion.type == kind]
        if chosen:
            axes.scatter([c.time / 1e9 for c in chosen], [c.latency * 1000 for c in chosen], s=9, alpha=0.7,
                         c=svg.OUTCOME_COLOURS[kind], marker=svg.OUTCOME_MARKERS[kind], linewidths=0.8,
                         label=f"{kind} ({len(chosen)})", rasterized=dense, zorder=2)
    width = bucket_s(end)
    _p95_line(axes, [p for p in calls if p.completion.type == "ok"], width)
    values = [p.completion.latency for p in calls if p.completion.latency and p.completion.latency > 0]
    if values and max(values) / min(values) > 100:
        axes.set_yscale("log")  # a timeout would flatten every ordinary latency onto the axis
    axes.set_ylabel("latency (ms)")
    return _over_time(fig, axes, end, prefix, columns=5, empty=None if calls else "no call recorded a latency")


def _over_time(fig, axes, end: float, prefix: str, *, columns: int, empty: str | None) -> str:
    """A plot over the run's seconds, finished alike: its axis, grid and legend (or why it is empty)."""
    svg.seconds_axis(axes, end)
    axes.grid(axis="y", alpha=0.3)
    if empty is None:
        axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=columns, frameon=False, fontsize=8.5)
    else:
        _empty(axes, empty)
    return svg.to_svg(fig, prefix, tight=False)


def _p95_line(axes, oks: Sequence[Pair], width: float) -> None:
    per_bucket: dict[int, list[float]] = {}
    for pair in oks:
        per_bucket.setdefault(int(pair.completion.time / 1e9 // width), []).append(pair.completion.latency * 1000)
    if len(per_bucket) < 2:
        return
    xs = sorted(per_bucket)
    axes.step([(x + 0.5) * width for x in xs], [percentile(per_bucket[x], 95) for x in xs], where="mid",
              color="#212121", lw=1.3, label=f"ok p95 per {width:g} s", zorder=3)


def throughput(ops: Sequence[Op], prefix: str = "throughput") -> str:
    """Completions per second by outcome, stacked, per round time bucket."""
    calls = pairs(ops)
    end = end_time(ops)
    width = bucket_s(end)
    fig, axes = svg.time_figure(2.8)
    windows = nemesis_windows(ops)
    svg.shade_faults(axes, windows, end)
    svg.fault_key(axes, windows)
    n = max(1, math.ceil(end / 1e9 / width))
    edges = [i * width for i in range(n + 1)]
    bottom = [0.0] * n
    for kind in svg.OUTCOMES:
        counts = Counter(min(n - 1, int(p.completion.time / 1e9 // width)) for p in calls if p.completion.type == kind)
        if not counts:
            continue
        top = [b + counts.get(i, 0) / width for i, b in enumerate(bottom)]
        # one filled step outline per outcome, stacked: a bar per bucket would be an artist each
        axes.stairs(top, edges, baseline=bottom, fill=True, color=svg.OUTCOME_COLOURS[kind], alpha=0.85,
                    label=kind, zorder=2)
        bottom = top
    axes.set_ylabel(f"completions / s\n(per {width:g} s)")
    return _over_time(fig, axes, end, prefix, columns=3, empty=None if calls else "no operation completed")


def work_per_instance(ops: Sequence[Op], prefix: str = "instances") -> str | None:
    """Calls answered per api instance (X-Instance), stacked by outcome."""
    counts: dict[str, Counter[str]] = {}
    for pair in pairs(ops):
        if pair.completion.instance:
            counts.setdefault(pair.completion.instance, Counter())[pair.completion.type] += 1
    if not counts:
        return None
    names = sorted(counts, key=natural)
    fig, axes = svg.figure(0.32 * len(names) + 1.0, width_in=6.0)
    left = [0] * len(names)
    for kind in svg.OUTCOMES:
        widths = [counts[n][kind] for n in names]
        if any(widths):
            axes.barh(names, widths, left=left, color=svg.OUTCOME_COLOURS[kind], label=kind, height=0.65)
            left = [a + b for a, b in zip(left, widths)]
    for y, total in enumerate(left):
        axes.text(total, y, f" {total}", va="center", fontsize=8)
    axes.invert_yaxis()
    axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3, fontsize=8.5, frameon=False)
    axes.set_xlabel("calls answered (X-Instance of the response)")
    axes.margins(x=0.12)
    return svg.to_svg(fig, prefix)


def work_per_worker(history: Mapping[str, int], flower: Mapping[str, int] | None,
                    prefix: str = "workers") -> str | None:
    """Tasks per Celery worker as the history saw them and, when given, as Flower counted them."""
    names = sorted(set(history) | set(flower or {}), key=natural)
    if not names:
        return None
    fig, axes = svg.figure(0.42 * len(names) + 1.0, width_in=6.0)
    ys = range(len(names))
    height = 0.38 if flower is not None else 0.65
    axes.barh([y - (height / 2 if flower is not None else 0) for y in ys], [history.get(n, 0) for n in names],
              height=height, color="#1565c0", label="history (task results)")
    if flower is not None:
        axes.barh([y + height / 2 for y in ys], [flower.get(n, 0) for n in names], height=height,
                  color="#90caf9", label="Flower /api/workers")
    axes.set_yticks(list(ys), names)
    axes.invert_yaxis()
    axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=8.5, frameon=False)
    axes.set_xlabel("tasks run")
    return svg.to_svg(fig, prefix)


def _empty(axes, text: str) -> None:
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", color="#757575")
