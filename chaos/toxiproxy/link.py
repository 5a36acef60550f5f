"""One direction of one connection: socket reader -> toxic stages, in chain order -> socket writer.

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

from chaos.toxiproxy.stage import Stage
from chaos.toxiproxy.stream import Chunk, ChunkQueue, LinkBudget, Stream
from chaos.toxiproxy.stub import ConnectionControl
from chaos.toxiproxy.toxic_collection import ToxicEntry

log = logging.getLogger("chaos.toxiproxy.link")
READ_SIZE = 64 * 1024
LINK_BUFFER_BYTES = 4 * 1024 * 1024
"""Bytes a link may hold before it stops reading: enough for a latency toxic at tens of MB/s."""


class LinkOwner(ConnectionControl, Protocol):
    def link_finished(self, link: Link) -> None: ...


class Link:
    def __init__(self, stream: Stream, source: asyncio.StreamReader, dest: asyncio.StreamWriter, *,
                 rng: random.Random, owner: LinkOwner) -> None:
        self.stream = stream
        self.finished = False
        self._source = source
        self._dest = dest
        self._rng = rng
        self._owner = owner
        self._budget = LinkBudget(LINK_BUFFER_BYTES)
        self._tail = ChunkQueue(self._budget)
        self._source_ended = False
        self._stages: list[Stage] = []
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read()), loop.create_task(self._write())]

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
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

    # the two ends

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self._budget.wait_for_room()
                data = await self._source.read(READ_SIZE)
                if not data:
                    break
                self._head().put(Chunk(data, loop.time()))
        except OSError as exc:
            log.debug("%s source ended: %s", self.stream.value, exc)
        finally:
            self._source_ended = True
            self._head().end()

    async def _write(self) -> None:
        try:
            while (chunk := await self._tail.get()) is not None:
                self._dest.write(chunk.data)
                await self._dest.drain()
        except OSError as exc:
            log.debug("%s destination failed: %s", self.stream.value, exc)
        finally:
            self._dest.close()
            self.finished = True
        self._owner.link_finished(self)
