"""Every accepted (202) async request yields exactly one invoice once faults heal: none lost, none doubled.

Input: the history (``generate_invoice_async`` calls, value {user_id, period};
an ok is the 202 with ``task_id``) and final reads {user_id: [invoices]}
taken after healing and after the tasks settled. Celery with ``acks_late``
may run a task twice (redelivery), and without ``task_reject_on_worker_lost``
may drop one: the first shows as ``duplicate``, the second as ``lost``. An
``info`` request may have been queued or not; the stats say how it turned out.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from chaos.checkers.reads import Invoice, Key, invoices_by_key, key_of
from chaos.checkers.result import Anomaly, Result, verdict
from chaos.history import Op, Pair, pairs

F = "generate_invoice_async"


def check(history: Sequence[Op], final: Mapping[Any, Sequence[Invoice]]) -> Result:
    accepted: dict[Key, list[Pair]] = defaultdict(list)
    unknown: dict[Key, list[Pair]] = defaultdict(list)
    rejected = 0
    for pair in pairs(history):
        if pair.invoke.f != F:
            continue
        kind = pair.completion.type
        if kind == "ok":
            accepted[key_of(pair.invoke.value)].append(pair)
        elif kind == "info":
            unknown[key_of(pair.invoke.value)].append(pair)
        else:
            rejected += 1
    stored = invoices_by_key(final)
    anomalies: list[Anomaly] = []
    for key, calls in sorted(accepted.items(), key=str):
        invoices = stored.get(key, [])
        witnesses = tuple(p.completion.index for p in calls)
        tasks = [p.completion.value.get("task_id") for p in calls]
        if not invoices:
            anomalies.append(Anomaly("lost", f"user {key[0]}, {key[1]}: {len(calls)} accepted request(s) (tasks "
                                     f"{tasks}) but no invoice after healing", witnesses))
        elif len(invoices) > 1:
            anomalies.append(Anomaly("duplicate", f"user {key[0]}, {key[1]}: {len(invoices)} invoices "
                                     f"{[i.get('invoice_id') for i in invoices]} from accepted tasks {tasks}",
                                     witnesses))
    unresolved = {key: calls for key, calls in unknown.items() if key not in accepted}
    for key, calls in sorted(unresolved.items(), key=str):
        if len(stored.get(key, [])) > 1:
            anomalies.append(Anomaly("duplicate", f"user {key[0]}, {key[1]}: {len(stored[key])} invoices from "
                                     "requests whose answer was lost", tuple(p.completion.index for p in calls)))
    stats = {"accepted": sum(map(len, accepted.values())), "keys": len(accepted), "rejected": rejected,
             "info": sum(map(len, unknown.values())),
             "info_keys_invoiced": sum(1 for key in unresolved if stored.get(key)),
             "info_keys_not_invoiced": sum(1 for key in unresolved if not stored.get(key))}
    return Result("async_invoices", verdict(anomalies), anomalies, stats)
