"""Nothing sold beyond capacity; confirmed sales are rows, rows are confirmed sales; counters equal rows.

Input: the history (``purchase_ticket`` {event_id, quantity} -> ok with
``ticket_id``; ``book_slot`` {slot_id} -> ok with ``booking_id``) and final
reads ``{"events": {id: {capacity, available, tickets}}, "slots": {id:
{capacity, booked, bookings}}}``. The seed's "SELECT count, then INSERT" race
shows as ``oversell`` (more sold than capacity) or ``counter_mismatch`` (the
counter column and the rows disagree). A confirmed purchase without its row
is ``lost``; more unexplained rows than calls whose outcome is unknown is
``phantom``; a 409 with another code than the contract's is ``bad_error``.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaos.checkers.reads import ident
from chaos.checkers.result import Anomaly, Result, verdict
from chaos.history import Op, Pair, pairs


@dataclass(frozen=True)
class Resource:
    """How one kind of limited resource appears in the history and in its final read."""

    kind: str           # "event" / "slot"
    reads: str          # key of the final reads
    f: str
    id_field: str
    rows: str
    row_id: str
    conflict: str       # the 409 code the contract gives when it is full

    def sold_by_counter(self, state: Mapping[str, Any]) -> int:
        if self.kind == "event":
            return int(state["capacity"]) - int(state["available"])
        return int(state["booked"])


RESOURCES = (Resource("event", "events", "purchase_ticket", "event_id", "tickets", "ticket_id", "sold_out"),
             Resource("slot", "slots", "book_slot", "slot_id", "bookings", "booking_id", "slot_full"))


def check(history: Sequence[Op], final: Mapping[str, Mapping[Any, Mapping[str, Any]]]) -> Result:
    anomalies: list[Anomaly] = []
    stats: dict[str, Any] = {}
    everything = pairs(history)
    for resource in RESOURCES:
        calls: dict[Any, list[Pair]] = defaultdict(list)
        for pair in everything:
            if pair.invoke.f == resource.f:
                calls[ident(pair.invoke.value.get(resource.id_field))].append(pair)
        for resource_id, state in final.get(resource.reads, {}).items():
            resource_calls = calls.pop(ident(resource_id), [])
            found, stat = _check_one(resource, resource_id, state, resource_calls)
            anomalies.extend(found)
            stats[f"{resource.kind}_{resource_id}"] = stat
        if calls:
            stats[f"{resource.kind}s_without_final_read"] = sorted(calls, key=str)
    return Result("capacity", verdict(anomalies), anomalies, stats)


def _check_one(resource: Resource, resource_id: Any, state: Mapping[str, Any],
               calls: list[Pair]) -> tuple[list[Anomaly], dict[str, Any]]:
    name = f"{resource.kind} {resource_id}"
    rows = list(state[resource.rows])
    sold = sum(int(row.get("quantity", 1)) for row in rows)
    capacity = int(state["capacity"])
    confirmed = [p for p in calls if p.completion.type == "ok"]
    unknown = [p for p in calls if p.completion.type == "info"]
    witnesses = tuple(p.completion.index for p in confirmed)
    found: list[Anomaly] = []
    if sold > capacity:
        found.append(Anomaly("oversell", f"{name}: {sold} sold, capacity {capacity}", witnesses))
    by_counter = resource.sold_by_counter(state)
    if by_counter != sold:
        found.append(Anomaly("counter_mismatch", f"{name}: the counter says {by_counter} sold, the rows {sold}",
                             witnesses))
    row_ids = {ident(row.get(resource.row_id)) for row in rows}
    confirmed_ids = {ident(p.completion.value.get(resource.row_id)) for p in confirmed} - {None}
    for pair in confirmed:
        row_id = ident(pair.completion.value.get(resource.row_id))
        if row_id is not None and row_id not in row_ids:
            found.append(Anomaly("lost", f"{name}: {resource.row_id} {row_id} was confirmed but is not in the "
                                 "final read", (pair.invoke.index, pair.completion.index)))
    unexplained = len(rows) - len(row_ids & confirmed_ids) - sum(
        1 for p in confirmed if p.completion.value.get(resource.row_id) is None)
    if unexplained > len(unknown):
        extra = [row for row in rows if ident(row.get(resource.row_id)) not in confirmed_ids]
        found.append(Anomaly("phantom", f"{name}: {unexplained} row(s) that no confirmed call made, and only "
                             f"{len(unknown)} call(s) whose outcome is unknown",
                             (*(p.completion.index for p in unknown), *extra[:20])))
    for pair in calls:
        done = pair.completion
        if done.type == "fail" and done.status == 409 and done.error != resource.conflict:
            found.append(Anomaly("bad_error", f"{name}: 409 with error {done.error!r}, not {resource.conflict!r}",
                                 (pair.invoke.index, done.index)))
    stat = {"capacity": capacity, "sold": sold, "rows": len(rows), "counter": by_counter, "ok": len(confirmed),
            "fail": sum(1 for p in calls if p.completion.type == "fail"), "info": len(unknown)}
    return found, stat
