"""The toxic interface: configuration is the toxic's public fields, behaviour is one method.

A toxic is a frozen dataclass whose fields are exactly its Toxiproxy attributes
(all non-negative integers), plus ``async def pipe(self, stub)``, which moves
chunks from ``stub.input`` to ``stub.output`` until the stream ends or the toxic
decides to end it. Returning ends the stream downstream of the toxic.

Rules for ``pipe`` (so the link can stop it at any await point):
await only ``stub.receive()`` and sleeps; keep the chunk in hand on the stub,
never in a local across an await; never catch ``CancelledError``.

Optional capabilities, detected at run time:
``new_state() -> object`` for per-link state that survives updates (limit_data);
``cleanup(stub)`` called when the toxic is removed from a link it was affecting
(timeout closes the link, since the data it dropped cannot be given back);
``validate()`` raising ``InvalidAttribute`` for rules across fields (slicer).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from chaos.toxiproxy.stub import ToxicStub

INT64_MAX = 2**63 - 1


class InvalidAttribute(ValueError):
    """An attribute value the toxic cannot work with; the message names the attribute."""


class Toxic(Protocol):
    async def pipe(self, stub: ToxicStub) -> None: ...


T = TypeVar("T")


def attribute_names(toxic_type: type[Any]) -> list[str]:
    return [field.name for field in dataclasses.fields(toxic_type)]


def build_toxic(toxic_type: type[T], attributes: Mapping[str, Any], base: T | None = None) -> T:
    """A configured toxic from JSON attributes, starting from ``base`` for partial updates.

    Unknown attribute names are ignored, as Go's JSON decoder ignores them, so
    clients written for newer Toxiproxy versions still work.
    """
    values: dict[str, Any] = dataclasses.asdict(base) if base is not None else {}  # type: ignore[call-overload]
    for name in attribute_names(toxic_type):
        if name in attributes and attributes[name] is not None:
            values[name] = _non_negative_int(attributes[name], f"attributes.{name}")
    toxic = toxic_type(**values)
    validate = getattr(toxic, "validate", None)
    if validate is not None:
        validate()
    return toxic


def _non_negative_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidAttribute(f"{where}: expected a non-negative integer, got {type(value).__name__}")
    if isinstance(value, float):
        if not value.is_integer():
            raise InvalidAttribute(f"{where}: expected a non-negative integer, got {value!r}")
        value = int(value)
    if value < 0:
        raise InvalidAttribute(f"{where}: must not be negative, got {value}")
    if value > INT64_MAX:
        raise InvalidAttribute(f"{where}: out of range, got {value}")
    return int(value)


def attributes_json(toxic: object) -> dict[str, int]:
    return dataclasses.asdict(toxic)  # type: ignore[call-overload,no-any-return]
