"""The faults a command line names, checked against the stack before any starts (`chaos fault`, `chaos load`).

Beside ``chaos.cli`` so that every command that starts faults refuses the
same typos the same way, without importing the whole command line.
"""
from __future__ import annotations

from collections.abc import Sequence

from chaos.cluster.controller import Cluster, ClusterError
from chaos.nemesis.fault import Fault
from chaos.nemesis.grammar import parse_faults


def planned_faults(cluster: Cluster, texts: Sequence[Sequence[str]]) -> list[Fault]:
    """The faults ``texts`` name on this stack (``*`` expanded), every target checked before any starts."""
    faults = [f for words in texts for f in parse_faults(words, [*cluster.fixed, *cluster.instances])]
    for planned in faults:
        if planned.kind == "forget":   # its target is a key family of the profile, not a container
            cluster.family_keys(planned.target)
            continue
        must_exist(cluster, planned.target)
    return faults


def must_exist(cluster: Cluster, target: str) -> None:
    """Refuse a target the stack does not have, naming those it has."""
    if "->" not in target:
        cluster.container(target)
        return
    assert cluster.toxiproxy is not None
    links = sorted(cluster.toxiproxy.proxies())
    if target not in links:
        raise ClusterError(f"no link {target!r}; this stack has {', '.join(links)}")
