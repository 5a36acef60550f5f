"""Waiting for async tasks: until each finished, or the target has forgotten it (404 for 5 s on end)."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from chaos.workload.accounts import UNKNOWN, wait_until_settled

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def reply(status: int, state: str | None = None) -> Any:
    body = {"state": state} if state else {}
    return SimpleNamespace(status=status, get=lambda name, default=None: body.get(name, default))


class Admin:
    """Answers each task's polls from a script: a list of (status, state), the last one repeated."""

    def __init__(self, scripts: dict[str, list[tuple[int, str | None]]]) -> None:
        self.scripts = scripts
        self.polls = {task: 0 for task in scripts}

    def call(self, operation: str, task_id: str) -> Any:
        assert operation == "task_status"
        script = self.scripts[task_id]
        answer = script[min(self.polls[task_id], len(script) - 1)]
        self.polls[task_id] += 1
        return reply(*answer)


def test_the_wait_ends_when_every_task_finished() -> None:
    clock = Clock()
    admin = Admin({"a": [(200, "PENDING"), (200, "SUCCESS")], "b": [(200, "FAILURE")]})
    states = wait_until_settled(admin, ["a", "b"], clock=clock, sleep=clock.sleep)
    assert states == {"a": "SUCCESS", "b": "FAILURE"} and clock.now == 1.0


def test_a_task_the_target_forgot_settles_after_five_seconds_of_404_not_at_the_deadline() -> None:
    clock = Clock()
    admin = Admin({"lost": [(404, None)], "done": [(200, "SUCCESS")]})
    states = wait_until_settled(admin, ["lost", "done"], clock=clock, sleep=clock.sleep)
    assert states == {"lost": UNKNOWN, "done": "SUCCESS"}
    assert 5.0 <= clock.now <= 6.0


def test_a_404_that_turns_into_a_state_is_waited_for_again() -> None:
    """A target that writes a task's status a moment after the 202 answers 404 first: not forgotten."""
    clock = Clock()
    admin = Admin({"late": [(404, None)] * 3 + [(200, "PENDING")] * 10 + [(200, "SUCCESS")]})
    states = wait_until_settled(admin, ["late"], clock=clock, sleep=clock.sleep)
    assert states == {"late": "SUCCESS"} and clock.now == 13.0


def test_a_task_that_never_finishes_is_waited_for_until_the_deadline() -> None:
    clock = Clock()
    states = wait_until_settled(Admin({"stuck": [(200, "PENDING")]}), ["stuck"], timeout_s=30, clock=clock,
                                sleep=clock.sleep)
    assert states == {"stuck": "PENDING"} and clock.now == 30.0
