"""Instances and their links: each api and worker container reaches Redis and PostgreSQL only through
its own Toxiproxy links, and the host reaches each api instance only through ``client->api_i``.

Instances are always named ``api_i`` and ``worker_j`` (the role, whatever
compose service a target profile casts in it), so faults, links and
scenarios read the same for every target. Only the environment variables
the profile names (``run.containerised.dependencies``) are pointed at an
instance's links; a dependency it names none for is reached directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from docker import DockerClient
from docker.models.containers import Container
from docker.models.networks import Network

from chaos.cluster.errors import ClusterError
from chaos.cluster.ownership import INSTANCE_LABEL
from chaos.cluster.spec import ServiceSpec
from chaos.target.model import Containerised
from chaos.toxiproxy.client import ToxiproxyClient

SCALABLE = ("api", "worker")  # the roles; a profile says which compose service plays each
DEPENDENCIES = {"redis": "redis:6379", "postgres": "postgres:5432"}
TOXIPROXY_API_PORT = 8474
CLIENT_LINK_PORTS = range(20000, 20016)   # published: the host's way to each api instance
INTERNAL_LINK_PORTS = range(21000, 21200)  # container to container only


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


def _through(value: str, dependency: str, port: int) -> str:
    """Point a connection URL at a link instead of the dependency itself."""
    host = DEPENDENCIES[dependency]
    return value.replace(f"@{host}/", f"@toxiproxy:{port}/").replace(f"//{host}/", f"//toxiproxy:{port}/")


class InstanceWiring:
    """The part of ``Cluster`` that creates containers and wires them: adding and removing instances
    with their links and ports, and scaling. It works on the cluster's state, declared here."""

    docker: DockerClient
    run_id: str
    target: Containerised
    services: dict[str, ServiceSpec]
    network: Network | None
    fixed: dict[str, Container]
    instances: dict[str, Instance]
    toxiproxy: ToxiproxyClient | None
    _free_client_ports: list[int]
    _free_internal_ports: list[int]

    # and Cluster's labels, of, service_of, host_port, wait_healthy and wait_lb_follows

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

    def _take_ports(self, ports: list[int]) -> None:
        """Mark the link ports already listening (an attached stack's) as taken."""
        for port in ports:
            for free in (self._free_client_ports, self._free_internal_ports):
                if port in free:
                    free.remove(port)

    def _run(self, spec: ServiceSpec, name: str, *, environment: dict[str, str] | None = None,
             ports: dict[str, tuple[str, None]] | None = None, aliases: list[str] | None = None) -> Container:
        assert self.network is not None
        container = self.docker.containers.create(
            spec.image, spec.command, name=f"billing-chaos-{self.run_id}-{name}", hostname=name,
            environment=environment if environment is not None else spec.environment,
            labels={**spec.labels, **self.labels, INSTANCE_LABEL: name}, healthcheck=spec.sdk_healthcheck(),
            tmpfs={path: "" for path in spec.tmpfs}, ports=ports or {}, detach=True,
            # no swap beyond the limit, so the limit is where the kernel kills (as in production)
            **({"mem_limit": spec.mem_limit, "memswap_limit": spec.mem_limit} if spec.mem_limit else {}),
            network=self.network.name,
            # the service name as a second alias is how the lb finds every api instance
            networking_config={self.network.name: self.docker.api.create_endpoint_config(
                aliases=aliases or [name])})
        container.start()
        return container
