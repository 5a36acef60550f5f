"""The invoice checker: one invoice per declared identity, none lost, none from nowhere, honest 409s;
"not checked" when it cannot see the identity, "not exercised" when nothing competed."""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from chaos.checkers import invoices
from chaos.history import Call, Fault, build, sequential

pytestmark = pytest.mark.unit
JAN = "2026-01"
BILLING = ("user_id", "period")
EVERYTHING = ["at_most_once", "none_lost", "none_from_nowhere"]
NO_RACE = ["none_lost", "none_from_nowhere"]


def gen(kind: str, invoice_id: Any = None, *, user: Any = 1, period: str | None = JAN, **fields: Any):
    if kind == "ok":
        result = {"invoice_id": invoice_id, **fields.pop("result", {})}
        fields = {"status": 200, "result": result, **fields}
    value = {"user_id": user} if period is None else {"user_id": user, "period": period}
    return ("generate_invoice", value, kind, fields)


def conflict(error: str | None = "invoice_exists", **key: Any):
    return gen("fail", status=409, error=error, **key)


def timeout(**key: Any):
    return gen("info", error="ReadTimeout", **key)


def row(invoice_id: Any, user: Any = 1, period: str | None = JAN, **more: Any) -> dict:
    made = {"invoice_id": invoice_id, "user_id": user, "amount": "19.99", **more}
    if period is not None:
        made["period"] = period
    return made


def together(n: int, *, user: Any = 1, period: str | None = JAN, winner: Any = 10) -> list:
    """``n`` calls for one invoice released together: the first wins, the others are refused."""
    value = {"user_id": user} if period is None else {"user_id": user, "period": period}
    return build([Call(f"client_{i}", "generate_invoice", value, "ok" if i == 0 else "fail", 0.0, 0.1 + i / 100,
                       status=200 if i == 0 else 409, error=None if i == 0 else "invoice_exists",
                       result={"invoice_id": winner, **({"period": JAN} if period is None else {})} if i == 0 else {})
                  for i in range(n)])


def check(history, final, **options: Any):
    options.setdefault("identity", BILLING)
    return invoices.check(history, final, **options)


def kinds(result) -> list[str]:
    return sorted(a.kind for a in result.anomalies)


def test_one_ok_and_allowed_conflicts_across_instances_is_valid() -> None:
    history = build([Call(f"client_{i}", "generate_invoice", {"user_id": 1, "period": JAN},
                          "ok" if i == 0 else "fail", 0.0, 0.1 + i / 100, status=200 if i == 0 else 409,
                          error=None if i == 0 else ["invoice_exists", "lock_timeout", "lock_lost"][i % 3],
                          instance=f"api_{i % 5 + 1}", result={"invoice_id": 10} if i == 0 else {})
                     for i in range(10)])
    result = check(history, {1: [row(10)]}, claims=EVERYTHING)
    assert result.valid is True and result.anomalies == []
    assert result.stats["ok"] == 1 and result.stats["fail"] == 9 and result.stats["keys"] == 1
    assert result.evidence["at_most_once"].count == 1 and result.evidence["none_lost"].count == 1


def test_two_invoices_for_one_key_are_a_duplicate_witnessed_by_both_calls() -> None:
    history = sequential([gen("ok", 10), gen("ok", 11)])
    result = check(history, {1: [row(10), row(11)]})
    assert kinds(result) == ["duplicate"] and result.valid is False
    assert result.anomalies[0].ops == (1, 3) and "[10, 11]" in result.anomalies[0].message


def test_an_ok_whose_invoice_is_missing_is_lost_once_with_every_call_that_vouched_for_it() -> None:
    history = sequential([gen("ok", 10), conflict(), conflict()])
    result = check(history, {1: []})
    assert kinds(result) == ["lost"] and result.anomalies[0].ops == (1, 3, 5)


def test_an_ok_replaced_by_another_invoice_is_lost() -> None:
    assert kinds(check(sequential([gen("ok", 10)]), {1: [row(12)]})) == ["lost"]


def test_invoice_exists_with_no_invoice_in_the_final_read_is_lost() -> None:
    result = check(sequential([timeout(), conflict()]), {1: []})
    assert kinds(result) == ["lost"] and "409 invoice_exists" in result.anomalies[0].message


def test_an_invoice_no_call_asked_for_is_a_phantom() -> None:
    result = check(sequential([gen("ok", 10)]), {1: [row(10), row(99, period="2026-02")]})
    assert kinds(result) == ["phantom"] and result.anomalies[0].records[0]["invoice_id"] == 99


def test_an_invoice_only_failed_calls_asked_for_is_a_phantom() -> None:
    result = check(sequential([conflict("lock_timeout")]), {1: [row(5)]})
    assert kinds(result) == ["phantom"] and "only failed calls" in result.anomalies[0].message


@pytest.mark.parametrize("error", ["conflict", "subscription_not_pending"])
def test_a_409_with_a_code_the_contract_does_not_allow_is_a_bad_error(error: str) -> None:
    result = check(sequential([gen("ok", 10), conflict(error)]), {1: [row(10)]})
    assert kinds(result) == ["bad_error"]


def test_a_refusal_with_no_error_code_at_all_is_not_a_bad_error() -> None:
    """A service that answers in sentences may have no code to give: that is not a dishonest one."""
    assert kinds(check(sequential([gen("ok", 10), conflict(None)]), {1: [row(10)]})) == []


@pytest.mark.parametrize("final, invoiced", [([row(10)], True), ([], False)])
def test_info_calls_may_turn_out_either_way_and_the_stats_say_which(final: list, invoiced: bool) -> None:
    history = build([Call("a", "generate_invoice", {"user_id": 1, "period": JAN}, "info", 0.0, 10.0,
                          error="ReadTimeout"),
                     Call("b", "generate_invoice", {"user_id": 1, "period": JAN}, "info", 0.5, 0.6, status=503,
                          error="redis_unavailable")],
                    [Fault(0.2, 5.0, {"fault": "pause", "target": "api_1"})])
    result = check(history, {1: final}, claims=["at_most_once"])
    assert result.valid is True and result.evidence["at_most_once"].count == 1
    assert result.stats["info_invoiced" if invoiced else "info_not_invoiced"] == 2


def test_an_info_that_invoiced_next_to_an_ok_is_still_one_invoice() -> None:
    result = check(sequential([timeout(), gen("ok", 10), conflict()]), {1: [row(10)]}, claims=NO_RACE)
    assert result.valid is True and result.stats["info_invoiced"] == 1


def test_async_calls_explain_invoices_and_activation_invoices_are_only_counted() -> None:
    history = sequential([("generate_invoice_async", {"user_id": 2, "period": JAN}, "ok",
                           {"status": 202, "result": {"task_id": "t"}})])
    final = {2: [row(3, user=2)], "1": [row(4, period=None, subscription_id=9)]}
    result = check(history, final, activation=("subscription_id",), claims=["none_from_nowhere"])
    assert result.valid is True and result.stats["other_invoices"] == 1 and result.stats["invoices"] == 1


def test_an_activation_period_is_nothing_special_without_the_activation_fields() -> None:
    """billing's old ``activation-<id>`` period hack is gone: only the declared fields mark activations."""
    result = check([], {1: [row(4, period="activation-9")]}, activation=("subscription_id",))
    assert kinds(result) == ["phantom"]


def test_final_reads_from_json_with_string_keys_and_ids_are_the_same_reads() -> None:
    history = sequential([gen("ok", 10, user=7)])
    result = check(history, {"7": [{"invoice_id": 10, "user_id": "7", "period": JAN}]}, claims=NO_RACE)
    assert result.valid is True


def test_uuid_ids_are_compared_as_they_are_and_never_cast() -> None:
    user, invoice = str(uuid.uuid4()), str(uuid.uuid4())
    history = together(5, user=user, winner=invoice)
    result = check(history, {user: [row(invoice, user=user)]}, claims=EVERYTHING)
    assert result.valid is True and result.evidence["at_most_once"].count == 1
    lost = check(history, {user: [row(str(uuid.uuid4()), user=user)]})
    assert kinds(lost) == ["lost"] and invoice in lost.anomalies[0].message


def test_many_keys_each_with_its_own_anomaly() -> None:
    history = sequential([gen("ok", 1, user=1), gen("ok", 2, user=2), gen("ok", 3, user=3), conflict("x", user=4)])
    result = check(history, {1: [row(1, 1), row(5, 1)], 2: [], 3: [row(3, 3)], 4: []})
    assert kinds(result) == ["bad_error", "duplicate", "lost"]


# identities other than billing's


def test_another_identity_groups_by_its_own_fields() -> None:
    """A checkout service: one invoice per subscription, no period anywhere."""
    sub = str(uuid.uuid4())
    call = ("generate_invoice", {"user_id": "u1", "subscription_id": sub}, "ok",
            {"status": 201, "result": {"invoice_id": "inv-1"}})
    other = ("generate_invoice", {"user_id": "u1", "subscription_id": sub}, "ok",
             {"status": 201, "result": {"invoice_id": "inv-2"}})
    final = {"u1": [{"invoice_id": "inv-1", "user_id": "u1", "subscription_id": sub}]}
    once = invoices.check(sequential([call]), final, identity=("subscription_id",), activation=None, claims=NO_RACE)
    assert once.valid is True
    twice = {"u1": final["u1"] + [{"invoice_id": "inv-2", "user_id": "u1", "subscription_id": sub}]}
    result = invoices.check(sequential([call, other]), twice, identity=("subscription_id",), activation=None)
    assert kinds(result) == ["duplicate"] and result.anomalies[0].ops == (1, 3)


def test_invoices_without_their_user_belong_to_the_user_whose_read_holds_them() -> None:
    history = sequential([("generate_invoice", {"user_id": "u1"}, "info", {"error": "ReadTimeout"})])
    one = {"u1": [{"invoice_id": "a", "subscription_id": "s1"}]}
    assert kinds(invoices.check(history, one, identity=("subscription_id",), activation=None)) == []
    elsewhere = {"u2": [{"invoice_id": "a", "subscription_id": "s1"}]}
    assert kinds(invoices.check(history, elsewhere, identity=("subscription_id",), activation=None)) == ["phantom"]


def test_a_call_is_tied_to_its_identity_by_its_ok_reply_when_it_did_not_ask_for_one() -> None:
    """billing picks the current month when no period is given; the reply names it."""
    history = sequential([gen("ok", 10, period=None, result={"period": JAN}),
                          gen("ok", 11, period=None, result={"period": JAN})])
    result = check(history, {1: [row(10), row(11)]})
    assert kinds(result) == ["duplicate"] and "period 2026-01" in result.anomalies[0].message
    assert result.anomalies[0].ops == (1, 3)


def test_a_call_of_unknown_identity_accounts_for_one_invoice_of_its_user_not_two() -> None:
    history = sequential([timeout(period=None)])
    assert kinds(check(history, {1: [row(10)]})) == []
    result = check(history, {1: [row(10), row(11, period="2026-02")]})
    assert kinds(result) == ["phantom"] and {r["invoice_id"] for r in result.anomalies[0].records} == {10, 11}


def test_a_duplicate_nobody_answered_for_is_witnessed_by_the_calls_of_its_user_else_by_its_rows() -> None:
    history = sequential([timeout(period=None)])
    result = check(history, {1: [row(10), row(11)]})
    assert kinds(result) == ["duplicate"] and result.anomalies[0].ops == (1,)
    nobody = check([], {1: [row(10), row(11)]})
    duplicate = next(a for a in nobody.anomalies if a.kind == "duplicate")
    assert [r["invoice_id"] for r in duplicate.records] == [10, 11]


def test_per_call_identity_allows_one_invoice_per_call_that_may_have_invoiced() -> None:
    history = sequential([gen("ok", "a", period=None), timeout(period=None)])
    assert check(history, {1: [row("a", period=None)]}, identity="per_call", claims=NO_RACE).valid is True
    assert check(history, {1: [row("a", period=None), row("b", period=None)]}, identity="per_call",
                 claims=NO_RACE).valid is True
    three = check(history, {1: [row(i, period=None) for i in "abc"]}, identity="per_call")
    assert kinds(three) == ["duplicate"] and three.anomalies[0].ops == (1, 3)
    lost = check(history, {1: [row("b", period=None)]}, identity="per_call")
    assert kinds(lost) == ["lost"]


def test_1000_invoices_for_1000_users_without_periods_are_valid_per_call() -> None:
    users = [str(uuid.uuid4()) for _ in range(1000)]
    history = sequential([gen("ok", f"inv-{u}", user=u, period=None) for u in users])
    final = {u: [row(f"inv-{u}", user=u, period=None)] for u in users}
    result = check(history, final, identity="per_call", claims=NO_RACE)
    assert result.valid is True and result.evidence["none_lost"].count == 1000


# what the checker cannot judge


def test_invoices_without_a_field_of_the_identity_are_not_checked_never_phantoms_or_lost() -> None:
    """The 1000-invoice stress against a service with no period: 1000 right invoices, no false alarm."""
    users = [str(uuid.uuid4()) for _ in range(1000)]
    history = sequential([gen("ok", f"inv-{u}", user=u, period=None) for u in users])
    final = {u: [row(f"inv-{u}", user=u, period=None)] for u in users}
    result = check(history, final)
    assert result.anomalies == [] and result.valid == "unknown"
    assert result.reason == ("not checked: list_invoices does not extract period "
                             "(invoice identity ['user_id', 'period'])")


def test_a_missing_field_still_lets_an_ok_be_looked_for_by_its_invoice_id() -> None:
    result = check(sequential([gen("ok", "inv-1", period=None)]), {1: [row("inv-2", period=None)]})
    assert kinds(result) == ["lost"]


def test_no_declared_identity_is_unknown_and_says_so() -> None:
    result = check(sequential([gen("ok", 10)]), {1: [row(10), row(11)]}, identity=None)
    assert result.valid == "unknown" and result.anomalies == []
    assert "declares no invoice identity" in result.reason


def test_a_read_that_is_not_a_list_of_objects_is_not_checked_not_a_crash() -> None:
    result = check(sequential([gen("ok", 10)]), {1: [10]})
    assert result.valid == "unknown" and "invoice objects" in result.reason


def test_no_calls_in_flight_together_is_not_exercised_never_valid() -> None:
    result = check(sequential([gen("ok", 10)]), {1: [row(10)]}, claims=["at_most_once"])
    assert result.valid == "unknown"
    assert result.reason == "not exercised (two or more calls for one invoice identity in flight together)"
    assert result.evidence["none_lost"].claimed is False


def test_calls_in_flight_together_for_one_identity_are_its_evidence_even_with_no_identity_in_the_request() -> None:
    result = check(together(4, period=None), {1: [row(10)]}, claims=EVERYTHING)
    assert result.valid is True and result.evidence["at_most_once"].count == 1


def test_nothing_read_is_not_exercised() -> None:
    result = check([], {}, claims=["none_from_nowhere"])
    assert result.valid == "unknown" and "an invoice in the final reads" in result.reason
