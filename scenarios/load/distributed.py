"""Distributed load: the seed's ``distributed_locustfile.py``, against the target's profile.

Meant for many users through the lb in front of several api instances (the
seed's 500 users, spawned 50 per second). Fixed from the seed: the seed put
a fresh Idempotency-Key on every *subscribe*, which ignores it, so nothing
was ever replayed; here a subscription is activated with a key and the same
key is sent again, which through the lb usually lands on another instance
and must return the first outcome (marked replayed, where the profile reads
such a flag); a target whose profile sends no key is not replayed. The
seed's background job was a route that does not exist, called with the
user's own token (and with no token at all when its registration had
failed); here it is the async invoice, asked for by the admin and followed
until a worker has finished it. A task the target does not offer is left out.
"""
from __future__ import annotations

import uuid

from locust import between, task

from scenarios.load.catalogue import Catalogue
from scenarios.load.offered import keep_offered, needs
from scenarios.load.target_user import PROFILE, TargetUser


class DistributedLoadTest(TargetUser):
    """Traffic spread over every instance: reads, idempotent checkouts, async invoices."""

    wait_time = between(1, 3)
    catalogue = Catalogue()  # only the admin's token: no events or slots here

    @task(5)
    @needs("list_plans")
    def browse_plans(self) -> None:
        self.fetch_plans()

    @task(2)
    @needs("list_plans", "subscribe", "activate")
    def create_subscription_with_idempotency(self) -> None:
        subscription_id = self.new_subscription()
        if subscription_id is None:
            return
        key = f"{self.user_id}-activate-{uuid.uuid4()}"
        first = self.checkout(subscription_id, key)
        if first is not None and PROFILE.supports_idempotency():
            self.replay_checkout(subscription_id, key, first)

    @task(1)
    @needs("generate_invoice_async", "task_status")
    def trigger_background_job(self) -> None:
        self.invoice_in_background()


keep_offered(PROFILE, DistributedLoadTest)
