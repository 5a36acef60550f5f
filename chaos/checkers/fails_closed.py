"""An instance cut off from a dependency must fail closed: no success at a call that needs it.

Input: the history, with the nemesis' partition windows on ``api_i->redis`` or
``api_i->postgres`` and each completion's ``instance``. An ``ok`` from the cut
off instance, for an operation that needs that dependency, is ``ok_while_cut_off``:
an invoice without a lock (Redis), or a write that cannot have reached the
database. Calls that began within ``grace_s`` of the cut may hold a connection
from before it and are not judged.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from chaos.checkers.result import Anomaly, Result, verdict
from chaos.history import Op, nemesis_windows, pairs

# which operations need which dependency: an instance cut off from it must not succeed at them
NEEDS: Mapping[str, frozenset[str]] = {
    "redis": frozenset({"generate_invoice"}),          # the invoice lock lives in Redis: fail closed
    "postgres": frozenset({"generate_invoice", "purchase_ticket", "book_slot", "activate"}),
}


def check(history: Sequence[Op], grace_s: float = 1.0) -> Result:
    """No instance succeeds at a call whose dependency it was cut off from (a partition on
    ``api_i->redis`` or ``api_i->postgres``). Calls that began within ``grace_s`` of the cut may
    have held a connection from before it, so they are not judged. ``unknown`` when there was a
    cut but no call reached the instance during it: the drill did not exercise the claim."""
    windows = [w for w in nemesis_windows(history) if w.fault.get("fault") == "partition"
               and str(w.fault.get("target", "")).partition("->")[2] in NEEDS]
    anomalies: list[Anomaly] = []
    refused: Counter[str] = Counter()
    judged = 0
    calls = pairs(history) if windows else []
    for window in windows:
        party, _, dependency = str(window.fault["target"]).partition("->")
        for pair in calls:
            done = pair.completion
            if (pair.invoke.f not in NEEDS[dependency] or done.instance != party
                    or pair.invoke.time < window.start + grace_s * 1e9
                    or (window.stop is not None and done.time > window.stop)):
                continue
            judged += 1
            if done.type == "ok":
                anomalies.append(Anomaly("ok_while_cut_off", f"{party} answered {done.status} to {pair.invoke.f} "
                                         f"{pair.invoke.value} while cut off from {dependency}",
                                         (pair.invoke.index, done.index)))
            else:
                refused[f"{done.status} {done.error}"] += 1
    stats = {"cuts": [w.label for w in windows], "judged": judged, "refused": dict(refused)}
    return Result("fails_closed", verdict(anomalies, unknown=bool(windows) and judged == 0), anomalies, stats)
