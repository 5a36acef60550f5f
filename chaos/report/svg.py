"""Matplotlib to inline SVG, and the visual vocabulary every plot shares.

Text stays text in the SVG (``svg.fonttype: none``): the page is searchable,
smaller, and its labels are in the HTML for tests to find. Dense layers
(thousands of markers) are rasterised inside the SVG so a 10 000-operation
history renders in a second and scrolls smoothly.
"""
from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.legend import Legend  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from chaos.history import FaultWindow  # noqa: E402

OUTCOME_COLOURS = {"ok": "#2e7d32", "fail": "#c62828", "info": "#ef6c00"}
OUTCOME_MARKERS = {"ok": "o", "fail": "x", "info": "D"}
OUTCOMES = ("ok", "fail", "info")
FAULT_BAR = "#455a64"    # the rule under the timeline's nemesis rows
ANOMALY = "#6a1b9a"
DENSE = 2500            # layers with more points than this are rasterised
WIDTH_IN = 13.0
# Plots against time share their margins, so that one second is at the same place in every
# plot of a page and a fault window lines up from the timeline down to the throughput.
LEFT_IN, RIGHT_IN, TOP_IN, BOTTOM_IN = 2.6, 0.3, 0.45, 0.55
LABEL_CHARS = 32        # longer row labels are shortened to fit the left margin
FAULT_KEY_GAP_IN = 0.85  # the fault key sits this far left of the axes, clear of the y ticks and label


@dataclass(frozen=True)
class FaultLook:
    """How a fault kind looks on every plot against time: its colour and the name its key gives it."""

    colour: str
    label: str


# Every fault kind the nemesis records (the ``fault`` of its description: ``chaos.nemesis.schedule.REBUILD``),
# each its own colour: the Okabe-Ito palette first, then Paul Tol's "muted" colours for the kinds past its
# eight. Twelve hues cannot all be told apart by every eye, so each colour is also named in a key.
FAULT_LOOKS: Mapping[str, FaultLook] = MappingProxyType({
    "partition": FaultLook("#d55e00", "partition"),       # Okabe-Ito vermillion
    "latency": FaultLook("#56b4e9", "latency"),           # Okabe-Ito sky blue
    "timeout": FaultLook("#0072b2", "timeout"),           # Okabe-Ito blue
    "reset_peer": FaultLook("#cc79a7", "reset peer"),     # Okabe-Ito reddish purple
    "bandwidth": FaultLook("#009e73", "bandwidth"),       # Okabe-Ito bluish green
    "pause": FaultLook("#e69f00", "pause"),               # Okabe-Ito orange
    "kill": FaultLook("#000000", "kill"),                 # Okabe-Ito black
    "scale": FaultLook("#f0e442", "scale"),               # Okabe-Ito yellow
    "disconnect": FaultLook("#44aa99", "disconnect"),     # Tol teal
    "limit_data": FaultLook("#882255", "limit data"),     # Tol wine
    "slicer": FaultLook("#332288", "slicer"),             # Tol indigo
    "slow_close": FaultLook("#999933", "slow close"),     # Tol olive
    "restart": FaultLook("#aa4499", "restart"),           # Tol purple
    "forget": FaultLook("#117733", "forget"),             # Tol green
    "exhaust": FaultLook("#661100", "exhaust"),           # Tol dark red
})
FAULT_FALLBACK = "#90a4ae"  # a kind not above: grey, named by its own kind


def fault_look(kind: str | None) -> FaultLook:
    """The colour and key label of a fault kind; a kind unknown here keeps its own name, in grey."""
    return FAULT_LOOKS.get(kind or "") or FaultLook(FAULT_FALLBACK, kind or "fault")


def window_kind(window: FaultWindow) -> str:
    return str(window.fault.get("fault") or "fault")

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
    """A band in its kind's colour over every fault window (a window never stopped runs to the end of the
    history)."""
    for window in windows:
        left, right = window.start / 1e9, window.end(end_ns) / 1e9
        axes.axvspan(left, max(right, left + 1e-3), color=fault_look(window_kind(window)).colour, alpha=0.18,
                     zorder=0, lw=0)


def fault_key(axes: Axes, windows: Sequence[FaultWindow]) -> None:
    """A key of the fault kinds shown, one row each, in the left margin beside the axes: outside the data,
    so it hides no point, and apart from the outcomes' legend above the axes."""
    kinds = list(dict.fromkeys(window_kind(w) for w in windows))
    if not kinds:
        return
    looks = [fault_look(kind) for kind in kinds]
    handles = [Patch(facecolor=look.colour, alpha=0.45, lw=0) for look in looks]
    axes_width_in = axes.get_position().width * axes.get_figure().get_figwidth()
    key = Legend(axes, handles, [look.label for look in looks], loc="upper right", frameon=False, fontsize=8.5,
                 title="faults", title_fontsize=8.5, bbox_to_anchor=(-FAULT_KEY_GAP_IN / axes_width_in, 1.0),
                 borderaxespad=0.0, handlelength=1.4)
    axes.add_artist(key)


def seconds_axis(axes: Axes, end_ns: int) -> None:
    axes.set_xlabel("seconds since the scenario began")
    axes.set_xlim(left=0, right=max(end_ns / 1e9, 1e-3) * 1.01)
    axes.grid(axis="x", alpha=0.3)
