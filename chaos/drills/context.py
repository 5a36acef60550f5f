"""What every workload of one drill run shares: the target, its profile, the history, the admin.

The target is the cluster a drill started or attached to, or an already
running service behind our fault proxy (``RunningTarget``); both have the
names and URLs a workload needs. Every call goes through a ``TargetClient``
of the target's profile, so a workload reads the same whichever service it
drives. The admin logs in on first use (a drill without load needs no
service), with the profile's own credentials.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaos.history import Recorder
from chaos.target.admin import admin_token
from chaos.target.client import TargetClient
from chaos.target.model import TargetProfile

if TYPE_CHECKING:
    from chaos.cluster.controller import Cluster
    from chaos.cluster.running import RunningTarget

    Target = Cluster | RunningTarget


@dataclass
class Context:
    cluster: "Target"
    profile: TargetProfile
    recorder: Recorder
    admin: Callable[[], TargetClient]    # logged in on first use
    seed: int
    prefix: str                          # unique per drill run: users of earlier runs never collide

    def client(self, url: str, token: str | None = None, **options: Any) -> TargetClient:
        """A new client of the target, its own session; one of an instance's own URL knows the instance's
        name (a profile whose instance is ``from_url`` has no other way to say who answered)."""
        names = {u: name for name, u in self.cluster.api_urls().items()}
        return TargetClient(self.profile, url, token, instance=names.get(url), **options)


def exec_in(target: "Target") -> Any:
    """How an admin command reaches a container (None for an already-running target: it runs here)."""
    return None if getattr(target, "kind", "") == "running" else target.exec_in


def setup_url(target: "Target") -> str:
    """Where set-up calls and final reads go: the lb, which no link fault is on. An already-running target
    has no lb and its ``lb_url`` is api_1's client link, which a drill may be faulting: there, the first
    instance itself (set-up is not part of the experiment)."""
    if getattr(target, "kind", "") == "running":
        return str(target.run.instances[0]).rstrip("/")  # type: ignore[union-attr]
    return target.lb_url


def admin_client(profile: TargetProfile, target: "Target") -> TargetClient:
    """The admin, logged in through ``setup_url``; its token is the workloads' admin token."""
    client = TargetClient(profile, setup_url(target))
    admin_token(client, exec_in(target))
    return client
