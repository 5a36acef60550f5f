"""The server's proxies by name; it guards the one rule across proxies: names are unique."""
from __future__ import annotations

from chaos.toxiproxy.errors import PROXY_ALREADY_EXISTS, PROXY_NOT_FOUND
from chaos.toxiproxy.proxy import Proxy


class ProxyCollection:
    def __init__(self) -> None:
        self._proxies: dict[str, Proxy] = {}

    def all(self) -> list[Proxy]:
        return list(self._proxies.values())

    def get(self, name: str) -> Proxy:
        try:
            return self._proxies[name]
        except KeyError:
            raise PROXY_NOT_FOUND() from None

    async def add(self, proxy: Proxy, *, start: bool) -> None:
        if proxy.name in self._proxies:
            raise PROXY_ALREADY_EXISTS()
        if start:
            await proxy.start()
        self._proxies[proxy.name] = proxy

    async def add_or_replace(self, proxy: Proxy, *, start: bool) -> Proxy:
        """Populate's rule: an existing proxy with the same listen and upstream is kept as it is."""
        existing = self._proxies.get(proxy.name)
        if existing is not None:
            if existing.listen == proxy.listen and existing.upstream == proxy.upstream:
                return existing
            self.remove(existing.name)
        await self.add(proxy, start=start)
        return proxy

    def remove(self, name: str) -> None:
        proxy = self.get(name)
        proxy.stop()
        del self._proxies[name]

    def clear(self) -> None:
        for name in list(self._proxies):
            self.remove(name)
