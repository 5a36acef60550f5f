"""One direction of one connection: source socket -> toxic stages, in chain order -> destination socket.

With no toxic the link is a fast path: bytes read from the source are written to
the destination inside the same callback, with no queue and no task switch (and
the last toxic's output, too, goes straight to the socket while it takes more). The
moment a toxic is added, new bytes go to its input instead; bytes already
written are ahead of them on the socket, and bytes still queued at the tail are
ahead of the toxic's output, so switching loses and reorders nothing. When the
last toxic leaves, the source is not read until the tail has drained, and then
the fast path resumes (without that pause, a destination slower than its source
would keep the tail from ever draining).

An idle fast path (nothing queued here or in the destination's transport)
goes one step further and hands the sockets to a splice pump (``splice.py``),
which moves bytes in the kernel. A toxic arriving takes them back at once:
the pump stops reading, what its pipe holds is written to the destination
ahead of everything newer, and the source's transport reads again into the
toxic. An end or an error the pump meets is the same end or error the
protocol path would have met.

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
from chaos.toxiproxy.splice import SplicePump, splice_available
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
        self._can_splice = False
        self._pump: SplicePump | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._write())

    def enable_splice(self) -> None:
        """Splice whenever the link is idle on the fast path (once both endpoints are attached)."""
        if not self.finished:
            self._can_splice = splice_available(asyncio.get_running_loop())
            self._try_splice()

    def cancel(self) -> None:
        self._can_splice = False
        self.release_splice()
        if self._task is not None:
            self._task.cancel()
        for stage in self._stages:
            stage.cancel()

    # chain changes (called by the proxy's ToxicCollection)

    def add_toxic(self, entry: ToxicEntry) -> None:
        self.release_splice()  # before the chain changes: the pipe's bytes are ahead of the toxic's
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
        if not self._stages:
            if self._tail.empty:
                self._tail_drained()
            else:
                self._update_reading()  # paused until the tail has drained

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
            if self._can_splice:
                self._try_splice()
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
            if self._can_splice:
                self._try_splice()  # the destination's buffer has just emptied
        self._update_reading()

    def on_dest_lost(self) -> None:
        """Nothing more can be delivered: what is queued is dropped and the link finishes."""
        self._dest_lost = True
        self._tail.end()
        self._writable.set()

    def _on_budget_full(self, full: bool) -> None:
        self._update_reading()

    def _update_reading(self) -> None:
        if self._pump is None:  # while splicing, the pump alone reads the source
            self._source.pause_reading(self._budget.full or self._dest_paused or self._draining())

    def _draining(self) -> bool:
        """No toxic is left, but the tail still holds their output."""
        return not self._stages and not self._tail.empty and not self._tail.ended and not self._dest_lost

    # the splice pump

    def _try_splice(self) -> None:
        """Hand the sockets to a pump if nothing of this link is anywhere but in the kernel."""
        if (self._pump is not None or not self._can_splice or self._stages or not self._tail.empty
                or self._tail.ended or self._source_ended or self._dest_lost or self._dest_paused
                or self._budget.full or self._dest.write_buffer_size()):
            return
        source_fd, dest_fd = self._source.splice_fd(), self._dest.splice_fd()
        if source_fd is None or dest_fd is None:
            return
        pump = SplicePump.open(asyncio.get_running_loop(), source_fd, dest_fd, events=self, meter=self._meter)
        if pump is None:
            return
        self._source.pause_reading(True)  # the transport stops reading before the pump starts
        self._pump = pump
        pump.start()

    def release_splice(self, *, deliver: bool = True, resume: bool = True) -> None:
        """Take the bytes back from the pump: it stops reading, and what its pipe held is written now,
        ahead of anything the source's transport reads next (``resume``)."""
        pump, self._pump = self._pump, None
        if pump is None:
            return
        leftover = pump.stop()
        if leftover and deliver and not self._dest.lost:
            self._send(leftover)
        if resume:
            self._update_reading()

    def on_splice_eof(self) -> None:
        """As the transport's ``eof_received``: the source stays paused, it has nothing more to give."""
        self.release_splice(resume=False)
        self.on_source_end()

    def on_splice_source_failed(self) -> None:
        """As the transport's fatal read error: the source is aborted (and its connection loss follows)."""
        self.release_splice(resume=False)
        self._source.abort()

    def on_splice_dest_failed(self) -> None:
        """As the transport's fatal write error: the destination is aborted, the pipe's bytes with it."""
        self.release_splice(deliver=False)
        self._dest.abort()

    def on_splice_unsupported(self) -> None:
        self._can_splice = False
        self.release_splice()

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

    def _tail_drained(self) -> None:
        """The last toxic's output has all gone: read the source again, on the fast path (or by a pump)."""
        if self._can_splice:
            self._try_splice()
        self._update_reading()

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
                if not self._stages and self._tail.empty:
                    self._tail_drained()
                if self._dest_paused:
                    await self._writable.wait()
        except asyncio.CancelledError:
            self._dest.close()
            self.finished = True
            raise
        self._finish_writing()
