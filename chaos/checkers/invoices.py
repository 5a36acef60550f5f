"""At most one invoice per (user, period); no confirmed invoice lost; none from nowhere; honest 409s.

Input: the history (``generate_invoice`` calls, value {user_id, period}; an
ok carries ``invoice_id``) and the final reads {user_id: [invoices]} taken
after the faults healed. An ``info`` call may or may not have invoiced:
either is fine, and the stats say how each one turned out.

Anomalies: ``duplicate`` (two invoices for one key), ``lost`` (an ok's
invoice, or the one a 409 ``invoice_exists`` vouched for, is not in the final
reads), ``phantom`` (an invoice for a key no ok or info call could have
made), ``bad_error`` (a 409 whose code is not one the contract allows).
Activation invoices (period ``activation-<subscription>``) belong to the
idempotency checker and are only counted here.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from chaos.checkers.reads import Invoice, Key, count, invoices_by_key, key_of
from chaos.checkers.result import Anomaly, Result, verdict
from chaos.history import Op, Pair, pairs

F = "generate_invoice"
ASYNC_F = "generate_invoice_async"
ALLOWED_CONFLICTS = frozenset({"invoice_exists", "lock_timeout", "lock_lost"})
ACTIVATION_PREFIX = "activation-"


def check(history: Sequence[Op], final: Mapping[Any, Sequence[Invoice]]) -> Result:
    calls: dict[Key, list[Pair]] = defaultdict(list)
    makers: dict[Key, list[Pair]] = defaultdict(list)  # calls (sync or async) that may have invoiced
    for pair in pairs(history):
        if pair.invoke.f in (F, ASYNC_F):
            key = key_of(pair.invoke.value)
            if pair.invoke.f == F:
                calls[key].append(pair)
            if pair.completion.type != "fail":
                makers[key].append(pair)
    stored = invoices_by_key(final)
    anomalies: list[Anomaly] = []
    other = 0
    for key, invoices in sorted(stored.items(), key=str):
        if key[1].startswith(ACTIVATION_PREFIX):
            other += len(invoices)
            continue
        if len(invoices) > 1:
            anomalies.append(Anomaly("duplicate", f"user {key[0]}, {key[1]} has {len(invoices)} invoices "
                                     f"{[i.get('invoice_id') for i in invoices]}",
                                     _indexes(makers[key] or calls[key])))
        if not makers[key]:
            asked = "only failed calls asked for it" if calls[key] else "no call asked for it"
            anomalies.append(Anomaly("phantom", f"invoice {invoices[0].get('invoice_id')} for user {key[0]}, "
                                     f"{key[1]} exists, but {asked}", (*_indexes(calls[key]), *invoices)))
    resolved = {"info_invoiced": 0, "info_not_invoiced": 0}
    for key, key_calls in calls.items():
        anomalies.extend(_judge(key, key_calls, stored.get(key, []), resolved))
    every = [pair for key_calls in calls.values() for pair in key_calls]
    stats = {"generates": len(every), **count(p.completion.type for p in every), **resolved,
             "conflicts": count(p.completion.error for p in every if p.completion.status == 409),
             "keys": len(calls), "invoices": sum(map(len, stored.values())) - other, "other_invoices": other}
    return Result("invoices", verdict(anomalies), anomalies, stats)


def _judge(key: Key, calls: list[Pair], invoices: list[Invoice], resolved: dict[str, int]) -> list[Anomaly]:
    """One ``lost`` per invoice that went missing (with every call that vouched for it), one
    ``bad_error`` per dishonest 409."""
    present = {i.get("invoice_id") for i in invoices}
    found: list[Anomaly] = []
    missing: dict[Any, list[Pair]] = defaultdict(list)
    vouched: list[Pair] = []
    for pair in calls:
        done = pair.completion
        if done.type == "ok":
            invoice_id = done.value.get("invoice_id")
            if (invoice_id is None and not present) or (invoice_id is not None and invoice_id not in present):
                missing[invoice_id].append(pair)
        elif done.type == "info":
            resolved["info_invoiced" if present else "info_not_invoiced"] += 1
        elif done.status == 409 and done.error not in ALLOWED_CONFLICTS:
            found.append(Anomaly("bad_error", f"409 with error {done.error!r} for user {key[0]}, {key[1]}; allowed: "
                                 f"{sorted(ALLOWED_CONFLICTS)}", (pair.invoke.index, done.index)))
        elif done.status == 409 and done.error == "invoice_exists" and not present:
            vouched.append(pair)
    held = f"the final read holds {sorted(present, key=str) or 'none'}"
    also = f"; {len(vouched)} call(s) answered 409 invoice_exists for it" if vouched else ""
    for invoice_id, confirming in missing.items():
        found.append(Anomaly("lost", f"generate for user {key[0]}, {key[1]} returned invoice {invoice_id}, but {held}"
                             f"{also}", _indexes(confirming + vouched)))
    if vouched and not missing:
        found.append(Anomaly("lost", f"{len(vouched)} call(s) for user {key[0]}, {key[1]} answered 409 "
                             f"invoice_exists, but {held}", _indexes(vouched)))
    return found


def _indexes(calls: list[Pair]) -> tuple[int, ...]:
    return tuple(pair.completion.index for pair in calls)
