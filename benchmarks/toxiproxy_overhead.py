"""What the Toxiproxy-compatible proxy costs, and how exactly its latency toxic delays.

Runs the proxy as its own process (as the compose service runs it), an echo and
a bulk-source upstream in this process, and measures side by side in one run:

- round trip of small request/response exchanges (p50, p99), direct vs proxied;
- throughput of one large download (MB/s), direct vs proxied;
- the latency toxic's accuracy: asked vs measured extra delay, for 50 ms and 200 ms.

Usage: ``python benchmarks/toxiproxy_overhead.py`` (about 15 s; bounded).
"""
from __future__ import annotations

import re
import selectors
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
EXCHANGES = 2000
WARMUP = 200
MESSAGE = b"x" * 64
DOWNLOAD_BYTES = 256 * 1024 * 1024
LATENCY_SAMPLES = {50: 20, 200: 8}
START_TIMEOUT_S = 20.0
IO_TIMEOUT_S = 10.0


class Upstreams:
    """An echo port and a bulk-source port (send 8-byte size, receive that many bytes), on threads."""

    def __init__(self) -> None:
        self._listeners = [socket.create_server(("127.0.0.1", 0)) for _ in range(2)]
        self.echo_port, self.source_port = (listener.getsockname()[1] for listener in self._listeners)
        self._payload = memoryview(b"\0" * (1 << 20))
        for listener, serve in zip(self._listeners, (self._echo, self._source), strict=True):
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
            while (header := _recv_exactly(conn, 8)) and len(header) == 8:
                remaining = struct.unpack(">Q", header)[0]
                while remaining > 0:
                    sent = conn.send(self._payload[:min(remaining, len(self._payload))])
                    remaining -= sent


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data.extend(chunk)
    return bytes(data)


@contextmanager
def proxy_process() -> Iterator[str]:
    """``python -m chaos.toxiproxy`` on a free port; yields its URL once it has logged that it serves."""
    process = subprocess.Popen([sys.executable, "-m", "chaos.toxiproxy", "--port", "0"], cwd=REPO, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield _await_url(process)
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


def round_trips(port: int, count: int, warmup: int = WARMUP) -> list[float]:
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


def download_mb_per_s(port: int, size: int = DOWNLOAD_BYTES) -> float:
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


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def create_proxy(url: str, name: str, upstream_port: int) -> int:
    response = requests.post(url + "/proxies", json={"name": name, "upstream": f"127.0.0.1:{upstream_port}",
                                                     "listen": "127.0.0.1:0"}, timeout=5)
    response.raise_for_status()
    return int(response.json()["listen"].rpartition(":")[2])


def main() -> None:
    upstreams = Upstreams()
    try:
        with proxy_process() as url:
            echo_proxy = create_proxy(url, "echo", upstreams.echo_port)
            source_proxy = create_proxy(url, "source", upstreams.source_port)

            direct_rtt = round_trips(upstreams.echo_port, EXCHANGES)
            proxied_rtt = round_trips(echo_proxy, EXCHANGES)
            direct_mbps = max(download_mb_per_s(upstreams.source_port) for _ in range(2))
            proxied_mbps = max(download_mb_per_s(source_proxy) for _ in range(2))

            accuracy = []
            for asked_ms, count in LATENCY_SAMPLES.items():
                requests.post(url + "/proxies/echo/toxics", json={"type": "latency", "name": "lag",
                                                                  "attributes": {"latency": asked_ms}},
                              timeout=5).raise_for_status()
                measured = round_trips(echo_proxy, count, warmup=1)
                requests.delete(url + "/proxies/echo/toxics/lag", timeout=5).raise_for_status()
                accuracy.append((asked_ms, measured))
    finally:
        upstreams.close()

    base_p50 = statistics.median(proxied_rtt)
    print(f"round trip, {len(MESSAGE)}-byte exchanges x {EXCHANGES} (one connection, TCP_NODELAY)")
    print(f"  {'':10} {'p50 µs':>10} {'p99 µs':>10}")
    for label, samples in (("direct", direct_rtt), ("proxied", proxied_rtt)):
        print(f"  {label:10} {statistics.median(samples) * 1e6:10.0f} {percentile(samples, 0.99) * 1e6:10.0f}")
    print(f"  added by the proxy: p50 {(base_p50 - statistics.median(direct_rtt)) * 1e6:.0f} µs, "
          f"p99 {(percentile(proxied_rtt, 0.99) - percentile(direct_rtt, 0.99)) * 1e6:.0f} µs; "
          f"ratio proxied/direct p50 {base_p50 / statistics.median(direct_rtt):.2f}x")
    print(f"throughput, one {DOWNLOAD_BYTES >> 20} MiB download (best of 2)")
    print(f"  direct {direct_mbps:8.0f} MB/s   proxied {proxied_mbps:8.0f} MB/s   "
          f"ratio proxied/direct {proxied_mbps / direct_mbps:.2f}x")
    print("latency toxic (downstream), extra delay over the proxied p50 round trip")
    for asked_ms, measured in accuracy:
        extra = [(sample - base_p50) * 1e3 for sample in measured]
        print(f"  asked {asked_ms:4d} ms   measured median {statistics.median(extra):7.2f} ms   "
              f"max {max(extra):7.2f} ms   ratio {statistics.median(extra) / asked_ms:.3f}   n={len(measured)}")


if __name__ == "__main__":
    main()
