"""The unsafe variants matter: each removed protection shows, the safe build never does.

A variant is started the way a person would: the same compose stack with
``BILLING_UNSAFE`` set, which recreates the api, worker and flower
containers. Data is reset around each switch (duplicates that a variant made
would stop the safe build from re-creating its unique index).
"""
from __future__ import annotations

import concurrent.futures
import itertools
from collections.abc import Callable, Iterator

import pytest

from chaos.compose import ComposeStack
from chaos.workload.client import BillingClient
from tests.stack.conftest import API_INSTANCES, WORKERS

pytestmark = pytest.mark.docker
MAX_ATTEMPTS = 20
_periods = (f"{year}-{month:02d}" for year, month in itertools.product(range(2001, 2100), range(1, 13)))


@pytest.fixture
def variant(stack: ComposeStack, admin: BillingClient) -> Iterator[Callable[[str], None]]:
    def restart_with(name: str) -> None:
        assert admin.reset().status_code == 200
        stack.environment["BILLING_UNSAFE"] = name
        stack.up(api=API_INSTANCES, workers=WORKERS)

    yield restart_with
    restart_with("")


def invoices_after_10_concurrent_generates(admin: BillingClient, instances: dict[str, str], user_id: int) -> int:
    """Fire 10 generate-invoice calls for one (user, period) spread over every instance."""
    period = next(_periods)
    urls = list(instances.values())

    def generate(i: int) -> int:
        with BillingClient(urls[i % len(urls)], admin.token) as client:
            return client.generate_invoice(user_id, period).status_code

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(generate, range(10)))
    invoices = [i for i in admin.invoices(user_id).json() if i["period"] == period]
    assert statuses.count(200) == len(invoices), (statuses, invoices)
    return len(invoices)


def oversold_after_100_buyers_for_10_tickets(admin: BillingClient, instances: dict[str, str]) -> int:
    event_id = admin.create_event(10).json()["event_id"]
    urls = list(instances.values())

    def buy(i: int) -> int:
        with BillingClient(urls[i % len(urls)], admin.token) as client:
            return client.purchase_ticket(event_id, 1).status_code

    with concurrent.futures.ThreadPoolExecutor(100) as pool:
        statuses = list(pool.map(buy, range(100)))
    sold = len(admin.event(event_id).json()["tickets"])
    assert statuses.count(201) == sold
    return sold - 10


def test_safe_build_never_invoices_twice(admin: BillingClient, make_user, instances: dict[str, str]) -> None:
    _, user_id = make_user()
    counts = [invoices_after_10_concurrent_generates(admin, instances, user_id) for _ in range(MAX_ATTEMPTS)]
    assert counts == [1] * MAX_ATTEMPTS


def test_safe_build_never_oversells(admin: BillingClient, instances: dict[str, str]) -> None:
    assert [oversold_after_100_buyers_for_10_tickets(admin, instances) for _ in range(5)] == [0] * 5


def test_check_then_insert_invoices_twice(variant, admin: BillingClient, make_user, stack: ComposeStack) -> None:
    variant("check_then_insert")
    _, user_id = make_user()
    instances = stack.api_urls()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if invoices_after_10_concurrent_generates(admin, instances, user_id) > 1:
            print(f"check_then_insert: duplicate invoice on attempt {attempt}")
            return
    pytest.fail(f"check_then_insert made no duplicate invoice in {MAX_ATTEMPTS} attempts")


def test_oversell_sells_more_than_capacity(variant, admin: BillingClient, stack: ComposeStack) -> None:
    variant("oversell")
    instances = stack.api_urls()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if (oversold := oversold_after_100_buyers_for_10_tickets(admin, instances)) > 0:
            print(f"oversell: {oversold} tickets over capacity on attempt {attempt}")
            return
    pytest.fail(f"oversell sold no more than capacity in {MAX_ATTEMPTS} attempts")
