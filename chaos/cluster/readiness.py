"""Readiness, one mechanism for both ways of running the stack (the SDK controller and the compose CLI):
the engine's health status for a container, HAProxy's stats for the lb. Never a sleep that hopes.

When a wait gives up early: only when a container exited (or is dead), as
nothing starts it again while we wait. Docker's ``unhealthy`` is *not*
final while the container still runs: the engine keeps probing, and the
status turns ``healthy`` again once a probe passes. That happens for real:
the engine reports ``unhealthy`` for a while after an unpause, or after a
dependency's link heals, before the instance is well. So a running
``unhealthy`` container is waited for until the deadline, like a
``starting`` one (the compose stack used to give up at once, and failed
runs that a second later would have been fine).

A paused container counts by its last health status: healing one fault
waits for every container while another fault may hold one paused on
purpose, and waiting for that one would only stall until the deadline.
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterable
from datetime import datetime, timezone

import docker
import requests
from docker.models.containers import Container

from chaos.errors import ChaosError

POLL_S = 0.25
FINAL = ("exited", "dead")


def health(container: Container) -> str:
    """``healthy``/``unhealthy``/``starting`` while it runs, else the engine's status (paused, exited...)."""
    container.reload()
    state = container.attrs["State"]
    if state["Status"] != "running":
        return state["Status"]
    return state.get("Health", {}).get("Status", "healthy")


def running_for(state: dict, now: datetime | None = None) -> str:
    """How long it has run since it last started (``12 s``, ``4 min``, ``3 h``), from the engine's
    ``State.StartedAt``; empty when it is not running. A restart shows here: it alone has run for seconds."""
    if not state.get("Running") or not state.get("StartedAt"):
        return ""
    stamp = re.sub(r"(\.\d{6})\d*", r"\1", state["StartedAt"]).replace("Z", "+00:00")   # ns -> us
    seconds = max(0.0, ((now or datetime.now(timezone.utc)) - datetime.fromisoformat(stamp)).total_seconds())
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.0f} h"


def is_final(state: dict) -> bool:
    """Whether a container in ``state`` (the engine's ``State``) will not become healthy by waiting: it
    exited or is dead. One being created, restarting or removed is still changing."""
    return state["Status"] in FINAL


def is_healthy(state: dict) -> bool:
    """Its health check passes, or (without one) it runs."""
    return state.get("Health", {}).get("Status", "healthy" if state["Running"] else "down") == "healthy"


def wait_healthy(containers: Iterable[Container], timeout_s: float, error: type[ChaosError]) -> None:
    """Until every container is healthy; ``error`` (the caller's kind) at once for one that is final,
    or at the deadline for those still waiting, with their last log lines."""
    deadline = time.monotonic() + timeout_s
    waiting = list(containers)
    while waiting:
        for container in list(waiting):
            container.reload()
            state = container.attrs["State"]
            if is_final(state):
                raise error(f"{container.name} is {state['Status']} (exit code {state.get('ExitCode', '?')}); "
                            f"its last log line: {last_log_line(container)}")
            if is_healthy(state):
                waiting.remove(container)
        if waiting and time.monotonic() > deadline:
            raise error(f"not healthy after {timeout_s:.0f}s: {', '.join(c.name for c in waiting)}; "
                        f"last log lines: {'; '.join(last_log_line(c) for c in waiting)}")
        if waiting:
            time.sleep(POLL_S)


def lb_servers_up(stats_url: str) -> int:
    """How many api servers HAProxy's stats (CSV) show as UP."""
    csv = requests.get(f"{stats_url}/stats;csv", timeout=5).text
    rows = [line.split(",") for line in csv.splitlines() if line.startswith("api,api")]
    return sum(1 for row in rows if row[17] == "UP")


def wait_lb_routes(stats_url: str, expected: int, timeout_s: float, error: type[ChaosError]) -> None:
    """Until the lb routes to exactly ``expected`` api instances: a scale is only over once the lb has
    followed it (requests in between may fail, as for any client)."""
    deadline = time.monotonic() + timeout_s
    while (up := lb_servers_up(stats_url)) != expected:
        if time.monotonic() > deadline:
            raise error(f"the lb routes to {up} api instances, not {expected}")
        time.sleep(0.2)


def last_log_line(container: Container) -> str:
    """What a container said last: the first clue when it is not healthy."""
    try:
        lines = container.logs(tail=3).decode(errors="replace").strip().splitlines()
    except docker.errors.APIError:
        return f"{container.name}: (no logs)"
    return f"{container.name}: {lines[-1] if lines else '(no output)'}"
