"""The async checker: every accepted (202) request has exactly one invoice after healing."""
from __future__ import annotations

import pytest

from chaos.checkers import async_invoices
from chaos.history import Call, Fault, build, sequential

pytestmark = pytest.mark.unit
P = "2026-03"


def submit(user: int, kind: str = "ok", task: str | None = None, **fields):
    if kind == "ok":
        fields = {"status": 202, "result": {"task_id": task or f"t{user}"}, **fields}
    return ("generate_invoice_async", {"user_id": user, "period": P}, kind, fields)


def row(invoice_id: int, user: int) -> dict:
    return {"invoice_id": invoice_id, "user_id": user, "period": P}


def kinds(result) -> list[str]:
    return sorted(a.kind for a in result.anomalies)


def test_every_accepted_request_with_exactly_one_invoice_is_valid() -> None:
    history = sequential([submit(1), submit(2), submit(2, task="t2-retry")])  # a retry of an accepted request
    result = async_invoices.check(history, {1: [row(10, 1)], 2: [row(11, 2)]})
    assert result.valid is True and result.stats["accepted"] == 3 and result.stats["keys"] == 2


def test_a_task_lost_with_its_killed_worker_is_lost() -> None:
    history = build([Call("c1", "generate_invoice_async", {"user_id": 1, "period": P}, "ok", 0.0, 0.05,
                          status=202, result={"task_id": "t1"}),
                     Call("c2", "generate_invoice_async", {"user_id": 2, "period": P}, "ok", 0.0, 0.05,
                          status=202, result={"task_id": "t2"})],
                    [Fault(0.5, 0.6, {"fault": "kill", "target": "worker_1"})])
    result = async_invoices.check(history, {1: [row(10, 1)], 2: []})
    assert kinds(result) == ["lost"] and "t2" in result.anomalies[0].message
    (witness,) = result.anomalies[0].ops
    assert history[witness].type == "ok" and history[witness].value["task_id"] == "t2"


def test_a_task_redelivered_and_run_twice_is_a_duplicate() -> None:
    result = async_invoices.check(sequential([submit(1)]), {1: [row(10, 1), row(12, 1)]})
    assert kinds(result) == ["duplicate"] and "[10, 12]" in result.anomalies[0].message


def test_lost_and_duplicate_are_both_reported() -> None:
    result = async_invoices.check(sequential([submit(1), submit(2)]), {1: [], 2: [row(1, 2), row(2, 2)]})
    assert kinds(result) == ["duplicate", "lost"]


@pytest.mark.parametrize("final, invoiced", [([row(10, 1)], 1), ([], 0)])
def test_a_request_whose_answer_was_lost_may_be_queued_or_not(final: list, invoiced: int) -> None:
    result = async_invoices.check(sequential([submit(1, "info", error="ReadTimeout")]), {1: final})
    assert result.valid is True
    assert result.stats["info_keys_invoiced"] == invoiced and result.stats["info_keys_not_invoiced"] == 1 - invoiced


def test_a_request_whose_answer_was_lost_still_makes_at_most_one_invoice() -> None:
    result = async_invoices.check(sequential([submit(1, "info", error="ReadTimeout")]), {1: [row(1, 1), row(2, 1)]})
    assert kinds(result) == ["duplicate"]


def test_rejected_requests_are_counted_not_judged() -> None:
    result = async_invoices.check(sequential([submit(1, "fail", status=403, error="forbidden")]), {1: []})
    assert result.valid is True and result.stats["rejected"] == 1
