"""Faults of the data layer that are not a process's: Redis forgetting keys, PostgreSQL out of connections.

``forget`` is over once done; ``exhaust`` holds PostgreSQL's free connections
until stopped (or healed: ``chaos heal postgres`` finds the holder).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chaos.nemesis.fault import KindAndTarget

if TYPE_CHECKING:  # type only: the controller imports the Docker SDK, which parsing a fault must not
    from chaos.cluster.controller import Cluster


@dataclass
class Forget(KindAndTarget):
    """Delete one family of keys (the profile's ``redis_keys``) while Redis runs; over once done.
    ``deleted`` is how many keys it found: a scenario shows with it that there was something to lose."""

    target: str   # the family: locks, idempotency, queue...
    kind: str = "forget"
    deleted: int = field(default=0, compare=False)

    def start(self, cluster: Cluster) -> None:
        self.deleted = cluster.forget(self.target)

    def stop(self, cluster: Cluster) -> None:
        pass


@dataclass
class Exhaust(KindAndTarget):
    """Every free PostgreSQL connection taken and held until the fault stops: whatever needs a new
    connection is refused ("too many clients"). ``held`` is how many it took."""

    target: str = "postgres"
    kind: str = "exhaust"
    held: int = field(default=0, compare=False)

    def start(self, cluster: Cluster) -> None:
        self.held = cluster.exhaust()

    def stop(self, cluster: Cluster) -> None:
        cluster.release_connections()
