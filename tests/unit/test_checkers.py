"""Every checker flags its anomalies on hand-made histories and passes clean ones (info resolved either way)."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chaos.checkers import async_invoices, capacity, distribution, idempotency, invoices, latency, locks
from chaos.checkers.result import check_all
from chaos.history import Op, Recorder

pytestmark = pytest.mark.unit


def history_of(*calls: tuple[str, str, dict[str, Any], str, dict[str, Any]]) -> list[Op]:
    """(process, f, value, outcome type, completion fields) per call, invoked and completed in order."""
    recorder = Recorder()
    for process, f, value, kind, fields in calls:
        recorder.complete(recorder.invoke(process, f, value), kind, **fields)
    return recorder.ops


def gen(user: int, period: str, kind: str = "ok", invoice_id: int | None = None, **fields: Any):
    value = {"user_id": user, "period": period}
    if kind == "ok":
        fields = {"value": {**value, "invoice_id": invoice_id}, "status": 200, **fields}
    return ("c", "generate_invoice", value, kind, fields)


def invoice(invoice_id: int, user: int = 1, period: str = "2026-01") -> dict:
    return {"invoice_id": invoice_id, "user_id": user, "period": period}


def kinds(result) -> list[str]:
    return sorted(a.kind for a in result.anomalies)


# invoices

def test_one_ok_and_conflicts_is_valid() -> None:
    ops = history_of(gen(1, "2026-01", "ok", 10), gen(1, "2026-01", "fail", status=409, error="invoice_exists"),
                     gen(1, "2026-01", "fail", status=409, error="lock_timeout"))
    assert invoices.check(ops, {1: [invoice(10)]}).valid is True


def test_a_duplicate_invoice_is_flagged_with_its_witnesses() -> None:
    ops = history_of(gen(1, "2026-01", "ok", 10), gen(1, "2026-01", "ok", 11))
    result = invoices.check(ops, {1: [invoice(10), invoice(11)]})
    assert kinds(result) == ["duplicate"] and len(result.anomalies[0].ops) == 2


def test_an_ok_whose_invoice_is_missing_is_lost() -> None:
    assert kinds(invoices.check(history_of(gen(1, "2026-01", "ok", 10)), {1: []})) == ["lost"]


def test_an_invoice_nobody_asked_for_is_a_phantom() -> None:
    assert kinds(invoices.check(history_of(gen(1, "2026-01", "ok", 10)),
                                {1: [invoice(10), invoice(99, period="2026-02")]})) == ["phantom"]


def test_a_409_with_another_code_is_a_bad_error() -> None:
    ops = history_of(gen(1, "2026-01", "ok", 10), gen(1, "2026-01", "fail", status=409, error="conflict"))
    assert kinds(invoices.check(ops, {1: [invoice(10)]})) == ["bad_error"]


@pytest.mark.parametrize("final, resolved", [([invoice(10)], "info_invoiced"), ([], "info_not_invoiced")])
def test_an_info_generate_may_turn_out_either_way(final: list, resolved: str) -> None:
    result = invoices.check(history_of(gen(1, "2026-01", "info", error="ReadTimeout")), {1: final})
    assert result.valid is True and result.stats[resolved] == 1


# async invoices

def accepted(user: int, period: str = "2026-01") -> tuple:
    value = {"user_id": user, "period": period}
    return ("c", "generate_invoice_async", value, "ok", {"value": {**value, "task_id": f"t{user}"}, "status": 202})


def test_every_accepted_task_has_exactly_one_invoice() -> None:
    ops = history_of(accepted(1), accepted(2))
    assert async_invoices.check(ops, {1: [invoice(1)], 2: [invoice(2, user=2)]}).valid is True
    assert kinds(async_invoices.check(ops, {1: [invoice(1)], 2: []})) == ["lost"]
    assert kinds(async_invoices.check(ops, {1: [invoice(1), invoice(3)], 2: [invoice(2, user=2)]})) == ["duplicate"]


# idempotency

def activation(key: str, method: str, kind: str, body: dict | None = None, replayed: bool = False, **fields: Any):
    value = {"subscription_id": 5, "key": key, "params": {"payment_method": method}}
    if kind == "ok":
        fields = {"value": {**value, "body": body, "replayed": replayed}, "status": 200, **fields}
    return ("c", "activate", value, kind, fields)


BODY = {"subscription_id": 5, "status": "active", "invoice_id": 1}


def test_identical_replays_and_a_rejected_reuse_are_valid() -> None:
    ops = history_of(activation("k", "card", "ok", BODY), activation("k", "card", "ok", BODY, replayed=True),
                     activation("k", "card", "fail", status=409, error="idempotency_in_flight"),
                     activation("k", "paypal", "fail", status=422, error="idempotency_mismatch"))
    assert idempotency.check(ops, {5: [invoice(1)]}).valid is True


def test_a_replay_with_another_body_is_a_mismatch() -> None:
    ops = history_of(activation("k", "card", "ok", BODY), activation("k", "card", "ok", {**BODY, "invoice_id": 2}))
    assert "replay_mismatch" in kinds(idempotency.check(ops, {5: [invoice(1)]}))


def test_another_answer_than_the_first_outcome_is_a_mismatch() -> None:
    ops = history_of(activation("k", "card", "ok", BODY),
                     activation("k", "card", "fail", status=409, error="subscription_not_pending"))
    assert kinds(idempotency.check(ops, {5: [invoice(1)]})) == ["replay_mismatch"]


def test_reuse_with_other_params_must_be_422() -> None:
    accepted_reuse = history_of(activation("k", "card", "ok", BODY), activation("k", "paypal", "ok", BODY))
    assert kinds(idempotency.check(accepted_reuse, {5: [invoice(1)]})) == ["reuse_accepted"]
    wrong_error = history_of(activation("k", "card", "ok", BODY),
                             activation("k", "paypal", "fail", status=409, error="subscription_not_pending"))
    assert kinds(idempotency.check(wrong_error, {5: [invoice(1)]})) == ["reuse_not_rejected"]


def test_two_activation_invoices_are_a_double_activation() -> None:
    ops = history_of(activation("k", "card", "ok", BODY), activation("k", "card", "info", error="ReadTimeout"))
    assert kinds(idempotency.check(ops, {5: [invoice(1), invoice(2)]})) == ["double_activation"]
    assert idempotency.check(ops, {5: [invoice(1)]}).valid is True  # the info call turned out a replay


# capacity

def purchase(event: int, kind: str, ticket: int | None = None, **fields: Any):
    value = {"event_id": event, "quantity": 1}
    if kind == "ok":
        fields = {"value": {**value, "ticket_id": ticket}, "status": 201, **fields}
    return ("c", "purchase_ticket", value, kind, fields)


def event(capacity_: int, available: int, tickets: list[int]) -> dict:
    return {"events": {1: {"capacity": capacity_, "available": available,
                           "tickets": [{"ticket_id": t, "quantity": 1} for t in tickets]}}}


def test_sold_within_capacity_with_matching_counters_is_valid() -> None:
    ops = history_of(purchase(1, "ok", 1), purchase(1, "ok", 2), purchase(1, "fail", status=409, error="sold_out"))
    assert capacity.check(ops, event(2, 0, [1, 2])).valid is True


def test_overselling_and_a_counter_that_disagrees_are_flagged() -> None:
    ops = history_of(*(purchase(1, "ok", t) for t in (1, 2, 3)))
    assert kinds(capacity.check(ops, event(2, 0, [1, 2, 3]))) == ["counter_mismatch", "oversell"]


def test_confirmed_purchases_must_be_rows_and_rows_must_be_explained() -> None:
    assert kinds(capacity.check(history_of(purchase(1, "ok", 1)), event(5, 5, []))) == ["lost"]
    phantom = capacity.check(history_of(purchase(1, "ok", 1)), event(5, 3, [1, 7]))
    assert kinds(phantom) == ["phantom"]
    unknown = capacity.check(history_of(purchase(1, "ok", 1), purchase(1, "info", error="ReadTimeout")),
                             event(5, 3, [1, 7]))
    assert unknown.valid is True


def test_slots_are_checked_like_events() -> None:
    ops = history_of(*(("c", "book_slot", {"slot_id": 3}, "ok", {"value": {"slot_id": 3, "booking_id": b}})
                       for b in (1, 2)))
    final = {"slots": {3: {"capacity": 1, "booked": 1, "bookings": [{"booking_id": 1}, {"booking_id": 2}]}}}
    assert kinds(capacity.check(ops, final)) == ["counter_mismatch", "oversell"]


# locks

def lock_event(kind: str, token: str, t: float, **fields: Any) -> dict:
    return {"kind": kind, "key": "invoice:1:2026-01", "token": token, "instance": f"api_{token}", "t": t,
            "expire_s": 10.0, **fields}


def test_holders_one_after_another_are_valid() -> None:
    events = [lock_event("acquire", "a", 0), lock_event("write", "a", 1, fence=1, accepted=True),
              lock_event("release", "a", 2), lock_event("acquire", "b", 2.5), lock_event("release", "b", 3)]
    assert locks.check(events).valid is True


def test_overlapping_holders_are_flagged() -> None:
    events = [lock_event("acquire", "a", 0), lock_event("acquire", "b", 5), lock_event("release", "a", 6)]
    assert kinds(locks.check(events)) == ["overlap"]


def test_a_holder_after_the_others_expiry_is_no_overlap_but_its_stale_write_must_be_rejected() -> None:
    base = [lock_event("acquire", "a", 0), lock_event("acquire", "b", 11), lock_event("write", "b", 11.5, fence=2,
                                                                                      accepted=True)]
    rejected = locks.check([*base, lock_event("write", "a", 12, fence=None, accepted=False)])
    assert rejected.valid is True and rejected.stats["stale_writes_rejected"] == 1
    accepted_ = locks.check([*base, lock_event("write", "a", 12, fence=1, accepted=True)])
    assert kinds(accepted_) == ["stale_write_accepted"]


def test_renewal_extends_a_holding() -> None:
    events = [lock_event("acquire", "a", 0), lock_event("renew", "a", 8), lock_event("acquire", "b", 12)]
    assert kinds(locks.check(events)) == ["overlap"]


# distribution

def served(instance: str, worker: str | None = None) -> tuple:
    value = {"worker": worker} if worker else {}
    return ("c", "read", {}, "ok", {"value": value, "instance": instance, "status": 200})


def test_work_on_every_instance_and_worker_is_valid_and_flower_agrees() -> None:
    ops = history_of(served("api_1", "w@1"), served("api_2", "w@2"), served("api_1", "w@2"))
    flower = {"w@1": {"stats": {"total": {"billing.generate_invoice": 1}}},
              "w@2": {"stats": {"total": {"billing.generate_invoice": 2, "other": 5}}}}
    assert distribution.check(ops, min_instances=2, min_workers=2, flower_workers=flower).valid is True


def test_too_few_active_lopsided_and_disagreeing_flower_are_flagged() -> None:
    ops = history_of(served("api_1", "w@1"), served("api_1", "w@1"), served("api_1", "w@1"), served("api_2"))
    flower = {"w@1": {"stats": {"total": {"billing.generate_invoice": 2}}}}
    result = distribution.check(ops, min_instances=3, min_workers=2, flower_workers=flower, max_share=0.5)
    assert kinds(result) == ["disagreement", "lopsided", "too_few_active", "too_few_active"]


# latency

def test_latency_per_phase_and_bounds() -> None:
    recorder = Recorder()
    for ms in (10, 20, 30):
        recorder.complete(recorder.invoke("c", "read", {}), "ok", latency=ms / 1000)
    recorder.nemesis("start", {"fault": "latency", "target": "api_1->redis"})
    recorder.complete(recorder.invoke("c", "read", {}), "ok", latency=0.5)
    recorder.nemesis("stop", {"fault": "latency", "target": "api_1->redis"})
    result = latency.check(recorder.ops, bounds={"read": {"p95": 0.1}})
    assert set(result.stats["read"]) == {"all", "before", "during"}
    assert kinds(result) == ["slow"]
    assert latency.check([]).valid == "unknown"


def test_merged_results_take_the_worst_verdict() -> None:
    good = invoices.check([], {})
    bad = locks.check([lock_event("acquire", "a", 0), lock_event("acquire", "b", 1)])
    assert check_all([good, bad]).valid is False and check_all([good, latency.check([])]).valid == "unknown"


# properties: random valid histories pass; one corruption is flagged by the right checker

@st.composite
def valid_runs(draw) -> tuple[list[Op], dict[int, list[dict]]]:
    """Random generate calls over a few (user, period) keys, with final reads consistent with them."""
    calls, final, next_id = [], {}, 100
    for user in range(1, draw(st.integers(1, 4)) + 1):
        final[user] = []
        for period in draw(st.lists(st.sampled_from(["2026-01", "2026-02", "2026-03"]), unique=True, max_size=3)):
            outcomes = draw(st.lists(st.sampled_from(["ok", "fail", "info"]), min_size=1, max_size=5))
            made = "ok" in outcomes or ("info" in outcomes and draw(st.booleans()))
            if made:
                next_id += 1
                final[user].append(invoice(next_id, user, period))
            first_ok = True
            for kind in outcomes:
                if kind == "ok" and first_ok:
                    calls.append(gen(user, period, "ok", next_id))
                    first_ok = False
                elif kind == "ok":
                    calls.append(gen(user, period, "fail", status=409, error="invoice_exists"))
                elif kind == "fail":
                    calls.append(gen(user, period, "fail", status=409, error="lock_timeout"))
                else:
                    calls.append(gen(user, period, "info", error="ReadTimeout"))
    order = draw(st.permutations(range(len(calls))))
    return history_of(*(calls[i] for i in order)), final


@settings(max_examples=150, deadline=None)
@given(valid_runs())
def test_random_valid_histories_pass(run) -> None:
    ops, final = run
    assert invoices.check(ops, final).valid is True


@settings(max_examples=150, deadline=None)
@given(valid_runs(), st.data())
def test_a_duplicated_or_dropped_invoice_is_flagged(run, data) -> None:
    ops, final = run
    rows = [(user, row) for user, rows in final.items() for row in rows]
    if not rows:
        return
    user, row = data.draw(st.sampled_from(rows))
    corruption = data.draw(st.sampled_from(["duplicate", "drop"]))
    if corruption == "duplicate":
        final[user].append({**row, "invoice_id": row["invoice_id"] + 10_000})
        assert "duplicate" in kinds(invoices.check(ops, final))
    else:
        final[user].remove(row)
        confirmed = any(op.type == "ok" and op.value.get("invoice_id") == row["invoice_id"] for op in ops)
        assert invoices.check(ops, final).valid is (not confirmed)


@st.composite
def sequential_holdings(draw) -> list[dict]:
    """Holders of one key one after another, each releasing before the next acquires."""
    events, t = [], 0.0
    for n in range(draw(st.integers(1, 8))):
        token = f"h{n}"
        t += draw(st.floats(0.01, 2.0))
        events.append(lock_event("acquire", token, t))
        hold = draw(st.floats(0.01, 9.0))
        if draw(st.booleans()):
            events.append(lock_event("write", token, t + hold / 2, fence=n + 1, accepted=True))
        t += hold
        events.append(lock_event("release", token, t))
    return events


@settings(max_examples=150, deadline=None)
@given(sequential_holdings())
def test_random_sequential_holders_pass(events: list[dict]) -> None:
    assert locks.check(events).valid is True


@settings(max_examples=150, deadline=None)
@given(sequential_holdings(), st.data())
def test_an_acquire_moved_into_the_previous_holding_is_an_overlap(events: list[dict], data) -> None:
    acquires = [i for i, e in enumerate(events) if e["kind"] == "acquire"][1:]
    if not acquires:
        return
    i = data.draw(st.sampled_from(acquires))
    previous = events[i - 1]  # the previous holder's release
    events[i] = {**events[i], "t": previous["t"] - 0.005}
    assert "overlap" in kinds(locks.check(events))


@st.composite
def ticket_sales(draw) -> tuple[list[Op], dict]:
    capacity_ = draw(st.integers(1, 20))
    buyers = draw(st.integers(0, 40))
    calls, rows = [], []
    for n in range(buyers):
        if len(rows) < capacity_ and draw(st.booleans()):
            rows.append(n)
            calls.append(purchase(1, "ok", n))
        else:
            calls.append(purchase(1, "fail", status=409, error="sold_out"))
    return history_of(*calls), event(capacity_, capacity_ - len(rows), rows)


@settings(max_examples=150, deadline=None)
@given(ticket_sales())
def test_random_sales_within_capacity_pass(sale) -> None:
    assert capacity.check(*sale).valid is True


@settings(max_examples=150, deadline=None)
@given(ticket_sales(), st.sampled_from(["extra_row", "counter"]))
def test_a_sold_row_too_many_or_a_wrong_counter_is_flagged(sale, corruption: str) -> None:
    ops, final = sale
    state = final["events"][1]
    if corruption == "extra_row":
        state["tickets"].append({"ticket_id": 10_000, "quantity": 1})
        assert {"phantom", "counter_mismatch"} <= set(kinds(capacity.check(ops, final)))
    else:
        state["available"] -= 1
        assert "counter_mismatch" in kinds(capacity.check(ops, final))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 8), st.data())
def test_replays_are_identical_unless_one_is_corrupted(replays: int, data) -> None:
    calls = [activation("k", "card", "ok", BODY)] + [activation("k", "card", "ok", BODY, replayed=True)] * replays
    assert idempotency.check(history_of(*calls), {5: [invoice(1)]}).valid is True
    i = data.draw(st.integers(1, replays))
    calls[i] = activation("k", "card", "ok", {**BODY, "invoice_id": 2}, replayed=True)
    assert "replay_mismatch" in kinds(idempotency.check(history_of(*calls), {5: [invoice(1)]}))
