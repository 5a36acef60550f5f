"""The billing stack under test: 3 api instances and 2 workers, from the compose file.

One stack per test session (about 15 s to start once the image exists), on
free host ports so a stack a person left running is not disturbed, removed at
the end whatever happens, and removed at the start too in case a killed run
left it behind.
"""
from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from chaos.compose import ComposeStack
from chaos.provision.pipeline import provision
from chaos.workload.client import BillingClient

ADMIN_EMAIL = "admin@billing.test"
ADMIN_PASSWORD = "admin-password"
API_INSTANCES = 3
WORKERS = 2
_emails = itertools.count()


@pytest.fixture(scope="session")
def stack() -> Iterator[ComposeStack]:
    provision()
    stack = ComposeStack.with_free_ports(f"billing-chaos-test-{os.getpid()}")
    stack.down()
    try:
        stack.up(api=API_INSTANCES, workers=WORKERS)
        yield stack
    finally:
        stack.down()


@pytest.fixture(scope="session")
def admin(stack: ComposeStack) -> BillingClient:
    client = BillingClient(stack.lb_url)
    assert client.login(ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 200
    return client


@pytest.fixture
def make_user(stack: ComposeStack) -> Iterator[Callable[[], tuple[BillingClient, int]]]:
    """Register and log in a new user; each gets its own client session."""
    clients: list[BillingClient] = []

    def make(url: str | None = None) -> tuple[BillingClient, int]:
        client = BillingClient(url or stack.lb_url)
        email = f"user-{uuid.uuid4().hex[:8]}-{next(_emails)}@example.test"
        registered = client.register(email, "password-1")
        assert registered.status_code == 201, registered.text
        assert client.login(email, "password-1").status_code == 200
        clients.append(client)
        return client, registered.json()["user_id"]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def instances(stack: ComposeStack) -> dict[str, str]:
    """Each api instance's own URL, keyed by its ``X-Instance`` name."""
    urls = stack.api_urls()
    assert len(urls) == API_INSTANCES
    return urls


@pytest.fixture(autouse=True)
def lb_log_on_failure(request: pytest.FixtureRequest, stack: ComposeStack) -> Iterator[None]:
    """A failed test prints the lb's error log of its own time span (HAProxy logs only failed requests)."""
    started = int(time.time())
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for container in stack.containers("lb"):
            print(f"lb log since the test began:\n{container.logs(since=started).decode(errors='replace')[-4000:]}")
