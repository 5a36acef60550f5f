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

Every container and the network carry the project label, a run id and the
owner's process id: a run removes its own on exit, and the next run removes
those of runs whose owner is gone (a killed run), never another live run's.
"""
from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import docker
from docker.models.containers import Container
from docker.models.networks import Network

from chaos.cluster.spec import ServiceSpec, load_services
from chaos.compose import COMPOSE_FILE, last_log_line, lb_servers_up
from chaos.errors import ChaosError
from chaos.target import DEFAULT_PROFILE, load_profile
from chaos.target.model import Containerised
from chaos.toxiproxy.client import ToxiproxyClient

PROJECT_LABEL = "billing-chaos.project"
RUN_LABEL = "billing-chaos.run"
OWNER_LABEL = "billing-chaos.owner"
INSTANCE_LABEL = "billing-chaos.instance"
ENVIRONMENT_LABEL = "billing-chaos.environment"  # on the network: how ``attach`` rebuilds the services
CLI_OWNER = "cli"  # the stack of `chaos up`: it outlives the command, so no process owns it
SCALABLE = ("api", "worker")  # the roles; a profile says which compose service plays each
DEPENDENCIES = {"redis": "redis:6379", "postgres": "postgres:5432"}
TOXIPROXY_API_PORT = 8474
CLIENT_LINK_PORTS = range(20000, 20016)   # published: the host's way to each api instance
INTERNAL_LINK_PORTS = range(21000, 21200)  # container to container only
HEALTH_TIMEOUT_S = 180.0


def cli_owner() -> str:
    """Whose stack the `chaos` commands act on. Tests set ``CHAOS_STACK_OWNER`` to their own
    ``host:pid``, so they never touch a person's stack, and a killed test run's stack is reaped."""
    return os.environ.get("CHAOS_STACK_OWNER") or CLI_OWNER


class ClusterError(ChaosError, RuntimeError):
    """The cluster could not do what was asked; the message says why and what to do.

    Not a ``ProvisionError``, which is what the machine lacks; a RuntimeError, as it was when it was one."""


def running_cluster() -> Cluster:
    """The stack the `chaos` commands act on (see ``cli_owner``); ClusterError when none is up."""
    cluster = Cluster.attach()
    if cluster is None:
        raise ClusterError("no stack is up", hint="start one with `chaos up`")
    return cluster


@dataclass
class Instance:
    """One api or worker container and its links."""

    name: str
    service: str
    container: Container
    links: dict[str, str] = field(default_factory=dict)  # dependency -> link name
    url: str | None = None                               # api only: through ``client->name``

    @property
    def client_link(self) -> str:
        return f"client->{self.name}"


def ensure_local_engine(client: docker.DockerClient, allow_remote: bool) -> None:
    """Faults are real: refuse to act on an engine on another machine unless told so."""
    base_url = client.api.base_url
    host = urlparse(base_url).hostname or ""
    if base_url.startswith("http+docker://") or host in {"localhost", "127.0.0.1", "::1"}:
        return
    if not allow_remote:
        raise ClusterError(f"the Docker engine at {base_url} is not on this machine; chaos runs kill, pause "
                           "and cut containers, so pass allow_remote (--chaos-allow-remote) if you mean it")


def _owner_alive(owner: str) -> bool:
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


def billing_run() -> Containerised:
    """How billing/ runs: its profile's ``run.containerised`` (the default target)."""
    run = load_profile(DEFAULT_PROFILE).run
    assert isinstance(run, Containerised), "billing's own profile is containerised"
    return run


def reap_leftovers(client: docker.DockerClient) -> int:
    """Remove containers and networks of runs whose owning process is gone."""
    removed = 0
    for container in client.containers.list(all=True, filters={"label": [PROJECT_LABEL, OWNER_LABEL]}):
        if not _owner_alive(container.labels[OWNER_LABEL]):
            container.remove(force=True, v=True)
            removed += 1
    for network in client.networks.list(filters={"label": [PROJECT_LABEL, OWNER_LABEL]}):
        if not _owner_alive(network.attrs["Labels"][OWNER_LABEL]):
            network.remove()
            removed += 1
    return removed


class Cluster:
    """The billing stack of one run. Use as a context manager: it is removed on the way out."""

    kind = "containerised"  # RunningTarget's is "running"

    def __init__(self, *, run_id: str | None = None, environment: dict[str, str] | None = None,
                 compose_file: Path = COMPOSE_FILE, overrides: tuple[Path, ...] = (), allow_remote: bool = False,
                 client: docker.DockerClient | None = None, owner: str | None = None,
                 target: Containerised | None = None) -> None:
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.target = target or billing_run()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.environment = dict(environment or {})
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
        return {PROJECT_LABEL: "billing-chaos", RUN_LABEL: self.run_id, OWNER_LABEL: self.owner}

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
        cluster.services = load_services(cluster.compose_file, {**os.environ, **cluster.environment}, ())
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
        proxies = cluster.toxiproxy.proxies()
        for link, info in proxies.items():
            port = int(info["listen"].rsplit(":", 1)[1])
            for free in (cluster._free_client_ports, cluster._free_internal_ports):
                if port in free:
                    free.remove(port)
            if link.startswith("client->") and (instance := cluster.instances.get(link.split("->", 1)[1])):
                instance.url = f"http://127.0.0.1:{cluster.host_port(cluster.fixed['toxiproxy'], port)}"
        return cluster

    def start(self, api: int = 5, workers: int = 3) -> None:
        """Create the whole stack and wait until every part is healthy and the lb routes to every api."""
        reap_leftovers(self.docker)
        environ = {**os.environ, **self.environment}
        self.services = load_services(self.compose_file, environ, self.overrides)
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

    # where things are

    def host_port(self, container: Container, port: int) -> int:
        container.reload()
        bindings = container.attrs["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []
        if not bindings:
            raise ClusterError(f"{container.name} publishes no port {port}")
        return int(bindings[0]["HostPort"])

    @property
    def toxiproxy_url(self) -> str:
        return f"http://127.0.0.1:{self.host_port(self.fixed['toxiproxy'], TOXIPROXY_API_PORT)}"

    @property
    def lb_url(self) -> str:
        return f"http://127.0.0.1:{self.host_port(self.fixed['lb'], 8080)}"

    @property
    def lb_stats_url(self) -> str:
        return f"http://127.0.0.1:{self.host_port(self.fixed['lb'], 8404)}"

    @property
    def flower_url(self) -> str:
        return f"http://127.0.0.1:{self.host_port(self.fixed['flower'], 5555)}"

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

    # scaling

    def scale(self, service: str, count: int) -> None:
        """Add or remove instances (the newest first) until ``count`` run; wait until healthy and routed."""
        if service not in SCALABLE:
            raise ClusterError(f"only {' and '.join(SCALABLE)} scale, not {service!r}")
        if count < 1:
            raise ClusterError(f"{service} needs at least one instance")
        self.service_of(service)
        while len(self.of(service)) < count:
            self._add_instance(service)
        while len(self.of(service)) > count:
            self._remove_instance(self.of(service)[-1])
        self.wait_healthy([i.container for i in self.of(service)])
        if service == "api":
            self.wait_lb_follows()

    def reconfigure(self, **environment: str) -> None:
        """Replace every api and worker instance (and Flower) with ones started with ``environment``.

        This is how a run switches billing to an unsafe variant and back
        (``BILLING_UNSAFE``) without rebuilding the dependencies: data stays,
        links are made anew for the new instances.
        """
        self.environment.update(environment)
        self.services = load_services(self.compose_file, {**os.environ, **self.environment}, self.overrides)
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

    def _start_flower(self) -> None:
        """Flower watches the broker directly, not through a link: monitoring must not be faulted."""
        self.fixed["flower"] = self._run(self.services["flower"], "flower", ports={"5555/tcp": ("127.0.0.1", None)})

    def _add_instance(self, service: str) -> Instance:
        taken = {int(i.name.rsplit("_", 1)[1]) for i in self.of(service)}
        name = f"{service}_{min(set(range(1, len(taken) + 2)) - taken)}"
        assert self.toxiproxy is not None
        spec = self.services[self.service_of(service)]
        links = {}
        environment = dict(spec.environment)
        if self.target.instance_env:
            environment[self.target.instance_env] = name
        for dependency, upstream in DEPENDENCIES.items():
            names = self.target.dependencies.get(dependency, ())
            if not names:
                continue  # the profile names no variable for it: the instance reaches it directly
            port = self._free_internal_ports.pop(0)
            link = f"{name}->{dependency}"
            self.toxiproxy.create_proxy(link, upstream, listen=f"0.0.0.0:{port}")
            links[dependency] = link
            environment = {key: _through(value, dependency, port) if key in names else value
                           for key, value in environment.items()}
        container = self._run(spec, name, environment=environment, aliases=[service, name])
        instance = Instance(name, service, container, links)
        if service == "api":
            port = self._free_client_ports.pop(0)
            self.toxiproxy.create_proxy(instance.client_link, f"{name}:{self.target.port}",
                                        listen=f"0.0.0.0:{port}")
            instance.url = f"http://127.0.0.1:{self.host_port(self.fixed['toxiproxy'], port)}"
        self.instances[name] = instance
        return instance

    def _remove_instance(self, instance: Instance) -> None:
        assert self.toxiproxy is not None
        instance.container.remove(force=True, v=True)
        for link in [*instance.links.values(), *([instance.client_link] if instance.url else [])]:
            info = self.toxiproxy.proxy(link)
            port = int(info["listen"].rsplit(":", 1)[1])
            self.toxiproxy.delete_proxy(link)
            (self._free_client_ports if port in CLIENT_LINK_PORTS else self._free_internal_ports).append(port)
        del self.instances[instance.name]

    def _run(self, spec: ServiceSpec, name: str, *, environment: dict[str, str] | None = None,
             ports: dict[str, tuple[str, None]] | None = None, aliases: list[str] | None = None) -> Container:
        assert self.network is not None
        container = self.docker.containers.create(
            spec.image, spec.command, name=f"billing-chaos-{self.run_id}-{name}", hostname=name,
            environment=environment if environment is not None else spec.environment,
            labels={**spec.labels, **self.labels, INSTANCE_LABEL: name}, healthcheck=spec.sdk_healthcheck(),
            tmpfs={path: "" for path in spec.tmpfs}, ports=ports or {}, detach=True,
            network=self.network.name,
            # the service name as a second alias is how the lb finds every api instance
            networking_config={self.network.name: self.docker.api.create_endpoint_config(
                aliases=aliases or [name])})
        container.start()
        return container

    # readiness: one mechanism, the engine's health status

    def wait_healthy(self, containers: list[Container], timeout_s: float = HEALTH_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        waiting = list(containers)
        while waiting:
            for container in list(waiting):
                container.reload()
                state = container.attrs["State"]
                health = state.get("Health", {}).get("Status", "healthy" if state["Running"] else "down")
                if health == "healthy":
                    waiting.remove(container)
                # "unhealthy" is not final: the engine reports it for a while after an unpause
                elif not state["Running"] and not state["Paused"]:
                    raise ClusterError(f"{container.name} is {health} ({state['Status']}); its last log line: "
                                       f"{last_log_line(container)}")
            if waiting and time.monotonic() > deadline:
                raise ClusterError(f"not healthy after {timeout_s:.0f}s: {', '.join(c.name for c in waiting)}; "
                                   f"last log lines: {'; '.join(last_log_line(c) for c in waiting)}")
            if waiting:
                time.sleep(0.25)

    def wait_lb_follows(self, timeout_s: float = 30.0) -> None:
        """Until the lb routes to exactly the running api instances."""
        expected = len(self.of("api"))
        deadline = time.monotonic() + timeout_s
        while (up := lb_servers_up(self.lb_stats_url)) != expected:
            if time.monotonic() > deadline:
                raise ClusterError(f"the lb routes to {up} api instances, not {expected}")
            time.sleep(0.2)

    # process faults: on this run's containers only

    def kill(self, name: str, signal: str = "SIGKILL") -> None:
        self.container(name).kill(signal=signal)

    def stop(self, name: str) -> None:
        self.container(name).stop(timeout=5)

    def start_again(self, name: str) -> None:
        self.container(name).start()

    def restart(self, name: str) -> None:
        self.container(name).restart(timeout=5)

    def pause(self, name: str) -> None:
        self.container(name).pause()

    def unpause(self, name: str) -> None:
        container = self.container(name)
        container.reload()
        if container.status == "paused":
            container.unpause()

    def disconnect(self, name: str) -> None:
        assert self.network is not None
        self.network.disconnect(self.container(name), force=True)

    def connect(self, name: str) -> None:
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


def _through(value: str, dependency: str, port: int) -> str:
    """Point a connection URL at a link instead of the dependency itself."""
    host = DEPENDENCIES[dependency]
    return value.replace(f"@{host}/", f"@toxiproxy:{port}/").replace(f"//{host}/", f"//toxiproxy:{port}/")


