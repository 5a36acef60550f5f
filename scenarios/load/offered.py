"""Which tasks of a load profile a target can serve: each task names the operations it needs.

A profile's users are written once, for every target; a target profile that
lacks an operation (a shop without bookings) loses the tasks that need it,
and says so once in the log. A user class left with no task, or a target
that cannot sign a user up, makes the run fail with a one-line reason
before any user starts: a run that measured nothing must not look like a
quiet one. No Locust here: tasks are plain functions (and TaskSet classes)
in a user class's ``tasks`` list, read and rewritten as data.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from chaos.target.model import TargetProfile

log = logging.getLogger("billing-chaos.load")
Task = TypeVar("Task", bound=Callable[..., Any])


class NothingOffered(SystemExit):
    """The target offers nothing a user class needs. A SystemExit, so that Locust's child ends with this
    one line on stderr (no traceback) and the runner reports it."""


def needs(*operations: str) -> Callable[[Task], Task]:
    """Mark a task (or a user class, for its ``on_start``) with the operations it calls."""
    def mark(task: Task) -> Task:
        task.needs = operations  # type: ignore[attr-defined]
        return task
    return mark


def keep_offered(profile: TargetProfile, *users: type) -> dict[str, list[str]]:
    """Drop from each user class the tasks whose operations ``profile`` lacks; left-out task names by class.

    Raises ``NothingOffered`` for a class that needs what the target lacks to start, or keeps no task.
    """
    left_out: dict[str, list[str]] = {}
    lacked: set[str] = set()
    for user in users:
        missing = _lacked(profile, user)
        if missing:
            raise NothingOffered(f"target {profile.name!r} cannot serve {user.__name__}: it lacks "
                                 f"{', '.join(missing)}")
        dropped = _prune(profile, user, lacked)
        if not user.tasks:  # type: ignore[attr-defined]
            raise NothingOffered(f"target {profile.name!r} offers none of {user.__name__}'s operations "
                                 f"({', '.join(sorted(lacked))} lacked)")
        if dropped:
            left_out[user.__name__] = dropped
    if left_out:
        log.warning("target %r lacks %s: left out %s", profile.name, ", ".join(sorted(lacked)),
                    "; ".join(f"{user}: {', '.join(tasks)}" for user, tasks in left_out.items()))
    return left_out


def _lacked(profile: TargetProfile, task: Any) -> list[str]:
    return [operation for operation in getattr(task, "needs", ()) if not profile.offers(operation)]


def _prune(profile: TargetProfile, holder: Any, lacked: set[str]) -> list[str]:
    """Rewrite ``holder.tasks`` (a user class or a TaskSet) without the tasks the target cannot serve."""
    kept: list[Any] = []
    dropped: list[str] = []
    for task in holder.tasks:
        if isinstance(task, type):  # a TaskSet: prune inside it, keep it while it has tasks
            dropped += _prune(profile, task, lacked)
            if task.tasks:
                kept.append(task)
            continue
        missing = _lacked(profile, task)
        lacked.update(missing)
        if not missing:
            kept.append(task)
        elif task.__name__ not in dropped:
            dropped.append(task.__name__)
    holder.tasks = kept
    return dropped

