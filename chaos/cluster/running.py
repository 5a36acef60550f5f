"""An already-running target: instances someone else started on this machine, reached through our links.

The suite owns no container here, so it can only do what a network in
between can do: one ``client->api_i`` link per instance URL, in our own
fault proxy (a child process, ``chaos.cluster.proxy_process``), and every
toxic or partition on those links. Pausing, killing, disconnecting or
scaling an instance, and any link to Redis or PostgreSQL, raise
``UnsupportedFault``; scenarios that need them are skipped before they start
(``chaos.target.needs``), so this is the error of a caller who did not ask.

``RunningTarget`` has the part of ``Cluster``'s interface the fixtures,
the nemesis and the scenarios use. There is no load balancer: ``lb_url`` is
the first instance's link (what a scenario sends "through the lb" goes to
api_1).
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlsplit

from chaos.cluster.controller import ClusterError
from chaos.cluster.proxy_process import ProxyProcess, start_proxy
from chaos.target.model import Running
from chaos.toxiproxy.client import ProxyInfo, ToxicInfo, ToxiproxyClient


class UnsupportedFault(ClusterError):
    """A fault the suite cannot inject on an already-running target (it has no container of it)."""


class ClientLinks(ToxiproxyClient):
    """The fault proxy of a running target: a fault on a link that cannot exist here (``api_1->redis``)
    is refused with the reason, instead of the proxy's bare "not found"."""

    def _only_client_links(self, link: str) -> None:
        if not link.startswith("client->"):
            raise UnsupportedFault(f"no link {link!r}: the target is already running (run.running), so the suite "
                                   "cannot put links between it and its dependencies; only client->api_i exist")

    def disable(self, name: str) -> ProxyInfo:
        self._only_client_links(name)
        return super().disable(name)

    def add_toxic(self, proxy: str, *args: Any, **kwargs: Any) -> ToxicInfo:
        self._only_client_links(proxy)
        return super().add_toxic(proxy, *args, **kwargs)


@dataclass
class RunningInstance:
    """One instance of an already-running target: its own URL and the link in front of it."""

    name: str
    upstream: str              # the instance's own base URL
    url: str | None = None     # through ``client->name``
    service: str = "api"

    @property
    def client_link(self) -> str:
        return f"client->{self.name}"


class RunningTarget:
    """Links in front of running instances. Use as a context manager: the fault proxy ends on the way out."""

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

    def __enter__(self) -> "RunningTarget":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.remove()

    def start(self, api: int | None = None, workers: int | None = None) -> None:
        """Start the fault proxy and one client link per instance URL (``api``/``workers`` are ignored:
        the instances are the profile's)."""
        try:
            self._proxy = start_proxy(seed=self.seed)
            self.toxiproxy = ClientLinks(self._proxy.url, timeout_s=10)
            for i, upstream in enumerate(self.run.instances, start=1):
                instance = RunningInstance(f"api_{i}", upstream.rstrip("/"))
                parts = urlsplit(instance.upstream)
                self.toxiproxy.create_proxy(instance.client_link, f"{parts.hostname}:{parts.port}",
                                            listen=f"{self._proxy.host}:0")
                listen = self.toxiproxy.proxy(instance.client_link)["listen"]
                instance.url = f"{parts.scheme}://{self._proxy.host}:{listen.rsplit(':', 1)[1]}"
                self.instances[instance.name] = instance
        except BaseException:
            self.remove()
            raise

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

    def wait_healthy(self, containers: Sequence[Any] = (), timeout_s: float = 0.0) -> None:
        """Nothing of ours to wait for: the instances' health is their owner's business."""

    def unpause(self, name: str) -> None:
        """Nothing can have been paused; healing may call this for every instance."""

    # what cannot be done without containers

    def _unsupported(self, fault: str, name: str) -> NoReturn:
        raise UnsupportedFault(f"cannot {fault} {name}: the target is already running (run.running), the suite "
                               "has no container of it; only client links (client->api_i) can be faulted")

    def pause(self, name: str) -> None:
        self._unsupported("pause", name)

    def kill(self, name: str, signal: str = "SIGKILL") -> None:
        self._unsupported("kill", name)

    def stop(self, name: str) -> None:
        self._unsupported("stop", name)

    def start_again(self, name: str) -> None:
        self._unsupported("start", name)

    def restart(self, name: str) -> None:
        self._unsupported("restart", name)

    def disconnect(self, name: str) -> None:
        self._unsupported("disconnect", name)

    def connect(self, name: str) -> None:
        self._unsupported("connect", name)

    def scale(self, service: str, count: int) -> None:
        if service == "api" and count == len(self.of("api")):
            return  # already so: restoring the scale between scenarios is a no-op
        self._unsupported(f"scale {service} to {count} in", "the target")

    def container(self, name: str) -> NoReturn:
        self._unsupported("reach a container of", name)

    def exec_in(self, service: str, argv: Sequence[str]) -> NoReturn:
        self._unsupported(f"run {list(argv)} in", service)

