"""The seed document's single-instance categories, done through real HTTP.

Every simulated user owns its own client session (the seed shared one Flask
test client between threads, which serialises them). Each category runs
against one chosen instance and through the lb over all instances. Timing
thresholds are the benchmark's job (benchmarks/stack.py); here the claims
are about correctness under concurrency.
"""
from __future__ import annotations

import concurrent.futures
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import pytest

from chaos.compose import ComposeStack
from chaos.workload.client import BillingClient

pytestmark = pytest.mark.docker
T = TypeVar("T")


@pytest.fixture(params=["one instance", "through the lb"])
def target(request: pytest.FixtureRequest, stack: ComposeStack, instances: dict[str, str]) -> str:
    return next(iter(instances.values())) if request.param == "one instance" else stack.lb_url


def concurrently(count: int, work: Callable[[int], T], threads: int | None = None) -> list[T]:
    with concurrent.futures.ThreadPoolExecutor(threads or count) as pool:
        return list(pool.map(work, range(count)))


def new_email(tag: str, i: int) -> str:
    return f"{tag}-{i}-{uuid.uuid4().hex[:8]}@example.test"


def test_100_concurrent_reads(target: str) -> None:
    def read(_: int) -> int:
        with BillingClient(target) as client:
            return client.tariff_plans().status_code

    assert concurrently(100, read) == [200] * 100


def test_1000_reads_from_100_clients(target: str) -> None:
    def read_ten(_: int) -> list[int]:
        with BillingClient(target) as client:
            return [client.tariff_plans().status_code for _ in range(10)]

    statuses = [s for batch in concurrently(100, read_ten) for s in batch]
    assert statuses == [200] * 1000


def test_100_concurrent_registrations_each_with_a_subscription(target: str) -> None:
    def register_and_subscribe(i: int) -> tuple[int, int, int]:
        with BillingClient(target) as client:
            email = new_email("reg", i)
            registered = client.register(email, "password-1")
            client.login(email, "password-1")
            subscribed = client.subscribe(1 + i % 5, "card")
            mine = client.request("GET", "/api/subscriptions").json()
            return registered.status_code, subscribed.status_code, len(mine)

    results = concurrently(100, register_and_subscribe)
    assert results == [(201, 201, 1)] * 100


def test_readers_are_not_blocked_by_writers(target: str, admin: BillingClient) -> None:
    """MVCC: 10 readers and 5 writers for 5 s; every call succeeds and every write is visible."""
    stop_at = time.monotonic() + 5.0

    def reader(_: int) -> list[int]:
        with BillingClient(target) as client:
            statuses = []
            while time.monotonic() < stop_at:
                statuses.append(client.tariff_plans().status_code)
            return statuses

    def writer(i: int) -> list[tuple[int, int]]:
        with BillingClient(target) as client:
            email = new_email("mvcc-writer", i)
            user_id = client.register(email, "password-1").json()["user_id"]
            client.login(email, "password-1")
            writes = []
            while time.monotonic() < stop_at:
                writes.append((client.subscribe(1, "card").status_code, user_id))
            return writes

    with concurrent.futures.ThreadPoolExecutor(15) as pool:
        readers = [pool.submit(reader, i) for i in range(10)]
        writers = [pool.submit(writer, i) for i in range(5)]
        reads = [r.result() for r in readers]
        writes = [w.result() for w in writers]
    assert all(len(r) >= 10 and set(r) == {200} for r in reads), [len(r) for r in reads]
    assert all(len(w) >= 2 and {s for s, _ in w} == {201} for w in writes), [len(w) for w in writes]
    total_reads, total_writes = sum(map(len, reads)), sum(map(len, writes))
    print(f"MVCC against {target}: {total_reads} reads, {total_writes} writes in 5 s")


def test_no_overselling_100_buyers_for_10_tickets(target: str, admin: BillingClient) -> None:
    event_id = admin.create_event(10).json()["event_id"]

    def buy(_: int) -> int:
        with BillingClient(target, admin.token) as client:
            return client.purchase_ticket(event_id, 1).status_code

    statuses = concurrently(100, buy)
    assert statuses.count(201) == 10 and statuses.count(409) == 90
    event = admin.event(event_id).json()
    assert event["available"] == 0 and len(event["tickets"]) == 10


def test_no_overbooking_50_users_for_a_5_place_slot(target: str, admin: BillingClient) -> None:
    slot_id = admin.create_slot(5).json()["slot_id"]

    def book(_: int) -> int:
        with BillingClient(target, admin.token) as client:
            return client.book_slot(slot_id).status_code

    statuses = concurrently(50, book)
    assert statuses.count(201) == 5 and statuses.count(409) == 45
    slot = admin.slot(slot_id).json()
    assert slot["booked"] == 5 and len(slot["bookings"]) == 5


def test_100_isolated_sessions_see_only_themselves(target: str) -> None:
    def session(i: int) -> tuple[str, str, int, int]:
        with BillingClient(target) as client:
            email = new_email("iso", i)
            user_id = client.register(email, "password-1").json()["user_id"]
            client.login(email, "password-1")
            profile = client.profile().json()
            return email, profile["email"], user_id, profile["user_id"]

    results = concurrently(100, session)
    assert all(sent == seen and uid == seen_uid for sent, seen, uid, seen_uid in results)
    assert len({uid for _, _, uid, _ in results}) == 100
