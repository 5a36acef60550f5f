"""Process faults on a cluster's own containers: kill, stop, start again, restart, pause, disconnect.

Each acts on one container of this run, found by its instance name
(``api_2``, ``worker_1``, ``redis``...), never on a container found by name
on the engine, so a fault cannot reach another run's stack.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from docker.errors import APIError
from docker.models.networks import Network

if TYPE_CHECKING:
    from chaos.cluster.wiring import Instance

FREEZE_ATTEMPTS = 5
FREEZE_RETRY_S = 0.2


class ProcessFaults:
    """The part of ``Cluster`` that faults its containers (a mixin over ``Cluster.container``, its
    network and instances)."""

    network: Network | None
    instances: dict[str, Instance]

    def kill(self, name: str, signal: str = "SIGKILL") -> None:
        self.container(name).kill(signal=signal)

    def stop(self, name: str) -> None:
        self.container(name).stop(timeout=5)

    def start_again(self, name: str) -> None:
        self.container(name).start()

    def restart(self, name: str) -> None:
        self.container(name).restart(timeout=5)

    def pause(self, name: str) -> None:
        """``docker pause``, tried again while the freezer could not freeze: runc gives up when a process
        of the container is forking at that moment (a health check's exec, every second here; moby#48205),
        and the container is left running, so trying again is safe. Any other refusal is raised at once."""
        container = self.container(name)
        for attempt in range(FREEZE_ATTEMPTS):
            try:
                container.pause()
                return
            except APIError as exc:
                if "unable to freeze" not in str(exc) or attempt == FREEZE_ATTEMPTS - 1:
                    raise
                time.sleep(FREEZE_RETRY_S)

    def unpause(self, name: str) -> None:
        """Unpause, if it is paused: healing calls this without knowing."""
        container = self.container(name)
        container.reload()
        if container.status == "paused":
            container.unpause()

    def disconnect(self, name: str) -> None:
        assert self.network is not None
        self.network.disconnect(self.container(name), force=True)

    def connect(self, name: str) -> None:
        """Back on the network with the aliases it had (the service name is how the lb finds an api)."""
        assert self.network is not None
        instance = self.instances.get(name)
        aliases = [instance.service, name] if instance else [name]
        self.network.connect(self.container(name), aliases=aliases)

    @contextmanager
    def paused(self, name: str) -> Iterator[None]:
        self.pause(name)
        try:
            yield
        finally:
            self.unpause(name)
