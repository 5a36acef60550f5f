"""Nothing sold beyond capacity; confirmed sales are rows, rows are confirmed sales; counters equal rows.

The seed's "SELECT count, then INSERT" race only shows when buyers compete
for the last seats: a run in which nobody was ever refused proved nothing
about overselling. So besides its anomalies this checker counts its
evidence: the refusals at capacity (``no_oversell``: a fail coded
``sold_out``/``slot_full``, or any definite fail once the confirmed sales had
reached the capacity, for services whose refusals carry no code) and the
final reads it could compare (``counters_match``). A counter or list the
read does not extract makes the verdict "not checked" naming it, never an
anomaly; ids are opaque (a UUID event is as good as event 7).

Input: the history (``purchase_ticket`` {event_id, quantity} -> ok with
``ticket_id``; ``book_slot`` {slot_id} -> ok with ``booking_id``) and final
reads ``{"events": {id: {capacity, available, tickets}}, "slots": {id:
{capacity, booked, bookings}}}``. Anomalies: ``oversell`` (more sold than
capacity), ``counter_mismatch`` (the counter and the rows disagree), ``lost``
(a confirmed purchase without its row), ``phantom`` (more unexplained rows
than calls whose outcome is unknown), ``bad_error`` (a 409 with a code other
than the contract's; a refusal with no code is not judged).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaos.checkers.reads import as_number, ident
from chaos.checkers.result import Anomaly, Evidence, Result, judged
from chaos.history import Op, Pair, pairs

SITUATIONS = {"no_oversell": "a purchase or booking refused because the capacity was reached",
              "counters_match": "a final read with counters and rows"}


@dataclass(frozen=True)
class Resource:
    """How one kind of limited resource appears in the history and in its final read."""

    kind: str           # "event" / "slot" (also the operation that reads it)
    reads: str          # key of the final reads
    f: str
    id_field: str
    rows: str
    row_id: str
    conflict: str       # the 409 code the contract gives when it is full
    counters: tuple[str, ...]

    def sold_by_counter(self, state: Mapping[str, Any]) -> int | None:
        numbers = [as_number(state.get(name)) for name in self.counters]
        if any(n is None for n in numbers):
            return None
        return numbers[0] - numbers[1] if self.kind == "event" else numbers[0]  # type: ignore[operator]


RESOURCES = (Resource("event", "events", "purchase_ticket", "event_id", "tickets", "ticket_id", "sold_out",
                      ("capacity", "available")),
             Resource("slot", "slots", "book_slot", "slot_id", "bookings", "booking_id", "slot_full", ("booked",)))


def check(history: Sequence[Op], final: Mapping[str, Mapping[Any, Mapping[str, Any]]] | None, *,
          claims: Iterable[str] | None = None) -> Result:
    anomalies: list[Anomaly] = []
    stats: dict[str, Any] = {}
    missing: list[str] = []
    refused = compared = 0
    everything = pairs(history)
    for resource in RESOURCES:
        calls: dict[Any, list[Pair]] = defaultdict(list)
        for pair in everything:
            if pair.invoke.f == resource.f:
                calls[ident(pair.invoke.value.get(resource.id_field))].append(pair)
        for resource_id, state in (final or {}).get(resource.reads, {}).items():
            one = _One(resource, resource_id, state if isinstance(state, Mapping) else {},
                       calls.pop(ident(resource_id), []))
            anomalies.extend(one.found)
            missing.extend(one.missing)
            refused += one.refused
            compared += one.compared
            stats[f"{resource.kind}_{resource_id}"] = one.stat
        if calls:
            stats[f"{resource.kind}s_without_final_read"] = sorted(calls, key=str)
            refused += sum(1 for group in calls.values() for p in group if _coded_refusal(resource, p))
    stats["refusals_at_capacity"] = refused
    evidence = {"no_oversell": Evidence(SITUATIONS["no_oversell"], refused),
                "counters_match": Evidence(SITUATIONS["counters_match"], compared)}
    return judged("capacity", anomalies, stats, evidence, claims, missing)


def _quantity(pair: Pair) -> int:
    found = as_number(pair.invoke.value.get("quantity", 1))
    return found if found is not None and found > 0 else 1


def _row_quantity(row: Any) -> int:
    found = as_number(row.get("quantity", 1)) if isinstance(row, Mapping) else None
    return found if found is not None and found > 0 else 1


def _coded_refusal(resource: Resource, pair: Pair) -> bool:
    return pair.completion.type == "fail" and pair.completion.error == resource.conflict


class _One:
    """One event or slot: its read against its calls."""

    def __init__(self, resource: Resource, resource_id: Any, state: Mapping[str, Any], calls: list[Pair]) -> None:
        self.found: list[Anomaly] = []
        self.missing: list[str] = []
        name = f"{resource.kind} {resource_id}"
        capacity = as_number(state.get("capacity"))
        if capacity is None:
            self.missing.append(f"{resource.kind} does not extract capacity")
        raw_rows = state.get(resource.rows)
        rows = list(raw_rows) if isinstance(raw_rows, (list, tuple)) else None
        if rows is None:
            self.missing.append(f"{resource.kind} does not extract {resource.rows}")
        by_counter = resource.sold_by_counter(state)
        if by_counter is None:
            absent = [n for n in resource.counters if as_number(state.get(n)) is None and n != "capacity"]
            self.missing.extend(f"{resource.kind} does not extract {n}" for n in absent)
        confirmed = [p for p in calls if p.completion.type == "ok"]
        unknown = [p for p in calls if p.completion.type == "info"]
        witnesses = tuple(p.completion.index for p in confirmed)
        sold = sum(_row_quantity(row) for row in rows) if rows is not None else None
        shown = sold if sold is not None else by_counter
        if capacity is not None and shown is not None and shown > capacity:
            self.found.append(Anomaly("oversell", f"{name}: {shown} sold, capacity {capacity}", witnesses))
        if by_counter is not None and sold is not None and by_counter != sold:
            self.found.append(Anomaly("counter_mismatch", f"{name}: the counter says {by_counter} sold, the rows "
                                      f"{sold}", witnesses))
        self.compared = int(by_counter is not None and sold is not None)
        if rows is not None:
            self._rows(resource, name, rows, confirmed, unknown)
        for pair in calls:
            done = pair.completion
            if done.type == "fail" and done.status == 409 and done.error not in (None, resource.conflict):
                self.found.append(Anomaly("bad_error", f"{name}: 409 with error {done.error!r}, not "
                                          f"{resource.conflict!r}", (pair.invoke.index, done.index)))
        self.refused = self._refusals(resource, calls, capacity)
        self.stat = {"capacity": capacity, "sold": sold, "rows": None if rows is None else len(rows),
                     "counter": by_counter, "ok": len(confirmed),
                     "fail": sum(1 for p in calls if p.completion.type == "fail"), "info": len(unknown)}

    def _rows(self, resource: Resource, name: str, rows: list[Any], confirmed: list[Pair],
              unknown: list[Pair]) -> None:
        if any(not isinstance(row, Mapping) or row.get(resource.row_id) is None for row in rows):
            self.missing.append(f"{resource.kind} does not extract {resource.row_id} in its {resource.rows}")
            return
        row_ids = {ident(row[resource.row_id]) for row in rows}
        confirmed_ids = {ident(p.completion.value.get(resource.row_id)) for p in confirmed} - {None}
        for pair in confirmed:
            row_id = pair.completion.value.get(resource.row_id)
            if row_id is not None and ident(row_id) not in row_ids:
                self.found.append(Anomaly("lost", f"{name}: {resource.row_id} {row_id} was confirmed but is not "
                                          "in the final read", (pair.invoke.index, pair.completion.index)))
        unexplained = len(rows) - len(row_ids & confirmed_ids) - sum(
            1 for p in confirmed if p.completion.value.get(resource.row_id) is None)
        if unexplained > len(unknown):
            extra = [row for row in rows if ident(row[resource.row_id]) not in confirmed_ids]
            self.found.append(Anomaly("phantom", f"{name}: {unexplained} row(s) that no confirmed call made, and "
                                      f"only {len(unknown)} call(s) whose outcome is unknown",
                                      (*(p.completion.index for p in unknown), *extra[:20])))

    @staticmethod
    def _refusals(resource: Resource, calls: list[Pair], capacity: int | None) -> int:
        """Refusals at capacity: a fail with the contract's code, or any definite fail invoked once the
        confirmed sales had reached the capacity (a service whose refusals name no code)."""
        full_at = None
        if capacity is not None:
            total = 0
            for pair in sorted((p for p in calls if p.completion.type == "ok"), key=lambda p: p.completion.time):
                total += _quantity(pair)
                if total >= capacity:
                    full_at = pair.completion.time
                    break
        return sum(1 for p in calls if _coded_refusal(resource, p) or (
            p.completion.type == "fail" and full_at is not None and p.invoke.time >= full_at))
