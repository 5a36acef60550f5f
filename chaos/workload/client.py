"""One client of the target contract: its own HTTP session, its own token.

Each concurrent client owns a ``requests.Session`` (connection pool, cookies):
sharing one between threads, as the seed's Flask ``test_client`` was shared,
would serialise the very requests that are meant to race.
"""
from __future__ import annotations

from typing import Any

import requests

from chaos.http_client import SessionClient

DEFAULT_TIMEOUT_S = 30.0


class BillingClient(SessionClient):
    """Calls of the target contract; every call returns the raw response."""

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        super().__init__(base_url, token, timeout_s)

    def request(self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None,
                params: dict[str, Any] | None = None, data: str | bytes | None = None,
                timeout_s: float | None = None) -> requests.Response:
        all_headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        all_headers.update(headers or {})
        return self.session.request(method, self.base_url + path, json=json, data=data, params=params,
                                    headers=all_headers, timeout=timeout_s or self.timeout_s)

    # accounts
    def register(self, email: str, password: str) -> requests.Response:
        return self.request("POST", "/api/auth/register", json={"email": email, "password": password})

    def login(self, email: str, password: str) -> requests.Response:
        response = self.request("POST", "/api/auth/login", json={"email": email, "password": password})
        if response.status_code == 200:
            self.token = response.json()["access_token"]
        return response

    def profile(self) -> requests.Response:
        return self.request("GET", "/api/user/profile")

    # catalogue and subscriptions
    def tariff_plans(self) -> requests.Response:
        return self.request("GET", "/api/tariff_plans")

    def subscribe(self, tariff_plan_id: int, payment_method: str = "card") -> requests.Response:
        return self.request("POST", "/api/subscriptions",
                            json={"tariff_plan_id": tariff_plan_id, "payment_method": payment_method})

    def activate(self, subscription_id: int, key: str | None, payment_method: str = "card",
                 hold_s: float = 0.0) -> requests.Response:
        """``hold_s`` (test endpoints only) keeps the first request with a key in flight that long."""
        headers = {"Idempotency-Key": key} if key is not None else {}
        return self.request("POST", f"/api/subscriptions/{subscription_id}/activate",
                            json={"payment_method": payment_method}, headers=headers,
                            params={"hold_s": hold_s} if hold_s else None, timeout_s=self.timeout_s + hold_s)

    # invoices (admin)
    def generate_invoice(self, user_id: int, period: str | None = None) -> requests.Response:
        return self.request("POST", f"/api/admin/users/{user_id}/generate-invoice", json=_period(period))

    def generate_invoice_async(self, user_id: int, period: str | None = None,
                               **test_params: float) -> requests.Response:
        return self.request("POST", f"/api/admin/users/{user_id}/generate-invoice-async",
                            json=_period(period), params=test_params or None)

    def slow_invoice(self, user_id: int, hold_s: float, period: str | None = None) -> requests.Response:
        return self.request("POST", f"/api/admin/test/slow-invoice/{user_id}", json=_period(period),
                            params={"hold_s": hold_s}, timeout_s=self.timeout_s + hold_s)

    def task(self, task_id: str) -> requests.Response:
        return self.request("GET", f"/api/admin/tasks/{task_id}")

    def invoices(self, user_id: int) -> requests.Response:
        return self.request("GET", f"/api/admin/users/{user_id}/invoices")

    # tickets and bookings
    def create_event(self, capacity: int, name: str = "event") -> requests.Response:
        return self.request("POST", "/api/admin/events", json={"name": name, "capacity": capacity})

    def event(self, event_id: int) -> requests.Response:
        return self.request("GET", f"/api/events/{event_id}")

    def purchase_ticket(self, event_id: int, quantity: int = 1) -> requests.Response:
        return self.request("POST", "/api/tickets/purchase", json={"event_id": event_id, "quantity": quantity})

    def create_slot(self, capacity: int, name: str = "slot") -> requests.Response:
        return self.request("POST", "/api/admin/slots", json={"name": name, "capacity": capacity})

    def slot(self, slot_id: int) -> requests.Response:
        return self.request("GET", f"/api/slots/{slot_id}")

    def book_slot(self, slot_id: int) -> requests.Response:
        return self.request("POST", "/api/bookings", json={"slot_id": slot_id})

    # operations and test support
    def pool_metrics(self) -> requests.Response:
        return self.request("GET", "/api/metrics/db-pool")

    def health(self) -> requests.Response:
        return self.request("GET", "/healthz")

    def reset(self) -> requests.Response:
        return self.request("POST", "/api/admin/test/reset")

    def bulk_users(self, count: int, prefix: str) -> requests.Response:
        return self.request("POST", "/api/admin/test/users", json={"count": count, "prefix": prefix})

    def lock_events(self) -> requests.Response:
        return self.request("GET", "/api/admin/test/lock-events")


def _period(period: str | None) -> dict[str, str]:
    return {"period": period} if period else {}
