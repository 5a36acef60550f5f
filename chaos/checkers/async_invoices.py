"""Every accepted (202) async request yields exactly one invoice once faults heal: none lost, none doubled."""
from __future__ import annotations

from collections import defaultdict

from chaos.checkers.result import Anomaly, Result, verdict
from chaos.history import Op, pairs

F = "generate_invoice_async"


def check(history: list[Op], final: dict[int, list[dict]]) -> Result:
    anomalies: list[Anomaly] = []
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for invoices in final.values():
        for invoice in invoices:
            counts[(int(invoice["user_id"]), invoice["period"])] += 1
    accepted = [(inv, done) for inv, done in pairs(history) if inv.f == F and done.type == "ok"]
    seen = set()
    for inv, done in accepted:
        key = (int(inv.value["user_id"]), inv.value["period"])
        if key in seen:
            continue
        seen.add(key)
        if counts[key] == 0:
            anomalies.append(Anomaly("lost", f"task {done.value.get('task_id')} for user {key[0]}, {key[1]} was "
                                     "accepted but no invoice exists", (inv.index, done.index)))
        elif counts[key] > 1:
            anomalies.append(Anomaly("duplicate", f"user {key[0]}, {key[1]} has {counts[key]} invoices from one "
                                     "accepted request", (inv.index, done.index)))
    return Result("async_invoices", verdict(anomalies), anomalies,
                  {"accepted": len(accepted), "keys": len(seen)})
