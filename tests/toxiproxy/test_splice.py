"""A link with no toxic moves its bytes with ``os.splice`` (``chaos/toxiproxy/splice.py``): the pumps
appear and go as toxics come and go, bytes in a pipe when a toxic arrives go out first, ends (FIN) and
resets reach the peers at once, and closing a spliced connection leaves no descriptor behind.

The server runs in this process, so its pipes and descriptors are this process's (``/proc/self/fd``).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import random
import socket
import struct
import termios
import threading
import time
from collections.abc import Callable

import pytest

from chaos.toxiproxy import splice
from chaos.toxiproxy.client import ToxiproxyClient
from tests.toxiproxy.conftest import LOOP
from tests.toxiproxy.tcp import (EchoServer, connect, is_closed_by_peer, parse_listen, recv_exactly,
                                 recv_until_closed, round_trip, wait_until)
from tests.toxiproxy.test_fast_path import (STALL_SOURCE_BYTES, TRANSFER_BYTES, PatternSource, receive_and_check,
                                            wait_for_stall)

pytestmark = [pytest.mark.unit,
              pytest.mark.skipif(not hasattr(os, "splice") or LOOP != "asyncio",
                                 reason="splicing needs os.splice (Linux) and the standard event loop")]


@pytest.fixture(autouse=True)
def splicing_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Splicing is opt-in (``CHAOS_TOXIPROXY_SPLICE=1``); these tests are about it, so they turn it on."""
    monkeypatch.setattr(splice, "ENABLED", True)

PAYLOAD = random.Random(7).randbytes(3 * 1024 * 1024)
PUMP_PIPES = 2
"""Descriptors of one pump's pipe."""


def descriptors() -> dict[int, str]:
    found = {}
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            found[int(name)] = os.readlink(f"/proc/self/fd/{name}")
    return found


def pipe_fds() -> list[int]:
    return [fd for fd, target in descriptors().items() if target.startswith("pipe:")]


def bytes_in_pipes(older: set[int]) -> int:
    """Bytes waiting in the pipes opened since ``older`` were listed (each counted at both ends)."""
    total = 0
    for fd in set(pipe_fds()) - older:
        with contextlib.suppress(OSError):
            total += struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    return total


def no_leak(before: dict[int, str]) -> Callable[[], bool]:
    return lambda: len(descriptors()) <= len(before)


class OneShotUpstream:
    """Accepts one connection and runs ``serve`` on it in a thread; ``serve``'s exception, if any, is kept."""

    def __init__(self, serve: Callable[[socket.socket], None]) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self.error: BaseException | None = None
        self._serve = serve
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn, _ = self._listener.accept()
        with conn:
            conn.settimeout(10)
            try:
                self._serve(conn)
            except BaseException as exc:  # reported by the test
                self.error = exc

    def join(self, timeout_s: float = 10) -> None:
        self._thread.join(timeout_s)
        self._listener.close()


def test_an_idle_link_is_spliced_both_ways_and_a_toxic_takes_it_back(client: ToxiproxyClient,
                                                                      echo: EchoServer) -> None:
    listen = client.create_proxy("echo", str(echo.address))["listen"]
    before = descriptors()
    pipes = len(pipe_fds())
    with connect(parse_listen(listen)) as sock:
        assert round_trip(sock, b"warm")[0] == b"warm"
        assert wait_until(lambda: len(pipe_fds()) == pipes + 2 * PUMP_PIPES), "a pump on each link"
        client.add_toxic("echo", "latency", attributes={"latency": 100})
        assert len(pipe_fds()) == pipes + PUMP_PIPES, "the downstream pump stopped with the toxic's arrival"
        echoed, elapsed = round_trip(sock, b"slow")
        assert echoed == b"slow" and elapsed >= 0.09
        client.remove_toxic("echo", "latency_downstream")
        echoed, elapsed = round_trip(sock, b"fast again")
        assert echoed == b"fast again" and elapsed < 0.09
        assert wait_until(lambda: len(pipe_fds()) == pipes + 2 * PUMP_PIPES), "spliced again once idle"
        assert round_trip(sock, PAYLOAD)[0] == PAYLOAD
    assert echo.all_received() == b"warm" + b"slow" + b"fast again" + PAYLOAD
    assert wait_until(no_leak(before)), set(descriptors().items()) - set(before.items())


def test_with_splicing_off_the_protocol_fast_path_carries_the_bytes(client: ToxiproxyClient, echo: EchoServer,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(splice, "ENABLED", False)
    pipes = len(pipe_fds())
    listen = client.create_proxy("echo", str(echo.address))["listen"]
    with connect(parse_listen(listen)) as sock:
        assert round_trip(sock, PAYLOAD)[0] == PAYLOAD
        assert len(pipe_fds()) == pipes


def test_where_splice_itself_fails_the_links_carry_on_through_user_space(client: ToxiproxyClient,
                                                                          echo: EchoServer,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSYS, "Function not implemented")  # as under a seccomp filter without splice

    monkeypatch.setattr(os, "splice", refused)
    monkeypatch.setattr(splice, "unsupported", None)
    listen = client.create_proxy("echo", str(echo.address))["listen"]
    pipes = len(pipe_fds())
    with connect(parse_listen(listen)) as sock:
        assert round_trip(sock, b"warm")[0] == b"warm"
        assert round_trip(sock, PAYLOAD)[0] == PAYLOAD
        assert splice.unsupported is not None and len(pipe_fds()) == pipes
    with connect(parse_listen(listen)) as sock:
        assert round_trip(sock, b"and later ones")[0] == b"and later ones"
        assert len(pipe_fds()) == pipes, "no pump is tried again"


TAKEOVERS: list[tuple[str, dict[str, int]]] = [
    ("latency", {"latency": 1}), ("slicer", {"average_size": 4096, "size_variation": 1000}), ("noop", {}),
    ("bandwidth", {"rate": 20_000}), ("latency", {"latency": 0, "jitter": 2})]
"""Toxics that pass every byte on; the third goes on the upstream stream, whose pump idles."""


SPLICED_TRANSFER_BYTES = 4 * TRANSFER_BYTES
"""Spliced, 100 MB pass in a few stretches between toxics: four times that gives a few dozen takeovers."""


def test_no_byte_is_lost_or_reordered_while_toxics_take_a_spliced_400_mb_back_and_forth(
        client: ToxiproxyClient) -> None:
    source = PatternSource(total=SPLICED_TRANSFER_BYTES)
    try:
        listen = client.create_proxy("bulk", source.address)["listen"]
        older = set(pipe_fds())
        done = threading.Event()
        result: list[tuple[int, int | None]] = []
        spliced_again = 0
        with connect(parse_listen(listen), timeout_s=30) as sock:
            reader = threading.Thread(target=lambda: (result.append(receive_and_check(sock)), done.set()))
            reader.start()
            while not done.is_set():
                for index, (kind, attributes) in enumerate(TAKEOVERS):
                    stream = "upstream" if index == 2 else "downstream"
                    client.add_toxic("bulk", kind, name="t", stream=stream, attributes=attributes)
                    time.sleep(0.02)
                    client.remove_toxic("bulk", "t")
                    if wait_until(lambda: len(set(pipe_fds()) - older) == 2 * PUMP_PIPES or done.is_set(),
                                  timeout_s=1.0, poll_s=0.001):
                        spliced_again += not done.is_set()
            reader.join(60)
        received, misplaced = result[0]
        assert misplaced is None, f"byte {misplaced} is out of place"
        assert received == SPLICED_TRANSFER_BYTES
        assert spliced_again >= 5, f"the transfer went back to the pumps between the toxics ({spliced_again})"
    finally:
        source.close()


def test_bytes_held_in_a_pipe_when_a_toxic_arrives_go_out_ahead_of_the_toxics(client: ToxiproxyClient) -> None:
    source = PatternSource(total=STALL_SOURCE_BYTES)
    try:
        listen = client.create_proxy("bulk", source.address)["listen"]
        older = set(pipe_fds())
        with connect(parse_listen(listen), timeout_s=30) as sock:
            assert wait_for_stall(source) is not None, "the client reads nothing: the proxy must stop reading"
            assert bytes_in_pipes(older) > 0, "the downstream pump holds bytes its destination could not take"
            client.add_toxic("bulk", "slicer", attributes={"average_size": 1000, "size_variation": 100})
            assert bytes_in_pipes(older) == 0, "the pipe was emptied into the destination's transport"
            reader_result: list[tuple[int, int | None]] = []
            reader = threading.Thread(target=lambda: reader_result.append(receive_and_check(sock)))
            reader.start()
            time.sleep(0.2)
            client.remove_toxic("bulk", "slicer_downstream")
            reader.join(60)
        received, misplaced = reader_result[0]
        assert misplaced is None, f"byte {misplaced} is out of place"
        assert received == STALL_SOURCE_BYTES
    finally:
        source.close()


def test_the_clients_fin_reaches_the_upstream_after_every_byte_and_the_close_comes_back(
        client: ToxiproxyClient) -> None:
    got = bytearray()

    def serve(conn: socket.socket) -> None:
        while data := conn.recv(65536):
            got.extend(data)

    upstream = OneShotUpstream(serve)
    listen = client.create_proxy("sink", upstream.address)["listen"]
    before = descriptors()
    pipes = len(pipe_fds())
    with connect(parse_listen(listen)) as sock:
        assert wait_until(lambda: len(pipe_fds()) == pipes + 2 * PUMP_PIPES)
        sock.sendall(PAYLOAD)
        sock.shutdown(socket.SHUT_WR)
        upstream.join(5)
        assert upstream.error is None and bytes(got) == PAYLOAD, "every byte, then the FIN"
        assert is_closed_by_peer(sock, timeout_s=5)
    assert wait_until(no_leak(before)), set(descriptors().items()) - set(before.items())


def test_the_upstreams_fin_reaches_the_client_after_every_byte_while_the_upstream_still_reads(
        client: ToxiproxyClient) -> None:
    closed_by_proxy = threading.Event()

    def serve(conn: socket.socket) -> None:
        conn.sendall(PAYLOAD)
        conn.shutdown(socket.SHUT_WR)  # half-close: done sending, still reading
        if conn.recv(1) == b"":
            closed_by_proxy.set()

    upstream = OneShotUpstream(serve)
    listen = client.create_proxy("source", upstream.address)["listen"]
    with connect(parse_listen(listen)) as sock:
        assert recv_exactly(sock, len(PAYLOAD)) == PAYLOAD
        assert is_closed_by_peer(sock, timeout_s=5), "the FIN came through"
        assert closed_by_proxy.wait(5), "and the proxy closed the upstream, as Toxiproxy does"
    upstream.join(5)
    assert upstream.error is None


def test_reset_peer_added_to_a_spliced_connection_resets_both_sides(client: ToxiproxyClient) -> None:
    seen: list[bytes | str] = []

    def serve(conn: socket.socket) -> None:
        try:
            while data := conn.recv(65536):
                seen.append(data)
                conn.sendall(data)
            seen.append("eof")
        except ConnectionResetError:
            seen.append("reset")

    upstream = OneShotUpstream(serve)
    pipes = len(pipe_fds())
    listen = client.create_proxy("echo", upstream.address)["listen"]
    with connect(parse_listen(listen)) as sock:
        assert round_trip(sock, b"warm")[0] == b"warm"
        assert wait_until(lambda: len(pipe_fds()) == pipes + 2 * PUMP_PIPES)
        client.add_toxic("echo", "reset_peer", stream="upstream")
        sock.sendall(b"request")
        with pytest.raises(ConnectionResetError):
            sock.recv(100)
    upstream.join(5)
    assert seen == [b"warm", "reset"], "the request never reached the upstream, which saw a reset too"


def test_timeout_added_to_a_spliced_connection_swallows_then_closes(client: ToxiproxyClient,
                                                                    echo: EchoServer) -> None:
    pipes = len(pipe_fds())
    listen = client.create_proxy("echo", str(echo.address))["listen"]
    with connect(parse_listen(listen)) as sock:
        assert round_trip(sock, b"warm")[0] == b"warm"
        assert wait_until(lambda: len(pipe_fds()) == pipes + 2 * PUMP_PIPES)
        client.add_toxic("echo", "timeout", stream="upstream", attributes={"timeout": 300})
        started = time.monotonic()
        sock.sendall(b"lost")
        assert recv_until_closed(sock) == b""
        assert 0.28 <= time.monotonic() - started < 2.0
    assert echo.all_received() == b"warm"


@pytest.mark.parametrize("how", ["disable", "delete"])
def test_a_proxy_stopped_while_splicing_closes_both_sides_and_leaks_no_descriptor(client: ToxiproxyClient,
                                                                                  how: str) -> None:
    source = PatternSource(total=STALL_SOURCE_BYTES)
    try:
        listen = client.create_proxy("bulk", source.address)["listen"]
        before = descriptors()
        with connect(parse_listen(listen), timeout_s=30) as sock:
            assert wait_for_stall(source) is not None
            assert bytes_in_pipes(set(before)) > 0, "stopped in the middle of a spliced transfer"
            if how == "disable":
                client.disable("bulk")
            else:
                client.delete_proxy("bulk")
            with contextlib.suppress(ConnectionResetError):
                received, misplaced = receive_and_check(sock)  # what the kernel still held, then the end
                assert misplaced is None and received < STALL_SOURCE_BYTES
        assert wait_until(lambda: source.finished), "the upstream saw its connection end"
        assert wait_until(no_leak(before)), set(descriptors().items()) - set(before.items())
    finally:
        source.close()
