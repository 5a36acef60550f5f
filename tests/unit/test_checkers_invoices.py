"""The invoice checker: one invoice per (user, period), none lost, none from nowhere, honest 409s."""
from __future__ import annotations

from typing import Any

import pytest

from chaos.checkers import invoices
from chaos.history import Call, Fault, build, sequential

pytestmark = pytest.mark.unit
JAN = "2026-01"


def gen(kind: str, invoice_id: int | None = None, *, user: int = 1, period: str = JAN, **fields: Any):
    if kind == "ok":
        fields = {"status": 200, "result": {"invoice_id": invoice_id}, **fields}
    return ("generate_invoice", {"user_id": user, "period": period}, kind, fields)


def conflict(error: str = "invoice_exists", **key: Any):
    return gen("fail", status=409, error=error, **key)


def timeout(**key: Any):
    return gen("info", error="ReadTimeout", **key)


def row(invoice_id: int, user: int = 1, period: str = JAN) -> dict:
    return {"invoice_id": invoice_id, "user_id": user, "period": period, "amount": "19.99"}


def kinds(result) -> list[str]:
    return sorted(a.kind for a in result.anomalies)


def test_one_ok_and_allowed_conflicts_across_instances_is_valid() -> None:
    history = build([Call(f"client_{i}", "generate_invoice", {"user_id": 1, "period": JAN},
                          "ok" if i == 0 else "fail", 0.0, 0.1 + i / 100, status=200 if i == 0 else 409,
                          error=None if i == 0 else ["invoice_exists", "lock_timeout", "lock_lost"][i % 3],
                          instance=f"api_{i % 5 + 1}", result={"invoice_id": 10} if i == 0 else {})
                     for i in range(10)])
    result = invoices.check(history, {1: [row(10)]})
    assert result.valid is True and result.anomalies == []
    assert result.stats["ok"] == 1 and result.stats["fail"] == 9 and result.stats["keys"] == 1


def test_two_invoices_for_one_key_are_a_duplicate_witnessed_by_both_calls() -> None:
    history = sequential([gen("ok", 10), gen("ok", 11)])
    result = invoices.check(history, {1: [row(10), row(11)]})
    assert kinds(result) == ["duplicate"]
    assert result.anomalies[0].ops == (1, 3) and "[10, 11]" in result.anomalies[0].message


def test_an_ok_whose_invoice_is_missing_is_lost_once_with_every_call_that_vouched_for_it() -> None:
    history = sequential([gen("ok", 10), conflict(), conflict()])
    result = invoices.check(history, {1: []})
    assert kinds(result) == ["lost"] and result.anomalies[0].ops == (1, 3, 5)


def test_an_ok_replaced_by_another_invoice_is_lost() -> None:
    assert kinds(invoices.check(sequential([gen("ok", 10)]), {1: [row(12)]})) == ["lost"]


def test_invoice_exists_with_no_invoice_in_the_final_read_is_lost() -> None:
    result = invoices.check(sequential([timeout(), conflict()]), {1: []})
    assert kinds(result) == ["lost"] and "409 invoice_exists" in result.anomalies[0].message


def test_an_invoice_no_call_asked_for_is_a_phantom() -> None:
    result = invoices.check(sequential([gen("ok", 10)]), {1: [row(10), row(99, period="2026-02")]})
    assert kinds(result) == ["phantom"] and result.anomalies[0].records[0]["invoice_id"] == 99


def test_an_invoice_only_failed_calls_asked_for_is_a_phantom() -> None:
    result = invoices.check(sequential([conflict("lock_timeout")]), {1: [row(5)]})
    assert kinds(result) == ["phantom"] and "only failed calls" in result.anomalies[0].message


@pytest.mark.parametrize("error", ["conflict", None, "subscription_not_pending"])
def test_a_409_with_a_code_the_contract_does_not_allow_is_a_bad_error(error: str | None) -> None:
    result = invoices.check(sequential([gen("ok", 10), conflict(error)]), {1: [row(10)]})
    assert kinds(result) == ["bad_error"]


@pytest.mark.parametrize("final, invoiced", [([row(10)], True), ([], False)])
def test_info_calls_may_turn_out_either_way_and_the_stats_say_which(final: list, invoiced: bool) -> None:
    history = build([Call("a", "generate_invoice", {"user_id": 1, "period": JAN}, "info", 0.0, 10.0,
                          error="ReadTimeout"),
                     Call("b", "generate_invoice", {"user_id": 1, "period": JAN}, "info", 0.5, 0.6, status=503,
                          error="redis_unavailable")],
                    [Fault(0.2, 5.0, {"fault": "pause", "target": "api_1"})])
    result = invoices.check(history, {1: final})
    assert result.valid is True
    assert result.stats["info_invoiced" if invoiced else "info_not_invoiced"] == 2


def test_an_info_that_invoiced_next_to_an_ok_is_still_one_invoice() -> None:
    result = invoices.check(sequential([timeout(), gen("ok", 10), conflict()]), {1: [row(10)]})
    assert result.valid is True and result.stats["info_invoiced"] == 1


def test_async_calls_explain_invoices_and_activation_invoices_are_not_judged_here() -> None:
    history = sequential([("generate_invoice_async", {"user_id": 2, "period": JAN}, "ok",
                           {"status": 202, "result": {"task_id": "t"}})])
    final = {2: [row(3, user=2)], "1": [row(4, period="activation-9")]}
    result = invoices.check(history, final)
    assert result.valid is True and result.stats["other_invoices"] == 1


def test_final_reads_from_json_with_string_keys_and_ids_are_the_same_reads() -> None:
    history = sequential([gen("ok", 10, user=7)])
    assert invoices.check(history, {"7": [{"invoice_id": 10, "user_id": "7", "period": JAN}]}).valid is True


def test_many_keys_each_with_its_own_anomaly() -> None:
    history = sequential([gen("ok", 1, user=1), gen("ok", 2, user=2), gen("ok", 3, user=3), conflict("x", user=4)])
    result = invoices.check(history, {1: [row(1, 1), row(5, 1)], 2: [], 3: [row(3, 3)], 4: []})
    assert kinds(result) == ["bad_error", "duplicate", "lost"]
