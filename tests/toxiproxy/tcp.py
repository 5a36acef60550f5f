"""Plain TCP for the proxy tests: an echo upstream, and a client with deadlines on every call.

Blocking sockets in threads, not asyncio, so the tests talk to the proxy the
way an application does and share nothing with the server's event loop.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

IO_TIMEOUT_S = 5.0
ACCEPT_POLL_S = 0.05


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def parse_listen(listen: str) -> Address:
    host, _, port = listen.rpartition(":")
    return Address(host, int(port))


class EchoServer:
    """Sends back every byte it receives, and keeps what each connection sent (in accept order)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(ACCEPT_POLL_S)
        self.address = Address("127.0.0.1", self._listener.getsockname()[1])
        self.received: list[bytearray] = []
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self) -> EchoServer:
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._accept_thread.join(IO_TIMEOUT_S)
        self._listener.close()
        for thread in self._threads:
            thread.join(IO_TIMEOUT_S)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            received = bytearray()
            self.received.append(received)
            thread = threading.Thread(target=self._echo, args=(conn, received), daemon=True)
            self._threads.append(thread)
            thread.start()

    @property
    def accepted(self) -> int:
        return len(self.received)

    def all_received(self) -> bytes:
        """Everything every connection sent so far (empty before the first accept)."""
        return b"".join(bytes(part) for part in list(self.received))

    def _echo(self, conn: socket.socket, received: bytearray) -> None:
        conn.settimeout(ACCEPT_POLL_S)
        with conn:
            while not self._stopping.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                received.extend(data)
                try:
                    conn.sendall(data)
                except OSError:
                    return


@contextmanager
def echo_server() -> Iterator[EchoServer]:
    server = EchoServer().start()
    try:
        yield server
    finally:
        server.stop()


def connect(address: Address, timeout_s: float = IO_TIMEOUT_S) -> socket.socket:
    return socket.create_connection((address.host, address.port), timeout=timeout_s)


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes, or fewer if the peer closed first."""
    parts: list[bytes] = []
    received = 0
    while received < size:
        data = sock.recv(size - received)
        if not data:
            break
        parts.append(data)
        received += len(data)
    return b"".join(parts)


def recv_until_closed(sock: socket.socket, limit: int = 1 << 24) -> bytes:
    parts: list[bytes] = []
    received = 0
    while received < limit:
        data = sock.recv(65536)
        if not data:
            break
        parts.append(data)
        received += len(data)
    return b"".join(parts)


def round_trip(sock: socket.socket, payload: bytes) -> tuple[bytes, float]:
    """Send ``payload`` to an echo upstream; the echo and the seconds it took."""
    started = time.monotonic()
    sock.sendall(payload)
    echoed = recv_exactly(sock, len(payload))
    return echoed, time.monotonic() - started


def wait_until(condition: Callable[[], bool], timeout_s: float = IO_TIMEOUT_S, poll_s: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return condition()


def is_closed_by_peer(sock: socket.socket, timeout_s: float = IO_TIMEOUT_S) -> bool:
    """True once the peer closed (EOF) or reset the connection, within ``timeout_s``."""
    sock.settimeout(timeout_s)
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
