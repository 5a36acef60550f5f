"""A proxy: a listener, its upstream, its toxics and the connections it is carrying.

Enabled means listening. Disabling closes the listener (new clients are refused)
and aborts every open connection, as Toxiproxy's "down" does; the toxics stay.
"""
from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING, Any

from chaos.toxiproxy.addresses import (AddressError, HostPort, ListenError, bind_listener, format_sockname,
                                       parse_address)
from chaos.toxiproxy.connection import Connection
from chaos.toxiproxy.endpoint import Endpoint
from chaos.toxiproxy.errors import ApiError
from chaos.toxiproxy.link import ByteMeter
from chaos.toxiproxy.stream import Stream
from chaos.toxiproxy.toxic_collection import ToxicCollection

if TYPE_CHECKING:
    from chaos.toxiproxy.metrics import ProxyMetrics

log = logging.getLogger("chaos.toxiproxy.proxy")
UPSTREAM_CONNECT_TIMEOUT_S = 30.0


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str, *, rng: random.Random, default_host: str,
                 metrics: ProxyMetrics | None = None) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.toxics = ToxicCollection()
        self._rng = rng
        self._default_host = default_host
        self._server: asyncio.Server | None = None
        self._connections: set[Connection] = set()
        self._dialing: set[Endpoint] = set()
        self._metrics = metrics

    @property
    def enabled(self) -> bool:
        return self._server is not None

    def to_json(self) -> dict[str, Any]:
        """The Go server's field set and order; ``Logger`` is its zerolog logger, which marshals as ``{}``."""
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream, "enabled": self.enabled,
                "Logger": {}, "toxics": [entry.to_json() for entry in self.toxics.entries()]}

    async def start(self) -> None:
        """Listen; ``listen`` then shows the real address (the port chosen for port 0)."""
        if self._server is not None:
            return
        try:
            address = (parse_address(self.listen, field="listen", allow_empty_host=True, allow_port_zero=True)
                       if self.listen else HostPort("", 0))
            sock = await bind_listener(address, self._default_host)
        except ListenError as exc:
            raise ApiError(str(exc), 500) from None
        except (OSError, AddressError) as exc:
            raise ApiError(f"listen tcp {self.listen}: {exc}", 500) from None
        self._server = await asyncio.get_running_loop().create_server(self._accepted, sock=sock)
        self.listen = format_sockname(sock.getsockname())
        log.info("Started proxy %s listen=%s upstream=%s", self.name, self.listen, self.upstream)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for client in list(self._dialing):
            client.abort()
        for connection in list(self._connections):
            connection.abort()
        log.info("Terminated proxy %s listen=%s upstream=%s", self.name, self.listen, self.upstream)

    async def update(self, *, listen: str | None, upstream: str | None, enabled: bool | None) -> None:
        """Toxiproxy's rules: a new address restarts the proxy (dropping connections)."""
        was_enabled = self.enabled
        if (listen is not None and listen != self.listen) or (upstream is not None and upstream != self.upstream):
            self.stop()
            self.listen = self.listen if listen is None else listen
            self.upstream = self.upstream if upstream is None else upstream
        wanted = was_enabled if enabled is None else enabled
        if wanted:
            await self.start()
        else:
            self.stop()

    def _meters(self, stream: Stream) -> ByteMeter | None:
        """Labelled as Go labels them: direction, proxy, listener, upstream (as they are when the client connects)."""
        if self._metrics is None:
            return None
        return self._metrics.meter(stream.value, self.name, self.listen, self.upstream)

    def _accepted(self) -> Endpoint:
        """A client's socket; it reads nothing until the upstream is dialled and both links are attached."""
        client = _ClientEndpoint(self)
        return client

    async def dial(self, client: Endpoint) -> None:
        server = self._server
        self._dialing.add(client)
        loop = asyncio.get_running_loop()
        try:
            address = parse_address(self.upstream, field="upstream", allow_empty_host=False, allow_port_zero=False)
            _, upstream = await asyncio.wait_for(loop.create_connection(Endpoint, address.host, address.port),
                                                 UPSTREAM_CONNECT_TIMEOUT_S)
        except (TimeoutError, OSError, AddressError) as exc:
            log.warning("proxy %s: unable to open connection to upstream %s: %s", self.name, self.upstream, exc)
            client.abort()
            return
        finally:
            self._dialing.discard(client)
        if server is None or self._server is not server or client.lost:
            upstream.abort()
            client.abort()
            return
        connection = Connection(client, upstream, toxics=self.toxics, rng=self._rng,
                                on_closed=self._connections.discard, meters=self._meters)
        self._connections.add(connection)
        connection.start()
        log.debug("proxy %s: client connected to %s", self.name, self.upstream)


class _ClientEndpoint(Endpoint):
    """The accepted side: on connect, the proxy dials the upstream for it."""

    def __init__(self, proxy: Proxy) -> None:
        super().__init__()
        self._proxy = proxy
        self._dial: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._dial = asyncio.get_running_loop().create_task(self._proxy.dial(self))
