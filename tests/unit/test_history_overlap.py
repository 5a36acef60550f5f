"""Calls in flight together: the count every checker's evidence of contention rests on."""
from __future__ import annotations

import pytest

from chaos.history import Call, build, pairs
from chaos.history.handmade import sequential
from chaos.history.op import Op
from chaos.history.overlap import contended, is_pending, max_in_flight

pytestmark = pytest.mark.unit


def calls(*spans: tuple[float, float]) -> list:
    return pairs(build([Call(f"c{i}", "f", {}, "ok", start, end) for i, (start, end) in enumerate(spans)]))


def test_no_calls_are_none_in_flight_and_one_call_is_one() -> None:
    assert max_in_flight([]) == 0
    assert max_in_flight(calls((0, 1))) == 1


def test_sequential_calls_never_overlap() -> None:
    assert max_in_flight(pairs(sequential([("f", {}, "ok", {})] * 5))) == 1


def test_the_most_calls_open_at_one_moment_not_the_most_that_overlap_some_call() -> None:
    # a long call overlaps two short ones that do not overlap each other: at most 2 at once
    assert max_in_flight(calls((0, 10), (1, 2), (3, 4))) == 2
    assert max_in_flight(calls((0, 10), (1, 5), (2, 6), (7, 8))) == 3


def test_calls_that_only_touch_are_not_in_flight_together() -> None:
    assert max_in_flight(calls((0, 1), (1, 2))) == 1


def test_a_call_that_never_completed_stays_open_to_the_end() -> None:
    ops = [Op("a", "invoke", "f", {}, time=0, index=0), Op("b", "invoke", "f", {}, time=5, index=1),
           Op("b", "ok", "f", {}, time=6, index=2)]
    found = pairs(ops)
    assert [is_pending(p) for p in found] == [True, False]
    assert max_in_flight(found) == 2


def test_contended_counts_the_groups_with_two_calls_in_flight_together() -> None:
    together, apart = calls((0, 1), (0.5, 2)), calls((0, 1), (2, 3))
    assert contended({"k1": together, "k2": apart, "k3": together[:1], "uuid-4": []}) == 1
    assert contended({}) == 0
