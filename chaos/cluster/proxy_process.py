"""Our fault proxy (chaos.toxiproxy) as a child process on this machine, for an already-running target.

A containerised target gets its fault proxy as a container that ``remove``
takes away by label. A process has no label, so its life is bounded three
ways: ``stop`` terminates it (then kills it), it exits by itself when the
process that started it is gone (a killed pytest leaves no proxy behind),
and it exits after ``max_lifetime_s`` whatever happens.

    python -m chaos.cluster.proxy_process --port 0 --parent PID --max-lifetime-s 7200

prints ``listening <port>`` once the API answers: readiness has one mechanism,
that line.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import IO

from chaos.provision.errors import ProvisionError
from chaos.toxiproxy.server import ServerConfig, ToxiproxyServer

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0
MAX_LIFETIME_S = 6 * 3600.0   # longer than any run; a forgotten proxy still ends
PARENT_POLL_S = 1.0


class ProxyProcessError(ProvisionError):
    """The fault proxy did not start; the message carries its last words (one line, as every chaos error)."""


@dataclass
class ProxyProcess:
    """A started fault proxy: its API URL; ``stop`` ends it (idempotent)."""

    process: subprocess.Popen[str]
    port: int
    host: str = "127.0.0.1"
    log: IO[bytes] | None = None   # its stderr: a file, never a pipe nobody reads (a full pipe would stall it)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_S)
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self.log is not None:
            self.log.close()

    def output(self) -> str:
        """What it wrote on stderr (the last lines), for an error message."""
        if self.log is None or self.log.closed:
            return ""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-1000:]


def start_proxy(host: str = "127.0.0.1", *, seed: int | None = None,
                max_lifetime_s: float = MAX_LIFETIME_S) -> ProxyProcess:
    """Start the fault proxy on an ephemeral port of ``host``; return once its API listens."""
    argv = [sys.executable, "-m", "chaos.cluster.proxy_process", "--host", host, "--port", "0",
            "--parent", str(os.getpid()), "--max-lifetime-s", str(max_lifetime_s)]
    argv += ["--seed", str(seed)] if seed is not None else []
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, text=True)
    assert process.stdout is not None
    started = ProxyProcess(process, 0, host, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = process.stdout.readline()   # the child prints its port once, or dies (EOF)
        if not line:
            break
        if line.startswith("listening "):
            started.port = int(line.split()[1])
            return started
    try:
        code: int | None = process.wait(STOP_TIMEOUT_S)   # its stdout closed: it is exiting (or it hangs)
    except subprocess.TimeoutExpired:
        code = None
    last = (started.output().strip().splitlines() or ["nothing"])[-1]
    started.stop()
    how = f"exited {code}" if code is not None else f"did not listen within {START_TIMEOUT_S:.0f} s"
    raise ProxyProcessError(f"the fault proxy for the running target {how} on {host}: {last}")


async def _serve(config: ServerConfig, parent: int, max_lifetime_s: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = ToxiproxyServer(config)
    await server.start()
    print(f"listening {server.port}", flush=True)
    deadline = time.monotonic() + max_lifetime_s
    try:
        while not stop.is_set() and time.monotonic() < deadline and os.getppid() == parent:
            try:
                await asyncio.wait_for(stop.wait(), PARENT_POLL_S)
            except asyncio.TimeoutError:
                pass
    finally:
        await server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chaos.cluster.proxy_process",
                                     description="the fault proxy for an already-running target, bounded in life")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--parent", type=int, required=True, help="exit when this process is gone")
    parser.add_argument("--max-lifetime-s", type=float, default=MAX_LIFETIME_S)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    asyncio.run(_serve(ServerConfig(host=args.host, port=args.port, seed=args.seed), args.parent,
                       args.max_lifetime_s))


if __name__ == "__main__":
    main()
