"""Realistic load: the seed's ``scenarios/realistic_load.py``, against the target's profile.

Eight normal users for every two power users, with the seed's waits and task
weights; a task the target does not offer is left out. Fixed from the seed:
both log in (its users never did, so the profile and subscription calls were
401s), subscriptions name a plan the service serves (it drew ids 1..10
whether or not they existed), bookings name a slot the admin made, and a
full slot is the correct ``slot_full`` answer. The seed's start/stop prints
are gone: Locust's summary and the runner's CSV say it.
"""
from __future__ import annotations

from locust import between, task

from scenarios.load.catalogue import Catalogue
from scenarios.load.offered import keep_offered, needs
from scenarios.load.target_user import PROFILE, TargetUser

# Both classes book from the same five slots (the seed's service ids 1..5).
CATALOGUE = Catalogue(slots=5, slot_capacity=5)


class NormalUser(TargetUser):
    """Normal user behaviour (80% of traffic)."""

    weight = 8
    wait_time = between(2, 5)
    catalogue = CATALOGUE

    @task(5)
    @needs("list_plans")
    def browse(self) -> None:
        self.fetch_plans()

    @task(2)
    @needs("profile")
    def view_profile(self) -> None:
        self.check_profile()

    @task(1)
    @needs("list_plans", "subscribe")
    def create_subscription(self) -> None:
        self.new_subscription()


class PowerUser(TargetUser):
    """Power user (20% of traffic, more activity)."""

    weight = 2
    wait_time = between(1, 2)
    catalogue = CATALOGUE

    @task(3)
    @needs("list_plans")
    def frequent_browsing(self) -> None:
        self.fetch_plans()

    @task(2)
    @needs("list_subscriptions")
    def manage_subscriptions(self) -> None:
        self.call("list_subscriptions")

    @task(1)
    @needs("create_slot", "book_slot")
    def create_bookings(self) -> None:
        self.book_a_slot()


keep_offered(PROFILE, NormalUser, PowerUser)
