"""What the Toxiproxy-compatible proxy costs: direct, through the proxy with no toxic, and with a ``noop`` toxic.

Runs the proxy as its own process (as the compose service runs it), and the
upstreams (an echo, a bulk source, a bulk sink) on threads of this process, and
measures the paths side by side in one run: direct; the proxy with no toxic
(spliced in the kernel where it can, ``chaos/toxiproxy/splice.py``); the same in
a second proxy process with splicing off (``CHAOS_TOXIPROXY_SPLICE=0``: the
protocol fast path, which is what the proxy did before splicing, and what it
does on uvloop); and a ``noop`` toxic on both streams (the toxic pipeline):

- round trips of 64-byte exchanges on one connection: p50, p99, p99.9;
- throughput of one large download (upstream -> client) and one large upload
  (client -> upstream), in MB/s, best of the rounds;
- the CPU those transfers cost, in seconds per GB moved: the proxy process's, and
  the total with this process's (client and upstreams). Unlike MB/s on a shared
  machine, it hardly moves with load from elsewhere;

the three paths take turns, round after round, so load from elsewhere falls on all alike;
- the targets of issue 18: added median round trip at most 2.5x direct's round
  trip, p99 at most 10x direct's p99, throughput at least 0.5x direct both ways.

Usage: ``python benchmarks/toxiproxy_overhead.py [--exchanges N] [--megabytes M] [--rounds R]`` (about 30 s).
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
MESSAGE = b"x" * 64
START_TIMEOUT_S = 20.0
IO_TIMEOUT_S = 30.0


class Upstreams:
    """An echo, a bulk source (send 8-byte size, receive that many bytes) and a bulk sink
    (send 8-byte size then the bytes, receive one byte once all arrived), on threads."""

    def __init__(self) -> None:
        self._listeners = [socket.create_server(("127.0.0.1", 0)) for _ in range(3)]
        self.echo_port, self.source_port, self.sink_port = (item.getsockname()[1] for item in self._listeners)
        self._payload = memoryview(b"\0" * (1 << 20))
        for listener, serve in zip(self._listeners, (self._echo, self._source, self._sink), strict=True):
            threading.Thread(target=self._accept, args=(listener, serve), daemon=True).start()

    def close(self) -> None:
        for listener in self._listeners:
            listener.close()

    @staticmethod
    def _accept(listener: socket.socket, serve: Callable[[socket.socket], None]) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    def _source(self, conn: socket.socket) -> None:
        with conn:
            while len(header := _recv_exactly(conn, 8)) == 8:
                remaining = struct.unpack(">Q", header)[0]
                while remaining > 0:
                    remaining -= conn.send(self._payload[:min(remaining, len(self._payload))])

    @staticmethod
    def _sink(conn: socket.socket) -> None:
        buffer = bytearray(1 << 20)
        with conn:
            while len(header := _recv_exactly(conn, 8)) == 8:
                remaining = struct.unpack(">Q", header)[0]
                while remaining > 0:
                    got = conn.recv_into(buffer, min(remaining, len(buffer)))
                    if not got:
                        return
                    remaining -= got
                conn.sendall(b"!")


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data.extend(chunk)
    return bytes(data)


@dataclass(frozen=True)
class ProxyProcess:
    url: str
    pid: int


@contextmanager
def proxy_process(loop: str = "auto", *, splice: bool = True) -> Iterator[ProxyProcess]:
    """``python -m chaos.toxiproxy`` on a free port; yields it once it has logged that it serves."""
    env = {**os.environ, "CHAOS_TOXIPROXY_SPLICE": "1" if splice else "0"}
    process = subprocess.Popen([sys.executable, "-m", "chaos.toxiproxy", "--port", "0", "--loop", loop], cwd=REPO,
                               text=True, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield ProxyProcess(_await_url(process), process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _await_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and selector.select(timeout=deadline - time.monotonic()):
        line = process.stdout.readline()
        if not line:
            break
        if match := re.search(r"server on (http://\S+)", line):
            return match.group(1)
    raise RuntimeError("the proxy process did not start")


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def round_trips(port: int, count: int, warmup: int) -> list[float]:
    """Seconds per small exchange on one connection, after a warm-up."""
    samples = []
    with connect(port) as sock:
        for index in range(warmup + count):
            started = time.perf_counter()
            sock.sendall(MESSAGE)
            if len(_recv_exactly(sock, len(MESSAGE))) != len(MESSAGE):
                raise RuntimeError("echo closed early")
            if index >= warmup:
                samples.append(time.perf_counter() - started)
    return samples


def download_mb_per_s(port: int, size: int) -> float:
    buffer = bytearray(1 << 20)
    with connect(port) as sock:
        started = time.perf_counter()
        sock.sendall(struct.pack(">Q", size))
        received = 0
        while received < size:
            got = sock.recv_into(buffer)
            if not got:
                raise RuntimeError("source closed early")
            received += got
        return size / (time.perf_counter() - started) / 1e6


def upload_mb_per_s(port: int, size: int) -> float:
    payload = memoryview(b"\0" * (1 << 20))
    with connect(port) as sock:
        started = time.perf_counter()
        sock.sendall(struct.pack(">Q", size))
        remaining = size
        while remaining > 0:
            remaining -= sock.send(payload[:min(remaining, len(payload))])
        if sock.recv(1) != b"!":
            raise RuntimeError("sink closed early")
        return size / (time.perf_counter() - started) / 1e6


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def process_cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``); this process's for ``None``."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class BenchPath:
    label: str
    echo: int
    source: int
    sink: int
    pid: int | None
    """The proxy process serving this path (``None``: direct)."""


@dataclass
class PathResult:
    label: str
    rtt: list[float]
    download: float
    upload: float
    moved_bytes: int = 0
    proxy_cpu_s: float = 0.0
    own_cpu_s: float = 0.0

    def p(self, fraction: float) -> float:
        return percentile(self.rtt, fraction) * 1e6

    def cpu_s_per_gb(self, seconds: float) -> float:
        return seconds / (self.moved_bytes / 1e9)


def create_proxy(url: str, name: str, upstream_port: int, *, noop: bool) -> int:
    response = requests.post(url + "/proxies", json={"name": name, "upstream": f"127.0.0.1:{upstream_port}",
                                                     "listen": "127.0.0.1:0"}, timeout=5)
    response.raise_for_status()
    if noop:
        for stream in ("upstream", "downstream"):
            requests.post(url + f"/proxies/{name}/toxics", json={"type": "noop", "stream": stream},
                          timeout=5).raise_for_status()
    return int(response.json()["listen"].rpartition(":")[2])


def measure(paths: list[BenchPath], exchanges: int, size: int, rounds: int) -> list[PathResult]:
    """The paths take turns, round after round, so a burst of load from elsewhere on the machine
    falls on all of them alike instead of on whichever ran at that moment."""
    results = {path.label: PathResult(path.label, [], 0.0, 0.0) for path in paths}
    for _ in range(rounds):
        for path in paths:
            result = results[path.label]
            result.rtt += round_trips(path.echo, exchanges // rounds, warmup=100)
            proxy_cpu, own_cpu = process_cpu_s(path.pid) if path.pid else 0.0, process_cpu_s(None)
            result.download = max(result.download, download_mb_per_s(path.source, size))
            result.upload = max(result.upload, upload_mb_per_s(path.sink, size))
            result.moved_bytes += 2 * size
            result.proxy_cpu_s += (process_cpu_s(path.pid) if path.pid else 0.0) - proxy_cpu
            result.own_cpu_s += process_cpu_s(None) - own_cpu
    return list(results.values())


def proxied(label: str, proxy: ProxyProcess, ports: tuple[int, int, int], *, noop: bool) -> BenchPath:
    echo, source, sink = (create_proxy(proxy.url, f"{kind}{'_noop' if noop else ''}", port, noop=noop)
                          for kind, port in zip(("echo", "source", "sink"), ports, strict=True))
    return BenchPath(label, echo, source, sink, proxy.pid)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=5000)
    parser.add_argument("--megabytes", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="asyncio",
                        help="the proxy's event loop (default: asyncio, the one the runtime image runs)")
    args = parser.parse_args(argv)
    size = args.megabytes << 20
    upstreams = Upstreams()
    ports = (upstreams.echo_port, upstreams.source_port, upstreams.sink_port)
    try:
        with proxy_process(args.loop) as proxy, proxy_process(args.loop, splice=False) as unspliced:
            paths = [BenchPath("direct", *ports, pid=None), proxied("proxy", proxy, ports, noop=False),
                     proxied("no splice", unspliced, ports, noop=False),
                     proxied("proxy+noop", proxy, ports, noop=True)]
            results = measure(paths, args.exchanges, size, args.rounds)
    finally:
        upstreams.close()

    direct = results[0]
    print(f"the proxy on the {args.loop} event loop")
    print(f"round trip, {len(MESSAGE)}-byte exchanges x {args.exchanges} (one connection per round, TCP_NODELAY); "
          f"throughput, one {args.megabytes} MiB transfer each way per round (best of {args.rounds} rounds)")
    print(f"  {'':11} {'p50 µs':>8} {'p99 µs':>8} {'p99.9 µs':>9} {'down MB/s':>10} {'up MB/s':>9}"
          f" {'added p50/direct p50':>21} {'p99/direct p99':>15} {'p99.9/direct':>13} {'down/direct':>12}"
          f" {'up/direct':>10} {'proxy CPU s/GB':>15} {'total CPU s/GB':>15}")
    for result in results:
        added = (result.p(0.5) - direct.p(0.5)) / direct.p(0.5)
        print(f"  {result.label:11} {result.p(0.5):8.0f} {result.p(0.99):8.0f} {result.p(0.999):9.0f}"
              f" {result.download:10.0f} {result.upload:9.0f} {added:20.2f}x {result.p(0.99) / direct.p(0.99):14.2f}x"
              f" {result.p(0.999) / direct.p(0.999):12.2f}x"
              f" {result.download / direct.download:11.2f}x {result.upload / direct.upload:9.2f}x"
              f" {result.cpu_s_per_gb(result.proxy_cpu_s):15.3f}"
              f" {result.cpu_s_per_gb(result.proxy_cpu_s + result.own_cpu_s):15.3f}")
    print("  targets: added p50 <= 2.5x direct p50; p99 <= 10x direct p99; throughput >= 0.5x direct both ways")


if __name__ == "__main__":
    main()
