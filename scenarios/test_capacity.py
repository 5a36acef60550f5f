"""Tickets sold <= capacity and bookings <= slot capacity; counters equal rows, under database latency."""
from __future__ import annotations

import pytest

from chaos.nemesis.link_faults import latency
from chaos.target.client import TargetClient
from chaos.report.checks import deferred
from chaos.workload import operations as ops
from chaos.workload.accounts import created, final_read
from chaos.workload.runner import Client, run_clients
from scenarios.conftest import explain, spread

pytestmark = pytest.mark.chaos


def buyers(cluster, target_client, admin: TargetClient, count: int, operation) -> list[Client]:
    return spread(target_client, list(cluster.api_urls().values()), admin.token, [[operation]] * count, "buyer")


@pytest.mark.needs(operations=["create_event", "purchase_ticket", "event"], faults=["postgres_link"])
def test_100_buyers_for_10_tickets_with_latency_on_api_to_postgres(fresh_cluster, admin, target_client, history,
                                                                   nemesis, judge) -> None:
    event_id = created(admin, "create_event", "event_id", capacity=10)
    for name in fresh_cluster.api_urls():
        nemesis.start_fault(latency(f"{name}->postgres", ms=20, jitter_ms=20))
    run_clients(history, buyers(fresh_cluster, target_client, admin, 100, ops.purchase_ticket(event_id)),
                together=True)
    nemesis.heal()
    final = {"events": {event_id: final_read(admin, "event", event_id=event_id)}}
    result = judge(deferred("capacity", final, claims=["no_oversell", "counters_match"]))
    assert result.valid is True, explain(result)
    assert sum(1 for op in history.completions() if op.type == "ok") == 10


@pytest.mark.needs(operations=["create_slot", "book_slot", "slot"])
def test_50_users_for_a_5_place_slot(fresh_cluster, admin, target_client, history, judge) -> None:
    slot_id = created(admin, "create_slot", "slot_id", capacity=5)
    run_clients(history, buyers(fresh_cluster, target_client, admin, 50, ops.book_slot(slot_id)), together=True)
    final = {"slots": {slot_id: final_read(admin, "slot", slot_id=slot_id)}}
    result = judge(deferred("capacity", final, claims=["no_oversell", "counters_match"]))
    assert result.valid is True, explain(result)
    assert sum(1 for op in history.completions() if op.type == "ok") == 5
