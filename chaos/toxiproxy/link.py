"""One direction of one connection: source socket -> toxic stages, in chain order -> destination socket.

With no toxic the link is a fast path: bytes read from the source are written to
the destination inside the same callback, with no queue and no task switch (and
the last toxic's output, too, goes straight to the socket while it takes more). The
moment a toxic is added, new bytes go to its input instead; bytes already
written are ahead of them on the socket, and bytes still queued at the tail are
ahead of the toxic's output, so switching loses and reorders nothing. When the
last toxic leaves, the fast path resumes once the tail has drained.

Changes to the chain reach a live link without dropping it: an added toxic is
spliced in front of the writer, an updated one is stopped and restarted on the
same queues with the chunk it held given back to its input, and a removed one
passes on what it held and what waited for it. When the stream ends (or writing
fails) the writer closes its destination socket, which is how an end travels to
the other direction, as in Toxiproxy.
"""
from __future__ import annotations

import asyncio
import logging
import random
from typing import Protocol

from chaos.toxiproxy.endpoint import Endpoint
from chaos.toxiproxy.stage import Stage
from chaos.toxiproxy.stream import Chunk, ChunkQueue, LinkBudget, Stream
from chaos.toxiproxy.stub import ConnectionControl
from chaos.toxiproxy.toxic_collection import ToxicEntry

log = logging.getLogger("chaos.toxiproxy.link")
LINK_BUFFER_BYTES = 4 * 1024 * 1024
"""Bytes a link may hold before it stops reading: enough for a latency toxic at tens of MB/s."""


class LinkOwner(ConnectionControl, Protocol):
    def link_finished(self, link: Link) -> None: ...


class ByteMeter(Protocol):
    """Where a link counts the bytes it received and sent (the proxy metrics), if anywhere."""

    def received(self, nbytes: int) -> None: ...

    def sent(self, nbytes: int) -> None: ...


class Link:
    def __init__(self, stream: Stream, source: Endpoint, dest: Endpoint, *, rng: random.Random,
                 owner: LinkOwner, meter: ByteMeter | None = None) -> None:
        self.stream = stream
        self.finished = False
        self._source = source
        self._dest = dest
        self._rng = rng
        self._owner = owner
        self._meter = meter
        self._budget = LinkBudget(LINK_BUFFER_BYTES, self._on_budget_full)
        self._tail = ChunkQueue(self._budget, sink=self._deliver, on_end=self._finish_writing)
        self._source_ended = False
        self._dest_paused = False
        self._dest_lost = False
        self._writable = asyncio.Event()
        self._writable.set()
        self._stages: list[Stage] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._write())

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for stage in self._stages:
            stage.cancel()

    # chain changes (called by the proxy's ToxicCollection)

    def add_toxic(self, entry: ToxicEntry) -> None:
        queue = ChunkQueue(self._budget)
        if self._stages:
            last = self._stages[-1].stub
            if last.closed:
                queue.end()
            last.output = queue
        elif self._source_ended:
            queue.end()
        stage = Stage(entry, queue, self._tail, rng=self._rng, control=self._owner)
        self._stages.append(stage)
        stage.start()

    def update_toxic(self, entry: ToxicEntry, *, reroll: bool) -> None:
        stage = self._stage(entry.name)
        held = stage.halt()
        if held is not None:
            stage.stub.input.put_front(held)
        stage.restart(entry, reroll=reroll)

    def remove_toxic(self, name: str) -> None:
        stage = self._stage(name)
        index = self._stages.index(stage)
        held = stage.halt(cleanup=True)
        if held is not None:
            stage.stub.output.put(held)
        stage.stub.input.move_to(stage.stub.output)
        if index > 0:
            self._stages[index - 1].stub.output = stage.stub.output
        del self._stages[index]

    def _stage(self, name: str) -> Stage:
        for stage in self._stages:
            if stage.entry.name == name:
                return stage
        raise KeyError(name)

    def _head(self) -> ChunkQueue:
        return self._stages[0].stub.input if self._stages else self._tail

    # the source (callbacks of the source endpoint)

    def on_data(self, data: bytes) -> None:
        if self._meter is not None:
            self._meter.received(len(data))
        if not self._stages and self._tail.empty and not self._tail.ended and not self._dest_lost:
            self._send(data)  # the fast path: nothing is queued ahead of these bytes
            return
        self._head().put(Chunk(data, asyncio.get_running_loop().time()))

    def on_source_end(self) -> None:
        if not self._source_ended:
            self._source_ended = True
            self._head().end()

    # the destination (callbacks of the destination endpoint)

    def on_dest_paused(self, paused: bool) -> None:
        self._dest_paused = paused
        if paused:
            self._writable.clear()
        else:
            self._writable.set()
        self._update_reading()

    def on_dest_lost(self) -> None:
        """Nothing more can be delivered: what is queued is dropped and the link finishes."""
        self._dest_lost = True
        self._tail.end()
        self._writable.set()

    def _on_budget_full(self, full: bool) -> None:
        self._update_reading()

    def _update_reading(self) -> None:
        self._source.pause_reading(self._budget.full or self._dest_paused)

    def _deliver(self, chunk: Chunk) -> bool:
        """The tail's sink: a chunk nothing waits ahead of goes out at once while the socket takes more."""
        if self._dest_paused or self._dest_lost:
            return False
        self._send(chunk.data)
        return True

    def _send(self, data: bytes) -> None:
        self._dest.write(data)
        if self._meter is not None:
            self._meter.sent(len(data))

    def _finish_writing(self) -> None:
        """The stream ended with nothing left to write: close the destination now, in the same step as
        the end (as Go's writer returns and closes), so nothing can slip out of the other side first."""
        if self.finished:
            return
        self._dest.close()
        self.finished = True
        self._owner.link_finished(self)

    async def _write(self) -> None:
        """The tail's chunks to the destination, waiting while its send buffer is over the high-water mark."""
        try:
            while (chunk := await self._tail.get()) is not None and not self._dest_lost:
                self._send(chunk.data)
                if self._dest_paused:
                    await self._writable.wait()
        except asyncio.CancelledError:
            self._dest.close()
            self.finished = True
            raise
        self._finish_writing()
