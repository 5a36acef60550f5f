"""Clients that perform operations concurrently and record each one in the history.

Every client thread owns its ``BillingClient`` (its own HTTP session) and a
process name; every run is bounded in count and in time and stops by itself.
"""
from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import requests

from chaos.history import Recorder, classify
from chaos.workload.client import BillingClient
from chaos.workload.operations import Operation

# fields of a response body worth keeping in the history (the checkers read them)
KEPT_FIELDS = ("invoice_id", "task_id", "ticket_id", "booking_id", "subscription_id", "status", "state")


def perform(recorder: Recorder, process: str, client: BillingClient, op: Operation) -> requests.Response | None:
    """Invoke, call, complete: the one place an HTTP outcome becomes ok, fail or info."""
    handle = recorder.invoke(process, op.f, dict(op.value))
    started = time.perf_counter()
    method = "POST" if op.write else "GET"
    try:
        response = op.call(client)
    except requests.RequestException as exc:
        recorder.complete(handle, classify(None, exc, method), latency=time.perf_counter() - started,
                          error=type(exc).__name__)
        return None
    latency = time.perf_counter() - started
    try:
        body = response.json()
    except ValueError:
        body = None
    value = dict(op.value)
    error = None
    if isinstance(body, dict):
        value.update({k: body[k] for k in KEPT_FIELDS if k in body})
        error = body.get("error")
        if op.f == "activate":
            value["body"] = body
            value["replayed"] = response.headers.get("Idempotent-Replayed") == "true"
    recorder.complete(handle, classify(response.status_code, None, method), value=value,
                      status=response.status_code, instance=response.headers.get("X-Instance"),
                      latency=latency, error=error)
    return response


@dataclass
class Client:
    """One simulated user: a process name, its own session, the operations it will perform in order."""

    process: str
    client: BillingClient
    operations: Iterable[Operation]


def run_clients(recorder: Recorder, clients: Sequence[Client], *, time_limit_s: float = 120.0,
                max_operations: int = 100_000) -> int:
    """Run every client's operations concurrently; stop at the time limit or operation cap. Returns ops done."""
    deadline = time.monotonic() + time_limit_s
    budget = [max_operations]

    def drive(c: Client) -> int:
        done = 0
        with c.client:
            for op in c.operations:
                if time.monotonic() > deadline or budget[0] <= 0:
                    break
                budget[0] -= 1
                perform(recorder, c.process, c.client, op)
                done += 1
        return done

    with concurrent.futures.ThreadPoolExecutor(max(1, len(clients))) as pool:
        return sum(pool.map(drive, clients))
