"""Clients that perform operations concurrently and record each one in the history.

Every client thread owns its ``TargetClient`` (its own HTTP session) and a
process name; every run is bounded in count and in time and stops by itself.
What a call means (its route, its outcome, the values it returned) is the
target profile's business: ``chaos.target.record.perform`` is the one place
an HTTP answer becomes ok, fail or info.
"""
from __future__ import annotations

import concurrent.futures
import threading
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
                max_operations: int = 100_000, together: bool = False) -> int:
    """Run every client's operations concurrently; stop at the time limit or operation cap. Returns ops done.

    ``together``: every client's first operation waits at a barrier until all clients are ready, so the
    first calls really are in flight at once (a thread pool alone starts them one after another, and a
    fast target finishes each before the next begins). This forces contention on any target, without a
    test hook that holds a request open; the checkers count how much contention actually happened."""
    deadline = time.monotonic() + time_limit_s
    budget = [max_operations]
    barrier = threading.Barrier(len(clients)) if together and len(clients) > 1 else None

    def drive(c: Client) -> int:
        done, waiting = 0, barrier is not None
        with c.client:
            for op in c.operations:
                if waiting:
                    _wait(barrier, deadline)  # type: ignore[arg-type]
                    waiting = False
                if time.monotonic() > deadline or budget[0] <= 0:
                    break
                budget[0] -= 1
                perform(recorder, c.process, c.client, op)
                done += 1
        if waiting:
            _wait(barrier, deadline)  # type: ignore[arg-type]  # one with nothing to do must not hold the rest
        return done

    with concurrent.futures.ThreadPoolExecutor(max(1, len(clients))) as pool:
        return sum(pool.map(drive, clients))


def _wait(barrier: threading.Barrier, deadline: float) -> None:
    try:
        barrier.wait(timeout=max(0.1, min(30.0, deadline - time.monotonic())))
    except threading.BrokenBarrierError:
        pass  # a client that could not start in time: the others go on, the evidence will show it
