"""What a target can do for the nemesis, as small protocols (Jepsen's ``db/Kill``, ``db/Pause``):
``Pause``, ``Kill``, ``Disconnect``, ``Forget``, ``Exhaust`` and ``Scale``, and ``Heal`` for what
healing reads.

A fault asks for one capability, not for the whole ``Cluster``: ``Pause``
needs only ``pause`` and ``unpause``, so a fault's type says what it uses
and any target with those methods serves it. Both targets satisfy them:
``Cluster`` on its containers, ``RunningTarget`` on the processes its
profile names (``run.running.processes``).

The protocols say which methods exist, not whether this one target will
honour a call: an already-running target has ``disconnect`` and ``scale``
only to refuse them with the reason (``UnsupportedFault``), and whether a
profile lets its processes be paused is in its profile. That question is
``chaos.target.needs``'s, which skips a scenario before it starts; a
``runtime_checkable`` check here only tells a target from something else.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Pause(Protocol):
    """Freeze a process mid-instruction, every lock and connection held; ``unpause`` is idempotent."""

    def pause(self, name: str) -> None: ...

    def unpause(self, name: str) -> None: ...


@runtime_checkable
class Kill(Protocol):
    """End a process (a signal, or a graceful stop) and start it again."""

    def kill(self, name: str, signal: str = "SIGKILL") -> None: ...

    def stop(self, name: str) -> None: ...

    def start_again(self, name: str) -> None: ...

    def restart(self, name: str) -> None: ...


@runtime_checkable
class Disconnect(Protocol):
    """Take a party off the network (every peer connection breaks) and put it back."""

    def disconnect(self, name: str) -> None: ...

    def connect(self, name: str) -> None: ...


@runtime_checkable
class Forget(Protocol):
    """Delete a family of keys in the target's Redis while it runs (``forget``), and name the families."""

    def forget(self, family: str) -> int: ...

    def redis_families(self) -> Mapping[str, Any]: ...


@runtime_checkable
class Exhaust(Protocol):
    """Take every free PostgreSQL connection and hold it (``exhaust``), tell whether it is held, let go."""

    def exhaust(self) -> int: ...

    def exhausted(self) -> tuple[int, int] | None: ...

    def release_connections(self) -> None: ...


@runtime_checkable
class Scale(Protocol):
    """Change how many instances of a role (api, worker) run; ``of`` lists them."""

    def scale(self, service: str, count: int) -> None: ...

    def of(self, service: str) -> Sequence[Any]: ...


@runtime_checkable
class Heal(Protocol):
    """What healing reads and waits on: every container (or process) and its health."""

    def containers(self) -> Sequence[Any]: ...

    def container(self, name: str) -> Any: ...

    def wait_healthy(self, containers: Sequence[Any], timeout_s: float = ...) -> None: ...


CAPABILITIES = (Pause, Kill, Disconnect, Forget, Exhaust, Scale, Heal)
