"""The workloads that sell: ticket purchases for one event, and idempotent activations of subscriptions.

Both act as the target's own customers through its profile: the event is
made by the admin (``create_event``), the subscriptions by new users who
sign up and subscribe; what the target kept is read back after healing.
"""
from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

from chaos.checkers import capacity, idempotency
from chaos.drills.params import Check, Param, retried
from chaos.drills.workload import Workload
from chaos.history import Op
from chaos.workload import operations as ops
from chaos.workload.accounts import REGISTRATION_THREADS, created, final_invoices, final_read, register, subscribe
from chaos.workload.operations import Operation
from chaos.workload.runner import Client


class Tickets(Workload):
    """Buyers of one event's tickets on every instance, until sold out and beyond."""

    kind = "tickets"
    summary = "ticket purchases for one new event over every api instance; sold out before the end"
    params = (Param.clients(3, "concurrent buyers, round-robin over the api instances"), Param.seconds(),
              Param("capacity", int, 100, "the event's tickets"),
              Param.think_ms(500, "pause between one buyer's purchases"))
    operations = frozenset({"create_event", "purchase_ticket", "event"})

    def setup(self) -> str:
        self.event_id = retried(lambda: created(self.admin, "create_event", "event_id",
                                                name=f"{self.context.prefix}-event",
                                                capacity=int(self.values["capacity"])), "a new event", attempts=1)
        return f"event {self.event_id} with {self.values['capacity']} tickets"

    def clients(self) -> list[Client]:
        think = float(self.values["think_ms"]) / 1000
        return self.spread(int(self.values["clients"]),
                           lambda _: self.paced(lambda: ops.purchase_ticket(self.event_id), think))

    def final_reads(self) -> Any:
        event = retried(lambda: final_read(self.admin, "event", event_id=self.event_id), f"event {self.event_id}")
        return {"events": {self.event_id: event}}

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        return {"capacity": partial(capacity.check, history, final, claims=("counters_match",))}


class Activations(Workload):
    """Subscriptions activated with an idempotency key, the same key from several clients and instances,
    the first call held in flight where the target has billing's ``hold_s`` hook."""

    kind = "activations"
    summary = "idempotent activations: each subscription's key sent again and again from every instance"
    params = (Param("subscriptions", int, 2, "new users, each with one pending subscription"),
              Param.clients(4, "concurrent clients, round-robin over subscriptions and instances"),
              Param.seconds(20), Param.think_ms(500),
              Param("hold_s", float, 1.0, "each client's first call keeps the key in flight that long"))
    operations = frozenset({"register", "subscribe", "activate", "list_invoices"})
    sent = frozenset({"activate.key"})

    def setup(self) -> str:
        count = int(self.values["subscriptions"])
        prefix = f"{self.context.prefix}-activations"

        def customer(i: int) -> tuple[Any, str, Any]:
            with self.context.client(self.admin.base_url) as client:
                user, token = register(client, f"{prefix}-{i}@workload.test")
                return subscribe(client, self.setup_values), token, user

        with concurrent.futures.ThreadPoolExecutor(min(REGISTRATION_THREADS, count)) as pool:
            self.subscriptions: list[tuple[Any, str, Any]] = retried(   # (subscription, token, user)
                lambda: list(pool.map(customer, range(count))), f"{count} new subscriptions", attempts=1)
        self.baseline = self.by_subscription()   # what the users had before any activation
        return f"{count} users with one pending subscription each"

    def clients(self) -> list[Client]:
        think = float(self.values["think_ms"]) / 1000
        hold = float(self.values["hold_s"])

        def calls(i: int) -> Iterator[Operation]:
            subscription = self.subscriptions[i % len(self.subscriptions)][0]
            key = f"{self.context.prefix}-key-{subscription}"
            first = [True]

            def make() -> Operation:
                held, first[0] = hold if first[0] else 0.0, False
                return ops.activate(subscription, key, hold_s=held)
            return self.paced(make, think)

        return self.spread(int(self.values["clients"]), calls,
                           token=lambda i: self.subscriptions[i % len(self.subscriptions)][1])

    def by_subscription(self) -> dict[Any, list[dict[str, Any]]]:
        """Each subscription's invoices: its user's (every user has one subscription here)."""
        read = retried(lambda: final_invoices(self.admin, [user for _, _, user in self.subscriptions]),
                       "the invoices of the subscribers")
        return {subscription: read[user] for subscription, _, user in self.subscriptions}

    def final_reads(self) -> Any:
        return {"invoices": self.by_subscription(), "baseline": self.baseline}

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        return {"idempotency": partial(idempotency.check, history, final["invoices"], baseline=final["baseline"],
                                       claims=("one_execution_per_key",), reads_by="subscription")}
