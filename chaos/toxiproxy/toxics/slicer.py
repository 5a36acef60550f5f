"""slicer: chunks leave in pieces of about ``average_size`` bytes, ``delay`` µs apart.

An ``average_size`` of 0 (the default, which the Go server accepts and then
crashes on) slices nothing: chunks pass whole, after the delay.

Pieces come from splitting a chunk roughly in half, again and again, each cut
moved by up to ``size_variation`` bytes, so sizes vary evenly through the chunk.
"""
from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from chaos.toxiproxy.stub import ToxicStub
from chaos.toxiproxy.toxics.base import InvalidAttribute


@dataclass(frozen=True)
class SlicerToxic:
    average_size: int = 0
    """Bytes in an average piece."""
    size_variation: int = 0
    """Bytes a cut may move either way; must be smaller than ``average_size``."""
    delay: int = 0
    """Microseconds after each piece."""

    def validate(self) -> None:
        if self.average_size > 0 and self.size_variation >= self.average_size:
            raise InvalidAttribute(
                f"attributes.size_variation: must be smaller than average_size ({self.average_size}), "
                f"got {self.size_variation}")

    def piece_sizes(self, size: int, rng: random.Random) -> list[int]:
        """Sizes of the pieces of a ``size``-byte chunk, in order.

        Terminates because a segment is only cut when longer than
        ``average_size + size_variation`` and both halves keep at least one byte.
        """
        if self.average_size < 1:
            return [size]
        sizes: list[int] = []
        pending = [size]
        while pending:
            length = pending.pop()
            if length - self.average_size <= self.size_variation:
                sizes.append(length)
                continue
            shift = rng.randint(-self.size_variation, self.size_variation) if self.size_variation else 0
            left = length // 2 + shift
            pending.append(length - left)
            pending.append(left)
        return sizes

    async def pipe(self, stub: ToxicStub) -> None:
        while (chunk := await stub.receive()) is not None:
            for size in self.piece_sizes(len(chunk.data), stub.rng):
                stub.forward(size)
                await asyncio.sleep(self.delay / 1_000_000)
