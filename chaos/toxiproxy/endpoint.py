"""One socket of a proxied connection, as an asyncio protocol: the callbacks the links run on.

A protocol rather than a stream reader/writer pair so that a link with no toxic
can hand bytes from one socket to the other inside ``data_received``, without a
task switch (the fast path), and so that backpressure is the transports' own:
a destination over its high-water mark pauses reading from the source.

An endpoint does not read until both links of its connection are attached, so
bytes a peer sends first (a database greeting, an early request) wait in the
kernel instead of arriving before there is anywhere to put them.
"""
from __future__ import annotations

import asyncio
from typing import Protocol, cast

WRITE_BUFFER_HIGH_BYTES = 1024 * 1024
"""Bytes a socket's send buffer in user space may hold before its source is paused (asyncio's default: 64 KiB,
which pauses and resumes the source every few reads of a bulk transfer)."""


class Reader(Protocol):
    """The link that reads this socket."""

    def on_data(self, data: bytes) -> None: ...

    def on_source_end(self) -> None: ...


class Writer(Protocol):
    """The link that writes this socket."""

    def on_dest_paused(self, paused: bool) -> None: ...

    def on_dest_lost(self) -> None: ...


class Endpoint(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self._reader: Reader | None = None
        self._writer: Writer | None = None
        self._paused = False
        self._early: list[bytes] = []
        self._early_eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        transport = self.transport
        transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH_BYTES)
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

    def close(self) -> None:
        """Close once what was written has been sent (Go's ``Close`` after its last write)."""
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
