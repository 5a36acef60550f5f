"""The compose file gives a scaled stack that the load balancer spreads over."""
from __future__ import annotations

import collections
import time

import pytest
import requests

from chaos.compose import ComposeStack

pytestmark = pytest.mark.docker


def instances_reached(url: str, requests_count: int) -> collections.Counter[str]:
    with requests.Session() as session:
        return collections.Counter(session.get(f"{url}/healthz", timeout=10).headers["X-Instance"]
                                   for _ in range(requests_count))


def test_every_service_reports_healthy(stack: ComposeStack) -> None:
    services = {c.labels["com.docker.compose.service"] for c in stack.containers()}
    assert services == {"postgres", "redis", "toxiproxy", "api", "worker", "flower", "lb"}
    stack.wait_healthy(timeout_s=5)


def test_100_requests_through_the_lb_reach_every_instance(stack: ComposeStack, instances: dict[str, str]) -> None:
    reached = instances_reached(stack.lb_url, 100)
    assert set(reached) == set(instances)
    assert min(reached.values()) >= 100 // len(instances) - 2, reached


def test_host_ports_are_bound_to_loopback_only(stack: ComposeStack) -> None:
    for container in stack.containers():
        for bindings in container.attrs["NetworkSettings"]["Ports"].values():
            assert all(b["HostIp"] == "127.0.0.1" for b in bindings or []), container.name


def test_the_lb_follows_a_scale_out_within_two_seconds(stack: ComposeStack) -> None:
    before = set(stack.api_urls())
    try:
        stack.scale("api", len(before) + 1)
        added = set(stack.api_urls()) - before
        assert len(added) == 1
        deadline = time.monotonic() + 2.0
        while not added <= set(instances_reached(stack.lb_url, 20)):
            assert time.monotonic() < deadline, "the lb did not route to the new instance within 2 s"
    finally:
        stack.scale("api", len(before))
    assert len(stack.api_urls()) == len(before)


def test_every_response_names_its_instance(stack: ComposeStack) -> None:
    for path in ("/healthz", "/api/tariff_plans", "/api/user/profile", "/no/such/route"):
        assert requests.get(stack.lb_url + path, timeout=10).headers.get("X-Instance")
