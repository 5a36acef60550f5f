"""Clients that perform operations concurrently and record each one in the history.

Every client thread owns its ``TargetClient`` (its own HTTP session) and a
process name; every run is bounded in count and in time and stops by itself.
What a call means (its route, its outcome, the values it returned) is the
target profile's business: ``chaos.target.record.perform`` is the one place
an HTTP answer becomes ok, fail or info.
"""
from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chaos.history import Recorder
from chaos.target import record
from chaos.target.client import TargetClient
from chaos.target.reply import Reply
from chaos.workload.operations import Operation


def perform(recorder: Recorder, process: str, client: TargetClient, op: Operation) -> Reply:
    """Invoke, call, complete. Raises ``OperationMissing`` (nothing recorded) if the target lacks ``op``."""
    return record.perform(recorder, process, client, op.operation, **op.params)


@dataclass
class Client:
    """One simulated user: a process name, its own session, the operations it will perform in order."""

    process: str
    client: TargetClient
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
