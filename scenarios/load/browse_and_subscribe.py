"""Browse and subscribe: the seed's ``locustfile.py``, against the target's profile.

Each user walks the seed's journey in order (a SequentialTaskSet repeats a
task as many times as its weight): plans three times, the profile twice, then
subscribe and check out, book a slot, buy tickets; a step the target does not
offer is left out. Fixed from the seed: a unique account per user, ids taken
from what the service serves or the admin made, activation with an
idempotency key as the checkout, and ``sold_out`` / ``slot_full`` counted as
the correct answers they are once capacity runs out. No host is built in:
the runner (or ``--host``) says where the lb is.
"""
from __future__ import annotations

import random
import uuid

from locust import SequentialTaskSet, between, task

from scenarios.load.catalogue import Catalogue
from scenarios.load.offered import keep_offered, needs
from scenarios.load.target_user import PROFILE, TargetUser


class UserBehavior(SequentialTaskSet):
    """The seed's journey, in its order and with its weights."""

    user: "WebsiteUser"

    @task(3)
    @needs("list_plans")
    def browse_tariff_plans(self) -> None:
        self.user.fetch_plans()

    @task(2)
    @needs("profile")
    def view_profile(self) -> None:
        self.user.check_profile()

    @task(1)
    @needs("list_plans", "subscribe", "activate")
    def create_subscription(self) -> None:
        subscription_id = self.user.new_subscription()
        if subscription_id is not None:
            self.user.checkout(subscription_id, key=str(uuid.uuid4()))

    @task(1)
    @needs("create_slot", "book_slot")
    def create_booking(self) -> None:
        self.user.book_a_slot()

    @task(1)
    @needs("create_event", "purchase_ticket")
    def purchase_ticket(self) -> None:
        self.user.buy_tickets(quantity=random.randint(1, 3))


class WebsiteUser(TargetUser):
    """A person using the site: the seed's 1-3 s between steps."""

    tasks = [UserBehavior]
    wait_time = between(1, 3)
    # The seed's ranges: event ids 1..5, service ids 1..10.
    catalogue = Catalogue(events=5, event_capacity=100, slots=10, slot_capacity=5)


keep_offered(PROFILE, WebsiteUser)
