"""limit_data: the connection closes once ``bytes`` bytes have passed this way.

The count lives in per-link state so that updating the limit on a live
connection does not start the count again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from chaos.toxiproxy.stub import ToxicStub


@dataclass
class LimitDataState:
    transmitted: int = 0


@dataclass(frozen=True)
class LimitDataToxic:
    bytes: int = 0
    """Bytes allowed through before the connection is closed."""

    def new_state(self) -> LimitDataState:
        return LimitDataState()

    async def pipe(self, stub: ToxicStub) -> None:
        state = cast(LimitDataState, stub.state)
        while (chunk := await stub.receive()) is not None:
            allowed = min(max(self.bytes - state.transmitted, 0), len(chunk.data))
            stub.forward(allowed)
            state.transmitted += allowed
            stub.discard()
            if state.transmitted >= self.bytes:
                return
