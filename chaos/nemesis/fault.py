"""What every fault is: something started and stopped on a cluster, described as data.

A fault's ``describe()`` is what the history records at its start and stop
(``process: "nemesis"``), what the report shades, and what a schedule stores
so a run can be replayed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # type only: the controller imports the Docker SDK, which parsing a fault must not
    from chaos.cluster.controller import Cluster


class Fault(Protocol):
    kind: str
    target: str

    def start(self, cluster: Cluster) -> None: ...

    def stop(self, cluster: Cluster) -> None: ...

    def describe(self) -> dict[str, Any]: ...


class KindAndTarget:
    """``describe()`` for a fault that is its kind and target alone (pause, kill, disconnect):
    the subclass, a dataclass, gives both fields."""

    kind: str
    target: str

    def describe(self) -> dict[str, Any]:
        return {"fault": self.kind, "target": self.target}
