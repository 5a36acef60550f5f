"""Faults on a Toxiproxy link: cut it, or add a toxic (latency, bandwidth, reset, timeout...)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # type only: the controller imports the Docker SDK, which parsing a fault must not
    from chaos.cluster.controller import Cluster


def _proxy(cluster: Cluster):
    if cluster.toxiproxy is None:
        raise RuntimeError("the cluster has not started its fault proxy")
    return cluster.toxiproxy


@dataclass
class Partition:
    """The link refuses and drops every connection: the party cannot reach the dependency."""

    target: str
    kind: str = "partition"

    def start(self, cluster: Cluster) -> None:
        _proxy(cluster).disable(self.target)

    def stop(self, cluster: Cluster) -> None:
        _proxy(cluster).enable(self.target)

    def describe(self) -> dict[str, Any]:
        return {"fault": self.kind, "target": self.target}


@dataclass
class Toxic:
    """A Toxiproxy toxic on one link, by its Toxiproxy type and attributes."""

    target: str
    toxic: str
    attributes: dict[str, int] = field(default_factory=dict)
    stream: str = "downstream"
    kind: str = "toxic"

    @property
    def name(self) -> str:
        return f"nemesis_{self.toxic}_{self.stream}"

    def start(self, cluster: Cluster) -> None:
        _proxy(cluster).add_toxic(self.target, self.toxic, name=self.name, stream=self.stream,
                                  attributes=self.attributes)

    def stop(self, cluster: Cluster) -> None:
        _proxy(cluster).remove_toxic(self.target, self.name)

    def describe(self) -> dict[str, Any]:
        return {"fault": self.toxic, "target": self.target, "stream": self.stream, **self.attributes}


def latency(target: str, ms: int, jitter_ms: int = 0) -> Toxic:
    return Toxic(target, "latency", {"latency": ms, "jitter": jitter_ms})


def bandwidth(target: str, kb_per_s: int) -> Toxic:
    return Toxic(target, "bandwidth", {"rate": kb_per_s})


def reset_peer(target: str, after_ms: int = 0, stream: str = "downstream") -> Toxic:
    return Toxic(target, "reset_peer", {"timeout": after_ms}, stream=stream)
