"""The server in a background thread with its own event loop, for tests and benchmarks.

Readiness has one mechanism: the thread reports the bound port (or the error
that stopped it) through a ``threading.Event``. Leaving the context stops the
server and joins the thread, also when the body raised.

    >>> with running_server() as toxiproxy:
    ...     requests.get(toxiproxy.url + "/version").json()["version"]
"""
from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from chaos.toxiproxy.server import ServerConfig, ToxiproxyServer

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RunningServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class _ServerThread(threading.Thread):
    def __init__(self, config: ServerConfig, loop_factory: Callable[[], asyncio.AbstractEventLoop] | None) -> None:
        super().__init__(name=f"toxiproxy-{config.host}", daemon=True)
        self.config = config
        self._loop_factory = loop_factory
        self.ready = threading.Event()
        self.port: int | None = None
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None

    def run(self) -> None:
        try:
            with asyncio.Runner(loop_factory=self._loop_factory) as runner:
                runner.run(self._serve())
        except BaseException as exc:  # reported to the starting thread, which re-raises it
            self.error = exc
        finally:
            self.ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        server = ToxiproxyServer(self.config)
        await server.start()
        self.port = server.port
        self.ready.set()
        try:
            await self._stop_requested.wait()
        finally:
            await server.close()

    def stop(self) -> None:
        if self._loop is not None and self._stop_requested is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._stop_requested.set)
        self.join(STOP_TIMEOUT_S)


@contextmanager
def running_server(host: str = "127.0.0.1", *, seed: int | None = None, loop: str = "asyncio",
                   **options: Any) -> Iterator[RunningServer]:
    """A Toxiproxy-compatible server on an ephemeral port of ``host``, for the duration of the block.

    ``loop`` is ``"asyncio"`` or ``"uvloop"`` (what ``python -m chaos.toxiproxy`` runs when it is installed);
    ``options`` are further ``ServerConfig`` fields (``config_file``, ``proxy_metrics``...).
    """
    factory = None
    if loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    thread = _ServerThread(ServerConfig(host=host, port=0, seed=seed, **options), factory)
    thread.start()
    try:
        if not thread.ready.wait(START_TIMEOUT_S):
            raise TimeoutError(f"toxiproxy server did not start within {START_TIMEOUT_S} s")
        if thread.error is not None or thread.port is None:
            raise RuntimeError("toxiproxy server failed to start") from thread.error
        yield RunningServer(host=host, port=thread.port)
    finally:
        thread.stop()
