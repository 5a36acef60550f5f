"""The server object: the only place state lives (proxies, the API site, the seeded random source).

Start and close are explicit so the three ways of running it (command line,
compose service, a test's background thread) share one lifecycle: close stops
every proxy first, so no connection outlives the API that could have healed it.
"""
from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass

from aiohttp import web

from chaos.toxiproxy import VERSION
from chaos.toxiproxy.api import build_app
from chaos.toxiproxy.collection import ProxyCollection
from chaos.toxiproxy.proxy import Proxy

log = logging.getLogger("chaos.toxiproxy")
API_SHUTDOWN_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8474
    seed: int | None = None
    """Seeds toxicity rolls, jitter and slicing, so a run can be replayed."""
    access_log: bool = False


class ToxiproxyServer:
    def __init__(self, config: ServerConfig = ServerConfig()) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.proxies = ProxyCollection()
        self.lock = asyncio.Lock()
        self.port = config.port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"http://{host}:{self.port}"

    def new_proxy(self, name: str, listen: str, upstream: str) -> Proxy:
        """A proxy sharing the server's random source; an empty listen host means the API's interface."""
        return Proxy(name, listen, upstream, rng=self.rng, default_host=self.config.host)

    async def start(self) -> None:
        access_log = logging.getLogger("chaos.toxiproxy.access") if self.config.access_log else None
        runner = web.AppRunner(build_app(self), access_log=access_log, shutdown_timeout=API_SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.config.host, self.config.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        log.info("Starting Toxiproxy-compatible HTTP server on %s (API %s)", self.url, VERSION)

    async def close(self) -> None:
        async with self.lock:
            self.proxies.clear()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        log.info("Toxiproxy-compatible server stopped")


async def serve_until(stop: asyncio.Event, config: ServerConfig) -> None:
    """Run a server until ``stop`` is set, then close it: the one lifecycle every runner uses."""
    server = ToxiproxyServer(config)
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.close()
