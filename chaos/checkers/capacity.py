"""Nothing sold beyond capacity; successful purchases equal rows; counters equal rows.

Final reads: {"events": {id: {capacity, available, tickets: [...]}}, "slots": {id: {capacity, booked, bookings}}}.
"""
from __future__ import annotations

from chaos.checkers.result import Anomaly, Result, verdict
from chaos.history import Op, pairs


def check(history: list[Op], final: dict[str, dict[int, dict]]) -> Result:
    anomalies: list[Anomaly] = []
    done = pairs(history)
    stats = {}
    for kind, f, rows_field, id_field, row_id in (
            ("events", "purchase_ticket", "tickets", "event_id", "ticket_id"),
            ("slots", "book_slot", "bookings", "slot_id", "booking_id")):
        for resource_id, state in final.get(kind, {}).items():
            rows = state[rows_field]
            sold = sum(int(r.get("quantity", 1)) for r in rows)
            calls = [(i, d) for i, d in done if i.f == f and int(i.value[id_field]) == int(resource_id)]
            confirmed = tuple(d.index for _, d in calls if d.type == "ok")
            if sold > state["capacity"]:
                anomalies.append(Anomaly("oversell", f"{kind[:-1]} {resource_id}: {sold} sold, capacity "
                                         f"{state['capacity']}", confirmed))
            counter_sold = state["capacity"] - state["available"] if kind == "events" else state["booked"]
            if counter_sold != sold:
                anomalies.append(Anomaly("counter_mismatch", f"{kind[:-1]} {resource_id}: the counter says "
                                         f"{counter_sold} sold, the rows {sold}", confirmed))
            ok_ids = {d.value.get(row_id) for _, d in calls if d.type == "ok"}
            row_ids = {r[row_id] for r in rows}
            for lost in sorted(ok_ids - row_ids, key=str):
                anomalies.append(Anomaly("lost", f"{row_id} {lost} was confirmed but is not in the final read",
                                         tuple(d.index for _, d in calls if d.value.get(row_id) == lost)))
            unexplained = row_ids - ok_ids
            maybe = sum(1 for _, d in calls if d.type == "info")
            if len(unexplained) > maybe:
                anomalies.append(Anomaly("phantom", f"{kind[:-1]} {resource_id}: {len(unexplained)} rows no "
                                         f"confirmed or unknown call explains ({maybe} unknown)"))
            stats[f"{kind[:-1]}_{resource_id}"] = {"sold": sold, "capacity": state["capacity"],
                                                   "ok": len(ok_ids), "unknown": maybe}
    return Result("capacity", verdict(anomalies), anomalies, stats)
