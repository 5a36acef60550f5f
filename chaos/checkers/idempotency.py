"""Idempotency keys: identical replays, at most one activation per key, reuse with other params rejected.

Final reads: {subscription_id: [activation invoices]}.
"""
from __future__ import annotations

from collections import defaultdict

from chaos.checkers.result import Anomaly, Result, verdict
from chaos.history import Op, pairs

F = "activate"
SAME_KEY_ERRORS = {"idempotency_in_flight"}


def check(history: list[Op], final: dict[int, list[dict]]) -> Result:
    anomalies: list[Anomaly] = []
    by_key: dict[tuple[int, str], list[tuple[Op, Op]]] = defaultdict(list)
    for inv, done in pairs(history):
        if inv.f == F:
            by_key[(int(inv.value["subscription_id"]), inv.value["key"])].append((inv, done))
    replays = 0
    for (subscription, key), calls in by_key.items():
        oks = [done for _, done in calls if done.type == "ok"]
        replays += sum(1 for done in oks if done.value.get("replayed"))
        bodies = {repr(sorted(done.value.get("body", {}).items())) for done in oks}
        if len(bodies) > 1:
            anomalies.append(Anomaly("replay_mismatch", f"key {key!r} of subscription {subscription} answered "
                                     f"{len(bodies)} different bodies", tuple(d.index for d in oks)))
        first_params = calls[0][0].value.get("params")
        for inv, done in calls[1:]:
            if inv.value.get("params") != first_params and done.type == "ok":
                anomalies.append(Anomaly("reuse_accepted", f"key {key!r} reused with {inv.value.get('params')} "
                                         f"(first {first_params}) was accepted, not 422", (inv.index, done.index)))
            elif inv.value.get("params") != first_params and done.type == "fail" and done.status != 422:
                anomalies.append(Anomaly("reuse_not_rejected", f"key {key!r} reused with {inv.value.get('params')} "
                                         f"answered {done.status} {done.error}, not 422", (inv.index, done.index)))
        # With the same params, a key's only answers are its first outcome (replayed) or "still running".
        if oks:
            for inv, done in calls:
                if (inv.value.get("params") == first_params and done.type == "fail"
                        and done.error not in SAME_KEY_ERRORS):
                    anomalies.append(Anomaly("replay_mismatch", f"key {key!r} answered {done.status} "
                                             f"{done.error} although another call with it succeeded",
                                             (oks[0].index, done.index)))
    for subscription, invoices in final.items():
        if len(invoices) > 1:
            anomalies.append(Anomaly("double_activation", f"subscription {subscription} was activated "
                                     f"{len(invoices)} times (invoices {[i['invoice_id'] for i in invoices]})",
                                     tuple(d.index for (s, _), calls in by_key.items() if s == subscription
                                           for _, d in calls)))
    return Result("idempotency", verdict(anomalies), anomalies,
                  {"keys": len(by_key), "calls": sum(map(len, by_key.values())), "replays": replays})
