"""The capacity checker: never more sold than there is; confirmed sales are rows; counters equal rows;
unknown when nobody met the capacity or the read lacks a counter."""
from __future__ import annotations

from typing import Any

import uuid

import pytest

from chaos.checkers import capacity
from chaos.history import sequential

pytestmark = pytest.mark.unit
BOTH = ["no_oversell", "counters_match"]


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
    result = capacity.check(history, event(10, 0, list(range(10))), claims=BOTH)
    assert result.valid is True
    assert result.stats["event_1"] == {"capacity": 10, "sold": 10, "rows": 10, "counter": 10, "ok": 10, "fail": 90,
                                       "info": 0}
    assert result.evidence["no_oversell"].count == 90 and result.evidence["counters_match"].count == 1


def test_quantities_count_towards_capacity() -> None:
    history = sequential([buy("ok", 1, quantity=3), buy("ok", 2, quantity=2)])
    assert capacity.check(history, event(5, 0, [(1, 3), (2, 2)]), claims=["counters_match"]).valid is True
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
    assert kinds(capacity.check(explained, event(10, 8, [1, 7]))) == []
    assert kinds(capacity.check(explained, event(10, 9, [1]))) == []  # or it did not happen


def test_a_409_with_another_code_is_a_bad_error() -> None:
    history = sequential([buy("ok", 1), buy("fail", status=409, error="conflict")])
    assert kinds(capacity.check(history, event(1, 0, [1]))) == ["bad_error"]


def test_slots_are_judged_like_events() -> None:
    history = sequential([book("ok", 1), book("ok", 2), book("fail", status=409, error="slot_full")])
    assert capacity.check(history, slot(2, 2, [1, 2]), claims=BOTH).valid is True
    overbooked = sequential([book("ok", b) for b in range(1, 4)])
    assert kinds(capacity.check(overbooked, slot(2, 2, [1, 2, 3]))) == ["counter_mismatch", "oversell"]


def test_calls_for_a_resource_without_a_final_read_are_listed() -> None:
    result = capacity.check(sequential([buy("ok", 1)]), {"events": {}})
    assert result.anomalies == [] and result.stats["events_without_final_read"] == [1]


def test_a_409_with_no_code_is_not_a_bad_error() -> None:
    history = sequential([buy("ok", 1), buy("fail", status=409)])
    assert kinds(capacity.check(history, event(1, 0, [1]))) == []


def test_uuid_events_and_tickets_are_opaque() -> None:
    event_id = str(uuid.uuid4())
    tickets = [str(uuid.uuid4()) for _ in range(3)]
    history = sequential([("purchase_ticket", {"event_id": event_id, "quantity": 1}, "ok",
                           {"status": 201, "result": {"ticket_id": t}}) for t in tickets]
                         + [("purchase_ticket", {"event_id": event_id, "quantity": 1}, "fail",
                             {"status": 409, "error": "sold_out"})])
    final = {"events": {event_id: {"capacity": 3, "available": 0,
                                   "tickets": [{"ticket_id": t, "quantity": 1} for t in tickets]}}}
    result = capacity.check(history, final, claims=BOTH)
    assert result.valid is True and f"event_{event_id}" in result.stats
    final["events"][event_id]["tickets"].pop()
    final["events"][event_id]["available"] = 1
    assert kinds(capacity.check(history, final)) == ["lost"]


def test_a_refusal_in_words_once_the_capacity_was_sold_is_evidence() -> None:
    """A service with no machine codes: its refusal after the last seat went still counts."""
    history = sequential([buy("ok", 1, quantity=2), buy("fail", status=400, error=None)])
    result = capacity.check(history, event(2, 0, [(1, 2)]), claims=["no_oversell"])
    assert result.valid is True and result.evidence["no_oversell"].count == 1


def test_purchases_of_several_tickets_reach_the_capacity_by_their_quantities() -> None:
    early = sequential([buy("fail", status=400, error=None), buy("ok", 1, quantity=3)])
    result = capacity.check(early, event(3, 0, [(1, 3)]), claims=["no_oversell"])
    assert result.valid == "unknown"  # refused before the capacity was sold: not a refusal at capacity
    assert result.reason == "not exercised (a purchase or booking refused because the capacity was reached)"


def test_nobody_refused_is_not_exercised() -> None:
    result = capacity.check(sequential([buy("ok", 1)]), event(10, 9, [1]))
    assert result.valid == "unknown" and "not exercised" in result.reason


@pytest.mark.parametrize("drop, field", [("available", "available"), ("capacity", "capacity"),
                                         ("tickets", "tickets")])
def test_a_read_without_a_counter_or_its_rows_is_not_checked_never_a_crash(drop: str, field: str) -> None:
    history = sequential([buy("ok", 1), sold_out()])
    final = event(1, 0, [1])
    del final["events"][1][drop]
    result = capacity.check(history, final)
    assert result.valid == "unknown" and result.anomalies == []
    assert f"event does not extract {field}" in result.reason


def test_rows_without_their_ids_are_not_checked_not_lost() -> None:
    history = sequential([buy("ok", 1), sold_out()])
    final = {"events": {1: {"capacity": 1, "available": 0, "tickets": [{"quantity": 1}]}}}
    result = capacity.check(history, final)
    assert result.anomalies == [] and "event does not extract ticket_id in its tickets" in result.reason


def test_an_oversell_shows_in_the_counter_when_the_read_has_no_rows() -> None:
    history = sequential([buy("ok", 1), buy("ok", 2)])
    result = capacity.check(history, {"events": {1: {"capacity": 1, "available": -1}}})
    assert kinds(result) == ["oversell"] and result.valid is False
