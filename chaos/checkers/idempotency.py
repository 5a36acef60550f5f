"""Idempotency keys (Stripe's semantics): one execution per key, identical replays, reuse refused.

Input: the history (``activate`` calls, value {subscription_id, key, params};
a completion carries the response ``body`` and the ``replayed`` flag from the
``Idempotent-Replayed`` header) and final reads {subscription_id: [activation
invoices]}. Calls are grouped by (subscription, key); the key's parameters
are those of its first execution (else of its first call).

Anomalies: ``replay_mismatch`` (two answers for the key differ, a call with
the key's parameters failed after another succeeded other than "still
running", or a replay names an invoice the final read does not hold),
``lost`` (a fresh activation's invoice is not in the final read),
``double_activation`` (two fresh executions of one key, or two
activation invoices for one subscription), ``reuse_accepted`` (the key with
other parameters succeeded), ``reuse_not_rejected`` (it failed, but not with
422 or 409 "still running").
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from chaos.checkers.reads import Invoice, count, ident
from chaos.checkers.result import Anomaly, Result, verdict
from chaos.history import Op, Pair, pairs

F = "activate"
IN_FLIGHT = "idempotency_in_flight"
MISMATCH_STATUS = 422
REQUEST_FIELDS = frozenset({"subscription_id", "key", "params", "replayed", "user_id", "hold_s"})


def check(history: Sequence[Op], final: Mapping[Any, Sequence[Invoice]] | None = None) -> Result:
    groups: dict[tuple[Any, str], list[Pair]] = defaultdict(list)
    for pair in pairs(history):
        if pair.invoke.f == F and pair.invoke.value.get("key") is not None:
            groups[(ident(pair.invoke.value.get("subscription_id")), str(pair.invoke.value["key"]))].append(pair)
    anomalies: list[Anomaly] = []
    made = {ident(s): {ident(i.get("invoice_id")) for i in invoices} for s, invoices in (final or {}).items()}
    for (subscription, key), calls in groups.items():
        anomalies.extend(_check_key(subscription, key, calls))
        if subscription in made:
            anomalies.extend(_check_against_reads(subscription, key, calls, made[subscription]))
    for subscription, invoices in sorted((final or {}).items(), key=str):
        if len(invoices) > 1:
            witnesses = tuple(p.completion.index for (s, _), calls in groups.items() if s == ident(subscription)
                              for p in calls if p.completion.type != "fail")
            anomalies.append(Anomaly("double_activation", f"subscription {subscription} was activated "
                                     f"{len(invoices)} times (invoices {[i.get('invoice_id') for i in invoices]})",
                                     witnesses))
    every = [p.completion for calls in groups.values() for p in calls]
    stats = {"keys": len(groups), "calls": len(every), **count(op.type for op in every),
             "replays": sum(1 for op in every if op.value.get("replayed")),
             "rejected_422": sum(1 for op in every if op.status == MISMATCH_STATUS),
             "in_flight_409": sum(1 for op in every if op.error == IN_FLIGHT),
             "activation_invoices": sum(len(v) for v in (final or {}).values())}
    return Result("idempotency", verdict(anomalies), anomalies, stats)


def _check_key(subscription: Any, key: str, calls: list[Pair]) -> list[Anomaly]:
    name = f"key {key!r} of subscription {subscription}"
    oks = sorted((p for p in calls if p.completion.type == "ok"), key=lambda p: p.completion.index)
    fresh = [p for p in oks if not p.completion.value.get("replayed")]
    first = fresh[0] if fresh else oks[0] if oks else calls[0]
    params = first.invoke.value.get("params")
    own = [p for p in calls if p.invoke.value.get("params") == params]
    found: list[Anomaly] = []
    answers: dict[str, Pair] = {}
    for pair in own:
        if pair.completion.type == "ok" or (pair.completion.type == "fail" and pair.completion.value.get("replayed")):
            answers.setdefault(_answer(pair.completion), pair)
    if len(answers) > 1:
        found.append(Anomaly("replay_mismatch", f"{name} answered {len(answers)} different ways: "
                             + "; ".join(answers), tuple(p.completion.index for p in answers.values())))
    if oks:
        for pair in own:
            done = pair.completion
            if done.type == "fail" and not done.value.get("replayed") and done.error != IN_FLIGHT:
                found.append(Anomaly("replay_mismatch", f"{name} answered {done.status} {done.error} although "
                                     "another call with it succeeded", (oks[0].completion.index, done.index)))
    executions = [p for p in fresh if p.invoke.value.get("params") == params]
    if len(executions) > 1:
        found.append(Anomaly("double_activation", f"{name} was executed {len(executions)} times (answers "
                             "without Idempotent-Replayed)", tuple(p.completion.index for p in executions)))
    for pair in calls:
        if pair.invoke.value.get("params") == params:
            continue
        done = pair.completion
        reused = f"{name} reused with {pair.invoke.value.get('params')} (first {params})"
        if done.type == "ok":
            found.append(Anomaly("reuse_accepted", f"{reused} was accepted, not refused with 422",
                                 (first.completion.index, done.index)))
        elif done.type == "fail" and done.status != MISMATCH_STATUS and done.error != IN_FLIGHT:
            found.append(Anomaly("reuse_not_rejected", f"{reused} answered {done.status} {done.error}, not 422",
                                 (first.completion.index, done.index)))
    return found


def _check_against_reads(subscription: Any, key: str, calls: list[Pair], made: set[Any]) -> list[Anomaly]:
    """An answer naming an activation invoice the final read does not hold: a replay that is not the
    first outcome (it may be the only answer seen when the first one was lost), or a lost activation."""
    found = []
    for pair in calls:
        done = pair.completion
        invoice_id = (done.value.get("body") or {}).get("invoice_id") if done.type == "ok" else None
        if invoice_id is None or ident(invoice_id) in made:
            continue
        replayed = bool(done.value.get("replayed"))
        found.append(Anomaly("replay_mismatch" if replayed else "lost",
                             f"key {key!r} of subscription {subscription} answered invoice {invoice_id}"
                             f"{' (replayed)' if replayed else ''}, but the activation invoices are "
                             f"{sorted(made, key=str)}", (pair.invoke.index, done.index)))
    return found


def _answer(done: Op) -> str:
    """What a replay must repeat: the status and the body (or, without a recorded body, the result fields)."""
    body = done.value["body"] if "body" in done.value else {
        k: v for k, v in done.value.items() if k not in REQUEST_FIELDS}
    return f"{done.status} {json.dumps(body, sort_keys=True, default=str)}"
