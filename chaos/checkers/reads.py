"""The shapes of final reads and journals the checkers take, and the one way ids are compared.

A service's ids are whatever JSON scalars it chose: billing's integers, a
UUID string, an invoice number. Final reads arrive from JSON (keys are
strings: ``{"7": [...]}``) or from Python (``{7: [...]}``), and a reply may
say ``"7"`` where the read says ``7``. So ids are never cast; they are
compared through ``ident``, which makes ``7`` and ``"7"`` one id and leaves
every other string (a UUID) exactly as it is.

An identity (the fields that make two invoices "the same" for at-most-once)
is declared by the target profile, never assumed here: ``identity_of`` reads
it from a row or a call and says which fields were not there, so a checker
can report "not checked" instead of inventing a duplicate from a missing
field.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

Key = tuple[Any, ...]  # an identity's values, in the order of its declared fields


class Invoice(TypedDict, total=False):
    invoice_id: Any          # any JSON scalar: 7, "7", "6f1c…"
    user_id: Any
    period: str
    subscription_id: Any
    amount: str


class EventRead(TypedDict):
    capacity: int
    available: int
    tickets: list[dict[str, Any]]   # {ticket_id, quantity, ...}


class SlotRead(TypedDict):
    capacity: int
    booked: int
    bookings: list[dict[str, Any]]  # {booking_id, ...}


class LockEvent(TypedDict, total=False):
    kind: str            # acquire / renew / release / write
    key: str             # "invoice:<user>:<period>"
    token: str
    instance: str
    t: float             # wall seconds
    expire_s: float
    fence: int | None
    accepted: bool


def ident(value: Any) -> Any:
    """An id in the form ids are compared in: an int when it is one (7, "7"), else unchanged
    (a UUID stays the string it is). Never raises; a non-scalar becomes its JSON text, so that
    it can still be a dictionary key."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        stripped = value.strip()
        digits = stripped[1:] if stripped[:1] == "-" else stripped
        if digits.isdigit() and digits.isascii():
            return int(stripped)
        return value
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def identity_of(row: Mapping[str, Any], fields: Sequence[str],
                fallback: Mapping[str, Any] | None = None) -> tuple[Key | None, list[str]]:
    """(the identity of ``row`` by ``fields``, the fields it lacks). A field missing or null in
    ``row`` is taken from ``fallback`` (e.g. the user a per-user read was made for); the identity
    is None when any field is still missing."""
    values, missing = [], []
    for name in fields:
        value = row.get(name) if isinstance(row, Mapping) else None
        if value is None and fallback is not None:
            value = fallback.get(name)
        if value is None:
            missing.append(name)
        values.append(ident(value))
    return (None if missing else tuple(values)), missing


def rows(final: Mapping[Any, Sequence[Mapping[str, Any]]] | None) -> list[tuple[Any, Mapping[str, Any]]]:
    """(the read's key as an id, row) for every row of a per-key final read."""
    return [(ident(key), row) for key, read in (final or {}).items() for row in (read or ())]


def show(key: Key, fields: Sequence[str]) -> str:
    """An identity as a reader says it: ``user_id 7, period 2026-01``."""
    return ", ".join(f"{name} {value}" for name, value in zip(fields, key))


def count(items: Iterable[Any]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for item in items:
        totals[str(item)] += 1
    return dict(totals)


def as_number(value: Any) -> int | None:
    """A counter or quantity as an int, or None when it is not one (never raises)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                return None
            return int(number) if number.is_integer() else None
    return None
