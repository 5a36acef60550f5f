"""The simulated person every profile's users are: their own account and token, and checked calls.

Importing this module imports Locust, which monkey-patches the process with
gevent: only the locustfiles import it, in the Locust process. It also hooks
Locust's ``quitting`` event once, for the CSV's last pass (below).
"""
from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Collection, Mapping
from typing import Any

import gevent
from locust import HttpUser, events
from locust.env import Environment
from locust.exception import StopUser
from locust.stats import CSV_STATS_INTERVAL_SEC

from scenarios.load.catalogue import Catalogue, SetupFailed
from scenarios.load.contract import IN_FLIGHT, PAYMENT_METHODS, SLOT_FULL, SOLD_OUT, Check, judge, wrong

log = logging.getLogger("billing-chaos.load")

PASSWORD = "load-password-1"
REQUEST_TIMEOUT_S = 30.0


@events.quitting.add_listener
def _last_csv_pass(environment: Environment, **_: Any) -> None:
    """Let Locust's CSV writer make one more pass before it closes its files.

    It rewrites ``--csv`` files every second and not at exit, so without this
    the stats file misses the last second of the run, and all of a run that
    ended within its first second (a failed setup read as 0 requests).
    """
    options = environment.parsed_options
    if options is not None and getattr(options, "csv_prefix", None):
        gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.5)


class ContractUser(HttpUser):
    """One simulated person: their own session, account and token.

    Locust gives every user its own HTTP session, which is what the seed's
    shared Flask ``test_client`` lacked; this class adds the account and the
    contract's idea of which answers are correct.
    """

    abstract = True
    catalogue: Catalogue = Catalogue()

    user_id: int
    email: str

    def on_start(self) -> None:
        try:
            self.catalogue.ensure(self)
        except SetupFailed as exc:
            # Nothing this run measures would mean anything without it: end the
            # run (from another greenlet: quitting kills this user's). Raising
            # StopTest here would not do it: User.run swallows it in on_start.
            log.error("load profile setup failed: %s", exc)
            gevent.spawn(self.environment.runner.quit)
            raise StopUser() from None
        self.email = ""
        while not self._sign_up():
            # The failure is in the stats. Try again after a pause, as a person
            # would: the seed's users carried on without a token, adding only 401s.
            self.wait()

    def _sign_up(self) -> bool:
        """Register (once it worked, never again) and log in with this user's own account."""
        if not self.email:
            email = f"load-{uuid.uuid4().hex}@example.test"
            if self.call("POST", "/api/auth/register", name="/api/auth/register", ok=(201,),
                         json={"email": email, "password": PASSWORD}) is None:
                return False
            self.email = email
        login = self.call("POST", "/api/auth/login", name="/api/auth/login", ok=(200,),
                          json={"email": self.email, "password": PASSWORD})
        if login is None:
            return False
        self.user_id = login["user_id"]
        self.client.headers["Authorization"] = f"Bearer {login['access_token']}"
        return True

    def call(self, method: str, path: str, *, name: str, ok: Collection[int],
             expected: Collection[tuple[int, str]] = (), check: Check | None = None, **kwargs: Any) -> Any:
        """One request, judged by the contract: the JSON body on success, else None.

        ``ok`` are the call's success statuses; ``expected`` the (status, error
        code) answers that are correct under contention, which count as
        successes but return None, since the call did not do its work;
        ``check`` looks further into a success and names what is wrong.
        """
        with self.client.request(method, path, name=name, catch_response=True, timeout=REQUEST_TIMEOUT_S,
                                 **kwargs) as response:
            body = judge(response, ok, expected)
            failed = check(body, response.headers) if check is not None and body is not None else None
            if failed:
                response.failure(failed)
                return None
            return body

    # Journeys shared by the profiles.

    def fetch_plans(self) -> list[dict[str, Any]]:
        return self.call("GET", "/api/tariff_plans", name="/api/tariff_plans", ok=(200,)) or []

    def check_profile(self) -> None:
        self.call("GET", "/api/user/profile", name="/api/user/profile", ok=(200,),
                  check=lambda body, _: None if body.get("user_id") == self.user_id
                  else wrong("the profile of another user", body))

    def new_subscription(self) -> int | None:
        """Pick a plan from the list the service serves (the seed drew ids that might not exist)."""
        plans = self.fetch_plans()
        if not plans:
            return None
        made = self.call("POST", "/api/subscriptions", name="/api/subscriptions", ok=(201,),
                         json={"tariff_plan_id": random.choice(plans)["id"],
                               "payment_method": random.choice(PAYMENT_METHODS)})
        return made["subscription_id"] if made else None

    def checkout(self, subscription_id: int, key: str) -> dict[str, Any] | None:
        """Checkout: activation with an Idempotency-Key, where the contract wants it (not on subscribe)."""
        return self.call("POST", f"/api/subscriptions/{subscription_id}/activate",
                         name="/api/subscriptions/[id]/activate", ok=(200,), expected=(IN_FLIGHT,),
                         json={"payment_method": "card"}, headers={"Idempotency-Key": key})

    def replay_checkout(self, subscription_id: int, key: str, first: dict[str, Any]) -> None:
        """The same key again, probably on another instance behind the lb: the first outcome, marked replayed."""

        def same_outcome(body: Any, headers: Mapping[str, str]) -> str | None:
            if headers.get("Idempotent-Replayed") != "true":
                return wrong("a replay not marked Idempotent-Replayed", {"key": key, "body": body})
            if body != first:
                return wrong("a replay with another outcome than the first", {"first": first, "replay": body})
            return None

        self.call("POST", f"/api/subscriptions/{subscription_id}/activate",
                  name="/api/subscriptions/[id]/activate (replay)", ok=(200,), expected=(IN_FLIGHT,),
                  check=same_outcome, json={"payment_method": "card"}, headers={"Idempotency-Key": key})

    def buy_tickets(self, quantity: int) -> None:
        self.call("POST", "/api/tickets/purchase", name="/api/tickets/purchase", ok=(201,), expected=(SOLD_OUT,),
                  json={"event_id": random.choice(self.catalogue.event_ids), "quantity": quantity})

    def book_a_slot(self) -> None:
        self.call("POST", "/api/bookings", name="/api/bookings", ok=(201,), expected=(SLOT_FULL,),
                  json={"slot_id": random.choice(self.catalogue.slot_ids)})

    def invoice_in_background(self, deadline_s: float = 30.0, poll_s: float = 0.5) -> None:
        """The contract's Celery job: an async invoice for this user, followed to its end.

        The time from 202 to the task's end is reported as its own entry
        (request type ``CELERY``), since the 202 alone says nothing about the
        workers. Only an admin may ask, so the admin's token is used.
        """
        admin = {"Authorization": f"Bearer {self.catalogue.admin_token}"}
        accepted = self.call("POST", f"/api/admin/users/{self.user_id}/generate-invoice-async",
                             name="/api/admin/users/[id]/generate-invoice-async", ok=(202,), json={},
                             headers=admin)
        if accepted is None:
            return
        started = time.perf_counter()
        state, error = "PENDING", None
        while time.perf_counter() - started < deadline_s:
            gevent.sleep(poll_s)
            status = self.call("GET", f"/api/admin/tasks/{accepted['task_id']}", name="/api/admin/tasks/[task_id]",
                               ok=(200,), headers=admin)
            if status is None:
                error = "task status unreadable"
                break
            state = status["state"]
            if state in ("SUCCESS", "FAILURE", "REVOKED"):
                error = None if state == "SUCCESS" else wrong(f"task ended {state}", status)
                break
        else:
            error = f"task still {state} after {deadline_s:.0f} s"
        self.environment.events.request.fire(
            request_type="CELERY", name="generate_invoice (202 -> done)",
            response_time=(time.perf_counter() - started) * 1000, response_length=0,
            exception=AssertionError(error) if error else None, context={})
