"""At most one invoice per (user, period); ok generates are never lost; 409s carry the right code.

Final reads: {user_id: [invoice dicts with invoice_id, user_id, period]}.
"""
from __future__ import annotations

from collections import defaultdict

from chaos.checkers.result import Anomaly, Result, verdict
from chaos.history import Op, pairs

F = "generate_invoice"
ALLOWED_CONFLICTS = {"invoice_exists", "lock_timeout", "lock_lost"}


def check(history: list[Op], final: dict[int, list[dict]]) -> Result:
    anomalies: list[Anomaly] = []
    generated = [(inv, done) for inv, done in pairs(history) if inv.f == F]
    by_key: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for user_id, invoices in final.items():
        for invoice in invoices:
            by_key[(int(invoice["user_id"]), invoice["period"])].append(invoice)
    attempted = {(int(inv.value["user_id"]), inv.value["period"]) for inv, _ in pairs(history)
                 if inv.f in (F, "generate_invoice_async")}
    witnesses: dict[tuple[int, str], list[int]] = defaultdict(list)
    for inv, done in generated:
        witnesses[(int(inv.value["user_id"]), inv.value["period"])].append(done.index)

    for key, invoices in sorted(by_key.items()):
        if len(invoices) > 1:
            ids = [i["invoice_id"] for i in invoices]
            anomalies.append(Anomaly("duplicate", f"user {key[0]}, {key[1]} has {len(invoices)} invoices {ids}",
                                     tuple(witnesses.get(key, []))))
        if key not in attempted and not key[1].startswith("activation-"):
            anomalies.append(Anomaly("phantom", f"invoice {invoices[0]['invoice_id']} for user {key[0]}, {key[1]} "
                                     "was never asked for"))
    resolved = {"info_invoiced": 0, "info_not_invoiced": 0}
    for inv, done in generated:
        key = (int(inv.value["user_id"]), inv.value["period"])
        present = {i["invoice_id"] for i in by_key.get(key, [])}
        if done.type == "ok":
            invoice_id = done.value.get("invoice_id")
            if invoice_id not in present:
                anomalies.append(Anomaly("lost", f"generate for user {key[0]}, {key[1]} returned invoice "
                                         f"{invoice_id}, which the final read does not hold", (inv.index, done.index)))
        elif done.type == "info":
            resolved["info_invoiced" if present else "info_not_invoiced"] += 1
        elif done.status == 409 and done.error not in ALLOWED_CONFLICTS:
            anomalies.append(Anomaly("bad_error", f"409 with error {done.error!r}, not one of "
                                     f"{sorted(ALLOWED_CONFLICTS)}", (done.index,)))
    types = defaultdict(int)
    for _, done in generated:
        types[done.type] += 1
    return Result("invoices", verdict(anomalies), anomalies,
                  {"generates": len(generated), **types, **resolved, "invoices": sum(map(len, by_key.values()))})
