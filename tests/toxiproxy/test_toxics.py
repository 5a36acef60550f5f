"""Each toxic does to real TCP traffic what Toxiproxy's does, on the stream it is put on.

Timing bounds are generous on purpose (shared 2-core machines): a lower bound
proves the toxic acted, an upper bound only that it did not act far too much.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from chaos.toxiproxy.client import ToxiproxyClient
from chaos.toxiproxy.testing import running_server
from tests.toxiproxy.tcp import (Address, EchoServer, connect, is_closed_by_peer, parse_listen, recv_exactly,
                                 recv_until_closed, round_trip, wait_until)

pytestmark = pytest.mark.unit

STREAMS = ["upstream", "downstream"]
FAST_S = 0.15
"""A round trip on loopback without toxics takes well under this, even on a busy machine."""


@dataclass
class Echo:
    client: ToxiproxyClient
    upstream: EchoServer
    address: Address
    name: str = "echo"

    def toxic(self, type: str, stream: str = "downstream", **options: object) -> str:
        return self.client.add_toxic(self.name, type, stream=stream, **options)["name"]  # type: ignore[arg-type]


@pytest.fixture
def proxy(client: ToxiproxyClient, echo: EchoServer) -> Echo:
    listen = client.create_proxy("echo", str(echo.address))["listen"]
    return Echo(client, echo, parse_listen(listen))


@pytest.fixture
def sock(proxy: Echo) -> Iterator[socket.socket]:
    with connect(proxy.address) as sock:
        yield sock


def test_without_toxics_bytes_pass_unchanged_both_ways(proxy: Echo, sock: socket.socket) -> None:
    payload = bytes(range(256)) * 4096
    sender = threading.Thread(target=sock.sendall, args=(payload,))
    sender.start()
    assert recv_exactly(sock, len(payload)) == payload
    sender.join()
    assert wait_until(lambda: proxy.upstream.all_received() == payload)


@pytest.mark.parametrize("stream", STREAMS)
def test_latency_delays_every_exchange_on_its_stream(proxy: Echo, sock: socket.socket, stream: str) -> None:
    proxy.toxic("latency", stream, attributes={"latency": 250})
    for payload in (b"first", b"second"):
        echoed, elapsed = round_trip(sock, payload)
        assert echoed == payload
        assert 0.24 <= elapsed < 1.5


def test_latency_jitter_varies_the_delay_around_the_latency(proxy: Echo, sock: socket.socket) -> None:
    proxy.toxic("latency", attributes={"latency": 100, "jitter": 80})
    delays = [round_trip(sock, b"x")[1] for _ in range(8)]
    assert all(0.015 <= delay < 1.0 for delay in delays)
    assert max(delays) - min(delays) > 0.02


def test_noop_changes_nothing(proxy: Echo, sock: socket.socket) -> None:
    proxy.toxic("noop")
    echoed, elapsed = round_trip(sock, b"as is")
    assert echoed == b"as is" and elapsed < FAST_S


@pytest.mark.parametrize("stream", STREAMS)
def test_bandwidth_caps_the_rate_in_kilobytes_per_second(proxy: Echo, sock: socket.socket, stream: str) -> None:
    proxy.toxic("bandwidth", stream, attributes={"rate": 100})  # 100 KB/s: 50 KB take 0.5 s
    payload = b"b" * 50_000
    sender = threading.Thread(target=sock.sendall, args=(payload,))
    started = time.monotonic()
    sender.start()
    assert recv_exactly(sock, len(payload)) == payload
    sender.join()
    assert 0.4 <= time.monotonic() - started < 3.0


@pytest.mark.parametrize("stream", STREAMS)
def test_slow_close_holds_back_the_close_but_not_the_data(proxy: Echo, sock: socket.socket, stream: str) -> None:
    proxy.toxic("slow_close", stream, attributes={"delay": 400})
    assert round_trip(sock, b"data")[1] < FAST_S
    started = time.monotonic()
    sock.shutdown(socket.SHUT_WR)  # the proxy closes the upstream; the close comes back to us
    assert is_closed_by_peer(sock)
    assert 0.38 <= time.monotonic() - started < 2.0


def test_without_slow_close_the_close_comes_back_at_once(proxy: Echo, sock: socket.socket) -> None:
    started = time.monotonic()
    sock.shutdown(socket.SHUT_WR)
    assert is_closed_by_peer(sock)
    assert time.monotonic() - started < FAST_S


@pytest.mark.parametrize("stream", STREAMS)
def test_timeout_swallows_data_then_closes_the_connection(proxy: Echo, sock: socket.socket, stream: str) -> None:
    proxy.toxic("timeout", stream, attributes={"timeout": 300})
    started = time.monotonic()
    sock.sendall(b"lost")
    assert recv_until_closed(sock) == b""
    assert 0.28 <= time.monotonic() - started < 2.0


def test_timeout_zero_holds_the_connection_open_and_swallows_everything(proxy: Echo, sock: socket.socket) -> None:
    proxy.toxic("timeout", "upstream", attributes={"timeout": 0})
    sock.sendall(b"into the void")
    assert is_closed_by_peer(sock, timeout_s=0.5) is False
    assert proxy.upstream.all_received() == b""


def test_removing_a_timeout_closes_the_connections_it_held(proxy: Echo, sock: socket.socket) -> None:
    name = proxy.toxic("timeout", attributes={"timeout": 0})
    sock.sendall(b"swallowed")
    assert is_closed_by_peer(sock, timeout_s=0.3) is False
    proxy.client.remove_toxic("echo", name)
    assert is_closed_by_peer(sock)


@pytest.mark.parametrize("stream", STREAMS)
def test_reset_peer_resets_the_connection_after_its_timeout(proxy: Echo, sock: socket.socket, stream: str) -> None:
    proxy.toxic("reset_peer", stream, attributes={"timeout": 200})
    started = time.monotonic()
    sock.sendall(b"request")
    with pytest.raises(ConnectionResetError):
        sock.recv(100)
    assert 0.18 <= time.monotonic() - started < 2.0


def test_reset_peer_with_no_timeout_resets_on_the_first_data(proxy: Echo, sock: socket.socket) -> None:
    proxy.toxic("reset_peer", "upstream")
    sock.sendall(b"request")
    with pytest.raises(ConnectionResetError):
        sock.recv(100)
    assert proxy.upstream.all_received() == b"", "the request never reached the upstream"


def test_slicer_delivers_everything_in_small_delayed_pieces(proxy: Echo, sock: socket.socket) -> None:
    proxy.toxic("slicer", attributes={"average_size": 100, "size_variation": 20, "delay": 20_000})
    payload = bytes(range(250)) * 4  # 1000 bytes: about 8 to 16 pieces, 20 ms apart
    started = time.monotonic()
    sock.sendall(payload)
    pieces: list[bytes] = []
    while sum(map(len, pieces)) < len(payload):
        pieces.append(sock.recv(len(payload)))
        assert pieces[-1], "closed early"
    assert b"".join(pieces) == payload
    assert len(pieces) >= 4
    assert time.monotonic() - started >= 0.1


@pytest.mark.parametrize("stream", STREAMS)
def test_limit_data_closes_the_connection_after_that_many_bytes(proxy: Echo, sock: socket.socket,
                                                                 stream: str) -> None:
    proxy.toxic("limit_data", stream, attributes={"bytes": 10})
    sock.sendall(b"0123456789abcdefghij")
    received = recv_until_closed(sock)
    if stream == "downstream":
        assert received == b"0123456789"
    else:
        assert wait_until(lambda: proxy.upstream.all_received() == b"0123456789")
        assert received == b""  # as in Toxiproxy: the close reaches the client before any echo can


def test_toxicity_zero_spares_every_connection_and_one_hits_every_connection(proxy: Echo) -> None:
    name = proxy.toxic("latency", attributes={"latency": 300}, toxicity=0.0)
    for _ in range(5):
        with connect(proxy.address) as sock:
            assert round_trip(sock, b"spared")[1] < FAST_S
    proxy.client.update_toxic("echo", name, toxicity=1.0)
    for _ in range(2):
        with connect(proxy.address) as sock:
            assert round_trip(sock, b"hit")[1] >= 0.28


def test_toxicity_is_decided_once_per_connection(proxy: Echo) -> None:
    proxy.toxic("latency", attributes={"latency": 150}, toxicity=0.5)
    verdicts = []
    for _ in range(10):
        with connect(proxy.address) as sock:
            first = round_trip(sock, b"a")[1] >= 0.14
            second = round_trip(sock, b"b")[1] >= 0.14
            assert first == second
            verdicts.append(first)
    assert True in verdicts and False in verdicts


def test_toxics_on_one_stream_apply_in_the_order_they_were_added(proxy: Echo) -> None:
    """limit_data then slow_close: the close made by limit_data is delayed; the other way round it is not."""
    proxy.toxic("limit_data", name="limit", attributes={"bytes": 4})
    proxy.toxic("slow_close", name="slow", attributes={"delay": 400})
    with connect(proxy.address) as sock:
        started = time.monotonic()
        sock.sendall(b"abcdefgh")
        assert recv_until_closed(sock) == b"abcd"
        assert time.monotonic() - started >= 0.38

    proxy.client.remove_toxic("echo", "limit")
    proxy.toxic("limit_data", name="limit", attributes={"bytes": 4})  # now after slow_close
    with connect(proxy.address) as sock:
        started = time.monotonic()
        sock.sendall(b"abcdefgh")
        assert recv_until_closed(sock) == b"abcd"
        assert time.monotonic() - started < 0.3


def test_two_latency_toxics_add_up(proxy: Echo, sock: socket.socket) -> None:
    proxy.toxic("latency", name="one", attributes={"latency": 150})
    proxy.toxic("latency", name="two", attributes={"latency": 150})
    assert round_trip(sock, b"x")[1] >= 0.29


def affected_pattern(seed: int, echo: EchoServer, connections: int = 8) -> list[bool]:
    with running_server(seed=seed) as server, ToxiproxyClient(server.url) as client:
        address = parse_listen(client.create_proxy("echo", str(echo.address))["listen"])
        client.add_toxic("echo", "latency", attributes={"latency": 150}, toxicity=0.5)
        pattern = []
        for _ in range(connections):
            with connect(address) as sock:
                pattern.append(round_trip(sock, b"?")[1] >= 0.14)
        return pattern


def test_the_same_seed_picks_the_same_connections(echo: EchoServer) -> None:
    first = affected_pattern(7, echo)
    assert affected_pattern(7, echo) == first
    assert True in first and False in first
