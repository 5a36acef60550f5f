"""The async checker: every accepted request has exactly one invoice after healing; unknown when
nothing could have been lost or doubled, or when the reads lack the identity."""
from __future__ import annotations

import uuid

import pytest

from chaos.checkers import async_invoices
from chaos.history import Call, Fault, build, sequential

pytestmark = pytest.mark.unit
P = "2026-03"
BOTH = ["none_lost", "none_doubled"]


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
    result = async_invoices.check(history, {1: [row(10, 1)], 2: [row(11, 2)]}, claims=BOTH)
    assert result.valid is True and result.stats["accepted"] == 3 and result.stats["keys"] == 2
    assert result.evidence["none_doubled"].count == 2  # the two accepted requests of user 2


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
    assert result.anomalies == [] and result.valid == "unknown"  # nothing was accepted: no evidence
    assert result.stats["info_keys_invoiced"] == invoiced and result.stats["info_keys_not_invoiced"] == 1 - invoiced


def test_a_request_whose_answer_was_lost_still_makes_at_most_one_invoice() -> None:
    result = async_invoices.check(sequential([submit(1, "info", error="ReadTimeout")]), {1: [row(1, 1), row(2, 1)]})
    assert kinds(result) == ["duplicate"]


def test_rejected_requests_are_counted_not_judged() -> None:
    result = async_invoices.check(sequential([submit(1, "fail", status=403, error="forbidden")]), {1: []})
    assert result.anomalies == [] and result.stats["rejected"] == 1


def test_a_worker_killed_during_the_run_makes_every_accepted_request_evidence_of_none_doubled() -> None:
    history = build([Call("c1", "generate_invoice_async", {"user_id": 1, "period": P}, "ok", 0.0, 0.05,
                          status=202, result={"task_id": "t1"})],
                    [Fault(0.5, 0.6, {"fault": "kill", "target": "worker_1"})])
    result = async_invoices.check(history, {1: [row(10, 1)]}, claims=BOTH)
    assert result.valid is True and result.evidence["none_doubled"].count == 1
    calm = async_invoices.check(sequential([submit(1)]), {1: [row(10, 1)]}, claims=BOTH)
    assert calm.valid == "unknown" and "could run twice" in calm.reason


def test_uuid_users_and_tasks_are_opaque() -> None:
    user = str(uuid.uuid4())
    history = sequential([("generate_invoice_async", {"user_id": user, "period": P}, "ok",
                           {"status": 202, "result": {"task_id": str(uuid.uuid4())}})] * 2)
    assert async_invoices.check(history, {user: [row("inv", user)]}, claims=BOTH).valid is True
    assert kinds(async_invoices.check(history, {user: []})) == ["lost"]


def test_a_request_tied_only_to_its_user_is_judged_against_the_users_invoices() -> None:
    history = sequential([("generate_invoice_async", {"user_id": 1}, "ok",
                           {"status": 202, "result": {"task_id": "t"}})])
    assert kinds(async_invoices.check(history, {1: [row(10, 1)]})) == []
    assert kinds(async_invoices.check(history, {1: []})) == ["lost"]


def test_another_identity_or_one_per_accepted_request() -> None:
    history = sequential([("generate_invoice_async", {"user_id": "u", "order": "o1"}, "ok",
                           {"status": 202, "result": {"task_id": "t1"}}),
                          ("generate_invoice_async", {"user_id": "u", "order": "o2"}, "ok",
                           {"status": 202, "result": {"task_id": "t2"}})])
    two = {"u": [{"invoice_id": "a", "order": "o1"}, {"invoice_id": "b", "order": "o2"}]}
    assert kinds(async_invoices.check(history, two, identity=("order",))) == []
    assert kinds(async_invoices.check(history, two, identity="per_call")) == []
    doubled = {"u": two["u"] + [{"invoice_id": "c", "order": "o2"}]}
    assert kinds(async_invoices.check(history, doubled, identity=("order",))) == ["duplicate"]
    assert kinds(async_invoices.check(history, doubled, identity="per_call")) == ["duplicate"]
    assert kinds(async_invoices.check(history, {"u": two["u"][:1]}, identity="per_call")) == ["lost"]


def test_invoices_without_the_identity_are_not_checked_never_lost_or_duplicate() -> None:
    result = async_invoices.check(sequential([submit(1)]), {1: [{"invoice_id": 1, "user_id": 1}] * 2})
    assert result.anomalies == [] and result.valid == "unknown"
    assert "list_invoices does not extract period" in result.reason
    undeclared = async_invoices.check(sequential([submit(1)]), {1: []}, identity=None)
    assert undeclared.anomalies == [] and "declares no invoice identity" in undeclared.reason
