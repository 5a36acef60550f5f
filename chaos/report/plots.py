"""The report's pictures as inline SVG (matplotlib, Agg): nothing to fetch when the page is opened."""
from __future__ import annotations

import io
from collections import Counter

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from chaos.checkers.result import Anomaly  # noqa: E402
from chaos.history import NEMESIS, Op, nemesis_windows, pairs  # noqa: E402

COLOURS = {"ok": "#2e7d32", "fail": "#c62828", "info": "#ef6c00"}
MARKERS = {"ok": "o", "fail": "x", "info": "D"}


def _svg(figure: plt.Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _shade_faults(axes: plt.Axes, ops: list[Op], end_s: float) -> None:
    for start, stop, fault in nemesis_windows(ops):
        left, right = start / 1e9, (stop / 1e9 if stop is not None else end_s)
        axes.axvspan(left, right, color="#9e9e9e", alpha=0.25, zorder=0)
        label = f"{fault.get('fault', '?')} {fault.get('target', '')}".strip()
        axes.text(left, 1.0, label, transform=axes.get_xaxis_transform(), fontsize=8, va="bottom",
                  rotation=0, color="#424242")


def timeline(ops: list[Op], anomalies: list[Anomaly]) -> str:
    """One row per process; each operation a segment from invoke to completion, coloured by outcome."""
    done = pairs(ops)
    processes = sorted({inv.process for inv, _ in done})
    row = {p: i for i, p in enumerate(processes)}
    end_s = max((op.time for op in ops), default=0) / 1e9
    figure, axes = plt.subplots(figsize=(12, max(2.5, 0.28 * len(processes) + 1.5)))
    _shade_faults(axes, ops, end_s)
    for kind in ("ok", "fail", "info"):
        chosen = [(inv, comp) for inv, comp in done if comp.type == kind]
        if not chosen:
            continue
        axes.hlines([row[i.process] for i, _ in chosen], [i.time / 1e9 for i, _ in chosen],
                    [c.time / 1e9 for _, c in chosen], colors=COLOURS[kind], linewidth=2, alpha=0.6)
        axes.scatter([c.time / 1e9 for _, c in chosen], [row[i.process] for i, _ in chosen],
                     c=COLOURS[kind], marker=MARKERS[kind], s=18, label=f"{kind} ({len(chosen)})", zorder=3)
    witnesses = {i for anomaly in anomalies for i in anomaly.ops}
    marked = [op for op in ops if op.index in witnesses and op.process != NEMESIS and op.process in row]
    if marked:
        axes.scatter([op.time / 1e9 for op in marked], [row[op.process] for op in marked], s=160,
                     facecolors="none", edgecolors="#6a1b9a", linewidths=2, label="anomaly witness", zorder=4)
    axes.set_yticks(range(len(processes)), processes, fontsize=8)
    axes.set_xlabel("seconds since the scenario began")
    axes.set_ylim(-1, len(processes))
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    axes.grid(axis="x", alpha=0.3)
    return _svg(figure)


def _over_time(ops: list[Op], height: float) -> tuple[plt.Figure, plt.Axes]:
    """A plot against scenario time with the fault windows already shaded."""
    figure, axes = plt.subplots(figsize=(12, height))
    _shade_faults(axes, ops, max((op.time for op in ops), default=0) / 1e9)
    return figure, axes


def _finish(figure: plt.Figure, axes: plt.Axes, ylabel: str) -> str:
    axes.set_ylabel(ylabel)
    axes.set_xlabel("seconds since the scenario began")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.grid(alpha=0.3)
    return _svg(figure)


def latency_over_time(ops: list[Op]) -> str:
    figure, axes = _over_time(ops, 3)
    done = pairs(ops)
    for kind in ("ok", "fail", "info"):
        chosen = [c for _, c in done if c.type == kind and c.latency is not None]
        if chosen:
            axes.scatter([c.time / 1e9 for c in chosen], [c.latency * 1000 for c in chosen], s=8,
                         c=COLOURS[kind], marker=MARKERS[kind], label=kind)
    values = [c.latency for _, c in done if c.latency]
    if values and max(values) / max(min(values), 1e-6) > 100:
        axes.set_yscale("log")  # timeouts would flatten every ordinary latency to the axis
    return _finish(figure, axes, "latency (ms)")


def throughput(ops: list[Op]) -> str:
    """Completions per second, by outcome."""
    figure, axes = _over_time(ops, 2.5)
    done = pairs(ops)
    for kind in ("ok", "fail", "info"):
        seconds = Counter(int(c.time / 1e9) for _, c in done if c.type == kind)
        if seconds:
            xs = range(0, max(seconds) + 1)
            axes.step(list(xs), [seconds.get(x, 0) for x in xs], where="post", color=COLOURS[kind], label=kind)
    return _finish(figure, axes, "completions / s")


def work_per(counts: dict[str, int], title: str) -> str | None:
    if not counts:
        return None
    names = sorted(counts)
    figure, axes = plt.subplots(figsize=(5, 0.35 * len(names) + 1))
    axes.barh(names, [counts[n] for n in names], color="#1565c0")
    axes.set_title(title, fontsize=10)
    axes.invert_yaxis()
    return _svg(figure)
