"""A small typed client of the Toxiproxy HTTP API, for what toxiproxy-python 0.1.1 lacks.

toxiproxy-python 0.1.1 has no request timeouts (a hung server hangs the test),
cannot update a toxic, hides error messages, and keeps its server address in
class attributes. This client does each call with a timeout and raises
``ToxiproxyError`` naming the call, the status and the server's message.
It works against this server and against the official one.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal, TypedDict, cast
from urllib.parse import quote

import requests

DEFAULT_URL = "http://127.0.0.1:8474"
DEFAULT_TIMEOUT_S = 5.0
StreamName = Literal["upstream", "downstream"]


class ToxicInfo(TypedDict):
    name: str
    type: str
    stream: StreamName
    toxicity: float
    attributes: dict[str, int]


class ProxyInfo(TypedDict):
    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: list[ToxicInfo]


class ProxyConfig(TypedDict, total=False):
    name: str
    listen: str
    upstream: str
    enabled: bool


class ToxiproxyError(Exception):
    """A 4xx/5xx from the API; ``status`` and ``message`` are the server's."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"{method} {path} -> {status}: {message}")
        self.method = method
        self.path = path
        self.status = status
        self.message = message


class ToxiproxyClient:
    def __init__(self, url: str = DEFAULT_URL, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 session: requests.Session | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.session = session or requests.Session()

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> ToxiproxyClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # server

    def version(self) -> str:
        response = self._request("GET", "/version")
        try:
            return str(response.json()["version"])
        except (ValueError, KeyError, TypeError):
            return response.text.strip()  # Toxiproxy before 2.7 answered plain text

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        self._request("POST", "/reset")

    # proxies

    def proxies(self) -> dict[str, ProxyInfo]:
        return cast(dict[str, ProxyInfo], self._request("GET", "/proxies").json())

    def proxy(self, name: str) -> ProxyInfo:
        return cast(ProxyInfo, self._request("GET", _path("proxies", name)).json())

    def create_proxy(self, name: str, upstream: str, listen: str = "127.0.0.1:0", *,
                     enabled: bool = True) -> ProxyInfo:
        body = {"name": name, "upstream": upstream, "listen": listen, "enabled": enabled}
        return cast(ProxyInfo, self._request("POST", "/proxies", json=body).json())

    def update_proxy(self, name: str, *, listen: str | None = None, upstream: str | None = None,
                     enabled: bool | None = None) -> ProxyInfo:
        body = {key: value for key, value in (("listen", listen), ("upstream", upstream), ("enabled", enabled))
                if value is not None}
        return cast(ProxyInfo, self._request("POST", _path("proxies", name), json=body).json())

    def disable(self, name: str) -> ProxyInfo:
        return self.update_proxy(name, enabled=False)

    def enable(self, name: str) -> ProxyInfo:
        return self.update_proxy(name, enabled=True)

    def delete_proxy(self, name: str) -> None:
        self._request("DELETE", _path("proxies", name))

    def populate(self, proxies: Iterable[ProxyConfig]) -> list[ProxyInfo]:
        """Create or replace proxies in one call (kept when listen and upstream already match)."""
        response = self._request("POST", "/populate", json=list(proxies))
        return cast(list[ProxyInfo], response.json()["proxies"] or [])  # Go answers null for none

    # toxics

    def toxics(self, proxy: str) -> list[ToxicInfo]:
        return cast(list[ToxicInfo], self._request("GET", _path("proxies", proxy, "toxics")).json())

    def toxic(self, proxy: str, name: str) -> ToxicInfo:
        return cast(ToxicInfo, self._request("GET", _path("proxies", proxy, "toxics", name)).json())

    def add_toxic(self, proxy: str, type: str, *, name: str | None = None, stream: StreamName = "downstream",
                  toxicity: float = 1.0, attributes: Mapping[str, int] | None = None) -> ToxicInfo:
        body: dict[str, Any] = {"type": type, "stream": stream, "toxicity": toxicity,
                                "attributes": dict(attributes or {})}
        if name is not None:
            body["name"] = name
        return cast(ToxicInfo, self._request("POST", _path("proxies", proxy, "toxics"), json=body).json())

    def update_toxic(self, proxy: str, name: str, *, attributes: Mapping[str, int] | None = None,
                     toxicity: float | None = None) -> ToxicInfo:
        """Change a toxic on live connections; attributes not given keep their values."""
        body: dict[str, Any] = {}
        if attributes is not None:
            body["attributes"] = dict(attributes)
        if toxicity is not None:
            body["toxicity"] = toxicity
        return cast(ToxicInfo, self._request("POST", _path("proxies", proxy, "toxics", name), json=body).json())

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._request("DELETE", _path("proxies", proxy, "toxics", name))

    @contextmanager
    def toxic_applied(self, proxy: str, type: str, **options: Any) -> Iterator[ToxicInfo]:
        """A toxic for the duration of a block, removed even when the block raises."""
        toxic = self.add_toxic(proxy, type, **options)
        try:
            yield toxic
        finally:
            self.remove_toxic(proxy, toxic["name"])

    def _request(self, method: str, path: str, *, json: Any = None) -> requests.Response:
        response = self.session.request(method, self.url + path, json=json, timeout=self.timeout_s)
        if response.status_code >= 400:
            raise ToxiproxyError(method, path, response.status_code, _error_message(response))
        return response


def _path(*parts: str) -> str:
    """Names are quoted whole, so a proxy called ``a/b`` cannot address another route."""
    return "".join("/" + quote(part, safe="") for part in parts)


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return response.text.strip()
