"""Properties: random valid histories give no checker an anomaly; one random corruption is flagged by the right one.

A "world" is a random run that obeys the target contract: invoices (sync and
async) with conflicts and ambiguous timeouts that went either way,
idempotent activations with replays, in-flight conflicts and refused reuse,
ticket and slot sales up to capacity, a lock journal with renewals,
expiries and refused stale writes, work spread over instances and workers
with Flower agreeing, and fault windows. Calls are spread over processes,
so their completions interleave as in a real run. Ids are integers or UUID
strings (a service's ids are opaque). A valid history may still be "unknown"
to a checker (nothing competed, say): the property is that none says False.
"""
from __future__ import annotations

import itertools
import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from chaos.checkers import async_invoices, capacity, distribution, idempotency, invoices, latency, locks
from chaos.checkers.result import Result
from chaos.history import Call, Fault, Op, build, pairs
from chaos.history.overlap import max_in_flight

pytestmark = pytest.mark.unit
TASK = "billing.generate_invoice"
ASYNC_PERIOD = "2026-09"
LATENCY_BOUND = {"read": {"p99": 0.5}}
IDENTITY = ("user_id", "period")

Spec = tuple[str, dict[str, Any], str, dict[str, Any]]  # f, request, outcome, completion fields


@dataclass
class World:
    specs: list[Spec] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    invoices: dict[int, list[dict]] = field(default_factory=lambda: defaultdict(list))
    activations: dict[int, list[dict]] = field(default_factory=lambda: defaultdict(list))
    capacity: dict[str, dict] = field(default_factory=lambda: {"events": {}, "slots": {}})
    lock_events: list[dict] = field(default_factory=list)
    flower: dict[str, dict] = field(default_factory=dict)
    history: list[Op] = field(default_factory=list)
    min_instances: int | None = None  # default: as many as the history shows at work

    def results(self) -> dict[str, Result]:
        h = self.history
        instances = {op.instance for op in h if op.type == "ok" and op.instance}
        workers = {op.value["worker"] for op in h if op.type == "ok" and op.value.get("worker")}
        return {"invoices": invoices.check(h, self.invoices, identity=IDENTITY),
                "async_invoices": async_invoices.check(h, self.invoices, identity=IDENTITY),
                "idempotency": idempotency.check(h, self.activations),
                "capacity": capacity.check(h, self.capacity),
                "locks": locks.check(self.lock_events),
                "distribution": distribution.check(h, min_instances=self.min_instances or len(instances),
                                                   min_workers=len(workers),
                                                   flower_workers=self.flower),
                "latency": latency.check(h, LATENCY_BOUND)}


@st.composite
def worlds(draw: st.DrawFn) -> World:
    world = World()
    numbers = itertools.count(100)
    ids = (map(lambda n: str(uuid.UUID(int=n)), numbers) if draw(st.booleans()) else numbers)
    rnd = random.Random(draw(st.integers(0, 2**32)))  # plain, not hypothesis's instrumented random: 10x faster
    _invoices(draw, world, ids, rnd)
    _async(draw, world, ids, rnd)
    _activations(draw, world, ids, rnd)
    _sales(draw, world, ids, rnd)
    world.specs += [("read", {}, "ok", {"status": 200}) for _ in range(draw(st.integers(1, 6)))]
    _locks(draw, world, rnd)
    _schedule(draw, world, rnd)
    return world


def _steps(draw: st.DrawFn, rnd: random.Random, kinds: list[str], most: int) -> list[str]:
    """Structure (how many) is drawn, for shrinking; the details come from the seeded random, for speed."""
    return rnd.choices(kinds, k=draw(st.integers(1, most)))


def _invoices(draw: st.DrawFn, world: World, ids: itertools.count, rnd: random.Random) -> None:
    for user in range(1, draw(st.integers(1, 3)) + 1):
        for period in rnd.sample(["2026-01", "2026-02"], rnd.randint(0, 2)):
            made = None
            key = {"user_id": user, "period": period}
            for step in _steps(draw, rnd, ["ok", "timeout", "lock_timeout", "lock_lost", "exists"], 5):
                if step == "ok" and made is None:
                    made = next(ids)
                    world.specs.append(("generate_invoice", key, "ok", {"status": 200, "result": {"invoice_id": made}}))
                elif step in ("ok", "exists") and made is not None:
                    world.specs.append(("generate_invoice", key, "fail", {"status": 409, "error": "invoice_exists"}))
                elif step == "timeout":
                    world.specs.append(("generate_invoice", key, "info", {"error": "ReadTimeout"}))
                    if made is None and rnd.random() < 0.5:
                        made = next(ids)  # it committed; the answer was lost
                else:
                    error = step if step in ("lock_timeout", "lock_lost") else "lock_timeout"
                    world.specs.append(("generate_invoice", key, "fail", {"status": 409, "error": error}))
            if made is not None:
                world.invoices[user].append({"invoice_id": made, "user_id": user, "period": period})


def _async(draw: st.DrawFn, world: World, ids: itertools.count, rnd: random.Random) -> None:
    tasks: dict[str, int] = defaultdict(int)
    for user in range(1, draw(st.integers(1, 3)) + 1):
        key = {"user_id": user, "period": ASYNC_PERIOD}
        steps = _steps(draw, rnd, ["accepted", "timeout", "refused"], 3)
        for step in steps:
            if step == "accepted":
                worker = f"celery@w{rnd.randint(1, 3)}"
                tasks[worker] += 1
                world.specs.append(("generate_invoice_async", key, "ok",
                                    {"status": 202, "result": {"task_id": f"t{next(ids)}", "worker": worker}}))
            elif step == "timeout":
                world.specs.append(("generate_invoice_async", key, "info", {"error": "ReadTimeout"}))
            else:
                world.specs.append(("generate_invoice_async", key, "fail", {"status": 403, "error": "forbidden"}))
        if "accepted" in steps or ("timeout" in steps and rnd.random() < 0.5):
            world.invoices[user].append({"invoice_id": next(ids), "user_id": user, "period": ASYNC_PERIOD})
    world.flower = {w: {"stats": {"total": {TASK: n, "celery.backend_cleanup": 2}}} for w, n in tasks.items()}


def _activations(draw: st.DrawFn, world: World, ids: itertools.count, rnd: random.Random) -> None:
    for subscription in range(1, draw(st.integers(1, 3)) + 1):
        body = None
        request = {"subscription_id": subscription, "key": f"key-{subscription}", "params": {"payment_method": "card"}}
        for step in _steps(draw, rnd, ["execute", "replay", "in_flight", "timeout", "reuse"], 6):
            if step in ("execute", "replay"):
                fresh = body is None
                body = body or {"subscription_id": subscription, "status": "active", "invoice_id": next(ids)}
                world.specs.append(("activate", request, "ok",
                                    {"status": 200, "result": {**body, "body": body, "replayed": not fresh}}))
            elif step == "in_flight":
                world.specs.append(("activate", request, "fail", {"status": 409, "error": "idempotency_in_flight"}))
            elif step == "timeout":
                world.specs.append(("activate", request, "info", {"error": "ReadTimeout"}))
                if body is None and rnd.random() < 0.5:
                    body = {"subscription_id": subscription, "status": "active", "invoice_id": next(ids)}
            elif body is not None:  # a 422 says the key was used before, with other parameters
                world.specs.append(("activate", {**request, "params": {"payment_method": "paypal"}}, "fail",
                                    {"status": 422, "error": "idempotency_mismatch"}))
        if body is not None:
            world.activations[subscription].append({"invoice_id": body["invoice_id"], "user_id": 1,
                                                    "period": f"activation-{subscription}"})


def _sales(draw: st.DrawFn, world: World, ids: itertools.count, rnd: random.Random) -> None:
    for kind, f, id_field, row_id, full in (("events", "purchase_ticket", "event_id", "ticket_id", "sold_out"),
                                            ("slots", "book_slot", "slot_id", "booking_id", "slot_full")):
        limit, rows = draw(st.integers(1, 6)), []
        for _ in range(draw(st.integers(0, 10))):
            quantity = rnd.randint(1, 2) if kind == "events" else 1
            request = {id_field: 1, "quantity": quantity} if kind == "events" else {id_field: 1}
            taken = sum(r.get("quantity", 1) for r in rows)
            if taken + quantity > limit:
                world.specs.append((f, request, "fail", {"status": 409, "error": full}))
            elif rnd.random() < 0.6:
                rows.append({row_id: next(ids), **({"quantity": quantity} if kind == "events" else {})})
                world.specs.append((f, request, "ok", {"status": 201, "result": {row_id: rows[-1][row_id]}}))
            else:
                world.specs.append((f, request, "info", {"error": "ReadTimeout"}))
                if rnd.random() < 0.5:
                    rows.append({row_id: next(ids), **({"quantity": quantity} if kind == "events" else {})})
        sold = sum(r.get("quantity", 1) for r in rows)
        world.capacity[kind][1] = ({"capacity": limit, "available": limit - sold, "tickets": rows}
                                   if kind == "events" else {"capacity": limit, "booked": sold, "bookings": rows})


def _locks(draw: st.DrawFn, world: World, rnd: random.Random) -> None:
    for key in ("invoice:1:2026-01", "invoice:2:2026-01")[: draw(st.integers(0, 2))]:
        t, fence, expired = 1_760_000_000.0, 0, []
        for n in range(draw(st.integers(1, 5))):
            token = f"{key}#{n}"
            event = {"key": key, "token": token, "instance": f"api_{n % 3 + 1}", "expire_s": 2.0}
            world.lock_events.append({**event, "kind": "acquire", "t": t})
            for stale in expired:  # a holder that lost the lock wakes up and tries to write: refused
                world.lock_events.append({**stale, "kind": "write", "t": t + 0.01, "fence": None, "accepted": False})
            expired = []
            expires = t + 2.0
            for _ in range(rnd.randint(0, 2)):
                renew_at = expires - rnd.uniform(0.05, 1.5)
                world.lock_events.append({**event, "kind": "renew", "t": renew_at})
                expires = renew_at + 2.0
            if rnd.random() < 0.6:
                fence += 1
                world.lock_events.append({**event, "kind": "write", "t": expires - 0.04, "fence": fence,
                                          "accepted": True})
            if rnd.random() < 0.6:
                world.lock_events.append({**event, "kind": "release", "t": expires - 0.02})
                t = expires - 0.02 + rnd.uniform(0.0, 1.0)
            else:
                expired.append(event)
                t = expires + rnd.uniform(0.001, 1.0)


def _schedule(draw: st.DrawFn, world: World, rnd: random.Random) -> None:
    """Spread the calls over processes (one call at a time each) and instances, and place faults."""
    processes = draw(st.integers(1, 6))
    instances = draw(st.integers(1, 4))
    order = list(range(len(world.specs)))
    rnd.shuffle(order)
    clock = [0.0] * processes
    calls = []
    for n, i in enumerate(order):
        f, request, kind, fields = world.specs[i]
        p = n % processes
        start = clock[p] + rnd.uniform(0.0, 0.05)
        end = start + rnd.uniform(0.001, 0.2)
        clock[p] = end
        instance = f"api_{n % instances + 1}" if kind == "ok" or fields.get("status") else None
        calls.append(Call(f"client_{p}", f, request, kind, start, end, instance=instance, **fields))
    horizon = max(clock)
    for _ in range(draw(st.integers(0, 2))):
        start = rnd.uniform(0, horizon)
        world.faults.append(Fault(start, rnd.choice([None, start + rnd.uniform(0, horizon / 2)]),
                                  {"fault": rnd.choice(["latency", "partition", "pause"]), "target": "api_1->redis"}))
    world.history = build(calls, world.faults)


FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(worlds())
def test_no_checker_finds_an_anomaly_in_a_random_valid_history(world: World) -> None:
    results = world.results()
    assert {name: r.anomalies for name, r in results.items() if r.valid is False} == {}
    for name in ("invoices", "async_invoices", "idempotency", "capacity"):  # unknown always says why
        assert (results[name].valid == "unknown") == bool(results[name].reason), (name, results[name])


@FAST
@given(worlds())
def test_each_claims_evidence_is_what_the_history_shows(world: World) -> None:
    """Contention for one invoice identity as counted by the checker, and by hand from the history."""
    groups: dict[tuple, list] = defaultdict(list)
    for pair in pairs(world.history):
        if pair.invoke.f in ("generate_invoice", "generate_invoice_async"):
            groups[(pair.invoke.value["user_id"], pair.invoke.value["period"])].append(pair)
    expected = sum(1 for calls in groups.values() if max_in_flight(calls) >= 2)
    assert world.results()["invoices"].evidence["at_most_once"].count == expected


# corruptions: each returns (checker that must flag it, anomaly kind or kinds, checkers allowed to turn
# invalid), or None when the world has nothing to corrupt that way

Corruption = Callable[[World, st.DataObject], "tuple[str, str, set[str]] | None"]


def duplicate_invoice(world: World, data: st.DataObject):
    rows = [(u, r) for u, rs in world.invoices.items() for r in rs]
    if not rows:
        return None
    user, row = data.draw(st.sampled_from(rows))
    world.invoices[user].append({**row, "invoice_id": 10**6})
    if row["period"] == ASYNC_PERIOD:
        return "async_invoices", "duplicate", {"invoices", "async_invoices"}
    return "invoices", "duplicate", {"invoices"}


def drop_confirmed_invoice(world: World, data: st.DataObject):
    confirmed = {(op.value["user_id"], op.value["period"]) for op in world.history
                 if op.type == "ok" and op.f in ("generate_invoice", "generate_invoice_async")}
    rows = [(u, r) for u, rs in world.invoices.items() for r in rs if (u, r["period"]) in confirmed]
    if not rows:
        return None
    user, row = data.draw(st.sampled_from(rows))
    world.invoices[user].remove(row)
    if row["period"] == ASYNC_PERIOD:
        return "async_invoices", "lost", {"async_invoices"}
    return "invoices", "lost", {"invoices"}


def phantom_invoice(world: World, data: st.DataObject):
    world.invoices[99].append({"invoice_id": 10**6, "user_id": 99, "period": "2030-01"})
    return "invoices", "phantom", {"invoices"}


def dishonest_conflict(world: World, data: st.DataObject):
    conflicts = [op for op in world.history if op.f == "generate_invoice" and op.status == 409]
    if not conflicts:
        return None
    data.draw(st.sampled_from(conflicts)).error = "conflict"
    return "invoices", "bad_error", {"invoices"}


def mismatched_replay(world: World, data: st.DataObject):
    replays = [op for op in world.history if op.f == "activate" and op.value.get("replayed")]
    if not replays:
        return None
    op = data.draw(st.sampled_from(replays))
    other = f"other-{op.value['body']['invoice_id']}"
    op.value["body"] = {**op.value["body"], "invoice_id": other}
    op.value["invoice_id"] = other
    return "idempotency", "replay_mismatch", {"idempotency"}


def second_activation(world: World, data: st.DataObject):
    if not world.activations:
        return None
    subscription = data.draw(st.sampled_from(sorted(world.activations)))
    world.activations[subscription].append({"invoice_id": 10**6, "user_id": 1, "period": f"activation-{subscription}"})
    return "idempotency", "double_activation", {"idempotency"}


def accepted_reuse(world: World, data: st.DataObject):
    """The key reused with other parameters ran again: a second activation (the history may not show
    which call got the key first, when its answer was lost; the final read shows two activations)."""
    refused = [op for op in world.history if op.f == "activate" and op.status == 422]
    if not refused:
        return None
    op = data.draw(st.sampled_from(refused))
    subscription = op.value["subscription_id"]
    op.type, op.status, op.error = "ok", 200, None
    body = {"subscription_id": subscription, "status": "active", "invoice_id": 10**6}
    op.value.update(body=body, replayed=False, **body)
    world.activations[subscription].append({"invoice_id": 10**6, "user_id": 1, "period": f"activation-{subscription}"})
    return "idempotency", {"reuse_accepted", "double_activation"}, {"idempotency"}


def oversold(world: World, data: st.DataObject):
    kind = data.draw(st.sampled_from(["events", "slots"]))
    state = world.capacity[kind][1]
    rows = state["tickets" if kind == "events" else "bookings"]
    if not rows:
        return None
    state["capacity"] = sum(r.get("quantity", 1) for r in rows) - 1
    if kind == "events":
        state["available"] = -1
    return "capacity", "oversell", {"capacity"}


def wrong_counter(world: World, data: st.DataObject):
    kind = data.draw(st.sampled_from(["events", "slots"]))
    state = world.capacity[kind][1]
    state["available" if kind == "events" else "booked"] += data.draw(st.sampled_from([-1, 1]))
    return "capacity", "counter_mismatch", {"capacity"}


def lost_sale(world: World, data: st.DataObject):
    confirmed = [op for op in world.history if op.type == "ok" and op.f in ("purchase_ticket", "book_slot")]
    if not confirmed:
        return None
    op = data.draw(st.sampled_from(confirmed))
    kind, rows_field, row_id = (("events", "tickets", "ticket_id") if op.f == "purchase_ticket"
                                else ("slots", "bookings", "booking_id"))
    state = world.capacity[kind][1]
    row = next(r for r in state[rows_field] if r[row_id] == op.value[row_id])
    state[rows_field].remove(row)
    if kind == "events":
        state["available"] += row.get("quantity", 1)
    else:
        state["booked"] -= 1
    return "capacity", "lost", {"capacity"}


def overlapping_holder(world: World, data: st.DataObject):
    acquires = [i for i, e in enumerate(world.lock_events) if e["kind"] == "acquire"]
    later = [i for i in acquires if any(e["kind"] == "acquire" and e["key"] == world.lock_events[i]["key"]
                                        for e in world.lock_events[:i])]
    if not later:
        return None
    i = data.draw(st.sampled_from(later))
    key = world.lock_events[i]["key"]
    previous = max(e["t"] for e in world.lock_events[:i] if e["kind"] == "acquire" and e["key"] == key)
    world.lock_events[i] = {**world.lock_events[i], "t": previous + 0.01}
    return "locks", "overlap", {"locks"}


def stale_write_accepted(world: World, data: st.DataObject):
    holders = [e for e in world.lock_events if e["kind"] == "acquire"]
    if not holders:
        return None
    holder = data.draw(st.sampled_from(holders))
    last = max(e["t"] for e in world.lock_events)
    world.lock_events.append({**holder, "kind": "write", "t": max(last, holder["t"] + holder["expire_s"]) + 5,
                              "fence": None, "accepted": True})
    return "locks", "stale_write_accepted", {"locks"}


def flower_disagrees(world: World, data: st.DataObject):
    worker = data.draw(st.sampled_from(sorted(world.flower) + ["celery@w9"]))
    world.flower.setdefault(worker, {"stats": {"total": {TASK: 0}}})["stats"]["total"][TASK] += 1
    return "distribution", "disagreement", {"distribution"}


def one_instance_does_everything(world: World, data: st.DataObject):
    working = {op.instance for op in world.history if op.type == "ok" and op.instance}
    if len(working) < 2:
        return None
    world.min_instances = len(working)  # what the scenario expects: every instance it started at work
    for op in world.history:
        if op.instance:
            op.instance = "api_1"
    return "distribution", "too_few_active", {"distribution"}


def slow_reads(world: World, data: st.DataObject):
    for op in world.history:
        if op.f == "read" and op.type == "ok":
            op.latency = 100 * (op.latency or 0.01) + 1.0
    return "latency", "slow", {"latency"}


CORRUPTIONS = [duplicate_invoice, drop_confirmed_invoice, phantom_invoice, dishonest_conflict, mismatched_replay,
               second_activation, accepted_reuse, oversold, wrong_counter, lost_sale, overlapping_holder,
               stale_write_accepted, flower_disagrees, one_instance_does_everything, slow_reads]


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda c: c.__name__)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds(), data=st.data())
def test_one_corruption_is_flagged_by_the_checker_that_owns_it(corrupt: Corruption, world: World,
                                                               data: st.DataObject) -> None:
    expected = corrupt(world, data)
    event(f"{corrupt.__name__}: {'applied' if expected else 'nothing to corrupt'}")
    if expected is None:
        return  # this world has nothing to corrupt that way
    checker, kinds, allowed = expected
    results = world.results()
    assert set(results[checker].kinds()) & ({kinds} if isinstance(kinds, str) else kinds), (
        corrupt.__name__, results[checker].anomalies)
    assert {name for name, r in results.items() if r.valid is False} <= allowed, {
        name: r.anomalies for name, r in results.items() if r.valid is False}
