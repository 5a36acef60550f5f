"""The admin's token: through the admin_login route, or from a command whose stdout is the token.

A containerised target's command runs in one of its containers; the cluster
controller owns Docker, so it is handed in as ``exec_in`` (service, argv) ->
stdout, and this module never talks to an engine. An already-running
target's command runs on this machine.
"""
from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence

from chaos.errors import ChaosError
from chaos.target.client import TargetClient
from chaos.target.model import AdminCommand, AdminLogin, Containerised

COMMAND_TIMEOUT_S = 60.0
ExecIn = Callable[[str, Sequence[str]], str]


class AdminError(ChaosError, RuntimeError):
    """No admin token could be had; the message says so first, then how it was asked for and what came back."""


def admin_token(client: TargetClient, exec_in: ExecIn | None = None) -> str | None:
    """The admin's token (None when the profile needs no admin); also set on ``client``."""
    profile = client.profile
    admin = profile.admin
    if admin is None:
        return None
    if isinstance(admin, AdminLogin):
        reply = client.admin_login()
        if not reply.ok or not reply.get("token"):
            raise AdminError(f"no admin token: admin login on {client.base_url} for target {profile.name!r} gave "
                             f"{reply.outcome} (status {reply.status}, error {reply.error}); check admin.login in "
                             "the profile")
        return client.token
    token = _run(admin, profile.run, exec_in)
    if not token:
        raise AdminError(f"no admin token: admin command {list(admin.command)} printed no token")
    client.token = token
    return token


def _run(admin: AdminCommand, run: object, exec_in: ExecIn | None) -> str:
    if isinstance(run, Containerised):
        if exec_in is None:
            raise AdminError(f"no admin token: admin command {list(admin.command)} runs in service "
                             f"{admin.service!r}: pass exec_in (the cluster's exec) to run it")
        return exec_in(admin.service or run.api_service, admin.command).strip()
    try:
        done = subprocess.run(list(admin.command), capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AdminError(f"no admin token: admin command {list(admin.command)} could not run: {exc}") from exc
    if done.returncode != 0:
        raise AdminError(f"no admin token: admin command {list(admin.command)} exited {done.returncode}: "
                         f"{done.stderr.strip()[-500:]}")
    return done.stdout.strip()
