"""A proxy's toxics: one ordered chain per direction, pushed to every live link.

The chain is the truth for new connections; live links get each change as it
happens (in the event loop, so no link ever sees half a change).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from chaos.toxiproxy.errors import TOXIC_ALREADY_EXISTS, TOXIC_NOT_FOUND
from chaos.toxiproxy.stream import Stream
from chaos.toxiproxy.toxics import attributes_json


@dataclass(frozen=True)
class ToxicEntry:
    """A toxic as the API shows it: its wrapper fields and the configured toxic."""

    name: str
    type: str
    stream: Stream
    toxicity: float
    """A ``wire.Float32``, as Go keeps it, so it prints ``1`` and ``0.1``."""
    toxic: Any

    def to_json(self) -> dict[str, Any]:
        return {"attributes": attributes_json(self.toxic), "name": self.name, "type": self.type,
                "stream": self.stream.value, "toxicity": self.toxicity}


class LiveLink(Protocol):
    stream: Stream

    def add_toxic(self, entry: ToxicEntry) -> None: ...

    def update_toxic(self, entry: ToxicEntry, *, reroll: bool) -> None: ...

    def remove_toxic(self, name: str) -> None: ...


class ToxicCollection:
    def __init__(self) -> None:
        self._chains: dict[Stream, list[ToxicEntry]] = {Stream.UPSTREAM: [], Stream.DOWNSTREAM: []}
        self._links: set[LiveLink] = set()

    def entries(self) -> list[ToxicEntry]:
        """Upstream chain then downstream chain, each in order, as Toxiproxy lists them."""
        return [*self._chains[Stream.UPSTREAM], *self._chains[Stream.DOWNSTREAM]]

    def has(self, name: str) -> bool:
        return any(entry.name == name for entry in self.entries())

    def get(self, name: str) -> ToxicEntry:
        for entry in self.entries():
            if entry.name == name:
                return entry
        raise TOXIC_NOT_FOUND()

    def add(self, entry: ToxicEntry) -> None:
        if any(existing.name == entry.name for existing in self.entries()):
            raise TOXIC_ALREADY_EXISTS()
        self._chains[entry.stream].append(entry)
        for link in self._links_of(entry.stream):
            link.add_toxic(entry)

    def update(self, name: str, *, toxicity: float | None, toxic: Any) -> ToxicEntry:
        current = self.get(name)
        updated = replace(current, toxic=toxic, toxicity=current.toxicity if toxicity is None else toxicity)
        chain = self._chains[current.stream]
        chain[chain.index(current)] = updated
        for link in self._links_of(current.stream):
            link.update_toxic(updated, reroll=updated.toxicity != current.toxicity)
        return updated

    def remove(self, name: str) -> None:
        entry = self.get(name)
        self._chains[entry.stream].remove(entry)
        for link in self._links_of(entry.stream):
            link.remove_toxic(name)

    def reset(self) -> None:
        for entry in reversed(self.entries()):
            self.remove(entry.name)

    def attach(self, link: LiveLink) -> None:
        """A new link starts with the current chain of its direction."""
        self._links.add(link)
        for entry in self._chains[link.stream]:
            link.add_toxic(entry)

    def detach(self, link: LiveLink) -> None:
        self._links.discard(link)

    def _links_of(self, stream: Stream) -> list[LiveLink]:
        return [link for link in self._links if link.stream == stream]
