"""Instance URLs of an already-running target must be on this machine.

The suite puts Toxiproxy links in front of them and faults those links; a
URL on another machine would fault traffic the suite does not own (the same
reason the cluster refuses a remote Docker engine without
``--chaos-allow-remote``).
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def url_problem(url: object) -> str | None:
    """Why ``url`` cannot be an instance URL, or None when it can."""
    if not isinstance(url, str):
        return f"{url!r} is not a URL; write http://127.0.0.1:PORT"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"{url!r} is not a URL ({exc}); write http://127.0.0.1:PORT"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL; write http://127.0.0.1:PORT"
    if port is None:
        return f"{url!r} has no port; write http://127.0.0.1:PORT (the link needs one to forward to)"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return f"{url!r} has a path or query; give the instance's base URL, routes come from the profile"
    if not is_loopback(parts.hostname):
        return (f"{parts.hostname!r} is not on this machine; instances must be on loopback "
                "(127.0.0.0/8, ::1, localhost) so the suite faults only its own links")
    return None


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
