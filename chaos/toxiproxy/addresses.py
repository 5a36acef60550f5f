"""``host:port`` strings as Toxiproxy accepts them, and the listening socket behind a proxy.

Addresses are checked for shape when a proxy is created, so a typo is a 400
naming the field instead of a proxy that silently never works; upstream host
names are resolved only when a client connects, because in a compose network
the upstream may not exist yet.
"""
from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import re
import socket
from dataclasses import dataclass

_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
LISTEN_BACKLOG = 128


class AddressError(ValueError):
    """A listen or upstream address that is not ``host:port``."""


class ListenError(OSError):
    """A listen address that cannot be bound, worded as Go's ``net.Listen`` error (clients match on it)."""


@dataclass(frozen=True)
class HostPort:
    host: str
    port: int


def parse_address(value: str, *, field: str, allow_empty_host: bool, allow_port_zero: bool) -> HostPort:
    """Split ``host:port`` (``[v6]:port`` for IPv6) and check both halves.

    The field name is part of every message because the API hands it back verbatim.
    """
    host, sep, port_text = value.rpartition(":")
    if not sep:
        raise AddressError(f"{field}: missing port in address {value!r}")
    if not port_text.isascii() or not port_text.isdigit():
        raise AddressError(f"{field}: invalid port {port_text!r} in address {value!r}")
    port = int(port_text)
    lowest = 0 if allow_port_zero else 1
    if not lowest <= port <= 65535:
        raise AddressError(f"{field}: port {port} out of range [{lowest}, 65535] in address {value!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise AddressError(f"{field}: invalid IPv6 host {host!r} in address {value!r}") from None
    elif host == "":
        if not allow_empty_host:
            raise AddressError(f"{field}: missing host in address {value!r}")
    elif not _HOSTNAME.match(host):
        raise AddressError(f"{field}: invalid host {host!r} in address {value!r}")
    return HostPort(host, port)


def format_sockname(sockname: tuple[object, ...]) -> str:
    """``ip:port`` as Go's ``Addr().String()`` prints it, brackets for IPv6."""
    host, port = str(sockname[0]), int(str(sockname[1]))
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def bind_listener(address: HostPort, default_host: str) -> socket.socket:
    """One bound, listening, non-blocking socket for a proxy.

    One socket rather than one per resolved address (as ``asyncio.start_server``
    would make for ``localhost``) so the proxy's ``listen`` is a single address,
    like Toxiproxy's. A listen address without a host binds ``default_host``
    (the API's own interface) instead of every interface.
    """
    host = address.host or default_host
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, address.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError:
        infos = []
    if not infos:
        raise ListenError(f"listen tcp: lookup {host}: no such host")
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(sockaddr)
        except OSError as exc:
            reason = os.strerror(exc.errno or errno.EINVAL).lower()
            raise ListenError(f"listen tcp {format_sockname(sockaddr)}: bind: {reason}") from None
        sock.listen(LISTEN_BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock
