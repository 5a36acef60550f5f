"""An already-running target: instances someone else started on this machine, reached through our links.

The suite owns no container here, so it does what a network in between and
the target's own pids allow, all in our own fault proxy (a child process,
``chaos.cluster.proxy_process``):

- one ``client->api_i`` link per instance URL (an ephemeral port: only the
  suite calls it);
- one ``api_i->redis`` / ``api_i->postgres`` link per instance and dependency
  the profile names (``run.running.dependencies``), on the fixed port
  ``Running.link_port`` gives, so that an instance started *before* the run
  with the addresses ``chaos target env PROFILE`` prints reaches its Redis and
  PostgreSQL through them; until the run starts the links, it cannot;
- process faults on the processes the profile says how to find
  (``run.running.processes``: a pid file or a command printing pids, and
  optionally a restart command), each a ``RunningProcess``
  (``chaos.cluster.running_process``), with the instance's ``chaos target
  env`` variables for its restart command.

Everything else (disconnecting, scaling, a link or a process the profile does
not name) raises ``UnsupportedFault`` with the reason; scenarios that need
those are skipped before they start (``chaos.target.needs``), so this is the
error of a caller who did not ask.

``RunningTarget`` has the part of ``Cluster``'s interface the fixtures, the
nemesis and the scenarios use; ``container(name)`` returns a
``RunningProcess``, which has the ``status``/``reload`` a container has, so
``chaos.nemesis.heal`` reads and heals it alike. There is no load balancer:
``lb_url`` is the first instance's link.
"""
from __future__ import annotations

import signal as signals
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urlsplit

from chaos.cluster.errors import ClusterError, UnsupportedFault
from chaos.cluster.proxy_process import ProxyProcess, start_proxy
from chaos.cluster.running_process import RunningProcess
from chaos.target.model import DEPENDENCIES, Running
from chaos.toxiproxy.client import ProxyInfo, ToxicInfo, ToxiproxyClient, ToxiproxyError

# what other modules import from here, wherever it lives now
__all__ = ["ClientLinks", "ClusterError", "RunningInstance", "RunningProcess", "RunningTarget", "UnsupportedFault"]

HEALTHY_TIMEOUT_S = 60.0


class ClientLinks(ToxiproxyClient):
    """The fault proxy of a running target: a fault on a link that does not exist here (``api_1->redis``
    when the profile names no redis) is refused with the reason, instead of the proxy's bare "not found"."""

    def __init__(self, url: str, *, dependency_links: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self.dependency_links = set(dependency_links)

    def _only_known_links(self, link: str) -> None:
        if link.startswith("client->") or link in self.dependency_links:
            return
        party, _, dependency = link.partition("->")
        why = (f"and its profile names no {dependency} (run.running.dependencies.{dependency})"
               if dependency in DEPENDENCIES else "")
        links = ", ".join(sorted(self.dependency_links)) or "none"
        raise UnsupportedFault(f"no link {link!r}: the target is already running (run.running) {why}".rstrip() +
                               f"; links here: client->api_i and the dependency links ({links})")

    def disable(self, name: str) -> ProxyInfo:
        self._only_known_links(name)
        return super().disable(name)

    def add_toxic(self, proxy: str, *args: Any, **kwargs: Any) -> ToxicInfo:
        self._only_known_links(proxy)
        return super().add_toxic(proxy, *args, **kwargs)


@dataclass
class RunningInstance:
    """One instance of an already-running target: its own URL and the links in front of and behind it."""

    name: str
    upstream: str              # the instance's own base URL
    url: str | None = None     # through ``client->name``
    service: str = "api"
    links: dict[str, str] = field(default_factory=dict)   # dependency -> link name (api_1->redis)

    @property
    def client_link(self) -> str:
        return f"client->{self.name}"


class RunningTarget:
    """Links in front of (and behind) running instances. Use as a context manager: the fault proxy ends on
    the way out."""

    kind = "running"
    has_workers = False

    def __init__(self, run: Running, *, run_id: str | None = None, seed: int | None = None) -> None:
        self.run = run
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.seed = seed
        self.instances: dict[str, RunningInstance] = {}
        self.fixed: dict[str, Any] = {}     # no containers of ours
        self.network = None
        self.toxiproxy: ToxiproxyClient | None = None
        self._proxy: ProxyProcess | None = None
        self.processes: dict[str, RunningProcess] = {}
        for name, url in zip(run.names, run.instances):
            parts = urlsplit(url)
            self.processes[name] = RunningProcess(name, run.processes.get(name),
                                                  (parts.hostname or "127.0.0.1", parts.port or 80),
                                                  run.environment(name))
        for name in DEPENDENCIES:
            if name in run.processes or name in run.dependencies:
                address = run.dependencies[name].address if name in run.dependencies else None
                self.processes[name] = RunningProcess(name, run.processes.get(name), _host_port(address))
        self._paused: set[str] = set()

    def __enter__(self) -> "RunningTarget":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.remove()

    def start(self, api: int | None = None, workers: int | None = None) -> None:
        """Start the fault proxy, one client link per instance URL and the dependency links (``api`` and
        ``workers`` are ignored: the instances are the profile's)."""
        try:
            self._proxy = start_proxy(seed=self.seed)
            host = self._proxy.host
            dependency_links = [f"{name}->{d}" for name in self.run.names for d in self.run.dependencies]
            self.toxiproxy = ClientLinks(self._proxy.url, dependency_links=dependency_links, timeout_s=10)
            for name, upstream in zip(self.run.names, self.run.instances):
                instance = RunningInstance(name, upstream.rstrip("/"))
                parts = urlsplit(instance.upstream)
                self.toxiproxy.create_proxy(instance.client_link, f"{parts.hostname}:{parts.port}",
                                            listen=f"{host}:0")
                listen = self.toxiproxy.proxy(instance.client_link)["listen"]
                instance.url = f"{parts.scheme}://{host}:{listen.rsplit(':', 1)[1]}"
                for dependency in DEPENDENCIES:
                    if dependency in self.run.dependencies:
                        instance.links[dependency] = self._dependency_link(name, dependency, host)
                self.instances[instance.name] = instance
        except BaseException:
            self.remove()
            raise

    def _dependency_link(self, name: str, dependency: str, host: str) -> str:
        assert self.toxiproxy is not None
        link, port = f"{name}->{dependency}", self.run.link_port(name, dependency)
        try:
            self.toxiproxy.create_proxy(link, self.run.dependencies[dependency].address, listen=f"{host}:{port}")
        except ToxiproxyError as exc:
            raise ClusterError(f"cannot open the link {link} on {host}:{port} ({exc}): is another run against this "
                               "target going on? Free the port, or move the links (run.running.proxy_port_base or "
                               f"run.running.dependencies.{dependency}.listen) and start the instances again "
                               "with what `chaos target env` prints") from exc
        return link

    def remove(self) -> None:
        if self.toxiproxy is not None:
            self.toxiproxy.close()
            self.toxiproxy = None
        if self._proxy is not None:
            self._proxy.stop()
            self._proxy = None
        self.instances.clear()

    # where things are

    @property
    def toxiproxy_url(self) -> str:
        if self._proxy is None:
            raise ClusterError("the fault proxy is not running (start() first)")
        return self._proxy.url

    @property
    def lb_url(self) -> str:
        """No load balancer here: the first instance's link stands in for it."""
        return next(iter(self.api_urls().values()))

    def of(self, service: str) -> list[RunningInstance]:
        return [i for i in self.instances.values() if i.service == service]

    def api_urls(self) -> dict[str, str]:
        return {i.name: i.url for i in self.of("api") if i.url}

    def containers(self) -> list[Any]:
        return []

    def container(self, name: str) -> RunningProcess:
        """The process ``name`` stands for (api_N, or redis / postgres when the profile names them)."""
        if name not in self.processes:
            self._unsupported("reach", name)
        return self.processes[name]

    def wait_healthy(self, containers: Sequence[Any] = (), timeout_s: float = HEALTHY_TIMEOUT_S) -> None:
        """Until each process given accepts connections on its port. ``containers()`` is empty: the
        instances' health is their owner's business, except after the suite started one again."""
        for process in containers:
            process.wait_healthy(timeout_s)

    # process faults, where the profile says how to find the process

    def _process(self, fault: str, name: str) -> RunningProcess:
        process = self.processes.get(name)
        if process is None or process.spec is None:
            self._unsupported(fault, name)
        return process

    def pause(self, name: str) -> None:
        self._process("pause", name).signal(signals.SIGSTOP)
        self._paused.add(name)

    def unpause(self, name: str) -> None:
        """SIGCONT; healing calls this for every instance, so one the profile cannot find is left alone, and
        one that was not paused (or is gone) too unless the suite paused it."""
        process = self.processes.get(name)
        if process is None or process.spec is None:
            return
        try:
            process.signal(signals.SIGCONT)
        except ClusterError:
            if name in self._paused:
                raise
        self._paused.discard(name)

    def kill(self, name: str, signal: str = "SIGKILL") -> None:
        self._process("kill", name).signal(signals.Signals[signal])

    def stop(self, name: str) -> None:
        self._process("stop", name).stop()

    def start_again(self, name: str) -> None:
        self._process("start", name).start()
        self._paused.discard(name)

    def restart(self, name: str) -> None:
        process = self._process("restart", name)
        process.require_restart()  # refused before anything is stopped
        process.stop()
        process.start()
        process.wait_healthy(HEALTHY_TIMEOUT_S)

    # what cannot be done without containers

    def _unsupported(self, fault: str, name: str) -> NoReturn:
        """Refuse a process fault: why (no way to find an instance's pid, or no container at all)."""
        if name in self.run.names or name in DEPENDENCIES:
            raise UnsupportedFault(f"cannot {fault} {name}: the target is already running (run.running) and its "
                                   f"profile does not say how to find its process (run.running.processes.{name}: "
                                   "pid_file or pid_command)")
        self._unsupported_container(fault, name)

    def disconnect(self, name: str) -> None:
        self._unsupported_container("disconnect", name)

    def connect(self, name: str) -> None:
        self._unsupported_container("connect", name)

    def redis_families(self) -> dict[str, tuple[tuple[int, str], ...]]:
        return {}

    def forget(self, family: str) -> int:
        self._unsupported_container(f"forget the key family {family!r} in", "its Redis")

    def exhaust(self) -> int:
        self._unsupported_container("exhaust the connections of", "its PostgreSQL")

    def exhausted(self) -> tuple[int, int] | None:
        return None

    def release_connections(self) -> None:
        pass

    def scale(self, service: str, count: int) -> None:
        if service == "api" and count == len(self.of("api")):
            return  # already so: restoring the scale between scenarios is a no-op
        self._unsupported_container(f"scale {service} to {count} in", "the target")

    def exec_in(self, service: str, argv: Sequence[str]) -> NoReturn:
        self._unsupported_container(f"run {list(argv)} in", service)

    def _unsupported_container(self, fault: str, name: str) -> NoReturn:
        """Refuse what needs a container of ours. The methods calling this stay (rather than being left
        out for ``chaos.cluster.capabilities`` to tell) so that a caller gets this reason, not an
        AttributeError: a scenario that asks is skipped before it starts (``chaos.target.needs``)."""
        raise UnsupportedFault(f"cannot {fault} {name}: the target is already running (run.running), the suite "
                               "has no container of it; only its links and the processes its profile names can "
                               "be faulted")


def _host_port(address: str | None) -> tuple[str, int] | None:
    if address is None:
        return None
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)
