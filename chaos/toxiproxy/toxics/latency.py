"""latency: every chunk leaves ``latency`` ms (+/- ``jitter`` ms) after it was read.

The delay counts from when the chunk was read, not from when this toxic got it,
so a burst is delayed once rather than chunk after chunk, and two latency toxics
in a chain add up.
"""
from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from chaos.toxiproxy.stub import ToxicStub


@dataclass(frozen=True)
class LatencyToxic:
    latency: int = 0
    """Milliseconds added to every chunk."""
    jitter: int = 0
    """Milliseconds of uniform random variation either side of ``latency``."""

    def delay_s(self, rng: random.Random) -> float:
        delay = self.latency
        if self.jitter > 0:
            delay += rng.randint(-self.jitter, self.jitter)
        return max(delay, 0) / 1000

    async def pipe(self, stub: ToxicStub) -> None:
        loop = asyncio.get_running_loop()
        while (chunk := await stub.receive()) is not None:
            release_at = chunk.timestamp + self.delay_s(stub.rng)
            await asyncio.sleep(max(0.0, release_at - loop.time()))
            chunk.timestamp = release_at
            stub.forward()
