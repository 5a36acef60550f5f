"""Faults on an instance's process: pause (SIGSTOP via the freezer), kill, restart, disconnect."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaos.nemesis.fault import KindAndTarget

if TYPE_CHECKING:  # type only: the controller imports the Docker SDK, which parsing a fault must not
    from chaos.cluster.controller import Cluster


@dataclass
class Pause(KindAndTarget):
    """docker pause: the process stops mid-instruction and keeps every lock and connection."""

    target: str
    kind: str = "pause"

    def start(self, cluster: Cluster) -> None:
        cluster.pause(self.target)

    def stop(self, cluster: Cluster) -> None:
        cluster.unpause(self.target)


@dataclass
class Kill(KindAndTarget):
    """SIGKILL; stopping the fault starts the container again and waits until it is healthy."""

    target: str
    kind: str = "kill"

    def start(self, cluster: Cluster) -> None:
        cluster.kill(self.target)

    def stop(self, cluster: Cluster) -> None:
        cluster.start_again(self.target)
        cluster.wait_healthy([cluster.container(self.target)])


@dataclass
class Restart(KindAndTarget):
    """SIGKILL and start again at once, waiting until it is healthy: for Redis (run without persistence)
    every lock, idempotency record, queued message and result is gone; PostgreSQL drops every connection
    mid-transaction and recovers from its WAL. The window after it is the time the others take to notice
    and reconnect; healing has nothing left to do."""

    target: str
    kind: str = "restart"

    def start(self, cluster: Cluster) -> None:
        killed = Kill(self.target)
        killed.start(cluster)
        killed.stop(cluster)

    def stop(self, cluster: Cluster) -> None:
        pass


@dataclass
class Disconnect(KindAndTarget):
    """The container leaves the project network: every peer connection of it breaks."""

    target: str
    kind: str = "disconnect"

    def start(self, cluster: Cluster) -> None:
        cluster.disconnect(self.target)

    def stop(self, cluster: Cluster) -> None:
        cluster.connect(self.target)


@dataclass
class Scale:
    """Scale a service to ``count`` for the fault's window, then back to what it was."""

    target: str  # "api" or "worker"
    count: int
    kind: str = "scale"
    _before: int = 0

    def start(self, cluster: Cluster) -> None:
        self._before = len(cluster.of(self.target))
        cluster.scale(self.target, self.count)

    def stop(self, cluster: Cluster) -> None:
        cluster.scale(self.target, self._before)

    def describe(self) -> dict[str, Any]:
        return {"fault": self.kind, "target": self.target, "count": self.count}
