"""Operations of the contract as data: what to call, and what goes into the history.

An operation names its ``f`` and ``value`` (what the checkers read) and how
to perform it on a client. Whether it is a write decides how an ambiguous
outcome is classified: a 5xx or a lost connection after a write may have
taken effect (``info``), after a read it certainly changed nothing (``fail``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from chaos.workload.client import BillingClient


@dataclass(frozen=True)
class Operation:
    f: str
    value: dict[str, Any]
    call: Callable[[BillingClient], requests.Response] = field(compare=False)
    write: bool = True


def generate_invoice(user_id: int, period: str) -> Operation:
    return Operation("generate_invoice", {"user_id": user_id, "period": period},
                     lambda c: c.generate_invoice(user_id, period))


def slow_invoice(user_id: int, period: str, hold_s: float) -> Operation:
    return Operation("generate_invoice", {"user_id": user_id, "period": period, "hold_s": hold_s},
                     lambda c: c.slow_invoice(user_id, hold_s, period))


def generate_invoice_async(user_id: int, period: str, **test_params: float) -> Operation:
    return Operation("generate_invoice_async", {"user_id": user_id, "period": period, **test_params},
                     lambda c: c.generate_invoice_async(user_id, period, **test_params))


def activate(subscription_id: int, key: str, payment_method: str = "card", hold_s: float = 0.0) -> Operation:
    return Operation("activate", {"subscription_id": subscription_id, "key": key,
                                  "params": {"payment_method": payment_method}},
                     lambda c: c.activate(subscription_id, key, payment_method, hold_s))


def purchase_ticket(event_id: int, quantity: int = 1) -> Operation:
    return Operation("purchase_ticket", {"event_id": event_id, "quantity": quantity},
                     lambda c: c.purchase_ticket(event_id, quantity))


def book_slot(slot_id: int) -> Operation:
    return Operation("book_slot", {"slot_id": slot_id}, lambda c: c.book_slot(slot_id))


def read_plans() -> Operation:
    return Operation("read", {}, lambda c: c.tariff_plans(), write=False)


def pool_metrics() -> Operation:
    return Operation("pool_metrics", {}, lambda c: c.pool_metrics(), write=False)
