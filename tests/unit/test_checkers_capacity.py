"""The capacity checker: never more sold than there is; confirmed sales are rows; counters equal rows."""
from __future__ import annotations

from typing import Any

import pytest

from chaos.checkers import capacity
from chaos.history import sequential

pytestmark = pytest.mark.unit


def buy(kind: str, ticket: int | None = None, quantity: int = 1, **fields: Any):
    if kind == "ok":
        fields = {"status": 201, "result": {"ticket_id": ticket}, **fields}
    return ("purchase_ticket", {"event_id": 1, "quantity": quantity}, kind, fields)


def sold_out():
    return buy("fail", status=409, error="sold_out")


def book(kind: str, booking: int | None = None, **fields: Any):
    if kind == "ok":
        fields = {"status": 201, "result": {"booking_id": booking}, **fields}
    return ("book_slot", {"slot_id": 3}, kind, fields)


def event(capacity_: int, available: int, tickets: list[int | tuple[int, int]]) -> dict:
    rows = [{"ticket_id": t, "quantity": 1} if isinstance(t, int) else {"ticket_id": t[0], "quantity": t[1]}
            for t in tickets]
    return {"events": {1: {"capacity": capacity_, "available": available, "tickets": rows}}}


def slot(capacity_: int, booked: int, bookings: list[int]) -> dict:
    return {"slots": {"3": {"capacity": capacity_, "booked": booked,
                            "bookings": [{"booking_id": b} for b in bookings]}}}


def kinds(result) -> list[str]:
    return sorted(a.kind for a in result.anomalies)


def test_100_buyers_for_10_tickets_sell_exactly_10() -> None:
    history = sequential([buy("ok", n) if n < 10 else sold_out() for n in range(100)])
    result = capacity.check(history, event(10, 0, list(range(10))))
    assert result.valid is True
    assert result.stats["event_1"] == {"capacity": 10, "sold": 10, "rows": 10, "counter": 10, "ok": 10, "fail": 90,
                                       "info": 0}


def test_quantities_count_towards_capacity() -> None:
    history = sequential([buy("ok", 1, quantity=3), buy("ok", 2, quantity=2)])
    assert capacity.check(history, event(5, 0, [(1, 3), (2, 2)])).valid is True
    assert kinds(capacity.check(history, event(4, -1, [(1, 3), (2, 2)]))) == ["oversell"]


def test_read_then_write_across_instances_oversells() -> None:
    history = sequential([buy("ok", n) for n in range(12)])
    result = capacity.check(history, event(10, 0, list(range(12))))  # both read "1 left" and both wrote
    assert kinds(result) == ["counter_mismatch", "oversell"]
    assert "12 sold, capacity 10" in next(a.message for a in result.anomalies if a.kind == "oversell")


def test_a_counter_that_disagrees_with_the_rows() -> None:
    history = sequential([buy("ok", 1), buy("ok", 2)])
    assert kinds(capacity.check(history, event(10, 9, [1, 2]))) == ["counter_mismatch"]


def test_a_confirmed_purchase_without_its_row_is_lost() -> None:
    result = capacity.check(sequential([buy("ok", 1), buy("ok", 2)]), event(10, 9, [1]))
    assert kinds(result) == ["lost"] and "ticket_id 2" in result.anomalies[0].message


def test_a_row_no_call_made_is_a_phantom_unless_an_unknown_call_explains_it() -> None:
    assert kinds(capacity.check(sequential([buy("ok", 1)]), event(10, 8, [1, 7]))) == ["phantom"]
    explained = sequential([buy("ok", 1), buy("info", error="ReadTimeout")])
    assert capacity.check(explained, event(10, 8, [1, 7])).valid is True
    assert capacity.check(explained, event(10, 9, [1])).valid is True  # or it did not happen


def test_a_409_with_another_code_is_a_bad_error() -> None:
    history = sequential([buy("ok", 1), buy("fail", status=409, error="conflict")])
    assert kinds(capacity.check(history, event(1, 0, [1]))) == ["bad_error"]


def test_slots_are_judged_like_events() -> None:
    history = sequential([book("ok", 1), book("ok", 2), book("fail", status=409, error="slot_full")])
    assert capacity.check(history, slot(2, 2, [1, 2])).valid is True
    overbooked = sequential([book("ok", b) for b in range(1, 4)])
    assert kinds(capacity.check(overbooked, slot(2, 2, [1, 2, 3]))) == ["counter_mismatch", "oversell"]


def test_calls_for_a_resource_without_a_final_read_are_listed() -> None:
    result = capacity.check(sequential([buy("ok", 1)]), {"events": {}})
    assert result.valid is True and result.stats["events_without_final_read"] == [1]
