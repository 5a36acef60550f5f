"""One toxic running on one link, which the link can stop and restart at any await point.

Toxicity is rolled once per link when the toxic is attached (and again only if
an update changes the toxicity), so "toxicity 0.3" means three connections in
ten are affected, each for its whole life, rather than a coin flipped anew every
time an unrelated toxic on the proxy changes.
"""
from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING, Any

from chaos.toxiproxy.stream import Chunk, ChunkQueue
from chaos.toxiproxy.stub import ConnectionControl, ToxicStub
from chaos.toxiproxy.toxics.noop import NoopToxic

if TYPE_CHECKING:
    from chaos.toxiproxy.toxic_collection import ToxicEntry

log = logging.getLogger("chaos.toxiproxy.stage")
_NOOP = NoopToxic()


class Stage:
    """A toxic entry bound to one link: its stub, its task, its toxicity roll."""

    def __init__(self, entry: ToxicEntry, input: ChunkQueue, output: ChunkQueue, *,
                 rng: random.Random, control: ConnectionControl) -> None:
        self.entry = entry
        self._rng = rng
        self._control = control
        self.affected = rng.random() < entry.toxicity
        new_state = getattr(entry.toxic, "new_state", None)
        self.stub = ToxicStub(input, output, state=new_state() if new_state else None, rng=rng, control=control)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        toxic: Any = self.entry.toxic if self.affected else _NOOP
        if isinstance(toxic, NoopToxic):
            self._pass_through()
            return
        self._task = asyncio.get_running_loop().create_task(_run(toxic, self.stub, self.entry.name))

    def _pass_through(self) -> None:
        """A stage that changes nothing (noop, or a connection toxicity spared) runs no task: its input
        hands each chunk on to its current output as it arrives, which saves a task switch per chunk."""
        stub = self.stub
        stub.input.move_to(stub.output)  # what waited here goes first, in order
        if stub.input.ended:
            stub.close()
            return

        def forward(chunk: Chunk) -> bool:
            stub.output.put(chunk)
            return True

        stub.input.pass_through(forward, stub.close)

    def _stop_passing(self) -> None:
        self.stub.input.pass_through(None, None)

    def halt(self, *, cleanup: bool = False) -> Chunk | None:
        """Stop the toxic where it stands; return the chunk it held, for the caller to place.

        Synchronous on purpose: once cancelled, the toxic runs no more code that
        touches the stub (it is detached), so the link can rewire queues at once.
        """
        if self._task is not None:
            self._task.cancel()
        self._stop_passing()
        if cleanup and self.affected:
            cleanup_hook = getattr(self.entry.toxic, "cleanup", None)
            if cleanup_hook is not None:
                cleanup_hook(self.stub)
        self.stub.detached = True
        held, self.stub.held = self.stub.held, None
        return held

    def restart(self, entry: ToxicEntry, *, reroll: bool) -> None:
        """Run the updated toxic on the same queues and state (call after ``halt``)."""
        old = self.stub
        self.entry = entry
        if reroll:
            self.affected = self._rng.random() < entry.toxicity
        self.stub = ToxicStub(old.input, old.output, state=old.state, rng=self._rng, control=self._control)
        if old.closed:
            self.stub.closed = True  # this toxic already ended the stream here; nothing left to run
            return
        self.start()

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._stop_passing()
        self.stub.detached = True


async def _run(toxic: Any, stub: ToxicStub, name: str) -> None:
    """Run a toxic; when it returns (or breaks), the stream ends downstream of it."""
    try:
        await toxic.pipe(stub)
    except Exception:
        log.exception("toxic %r failed; closing its link", name)
    stub.close()
