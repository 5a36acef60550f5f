"""The workload's operations as data: an abstract operation and its parameters, nothing target-specific.

An ``Operation`` names one of ``chaos.target.operations`` and the parameters
to call it with; the target profile decides the route, and
``chaos.target.record.perform`` records it. What the history shows is
derived here from the same definitions the recorder uses, so ``f`` and
``value`` are what the checkers have always read (``slow_invoice`` is
recorded as ``generate_invoice``, ``list_plans`` as ``read``). Whether it is
a write decides how an ambiguous outcome is classified: a 5xx or a lost
connection after a write may have taken effect (``info``), after a read it
certainly changed nothing (``fail``).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from chaos.target.operations import OperationSpec, spec
from chaos.target.record import request_value


@dataclass(frozen=True)
class Operation:
    """One call of an abstract operation: ``operation`` is a name of ``chaos.target.operations``."""

    operation: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        spec(self.operation)  # an unknown name fails where the workload is built, not mid-run
        given = {k: v for k, v in self.params.items() if v is not None}
        object.__setattr__(self, "params", MappingProxyType(given))

    @property
    def spec(self) -> OperationSpec:
        return spec(self.operation)

    @property
    def f(self) -> str:
        return self.spec.history_f

    @property
    def value(self) -> dict[str, Any]:
        return request_value(self.spec, self.params)

    @property
    def write(self) -> bool:
        return self.spec.write


def generate_invoice(user_id: int, period: str) -> Operation:
    return Operation("generate_invoice", {"user_id": user_id, "period": period})


def slow_invoice(user_id: int, period: str, hold_s: float) -> Operation:
    return Operation("slow_invoice", {"user_id": user_id, "period": period, "hold_s": hold_s})


def generate_invoice_async(user_id: int, period: str, **test_params: float) -> Operation:
    return Operation("generate_invoice_async", {"user_id": user_id, "period": period, **test_params})


def activate(subscription_id: int, key: str, payment_method: str = "card", hold_s: float = 0.0) -> Operation:
    """``hold_s`` 0 sends no hold at all (as billing's client did): the request is the plain one."""
    return Operation("activate", {"subscription_id": subscription_id, "key": key, "payment_method": payment_method,
                                  "hold_s": hold_s or None})


def purchase_ticket(event_id: int, quantity: int = 1) -> Operation:
    return Operation("purchase_ticket", {"event_id": event_id, "quantity": quantity})


def book_slot(slot_id: int) -> Operation:
    return Operation("book_slot", {"slot_id": slot_id})


def read_plans() -> Operation:
    return Operation("list_plans")


def pool_metrics() -> Operation:
    return Operation("pool_metrics")
