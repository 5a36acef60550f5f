"""bandwidth: at most ``rate`` KB/s (1 KB = 1000 bytes, as in Toxiproxy).

Large chunks leave in slices of 100 ms worth of bytes, so a slow rate trickles
instead of stalling and then bursting. A rate of 0 lets nothing through (the
data waits in the link, and the reader stops reading once the link is full).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from chaos.toxiproxy.stub import ToxicStub

SLICE_S = 0.1


@dataclass(frozen=True)
class BandwidthToxic:
    rate: int = 0
    """Kilobytes (1000 bytes) per second."""

    async def pipe(self, stub: ToxicStub) -> None:
        if self.rate == 0:
            await asyncio.Event().wait()  # nothing passes until the toxic is updated or removed
            return
        loop = asyncio.get_running_loop()
        bytes_per_s = self.rate * 1000
        slice_bytes = max(1, int(bytes_per_s * SLICE_S))
        free_at = loop.time()
        while await stub.receive() is not None:
            free_at = max(free_at, loop.time())
            while stub.held is not None:
                piece = min(len(stub.held.data), slice_bytes)
                free_at += piece / bytes_per_s
                await asyncio.sleep(max(0.0, free_at - loop.time()))
                stub.forward(piece)
