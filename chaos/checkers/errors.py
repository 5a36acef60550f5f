"""Errors nothing explains: failed or unknown calls outside every fault window.

Input: the history and the operations to judge. A fault window, plus a grace
period after it while the lb and the pools catch up, explains an error; any
other ``fail`` or ``info`` is ``error_outside_fault``. Scaling out, for one,
should cost no request at all.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from chaos.checkers.result import Anomaly, Result, verdict
from chaos.history import Op, nemesis_windows, pairs


def check(history: Sequence[Op], fs: Iterable[str], grace_s: float = 2.0) -> Result:
    """Calls of ``fs`` that failed or ended unknown outside every fault window (plus ``grace_s``
    after it, while the lb and the pools catch up): errors nothing in the drill explains."""
    wanted = set(fs)
    windows = nemesis_windows(history)
    anomalies: list[Anomaly] = []
    inside: Counter[str] = Counter()
    calls = 0
    for pair in pairs(history):
        if pair.invoke.f not in wanted:
            continue
        calls += 1
        done = pair.completion
        if done.type == "ok":
            continue
        explained = any(w.start <= done.time and (w.stop is None or pair.invoke.time <= w.stop + grace_s * 1e9)
                        for w in windows)
        if explained:
            inside[f"{done.status} {done.error}"] += 1
        else:
            anomalies.append(Anomaly("error_outside_fault", f"{pair.invoke.f} ended {done.type} ({done.status} "
                                     f"{done.error}) with no fault in force", (pair.invoke.index, done.index)))
    return Result("errors", verdict(anomalies, unknown=calls == 0), anomalies,
                  {"calls": calls, "errors_during_faults": dict(inside), "errors_outside": len(anomalies)})
