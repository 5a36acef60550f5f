"""Chunks of one direction of a connection, and the queues between its toxic stages.

Stages hand chunks on without awaiting (the queues have no bound), so a stage can
be stopped at any of its await points and nothing is ever half-sent. Backpressure
is applied once, at the socket reader, from the bytes waiting anywhere in the
link (``LinkBudget``), which is what keeps memory bounded.

``ChunkQueue.empty`` is what the link's fast path asks: only when nothing waits
may a chunk skip the queue, so skipping never reorders bytes.
"""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
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
    """Bytes queued anywhere in one link; ``on_full(True)`` when it reaches the limit, ``on_full(False)`` below it.

    The link pauses reading its source while the budget is full.
    """

    def __init__(self, limit: int, on_full: Callable[[bool], None] = lambda full: None) -> None:
        self.limit = limit
        self.queued = 0
        self.full = False
        self._on_full = on_full

    def add(self, nbytes: int) -> None:
        self.queued += nbytes
        if not self.full and self.queued >= self.limit:
            self.full = True
            self._on_full(True)

    def remove(self, nbytes: int) -> None:
        self.queued -= nbytes
        if self.full and self.queued < self.limit:
            self.full = False
            self._on_full(False)


class ChunkQueue:
    """A FIFO of chunks ending in a sticky end-of-stream.

    The end is sticky (``get`` keeps answering ``None``) so a toxic restarted after
    an update still sees that its input has ended, as Go's closed channels do.
    Anything put after the end is dropped: the stream it belonged to is over.
    """

    def __init__(self, budget: LinkBudget, sink: Callable[[Chunk], bool] | None = None,
                 on_end: Callable[[], None] | None = None) -> None:
        """``sink`` may take a chunk at once when nothing waits ahead of it (the link's writer, when
        its socket can take more), which saves the task switch to whoever would ``get`` it;
        ``on_end`` hears the end at once when nothing waits ahead of it."""
        self._chunks: deque[Chunk] = deque()
        self._ended = False
        self._ready = asyncio.Event()
        self._budget = budget
        self._sink = sink
        self._on_end = on_end

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def empty(self) -> bool:
        return not self._chunks

    def put(self, chunk: Chunk) -> None:
        if self._ended or not chunk.data:
            return
        if self._sink is not None and not self._chunks and self._sink(chunk):
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
        if self._on_end is not None and not self._chunks:
            self._on_end()

    def pass_through(self, sink: Callable[[Chunk], bool] | None, on_end: Callable[[], None] | None) -> None:
        """Hand every chunk to ``sink`` and the end to ``on_end`` as they come, with no consumer task
        (a stage that changes nothing); ``None, None`` turns it back into a plain queue."""
        self._sink = sink
        self._on_end = on_end

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
