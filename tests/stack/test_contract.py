"""Every row of the target contract, with its error outcomes, against 3 instances.

Calls go through the lb unless a test needs to pin an instance; errors are
always the JSON ``{"error", "message"}`` shape, never a trace.
"""
from __future__ import annotations

import concurrent.futures
import time
import uuid

import jwt
import pytest
import requests

from chaos.compose import ComposeStack
from chaos.workload.client import BillingClient

pytestmark = pytest.mark.docker
JWT_SECRET = "chaos-secret-not-for-production-0001"  # the compose file's default


def error_of(response: requests.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"} and body["message"], body
    assert "Traceback" not in response.text
    return body["error"]


# accounts

def test_register_login_and_profile(stack: ComposeStack) -> None:
    client = BillingClient(stack.lb_url)
    email = f"{uuid.uuid4().hex[:10]}@example.test"
    registered = client.register(email, "password-1")
    assert registered.status_code == 201
    assert registered.json() == {"user_id": registered.json()["user_id"], "email": email}
    login = client.login(email, "password-1")
    assert login.status_code == 200
    assert set(login.json()) >= {"access_token", "token_type", "user_id"}
    assert login.json()["user_id"] == registered.json()["user_id"]
    profile = client.profile()
    assert profile.status_code == 200
    assert profile.json()["user_id"] == registered.json()["user_id"] and profile.json()["email"] == email


def test_registration_rejects_bad_input_and_taken_emails(stack: ComposeStack, make_user) -> None:
    client = BillingClient(stack.lb_url)
    assert error_of(client.request("POST", "/api/auth/register", data="{not json",
                                   headers={"Content-Type": "application/json"}), 400) == "invalid_json"
    missing = client.request("POST", "/api/auth/register", json={"email": "x@example.test"})
    assert "password" in missing.json()["message"] and error_of(missing, 400) == "invalid_request"
    assert error_of(client.register("not-an-email", "password-1"), 400) == "invalid_request"
    assert error_of(client.request("POST", "/api/auth/register", json=["a", "list"]), 400) == "invalid_json"
    email = f"{uuid.uuid4().hex[:10]}@example.test"
    assert client.register(email, "password-1").status_code == 201
    assert error_of(client.register(email, "password-2"), 409) == "email_taken"


def test_login_with_a_wrong_password_is_401(stack: ComposeStack, make_user) -> None:
    client = BillingClient(stack.lb_url)
    email = f"{uuid.uuid4().hex[:10]}@example.test"
    client.register(email, "password-1")
    assert error_of(client.login(email, "wrong-password"), 401) == "invalid_credentials"
    assert error_of(client.login("nobody@example.test", "password-1"), 401) == "invalid_credentials"


@pytest.mark.parametrize("token, code", [
    (None, "missing_token"),
    ("garbage", "invalid_token"),
    (jwt.encode({"sub": "1", "adm": True, "iat": 0, "exp": 1}, JWT_SECRET, "HS256"), "token_expired"),
    (jwt.encode({"sub": "1", "adm": True, "iat": 0, "exp": 4102444800}, "another-secret-of-sufficient-length-0002", "HS256"),
     "invalid_token"),
])
def test_profile_needs_a_valid_token(stack: ComposeStack, token: str | None, code: str) -> None:
    assert error_of(BillingClient(stack.lb_url, token).profile(), 401) == code


# plans, subscriptions and idempotent activation

def test_tariff_plans_are_seeded(stack: ComposeStack) -> None:
    plans = BillingClient(stack.lb_url).tariff_plans()
    assert plans.status_code == 200
    assert len(plans.json()) >= 5 and {"id", "name", "price"} <= set(plans.json()[0])


def test_subscription_starts_pending_and_checks_its_plan(make_user) -> None:
    client, _ = make_user()
    created = client.subscribe(1, "card")
    assert created.status_code == 201
    assert created.json() == {"subscription_id": created.json()["subscription_id"], "status": "pending"}
    assert error_of(client.subscribe(999_999, "card"), 404) == "plan_not_found"
    assert error_of(client.request("POST", "/api/subscriptions", json={"payment_method": "card"}), 400) \
        == "invalid_request"
    assert error_of(client.subscribe(-1, "card"), 400) == "invalid_request"


def test_activation_is_idempotent_across_instances(make_user, instances: dict[str, str]) -> None:
    owner, _ = make_user()
    subscription = owner.subscribe(2, "card").json()["subscription_id"]
    first_url, second_url = list(instances.values())[:2]
    first = BillingClient(first_url, owner.token).activate(subscription, "key-1")
    replay = BillingClient(second_url, owner.token).activate(subscription, "key-1")
    assert first.status_code == replay.status_code == 200
    assert first.headers["X-Instance"] != replay.headers["X-Instance"]
    assert first.json()["status"] == "active" and first.json()["invoice_id"]
    assert replay.json() == first.json()
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers


def test_activation_key_errors(make_user) -> None:
    client, _ = make_user()
    subscription = client.subscribe(1, "card").json()["subscription_id"]
    assert error_of(client.activate(subscription, None), 400) == "idempotency_key_required"
    assert client.activate(subscription, "key-a", "card").status_code == 200
    assert error_of(client.activate(subscription, "key-a", "paypal"), 422) == "idempotency_mismatch"
    # a new key for an already active subscription is a definite 409, not a second invoice
    assert error_of(client.activate(subscription, "key-b"), 409) == "subscription_not_pending"


def test_activation_with_a_key_still_running_is_409(make_user) -> None:
    client, _ = make_user()
    subscription = client.subscribe(1, "card").json()["subscription_id"]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(client.request, "POST", f"/api/subscriptions/{subscription}/activate",
                           json={"payment_method": "card"}, headers={"Idempotency-Key": "held"},
                           params={"hold_s": 3})
        time.sleep(1)
        second = BillingClient(client.base_url, client.token).activate(subscription, "held")
        assert error_of(second, 409) == "idempotency_in_flight"
        assert slow.result().status_code == 200


def test_cannot_activate_another_users_subscription(make_user) -> None:
    owner, _ = make_user()
    stranger, _ = make_user()
    subscription = owner.subscribe(1, "card").json()["subscription_id"]
    assert error_of(stranger.activate(subscription, "key"), 404) == "subscription_not_found"


# invoices

def test_generate_invoice_once_per_period(admin: BillingClient, make_user) -> None:
    _, user_id = make_user()
    first = admin.generate_invoice(user_id, "2026-03")
    assert first.status_code == 200
    assert {"invoice_id", "user_id", "period", "amount"} <= set(first.json())
    assert first.json()["user_id"] == user_id and first.json()["period"] == "2026-03"
    assert error_of(admin.generate_invoice(user_id, "2026-03"), 409) == "invoice_exists"
    assert admin.generate_invoice(user_id, "2026-04").status_code == 200
    periods = sorted(i["period"] for i in admin.invoices(user_id).json())
    assert periods == ["2026-03", "2026-04"]


def test_invoice_routes_are_for_admins_only(make_user) -> None:
    client, user_id = make_user()
    assert error_of(client.generate_invoice(user_id), 403) == "forbidden"
    assert error_of(client.generate_invoice_async(user_id), 403) == "forbidden"
    assert error_of(client.invoices(user_id), 403) == "forbidden"
    assert error_of(client.task("any"), 403) == "forbidden"
    assert error_of(BillingClient(client.base_url).generate_invoice(user_id), 401) == "missing_token"


def test_invoice_input_errors(admin: BillingClient) -> None:
    assert error_of(admin.generate_invoice(999_999), 404) == "user_not_found"
    assert error_of(admin.generate_invoice(1, "2026-13"), 400) == "invalid_request"
    assert error_of(admin.generate_invoice(1, "last month"), 400) == "invalid_request"


def test_lock_timeout_is_409_while_another_request_holds_the_lock(admin: BillingClient, make_user,
                                                                  instances: dict[str, str]) -> None:
    _, user_id = make_user()
    holder_url, other_url = list(instances.values())[:2]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        holder = pool.submit(BillingClient(holder_url, admin.token).slow_invoice, user_id, 5, "2026-05")
        time.sleep(1.5)
        blocked = BillingClient(other_url, admin.token).generate_invoice(user_id, "2026-05")
        assert error_of(blocked, 409) == "lock_timeout"
        assert holder.result().status_code == 200
    assert error_of(admin.generate_invoice(user_id, "2026-05"), 409) == "invoice_exists"


def test_async_invoice_and_task_status(admin: BillingClient, make_user) -> None:
    _, user_id = make_user()
    accepted = admin.generate_invoice_async(user_id, "2026-06")
    assert accepted.status_code == 202 and accepted.json()["task_id"]
    task_id = accepted.json()["task_id"]
    deadline = time.monotonic() + 30
    while (status := admin.task(task_id).json())["state"] not in {"SUCCESS", "FAILURE"}:
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status["state"] == "SUCCESS"
    assert status["result"]["user_id"] == user_id and status["result"]["worker"].startswith("worker@")
    assert [i["invoice_id"] for i in admin.invoices(user_id).json()] == [status["result"]["invoice_id"]]
    assert error_of(admin.task("no-such-task"), 404) == "task_not_found"


def test_slow_invoice_holds_then_invoices(admin: BillingClient, make_user) -> None:
    _, user_id = make_user()
    started = time.monotonic()
    response = admin.slow_invoice(user_id, 1.0, "2026-07")
    assert response.status_code == 200 and time.monotonic() - started >= 1.0
    assert error_of(admin.request("POST", f"/api/admin/test/slow-invoice/{user_id}", params={"hold_s": "x"}),
                    400) == "invalid_request"


# tickets and bookings

def test_tickets_sell_until_sold_out(admin: BillingClient, make_user) -> None:
    client, _ = make_user()
    event_id = admin.create_event(3).json()["event_id"]
    assert client.purchase_ticket(event_id, 2).status_code == 201
    assert "ticket_id" in client.purchase_ticket(event_id, 1).json()
    assert error_of(client.purchase_ticket(event_id, 1), 409) == "sold_out"
    event = admin.event(event_id).json()
    assert event["available"] == 0 and sum(t["quantity"] for t in event["tickets"]) == 3
    assert error_of(client.purchase_ticket(999_999), 404) == "event_not_found"
    assert error_of(client.purchase_ticket(event_id, 0), 400) == "invalid_request"


def test_bookings_fill_a_slot(admin: BillingClient, make_user) -> None:
    client, _ = make_user()
    slot_id = admin.create_slot(2).json()["slot_id"]
    assert client.book_slot(slot_id).status_code == 201
    assert "booking_id" in client.book_slot(slot_id).json()
    assert error_of(client.book_slot(slot_id), 409) == "slot_full"
    slot = admin.slot(slot_id).json()
    assert slot["booked"] == 2 and len(slot["bookings"]) == 2
    assert error_of(client.request("POST", "/api/bookings", json={"slot_id": "one"}), 400) == "invalid_request"


def test_creating_events_and_slots_is_for_admins(make_user) -> None:
    client, _ = make_user()
    assert error_of(client.create_event(10), 403) == "forbidden"
    assert error_of(client.create_slot(10), 403) == "forbidden"


# operations

def test_pool_metrics_per_instance(stack: ComposeStack, instances: dict[str, str]) -> None:
    for name, url in instances.items():
        metrics = BillingClient(url).pool_metrics().json()
        assert metrics["instance"] == name and metrics["pool_size"] == 20
        assert {"checkedout", "overflow", "checkedin"} <= set(metrics)


def test_healthz_reports_dependencies(instances: dict[str, str]) -> None:
    for name, url in instances.items():
        assert BillingClient(url).health().json() == {"status": "ok", "instance": name, "redis": "ok", "db": "ok"}


@pytest.mark.parametrize("method, path", [("GET", "/no/such/route"), ("DELETE", "/api/tariff_plans")])
def test_unknown_routes_and_methods_are_json_errors(stack: ComposeStack, method: str, path: str) -> None:
    response = BillingClient(stack.lb_url).request(method, path)
    assert response.status_code in {404, 405}
    error_of(response, response.status_code)


def test_test_endpoints_answer_only_to_admins(make_user) -> None:
    client, user_id = make_user()
    assert error_of(client.slow_invoice(user_id, 0), 403) == "forbidden"
    assert error_of(client.reset(), 403) == "forbidden"
