"""One client connection through a proxy: the client socket, the upstream socket, two links.

The connection is over when both links have finished, or at once when it is
aborted (proxy disabled or deleted) or reset (reset_peer); either way every task
it started is cancelled and it leaves its proxy's books.
"""
from __future__ import annotations

import contextlib
import logging
import random
import socket
import struct
from collections.abc import Callable

from chaos.toxiproxy.endpoint import Endpoint
from chaos.toxiproxy.link import ByteMeter, Link
from chaos.toxiproxy.stream import Stream
from chaos.toxiproxy.toxic_collection import ToxicCollection

log = logging.getLogger("chaos.toxiproxy.connection")
_LINGER_ZERO = struct.pack("ii", 1, 0)


class Connection:
    def __init__(self, client: Endpoint, upstream: Endpoint, *, toxics: ToxicCollection, rng: random.Random,
                 on_closed: Callable[[Connection], None],
                 meters: Callable[[Stream], ByteMeter | None] = lambda stream: None) -> None:
        self._client = client
        self._upstream = upstream
        self._toxics = toxics
        self._on_closed = on_closed
        self._closed = False
        self.upstream_link = Link(Stream.UPSTREAM, client, upstream, rng=rng, owner=self,
                                  meter=meters(Stream.UPSTREAM))
        self.downstream_link = Link(Stream.DOWNSTREAM, upstream, client, rng=rng, owner=self,
                                    meter=meters(Stream.DOWNSTREAM))

    def start(self) -> None:
        """Chains first, then reading: no byte can arrive before the link has its toxics."""
        for link in (self.upstream_link, self.downstream_link):
            self._toxics.attach(link)
            link.start()
        self._client.attach(reader=self.upstream_link, writer=self.downstream_link)
        self._upstream.attach(reader=self.downstream_link, writer=self.upstream_link)
        for link in (self.upstream_link, self.downstream_link):
            link.enable_splice()

    def link_finished(self, link: Link) -> None:
        if self.upstream_link.finished and self.downstream_link.finished:
            self._finish()

    def reset(self) -> None:
        """Both peers see "connection reset by peer": SO_LINGER 0, then close."""
        for endpoint in (self._client, self._upstream):
            sock = endpoint.transport.get_extra_info("socket") if endpoint.transport is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
        self.abort()

    def abort(self) -> None:
        """Close both sockets now, dropping whatever is still in the links."""
        for endpoint in (self._client, self._upstream):
            endpoint.abort()
        self._finish()

    def _finish(self) -> None:
        if self._closed:
            return
        self._closed = True
        for link in (self.upstream_link, self.downstream_link):
            self._toxics.detach(link)
            link.cancel()
        self._on_closed(self)
