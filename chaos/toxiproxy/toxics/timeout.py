"""timeout: nothing gets through; the connection closes after ``timeout`` ms (never if 0).

Removing it closes the connections it was affecting: the bytes it swallowed
cannot be given back, and a stream with a hole in it is worse than a closed one.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from chaos.toxiproxy.stub import ToxicStub


@dataclass(frozen=True)
class TimeoutToxic:
    timeout: int = 0
    """Milliseconds before the connection is closed; 0 holds it open, swallowing data, forever."""

    async def pipe(self, stub: ToxicStub) -> None:
        if self.timeout == 0:
            await _swallow(stub)
            return
        try:
            async with asyncio.timeout(self.timeout / 1000):
                await _swallow(stub)
        except TimeoutError:
            pass

    def cleanup(self, stub: ToxicStub) -> None:
        stub.close()


async def _swallow(stub: ToxicStub) -> None:
    while await stub.receive() is not None:
        stub.discard()
