"""One socket of a proxied connection, as an asyncio protocol: the callbacks the links run on.

A protocol rather than a stream reader/writer pair so that a link with no toxic
can hand bytes from one socket to the other inside ``data_received``, without a
task switch (the fast path), and so that backpressure is the transports' own:
a destination over its high-water mark pauses reading from the source.

An endpoint does not read until both links of its connection are attached, so
bytes a peer sends first (a database greeting, an early request) wait in the
kernel instead of arriving before there is anywhere to put them.

An idle link may move its bytes with a splice pump instead (``splice.py``),
which watches a duplicate of the socket's descriptor. The endpoint hands out
that duplicate and takes it back, every pump stopped first, before its
transport closes the socket: as long as a duplicate is open the kernel sends
no FIN (and no RST).
"""
from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Protocol, cast

WRITE_BUFFER_HIGH_BYTES = 1024 * 1024
"""Bytes a socket's send buffer in user space may hold before its source is paused (asyncio's default: 64 KiB,
which pauses and resumes the source every few reads of a bulk transfer)."""
WRITE_BUFFER_LOW_BYTES = 0
"""A paused source resumes once the send buffer is empty (the kernel's buffer still has plenty to send), which
is also the moment its link may hand both sockets to a splice pump again."""


class Reader(Protocol):
    """The link that reads this socket."""

    def on_data(self, data: bytes) -> None: ...

    def on_source_end(self) -> None: ...

    def release_splice(self) -> None:
        """Stop splicing now (this socket is about to close); what the pipe holds goes out first."""


class Writer(Protocol):
    """The link that writes this socket."""

    def on_dest_paused(self, paused: bool) -> None: ...

    def on_dest_lost(self) -> None: ...

    def release_splice(self) -> None:
        """Stop splicing now (this socket is about to close)."""


class Endpoint(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self._reader: Reader | None = None
        self._writer: Writer | None = None
        self._paused = False
        self._early: list[bytes] = []
        self._early_eof = False
        self._closing = False
        self._splice_fd: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        transport = self.transport
        transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH_BYTES, low=WRITE_BUFFER_LOW_BYTES)
        transport.pause_reading()

    def attach(self, reader: Reader, writer: Writer) -> None:
        """Start reading into ``reader``; ``writer`` hears when this socket's send buffer fills or it dies."""
        self._reader, self._writer = reader, writer
        early, self._early = self._early, []
        for data in early:
            reader.on_data(data)
        if self._early_eof:
            reader.on_source_end()
        if self.lost:
            reader.on_source_end()
            writer.on_dest_lost()
            return
        if self._paused:
            writer.on_dest_paused(True)
        assert self.transport is not None
        self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self._reader is not None:
            self._reader.on_data(data)
            return
        # Not attached yet: some loops (uvloop) start reading after connection_made, undoing its pause.
        self._early.append(data)
        if self.transport is not None:
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        """Half-close: the peer is done sending, but may still be sent the other direction's bytes."""
        if self._reader is not None:
            self._reader.on_source_end()
        else:
            self._early_eof = True
        return True

    def pause_writing(self) -> None:
        self._paused = True
        if self._writer is not None:
            self._writer.on_dest_paused(True)

    def resume_writing(self) -> None:
        self._paused = False
        if self._writer is not None:
            self._writer.on_dest_paused(False)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._release_splice()  # asyncio closes the socket right after this callback
        if self._reader is not None:
            self._reader.on_source_end()
        if self._writer is not None:
            self._writer.on_dest_lost()

    # what the links and the connection do to the socket

    def pause_reading(self, paused: bool) -> None:
        if self.transport is not None and not self.lost:
            if paused:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.lost:
            self.transport.write(data)

    def write_buffer_size(self) -> int:
        """Bytes written but still in user space: a pump may only write this socket while there are none."""
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    def splice_fd(self) -> int | None:
        """A duplicate of the socket's descriptor for splice pumps to watch, or ``None`` once closing."""
        if self._splice_fd is None:
            if self._closing or self.lost or self.transport is None or self.transport.is_closing():
                return None
            sock = self.transport.get_extra_info("socket")
            if sock is None:
                return None
            try:
                self._splice_fd = os.dup(sock.fileno())
            except OSError:  # out of descriptors: the protocol path carries on
                return None
        return self._splice_fd

    def close(self) -> None:
        """Close once what was written has been sent (Go's ``Close`` after its last write)."""
        self._release_splice()
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self._release_splice()
        if self.transport is not None:
            self.transport.abort()

    def _release_splice(self) -> None:
        """Both links stop splicing (delivering what their pipes hold), then the duplicate closes, so that
        the transport's close is the socket's last and its FIN or RST goes out at once."""
        self._closing = True
        if self._splice_fd is None:
            return
        for link in (self._reader, self._writer):
            if link is not None:
                link.release_splice()
        fd, self._splice_fd = self._splice_fd, None
        with contextlib.suppress(OSError):
            os.close(fd)
