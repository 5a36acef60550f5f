"""Hundreds of connections through one server, with splicing on and off: every byte a peer receives is
its own connection's, in order, with none lost or repeated, while clients vanish (RST, half-close, never
reading), peers stop reading for a while (as a SIGSTOPped process does), toxics come and go, and a proxy
is disabled and enabled again.

Each client connection has an identity; every request carries it and its sequence number, and the
upstream answers with the same identity and sequence (and checks that each upstream connection only ever
sees one client's requests, consecutively). Two proxies share the server's event loop: ``calm`` only gets
toxics that pass every byte on (so its clients must get every reply, exactly), ``rough`` also gets
``timeout``, ``reset_peer`` and disable/enable (its clients may lose their connection, but whatever arrives
must still be an exact prefix of what they were owed). Closed connections free descriptor numbers that new
sockets, duplicates and pipes take again at once, which is where bytes could go to the wrong socket.
"""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import random
import socket
import struct
import termios
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from chaos.toxiproxy import splice
from chaos.toxiproxy.client import ToxiproxyClient, ToxiproxyError
from tests.toxiproxy.conftest import LOOP

pytestmark = pytest.mark.unit

DURATION_S = float(os.environ.get("SPLICE_STRESS_S", "10"))
"""Traffic time per variant (``SPLICE_STRESS_S`` for a longer hunt); each variant takes about 13 s in all."""
SEED = int(os.environ.get("SPLICE_STRESS_SEED", "2024"))
REPLY_TIMEOUT_S = 15.0
REQUEST = struct.Struct("!cIII")  # b"Q", client id, sequence, payload bytes
REPLY = struct.Struct("!cIII")  # b"R", client id, sequence, payload bytes
_LINGER_ZERO = struct.pack("ii", 1, 0)


def payload(kind: bytes, client_id: int, seq: int, size: int) -> bytes:
    """Bytes that name their connection and place: a piece of any other connection's never matches."""
    unit = kind + struct.pack("!II", client_id, seq)
    return (unit * (size // len(unit) + 1))[:size]


def request(client_id: int, seq: int, size: int, kind: bytes = b"Q") -> bytes:
    """``kind`` b"C" or b"X": the server sends its reply, then closes (FIN) or resets (RST) the connection."""
    return REQUEST.pack(kind, client_id, seq, size) + payload(b"q", client_id, seq, size)


def reply_size(client_id: int, seq: int) -> int:
    """Mostly small (Redis-like), now and then big enough to fill socket buffers and a pipe; every tenth
    connection is owed a few replies bigger than the kernel's buffers hold, so a client that stops reading
    leaves its link's pump holding bytes."""
    if client_id % 10 == 0 and seq in (1, 4):
        return 8_000_000
    roll = random.Random(client_id * 7919 + seq).random()
    if roll < 0.05:
        return 200_000 + int(roll * 20_000_000)
    return 1 + int(roll * 700)


def reply(client_id: int, seq: int) -> bytes:
    size = reply_size(client_id, seq)
    return REPLY.pack(b"R", client_id, seq, size) + payload(b"r", client_id, seq, size)


@dataclass
class Findings:
    violations: list[str] = field(default_factory=list)
    replies: int = 0
    connections: int = 0
    upstream_connections: int = 0
    owners: dict[int, int] = field(default_factory=dict)
    """Client id -> upstream connection serial that carried it."""

    def violation(self, message: str) -> None:
        if len(self.violations) < 50:
            self.violations.append(message)


class Upstream:
    """Answers each request with a reply for the same client and sequence; checks what it is sent."""

    def __init__(self, findings: Findings, rng: random.Random) -> None:
        self.findings = findings
        self.rng = rng
        self.serial = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.serial += 1
        serial = self.serial
        self.findings.upstream_connections += 1
        owner: int | None = None
        expected_seq = 0
        try:
            while True:
                try:
                    header = await reader.readexactly(REQUEST.size)
                except asyncio.IncompleteReadError as exc:
                    if exc.partial and not self._is_prefix(exc.partial, owner, expected_seq):
                        self.findings.violation(f"upstream {serial}: stray bytes {exc.partial[:16]!r}")
                    return
                kind, client_id, seq, size = REQUEST.unpack(header)
                if kind not in b"QCX" or size > 4_000_000:
                    self.findings.violation(f"upstream {serial}: garbage header {header!r} "
                                            f"(owner {owner}, expected seq {expected_seq})")
                    return
                if owner is None:
                    owner = client_id
                    if client_id in self.findings.owners:
                        self.findings.violation(f"client {client_id} came on two upstream connections")
                    self.findings.owners[client_id] = serial
                if client_id != owner or seq != expected_seq:
                    self.findings.violation(f"upstream {serial} of client {owner}: got client {client_id} "
                                            f"seq {seq}, expected seq {expected_seq}")
                    return
                try:
                    body = await reader.readexactly(size)
                except asyncio.IncompleteReadError as exc:
                    if exc.partial != payload(b"q", client_id, seq, size)[:len(exc.partial)]:
                        self.findings.violation(f"upstream {serial}: client {client_id} seq {seq} body corrupt")
                    return
                if body != payload(b"q", client_id, seq, size):
                    self.findings.violation(f"upstream {serial}: client {client_id} seq {seq} body corrupt")
                    return
                expected_seq += 1
                writer.write(reply(client_id, seq))
                if kind != b"Q":  # the server ends the connection after this reply: a FIN, or a RST
                    await writer.drain()
                    if kind == b"X":
                        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                                   _LINGER_ZERO)
                        return
                    writer.close()
                    await reader.read()
                    return
                if self.rng.random() < 0.02:
                    await asyncio.sleep(self.rng.uniform(0.05, 0.4))  # a paused server: stops reading
                await writer.drain()
        except (ConnectionError, OSError):
            return
        finally:
            writer.transport.abort()

    @staticmethod
    def _is_prefix(partial: bytes, owner: int | None, seq: int) -> bool:
        """A request header cut short by the connection's end: its kind, client and sequence, as far as they go."""
        if owner is None:
            return partial[:1] in (b"Q", b"C", b"X")
        known = REQUEST.pack(b"Q", owner, seq, 0)[1:9]
        return partial[:1] in (b"Q", b"C", b"X") and partial[1:9] == known[:max(0, min(9, len(partial)) - 1)]

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


class ReplyChecker:
    """What one client connection received, checked byte by byte against what it is owed, in order."""

    def __init__(self, client_id: int, findings: Findings, label: str) -> None:
        self.client_id = client_id
        self.findings = findings
        self.label = label
        self.next_seq = 0
        self._expected = b""
        self._offset = 0
        self.ok = True

    def feed(self, data: bytes) -> bool:
        """False (and a violation) as soon as a byte is not the one this connection is owed next."""
        view = memoryview(data)
        while view:
            if self._offset == len(self._expected):
                self._expected = reply(self.client_id, self.next_seq)
                self._offset = 0
            take = min(len(view), len(self._expected) - self._offset)
            if view[:take] != self._expected[self._offset:self._offset + take]:
                got = bytes(view[:min(take, 16)])
                self.findings.violation(f"{self.label} client {self.client_id}: reply {self.next_seq} byte "
                                        f"{self._offset} is wrong (got {got!r})")
                self.ok = False
                return False
            self._offset += take
            view = view[take:]
            if self._offset == len(self._expected):
                self.next_seq += 1
                self.findings.replies += 1
        return True

    @property
    def mid_reply(self) -> bool:
        return 0 < self._offset < len(self._expected)


class Traffic:
    def __init__(self, calm_port: int, rough_port: int, findings: Findings, deadline: float) -> None:
        self.calm_port = calm_port
        self.rough_port = rough_port
        self.findings = findings
        self.deadline = deadline
        self._ids = 0

    def new_id(self) -> int:
        self._ids += 1
        return self._ids

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    async def _open(self, port: int, *, rcvbuf: int | None = None) -> tuple[asyncio.StreamReader,
                                                                           asyncio.StreamWriter]:
        """``rcvbuf``: a small receive buffer, so a client that stops reading closes its window at once
        (a frozen or unplugged peer), and the proxy holds what it could not send."""
        self.findings.connections += 1
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        try:
            await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port)), 10)
            return await asyncio.open_connection(sock=sock, limit=1 << 20)
        except BaseException:
            sock.close()
            raise

    async def steady(self, rng: random.Random, *, strict: bool) -> None:
        """A pooled connection: pipelined requests, all replies owed, now and then not read for a while.
        ``strict``: no byte may be missing and the connection may not end (the calm proxy)."""
        port = self.calm_port if strict else self.rough_port
        while self.running():
            client_id = self.new_id()
            try:
                reader, writer = await self._open(port, rcvbuf=rng.choice([None, None, 4096]))
            except (OSError, TimeoutError) as exc:
                if strict:
                    self.findings.violation(f"steady: connect failed: {exc!r}")
                    return
                await asyncio.sleep(0.05)
                continue
            checker = ReplyChecker(client_id, self.findings, "steady" if strict else "rough")
            sent = 0
            try:
                while self.running() and checker.ok:
                    depth = rng.choice([1, 1, 1, 2, 4, 8])
                    for _ in range(depth):
                        writer.write(request(client_id, sent, rng.choice([5, 40, 300, 2000])))
                        sent += 1
                    if rng.random() < 0.05:
                        await asyncio.sleep(rng.uniform(0.1, 0.8))  # frozen: replies pile up unread
                    while checker.next_seq < sent:
                        data = await asyncio.wait_for(reader.read(1 << 18), REPLY_TIMEOUT_S)
                        if not data:
                            if strict:
                                self.findings.violation(f"steady client {client_id}: closed with "
                                                        f"{sent - checker.next_seq} replies owed")
                            raise ConnectionResetError
                        if not checker.feed(data):
                            break
                    if rng.random() < 0.3:
                        await asyncio.sleep(rng.uniform(0, 0.02))
            except TimeoutError:
                if strict:
                    self.findings.violation(f"steady client {client_id}: reply {checker.next_seq} of {sent} "
                                            f"not in {REPLY_TIMEOUT_S} s")
                    return
            except (ConnectionError, OSError):
                if strict:
                    self.findings.violation(f"steady client {client_id}: connection failed")
                    return
            finally:
                writer.transport.abort()
            if strict:
                return

    async def short(self, rng: random.Random) -> None:
        """Connect, a few requests, every reply, close (as a short-lived client does)."""
        while self.running():
            client_id = self.new_id()
            try:
                reader, writer = await self._open(self.calm_port)
            except (OSError, TimeoutError) as exc:
                self.findings.violation(f"short: connect failed: {exc!r}")
                return
            checker = ReplyChecker(client_id, self.findings, "short")
            try:
                count = rng.randint(1, 4)
                for seq in range(count):
                    writer.write(request(client_id, seq, rng.choice([3, 100, 1500])))
                    while checker.next_seq <= seq and checker.ok:
                        data = await asyncio.wait_for(reader.read(1 << 18), REPLY_TIMEOUT_S)
                        if not data:
                            self.findings.violation(f"short client {client_id}: closed early")
                            return
                        checker.feed(data)
                if rng.random() < 0.5:
                    writer.close()
                else:
                    writer.transport.abort()
            except (TimeoutError, ConnectionError, OSError) as exc:
                self.findings.violation(f"short client {client_id}: {exc!r}")
                return
            finally:
                writer.transport.abort()

    async def server_ends(self, rng: random.Random) -> None:
        """The server ends the connection after a reply (an idle timeout, a restart): with a FIN every reply
        must come, then the end; with a RST whatever comes must still be this connection's."""
        while self.running():
            client_id = self.new_id()
            try:
                reader, writer = await self._open(self.calm_port)
            except (OSError, TimeoutError) as exc:
                self.findings.violation(f"server_ends: connect failed: {exc!r}")
                return
            checker = ReplyChecker(client_id, self.findings, "server_ends")
            kind = rng.choice([b"C", b"C", b"X"])
            count = rng.randint(1, 5)
            try:
                for seq in range(count):
                    writer.write(request(client_id, seq, rng.choice([3, 100, 1500]),
                                         kind if seq == count - 1 else b"Q"))
                    if rng.random() < 0.5:
                        await asyncio.sleep(rng.uniform(0, 0.01))
                while checker.ok:
                    data = await asyncio.wait_for(reader.read(1 << 18), REPLY_TIMEOUT_S)
                    if not data:
                        break
                    checker.feed(data)
                if kind == b"C" and checker.ok and (checker.next_seq != count or checker.mid_reply):
                    self.findings.violation(f"server_ends client {client_id}: the FIN came after "
                                            f"{checker.next_seq} of {count} replies")
            except TimeoutError:
                self.findings.violation(f"server_ends client {client_id}: no end in {REPLY_TIMEOUT_S} s")
                return
            except (ConnectionError, OSError):
                if kind == b"C":
                    self.findings.violation(f"server_ends client {client_id}: reset instead of a FIN")
            finally:
                writer.transport.abort()

    async def vanish(self, rng: random.Random, port: int) -> None:
        """Requests, then gone mid-conversation: RST, a half-close, or a close without reading."""
        while self.running():
            client_id = self.new_id()
            try:
                reader, writer = await self._open(port)
            except (OSError, TimeoutError):
                await asyncio.sleep(0.05)
                continue
            checker = ReplyChecker(client_id, self.findings, "vanish")
            sock = writer.get_extra_info("socket")
            how = rng.choice(["rst", "rst", "half", "close", "stuff"])
            try:
                sent = rng.randint(1, 6)
                for seq in range(sent):
                    writer.write(request(client_id, seq, 200_000 if how == "stuff" else rng.choice([10, 900])))
                if how == "half":
                    await writer.drain()
                    writer.write_eof()
                # read some of what comes (maybe nothing), then go
                end = time.monotonic() + rng.uniform(0, 0.05 if how != "stuff" else 0.5)
                while how != "stuff" and time.monotonic() < end and checker.ok:
                    try:
                        data = await asyncio.wait_for(reader.read(rng.choice([1, 7, 4096])),
                                                      max(0.001, end - time.monotonic()))
                    except TimeoutError:
                        break
                    if not data:
                        break
                    checker.feed(data)
                if how == "stuff":
                    await asyncio.sleep(end - time.monotonic())
                if how in ("rst", "stuff"):
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
            except (ConnectionError, OSError):
                pass
            finally:
                writer.transport.abort()
            await asyncio.sleep(rng.uniform(0, 0.01))


def chaos(client: ToxiproxyClient, deadline: float, rng: random.Random, errors: list[str]) -> None:
    """Lossless toxics on ``calm``; on ``rough`` lossy ones too, and the proxy goes down and up."""
    lossless = [("latency", {"latency": 5, "jitter": 5}), ("latency", {"latency": 30, "jitter": 25}),
                ("bandwidth", {"rate": 2000}), ("slicer", {"average_size": 300, "size_variation": 200}),
                ("noop", {})]
    lossy = [*lossless, ("timeout", {"timeout": 100}), ("timeout", {"timeout": 0}), ("reset_peer", {}),
             ("limit_data", {"bytes": 5000})]
    serial = 0
    try:
        while time.monotonic() < deadline:
            serial += 1
            kind, attributes = rng.choice(lossless)
            stream = rng.choice(["upstream", "downstream"])
            client.add_toxic("calm", kind, name=f"c{serial}", stream=stream, attributes=attributes,
                             toxicity=rng.choice([1.0, 1.0, 0.5]))
            kind, attributes = rng.choice(lossy)
            client.add_toxic("rough", kind, name=f"r{serial}", stream=rng.choice(["upstream", "downstream"]),
                             attributes=attributes)
            time.sleep(rng.uniform(0.02, 0.3))
            client.remove_toxic("calm", f"c{serial}")
            client.remove_toxic("rough", f"r{serial}")
            if rng.random() < 0.15:
                client.disable("rough")
                time.sleep(rng.uniform(0, 0.05))
                client.enable("rough")
            time.sleep(rng.uniform(0.05, 0.4))  # splicing again in between
    except (ToxiproxyError, OSError) as exc:
        errors.append(repr(exc))


def pipes_open() -> tuple[int, int]:
    """Pipe descriptors of this process (the server's pumps run in it), and the bytes they hold (each pipe
    counted at both ends)."""
    count = held = 0
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{name}").startswith("pipe:"):
                count += 1
                held += struct.unpack("i", fcntl.ioctl(int(name), termios.FIONREAD, b"\0\0\0\0"))[0]
    return count, held


@pytest.fixture(params=["splice", "no-splice"])
def splicing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[bool]:
    on = request.param == "splice"
    if on and (not hasattr(os, "splice") or LOOP != "asyncio"):
        pytest.skip("splicing needs os.splice (Linux) and the standard event loop")
    monkeypatch.setattr(splice, "ENABLED", on)
    yield on


def test_hundreds_of_connections_get_exactly_their_own_bytes_under_chaos(client: ToxiproxyClient,
                                                                         splicing: bool) -> None:
    findings = Findings()
    rng = random.Random(SEED)
    chaos_errors: list[str] = []
    pipe_peak = [0, 0]

    async def main() -> None:
        upstream = Upstream(findings, random.Random(SEED + 1))
        await upstream.start()
        address = f"127.0.0.1:{upstream.port}"
        calm = await asyncio.to_thread(client.create_proxy, "calm", address)
        rough = await asyncio.to_thread(client.create_proxy, "rough", address)
        deadline = time.monotonic() + DURATION_S
        traffic = Traffic(int(calm["listen"].rpartition(":")[2]), int(rough["listen"].rpartition(":")[2]),
                          findings, deadline)
        chaos_thread = threading.Thread(target=chaos, args=(client, deadline, random.Random(SEED + 3), chaos_errors),
                                        daemon=True)
        chaos_thread.start()

        async def watch_pipes() -> None:
            while traffic.running():
                count, held = pipes_open()
                pipe_peak[0], pipe_peak[1] = max(pipe_peak[0], count), max(pipe_peak[1], held)
                await asyncio.sleep(0.05)

        jobs = [traffic.steady(random.Random(rng.random()), strict=True) for _ in range(120)]
        jobs += [traffic.steady(random.Random(rng.random()), strict=False) for _ in range(40)]
        jobs += [traffic.short(random.Random(rng.random())) for _ in range(40)]
        jobs += [traffic.server_ends(random.Random(rng.random())) for _ in range(20)]
        jobs += [traffic.vanish(random.Random(rng.random()), traffic.calm_port) for _ in range(20)]
        jobs += [traffic.vanish(random.Random(rng.random()), traffic.rough_port) for _ in range(10)]
        jobs.append(watch_pipes())
        try:
            await asyncio.wait_for(asyncio.gather(*jobs), DURATION_S + 2 * REPLY_TIMEOUT_S)
        finally:
            upstream.close()
            await asyncio.to_thread(chaos_thread.join, 10)

    asyncio.run(main())
    print(f"\nsplicing={splicing} replies={findings.replies} connections={findings.connections} "
          f"upstream={findings.upstream_connections} pipes<={pipe_peak[0]} "
          f"held<={pipe_peak[1]}")
    assert not chaos_errors, chaos_errors
    assert not findings.violations, "\n".join(findings.violations)
    assert findings.replies > 500 and findings.connections > 200, "too little traffic to mean anything"
    if splicing:
        assert pipe_peak[0] >= 20, f"the links were spliced ({pipe_peak[0]} pipe descriptors at most)"
        assert pipe_peak[1] > 0, "pumps held bytes their destinations could not take yet"
