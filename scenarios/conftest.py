"""Scenario helpers shared by the catalogue: users, final reads, checker verdicts."""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

import pytest

from chaos.workload.client import BillingClient

_periods = (f"{year}-{month:02d}" for year, month in itertools.product(range(2001, 2100), range(1, 13)))


@pytest.fixture
def new_period() -> Callable[[], str]:
    """A billing period no other scenario in this session used."""
    return lambda: next(_periods)


@pytest.fixture
def make_users(admin: BillingClient) -> Callable[[int], list[int]]:
    """Create ``count`` users in one call (the test endpoint), return their ids."""
    counter = itertools.count()

    def make(count: int) -> list[int]:
        response = admin.bulk_users(count, f"scenario-{next(counter)}")
        assert response.status_code == 201, response.text
        return response.json()["user_ids"]

    return make


def final_invoices(admin: BillingClient, user_ids: Iterable[int]) -> dict[int, list[dict]]:
    """The final read: every invoice of every user, after the faults healed."""
    reads = {}
    for user_id in sorted(set(user_ids)):
        response = admin.invoices(user_id)
        assert response.status_code == 200, response.text
        reads[user_id] = response.json()
    return reads
