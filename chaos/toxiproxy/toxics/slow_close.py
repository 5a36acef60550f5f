"""slow_close: data passes untouched, but the close is held back ``delay`` ms."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from chaos.toxiproxy.stub import ToxicStub


@dataclass(frozen=True)
class SlowCloseToxic:
    delay: int = 0
    """Milliseconds between the end of the stream and the close reaching the other side."""

    async def pipe(self, stub: ToxicStub) -> None:
        while await stub.receive() is not None:
            stub.forward()
        await asyncio.sleep(self.delay / 1000)
