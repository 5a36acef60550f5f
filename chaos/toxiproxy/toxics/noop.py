"""noop: passes everything through; also what a link runs when toxicity says "not this connection"."""
from __future__ import annotations

from dataclasses import dataclass

from chaos.toxiproxy.stub import ToxicStub


@dataclass(frozen=True)
class NoopToxic:
    async def pipe(self, stub: ToxicStub) -> None:
        while await stub.receive() is not None:
            stub.forward()
