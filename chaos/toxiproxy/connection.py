"""One client connection through a proxy: the client socket, the upstream socket, two links.

The connection is over when both links have finished, or at once when it is
aborted (proxy disabled or deleted) or reset (reset_peer); either way every task
it started is cancelled and it leaves its proxy's books.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct
from collections.abc import Callable

from chaos.toxiproxy.link import Link
from chaos.toxiproxy.stream import Stream
from chaos.toxiproxy.toxic_collection import ToxicCollection

log = logging.getLogger("chaos.toxiproxy.connection")
_LINGER_ZERO = struct.pack("ii", 1, 0)


class Connection:
    def __init__(self, client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                 upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter], *,
                 toxics: ToxicCollection, rng: random.Random,
                 on_closed: Callable[[Connection], None]) -> None:
        self._client = client[1]
        self._upstream = upstream[1]
        self._toxics = toxics
        self._on_closed = on_closed
        self._closed = False
        self.upstream_link = Link(Stream.UPSTREAM, client[0], upstream[1], rng=rng, owner=self)
        self.downstream_link = Link(Stream.DOWNSTREAM, upstream[0], client[1], rng=rng, owner=self)

    def start(self) -> None:
        for link in (self.upstream_link, self.downstream_link):
            self._toxics.attach(link)
            link.start()

    def link_finished(self, link: Link) -> None:
        if self.upstream_link.finished and self.downstream_link.finished:
            self._finish()

    def reset(self) -> None:
        """Both peers see "connection reset by peer": SO_LINGER 0, then close."""
        for writer in (self._client, self._upstream):
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
        self.abort()

    def abort(self) -> None:
        """Close both sockets now, dropping whatever is still in the links."""
        for writer in (self._client, self._upstream):
            writer.transport.abort()
        self._finish()

    def _finish(self) -> None:
        if self._closed:
            return
        self._closed = True
        for link in (self.upstream_link, self.downstream_link):
            self._toxics.detach(link)
            link.cancel()
        self._on_closed(self)
