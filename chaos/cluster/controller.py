"""The cluster controller: the billing stack's containers on the Docker SDK, wired through Toxiproxy.

Every api and worker instance reaches Redis and PostgreSQL only through its
own Toxiproxy links (``api_2->redis``, ``worker_1->postgres``), and the host
reaches each api instance through ``client->api_i``, so any one party's
connection can be slowed, cut or reset without touching the others. The
controller reads the services from docker-compose.chaos.yaml, the same file
a person runs by hand.

What it runs is a target profile's ``run.containerised`` (billing's by
default): which compose services play the roles ``api`` and ``worker``
(instances are always named ``api_i`` and ``worker_j``, so faults, links and
scenarios read the same for every target), which environment variables hold
the Redis and PostgreSQL URLs (only those are pointed at the instance's
links), how an instance learns its name, and the api's port. A target
without workers gets no Flower.

``Cluster`` is the life cycle and where things are; its other jobs live in
their own modules and it composes them: what a run may touch
(``ownership``), instances, links and scaling (``wiring``), faults on
containers (``process_faults``) and readiness (``readiness``, shared with
the compose CLI's stack).
"""
from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Sequence
from pathlib import Path

import docker
from docker.models.containers import Container
from docker.models.networks import Network

from chaos.cluster.data_faults import DataFaults
from chaos.cluster.errors import ClusterError
from chaos.cluster.ownership import (CLI_OWNER, ENVIRONMENT_LABEL, INSTANCE_LABEL, OWNER_LABEL, PROJECT_LABEL,
                                     RUN_LABEL, cli_owner, ensure_local_engine, reap_leftovers, run_labels)
from chaos.cluster.ownership import owner_alive as _owner_alive
from chaos.cluster.process_faults import ProcessFaults
from chaos.cluster.readiness import wait_healthy, wait_lb_routes
from chaos.cluster.spec import COMPOSE_FILE, ServiceSpec, compose_environment, load_services
from chaos.cluster.wiring import (CLIENT_LINK_PORTS, DEPENDENCIES, INTERNAL_LINK_PORTS, SCALABLE,
                                  TOXIPROXY_API_PORT, Instance, InstanceWiring, _through)
from chaos.target import DEFAULT_PROFILE, load_profile
from chaos.target.model import Containerised
from chaos.toxiproxy.client import ToxiproxyClient

# what other modules import from here, wherever it lives now
__all__ = ["CLI_OWNER", "CLIENT_LINK_PORTS", "DEPENDENCIES", "ENVIRONMENT_LABEL", "HEALTH_TIMEOUT_S",
           "INSTANCE_LABEL", "INTERNAL_LINK_PORTS", "OWNER_LABEL", "PROJECT_LABEL", "RUN_LABEL", "SCALABLE",
           "TOXIPROXY_API_PORT", "Cluster", "ClusterError", "Instance", "_owner_alive", "_through",
           "billing_run", "cli_owner", "ensure_local_engine", "reap_leftovers", "running_cluster"]

HEALTH_TIMEOUT_S = 180.0
LB_FOLLOWS_TIMEOUT_S = 30.0


def running_cluster() -> Cluster:
    """The stack the `chaos` commands act on (see ``cli_owner``); ClusterError when none is up."""
    cluster = Cluster.attach()
    if cluster is None:
        raise ClusterError("no stack is up", hint="start one with `chaos up`")
    return cluster


def billing_run() -> Containerised:
    """How billing/ runs: its profile's ``run.containerised`` (the default target)."""
    run = load_profile(DEFAULT_PROFILE).run
    assert isinstance(run, Containerised), "billing's own profile is containerised"
    return run


class Cluster(InstanceWiring, ProcessFaults, DataFaults):
    """The billing stack of one run. Use as a context manager: it is removed on the way out.

    ``seed`` (a run's ``--chaos-seed``) goes to the fault proxy, so that its jitter and toxicity replay."""

    kind = "containerised"  # RunningTarget's is "running"

    def __init__(self, *, run_id: str | None = None, environment: dict[str, str] | None = None,
                 compose_file: Path = COMPOSE_FILE, overrides: tuple[Path, ...] = (), allow_remote: bool = False,
                 client: docker.DockerClient | None = None, owner: str | None = None,
                 target: Containerised | None = None, seed: int | None = None) -> None:
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.target = target or billing_run()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.environment = dict(environment or {})
        self.seed = seed
        self.compose_file = compose_file
        self.overrides = overrides
        self.docker = client or docker.from_env(timeout=120)
        ensure_local_engine(self.docker, allow_remote)
        self.services: dict[str, ServiceSpec] = {}
        self.network: Network | None = None
        self.fixed: dict[str, Container] = {}
        self.instances: dict[str, Instance] = {}
        self.toxiproxy: ToxiproxyClient | None = None
        self._free_client_ports = list(CLIENT_LINK_PORTS)
        self._free_internal_ports = list(INTERNAL_LINK_PORTS)

    # life cycle

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *_: object) -> None:
        self.remove()

    @property
    def labels(self) -> dict[str, str]:
        return run_labels(self.run_id, self.owner)

    def compose_environment(self) -> dict[str, str]:
        """What the compose file is read with: this process's environment, the run's variables, its seed."""
        return compose_environment(self.environment, self.seed)

    def _load_services(self, overrides: tuple[Path, ...]) -> None:
        self.services = load_services(self.compose_file, self.compose_environment(), overrides)

    @classmethod
    def attach(cls, *, owner: str | None = None, allow_remote: bool = False,
               client: docker.DockerClient | None = None) -> "Cluster | None":
        """The running stack ``owner`` started (by default `chaos up`'s), rebuilt from the engine's
        labels and the fault proxy's links, so a later command can scale, fault and heal it."""
        client = client or docker.from_env(timeout=120)
        owner = owner or cli_owner()
        networks = client.networks.list(filters={"label": [PROJECT_LABEL, f"{OWNER_LABEL}={owner}"]})
        if not networks:
            return None
        if len(networks) > 1:
            raise ClusterError(f"{len(networks)} stacks are owned by {owner!r}; remove them with `chaos down`")
        labels = networks[0].attrs["Labels"]
        cluster = cls(run_id=labels[RUN_LABEL], environment=json.loads(labels.get(ENVIRONMENT_LABEL, "{}")),
                      allow_remote=allow_remote, client=client, owner=owner)
        cluster.network = networks[0]
        cluster._load_services(())
        for container in client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={cluster.run_id}"}):
            name = container.labels[INSTANCE_LABEL]
            service = name.rsplit("_", 1)[0]
            if service in SCALABLE:
                cluster.instances[name] = Instance(name, service, container,
                                                   {dependency: f"{name}->{dependency}" for dependency in DEPENDENCIES})
            else:
                cluster.fixed[name] = container
        missing = {"postgres", "redis", "toxiproxy", "lb", "flower"} - set(cluster.fixed)
        if missing:
            raise ClusterError(f"the stack {cluster.run_id} lacks {', '.join(sorted(missing))}; "
                               "remove it with `chaos down` and start again with `chaos up`")
        cluster.toxiproxy = ToxiproxyClient(cluster.toxiproxy_url, timeout_s=10)
        listening = {link: int(info["listen"].rsplit(":", 1)[1]) for link, info in cluster.toxiproxy.proxies().items()}
        cluster._take_ports(list(listening.values()))
        for link, port in listening.items():
            if link.startswith("client->") and (instance := cluster.instances.get(link.split("->", 1)[1])):
                instance.url = f"http://127.0.0.1:{cluster.host_port(cluster.fixed['toxiproxy'], port)}"
        return cluster

    def start(self, api: int = 5, workers: int = 3) -> None:
        """Create the whole stack and wait until every part is healthy and the lb routes to every api."""
        reap_leftovers(self.docker)
        self._load_services(self.overrides)
        self.network = self.docker.networks.create(
            f"billing-chaos-{self.run_id}", driver="bridge",
            labels={**self.labels, ENVIRONMENT_LABEL: json.dumps(self.environment, sort_keys=True)})
        for name in ("postgres", "redis"):
            self.fixed[name] = self._run(self.services[name], name)
        toxiproxy_ports = {f"{TOXIPROXY_API_PORT}/tcp": ("127.0.0.1", None)}
        toxiproxy_ports.update({f"{port}/tcp": ("127.0.0.1", None) for port in CLIENT_LINK_PORTS})
        self.fixed["toxiproxy"] = self._run(self.services["toxiproxy"], "toxiproxy", ports=toxiproxy_ports)
        self.wait_healthy(list(self.fixed.values()))
        self.toxiproxy = ToxiproxyClient(self.toxiproxy_url, timeout_s=10)
        for _ in range(api):
            self._add_instance("api")
        for _ in range(workers if self.has_workers else 0):
            self._add_instance("worker")
        if self.has_workers:
            self._start_flower()
        self.fixed["lb"] = self._run(self.services["lb"], "lb",
                                     ports={"8080/tcp": ("127.0.0.1", None), "8404/tcp": ("127.0.0.1", None)})
        self.wait_healthy(self.containers())
        self.wait_lb_follows()

    def reconfigure(self, **environment: str) -> None:
        """Replace every api and worker instance (and Flower) with ones started with ``environment``.

        This is how a run switches billing to an unsafe variant and back
        (``BILLING_UNSAFE``) without rebuilding the dependencies: data stays,
        links are made anew for the new instances.
        """
        self.environment.update(environment)
        self._load_services(self.overrides)
        counts = {service: len(self.of(service)) for service in SCALABLE}
        for instance in list(self.instances.values()):
            self._remove_instance(instance)
        for service, count in counts.items():
            for _ in range(count):
                self._add_instance(service)
        if "flower" in self.fixed:
            self.fixed.pop("flower").remove(force=True)
            self._start_flower()
        self.wait_healthy(self.containers())
        self.wait_lb_follows()

    def remove(self) -> None:
        """Remove every container and the network of this run, whatever state they are in."""
        for container in self.docker.containers.list(all=True, filters={"label": f"{RUN_LABEL}={self.run_id}"}):
            container.remove(force=True, v=True)
        for network in self.docker.networks.list(filters={"label": f"{RUN_LABEL}={self.run_id}"}):
            network.remove()
        if self.toxiproxy is not None:
            self.toxiproxy.close()
        self.instances.clear()
        self.fixed.clear()

    # readiness: one mechanism, the engine's health status (chaos.cluster.readiness says when it is final)

    def wait_healthy(self, containers: list[Container], timeout_s: float = HEALTH_TIMEOUT_S) -> None:
        wait_healthy(containers, timeout_s, ClusterError)

    def wait_lb_follows(self, timeout_s: float = LB_FOLLOWS_TIMEOUT_S) -> None:
        """Until the lb routes to exactly the running api instances."""
        wait_lb_routes(self.lb_stats_url, len(self.of("api")), timeout_s, ClusterError)

    # where things are

    def host_port(self, container: Container, port: int) -> int:
        container.reload()
        bindings = container.attrs["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []
        if not bindings:
            raise ClusterError(f"{container.name} publishes no port {port}")
        return int(bindings[0]["HostPort"])

    def _url(self, service: str, port: int) -> str:
        return f"http://127.0.0.1:{self.host_port(self.fixed[service], port)}"

    @property
    def toxiproxy_url(self) -> str:
        return self._url("toxiproxy", TOXIPROXY_API_PORT)

    @property
    def lb_url(self) -> str:
        return self._url("lb", 8080)

    @property
    def lb_stats_url(self) -> str:
        return self._url("lb", 8404)

    @property
    def flower_url(self) -> str:
        return self._url("flower", 5555)

    @property
    def has_workers(self) -> bool:
        return self.target.worker_service is not None

    def service_of(self, role: str) -> str:
        """The compose service that plays ``role`` (api or worker) for this target."""
        service = self.target.api_service if role == "api" else self.target.worker_service
        if service is None:
            raise ClusterError(f"this target has no {role} service (its profile's run.containerised."
                               f"{role}_service)")
        return service

    def exec_in(self, service: str, argv: Sequence[str]) -> str:
        """Run ``argv`` in the first instance of a compose service (or a fixed container); its stdout.
        How an admin command of a profile (``admin.command``) gets a token."""
        role = {self.target.api_service: "api", self.target.worker_service: "worker"}.get(service)
        container = self.of(role)[0].container if role and self.of(role) else self.container(service)
        result = container.exec_run(list(argv), demux=True)
        stdout, stderr = result.output
        if result.exit_code != 0:
            raise ClusterError(f"{list(argv)} in {container.name} exited {result.exit_code}: "
                               f"{(stderr or b'').decode(errors='replace').strip()[-300:]}")
        return (stdout or b"").decode(errors="replace")

    def of(self, service: str) -> list[Instance]:
        return sorted((i for i in self.instances.values() if i.service == service),
                      key=lambda i: int(i.name.rsplit("_", 1)[1]))

    def api_urls(self) -> dict[str, str]:
        """Each api instance's URL through its ``client->api_i`` link, by the name in ``X-Instance``."""
        return {i.name: i.url for i in self.of("api") if i.url}

    def containers(self) -> list[Container]:
        return [*self.fixed.values(), *(i.container for i in self.instances.values())]

    def container(self, name: str) -> Container:
        if name in self.instances:
            return self.instances[name].container
        if name in self.fixed:
            return self.fixed[name]
        raise ClusterError(f"no instance {name!r}; this run has {', '.join(sorted([*self.fixed, *self.instances]))}")
