"""A proxy: a listener, its upstream, its toxics and the connections it is carrying.

Enabled means listening. Disabling closes the listener (new clients are refused)
and aborts every open connection, as Toxiproxy's "down" does; the toxics stay.
"""
from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from chaos.toxiproxy.addresses import AddressError, HostPort, bind_listener, format_sockname, parse_address
from chaos.toxiproxy.connection import Connection
from chaos.toxiproxy.errors import ApiError
from chaos.toxiproxy.toxic_collection import ToxicCollection

log = logging.getLogger("chaos.toxiproxy.proxy")
UPSTREAM_CONNECT_TIMEOUT_S = 30.0


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str, *, rng: random.Random, default_host: str) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.toxics = ToxicCollection()
        self._rng = rng
        self._default_host = default_host
        self._server: asyncio.Server | None = None
        self._connections: set[Connection] = set()
        self._dialing: set[asyncio.StreamWriter] = set()

    @property
    def enabled(self) -> bool:
        return self._server is not None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream, "enabled": self.enabled,
                "toxics": [entry.to_json() for entry in self.toxics.entries()]}

    async def start(self) -> None:
        """Listen; ``listen`` then shows the real address (the port chosen for port 0)."""
        if self._server is not None:
            return
        try:
            address = (parse_address(self.listen, field="listen", allow_empty_host=True, allow_port_zero=True)
                       if self.listen else HostPort("", 0))
            sock = await bind_listener(address, self._default_host)
        except (OSError, AddressError) as exc:
            raise ApiError(f"listen tcp {self.listen}: {exc}", 500) from None
        self._server = await asyncio.start_server(self._on_client, sock=sock)
        self.listen = format_sockname(sock.getsockname())
        log.info("Started proxy %s listen=%s upstream=%s", self.name, self.listen, self.upstream)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in list(self._dialing):
            writer.transport.abort()
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

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server = self._server
        self._dialing.add(writer)
        try:
            upstream = parse_address(self.upstream, field="upstream", allow_empty_host=False, allow_port_zero=False)
            dialled = await asyncio.wait_for(asyncio.open_connection(upstream.host, upstream.port),
                                             UPSTREAM_CONNECT_TIMEOUT_S)
        except (TimeoutError, OSError, AddressError) as exc:
            log.warning("proxy %s: unable to open connection to upstream %s: %s", self.name, self.upstream, exc)
            writer.transport.abort()
            return
        finally:
            self._dialing.discard(writer)
        if server is None or self._server is not server:
            dialled[1].transport.abort()
            writer.transport.abort()
            return
        connection = Connection((reader, writer), dialled, toxics=self.toxics, rng=self._rng,
                                on_closed=self._connections.discard)
        self._connections.add(connection)
        connection.start()
        log.debug("proxy %s: client %s connected to %s", self.name, writer.get_extra_info("peername"), self.upstream)
