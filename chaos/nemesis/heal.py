"""Faults as the engine and the fault proxy show them, whoever started them, and healing them all.

The nemesis heals what it started itself; `chaos fault` runs in a process
that has ended by the time someone types `chaos heal --all`, and a drill
that is interrupted may leave a fault behind. So the truth is read from
where faults live: disabled links and toxics in Toxiproxy, paused, stopped
and disconnected containers in Docker.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type only: the controller imports the Docker SDK, which parsing a fault must not
    from chaos.cluster.controller import Cluster


@dataclass(frozen=True)
class ActiveFault:
    kind: str       # partition, a toxic's type, paused, exited, disconnected, exhausted
    target: str     # a link or an instance
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.target}" + (f" ({self.detail})" if self.detail else "")


def active_faults(cluster: Cluster) -> list[ActiveFault]:
    faults = []
    if cluster.toxiproxy is not None:
        for name, proxy in sorted(cluster.toxiproxy.proxies().items()):
            if not proxy["enabled"]:
                faults.append(ActiveFault("partition", name))
            for toxic in proxy.get("toxics") or []:
                attributes = ", ".join(f"{k}={v}" for k, v in sorted(toxic["attributes"].items()))
                faults.append(ActiveFault(toxic["type"], name, f"{toxic['stream']}, {attributes}"))
    network = cluster.network.name if cluster.network is not None else None
    for name in sorted([*cluster.fixed, *cluster.instances]):
        container = cluster.container(name)
        container.reload()
        if container.status == "paused":
            faults.append(ActiveFault("paused", name))
        elif container.status != "running":
            faults.append(ActiveFault(container.status, name))
        elif network and network not in container.attrs["NetworkSettings"]["Networks"]:
            faults.append(ActiveFault("disconnected", name))
    held = cluster.exhausted() if "postgres" in cluster.fixed else None
    if held is not None:
        faults.append(ActiveFault("exhausted", "postgres", f"{held[1]} connections held by pid {held[0]}"))
    return faults


def heal(cluster: Cluster, target: str | None = None) -> list[ActiveFault]:
    """Heal every active fault (or those on ``target``: an instance, or a link), wait until healthy."""
    healed = [f for f in active_faults(cluster) if target is None or target in (f.target, *_parties(f.target))]
    for fault in healed:
        if "->" in fault.target:
            _heal_link(cluster, fault)
        elif fault.kind == "paused":
            cluster.unpause(fault.target)
        elif fault.kind == "disconnected":
            cluster.connect(fault.target)
        elif fault.kind == "exhausted":
            cluster.release_connections()
        elif fault.kind in {"exited", "created", "dead"}:
            cluster.start_again(fault.target)
        # restarting or being removed: the engine is already at it; the wait below follows it
    cluster.wait_healthy(cluster.containers())
    return healed


def _heal_link(cluster: Cluster, fault: ActiveFault) -> None:
    assert cluster.toxiproxy is not None
    if fault.kind == "partition":
        cluster.toxiproxy.enable(fault.target)
        return
    for toxic in cluster.toxiproxy.toxics(fault.target):
        if toxic["type"] == fault.kind:
            cluster.toxiproxy.remove_toxic(fault.target, toxic["name"])


def heal_everything(cluster: Cluster) -> list[str]:
    return [str(fault) for fault in heal(cluster)]


def _parties(link: str) -> tuple[str, ...]:
    """``api_1->redis`` concerns api_1 and redis: `heal api_1` heals its links too."""
    return tuple(link.split("->")) if "->" in link else ()
