"""The simulated person every profile's users are: their own account and token, and judged operations.

Operations are the suite's abstract ones (``list_plans``, ``subscribe``,
``activate`` ...), taken by name from the target profile that
``CHAOS_TARGET_PROFILE`` names (billing's by default): a ``TargetClient``
builds each request and reads each reply, sending through the user's Locust
session (``scenarios.load.session``). So a profile's users drive any target
whose profile offers their operations; tasks it lacks are left out
(``scenarios.load.offered``).

Importing this module imports Locust, which monkey-patches the process with
gevent: only the locustfiles import it, in the Locust process. It adds the
stats CSV's last pass (``scenarios.load.last_pass``) to Locust's ``quitting`` event.
"""
from __future__ import annotations

import logging
import os
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import gevent
from locust import HttpUser, events
from locust.exception import StopUser

from chaos.load import TARGET_ENV
from chaos.target import DEFAULT_PROFILE, load_profile
from chaos.target.client import TargetClient
from chaos.target.reply import Reply
from scenarios.load.catalogue import Catalogue, SetupFailed
from scenarios.load.contract import judge, wrong
from scenarios.load.last_pass import last_csv_pass
from scenarios.load.offered import needs
from scenarios.load.session import LocustSession

log = logging.getLogger("billing-chaos.load")

PROFILE = load_profile(os.environ.get(TARGET_ENV) or DEFAULT_PROFILE)
REQUEST_TIMEOUT_S = 30.0
FINISHED = frozenset({"SUCCESS", "FAILURE", "REVOKED"})  # an async invoice task's end states

# Looks into an ok reply; returns what is wrong, or None.
Check = Callable[[Reply], "str | None"]


events.quitting.add_listener(last_csv_pass)


@needs("register", "login")
class TargetUser(HttpUser):
    """One simulated person: their own session, account and token, on the target of ``PROFILE``.

    Locust gives every user its own HTTP session, which is what the seed's
    shared Flask ``test_client`` lacked; this class adds the account and the
    profile's idea of which answers are correct.
    """

    abstract = True
    catalogue: Catalogue = Catalogue()

    user_id: Any
    email: str

    def on_start(self) -> None:
        self.session = LocustSession(self.client)
        self.target = self._client()
        self.admin = self._client()
        try:
            self.catalogue.ensure(self)
        except SetupFailed as exc:
            # Nothing this run measures would mean anything without it: end the
            # run (from another greenlet: quitting kills this user's). Raising
            # StopTest here would not do it: User.run swallows it in on_start.
            log.error("load profile setup failed: %s", exc)
            gevent.spawn(self.environment.runner.quit)
            raise StopUser() from None
        self.admin.token = self.catalogue.admin_token
        self.email = ""
        self.password = PROFILE.credentials.password_for(random.randrange(10**9))
        while not self._sign_up():
            # The failure is in the stats. Try again after a pause, as a person
            # would: the seed's users carried on without a token, adding only 401s.
            self.wait()

    def _client(self) -> TargetClient:
        client = TargetClient(PROFILE, self.host, timeout_s=REQUEST_TIMEOUT_S)
        client.session = self.session  # type: ignore[assignment]  # the seam: Locust sends, the profile reads
        return client

    def _sign_up(self) -> bool:
        """Register (once it worked, never again) and log in with this user's own account."""
        if not self.email:
            email = f"load-{uuid.uuid4().hex}@example.test"
            if self.call("register", email=email, password=self.password) is None:
                return False
            self.email = email
        login = self.call("login", email=self.email, password=self.password)
        if login is None or not login.get("token"):
            return False
        self.user_id, self.target.token = login.get("user_id"), str(login["token"])
        return True

    def call(self, operation: str, *, client: TargetClient | None = None, name: str | None = None,
             check: Check | None = None, **params: Any) -> Reply | None:
        """One operation, judged by the profile: the reply when ok, else None.

        A refusal that is correct under contention (``sold_out`` ...) counts
        as a success but gives None, since the call did not do its work;
        ``check`` looks further into an ok reply and names what is wrong. The
        stats entry is the profile's path template (no ids in it) unless
        ``name`` is given.
        """
        client = client or self.target
        with self.session.named(name or PROFILE.mapping(operation).path) as sent:
            reply = client.call(operation, **params)
            problem = judge(reply) or (check(reply) if check is not None and reply.ok else None)
            for response in sent:
                if problem:
                    response.failure(problem)
                else:
                    response.success()
        return reply if reply.ok and problem is None else None

    # Journeys shared by the profiles: each names the operations it calls (see ``offered``).

    def fetch_plans(self) -> list[Any]:
        reply = self.call("list_plans")
        return list(reply.get("plans") or []) if reply else []

    def check_profile(self) -> None:
        self.call("profile", check=lambda reply: None if reply.get("user_id") == self.user_id
                  else wrong("the profile of another user", reply.values))

    def new_subscription(self) -> Any:
        """Pick a plan from the list the service serves (the seed drew ids that might not exist)."""
        plans = [plan for plan in self.fetch_plans() if isinstance(plan, dict) and "plan_id" in plan]
        if not plans:
            return None
        made = self.call("subscribe", plan_id=random.choice(plans)["plan_id"])
        return made.get("subscription_id") if made else None

    def checkout(self, subscription_id: Any, key: str) -> Reply | None:
        """Checkout: activation with an idempotency key, where the contract wants it (not on subscribe)."""
        return self.call("activate", subscription_id=subscription_id, key=key)

    def replay_checkout(self, subscription_id: Any, key: str, first: Reply) -> None:
        """The same key again, probably on another instance behind the lb: the first outcome (and, where
        the profile reads a replay flag, marked replayed)."""
        effect = {name: value for name, value in first.values.items() if name != "replayed"}

        def same_outcome(reply: Reply) -> str | None:
            if not reply.get("replayed", True):
                return wrong("a replay not marked replayed", {"key": key, "values": reply.values})
            if {name: value for name, value in reply.values.items() if name != "replayed"} != effect:
                return wrong("a replay with another outcome than the first", {"first": effect, "replay": reply.values})
            return None

        self.call("activate", name=f"{PROFILE.mapping('activate').path} (replay)", check=same_outcome,
                  subscription_id=subscription_id, key=key)

    def buy_tickets(self, quantity: int) -> None:
        self.call("purchase_ticket", event_id=random.choice(self.catalogue.event_ids), quantity=quantity)

    def book_a_slot(self) -> None:
        self.call("book_slot", slot_id=random.choice(self.catalogue.slot_ids))

    def invoice_in_background(self, deadline_s: float = 30.0, poll_s: float = 0.5) -> None:
        """The contract's Celery job: an async invoice for this user, followed to its end.

        The time from acceptance to the task's end is reported as its own
        entry (request type ``CELERY``), since the acceptance alone says
        nothing about the workers. Only an admin may ask.
        """
        accepted = self.call("generate_invoice_async", client=self.admin, user_id=self.user_id)
        if accepted is None:
            return
        started = time.perf_counter()
        state, error = "PENDING", None
        while time.perf_counter() - started < deadline_s:
            gevent.sleep(poll_s)
            status = self.call("task_status", client=self.admin, task_id=accepted["task_id"])
            if status is None:
                error = "task status unreadable"
                break
            state = status.get("state")
            if state in FINISHED:
                error = None if state == "SUCCESS" else wrong(f"task ended {state}", status.values)
                break
        else:
            error = f"task still {state} after {deadline_s:.0f} s"
        self.environment.events.request.fire(
            request_type="CELERY", name="generate_invoice (202 -> done)",
            response_time=(time.perf_counter() - started) * 1000, response_length=0,
            exception=AssertionError(error) if error else None, context={})
