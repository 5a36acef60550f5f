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
ALL = ["one_execution_per_key", "concurrent_same_key", "reuse_refused", "ambiguous_retry", "cross_subscription_key",
       "cross_user_key"]


def activate(kind: str, body: dict | None = None, *, replayed: bool | None = False, method: str = "card",
             key: str = "k", subscription: Any = 5, extracted: bool = True, user: Any = None, **fields: Any):
    """An activation as a profile records it: the extracted values, the body, the replay flag; ``user``
    is the caller's id, where the workload knows it."""
    value = {"subscription_id": subscription, "key": key, "params": {"payment_method": method}}
    if user is not None:
        value["user_id"] = user
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


def test_a_key_whose_first_call_never_reached_the_service_is_first_used_by_its_next_call() -> None:
    """Found by a hunt on the safe build: the first call with a key got 503 (Redis cut off before the key was
    claimed), the next one, with another payment method, was the key's real first use and was refused for a
    business reason (already active); a replay with the lost call's parameters then got 422. No anomaly."""
    history = sequential([activate("info", method="invoice", status=503, error="redis_unavailable"),
                          activate("fail", status=409, error="subscription_not_pending"),
                          activate("fail", method="invoice", status=422, error="idempotency_mismatch")])
    result = idempotency.check(history, {5: [activation_invoice()]}, claims=["reuse_refused"])
    assert kinds(result) == [] and result.valid == "unknown"


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
        "one_execution_per_key": 0, "concurrent_same_key": 0, "reuse_refused": 0, "ambiguous_retry": 0,
        "cross_subscription_key": 0, "cross_user_key": 0}


def test_the_key_scope_claims_are_made_only_by_name_but_their_anomalies_count_in_every_run() -> None:
    """An ordinary run never uses one key on two subscriptions or by two users: that is no reason to doubt it."""
    history = sequential([activate("ok", BODY), activate("ok", BODY, replayed=True)])
    result = idempotency.check(history, {5: [activation_invoice()]}, claims=["one_execution_per_key"])
    default = idempotency.check(history, {5: [activation_invoice()]})
    assert {name for name, e in default.evidence.items() if not e.claimed} == {"cross_subscription_key",
                                                                               "cross_user_key"}
    assert "a key used on two subscriptions" not in default.reason and result.valid is True
    asked = idempotency.check(history, {5: [activation_invoice()]}, claims=["cross_user_key"])
    assert asked.valid == "unknown" and asked.reason == "not exercised (a key used by two users)"
    refused = sequential([activate("ok", BODY, user=3), activate("fail", subscription=6, user=4, status=422)])
    assert idempotency.check(refused, {5: [activation_invoice()]}).valid is False


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


# A key is its caller's, for one request: scoped too widely, it answers for another subscription or
# refuses another user.

def test_a_key_used_on_another_subscription_must_not_replay_the_first_subscriptions_answer() -> None:
    """The fingerprint ignores the path: key k, used on 5, is used on 6 and 5's answer comes back."""
    history = sequential([activate("ok", BODY, subscription=5),
                          activate("ok", BODY, subscription=6, replayed=True)])
    result = idempotency.check(history, {5: [activation_invoice(1)], 6: []}, claims=["cross_subscription_key"])
    assert "answered_for_other" in kinds(result) and result.evidence["cross_subscription_key"].count == 1
    wrong = next(a for a in result.anomalies if a.kind == "answered_for_other")
    assert wrong.ops == (1, 2, 3) and "on subscription 6 was answered for subscription 5" in wrong.message


def test_a_service_scoping_keys_per_subscription_activates_each_with_its_own_answer() -> None:
    """UUID subscriptions, 201 answers, no replay header: the second subscription's answer names it."""
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    history = sequential([activate("ok", {"subscription_id": sub, "status": "active", "invoice_id": f"i-{n}"},
                                   subscription=sub, replayed=None, status=201)
                          for n, sub in enumerate((first, second))])
    final = {first: [{"invoice_id": "i-0"}], second: [{"invoice_id": "i-1"}]}
    result = idempotency.check(history, final, replay_flag=False, claims=["cross_subscription_key"])
    assert result.valid is True and result.evidence["cross_subscription_key"].count == 1


def test_a_service_refusing_a_key_on_another_subscription_as_a_mismatch_is_right() -> None:
    """Keys global to the user, but the fingerprint covers the path: the second use is a 422."""
    history = sequential([activate("ok", BODY, subscription=5, user=3),
                          activate("fail", subscription=6, user=3, status=422, error="idempotency_mismatch")])
    result = idempotency.check(history, {5: [activation_invoice(1)]}, claims=["cross_subscription_key"])
    assert result.valid is True and kinds(result) == []


def test_an_answer_naming_its_subscription_as_a_string_is_its_own() -> None:
    history = sequential([activate("ok", {**BODY, "subscription_id": "5"}, subscription=5)])
    assert kinds(idempotency.check(history, {5: [activation_invoice(1)]})) == []


def test_an_answer_that_extracts_no_subscription_is_not_judged_for_its_subscription() -> None:
    history = sequential([activate("ok", BODY, subscription=5),
                          activate("ok", BODY, subscription=6, extracted=False, replayed=None)])
    assert "answered_for_other" not in kinds(idempotency.check(history, {5: [activation_invoice(1)]}))


def test_a_users_first_use_of_a_key_another_user_used_must_not_be_refused() -> None:
    """Keys global instead of per user: user 4's first use of the key user 3 used is a 'mismatch'."""
    history = sequential([activate("ok", BODY, subscription=5, user=3),
                          activate("fail", subscription=6, user=4, status=422, error="idempotency_mismatch")])
    result = idempotency.check(history, {5: [activation_invoice(1)]}, claims=["cross_user_key"])
    assert kinds(result) == ["fresh_key_refused"] and result.evidence["cross_user_key"].count == 1
    refused = result.anomalies[0]
    assert refused.ops == (1, 2, 3)
    assert "user 4" in refused.message and "never used it" in refused.message
    assert "user 3 had used it" in refused.message


def test_a_refusal_coded_only_by_its_422_is_a_mismatch_too() -> None:
    history = sequential([activate("ok", BODY, subscription=5, user="a"),
                          activate("fail", subscription=6, user="b", status=422)])
    assert kinds(idempotency.check(history, {5: [activation_invoice(1)]})) == ["fresh_key_refused"]


def test_a_service_scoping_keys_per_user_lets_both_users_activate() -> None:
    users, subs = (str(uuid.uuid4()), str(uuid.uuid4())), (str(uuid.uuid4()), str(uuid.uuid4()))
    history = sequential([activate("ok", {"subscription_id": sub, "status": "active", "invoice_id": f"i-{n}"},
                                   subscription=sub, user=user, replayed=None, status=201)
                          for n, (user, sub) in enumerate(zip(users, subs))])
    final = {subs[0]: [{"invoice_id": "i-0"}], subs[1]: [{"invoice_id": "i-1"}]}
    result = idempotency.check(history, final, replay_flag=False, claims=["cross_user_key", "cross_subscription_key"])
    assert result.valid is True
    assert result.evidence["cross_user_key"].count == 1 and result.evidence["cross_subscription_key"].count == 1


def test_a_users_own_reuse_with_other_params_is_a_rightful_refusal() -> None:
    history = sequential([activate("ok", BODY, user=3),
                          activate("fail", method="paypal", user=3, status=422, error="idempotency_mismatch")])
    result = idempotency.check(history, {5: [activation_invoice(1)]}, claims=["reuse_refused"])
    assert result.valid is True and result.evidence["cross_user_key"].count == 0


def test_a_refusal_that_lost_a_race_to_the_users_own_call_with_other_params_is_not_blamed() -> None:
    """The paypal call was invoked first, but the card call, in flight with it, reached the service first."""
    ask = {"subscription_id": 5, "key": "k", "user_id": 3}
    history = build([Call("c0", "activate", {**ask, "params": {"payment_method": "paypal"}}, "fail", 0.0, 0.5,
                          status=422, error="idempotency_mismatch"),
                     Call("c1", "activate", {**ask, "params": {"payment_method": "card"}}, "ok", 0.1, 1.0,
                          status=200, result={**BODY, "body": BODY, "replayed": False})])
    assert kinds(idempotency.check(history, {5: [activation_invoice(1)]})) == []


def test_a_mismatch_refusal_of_a_never_used_key_is_judged_only_where_the_user_is_known() -> None:
    unknown_user = sequential([activate("fail", status=422, error="idempotency_mismatch")])
    assert kinds(idempotency.check(unknown_user, {})) == []
    known_user = sequential([activate("fail", status=422, error="idempotency_mismatch", user=3)])
    assert kinds(idempotency.check(known_user, {})) == ["fresh_key_refused"]
    still_running = sequential([activate("fail", status=409, error="idempotency_in_flight", user=3)])
    assert kinds(idempotency.check(still_running, {})) == []
