"""Tickets sold <= capacity and bookings <= slot capacity; counters equal rows, under database latency."""
from __future__ import annotations

import pytest

from chaos.checkers import capacity as capacity_checker
from chaos.nemesis.link_faults import latency
from chaos.workload import operations as ops
from chaos.workload.client import BillingClient
from chaos.workload.runner import Client, run_clients

pytestmark = pytest.mark.chaos


def buyers(cluster, admin: BillingClient, count: int, operation) -> list[Client]:
    urls = list(cluster.api_urls().values())
    return [Client(f"buyer_{i}", BillingClient(urls[i % len(urls)], admin.token), iter([operation]))
            for i in range(count)]


def test_100_buyers_for_10_tickets_with_latency_on_api_to_postgres(fresh_cluster, admin, history, nemesis,
                                                                   record_verdict) -> None:
    event_id = admin.create_event(10).json()["event_id"]
    for name in fresh_cluster.api_urls():
        nemesis.start_fault(latency(f"{name}->postgres", ms=20, jitter_ms=20))
    run_clients(history, buyers(fresh_cluster, admin, 100, ops.purchase_ticket(event_id)))
    nemesis.heal()
    result = record_verdict(capacity_checker.check(history.ops, {"events": {event_id: admin.event(event_id).json()}}))
    assert result.valid is True, result.anomalies
    assert sum(1 for op in history.completions() if op.type == "ok") == 10


def test_50_users_for_a_5_place_slot(fresh_cluster, admin, history, record_verdict) -> None:
    slot_id = admin.create_slot(5).json()["slot_id"]
    run_clients(history, buyers(fresh_cluster, admin, 50, ops.book_slot(slot_id)))
    result = record_verdict(capacity_checker.check(history.ops, {"slots": {slot_id: admin.slot(slot_id).json()}}))
    assert result.valid is True, result.anomalies
    assert sum(1 for op in history.completions() if op.type == "ok") == 5
