"""Readiness, written once for the SDK controller and the compose stack: when a wait gives up early."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from chaos.cluster import readiness
from chaos.cluster.readiness import running_for
from chaos.cluster.controller import Cluster, ClusterError
from chaos.compose import ComposeStack
from chaos.errors import ChaosError
from chaos.provision.errors import ProvisionError

pytestmark = pytest.mark.unit


def container(*states: dict[str, Any], name: str = "billing-chaos-x-api_1") -> mock.Mock:
    """A container whose ``reload`` walks through ``states`` (the last one stays)."""
    fake = mock.Mock()
    fake.name = name
    fake.logs.return_value = b"booting\nlast words\n"
    walk = iter(states)

    def reload() -> None:
        fake.attrs = {"State": next(walk, states[-1])}
    fake.reload.side_effect = reload
    return fake


def state(status: str = "running", health: str | None = "healthy") -> dict[str, Any]:
    return {"Status": status, "Running": status in ("running", "paused", "restarting"), "Paused": status == "paused",
            **({"Health": {"Status": health}} if health else {})}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readiness, "POLL_S", 0.0)


def test_a_running_unhealthy_container_is_waited_for_until_it_passes() -> None:
    flapping = container(state(health="starting"), state(health="unhealthy"), state(health="unhealthy"), state())
    readiness.wait_healthy([flapping], timeout_s=5, error=ChaosError)
    assert flapping.reload.call_count == 4


def test_an_exited_container_is_final_at_once_even_with_a_stale_healthy_status() -> None:
    gone = container({**state("exited", health="healthy"), "ExitCode": 137})
    with pytest.raises(ClusterError, match=r"api_1 is exited \(exit code 137\); its last log line: .*last words"):
        readiness.wait_healthy([gone], timeout_s=60, error=ClusterError)
    assert gone.reload.call_count == 1


def test_a_container_without_a_healthcheck_is_ready_while_it_runs_and_a_paused_one_by_its_last_status() -> None:
    readiness.wait_healthy([container(state(health=None)), container(state("paused"))], timeout_s=1, error=ChaosError)


def test_one_still_unhealthy_at_the_deadline_is_named_with_its_last_log_line() -> None:
    stuck = container(state(health="unhealthy"), name="billing-chaos-x-worker_2")
    with pytest.raises(ProvisionError, match=r"not healthy after 0s: billing-chaos-x-worker_2; .*last words"):
        readiness.wait_healthy([stuck], timeout_s=0.05, error=ProvisionError)


def test_the_lb_wait_follows_the_stats_until_they_match(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = iter([2, 3])
    monkeypatch.setattr(readiness, "lb_servers_up", lambda url: next(counts))
    readiness.wait_lb_routes("http://stats", 3, timeout_s=5, error=ChaosError)
    monkeypatch.setattr(readiness, "lb_servers_up", lambda url: 2)
    with pytest.raises(ClusterError, match="the lb routes to 2 api instances, not 3"):
        readiness.wait_lb_routes("http://stats", 3, timeout_s=0, error=ClusterError)


def test_the_compose_stack_and_the_controller_wait_alike_each_with_its_own_error() -> None:
    stack = ComposeStack("p", ports={}, file=Path("unused.yaml"))
    with mock.patch.object(stack, "containers", return_value=[container(state(health="unhealthy"), state())]):
        stack.wait_healthy(timeout_s=5)  # no longer refused at the first unhealthy probe
    with mock.patch.object(stack, "containers", return_value=[container(state("dead", health=None))]):
        with pytest.raises(ProvisionError, match=r"is dead \(exit code \?\)"):
            stack.wait_healthy(timeout_s=5)
    with mock.patch.object(stack, "containers", return_value=[]):
        with pytest.raises(ProvisionError, match="has no containers"):
            stack.wait_healthy(timeout_s=5)
    engine = mock.Mock()
    engine.api.base_url = "http+docker://localhost"
    with pytest.raises(ClusterError, match=r"is exited"):
        Cluster(client=engine).wait_healthy([container(state("exited"))])



def test_how_long_an_instance_has_run_shows_a_restart() -> None:
    now = datetime(2026, 12, 2, 1, 0, 0, tzinfo=timezone.utc)
    assert running_for({"Running": True, "StartedAt": "2026-12-02T00:59:48.123456789Z"}, now) == "12 s"
    assert running_for({"Running": True, "StartedAt": "2026-12-02T00:50:00Z"}, now) == "10 min"
    assert running_for({"Running": True, "StartedAt": "2026-12-01T20:00:00Z"}, now) == "5 h"
    assert running_for({"Running": False, "StartedAt": "2026-12-02T00:59:48Z"}, now) == ""
