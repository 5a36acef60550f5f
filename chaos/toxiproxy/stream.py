"""Chunks of one direction of a connection, and the queues between its toxic stages.

Stages hand chunks on without awaiting (the queues have no bound), so a stage can
be stopped at any of its await points and nothing is ever half-sent. Backpressure
is applied once, at the socket reader, from the bytes waiting anywhere in the
link (``LinkBudget``), which is what keeps memory bounded.
"""
from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from enum import StrEnum


class Stream(StrEnum):
    """A link's direction: ``upstream`` is client -> server, ``downstream`` server -> client."""

    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"


@dataclass
class Chunk:
    """Bytes read from a socket in one go.

    ``timestamp`` is when they were read (loop time); a delaying toxic moves it to
    the time it meant to release them, so chained delays add up instead of overlapping.
    """

    data: bytes
    timestamp: float


class LinkBudget:
    """Bytes queued anywhere in one link; the reader waits while it is over the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.queued = 0
        self._room = asyncio.Event()
        self._room.set()

    def add(self, nbytes: int) -> None:
        self.queued += nbytes
        if self.queued >= self.limit:
            self._room.clear()

    def remove(self, nbytes: int) -> None:
        self.queued -= nbytes
        if self.queued < self.limit:
            self._room.set()

    async def wait_for_room(self) -> None:
        await self._room.wait()


class ChunkQueue:
    """A FIFO of chunks ending in a sticky end-of-stream.

    The end is sticky (``get`` keeps answering ``None``) so a toxic restarted after
    an update still sees that its input has ended, as Go's closed channels do.
    Anything put after the end is dropped: the stream it belonged to is over.
    """

    def __init__(self, budget: LinkBudget) -> None:
        self._chunks: deque[Chunk] = deque()
        self._ended = False
        self._ready = asyncio.Event()
        self._budget = budget

    @property
    def ended(self) -> bool:
        return self._ended

    def put(self, chunk: Chunk) -> None:
        if self._ended or not chunk.data:
            return
        self._chunks.append(chunk)
        self._budget.add(len(chunk.data))
        self._ready.set()

    def put_front(self, chunk: Chunk) -> None:
        """Give back a chunk a stopped toxic was holding, ahead of everything newer."""
        if not chunk.data:
            return
        self._chunks.appendleft(chunk)
        self._budget.add(len(chunk.data))
        self._ready.set()

    def end(self) -> None:
        self._ended = True
        self._ready.set()

    async def get(self) -> Chunk | None:
        """The next chunk, or ``None`` once the stream has ended and is drained.

        Cancel-safe: a chunk is only taken after the last await.
        """
        while not self._chunks:
            if self._ended:
                return None
            self._ready.clear()
            await self._ready.wait()
        chunk = self._chunks.popleft()
        self._budget.remove(len(chunk.data))
        return chunk

    def move_to(self, other: ChunkQueue) -> None:
        """Hand everything (end included) to ``other``, in order, when a stage leaves the chain."""
        while self._chunks:
            chunk = self._chunks.popleft()
            self._budget.remove(len(chunk.data))
            other.put(chunk)
        if self._ended:
            other.end()
