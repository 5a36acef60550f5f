"""Scenario helpers shared by the catalogue: users, final reads, clients spread over instances.

Everything here goes through the target's profile (``TargetClient``), so a
scenario reads the same whichever service it drives.
"""
from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest

from chaos.target.client import TargetClient
from chaos.workload.operations import Operation
from chaos.workload.runner import Client

_periods = (f"{year}-{month:02d}" for year, month in itertools.product(range(2001, 2100), range(1, 13)))
USER_PASSWORD = "scenario-password-1"
MakeClient = Callable[..., TargetClient]


@pytest.fixture
def new_period() -> Callable[[], str]:
    """A billing period no other scenario in this session used."""
    return lambda: next(_periods)


@pytest.fixture
def make_users(admin: TargetClient, target_client: MakeClient) -> Callable[[int], list[int]]:
    """Create ``count`` users, return their ids: in one call where the target offers ``bulk_users``
    (billing's test endpoint), else by registering each one."""
    counter = itertools.count()
    run = uuid.uuid4().hex[:6]  # the target's data may not have been cleared: never reuse an email

    def make(count: int) -> list[int]:
        prefix = f"scenario-{run}-{next(counter)}"
        if admin.offers("bulk_users"):
            reply = admin.call("bulk_users", count=count, prefix=prefix)
            assert reply.ok, f"bulk_users: {reply.status} {reply.body!r}"
            return list(reply["user_ids"])
        return [register(target_client(admin.base_url), f"{prefix}-{i}@scenario.test")[0] for i in range(count)]

    return make


def register(client: TargetClient, email: str, password: str = USER_PASSWORD) -> tuple[int, str]:
    """A new account, logged in on ``client``: (its user id, its token)."""
    registered = client.call("register", email=email, password=password)
    assert registered.ok, f"register {email}: {registered.status} {registered.body!r}"
    login = client.login(email, password)
    assert login.ok and client.token, f"login {email}: {login.status} {login.body!r}"
    user_id = registered.get("user_id", login.get("user_id"))
    assert user_id is not None, "neither register nor login says the user id (extract user_id in the profile)"
    return int(user_id), client.token


def final_invoices(admin: TargetClient, user_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The final read: every invoice of every user, after the faults healed."""
    reads = {}
    for user_id in sorted(set(user_ids)):
        reply = admin.call("list_invoices", user_id=user_id)
        assert reply.ok, f"list_invoices {user_id}: {reply.status} {reply.body!r}"
        reads[user_id] = list(reply["invoices"])
    return reads


def spread(make_client: MakeClient, urls: Sequence[str], token: str | None,
           operations_per_client: Sequence[Iterable[Operation]], prefix: str = "client",
           **options: Any) -> list[Client]:
    """One client per sequence of operations, round-robin over ``urls``, each its own session."""
    return [Client(f"{prefix}_{i}", make_client(urls[i % len(urls)], token, **options), iter(batch))
            for i, batch in enumerate(operations_per_client)]
