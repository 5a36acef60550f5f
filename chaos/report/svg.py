"""Matplotlib to inline SVG, and the visual vocabulary every plot shares.

Text stays text in the SVG (``svg.fonttype: none``): the page is searchable,
smaller, and its labels are in the HTML for tests to find. Dense layers
(thousands of markers) are rasterised inside the SVG so a 10 000-operation
history renders in a second and scrolls smoothly.
"""
from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from chaos.history import FaultWindow  # noqa: E402

OUTCOME_COLOURS = {"ok": "#2e7d32", "fail": "#c62828", "info": "#ef6c00"}
OUTCOME_MARKERS = {"ok": "o", "fail": "x", "info": "D"}
OUTCOMES = ("ok", "fail", "info")
FAULT_SHADE = "#90a4ae"
FAULT_BAR = "#455a64"
ANOMALY = "#6a1b9a"
DENSE = 2500            # layers with more points than this are rasterised
WIDTH_IN = 13.0
# Plots against time share their margins, so that one second is at the same place in every
# plot of a page and a fault window lines up from the timeline down to the throughput.
LEFT_IN, RIGHT_IN, TOP_IN, BOTTOM_IN = 2.6, 0.3, 0.45, 0.55
LABEL_CHARS = 32        # longer row labels are shortened to fit the left margin

STYLE = {"svg.fonttype": "none", "svg.hashsalt": "billing-chaos", "font.size": 9, "axes.titlesize": 10,
         "axes.spines.top": False, "axes.spines.right": False, "font.family": "DejaVu Sans"}
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^")]+)')


def figure(height_in: float, width_in: float = WIDTH_IN) -> tuple[Figure, Axes]:
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(figsize=(width_in, height_in))
    return fig, axes


def time_figure(height_in: float) -> tuple[Figure, Axes]:
    fig, axes = figure(height_in)
    fig.subplots_adjust(left=LEFT_IN / WIDTH_IN, right=1 - RIGHT_IN / WIDTH_IN, top=1 - TOP_IN / height_in,
                        bottom=BOTTOM_IN / height_in)
    return fig, axes


def fit_label(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def to_svg(fig: Figure, prefix: str, *, tight: bool = True) -> str:
    """The figure as an ``<svg>`` element whose ids start with ``prefix``: several plots inline in
    one page must not share clip-path ids. Plots against time keep their fixed margins (not tight)."""
    buffer = io.StringIO()
    with plt.rc_context(STYLE):
        fig.savefig(buffer, format="svg", bbox_inches="tight" if tight else None, dpi=110,
                    metadata={"Date": None})  # no date: rendering a stored run again gives the same page
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', text)
    return _REF.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)


def shade_faults(axes: Axes, windows: Sequence[FaultWindow], end_ns: int) -> None:
    """A grey band over every fault window (a window never stopped runs to the end of the history)."""
    for window in windows:
        left, right = window.start / 1e9, window.end(end_ns) / 1e9
        axes.axvspan(left, max(right, left + 1e-3), color=FAULT_SHADE, alpha=0.18, zorder=0, lw=0)


def seconds_axis(axes: Axes, end_ns: int) -> None:
    axes.set_xlabel("seconds since the scenario began")
    axes.set_xlim(left=0, right=max(end_ns / 1e9, 1e-3) * 1.01)
    axes.grid(axis="x", alpha=0.3)
