"""Changing toxics and proxies acts on connections already open, without dropping them
(except where dropping is the point: disable, delete, a new address)."""
from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from chaos.toxiproxy.client import ToxiproxyClient
from tests.toxiproxy.tcp import (Address, EchoServer, connect, echo_server, is_closed_by_peer, parse_listen,
                                 recv_exactly, round_trip, wait_until)

pytestmark = pytest.mark.unit

FAST_S = 0.15


@pytest.fixture
def address(client: ToxiproxyClient, echo: EchoServer) -> Address:
    return parse_listen(client.create_proxy("echo", str(echo.address))["listen"])


@pytest.fixture
def sock(address: Address) -> Iterator[socket.socket]:
    with connect(address) as sock:
        assert round_trip(sock, b"warm")[0] == b"warm"
        yield sock


def test_a_toxic_added_later_acts_on_an_open_connection(client: ToxiproxyClient, sock: socket.socket) -> None:
    client.add_toxic("echo", "latency", attributes={"latency": 250})
    echoed, elapsed = round_trip(sock, b"now slow")
    assert echoed == b"now slow" and elapsed >= 0.24


def test_an_update_acts_on_an_open_connection_and_keeps_it(client: ToxiproxyClient, sock: socket.socket) -> None:
    client.add_toxic("echo", "latency", attributes={"latency": 250})
    assert round_trip(sock, b"slow")[1] >= 0.24
    client.update_toxic("echo", "latency_downstream", attributes={"latency": 0})
    echoed, elapsed = round_trip(sock, b"fast again")
    assert echoed == b"fast again" and elapsed < FAST_S


def test_an_update_reaches_data_already_held_by_the_toxic(client: ToxiproxyClient, echo: EchoServer,
                                                          sock: socket.socket) -> None:
    client.add_toxic("echo", "latency", attributes={"latency": 3000})
    started = time.monotonic()
    sock.sendall(b"in flight")
    assert wait_until(lambda: echo.all_received().endswith(b"in flight"))  # the echo is on its way back
    client.update_toxic("echo", "latency_downstream", attributes={"latency": 100})
    assert recv_exactly(sock, 9) == b"in flight"
    assert time.monotonic() - started < 1.5


def test_removing_a_toxic_releases_what_it_held_and_keeps_the_connection(client: ToxiproxyClient,
                                                                         sock: socket.socket) -> None:
    client.add_toxic("echo", "bandwidth", attributes={"rate": 0})  # nothing passes
    sock.sendall(b"stalled")
    assert is_closed_by_peer(sock, timeout_s=0.3) is False  # nothing arrives, nothing closes
    client.remove_toxic("echo", "bandwidth_downstream")
    sock.settimeout(5)
    assert recv_exactly(sock, 7) == b"stalled"
    assert round_trip(sock, b"still open")[0] == b"still open"


def test_updating_limit_data_keeps_counting_from_what_already_passed(client: ToxiproxyClient,
                                                                     sock: socket.socket) -> None:
    client.add_toxic("echo", "limit_data", attributes={"bytes": 10})
    assert round_trip(sock, b"123456")[0] == b"123456"
    client.update_toxic("echo", "limit_data_downstream", attributes={"bytes": 8})
    sock.sendall(b"789")
    assert recv_exactly(sock, 3) == b"78"


def test_disabling_closes_open_connections_and_refuses_new_ones(client: ToxiproxyClient, address: Address,
                                                                sock: socket.socket) -> None:
    client.disable("echo")
    assert is_closed_by_peer(sock)
    with pytest.raises(ConnectionRefusedError):
        connect(address)
    client.enable("echo")
    with connect(address) as again:
        assert round_trip(again, b"restored")[0] == b"restored"


def test_reset_removes_toxics_from_open_connections_and_brings_proxies_back(client: ToxiproxyClient,
                                                                            address: Address,
                                                                            sock: socket.socket) -> None:
    client.add_toxic("echo", "latency", attributes={"latency": 300})
    assert round_trip(sock, b"slow")[1] >= 0.28
    client.reset()
    assert round_trip(sock, b"fast")[1] < FAST_S
    client.disable("echo")
    client.reset()
    with connect(address) as again:
        assert round_trip(again, b"enabled again")[0] == b"enabled again"


def test_deleting_a_proxy_closes_its_connections(client: ToxiproxyClient, sock: socket.socket) -> None:
    client.delete_proxy("echo")
    assert is_closed_by_peer(sock)


def test_a_new_upstream_drops_open_connections_and_serves_new_ones(client: ToxiproxyClient, address: Address,
                                                                   sock: socket.socket) -> None:
    with echo_server() as other:
        updated = client.update_proxy("echo", upstream=str(other.address))
        assert updated["enabled"] is True and updated["listen"] == str(address)
        assert is_closed_by_peer(sock)
        with connect(address) as again:
            assert round_trip(again, b"to the other")[0] == b"to the other"
        assert other.all_received() == b"to the other"


def test_other_proxies_keep_their_connections_when_one_is_disabled(client: ToxiproxyClient, echo: EchoServer,
                                                                   sock: socket.socket) -> None:
    other = parse_listen(client.create_proxy("other", str(echo.address))["listen"])
    with connect(other) as other_sock:
        client.disable("echo")
        assert is_closed_by_peer(sock)
        assert round_trip(other_sock, b"unaffected")[0] == b"unaffected"
