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
from pathlib import Path

from aiohttp import web

from chaos.toxiproxy import VERSION
from chaos.toxiproxy.api import ApiRunner, build_app
from chaos.toxiproxy.collection import ProxyCollection
from chaos.toxiproxy.errors import ApiError
from chaos.toxiproxy.inputs import parse_json, parse_populate
from chaos.toxiproxy.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from chaos.toxiproxy.metrics import ProxyMetrics
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
    config_file: str | None = None
    """A JSON array of proxies (the body of ``POST /populate``) created at start, as Go's ``-config``."""
    proxy_metrics: bool = False
    runtime_metrics: bool = False


class ToxiproxyServer:
    def __init__(self, config: ServerConfig = ServerConfig()) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.proxies = ProxyCollection()
        self.lock = asyncio.Lock()
        self.port = config.port
        self.metrics = (ProxyMetrics(proxy=config.proxy_metrics, runtime=config.runtime_metrics)
                        if config.proxy_metrics or config.runtime_metrics else None)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"http://{host}:{self.port}"

    def new_proxy(self, name: str, listen: str, upstream: str) -> Proxy:
        """A proxy sharing the server's random source; an empty listen host means the API's interface."""
        return Proxy(name, listen, upstream, rng=self.rng, default_host=self.config.host, metrics=self.metrics)

    async def start(self) -> None:
        if self.config.config_file:
            await self.populate_config(self.config.config_file)
        access_log = logging.getLogger("chaos.toxiproxy.access") if self.config.access_log else None
        extra_routes = [web.get("/metrics", self._metrics)] if self.metrics is not None else []
        runner = ApiRunner(build_app(self, extra_routes=extra_routes), access_log=access_log,
                           shutdown_timeout=API_SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.config.host, self.config.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            self.proxies.clear()  # the config file's proxies must not outlive an API that failed to start
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        loop_kind = type(asyncio.get_running_loop()).__module__.split(".")[0]  # "asyncio" or "uvloop"
        log.info("Starting Toxiproxy-compatible HTTP server on %s (API %s, %s loop)", self.url, VERSION, loop_kind)

    async def populate_config(self, path: str) -> None:
        """Go's ``PopulateConfig``: a bad or missing file is logged and the server starts anyway."""
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            log.error("Error reading config file %s: %s", path, exc)
            return
        applied = 0
        async with self.lock:
            try:
                for item in parse_populate(parse_json(raw)):
                    proxy = self.new_proxy(item.name, item.listen, item.upstream)
                    await self.proxies.add_or_replace(proxy, start=item.enabled)
                    applied += 1
            except ApiError as exc:
                log.error("Failed to populate proxies from file %s: %s", path, exc.message)
                return
        log.info("Populated %d proxies from file %s", applied, path)

    async def _metrics(self, request: web.Request) -> web.Response:
        assert self.metrics is not None
        response = web.Response(body=self.metrics.render())
        response.headers["Content-Type"] = METRICS_CONTENT_TYPE
        return response

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
