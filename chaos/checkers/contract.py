"""The contract checker: with no fault in force, every call gets a definite answer.

An invariant can hold while the service is still wrong for its users: a
5xx or a timeout for a purchase nobody disturbed keeps the ledger right and
leaves the customer not knowing whether they paid. The contract promises a
definite answer (created, or a named refusal such as ``sold_out``,
``invoice_exists``, ``idempotency_mismatch``); only a fault excuses its
absence, and even then only in the words the profile names for an outage
(e.g. 503), not any 5xx.

So: outside every fault window (a window lasts from the fault's start to its
stop plus ``grace_s``, while the lb and the pools catch up: a connection the
fault left dead in a pool is found out only when a request meets it and
times out, 2 s in billing, so the grace is a few such timeouts), an ``info``
completion or a 5xx status is ``indefinite_answer``. Inside a window, an
``info`` is expected and so is a status ``outage`` names; another 5xx is
``unexpected_outage_answer``. Evidence: the calls judged outside windows
(``definite_outside_faults``) and inside them (``outage_answers``).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from chaos.checkers.result import Anomaly, Evidence, Result, judged
from chaos.history import FaultWindow, Op, end_time, nemesis_windows, pairs
from chaos.history.overlap import is_pending
from chaos.target.statuses import Range, parse_entry

SITUATIONS = {"definite_outside_faults": "a call outside fault windows",
              "outage_answers": "a call inside a fault window"}


GRACE_S = 5.0


def check(history: Sequence[Op], outage: Iterable[int | str] = ("5xx",), grace_s: float = GRACE_S, *,
          fs: Iterable[str] | None = None, claims: Iterable[str] | None = None) -> Result:
    """``outage``: the statuses the profile allows during a fault (entries as in a profile's
    statuses: 503, "5xx", "500-599"). ``fs``: the operations to judge (None: every client call).
    Raises ValueError for an entry that is not a status."""
    allowed: list[Range] = [parse_entry(entry) for entry in outage]
    wanted = None if fs is None else set(fs)
    windows = nemesis_windows(history)
    last = end_time(history)
    grace = round(grace_s * 1e9)
    anomalies: list[Anomaly] = []
    outside = inside = 0
    answers: Counter[str] = Counter()
    for pair in pairs(history):
        if wanted is not None and pair.invoke.f not in wanted:
            continue
        done = pair.completion
        end = last if is_pending(pair) else done.time
        window = _window(windows, pair.invoke.time, end, grace, last)
        status = done.status
        server_error = status is not None and status >= 500
        detail = ", ".join(str(x) for x in (status if status is not None else "no status", done.error) if x)
        to = f" sent to {pair.invoke.instance}" if pair.invoke.instance else ""
        what = f"{pair.invoke.f}{to} invoked at {pair.invoke.time / 1e9:.3f} s ended {done.type} ({detail})"
        if window is None:
            outside += 1
            if done.type == "info" or server_error:
                anomalies.append(Anomaly("indefinite_answer", f"{what} with no fault in force"
                                         f"{_since_last(windows, pair.invoke.time)}",
                                         (pair.invoke.index, done.index)))
            continue
        inside += 1
        answers[f"{done.type} {status}" if status is not None else done.type] += 1
        if server_error and not any(low <= status <= high for low, high in allowed):  # type: ignore[operator]
            anomalies.append(Anomaly("unexpected_outage_answer", f"{what} during {window.label}; the outage "
                                     f"answers are {list(outage)}", (pair.invoke.index, done.index)))
    stats = {"calls": outside + inside, "outside_faults": outside, "inside_faults": inside,
             "windows": len(windows), "answers_during_faults": dict(answers),
             "indefinite": sum(1 for a in anomalies if a.kind == "indefinite_answer")}
    evidence = {"definite_outside_faults": Evidence(SITUATIONS["definite_outside_faults"], outside),
                "outage_answers": Evidence(SITUATIONS["outage_answers"], inside)}
    return judged("contract", anomalies, stats, evidence, claims)


def _since_last(windows: list[FaultWindow], start: int) -> str:
    """How long before the call the last fault healed: an answer that hangs soon after a heal points
    at what the fault left behind (a dead connection, a lock its session still holds)."""
    healed = [(w.stop, w) for w in windows if w.stop is not None and w.stop <= start]
    if not healed:
        return ""
    stop, last = max(healed, key=lambda healed_at: healed_at[0])
    return f" ({(start - stop) / 1e9:.1f} s after {last.label} healed)"


def _window(windows: list[FaultWindow], start: int, end: int, grace: int, last: int) -> FaultWindow | None:
    """The first fault window (widened by the grace after its stop) the call [start, end] meets."""
    for window in windows:
        if window.start <= end and start <= window.end(last) + (grace if window.stop is not None else 0):
            return window
    return None
