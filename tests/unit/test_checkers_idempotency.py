"""The idempotency checker: one execution per key, identical replays, reuse with other params refused."""
from __future__ import annotations

from typing import Any

import pytest

from chaos.checkers import idempotency
from chaos.history import Call, build, sequential

pytestmark = pytest.mark.unit
BODY = {"subscription_id": 5, "status": "active", "invoice_id": 1, "amount": "19.99"}


def activate(kind: str, body: dict | None = None, *, replayed: bool = False, method: str = "card", key: str = "k",
             subscription: int = 5, **fields: Any):
    value = {"subscription_id": subscription, "key": key, "params": {"payment_method": method}}
    if body is not None:
        fields = {"status": 200, "result": {"body": body, "replayed": replayed}, **fields}
    return ("activate", value, kind, fields)


def in_flight(**key: Any):
    return activate("fail", status=409, error="idempotency_in_flight", **key)


def activation_invoice(invoice_id: int = 1) -> dict:
    return {"invoice_id": invoice_id, "user_id": 3, "period": "activation-5"}


def kinds(result) -> list[str]:
    return sorted(a.kind for a in result.anomalies)


def test_concurrent_same_key_calls_one_execution_in_flight_conflicts_and_identical_replays() -> None:
    calls = [Call("client_0", "activate", {"subscription_id": 5, "key": "k", "params": {"payment_method": "card"}},
                  "ok", 0.0, 1.0, status=200, instance="api_1", result={"body": BODY, "replayed": False})]
    for i in range(1, 10):
        calls.append(Call(f"client_{i}", "activate", {"subscription_id": 5, "key": "k",
                                                       "params": {"payment_method": "card"}},
                          "fail", 0.1, 0.2, status=409, error="idempotency_in_flight", instance=f"api_{i % 5 + 1}"))
        calls.append(Call(f"client_{i}", "activate", {"subscription_id": 5, "key": "k",
                                                       "params": {"payment_method": "card"}},
                          "ok", 1.1, 1.2, status=200, instance=f"api_{i % 5 + 1}",
                          result={"body": BODY, "replayed": True}))
    result = idempotency.check(build(calls), {5: [activation_invoice()]})
    assert result.valid is True
    assert result.stats["replays"] == 9 and result.stats["in_flight_409"] == 9 and result.stats["keys"] == 1


def test_a_reset_after_commit_then_a_replay_elsewhere_is_valid() -> None:
    history = sequential([activate("info", error="ChunkedEncodingError"), activate("ok", BODY, replayed=True)])
    assert idempotency.check(history, {5: [activation_invoice()]}).valid is True


def test_a_replay_with_another_body_is_a_replay_mismatch() -> None:
    history = sequential([activate("ok", BODY), activate("ok", {**BODY, "invoice_id": 2}, replayed=True)])
    result = idempotency.check(history, {5: [activation_invoice()]})
    assert kinds(result) == ["replay_mismatch", "replay_mismatch"]  # two answers; one names no real invoice
    assert result.anomalies[0].ops == (1, 3) and "invoice 2 (replayed)" in result.anomalies[1].message


def test_the_only_answer_seen_is_checked_against_the_final_read() -> None:
    """The first answer was lost (reset after commit); the replay is all the client saw."""
    history = sequential([activate("info", error="ChunkedEncodingError"),
                          activate("ok", {**BODY, "invoice_id": 9}, replayed=True)])
    assert kinds(idempotency.check(history, {5: [activation_invoice(1)]})) == ["replay_mismatch"]
    fresh = sequential([activate("ok", BODY)])
    assert kinds(idempotency.check(fresh, {5: [activation_invoice(2)]})) == ["lost"]
    assert idempotency.check(fresh, {}).valid is True  # no final read for it: nothing to compare


def test_a_failure_after_the_key_succeeded_is_a_replay_mismatch() -> None:
    history = sequential([activate("ok", BODY), activate("fail", status=409, error="subscription_not_pending")])
    assert kinds(idempotency.check(history, {5: [activation_invoice()]})) == ["replay_mismatch"]


def test_a_replayed_failure_must_repeat_the_first_failure() -> None:
    first = activate("fail", status=409, error="subscription_not_pending")
    first[3]["result"] = {"body": {"error": "subscription_not_pending"}, "replayed": False}
    same = activate("fail", status=409, error="subscription_not_pending")
    same[3]["result"] = {"body": {"error": "subscription_not_pending"}, "replayed": True}
    other = activate("fail", status=404, error="subscription_not_found")
    other[3]["result"] = {"body": {"error": "subscription_not_found"}, "replayed": True}
    assert idempotency.check(sequential([first, same]), {}).valid is True
    assert kinds(idempotency.check(sequential([first, same, other]), {})) == ["replay_mismatch"]


def test_two_fresh_executions_of_one_key_are_a_double_activation() -> None:
    history = sequential([activate("ok", BODY), activate("ok", BODY)])  # neither says Idempotent-Replayed
    assert kinds(idempotency.check(history, {5: [activation_invoice()]})) == ["double_activation"]


def test_two_activation_invoices_for_one_subscription_are_a_double_activation() -> None:
    history = sequential([activate("ok", BODY), activate("info", error="ReadTimeout")])
    result = idempotency.check(history, {5: [activation_invoice(1), activation_invoice(2)]})
    assert kinds(result) == ["double_activation"] and result.anomalies[0].ops == (1, 3)
    assert idempotency.check(history, {5: [activation_invoice(1)]}).valid is True  # the info was a replay


def test_the_key_reused_with_other_params_must_be_refused_with_422() -> None:
    refused = sequential([activate("ok", BODY), activate("fail", method="paypal", status=422,
                                                         error="idempotency_mismatch")])
    assert idempotency.check(refused, {5: [activation_invoice()]}).valid is True
    accepted = sequential([activate("ok", BODY), activate("ok", BODY, method="paypal")])
    result = idempotency.check(accepted, {5: [activation_invoice()]})
    assert kinds(result) == ["reuse_accepted"] and result.anomalies[0].ops == (1, 3)
    other_error = sequential([activate("ok", BODY), activate("fail", method="paypal", status=409,
                                                             error="subscription_not_pending")])
    assert kinds(idempotency.check(other_error, {5: [activation_invoice()]})) == ["reuse_not_rejected"]


def test_the_keys_parameters_are_those_of_its_first_execution_not_its_first_call() -> None:
    history = sequential([activate("fail", method="paypal", status=422, error="idempotency_mismatch"),
                          activate("ok", BODY)])  # the paypal call lost the race to the card call
    assert idempotency.check(history, {5: [activation_invoice()]}).valid is True


def test_keys_are_per_subscription_and_calls_without_a_key_are_not_judged() -> None:
    history = sequential([activate("ok", BODY, key="k", subscription=5),
                          activate("ok", {**BODY, "subscription_id": 6, "invoice_id": 2}, key="k", subscription=6),
                          ("activate", {"subscription_id": 7, "key": None}, "fail",
                           {"status": 400, "error": "idempotency_key_required"})])
    result = idempotency.check(history, {5: [activation_invoice(1)], 6: [activation_invoice(2)]})
    assert result.valid is True and result.stats["keys"] == 2
