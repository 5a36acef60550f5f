"""What a run may touch: containers and networks carrying its labels, on an engine on this machine.

Every container and the network carry the project label, a run id and the
owner's process id: a run removes its own on exit, and the next run removes
those of runs whose owner is gone (a killed run), never another live run's.
"""
from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import docker

from chaos.cluster.errors import ClusterError

PROJECT_LABEL = "billing-chaos.project"
RUN_LABEL = "billing-chaos.run"
OWNER_LABEL = "billing-chaos.owner"
INSTANCE_LABEL = "billing-chaos.instance"
ENVIRONMENT_LABEL = "billing-chaos.environment"  # on the network: how ``attach`` rebuilds the services
CLI_OWNER = "cli"  # the stack of `chaos up`: it outlives the command, so no process owns it


def cli_owner() -> str:
    """Whose stack the `chaos` commands act on. Tests set ``CHAOS_STACK_OWNER`` to their own
    ``host:pid``, so they never touch a person's stack, and a killed test run's stack is reaped."""
    return os.environ.get("CHAOS_STACK_OWNER") or CLI_OWNER


def run_labels(run_id: str, owner: str) -> dict[str, str]:
    """The labels of everything one run creates: how it finds (and removes) its own, and only its own."""
    return {PROJECT_LABEL: "billing-chaos", RUN_LABEL: run_id, OWNER_LABEL: owner}


def ensure_local_engine(client: docker.DockerClient, allow_remote: bool) -> None:
    """Faults are real: refuse to act on an engine on another machine unless told so."""
    base_url = client.api.base_url
    host = urlparse(base_url).hostname or ""
    if base_url.startswith("http+docker://") or host in {"localhost", "127.0.0.1", "::1"}:
        return
    if not allow_remote:
        raise ClusterError(f"the Docker engine at {base_url} is not on this machine; chaos runs kill, pause "
                           "and cut containers, so pass allow_remote (--chaos-allow-remote) if you mean it")


def owner_alive(owner: str) -> bool:
    """Whether the process ``host:pid`` still runs; another machine's owner (or `chaos up`'s) counts as alive."""
    hostname, _, pid = owner.rpartition(":")
    if hostname != socket.gethostname() or not pid.isdigit():
        return True  # another machine's run is none of our business
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_leftovers(client: docker.DockerClient) -> int:
    """Remove containers and networks of runs whose owning process is gone."""
    removed = 0
    for container in client.containers.list(all=True, filters={"label": [PROJECT_LABEL, OWNER_LABEL]}):
        if not owner_alive(container.labels[OWNER_LABEL]):
            container.remove(force=True, v=True)
            removed += 1
    for network in client.networks.list(filters={"label": [PROJECT_LABEL, OWNER_LABEL]}):
        if not owner_alive(network.attrs["Labels"][OWNER_LABEL]):
            network.remove()
            removed += 1
    return removed
