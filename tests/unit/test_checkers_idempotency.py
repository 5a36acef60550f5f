"""The idempotency checker, judged from effects: one execution per key, the first outcome on every
replay (header or not), reuse with other params refused; unknown when the run never tested it."""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from chaos.checkers import idempotency
from chaos.history import Call, build, sequential

pytestmark = pytest.mark.unit
BODY = {"subscription_id": 5, "status": "active", "invoice_id": 1, "amount": "19.99"}
ALL = ["one_execution_per_key", "concurrent_same_key", "reuse_refused", "ambiguous_retry"]


def activate(kind: str, body: dict | None = None, *, replayed: bool | None = False, method: str = "card",
             key: str = "k", subscription: Any = 5, extracted: bool = True, **fields: Any):
    """An activation as a profile records it: the extracted values, the body, the replay flag."""
    value = {"subscription_id": subscription, "key": key, "params": {"payment_method": method}}
    if body is not None:
        result: dict[str, Any] = {"body": body}
        if extracted:
            result.update({k: v for k, v in body.items() if k in ("subscription_id", "status", "invoice_id", "amount")})
        if replayed is not None:
            result["replayed"] = replayed
        fields = {"status": 200, "result": result, **fields}
    return ("activate", value, kind, fields)


def in_flight(**key: Any):
    return activate("fail", status=409, error="idempotency_in_flight", **key)


def activation_invoice(invoice_id: Any = 1) -> dict:
    return {"invoice_id": invoice_id, "user_id": 3, "period": "activation-5"}


def kinds(result) -> list[str]:
    return sorted(a.kind for a in result.anomalies)


def test_concurrent_same_key_calls_one_execution_in_flight_conflicts_and_identical_replays() -> None:
    calls = [Call("client_0", "activate", {"subscription_id": 5, "key": "k", "params": {"payment_method": "card"}},
                  "ok", 0.0, 1.0, status=200, instance="api_1", result={**BODY, "body": BODY, "replayed": False})]
    for i in range(1, 10):
        calls.append(Call(f"client_{i}", "activate", {"subscription_id": 5, "key": "k",
                                                       "params": {"payment_method": "card"}},
                          "fail", 0.1, 0.2, status=409, error="idempotency_in_flight", instance=f"api_{i % 5 + 1}"))
        calls.append(Call(f"client_{i}", "activate", {"subscription_id": 5, "key": "k",
                                                       "params": {"payment_method": "card"}},
                          "ok", 1.1, 1.2, status=200, instance=f"api_{i % 5 + 1}",
                          result={**BODY, "body": {**BODY, "at": f"12:00:0{i}"}, "replayed": True}))
    result = idempotency.check(build(calls), {5: [activation_invoice()]},
                               claims=["one_execution_per_key", "concurrent_same_key"])
    assert result.valid is True
    assert result.stats["replays"] == 9 and result.stats["in_flight_409"] == 9 and result.stats["keys"] == 1
    assert result.evidence["concurrent_same_key"].count == 1


def test_a_reset_after_commit_then_a_replay_elsewhere_is_valid() -> None:
    history = sequential([activate("info", error="ChunkedEncodingError"), activate("ok", BODY, replayed=True)])
    result = idempotency.check(history, {5: [activation_invoice()]}, claims=["ambiguous_retry"])
    assert result.valid is True and result.evidence["ambiguous_retry"].count == 1


def test_a_replay_with_another_body_is_a_replay_mismatch() -> None:
    history = sequential([activate("ok", BODY), activate("ok", {**BODY, "invoice_id": 2}, replayed=True)])
    result = idempotency.check(history, {5: [activation_invoice()]})
    assert kinds(result) == ["replay_mismatch", "replay_mismatch"]  # two answers; one names no real invoice
    assert result.anomalies[0].ops == (1, 3) and "invoice 2 (replayed)" in result.anomalies[1].message


def test_replays_are_compared_by_their_values_not_by_raw_bodies_with_timestamps() -> None:
    history = sequential([activate("ok", {**BODY, "activated_at": "12:00:00.1"}),
                          activate("ok", {**BODY, "activated_at": "12:00:03.7"}, replayed=None)])
    result = idempotency.check(history, {5: [activation_invoice()]}, claims=["one_execution_per_key"])
    assert result.valid is True


def test_the_only_answer_seen_is_checked_against_the_final_read() -> None:
    """The first answer was lost (reset after commit); the replay is all the client saw."""
    history = sequential([activate("info", error="ChunkedEncodingError"),
                          activate("ok", {**BODY, "invoice_id": 9}, replayed=True)])
    assert kinds(idempotency.check(history, {5: [activation_invoice(1)]})) == ["replay_mismatch"]
    fresh = sequential([activate("ok", BODY)])
    assert kinds(idempotency.check(fresh, {5: [activation_invoice(2)]})) == ["lost"]
    assert kinds(idempotency.check(fresh, {})) == []  # no final read for it: nothing to compare


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
    assert kinds(idempotency.check(sequential([first, same]), {})) == []
    assert kinds(idempotency.check(sequential([first, same, other]), {})) == ["replay_mismatch"]


def test_two_executions_of_one_key_are_a_double_activation_header_or_not() -> None:
    """Each answer names its own invoice, and the read holds both: the key ran twice."""
    history = sequential([activate("ok", BODY, replayed=None),
                          activate("ok", {**BODY, "invoice_id": 2}, replayed=None)])
    result = idempotency.check(history, {5: [activation_invoice(1), activation_invoice(2)]})
    assert "double_activation" in kinds(result) and "replay_mismatch" in kinds(result)
    double = next(a for a in result.anomalies if a.kind == "double_activation")
    assert double.ops == (1, 3) and "executed 2 times" in double.message


def test_a_key_executed_three_times_with_identical_answers_is_caught_by_the_reads() -> None:
    """The service answers alike each time (no header, same fields) but made three invoices."""
    history = sequential([activate("ok", {**BODY, "invoice_id": None}, replayed=None) for _ in range(3)])
    result = idempotency.check(history, {5: [activation_invoice(i) for i in (1, 2, 3)]})
    assert kinds(result) == ["double_activation"] and "3 new invoice(s)" in result.anomalies[0].message


def test_two_identical_answers_without_a_header_are_a_replay_not_a_second_execution() -> None:
    history = sequential([activate("ok", BODY, replayed=None), activate("ok", BODY, replayed=None)])
    result = idempotency.check(history, {5: [activation_invoice()]}, replay_flag=False,
                               claims=["one_execution_per_key"])
    assert result.valid is True and result.stats["replays"] == 0


def test_two_activation_invoices_for_one_subscription_are_a_double_activation() -> None:
    history = sequential([activate("ok", BODY), activate("info", error="ReadTimeout")])
    result = idempotency.check(history, {5: [activation_invoice(1), activation_invoice(2)]})
    assert kinds(result) == ["double_activation"] and result.anomalies[0].ops == (1, 3)
    assert kinds(idempotency.check(history, {5: [activation_invoice(1)]})) == []  # the info was a replay


def test_new_invoices_are_those_since_the_baseline_read() -> None:
    history = sequential([activate("ok", BODY)])
    baseline = {5: [activation_invoice(7)]}
    assert kinds(idempotency.check(history, {5: [activation_invoice(7), activation_invoice(1)]},
                                   baseline=baseline)) == []
    result = idempotency.check(history, {5: [activation_invoice(7), activation_invoice(1), activation_invoice(2)]},
                               baseline=baseline)
    assert kinds(result) == ["double_activation"]


def test_per_user_reads_are_attributed_to_the_users_keys() -> None:
    """No subscription on the invoices: the user's new invoices since the baseline are its key's."""
    user = str(uuid.uuid4())
    call = activate("ok", {**BODY, "invoice_id": "i-1"}, replayed=None)
    call[1]["user_id"] = user
    history = sequential([call, call])
    before = {user: [{"invoice_id": "old", "user_id": user}]}
    after = {user: [{"invoice_id": "old", "user_id": user}, {"invoice_id": "i-1", "user_id": user}]}
    assert kinds(idempotency.check(history, after, baseline=before)) == []
    twice = {user: after[user] + [{"invoice_id": "i-2", "user_id": user}]}
    assert kinds(idempotency.check(history, twice, baseline=before)) == ["double_activation"]


def test_invoices_that_name_their_subscription_are_attributed_by_it() -> None:
    sub = str(uuid.uuid4())
    history = sequential([activate("ok", {**BODY, "subscription_id": sub, "invoice_id": "i-1"}, subscription=sub)])
    final = {"u1": [{"invoice_id": "i-1", "subscription_id": sub}, {"invoice_id": "plain", "subscription_id": None}]}
    assert kinds(idempotency.check(history, final)) == []
    final["u1"].append({"invoice_id": "i-2", "subscription_id": sub})
    assert kinds(idempotency.check(history, final)) == ["double_activation"]


def test_the_key_reused_with_other_params_must_be_refused() -> None:
    refused = sequential([activate("ok", BODY), activate("fail", method="paypal", status=422,
                                                         error="idempotency_mismatch")])
    result = idempotency.check(refused, {5: [activation_invoice()]}, claims=["reuse_refused"])
    assert result.valid is True and result.evidence["reuse_refused"].count == 1
    accepted = sequential([activate("ok", BODY), activate("ok", BODY, method="paypal")])
    result = idempotency.check(accepted, {5: [activation_invoice()]})
    assert kinds(result) == ["reuse_accepted"] and result.anomalies[0].ops == (1, 3)
    other_error = sequential([activate("ok", BODY), activate("fail", method="paypal", status=409,
                                                             error="subscription_not_pending")])
    assert kinds(idempotency.check(other_error, {5: [activation_invoice()]})) == ["reuse_not_rejected"]


@pytest.mark.parametrize("status, error", [(409, "idempotency_mismatch"), (400, "idempotency_mismatch"),
                                           (422, None), (409, "idempotency_in_flight")])
def test_a_mismatch_refusal_is_recognised_by_its_code_or_its_422(status: int, error: str | None) -> None:
    history = sequential([activate("ok", BODY), activate("fail", method="paypal", status=status, error=error)])
    assert kinds(idempotency.check(history, {5: [activation_invoice()]})) == []


def test_an_outage_answer_to_a_reuse_is_not_judged_as_a_refusal() -> None:
    history = sequential([activate("ok", BODY), activate("fail", method="paypal", status=503, error="unavailable")])
    assert kinds(idempotency.check(history, {5: [activation_invoice()]})) == []


def test_the_keys_parameters_are_those_of_its_first_execution_not_its_first_call() -> None:
    history = sequential([activate("fail", method="paypal", status=422, error="idempotency_mismatch"),
                          activate("ok", BODY)])  # the paypal call lost the race to the card call
    assert kinds(idempotency.check(history, {5: [activation_invoice()]})) == []


def test_keys_are_per_subscription_and_calls_without_a_key_are_not_judged() -> None:
    history = sequential([activate("ok", BODY, key="k", subscription=5),
                          activate("ok", {**BODY, "subscription_id": 6, "invoice_id": 2}, key="k", subscription=6),
                          ("activate", {"subscription_id": 7, "key": None}, "fail",
                           {"status": 400, "error": "idempotency_key_required"})])
    result = idempotency.check(history, {5: [activation_invoice(1)], 6: [activation_invoice(2)]})
    assert kinds(result) == [] and result.stats["keys"] == 2


def test_uuid_subscriptions_and_keys_are_opaque() -> None:
    sub, key = str(uuid.uuid4()), str(uuid.uuid4())
    body = {"subscription_id": sub, "status": "active", "invoice_id": str(uuid.uuid4())}
    history = build([Call(f"c{i}", "activate", {"subscription_id": sub, "key": key, "params": {"plan": "p"}},
                          "ok", 0.0, 0.5, status=201, result={**body, "body": body}) for i in range(3)])
    result = idempotency.check(history, {sub: [{"invoice_id": body["invoice_id"]}]}, replay_flag=False,
                               claims=["concurrent_same_key", "one_execution_per_key"])
    assert result.valid is True and result.evidence["concurrent_same_key"].count == 1


def test_no_second_call_with_a_key_is_not_exercised() -> None:
    result = idempotency.check(sequential([activate("ok", BODY)]), {5: [activation_invoice()]})
    assert result.valid == "unknown" and result.anomalies == []
    assert "two or more calls with one key in flight together" in result.reason
    assert {name: e.count for name, e in result.evidence.items()} == {
        "one_execution_per_key": 0, "concurrent_same_key": 0, "reuse_refused": 0, "ambiguous_retry": 0}


def test_sequential_retries_are_evidence_of_one_execution_but_not_of_concurrency() -> None:
    history = sequential([activate("ok", BODY), activate("ok", BODY, replayed=True)])
    result = idempotency.check(history, {5: [activation_invoice()]}, claims=ALL[:2])
    assert result.valid == "unknown" and result.reason == "not exercised (calls with one key in flight together)"


def test_answers_without_invoice_ids_and_no_reads_are_not_checked() -> None:
    body = {"subscription_id": 5, "status": "active"}
    history = sequential([activate("ok", body), activate("ok", body)])
    result = idempotency.check(history, None, claims=["one_execution_per_key"])
    assert result.valid == "unknown" and "activate does not extract invoice_id" in result.reason


def test_reads_without_invoice_ids_against_a_baseline_are_not_checked_never_a_crash() -> None:
    history = sequential([activate("ok", BODY), activate("ok", BODY, replayed=True)])
    result = idempotency.check(history, {5: [{"user_id": 3}]}, baseline={5: []})
    assert result.valid == "unknown" and "list_invoices does not extract invoice_id" in result.reason
