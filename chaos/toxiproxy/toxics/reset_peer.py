"""reset_peer: ``timeout`` ms after the first data (or the end of the stream), reset the connection.

Both sides get a TCP RST ("connection reset by peer") and the data in flight is
lost, which is how a client meets an ambiguous outcome: the request may have
been processed, the response never arrives.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from chaos.toxiproxy.stub import ToxicStub


@dataclass(frozen=True)
class ResetPeerToxic:
    timeout: int = 0
    """Milliseconds between the first data and the reset; 0 resets at once."""

    async def pipe(self, stub: ToxicStub) -> None:
        await stub.receive()
        await asyncio.sleep(self.timeout / 1000)
        stub.discard()
        stub.reset_connection()
