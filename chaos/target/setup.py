"""Per-run values a target's profile asks for, found once before the scenarios run.

A real service has no plan with id 1: its plans have UUIDs that only a
``list_plans`` call reveals. The profile's ``setup`` names such values (a
parameter name, the read that finds it, and where in that read's values it
is); the scenarios then call ``subscribe`` with the plan that exists.
"""
from __future__ import annotations

import subprocess
from typing import Any

from chaos.errors import ChaosError
from chaos.target.client import TargetClient
from chaos.target.paths import MISSING

COMMAND_TIMEOUT_S = 60.0


class SetupError(ChaosError, RuntimeError):
    """A set-up value or the reset command could not be had; the message says which and why."""


def resolve(admin: TargetClient) -> dict[str, Any]:
    """Every ``setup`` value of ``admin``'s profile, read through ``admin`` (its token, its URL)."""
    values: dict[str, Any] = {}
    for name, wanted in admin.profile.setup.items():
        reply = admin.call(wanted.operation)
        if not reply.ok:
            raise SetupError(f"setup.{name}: {wanted.operation} answered {reply.outcome} (status {reply.status}, "
                             f"error {reply.error})")
        found = wanted.value.find(dict(reply.values))
        if found is MISSING or found is None:
            raise SetupError(f"setup.{name}: {wanted.operation}'s values have nothing at {wanted.value.text!r}; "
                             f"they are {sorted(reply.values)}")
        values[name] = found
    return values


def run_reset_command(command: tuple[str, ...]) -> None:
    """The profile's ``reset.command``, on this machine; SetupError with its output if it fails."""
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SetupError(f"reset command {list(command)} could not run: {exc}") from exc
    if done.returncode != 0:
        raise SetupError(f"reset command {list(command)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
