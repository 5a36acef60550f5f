"""A link with no toxic forwards bytes straight through, and switching to and from the toxic
pipeline under a running transfer loses, duplicates and reorders nothing: on the standard loop
with splicing (the default), without it (the protocol fast path), and on uvloop."""
from __future__ import annotations

import importlib.util
import random
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from chaos.toxiproxy import splice
from chaos.toxiproxy.client import ToxiproxyClient
from chaos.toxiproxy.testing import running_server
from tests.toxiproxy.conftest import SEED
from tests.toxiproxy.tcp import EchoServer, connect, parse_listen, round_trip

pytestmark = pytest.mark.unit
LOOPS = ["asyncio", "asyncio-no-splice",
         pytest.param("uvloop", marks=pytest.mark.skipif(importlib.util.find_spec("uvloop") is None,
                                                         reason="uvloop is not installed"))]

TRANSFER_BYTES = 100 * 1024 * 1024
BLOCK = random.Random(18).randbytes(65521)  # a prime length: a lost or repeated piece shifts the pattern
PATTERN = BLOCK * 40  # long enough to compare any chunk against without copying


class PatternSource:
    """An upstream that sends ``total`` bytes of the repeating block to its first client as fast as the proxy
    takes them, counting them, then closes (or stops once its client is gone)."""

    def __init__(self, total: int) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self.sent = 0
        self._total = total
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self._listener.accept()
        with conn:
            view = memoryview(PATTERN)
            while self.sent < self._total:
                offset = self.sent % len(BLOCK)
                try:
                    self.sent += conn.send(view[offset:offset + min(1 << 20, self._total - self.sent)])
                except OSError:
                    return

    @property
    def finished(self) -> bool:
        """Done sending: everything went, or its client is gone."""
        return not self._thread.is_alive()

    def close(self) -> None:
        self._listener.close()
        self._thread.join(5)


STALL_LIMIT_BYTES = 40 * 1024 * 1024
"""Kernel buffers on four sockets plus the link's own limit: far less than what the source would send."""
STALL_SOURCE_BYTES = 80 * 1024 * 1024


def receive_and_check(sock: socket.socket) -> tuple[int, int | None]:
    """Bytes received, and the offset of the first one out of place (``None`` if every byte is in place)."""
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    received = 0
    while True:
        got = sock.recv_into(buffer)
        if not got:
            return received, None
        offset = received % len(BLOCK)
        if view[:got] != PATTERN[offset:offset + got]:
            return received, received
        received += got


def churn_toxics(client: ToxiproxyClient, done: threading.Event) -> int:
    """Add, update and remove toxics on both streams until the transfer is done; how many changes were made."""
    changes = 0
    while not done.is_set():
        for stream in ("downstream", "upstream"):
            client.add_toxic("bulk", "noop", name=f"n_{stream}", stream=stream)
            client.add_toxic("bulk", "latency", name=f"l_{stream}", stream=stream, attributes={"latency": 1})
            client.add_toxic("bulk", "slicer", name=f"s_{stream}", stream=stream,
                             attributes={"average_size": 16384, "size_variation": 4000})
            client.update_toxic("bulk", f"l_{stream}", attributes={"latency": 0, "jitter": 0})
            client.add_toxic("bulk", "bandwidth", name=f"b_{stream}", stream=stream, attributes={"rate": 400_000})
            client.remove_toxic("bulk", f"s_{stream}")
            client.remove_toxic("bulk", f"n_{stream}")
            client.remove_toxic("bulk", f"b_{stream}")
            client.remove_toxic("bulk", f"l_{stream}")
            changes += 9
        time.sleep(0.005)  # stretches of fast path between the rounds of toxics
    return changes


@pytest.fixture(params=LOOPS)
def client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[ToxiproxyClient]:
    """These claims hold on both event loops the server runs on (uvloop in the process, when installed),
    and on the standard loop with splicing off (``CHAOS_TOXIPROXY_SPLICE=0``)."""
    loop, _, variant = request.param.partition("-")
    if variant == "no-splice":
        monkeypatch.setattr(splice, "ENABLED", False)
    with running_server(seed=SEED, loop=loop) as server, ToxiproxyClient(server.url) as client:
        yield client


def test_no_byte_is_lost_or_reordered_while_toxics_come_and_go_under_100_mb(client: ToxiproxyClient) -> None:
    source = PatternSource(total=TRANSFER_BYTES)
    try:
        listen = client.create_proxy("bulk", source.address)["listen"]
        done = threading.Event()
        result: list[tuple[int, int | None]] = []
        with connect(parse_listen(listen), timeout_s=30) as sock:
            reader = threading.Thread(target=lambda: (result.append(receive_and_check(sock)), done.set()))
            reader.start()
            changes = churn_toxics(client, done)
            reader.join(60)
        received, misplaced = result[0]
        assert misplaced is None, f"byte {misplaced} is out of place"
        assert received == TRANSFER_BYTES
        assert changes >= 18, "toxics changed while the bytes flowed"
        assert client.toxics("bulk") == []
    finally:
        source.close()


def test_a_toxic_added_to_a_link_on_the_fast_path_acts_at_once_and_removing_it_restores_speed(
        client: ToxiproxyClient, echo: EchoServer) -> None:
    listen = client.create_proxy("echo", str(echo.address))["listen"]
    with connect(parse_listen(listen)) as sock:
        assert round_trip(sock, b"fast")[1] < 0.15
        client.add_toxic("echo", "latency", attributes={"latency": 200})
        echoed, elapsed = round_trip(sock, b"slow now")
        assert echoed == b"slow now" and elapsed >= 0.19
        client.remove_toxic("echo", "latency_downstream")
        echoed, elapsed = round_trip(sock, b"fast again")
        assert echoed == b"fast again" and elapsed < 0.15


def wait_for_stall(source: PatternSource, quiet_s: float = 0.3, timeout_s: float = 5.0) -> int | None:
    """What the source had sent once it sent nothing more for ``quiet_s``; ``None`` if it never stopped."""
    deadline = time.monotonic() + timeout_s
    last = -1
    while time.monotonic() < deadline:
        if source.sent == last:
            return last
        last = source.sent
        time.sleep(quiet_s)
    return None


@pytest.mark.parametrize("toxic", [None, "noop", "latency"])
def test_a_client_that_stops_reading_stops_the_upstream_instead_of_filling_the_proxy(
        client: ToxiproxyClient, toxic: str | None) -> None:
    source = PatternSource(total=STALL_SOURCE_BYTES)
    try:
        listen = client.create_proxy("bulk", source.address)["listen"]
        if toxic is not None:
            client.add_toxic("bulk", toxic, attributes={"latency": 1} if toxic == "latency" else {})
        with connect(parse_listen(listen), timeout_s=30) as sock:
            stalled_at = wait_for_stall(source)
            assert stalled_at is not None, "the source is still sending into a proxy nobody reads from"
            assert stalled_at < STALL_LIMIT_BYTES, stalled_at
            received, misplaced = receive_and_check(sock)
        assert misplaced is None and received == STALL_SOURCE_BYTES
    finally:
        source.close()
