"""The timeline: one row per process, each call a bar from invoke to completion.

Jepsen's ``checker/timeline`` pairs invoke and completion per process; here
it is one picture. The nemesis gets a row per fault at the top (a bar in its
kind's colour while the fault is on, the row named by the fault and its
target) and its windows shade every row below in the same colour, so a reader
can see which calls a fault touched. Anomaly witnesses are circled and, when
few, named.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from matplotlib.collections import LineCollection

from chaos.checkers.result import Anomaly
from chaos.history import Op, Pair, end_time, nemesis_windows, pairs
from chaos.report import svg

ROW_IN = 0.2           # figure inches per row
MAX_LABELS = 60        # more processes than this: label every n-th row
NAMED_WITNESSES = 12   # up to this many witnesses get their anomaly's kind written beside them


def natural(name: str) -> list[object]:
    """client_2 before client_10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def timeline(ops: Sequence[Op], anomalies: Sequence[Anomaly], prefix: str = "timeline") -> str:
    calls = pairs(ops)
    windows = nemesis_windows(ops)
    end = end_time(ops)
    lanes = list(dict.fromkeys(w.label for w in windows))
    processes = sorted({p.invoke.process for p in calls}, key=natural)
    labels = [f"nemesis: {lane}" for lane in lanes] + processes
    row = {name: i for i, name in enumerate(labels)}
    fig, axes = svg.time_figure(min(max(ROW_IN * len(labels) + 1.2, 2.6), 22))
    svg.shade_faults(axes, windows, end)
    for window in windows:
        y = row[f"nemesis: {window.label}"]
        axes.broken_barh([(window.start / 1e9, max(window.end(end) - window.start, 1) / 1e9)], (y - 0.35, 0.7),
                         facecolors=svg.fault_look(svg.window_kind(window)).colour, zorder=2)
    dense = len(calls) > svg.DENSE
    for kind in svg.OUTCOMES:
        chosen = [p for p in calls if p.completion.type == kind]
        if not chosen:
            continue
        ys = [row[p.invoke.process] for p in chosen]
        stops = [_stop(p, end) / 1e9 for p in chosen]
        segments = [((p.invoke.time / 1e9, y), (x, y)) for p, y, x in zip(chosen, ys, stops)]
        axes.add_collection(LineCollection(segments, colors=svg.OUTCOME_COLOURS[kind], linewidths=2.2, alpha=0.45,
                                           zorder=2, rasterized=dense))
        axes.scatter(stops, ys, c=svg.OUTCOME_COLOURS[kind], marker=svg.OUTCOME_MARKERS[kind],
                     s=16 if kind != "fail" else 22, linewidths=1.2, zorder=3, rasterized=dense,
                     label=f"{kind} ({len(chosen)})")
    _mark_witnesses(axes, calls, anomalies, row, end)
    axes.set_yticks(range(len(labels)), [svg.fit_label(label) for label in _thin(labels)])
    axes.set_ylim(len(labels) - 0.4, -0.6)
    if lanes:
        axes.axhline(len(lanes) - 0.5, color=svg.FAULT_BAR, lw=0.6, alpha=0.6)
    svg.seconds_axis(axes, end)
    if calls:
        axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=5, frameon=False, fontsize=8.5,
                    handletextpad=0.3, columnspacing=1.2, borderaxespad=0.2)
    else:
        axes.text(0.5, 0.5, "no client operation in this history", transform=axes.transAxes, ha="center",
                  va="center", color="#757575")
    return svg.to_svg(fig, prefix, tight=False)


def _stop(pair: Pair, end: int) -> int:
    """Where a call's bar ends: its completion, or the end of the history if it never completed."""
    if pair.completion.index == pair.invoke.index:
        return max(end, pair.invoke.time)
    return pair.completion.time


def _mark_witnesses(axes, calls: Sequence[Pair], anomalies: Sequence[Anomaly], row: dict[str, int],
                    end: int) -> None:
    where: dict[int, Pair] = {}
    for pair in calls:
        where[pair.invoke.index] = where[pair.completion.index] = pair
    marked: dict[int, tuple[float, int, str]] = {}
    for anomaly in anomalies:
        for index in anomaly.op_indexes:
            pair = where.get(index)
            if pair is not None and pair.completion.index not in marked:
                marked[pair.completion.index] = (_stop(pair, end) / 1e9, row[pair.invoke.process], anomaly.kind)
    if not marked:
        return
    xs, ys, kinds = zip(*marked.values())
    axes.scatter(xs, ys, s=150, facecolors="none", edgecolors=svg.ANOMALY, linewidths=1.8, zorder=4,
                 label=f"anomaly witness ({len(marked)})")
    if len(marked) <= NAMED_WITNESSES:
        for x, y, kind in marked.values():
            axes.annotate(kind, (x, y), xytext=(7, -7), textcoords="offset points", fontsize=8, color=svg.ANOMALY,
                          fontweight="bold", zorder=6)


def _thin(labels: list[str]) -> list[str]:
    if len(labels) <= MAX_LABELS:
        return labels
    step = -(-len(labels) // MAX_LABELS)
    return [label if i % step == 0 or label.startswith("nemesis") else "" for i, label in enumerate(labels)]
