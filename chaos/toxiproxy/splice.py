"""Kernel-to-kernel forwarding for a link with no toxic: source socket -> pipe -> destination socket.

Why: on the protocol fast path every byte is still copied into a Python ``bytes``
and back out (and allocated per read), which held throughput to about 0.4x a
direct connection. ``os.splice`` moves the socket's pages through a pipe without
user space ever touching them.

A pump owns one direction only while that link is idle on the fast path (no
toxic, nothing queued, nothing in the destination transport's buffer); the link
takes the bytes back into the toxic pipeline with ``stop``, which stops reading
first and returns what was still in the pipe, for the link to write ahead of
anything newer. So switching loses and reorders nothing.

The pump watches *duplicates* of the sockets' descriptors (the event loop will
not watch a descriptor its transport owns). A duplicate keeps the socket open:
the kernel sends the FIN (or, after ``SO_LINGER 0``, the RST) only when the
last descriptor closes. The endpoint therefore stops every pump and closes its
duplicate before its transport closes the socket (``Endpoint._release_splice``).

Only on the standard selector loop on Linux (uvloop keeps the protocol fast
path); it runs only with ``CHAOS_TOXIPROXY_SPLICE=1`` in the environment, and stops for good after
the first error that says splice itself cannot work here (a seccomp filter, a
socket type without splice support): that link and every later one carry on
with the protocol path.
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
from enum import Enum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chaos.toxiproxy.link import ByteMeter

log = logging.getLogger("chaos.toxiproxy.splice")
ENABLED = os.environ.get("CHAOS_TOXIPROXY_SPLICE", "0") == "1"
"""Off unless asked for: with it on, a safe-build hunt in CI reported an idempotency replay mismatch
on an instance paused with requests queued, not seen without it; the cause is not found yet."""
PIPE_BYTES = 1024 * 1024
"""Asked-for pipe capacity (Linux's default pipe-max-size); where refused, the pipe keeps the size it has.
Measured, CPU per GB moved (proxy + both peers, loopback): 64 KiB ~1.4 s, 256 KiB ~0.87 s, 1 MiB ~0.72 s,
4 MiB ~1.2 s (the protocol path: ~1.25 s)."""
CALLBACK_BYTES = 1024 * 1024
"""Bytes one readable callback moves before it lets the other connections' callbacks run."""
_FLAGS = getattr(os, "SPLICE_F_MOVE", 0) | getattr(os, "SPLICE_F_NONBLOCK", 0)
_UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.EOPNOTSUPP})
"""Errors that are splice's, not the connection's: the socket is as it was, so its transport can take over
(after the pipe's bytes)."""
unsupported: OSError | None = None
"""The error that showed splice cannot work in this process, once one has."""


class PumpEvents(Protocol):
    """What a pump tells its link; each time the pump has done all it will do in that callback."""

    def on_splice_eof(self) -> None:
        """The source sent its FIN (the pipe is empty by then: it is drained before each read)."""

    def on_splice_source_failed(self) -> None:
        """Reading the source failed (reset)."""

    def on_splice_dest_failed(self) -> None:
        """Writing the destination failed (reset, broken pipe); what is in the pipe cannot be delivered."""

    def on_splice_unsupported(self) -> None:
        """Splice itself failed; the sockets are as they were, for the transports to carry on."""


class _Drain(Enum):
    EMPTY = "empty"
    BLOCKED = "blocked"
    FAILED = "failed"


def splice_available(loop: asyncio.AbstractEventLoop) -> bool:
    return (ENABLED and unsupported is None and hasattr(os, "splice") and hasattr(os, "pipe2")
            and isinstance(loop, asyncio.selector_events.BaseSelectorEventLoop))


def _is_unsupported(exc: OSError) -> bool:
    global unsupported
    if exc.errno not in _UNSUPPORTED:
        return False
    if unsupported is None:
        unsupported = exc
        log.warning("os.splice does not work here (%s); forwarding through user space from now on", exc)
    return True


class SplicePump:
    """Moves bytes from ``source_fd`` to ``dest_fd`` (duplicates the pump may watch) while started."""

    def __init__(self, loop: asyncio.AbstractEventLoop, source_fd: int, dest_fd: int, pipe: tuple[int, int], *,
                 events: PumpEvents, meter: ByteMeter | None) -> None:
        self._loop = loop
        self._source = source_fd
        self._dest = dest_fd
        self._pipe_r, self._pipe_w = pipe
        self._capacity = fcntl.fcntl(self._pipe_w, fcntl.F_GETPIPE_SZ)
        self._events = events
        self._meter = meter
        self._in_pipe = 0
        self._stopped = False

    @classmethod
    def open(cls, loop: asyncio.AbstractEventLoop, source_fd: int, dest_fd: int, *, events: PumpEvents,
             meter: ByteMeter | None) -> SplicePump | None:
        """A pump with a pipe of its own, or ``None`` when no pipe can be had (out of descriptors)."""
        try:
            pipe = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return None
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe[1], fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        return cls(loop, source_fd, dest_fd, pipe, events=events, meter=meter)

    def start(self) -> None:
        self._loop.add_reader(self._source, self._readable)

    def stop(self) -> bytes:
        """Stop reading and writing now; the bytes still in the pipe, which no one has sent yet."""
        if self._stopped:
            return b""
        self._stopped = True
        self._loop.remove_reader(self._source)
        self._loop.remove_writer(self._dest)
        leftover = bytearray()
        with contextlib.suppress(OSError):
            while len(leftover) < self._in_pipe and (data := os.read(self._pipe_r, self._in_pipe - len(leftover))):
                leftover += data
        self._in_pipe = 0
        os.close(self._pipe_r)
        os.close(self._pipe_w)
        return bytes(leftover)

    def _readable(self) -> None:
        """Source -> pipe -> destination until the source has nothing more, the destination is full, or this
        callback has moved its share. The pipe is always empty here, so EAGAIN means the source is drained."""
        moved = 0
        while moved < CALLBACK_BYTES:
            try:
                nbytes = os.splice(self._source, self._pipe_w, self._capacity, flags=_FLAGS)
            except BlockingIOError:
                return
            except OSError as exc:
                if _is_unsupported(exc):
                    self._events.on_splice_unsupported()
                else:
                    self._events.on_splice_source_failed()
                return
            if nbytes == 0:
                self._events.on_splice_eof()
                return
            self._in_pipe = nbytes
            if self._meter is not None:
                self._meter.received(nbytes)
            moved += nbytes
            drained = self._drain()
            if drained is _Drain.FAILED:
                return
            if drained is _Drain.BLOCKED:
                self._loop.remove_reader(self._source)
                self._loop.add_writer(self._dest, self._writable)
                return
            if nbytes < self._capacity:
                return  # most likely all there was; the loop calls again if not (level-triggered)

    def _writable(self) -> None:
        if self._drain() is _Drain.EMPTY:
            self._loop.remove_writer(self._dest)
            self._loop.add_reader(self._source, self._readable)

    def _drain(self) -> _Drain:
        while self._in_pipe:
            try:
                nbytes = os.splice(self._pipe_r, self._dest, self._in_pipe, flags=_FLAGS)
            except BlockingIOError:
                return _Drain.BLOCKED
            except OSError as exc:
                if _is_unsupported(exc):
                    self._events.on_splice_unsupported()
                else:
                    self._events.on_splice_dest_failed()
                return _Drain.FAILED
            if nbytes == 0:
                return _Drain.BLOCKED  # not seen in practice; wait for writable rather than spin
            self._in_pipe -= nbytes
            if self._meter is not None:
                self._meter.sent(nbytes)
        return _Drain.EMPTY
