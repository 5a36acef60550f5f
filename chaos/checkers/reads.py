"""The shapes of final reads and journals the checkers take, and their normalisation.

Final reads arrive from JSON (keys may be strings: ``{"7": [...]}``) or from
Python (``{7: [...]}``); ids are compared after ``ident`` so both agree.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

Key = tuple[Any, str]  # (user id, billing period)


class Invoice(TypedDict, total=False):
    invoice_id: int
    user_id: int
    period: str
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
    """An id as an int when it is one (7, "7"), else unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def invoices_by_key(final: Mapping[Any, Sequence[Invoice]]) -> dict[Key, list[Invoice]]:
    """The final read grouped by (user, period); an invoice's own user_id wins over the read's key."""
    grouped: dict[Key, list[Invoice]] = defaultdict(list)
    for user, invoices in final.items():
        for invoice in invoices:
            grouped[(ident(invoice.get("user_id", user)), str(invoice["period"]))].append(invoice)
    return grouped


def key_of(value: Mapping[str, Any]) -> Key:
    return ident(value["user_id"]), str(value["period"])


def count(items: Iterable[Any]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for item in items:
        totals[str(item)] += 1
    return dict(totals)
