"""A workload's runbook parameters, its one error, and the small values every workload counts with.

Parameters are checked when the runbook is read (``Param.parse``), so a
typo fails in ``chaos drill list``, not with a fault in force. A final read
is retried (``retried``) because right after a heal or a scale-down the lb
may drop one request, and a dropped read is not the service losing data.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from chaos.checkers.result import Result
from chaos.errors import ChaosError
from chaos.workload.accounts import SetupFailed

Number = int | float
Check = Callable[[], Result]
T = TypeVar("T")
POSITIVE = frozenset({"clients", "seconds", "count", "users", "subscriptions", "rounds"})
READ_ATTEMPTS = 5


class WorkloadError(ChaosError, ValueError):
    """A workload could not be set up, started or read back, or the target lacks what it needs; one line why."""


@dataclass(frozen=True)
class Param:
    name: str
    type: type[int] | type[float]
    default: Number
    help: str

    def parse(self, kind: str, text: str) -> Number:
        try:
            value = self.type(text)
        except ValueError:
            whole = "a whole number" if self.type is int else "a number"
            raise WorkloadError(f"workload {kind}: {self.name}= must be {whole}, not {text!r}") from None
        if value < 0 or (self.name in POSITIVE and value == 0):
            raise WorkloadError(f"workload {kind}: {self.name}= must be more than 0, not {text!r}")
        return value

    # the parameters most workloads have, with their usual help
    @classmethod
    def clients(cls, default: int, help: str = "concurrent clients, round-robin over the api instances") -> "Param":
        return cls("clients", int, default, help)

    @classmethod
    def seconds(cls, default: float = 30, help: str = "how long the load runs") -> "Param":
        return cls("seconds", float, default, help)

    @classmethod
    def think_ms(cls, default: int, help: str = "pause between one client's calls") -> "Param":
        return cls("think_ms", int, default, help)


def period(n: int) -> str:
    """The n-th billing period from 2001-01: keys a workload can count through."""
    return f"{2001 + n // 12}-{n % 12 + 1:02d}"


def retried(read: Callable[[], T], what: str, attempts: int = READ_ATTEMPTS, pause_s: float = 1.0) -> T:
    """A set-up call or final read (``chaos.workload.accounts``), tried again when it fails: the
    WorkloadError says what could not be read and the target's last answer."""
    for attempt in range(attempts):
        try:
            return read()
        except SetupFailed as exc:
            problem = str(exc)
            if attempt < attempts - 1:
                time.sleep(pause_s)
    raise WorkloadError(f"could not read {what}: {problem}")
