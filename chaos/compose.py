"""The stack as docker-compose runs it: up, scale, down, and where its ports are.

This drives the compose CLI (Debian's ``docker-compose`` v1, or ``docker
compose`` v2 where the plugin exists) on docker-compose.chaos.yaml, the same
file a person runs by hand, so that what the tests prove is what the file
describes. Readiness is the SDK controller's own (``chaos.cluster.readiness``):
the engine's health status and HAProxy's stats, never sleeps.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import docker

from chaos.cluster.ownership import PROJECT_LABEL
from chaos.cluster.readiness import health, last_log_line, lb_servers_up, wait_healthy, wait_lb_routes
from chaos.cluster.spec import COMPOSE_FILE
from chaos.provision.errors import ProvisionError

# what other modules import from here, wherever it lives now
__all__ = ["COMPOSE_FILE", "ComposeStack", "compose_command", "configured_ports", "free_port", "health",
           "last_log_line", "lb_servers_up", "remove_labelled"]
PORT_VARIABLES = {"lb": "CHAOS_LB_PORT", "stats": "CHAOS_LB_STATS_PORT", "flower": "CHAOS_FLOWER_PORT",
                  "toxiproxy": "CHAOS_TOXIPROXY_PORT"}
DEFAULT_PORTS = {"lb": 8080, "stats": 8404, "flower": 5555, "toxiproxy": 8474}


def compose_command() -> list[str]:
    """``docker compose`` (v2) when the plugin answers, else ``docker-compose`` (v1)."""
    docker_cli = shutil.which("docker")
    if docker_cli and subprocess.run([docker_cli, "compose", "version"], capture_output=True).returncode == 0:
        return [docker_cli, "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise ProvisionError("neither `docker compose` nor `docker-compose` is installed; "
                         "run `apt-get install docker-compose` (as root)")


def configured_ports() -> dict[str, int]:
    """The host ports a person chose with ``CHAOS_*_PORT``, else the defaults."""
    return {name: int(os.environ.get(PORT_VARIABLES[name], port)) for name, port in DEFAULT_PORTS.items()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ComposeStack:
    """One compose project of the billing stack, with its host ports."""

    project: str = "billing-chaos"
    ports: dict[str, int] = field(default_factory=lambda: configured_ports())
    environment: dict[str, str] = field(default_factory=dict)
    file: Path = COMPOSE_FILE

    @classmethod
    def with_free_ports(cls, project: str, **environment: str) -> "ComposeStack":
        """A stack whose host ports cannot collide with another run's."""
        return cls(project, {name: free_port() for name in DEFAULT_PORTS}, dict(environment))

    @property
    def lb_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['lb']}"

    @property
    def flower_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['flower']}"

    @property
    def toxiproxy_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['toxiproxy']}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({PORT_VARIABLES[name]: str(port) for name, port in self.ports.items()})
        env.update(self.environment)
        return env

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [*compose_command(), "-p", self.project, "-f", str(self.file), *args]
        result = subprocess.run(command, env=self._env(), capture_output=True, text=True)
        if check and result.returncode != 0:
            output = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise ProvisionError(f"`{' '.join(command[-len(args) - 4:])}` failed: {' | '.join(output)}")
        return result

    def up(self, api: int = 5, workers: int = 3, services: tuple[str, ...] = (),
           timeout_s: float = 180.0) -> None:
        """Create or converge the stack, then wait until every container is healthy."""
        self.compose("up", "-d", "--remove-orphans", "--scale", f"api={api}", "--scale", f"worker={workers}",
                     *services)
        self.wait_healthy(timeout_s)

    def scale(self, service: str, count: int, timeout_s: float = 120.0) -> None:
        """Scale ``service``; for api, also wait until the lb routes to exactly ``count`` instances.

        A scale-down stops containers the lb may still route to for a second
        or two; requests caught in that window fail, as they would for any
        client, so the change is only over once the lb has followed it.
        """
        self.compose("up", "-d", "--no-deps", "--scale", f"{service}={count}", service)
        self.wait_healthy(timeout_s)
        if service == "api":
            wait_lb_routes(f"http://127.0.0.1:{self.ports['stats']}", count, timeout_s, ProvisionError)

    def down(self) -> None:
        """Remove the project's containers and network; then anything else carrying its label."""
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "3", check=False)
        remove_labelled(self.project)

    def containers(self, service: str | None = None) -> list[docker.models.containers.Container]:
        filters = [f"com.docker.compose.project={self.project}"]
        if service:
            filters.append(f"com.docker.compose.service={service}")
        return docker.from_env().containers.list(all=True, filters={"label": filters})

    def api_urls(self) -> dict[str, str]:
        """Each api instance's own URL on the host, keyed by the name it puts in ``X-Instance``."""
        urls = {}
        for container in self.containers("api"):
            bindings = container.attrs["NetworkSettings"]["Ports"].get("8000/tcp") or []
            if container.status == "running" and bindings:
                urls[container.attrs["Config"]["Hostname"]] = f"http://127.0.0.1:{bindings[0]['HostPort']}"
        return urls

    def wait_healthy(self, timeout_s: float) -> None:
        """Until every container of the project is healthy (``chaos.cluster.readiness`` says when a wait
        gives up early: an exited container, not a running ``unhealthy`` one, which may still recover)."""
        containers = self.containers()
        if not containers:
            raise ProvisionError(f"the compose project {self.project} has no containers; start it with `up`")
        wait_healthy(containers, timeout_s, ProvisionError)


def remove_labelled(project: str) -> int:
    """Remove every container and network of ``project`` (after a killed run, compose may not know them)."""
    client = docker.from_env()
    label = f"com.docker.compose.project={project}"
    removed = 0
    for container in client.containers.list(all=True, filters={"label": [label, PROJECT_LABEL]}):
        container.remove(force=True, v=True)
        removed += 1
    for network in client.networks.list(filters={"label": [label]}):
        network.remove()
        removed += 1
    return removed
