"""A load profile's tasks kept or left out by what the target profile offers, and a Locust session under a
``TargetClient``: both without Locust (it patches the interpreter with gevent), with stand-ins for its classes."""
from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from chaos.target import load_profile
from chaos.target.client import TargetClient
from scenarios.load.offered import NothingOffered, keep_offered, needs
from scenarios.load.session import LocustSession
from tests.target_service import PROFILE

pytestmark = pytest.mark.unit

SERVICE = load_profile(PROFILE)  # no bookings, tickets or async invoices
BILLING = load_profile("billing")


def user_class() -> tuple[type, type]:
    """A user class holding plain tasks and a TaskSet, as Locust's metaclasses leave them (weights repeated)."""

    @needs("list_plans")
    def browse(_: Any) -> None: ...

    @needs("create_slot", "book_slot")
    def book(_: Any) -> None: ...

    @needs("generate_invoice_async", "task_status")
    def invoice(_: Any) -> None: ...

    journey = type("Journey", (), {"tasks": [browse, browse, book]})
    user = needs("register", "login")(type("Person", (), {"tasks": [journey, invoice, browse]}))
    return user, journey


def test_a_task_the_target_lacks_is_left_out_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    user, journey = user_class()
    assert keep_offered(SERVICE, user) == {"Person": ["book", "invoice"]}
    assert user.tasks == [journey, journey.tasks[0]] and [t.__name__ for t in journey.tasks] == ["browse", "browse"]
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["target 'test-service' lacks book_slot, create_slot, generate_invoice_async, task_status: "
                     "left out Person: book, invoice"]


def test_a_target_that_offers_every_task_keeps_them_all_and_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    user, journey = user_class()
    tasks = list(user.tasks)
    assert keep_offered(BILLING, user) == {}
    assert user.tasks == tasks and len(journey.tasks) == 3 and not caplog.records


def test_a_user_left_with_no_task_ends_the_run_with_one_line() -> None:
    @needs("purchase_ticket")
    def buy(_: Any) -> None: ...

    with pytest.raises(NothingOffered) as ended:
        keep_offered(SERVICE, type("Buyer", (), {"tasks": [buy]}))
    assert str(ended.value) == "target 'test-service' offers none of Buyer's operations (purchase_ticket lacked)"


def test_a_user_that_cannot_sign_up_ends_the_run() -> None:
    user = needs("register", "bulk_users")(type("Person", (), {"tasks": []}))
    with pytest.raises(NothingOffered, match="cannot serve Person: it lacks bulk_users"):
        keep_offered(SERVICE, user)


# the session: the profile builds and reads, Locust counts

class Counted(requests.Response):
    """Locust's ResponseContextManager as LocustSession and its caller use it."""

    error: Exception | None = None
    marked: str | None = None
    reported: str | None = None

    def __enter__(self) -> "Counted":
        return self

    def __exit__(self, *_: object) -> None:
        self.reported = self.marked or "by status"

    def success(self) -> None:
        self.marked = "success"

    def failure(self, message: str) -> None:
        self.marked = f"failure: {message}"


class HttpSession:
    """Locust's HttpSession: answers every request with one canned JSON answer, and keeps the calls."""

    def __init__(self, status: int, body: Any) -> None:
        self.status, self.body, self.calls = status, body, []  # type: list[dict[str, Any]]

    def request(self, method: str, url: str, **kwargs: Any) -> Counted:
        self.calls.append({"method": method, "url": url, **kwargs})
        response = Counted()
        response.status_code, response._content = self.status, json.dumps(self.body).encode()
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json",
                                                "Content-Length": str(len(response._content))})
        response.request = requests.Request(method, url).prepare()
        return response


def test_a_target_client_sends_through_locust_and_reads_the_reply_by_its_profile() -> None:
    locust = HttpSession(201, {"order": 7, "state": "pending"})
    session = LocustSession(locust)  # type: ignore[arg-type]
    client = TargetClient(SERVICE, "http://svc", token="t0k")
    client.session = session  # type: ignore[assignment]
    with session.named("/v2/orders") as sent:
        reply = client.call("subscribe", plan_id="basic")
        sent[0].success()
    assert reply.ok and reply["subscription_id"] == 7 and reply["status"] == "pending"
    call = locust.calls[0]
    assert (call["method"], call["url"], call["name"], call["catch_response"]) == (
        "POST", "http://svc/v2/orders", "/v2/orders", True)
    assert call["json"] == {"plan": "basic", "method": "card"} and call["headers"] == {"X-Session": "t0k"}
    assert sent[0].reported == "success"


def test_an_unmarked_request_is_reported_by_its_status_and_no_answer_is_an_exception() -> None:
    locust = HttpSession(409, {"problem": "already_billed"})
    session = LocustSession(locust)  # type: ignore[arg-type]
    client = TargetClient(SERVICE, "http://svc")
    client.session = session  # type: ignore[assignment]
    with session.named("bills") as sent:
        reply = client.call("generate_invoice", user_id=3)
    assert (reply.outcome, reply.error) == ("fail", "invoice_exists") and sent[0].reported == "by status"

    def refused(method: str, url: str, **_: Any) -> Counted:
        response = Counted()
        response.status_code, response.error = 0, requests.ConnectionError("refused")
        return response

    locust.request = refused  # type: ignore[method-assign]
    with session.named("bills"):
        reply = client.call("generate_invoice", user_id=3)
    assert reply.status is None and reply.error == "ConnectionError" and reply.outcome == "info"
