"""What one toxic sees of one link: its input, its output, and the chunk it holds.

The stub, not the toxic, records the chunk in hand. That is what lets the link
stop a toxic at any await point (to update or remove it) without losing data:
whatever is still held goes back to the input (update) or on to the output
(removal). Toxics therefore keep no data in local variables across an await.
"""
from __future__ import annotations

import random
from typing import Protocol

from chaos.toxiproxy.stream import Chunk, ChunkQueue


class ConnectionControl(Protocol):
    """The one thing a toxic may do to the whole connection."""

    def reset(self) -> None:
        """Abort both sockets with a TCP RST."""


class ToxicStub:
    """One toxic's place in one link."""

    def __init__(self, input: ChunkQueue, output: ChunkQueue, *, state: object, rng: random.Random,
                 control: ConnectionControl) -> None:
        self.input = input
        self.output = output
        self.state = state
        self.rng = rng
        self.held: Chunk | None = None
        self.closed = False
        self.detached = False
        self._control = control

    async def receive(self) -> Chunk | None:
        """Take the next chunk into hand; ``None`` means the stream has ended."""
        if self.held is not None:
            raise RuntimeError("a toxic must forward or discard the chunk it holds before taking another")
        chunk = await self.input.get()
        self.held = chunk
        return chunk

    def forward(self, nbytes: int | None = None) -> None:
        """Pass on the first ``nbytes`` of the held chunk (all of it by default)."""
        held = self.held
        if held is None or self.detached:
            return
        if nbytes is None or nbytes >= len(held.data):
            self.held = None
            self.output.put(held)
        elif nbytes > 0:
            self.output.put(Chunk(held.data[:nbytes], held.timestamp))
            held.data = held.data[nbytes:]

    def discard(self) -> None:
        """Drop the held chunk: only for toxics whose meaning is losing data."""
        self.held = None

    def close(self) -> None:
        """End the stream downstream of this toxic; the link then closes its destination."""
        if self.detached or self.closed:
            return
        self.closed = True
        self.output.end()

    def reset_connection(self) -> None:
        """Reset the whole connection (both sockets get a RST)."""
        if not self.detached:
            self._control.reset()
